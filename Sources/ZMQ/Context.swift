internal import CZMQ
import Dispatch
import Logging
import Synchronization

/// A ZeroMQ context: the I/O threads and the `inproc://` namespace that sockets share.
///
/// Most programs use ``Context/shared``. A context of your own gives separate I/O threads and a
/// separate `inproc://` namespace, and can be shut down without affecting other sockets.
///
/// Every ``Socket`` keeps its context alive. When the last reference goes, the context is
/// terminated (`zmq_ctx_term`) on a Dispatch thread, because termination blocks until every
/// socket's linger period has passed; it never runs on a Swift concurrency thread.
public final class Context: Sendable {
    /// The process-wide default context, used when no context is given.
    public static let shared = try! Context()

    /// The `void *` context; libzmq contexts are thread-safe, so sharing it is sound.
    nonisolated(unsafe) let handle: UnsafeMutableRawPointer
    /// Set once `zmq_ctx_term` has been started, so that it runs exactly once.
    private let terminated = Atomic<Bool>(false)
    /// Whether a socket has been created, which starts libzmq's threads: from then on the options
    /// that configure them are ignored by libzmq, so ``set(_:_:)-(ContextOption<Value>,_)`` refuses them.
    let hasStarted = Atomic<Bool>(false)
    /// The context's logger, shared with its ZAP gate.
    let loggerStorage: Locked<Logger>
    /// The level of ``logger`` when it was given (``LevelRank``), for the sockets' checks.
    let loggerLevel: Atomic<UInt8>
    /// The context's ZAP handler, bound by the first ``Authenticator`` (see `ZAPGate`).
    let zapGate: ZAPGate

    /// Where the context's sockets, proxies and authenticators log (see <doc:Logging>): binds,
    /// connects, closes and slow-path errors at `debug`, authentication decisions at `info`.
    ///
    /// By default a logger that writes nothing, whatever the application set up with
    /// `LoggingSystem.bootstrap`; give one to see the library's records. A socket takes the
    /// context's logger at each record unless it was given one of its own
    /// (``Socket/setLogger(_:)``). Sending and receiving never log.
    public var logger: Logger {
        get { loggerStorage.withLock { $0 } }
        set {
            loggerStorage.withLock { logger in
                logger = newValue
                loggerLevel.store(LevelRank.of(newValue.logLevel), ordering: .relaxed)
            }
        }
    }

    /// The default ``logger``: one that writes nothing.
    static var silentLogger: Logger {
        Logger(label: "swift-zmq", factory: { _ in SwiftLogNoOpLogHandler() })
    }

    /// Creates a context with `ioThreads` I/O threads.
    ///
    /// The corresponding C functions are `zmq_ctx_new` and `zmq_ctx_set` with `ZMQ_IO_THREADS`.
    /// - Parameters:
    ///   - ioThreads: How many I/O threads libzmq runs for the context.
    ///   - logger: Where the context's sockets log (see ``logger``); by default nowhere.
    /// - Throws: ``ZMQError`` if libzmq cannot create the context or rejects the thread count.
    public init(ioThreads: Int = 1, logger: Logger? = nil) throws {
        guard ioThreads >= 0, ioThreads <= Int(Int32.max) else {
            throw ZMQError.invalidArgument.with("ioThreads must be 0...\(Int32.max)").during("create a context with \(ioThreads) I/O threads")
        }
        guard let handle = zmq_ctx_new() else { throw ZMQError.last("create a context (zmq_ctx_new)") }
        if zmq_ctx_set(handle, ZMQ_IO_THREADS, Int32(ioThreads)) != 0 {
            let error = ZMQError.last("create a context with \(ioThreads) I/O threads")
            zmq_ctx_term(handle)
            throw error
        }
        self.handle = handle
        let loggerStorage = Locked(logger ?? Self.silentLogger)
        self.loggerStorage = loggerStorage
        self.loggerLevel = Atomic(loggerStorage.withLock { LevelRank.of($0.logLevel) })
        self.zapGate = ZAPGate(contextLogger: loggerStorage)
    }

    /// Shuts the context down: every pending and future operation on its sockets fails with
    /// ``ZMQError/contextTerminated``, so tasks awaiting `recv` or `send` wake up and throw.
    ///
    /// Returns at once; it does not wait for sockets to close. Calling it again has no effect.
    /// The corresponding C function is `zmq_ctx_shutdown`.
    public func shutdown() {
        zmq_ctx_shutdown(handle)
    }

    /// Terminates the context and returns when libzmq has finished: every socket of the context must
    /// be closed (or dropped), and messages still queued for sending are delivered or dropped
    /// according to each socket's linger period first. Pending and later calls on its sockets
    /// throw ``ZMQError/contextTerminated``. Calling it again returns at once.
    ///
    /// The blocking `zmq_ctx_term` runs on a thread of its own (a Dispatch serial queue, which gets a
    /// thread at once: not a global queue, whose threads on Linux are also Swift's cooperative pool);
    /// the awaiting task only suspends.
    /// Terminating ``Context/shared`` ends it for the whole process.
    /// The corresponding C function is `zmq_ctx_term`.
    public func terminate() async {
        guard !terminated.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let handle = SendablePointer(handle)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue(label: "swift-zmq.term", qos: .utility).async {
                Context.term(handle)
                continuation.resume()
            }
        }
    }

    deinit {
        guard !terminated.load(ordering: .acquiring) else { return }
        // zmq_ctx_term blocks until linger expires (or for ever, while a socket of it stays open):
        // never on the caller's (possibly cooperative) thread, nor on a global queue's, which on
        // Linux are the cooperative pool's too.
        let handle = SendablePointer(handle)
        DispatchQueue(label: "swift-zmq.term", qos: .utility).async { Context.term(handle) }
    }

    private static func term(_ handle: SendablePointer) {
        _ = try? LibZMQ.check { zmq_ctx_term(handle.pointer) }
    }
}

/// A raw pointer handed across threads where the code guarantees exclusive use.
struct SendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    init(_ pointer: UnsafeMutableRawPointer) { self.pointer = pointer }
}
