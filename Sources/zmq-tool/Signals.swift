@preconcurrency import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT, SIGTERM and SIGUSR1, delivered to Dispatch sources: the work a signal triggers (cancel the
/// command, print statistics) runs on a Dispatch queue like any other code, never in a C signal
/// handler. SIGPIPE is ignored: a write to a closed pipe then fails with `EPIPE`, which ends the
/// command quietly.
///
/// ``install()`` runs first thing, before any thread starts and before the main thread waits in
/// `dispatch_main` (which unblocks every signal in it): the signals stay blocked until libdispatch
/// has registered its sources, so none can end the process with its default action. A command sets
/// its handlers later with ``route(onTerminate:onStatistics:)``; a signal that came before is
/// passed on then.
final class Signals: Sendable {
    private static let handled: [Int32] = [SIGINT, SIGTERM, SIGUSR1]

    private struct State {
        var terminations = 0
        var onTerminate: (@Sendable (Int) -> Void)?
        var onStatistics: (@Sendable () -> Void)?
    }

    nonisolated(unsafe) private static var installed: Signals?

    /// The process's signal handling; installed by ``install()``.
    static var shared: Signals {
        guard let installed else { fatalError("Signals.install() was not called") }
        return installed
    }

    private let state = Protected(State())
    private let queue = DispatchQueue(label: "zmq.signals")
    nonisolated(unsafe) private var sources: [any DispatchSourceSignal] = []

    /// Blocks the handled signals in the calling (main) thread, so that threads started later block
    /// them too, and starts the Dispatch sources, waiting until libdispatch has registered them.
    static func install() {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in handled { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        signal(SIGPIPE, SIG_IGN)
        let signals = Signals()
        let registered = DispatchSemaphore(value: 0)
        for number in handled {
            let source = DispatchSource.makeSignalSource(signal: number, queue: signals.queue)
            source.setEventHandler { [signals] in signals.arrived(number) }
            source.setRegistrationHandler { registered.signal() }
            source.resume()
            signals.sources.append(source)
        }
        for _ in handled { _ = registered.wait(timeout: .now() + .seconds(5)) }
        installed = signals
    }

    private init() {}

    private func arrived(_ number: Int32) {
        if number == SIGUSR1 {
            let handler = state.withLock { $0.onStatistics }
            handler?()
            return
        }
        let (handler, count) = state.withLock { state -> ((@Sendable (Int) -> Void)?, Int) in
            state.terminations += 1
            return (state.onTerminate, state.terminations)
        }
        handler?(count)
    }

    /// Calls `onTerminate` for each SIGINT or SIGTERM with the count so far (1, then 2, ...), at
    /// once if one already came; `onStatistics` for every SIGUSR1.
    func route(onTerminate: @escaping @Sendable (Int) -> Void, onStatistics: @escaping @Sendable () -> Void) {
        let pending = state.withLock { state in
            state.onTerminate = onTerminate
            state.onStatistics = onStatistics
            return state.terminations
        }
        if pending > 0 { queue.async { onTerminate(pending) } }
    }

    /// Whether SIGINT or SIGTERM has arrived.
    var terminated: Bool { state.withLock { $0.terminations > 0 } }
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
