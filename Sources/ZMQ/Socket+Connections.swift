internal import CZMQ
#if canImport(Glibc)
import Glibc
#endif

extension Socket {
    /// Binds the socket to `endpoint` and returns it, for chaining.
    ///
    /// Endpoints look like `inproc://name`, `ipc:///tmp/name` or `tcp://127.0.0.1:5555`;
    /// `tcp://127.0.0.1:*` picks a free port, readable afterwards from ``endpoints``
    /// (``Endpoint/port``) or ``lastEndpoint``.
    /// The corresponding C function is `zmq_bind`.
    /// - Throws: ``ZMQError`` naming the endpoint, such as ``ZMQError/protocolNotSupported``,
    ///   ``ZMQError/addressInUse`` or ``ZMQError/invalidValue`` for a malformed endpoint;
    ///   ``ZMQError/invalidArgument`` for an endpoint that holds a NUL byte.
    @discardableResult
    public func bind(_ endpoint: String) throws -> Socket {
        try attach(.bind, endpoint) { handle in try LibZMQ.bind(handle, endpoint) }
        return self
    }

    /// Connects the socket to `endpoint` and returns it, for chaining. The connection itself is made
    /// (and re-made) in the background, so a peer may bind later.
    ///
    /// The corresponding C function is `zmq_connect`.
    /// - Throws: ``ZMQError`` naming the endpoint for a malformed or unsupported endpoint;
    ///   ``ZMQError/invalidArgument`` for an endpoint that holds a NUL byte.
    @discardableResult
    public func connect(_ endpoint: String) throws -> Socket {
        try attach(.connect, endpoint) { handle in try LibZMQ.connect(handle, endpoint) }
        return self
    }

    /// Stops listening on `endpoint`, which must be an endpoint the socket was bound to
    /// (for a wildcard bind, the one read from ``lastEndpoint``).
    ///
    /// The corresponding C function is `zmq_unbind`.
    /// - Throws: ``ZMQError/noSuchEndpoint`` if the socket is not bound there;
    ///   ``ZMQError/invalidArgument`` for an endpoint that holds a NUL byte.
    @discardableResult
    public func unbind(_ endpoint: String) throws -> Socket {
        try detach(.bind, endpoint) { handle in try LibZMQ.unbind(handle, endpoint) }
        return self
    }

    /// Disconnects the socket from `endpoint`.
    ///
    /// The corresponding C function is `zmq_disconnect`.
    /// - Throws: ``ZMQError/noSuchEndpoint`` if the socket is not connected there;
    ///   ``ZMQError/invalidArgument`` for an endpoint that holds a NUL byte.
    @discardableResult
    public func disconnect(_ endpoint: String) throws -> Socket {
        try detach(.connect, endpoint) { handle in try LibZMQ.disconnect(handle, endpoint) }
        return self
    }

    /// Every endpoint the socket is bound or connected to now, in the order of the calls: each
    /// ``bind(_:)``, ``connect(_:)`` and ``connectPeer(_:)`` adds one (with the port libzmq picked
    /// for a wildcard), ``unbind(_:)`` and ``disconnect(_:)`` remove theirs, and ``close()``
    /// empties the list.
    ///
    /// ```swift
    /// let socket = try await Socket.pull().bind("tcp://127.0.0.1:*").connect("ipc:///tmp/feed")
    /// await socket.endpoints   // [bind tcp://127.0.0.1:41234, connect ipc:///tmp/feed]
    /// ```
    public var endpoints: [Endpoint] { attachedEndpoints }

    /// Binds or connects through `call`, then records and logs where.
    private func attach(_ mode: Endpoint.Mode, _ endpoint: String, _ call: (LibZMQ.Handle) throws -> Void) throws {
        let verb = mode.rawValue
        do {
            try refuseNUL(endpoint, verb)
            try validate(endpoint, verb)
            let resolved = try withHandle("\(verb) \(endpoint)") { handle in
                try call(handle)
                // The call succeeded: a failure to read where it went must not make it look failed.
                return (try? LibZMQ.stringOption(handle, ZMQ_LAST_ENDPOINT, "ZMQ_LAST_ENDPOINT")) ?? nil
            }
            let record = Endpoint(mode: mode, address: resolved ?? endpoint, requested: endpoint)
            attachedEndpoints.append(record)
            logDebug("\(verb)", endpoint: record.address)
        } catch {
            logDebug("\(verb) failed", endpoint: endpoint, error: error)
            throw error
        }
    }

    /// Unbinds or disconnects through `call`, then forgets and logs where.
    private func detach(_ mode: Endpoint.Mode, _ endpoint: String, _ call: (LibZMQ.Handle) throws -> Void) throws {
        let verb = mode == .bind ? "unbind" : "disconnect"
        do {
            try refuseNUL(endpoint, verb)
            try withHandle("\(verb) \(endpoint)", call)
            attachedEndpoints.removeAll { $0.mode == mode && ($0.address == endpoint || $0.requested == endpoint) }
            logDebug("\(verb)", endpoint: endpoint)
        } catch {
            logDebug("\(verb) failed", endpoint: endpoint, error: error)
            throw error
        }
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
    /// - Throws: ``ZMQError/wrongSocketType`` on a socket type without subscriptions;
    ///   ``ZMQError/invalidArgument`` for a topic that holds a NUL byte (a binary topic is
    ///   ``subscribe(_:)-([UInt8])``'s).
    @discardableResult
    public func subscribe(_ topic: String) throws -> Socket {
        try refuseNUL(topic, "subscribe")
        return try subscribe(Array(topic.utf8))
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
    /// - Throws: ``ZMQError/wrongSocketType`` on a socket type without subscriptions;
    ///   ``ZMQError/invalidArgument`` for a topic that holds a NUL byte.
    @discardableResult
    public func unsubscribe(_ topic: String) throws -> Socket {
        try refuseNUL(topic, "unsubscribe")
        return try unsubscribe(Array(topic.utf8))
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
        var id: UInt32 = 0
        try attach(.connect, endpoint) { handle in id = try DraftAPI.connectPeer(handle, endpoint) }
        return id
    }

    private func changeGroup(_ group: String, join: Bool) throws {
        guard type == .dish else {
            throw ZMQError.wrongSocketType.with("only DISH sockets join groups").on(type, "\(join ? "join" : "leave") \(group)")
        }
        try refuseNUL(group, join ? "join" : "leave")
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
