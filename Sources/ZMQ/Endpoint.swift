/// Where a socket is attached: one ``Socket/bind(_:)`` or ``Socket/connect(_:)``, as listed by
/// ``Socket/endpoints``.
///
/// ```swift
/// let server = try await Socket.rep().bind("tcp://127.0.0.1:*")
/// let endpoint = await server.endpoints[0]   // bind tcp://127.0.0.1:41234
/// let port = endpoint.port!                   // 41234, the port libzmq picked
/// ```
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    /// How the socket is attached.
    public enum Mode: String, Sendable, Hashable, CustomStringConvertible {
        /// The socket listens there (``Socket/bind(_:)``).
        case bind
        /// The socket connects there (``Socket/connect(_:)``, ``Socket/connectPeer(_:)``).
        case connect

        /// `bind` or `connect`.
        public var description: String { rawValue }
    }

    /// Whether the socket bound or connected.
    public let mode: Mode
    /// The endpoint as libzmq resolved it: for `tcp://127.0.0.1:*`, the port it picked
    /// (`tcp://127.0.0.1:41234`); for `ipc://*`, the path it made. This is the string that
    /// ``Socket/unbind(_:)`` and ``Socket/disconnect(_:)`` take, and that peers connect to.
    /// The corresponding C option is `ZMQ_LAST_ENDPOINT`, read right after the call.
    public let address: String
    /// The endpoint as it was given to `bind` or `connect`.
    public let requested: String

    /// Creates an endpoint record.
    /// - Parameters:
    ///   - mode: Whether the socket bound or connected.
    ///   - address: The endpoint as libzmq resolved it.
    ///   - requested: The endpoint as given; `address` when `nil`.
    public init(mode: Mode, address: String, requested: String? = nil) {
        self.mode = mode
        self.address = address
        self.requested = requested ?? address
    }

    /// The transport: `tcp`, `ipc`, `inproc`, `udp`, `ws`, ... (what comes before `://`).
    public var transport: String {
        let parts = address.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].hasPrefix("//") else { return "" }
        return String(parts[0])
    }

    /// The port of a network endpoint (`tcp`, `udp`, `ws`, `wss`, `pgm`, `epgm`, `tipc` excluded),
    /// the one libzmq picked for a wildcard bind; `nil` for `inproc` and `ipc`.
    public var port: Int? {
        guard ["tcp", "udp", "ws", "wss", "pgm", "epgm"].contains(transport) else { return nil }
        // tcp://host:port, tcp://[::1]:port, ws://host:port/path, udp://source;host:port
        var rest = address.dropFirst(transport.count + 3)
        if transport == "ws" || transport == "wss", let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        guard let colon = rest.lastIndex(of: ":") else { return nil }
        return Int(rest[rest.index(after: colon)...])
    }

    /// `bind tcp://127.0.0.1:41234`.
    public var description: String { "\(mode) \(address)" }
}
