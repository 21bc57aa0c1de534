import ArgumentParser
import ZMQ

/// How messages look on standard input and output, and when a command stops.
struct MessageOptions: ParsableArguments {
    @Option(help: ArgumentHelp("How messages are written and read: text, hex, or json (an array of frames, {\"base64\": ...} for a frame that is not UTF-8).",
                               valueName: "format"))
    var format: MessageFormat = .text

    @Option(help: ArgumentHelp("What separates the frames of a multipart message on a line (text and hex).", valueName: "text"))
    var separator: String = "|"

    @Option(name: [.customShort("n"), .long], help: ArgumentHelp(
        "Stop after this many messages: sent for pub, push and req; received (or answered, for rep) otherwise.",
        valueName: "n"))
    var count: Int?

    @Option(help: ArgumentHelp("Give up (status 1) when no message arrives, or none can be sent, within this long.",
                               valueName: "duration"))
    var timeout: DurationArgument?

    mutating func validate() throws {
        if let count, count < 1 { throw ValidationError("--count must be at least 1, not \(count)") }
        if separator.isEmpty { throw ValidationError("--separator must not be empty") }
    }
}

/// What a pattern command does with its socket.
enum Role: Sendable {
    /// Sends its input (pub, push); interrupted, it exits 130.
    case sender
    /// Prints what arrives (sub, pull).
    case receiver
    /// Both at once (dealer, router, pair, xpub, xsub, stream): prints what arrives while it sends
    /// its input; stops at --count received, --timeout, or a signal (status 0).
    case both
    /// req: sends each message and prints its reply; interrupted, it exits 130.
    case request
    /// rep: prints each request and answers it.
    case reply(ReplyMode)

    var interruptedStatus: Int32 {
        switch self {
        case .sender, .request: 130
        default: 0
        }
    }
}

/// How rep answers.
enum ReplyMode: Sendable {
    case echo
    case fixed([[UInt8]])
    /// The next message of standard input for each request.
    case input
}

/// Everything a pattern command needs, checked, for the tasks that run it.
struct PatternPlan: Sendable {
    var name: String
    var type: SocketType
    var role: Role
    var endpoints: [Endpoint]
    var codec: MessageCodec
    var count: Int?
    var timeout: Duration?
    var timeoutText: String
    var interval: Duration?
    var message: [[UInt8]]?
    var raw: Bool
    var topics: [String]
    var settings: SocketSettings

    init(_ type: SocketType, role: Role, endpoints: EndpointOptions, messages: MessageOptions,
         input: InputOptions?, socket: SocketOptions, topics: [String] = []) throws {
        name = "zmq \(type.description.lowercased())"
        self.type = type
        self.role = role
        self.endpoints = try endpoints.parsed()
        let routing = type == .router || type == .stream
        codec = MessageCodec(format: messages.format, separator: Array(messages.separator.utf8),
                             splitsInput: input?.frames ?? false, routingFrame: routing)
        count = messages.count
        timeout = messages.timeout?.duration
        timeoutText = messages.timeout?.text ?? ""
        interval = input?.interval?.duration
        raw = input?.raw ?? false
        if let text = input?.message {
            do {
                message = try codec.decode(Array(text.utf8))
            } catch {
                throw ValidationError("--message: \(error.reason)")
            }
        }
        if case .reply(.fixed(let reply)) = role, reply.isEmpty { throw ValidationError("--reply needs a message") }
        self.topics = topics
        // Without --linger: forever for a command that sends, so that the end of its input loses
        // nothing; a second for PUB and XPUB, whose connecting side would otherwise keep messages
        // for a subscriber that left (libzmq keeps a connecting socket's queue for a reconnection);
        // zero for one that only receives (a SUB's queued subscription to a peer that never came
        // would keep it from exiting).
        let defaultLinger: Duration? = if case .receiver = role { .zero } else if type == .pub || type == .xpub { .seconds(1) } else { nil }
        settings = try SocketSettings(socket, defaultLinger: defaultLinger)
    }

    /// Runs the command to its end (see ``Session/run(_:settings:interruptedStatus:showSent:showReceived:onStatistics:_:)``).
    func run() async throws {
        let plan = self
        let sends: Bool = if case .receiver = role { false } else { true }
        let receives: Bool = if case .sender = role { false } else { true }
        try await Session.run(name, settings: settings, interruptedStatus: role.interruptedStatus,
                              showSent: sends, showReceived: receives) { session in
            try await plan.body(session)
        }
    }

    private func body(_ session: Session) async throws {
        let socket = try await session.socket(type)
        if type.acceptsSubscriptions {
            for topic in topics.isEmpty ? [""] : topics { try await socket.subscribe(topic) }
        }
        try await socket.attach(endpoints, command: name, quiet: settings.quiet)
        switch role {
        case .sender:
            try await sendAll(socket, source(limit: count), session)
        case .receiver:
            try await receiveAll(socket, session)
        case .both:
            let source = source(limit: nil)
            nonisolated(unsafe) let unsafeSource = source  // used by the sending task only
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await sendAll(socket, unsafeSource, session)
                    return false
                }
                group.addTask {
                    try await receiveAll(socket, session)
                    return true
                }
                // The input ending does not end the command: it keeps receiving.
                while let receiverDone = try await group.next() {
                    if receiverDone {
                        group.cancelAll()
                        return
                    }
                }
            }
        case .request:
            try await requestAll(socket, source(limit: count), session)
        case .reply(let mode):
            try await replyAll(socket, mode, mode.readsInput ? source(limit: nil) : nil, session)
        }
    }

    /// The input: `--message` (once, `--count` times, or for ever with `--interval`), or stdin.
    private func source(limit: Int?) -> MessageSource {
        if let message {
            return MessageSource(message: message, times: limit ?? (interval == nil ? 1 : nil))
        }
        return MessageSource(codec: codec, raw: raw, limit: limit)
    }

    private func sendAll(_ socket: Socket, _ source: MessageSource, _ session: Session) async throws {
        var first = true
        while let frames = try await source.next() {
            if !first, let interval { try await Task.sleep(for: interval) }
            first = false
            try await send(frames, socket, session)
        }
    }

    private func send(_ frames: [[UInt8]], _ socket: Socket, _ session: Session) async throws {
        do {
            if frames.count == 1 {
                try await socket.send(frames[0], timeout: timeout)
            } else {
                try await socket.sendMultipart(frames, timeout: timeout)
            }
        } catch ZMQError.timedOut {
            throw ToolFailure.runtime("no peer took a message within \(timeoutText) (\(session.traffic.sentMessages.value) sent)")
        } catch let error as ZMQError where error == .hostUnreachable {
            throw ToolFailure.runtime("message not sent: \(error)")
        }
        session.traffic.sent(frames)
    }

    private func receive(_ socket: Socket, _ session: Session) async throws -> [[UInt8]] {
        do {
            let frames = try await socket.recvMultipart(timeout: timeout)
            session.traffic.received(frames)
            return frames
        } catch ZMQError.timedOut {
            throw ToolFailure.runtime("no message within \(timeoutText) (\(session.traffic.receivedMessages.value) received)")
        }
    }

    private func receiveAll(_ socket: Socket, _ session: Session) async throws {
        var received = 0
        while count.map({ received < $0 }) ?? true {
            let frames = try await receive(socket, session)
            try await session.print(frames, codec)
            received += 1
        }
    }

    private func requestAll(_ socket: Socket, _ source: MessageSource, _ session: Session) async throws {
        var first = true
        while let frames = try await source.next() {
            if !first, let interval { try await Task.sleep(for: interval) }
            first = false
            try await send(frames, socket, session)
            try await session.print(try await receive(socket, session), codec)
        }
    }

    private func replyAll(_ socket: Socket, _ mode: ReplyMode, _ source: MessageSource?, _ session: Session) async throws {
        var answered = 0
        while count.map({ answered < $0 }) ?? true {
            let request = try await receive(socket, session)
            try await session.print(request, codec)
            let reply: [[UInt8]]
            switch mode {
            case .echo: reply = request
            case .fixed(let fixed): reply = fixed
            case .input:
                guard let next = try await source?.next() else { return }  // the input ended: no answer
                reply = next
            }
            try await send(reply, socket, session)
            answered += 1
        }
    }
}

extension ReplyMode {
    var readsInput: Bool { if case .input = self { true } else { false } }
}
