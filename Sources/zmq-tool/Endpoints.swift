import ArgumentParser
import ZMQ
#if canImport(Glibc)
import Glibc
#endif

/// One endpoint and whether the socket binds or connects to it.
struct Endpoint: Sendable, Equatable {
    var address: String
    var bind: Bool

    /// The transports libzmq may know; anything else is a usage error before libzmq sees it.
    static let transports = ["tcp", "ipc", "inproc", "pgm", "epgm", "tipc", "vmci", "udp", "ws", "wss", "norm"]

    /// Parses `text`: `@ENDPOINT` binds, `>ENDPOINT` connects, a bare endpoint does `bindByDefault`.
    init(_ text: String, bindByDefault: Bool) throws {
        var address = Substring(text)
        var bind = bindByDefault
        if address.hasPrefix("@") {
            bind = true
            address = address.dropFirst()
        } else if address.hasPrefix(">") {
            bind = false
            address = address.dropFirst()
        }
        guard let separator = address.range(of: "://") else {
            throw ValidationError("endpoint '\(text)' has no transport: write it as tcp://HOST:PORT, ipc:///PATH, inproc://NAME, ...")
        }
        let transport = String(address[..<separator.lowerBound])
        guard Self.transports.contains(transport) else {
            throw ValidationError("endpoint '\(text)': unknown transport '\(transport)' (one of \(Self.transports.joined(separator: ", ")))")
        }
        guard separator.upperBound < address.endIndex else {
            throw ValidationError("endpoint '\(text)' has no address after '\(transport)://'")
        }
        self.address = String(address)
        self.bind = bind
    }

    var verb: String { bind ? "bind" : "connect" }
}

/// The endpoints of a socket command and the default of whether to bind or connect to them.
struct EndpointOptions: ParsableArguments {
    @Argument(help: ArgumentHelp(
        "Where to connect (or bind): tcp://HOST:PORT, ipc:///PATH, ...; @ENDPOINT binds and >ENDPOINT connects.",
        valueName: "endpoint"))
    var endpoints: [String] = []

    @Flag(name: .long, help: "Bind the endpoints (a server's side).")
    var bind = false

    @Flag(name: .long, help: "Connect to the endpoints (the default).")
    var connect = false

    mutating func validate() throws {
        if endpoints.isEmpty { throw ValidationError("give at least one endpoint, such as tcp://127.0.0.1:5555") }
        if bind && connect { throw ValidationError("--bind and --connect exclude each other") }
        _ = try parsed()
    }

    func parsed() throws -> [Endpoint] {
        try endpoints.map { try Endpoint($0, bindByDefault: bind) }
    }
}

extension Socket {
    /// Binds or connects to each endpoint in turn, reporting each on standard error (a bound wildcard
    /// port resolved) unless `quiet`: the line `zmq pull: bound tcp://127.0.0.1:41234` tells a script
    /// (or a test) that the socket is ready and where.
    func attach(_ endpoints: [Endpoint], command: String, quiet: Bool) async throws {
        for endpoint in endpoints {
            do {
                if endpoint.bind { try bind(endpoint.address) } else { try connect(endpoint.address) }
            } catch let error as ZMQError {
                // A malformed address libzmq refuses is the user's input, like an unknown transport.
                let malformed = error == .invalidValue || error == .protocolNotSupported || error == .invalidArgument
                    || error == ZMQError(code: ENODEV)
                // The library's message names the endpoint already, as in "bind tcp://...: Address in use".
                let text = "\(error)"
                throw ToolFailure(message: text.contains(endpoint.address) ? text : "cannot \(endpoint.verb) \(endpoint.address): \(text)",
                                  status: malformed ? 2 : 1, command: command)
            }
            if !quiet {
                let resolved = endpoint.bind ? (lastEndpoint ?? endpoint.address) : endpoint.address
                Diagnostics.line("\(command): \(endpoint.bind ? "bound" : "connecting to") \(resolved)")
            }
        }
    }
}
