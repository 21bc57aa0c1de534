/// A task executor that runs tasks on the library's reactor thread, the thread that waits for every
/// socket's readiness.
///
/// A task that awaits a message normally costs two thread wake-ups when the message comes: the
/// reactor's, which sees the socket become readable, then a thread of Swift's cooperative pool's,
/// which runs the task. A task that prefers this executor is run by the reactor itself, right after it
/// saw the readiness: one wake-up per message, as a blocking C receiver pays. This is the event-loop
/// model of swift-nio: it pays for services that handle moderate, steady traffic on many sockets.
///
/// ```swift
/// try await withTaskExecutorPreference(ReactorExecutor.shared) {
///     while true { handle(try await socket.recv()) }
/// }
/// ```
///
/// All such tasks share one thread, so they must not block it (no blocking system calls, no long
/// computations): while one runs, no other socket's readiness is seen. Work that takes long belongs
/// on the default executor. Task executor preference is SE-0417 (`withTaskExecutorPreference`,
/// `Task(executorPreference:)`).
public final class ReactorExecutor: TaskExecutor {
    /// The executor of the process's one reactor thread.
    public static let shared = ReactorExecutor()

    private init() {}

    /// Runs `job` on the reactor thread, after the jobs queued before it.
    public func enqueue(_ job: consuming ExecutorJob) {
        Reactor.shared.enqueue(UnownedJob(job))
    }
}
