import ArgumentParser
import ZMQ
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Messages and bytes through a command, for `--stats` and its final line.
final class Traffic: Sendable {
    let sentMessages = Counter(), sentBytes = Counter()
    let receivedMessages = Counter(), receivedBytes = Counter()

    func sent(_ frames: [[UInt8]]) {
        sentMessages.add(1)
        sentBytes.add(frames.reduce(0) { $0 + $1.count })
    }

    func received(_ frames: [[UInt8]]) {
        receivedMessages.add(1)
        receivedBytes.add(frames.reduce(0) { $0 + $1.count })
    }
}

/// One run of a socket command: its own context (terminated at the end, so that messages still
/// queued are delivered within the linger period before the process exits), its sockets, the
/// signals that stop it, and its exit status.
final class Session: Sendable {
    /// The command's name in messages, such as `zmq pull`.
    let name: String
    let context: Context
    let settings: SocketSettings
    let traffic = Traffic()
    private let sockets = Protected<[Socket]>([])
    private let authenticator = Protected<Authenticator?>(nil)

    private init(name: String, settings: SocketSettings) throws {
        self.name = name
        self.settings = settings
        self.context = try Context()
    }

    /// A socket of `type` in the session's context, with the command's options applied; closed
    /// when the session ends.
    func socket(_ type: SocketType) async throws -> Socket {
        let socket = try Socket(type, context: context)
        sockets.withLock { $0.append(socket) }
        try await settings.apply(to: socket)
        if case .plainServer = settings.security, authenticator.withLock({ $0 == nil }) {
            let started = try await settings.authenticator(context: context)
            authenticator.withLock { $0 = started }
        }
        return socket
    }

    /// Runs `body` until it returns, fails, or SIGINT/SIGTERM cancels it; then closes the sockets
    /// (with the chosen linger after a success or a signal, at once after a failure), waits for the
    /// context to finish, and returns normally for status 0 or throws the status.
    ///
    /// - Parameters:
    ///   - interruptedStatus: The exit status after a signal: 0 for a receiver, 130 for a sender.
    ///   - showSent, showReceived: Which directions `--stats` reports.
    static func run(
        _ name: String, settings: SocketSettings, interruptedStatus: Int32,
        showSent: Bool, showReceived: Bool,
        onStatistics: @escaping @Sendable (Session) -> Void = { _ in },
        _ body: @escaping @Sendable (Session) async throws -> Void
    ) async throws {
        let session: Session
        do {
            session = try Session(name: name, settings: settings)
        } catch {
            throw ToolFailure.runtime("\(error)", command: name)
        }
        // The handlers are in place before the work starts: a signal that comes as soon as the
        // work has printed its "bound" line is never missed.
        let work = WorkHandle()
        let cleaningUp = Counter()
        let signals = Signals.shared
        signals.route(onTerminate: { count in
            // The first signal cancels the work, which then closes the sockets with their linger; a
            // signal during that close (or a second one) ends the process at once.
            if count == 1 && cleaningUp.value == 0 {
                work.cancel()
            } else {
                _exit(interruptedStatus)
            }
        }, onStatistics: { onStatistics(session) })
        let task = Task { try await body(session) }
        work.start(task)
        // (The proxy reports its own statistics; the monitor has none.)
        let reporter = settings.stats && (showSent || showReceived) ? Task { await session.reportEverySecond(sent: showSent, received: showReceived) } : nil

        let result = await task.result
        cleaningUp.add(1)
        reporter?.cancel()
        var failure: ToolFailure?
        var status: Int32 = 0
        switch result {
        case .success: break
        case .failure(let error):
            if signals.terminated {
                status = interruptedStatus
            } else if error is BrokenPipe {
                status = 0
            } else if var error = error as? ToolFailure {
                error.command = error.command ?? name
                failure = error
            } else {
                failure = .runtime("\(error)", command: name)
            }
        }
        await session.close(lingering: failure == nil)
        if signals.terminated { status = interruptedStatus }
        if let failure { throw failure }
        if status != 0 { throw ExitCode(status) }
    }

    private func close(lingering: Bool) async {
        let sockets = self.sockets.withLock { $0 }
        for socket in sockets {
            if !lingering { _ = try? await socket.set(.linger, .zero) }
            await socket.close()
        }
        let authenticator = self.authenticator.withLock { $0 }
        await authenticator?.stop()
        self.authenticator.withLock { $0 = nil }
        await context.terminate()
    }

    /// `--stats`: one line a second on standard error.
    private func reportEverySecond(sent: Bool, received: Bool) async {
        var last = (0, 0, 0, 0)
        while !Task.isCancelled {
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
            let now = (traffic.sentMessages.value, traffic.sentBytes.value,
                       traffic.receivedMessages.value, traffic.receivedBytes.value)
            var parts: [String] = []
            if sent {
                parts.append("sent \(now.0 - last.0) msg/s \(now.1 - last.1) B/s (total \(now.0) msg \(now.1) B)")
            }
            if received {
                parts.append("received \(now.2 - last.2) msg/s \(now.3 - last.3) B/s (total \(now.2) msg \(now.3) B)")
            }
            Diagnostics.line("\(name): " + parts.joined(separator: "; "))
            last = now
        }
    }

    /// Writes a message line to standard output.
    func print(_ frames: [[UInt8]], _ codec: MessageCodec) async throws {
        try await Output.standard.write(codec.encode(frames))
    }
}

/// The running work of a session, which a signal may cancel even before it has started.
final class WorkHandle: Sendable {
    private let state = Protected<(task: Task<Void, any Error>?, cancelled: Bool)>((nil, false))

    func start(_ task: Task<Void, any Error>) {
        let cancelled = state.withLock { state in
            state.task = task
            return state.cancelled
        }
        if cancelled { task.cancel() }
    }

    func cancel() {
        let task = state.withLock { state in
            state.cancelled = true
            return state.task
        }
        task?.cancel()
    }
}
