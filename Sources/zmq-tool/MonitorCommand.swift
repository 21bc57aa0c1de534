import ArgumentParser
import ZMQ

/// `zmq monitor`: a socket's connection events, as libzmq's socket monitor reports them.
struct MonitorCommand: AsyncParsableCommand, SocketCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Print a socket's connection events (connected, accepted, handshake failed, ...) as they happen.",
        discussion: """
            The socket, of --type, binds or connects to the endpoints and reports every event; the \
            messages it may receive are not read. A handshake that fails (the wrong socket type, \
            security that does not match) shows here.

            Example:
              zmq monitor tcp://127.0.0.1:5555 --type push
            """
    )

    @OptionGroup var endpoints: EndpointOptions

    @Option(help: ArgumentHelp("The socket's type: pub, sub, push, pull, req, rep, dealer, router, pair, xpub, xsub, stream.",
                               valueName: "type"))
    var type: SocketTypeArgument

    @Option(help: ArgumentHelp("text (as 'accepted tcp://127.0.0.1:5555 (value 12)') or json (one object per event).",
                               valueName: "format"))
    var format: MessageFormat = .text

    @Option(name: [.customShort("n"), .long], help: ArgumentHelp("Stop after this many events.", valueName: "n"))
    var count: Int?

    @Option(help: ArgumentHelp("Give up (status 1) when no event comes within this long.", valueName: "duration"))
    var timeout: DurationArgument?

    @OptionGroup(title: "Socket") var socket: SocketOptions

    mutating func validate() throws {
        if format == .hex { throw ValidationError("--format for monitor is text or json") }
        if let count, count < 1 { throw ValidationError("--count must be at least 1, not \(count)") }
    }

    func run() async throws {
        let endpoints = try endpoints.parsed()
        let settings = try SocketSettings(socket, defaultLinger: .zero)
        let (type, format, count, timeout) = (type.type, format, count, timeout)
        let name = "zmq monitor"
        try await Session.run(name, settings: settings, interruptedStatus: 0, showSent: false, showReceived: false) { session in
            let socket = try await session.socket(type)
            // Monitoring starts before bind and connect, so that their events are reported too.
            let events = try await socket.monitor()
            try await socket.attach(endpoints, command: name, quiet: settings.quiet)
            let printer = Task {
                var seen = 0
                for try await event in events {
                    try await Output.standard.write(Array((Self.line(event, format) + "\n").utf8))
                    seen += 1
                    if let count, seen >= count { return }
                }
            }
            try await withTaskCancellationHandler {
                if let timeout {
                    try await Self.finish(printer, within: timeout)
                } else {
                    try await printer.value
                }
            } onCancel: {
                printer.cancel()
            }
        }
    }

    /// Waits for `printer`, failing if it prints nothing for `timeout`.
    private static func finish(_ printer: Task<Void, any Error>, within timeout: DurationArgument) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await printer.value }
            group.addTask {
                try await Task.sleep(for: timeout.duration)
                printer.cancel()
                throw ToolFailure.runtime("no event within \(timeout.text)")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// The event in text (the library's description) or as a JSON object.
    static func line(_ event: SocketEvent, _ format: MessageFormat) -> String {
        guard format == .json else { return event.description }
        // The description is "NAME ENDPOINT (value N)": the name is what precedes the endpoint.
        let suffix = " \(event.endpoint) (value \(event.value))"
        let name = event.description.hasSuffix(suffix) ? String(event.description.dropLast(suffix.count)) : event.description
        return "{\"event\":\(MessageCodec.jsonString(name)),\"endpoint\":\(MessageCodec.jsonString(event.endpoint)),"
            + "\"value\":\(event.value)}"
    }
}
