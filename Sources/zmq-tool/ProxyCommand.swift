import ArgumentParser
import ZMQ

/// `zmq proxy`: the library's ``Socket/proxy(_:_:capture:control:)`` between two endpoints.
struct ProxyCommand: AsyncParsableCommand, SocketCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Forward messages between a frontend and a backend: a queue, a forwarder or a streamer.",
        discussion: """
            Both endpoints are bound unless written >ENDPOINT (connect). The kinds are queue \
            (ROUTER frontend for REQ clients, DEALER backend for REP workers), forwarder (XSUB frontend \
            for publishers, XPUB backend for subscribers) and streamer (PULL frontend, PUSH backend). \
            With --capture, a PUB socket there gets a copy of every frame forwarded.

            SIGUSR1 prints the statistics so far on standard error; SIGINT or SIGTERM stops the proxy, \
            which prints them once more and exits 0.

            Example:
              zmq proxy tcp://127.0.0.1:5559 tcp://127.0.0.1:5560 --kind queue
            """
    )

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case queue, forwarder, streamer

        var types: (frontend: SocketType, backend: SocketType) {
            switch self {
            case .queue: (.router, .dealer)
            case .forwarder: (.xsub, .xpub)
            case .streamer: (.pull, .push)
            }
        }
    }

    @Argument(help: ArgumentHelp("The frontend's endpoint (bound; >ENDPOINT connects).", valueName: "frontend"))
    var frontend: String

    @Argument(help: ArgumentHelp("The backend's endpoint (bound; >ENDPOINT connects).", valueName: "backend"))
    var backend: String

    @Option(help: ArgumentHelp("Which sockets: queue (ROUTER/DEALER), forwarder (XSUB/XPUB) or streamer (PULL/PUSH).",
                               valueName: "kind"))
    var kind: Kind = .queue

    @Option(help: ArgumentHelp("Also send a copy of every forwarded frame to a PUB socket here (bound; >ENDPOINT connects).",
                               valueName: "endpoint"))
    var capture: String?

    @OptionGroup(title: "Socket") var socket: SocketOptions

    mutating func validate() throws {
        _ = try endpoints()
    }

    private func endpoints() throws -> (frontend: Endpoint, backend: Endpoint, capture: Endpoint?) {
        (try Endpoint(frontend, bindByDefault: true), try Endpoint(backend, bindByDefault: true),
         try capture.map { try Endpoint($0, bindByDefault: true) })
    }

    func run() async throws {
        let endpoints = try endpoints()
        let settings = try SocketSettings(socket)
        let types = kind.types
        let control = ProxyControl()
        let name = "zmq proxy"
        try await Session.run(name, settings: settings, interruptedStatus: 0, showSent: false, showReceived: false,
                              onStatistics: { _ in
                                  Task { Self.report(await control.statistics(), name) }
                              }) { session in
            let frontend = try await session.socket(types.frontend)
            try await frontend.attach([endpoints.frontend], command: name, quiet: settings.quiet)
            let backend = try await session.socket(types.backend)
            try await backend.attach([endpoints.backend], command: name, quiet: settings.quiet)
            var captureSocket: Socket?
            if let capture = endpoints.capture {
                let socket = try await session.socket(.pub)
                try await socket.attach([capture], command: name, quiet: settings.quiet)
                captureSocket = socket
            }
            let statistics = settings.stats ? Task {
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(1))
                    Self.report(await control.statistics(), name)
                }
            } : nil
            defer { statistics?.cancel() }
            do {
                try await withTaskCancellationHandler {
                    try await Socket.proxy(frontend, backend, capture: captureSocket, control: control)
                } onCancel: {
                    control.terminate()
                }
            } catch {
                Self.report(await control.statistics(), name)
                throw error
            }
            Self.report(await control.statistics(), name)
            // A terminate() from a signal ends the proxy normally; the session still reports the signal.
            try Task.checkCancellation()
        }
    }

    static func report(_ statistics: ProxyStatistics, _ name: String) {
        func side(_ label: String, _ side: ProxyStatistics.Side) -> String {
            "\(label) received \(side.received.messages) msg (\(side.received.frames) frames, \(side.received.bytes) B), "
                + "sent \(side.sent.messages) msg (\(side.sent.frames) frames, \(side.sent.bytes) B)"
        }
        Diagnostics.line("\(name): " + side("frontend", statistics.frontend) + "; " + side("backend", statistics.backend))
    }
}
