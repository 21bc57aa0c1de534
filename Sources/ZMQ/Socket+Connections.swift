internal import CZMQ
#if canImport(Glibc)
import Glibc
#endif

extension Socket {
    /// Binds the socket to `endpoint` and returns it, for chaining.
    ///
    /// Endpoints look like `inproc://name`, `ipc:///tmp/name` or `tcp://127.0.0.1:5555`;
    /// `tcp://127.0.0.1:*` picks a free port, readable afterwards from ``lastEndpoint``.
    /// The corresponding C function is `zmq_bind`.
    /// - Throws: ``ZMQError`` naming the endpoint, such as ``ZMQError/protocolNotSupported``,
    ///   ``ZMQError/addressInUse`` or ``ZMQError/invalidValue`` for a malformed endpoint.
    @discardableResult
    public func bind(_ endpoint: String) throws -> Socket {
        try validate(endpoint, "bind")
        try withHandle("bind \(endpoint)") { handle in try LibZMQ.bind(handle, endpoint) }
        return self
    }

    /// Connects the socket to `endpoint` and returns it, for chaining. The connection itself is made
    /// (and re-made) in the background, so a peer may bind later.
    ///
    /// The corresponding C function is `zmq_connect`.
    /// - Throws: ``ZMQError`` naming the endpoint for a malformed or unsupported endpoint.
    @discardableResult
    public func connect(_ endpoint: String) throws -> Socket {
        try validate(endpoint, "connect")
        try withHandle("connect \(endpoint)") { handle in try LibZMQ.connect(handle, endpoint) }
        return self
    }

    /// Stops listening on `endpoint`, which must be an endpoint the socket was bound to
    /// (for a wildcard bind, the one read from ``lastEndpoint``).
    ///
    /// The corresponding C function is `zmq_unbind`.
    /// - Throws: ``ZMQError/noSuchEndpoint`` if the socket is not bound there.
    @discardableResult
    public func unbind(_ endpoint: String) throws -> Socket {
        try withHandle("unbind \(endpoint)") { handle in try LibZMQ.unbind(handle, endpoint) }
        return self
    }

    /// Disconnects the socket from `endpoint`.
    ///
    /// The corresponding C function is `zmq_disconnect`.
    /// - Throws: ``ZMQError/noSuchEndpoint`` if the socket is not connected there.
    @discardableResult
    public func disconnect(_ endpoint: String) throws -> Socket {
        try withHandle("disconnect \(endpoint)") { handle in try LibZMQ.disconnect(handle, endpoint) }
        return self
    }

    /// Subscribes to messages starting with `topic`; the default, no topic, means every message.
    ///
    /// For SUB this sets `ZMQ_SUBSCRIBE`; for XSUB it sends the subscription message (`0x01` and
    /// the topic).
    /// - Throws: ``ZMQError/wrongSocketType`` on a socket type without subscriptions.
    @discardableResult
    public func subscribe(_ topic: [UInt8] = []) throws -> Socket {
        try changeSubscription(topic, subscribe: true)
        return self
    }

    /// Subscribes to messages starting with the UTF-8 bytes of `topic`.
    ///
    /// - Throws: ``ZMQError/wrongSocketType`` on a socket type without subscriptions.
    @discardableResult
    public func subscribe(_ topic: String) throws -> Socket {
        try subscribe(Array(topic.utf8))
    }

    /// Removes a subscription made with ``subscribe(_:)-([UInt8])``; the default removes the
    /// every-topic subscription.
    ///
    /// For SUB this sets `ZMQ_UNSUBSCRIBE`; for XSUB it sends `0x00` and the topic.
    /// - Throws: ``ZMQError/wrongSocketType`` on a socket type without subscriptions.
    @discardableResult
    public func unsubscribe(_ topic: [UInt8] = []) throws -> Socket {
        try changeSubscription(topic, subscribe: false)
        return self
    }

    /// Removes a subscription made with ``subscribe(_:)-(String)``.
    ///
    /// - Throws: ``ZMQError/wrongSocketType`` on a socket type without subscriptions.
    @discardableResult
    public func unsubscribe(_ topic: String) throws -> Socket {
        try unsubscribe(Array(topic.utf8))
    }

    /// Joins `group` (up to 15 bytes), so that the DISH socket receives what RADIO sockets send in it.
    ///
    /// The corresponding C function is `zmq_join` (DRAFT).
    /// - Throws: ``ZMQError/wrongSocketType`` on a socket that is not a DISH, or the libzmq error
    ///   (``ZMQError/invalidValue`` for a group too long or already joined).
    @discardableResult
    public func join(_ group: String) throws -> Socket {
        try changeGroup(group, join: true)
        return self
    }

    /// Leaves a group joined with ``join(_:)``.
    ///
    /// The corresponding C function is `zmq_leave` (DRAFT).
    /// - Throws: ``ZMQError/wrongSocketType`` on a socket that is not a DISH, or the libzmq error.
    @discardableResult
    public func leave(_ group: String) throws -> Socket {
        try changeGroup(group, join: false)
        return self
    }

    /// Connects a PEER socket to `endpoint` and returns the routing id to send to that peer with.
    ///
    /// The corresponding C function is `zmq_connect_peer` (DRAFT).
    /// - Throws: ``ZMQError/wrongSocketType`` on a socket that is not a PEER, or as ``connect(_:)``.
    public func connectPeer(_ endpoint: String) throws -> UInt32 {
        guard type == .peer else {
            throw ZMQError.wrongSocketType.with("only PEER sockets have it").on(type, "connectPeer \(endpoint)")
        }
        try validate(endpoint, "connectPeer")
        return try withHandle("connectPeer \(endpoint)") { handle in try DraftAPI.connectPeer(handle, endpoint) }
    }

    private func changeGroup(_ group: String, join: Bool) throws {
        guard type == .dish else {
            throw ZMQError.wrongSocketType.with("only DISH sockets join groups").on(type, "\(join ? "join" : "leave") \(group)")
        }
        try withHandle("\(join ? "join" : "leave") \(group)") { handle in try DraftAPI.changeGroup(handle, group, join: join) }
    }

    /// The endpoint of the last bind or connect, with a wildcard port resolved
    /// (`tcp://127.0.0.1:41234`); `nil` before any, or once the socket is closed.
    ///
    /// The corresponding C option is `ZMQ_LAST_ENDPOINT` (which reads `""` before any bind or
    /// connect; `get(.lastEndpoint)` gives that raw value).
    public var lastEndpoint: String? {
        guard let endpoint = try? withHandle("get ZMQ_LAST_ENDPOINT", { try LibZMQ.stringOption($0, ZMQ_LAST_ENDPOINT, "get ZMQ_LAST_ENDPOINT") }),
              !endpoint.isEmpty else { return nil }
        return endpoint
    }

    /// Catches what libzmq accepts but gets wrong: it reads a tcp/udp port modulo 65536, so
    /// `tcp://host:99999` would silently bind port 34463.
    private func validate(_ endpoint: String, _ verb: String) throws {
        guard endpoint.hasPrefix("tcp://") || endpoint.hasPrefix("udp://"),
              let colon = endpoint.lastIndex(of: ":"), colon > endpoint.index(endpoint.startIndex, offsetBy: 5)
        else { return }
        let port = endpoint[endpoint.index(after: colon)...]
        if port == "*" || port.isEmpty { return }
        guard let number = Int(port), (0...65535).contains(number) else {
            throw ZMQError.invalidValue.with("port must be 0...65535 or *").on(type, "\(verb) \(endpoint)")
        }
    }

    private func changeSubscription(_ topic: [UInt8], subscribe: Bool) throws {
        let verb = subscribe ? "subscribe" : "unsubscribe"
        guard type.acceptsSubscriptions else {
            throw ZMQError.wrongSocketType.with("only SUB and XSUB have subscriptions").on(type, verb)
        }
        try withHandle(verb) { handle in
            switch type {
            case .xsub:
                // XSUB subscribes upstream by message; libzmq never blocks this send (it drops instead).
                let message = [subscribe ? 1 : 0] + topic
                guard try message.withUnsafeBytes({ try LibZMQ.send(handle, $0, more: false) }) else {
                    throw ZMQError.tryAgain
                }
            default:
                try LibZMQ.setOption(handle, subscribe ? ZMQ_SUBSCRIBE : ZMQ_UNSUBSCRIBE, bytes: topic, verb)
            }
        }
    }
}
