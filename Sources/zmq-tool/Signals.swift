@preconcurrency import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT, SIGTERM and SIGUSR1, delivered to Dispatch sources: the work a signal triggers (cancel the
/// command, print statistics) runs on a Dispatch queue like any other code, never in a C signal
/// handler.
///
/// The signals are blocked in every thread (``blockTerminationSignals()`` runs before the first
/// thread starts, and threads inherit the mask), so the kernel queues them for libdispatch, which
/// reads them from a `signalfd`. SIGPIPE is ignored: a write to a closed pipe then fails with
/// `EPIPE`, which ends the command quietly.
final class Signals: @unchecked Sendable {  // the sources are set once, in init
    private static let handled: [Int32] = [SIGINT, SIGTERM, SIGUSR1]

    /// Blocks the handled signals in the calling thread (and in every thread it starts later).
    static func blockTerminationSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in handled { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        signal(SIGPIPE, SIG_IGN)
    }

    private let queue = DispatchQueue(label: "zmq.signals")
    private let sources: [any DispatchSourceSignal]
    /// How many termination signals (SIGINT, SIGTERM) have arrived.
    private let terminations = Counter()

    /// Calls `onTerminate` for the first SIGINT or SIGTERM with the count so far (1, then 2, ...),
    /// and `onStatistics` for every SIGUSR1.
    init(onTerminate: @escaping @Sendable (Int) -> Void, onStatistics: @escaping @Sendable () -> Void = {}) {
        var sources: [any DispatchSourceSignal] = []
        let terminations = self.terminations
        for number in Self.handled {
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            if number == SIGUSR1 {
                source.setEventHandler { onStatistics() }
            } else {
                source.setEventHandler {
                    onTerminate(terminations.add(1))
                }
            }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    /// Whether SIGINT or SIGTERM has arrived.
    var terminated: Bool { terminations.value > 0 }

    deinit {
        for source in sources { source.cancel() }
    }
}

/// A shared count, for counters that several tasks and threads update.
final class Counter: Sendable {
    private let atomic = Atomic<Int>(0)

    init() {}

    /// Adds `amount` and returns the new value.
    @discardableResult
    func add(_ amount: Int) -> Int {
        atomic.wrappingAdd(amount, ordering: .relaxed).newValue
    }

    var value: Int { atomic.load(ordering: .relaxed) }
}
