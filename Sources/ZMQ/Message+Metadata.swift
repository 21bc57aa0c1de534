extension Message {
    /// The metadata property `name` of the connection the message arrived on, or `nil` if it has
    /// none (messages you create, and `inproc://` connections, have no metadata).
    ///
    /// Besides the properties below, peers can send their own with the `ZMQ_METADATA` socket option
    /// (names start with `X-`), and a ZAP handler can attach more. A name that holds a NUL byte
    /// names no property.
    /// The corresponding C function is `zmq_msg_gets`.
    public func metadata(_ name: String) -> String? {
        // zmq_msg_gets takes a C string: a name with a NUL byte would look up another property.
        guard !name.utf8.contains(0) else { return nil }
        return withExtendedLifetime(storage) { storage.metadata(name) }
    }

    /// The IP address of the peer that sent the message (`"127.0.0.1"`), for tcp connections.
    ///
    /// The corresponding C property is `Peer-Address` (`zmq_msg_gets`).
    public var peerAddress: String? { metadata("Peer-Address") }

    /// The socket type of the peer that sent the message, as it announced it in the handshake.
    ///
    /// The corresponding C property is `Socket-Type` (`zmq_msg_gets`).
    public var peerSocketType: SocketType? {
        guard let name = metadata("Socket-Type") else { return nil }
        return SocketType.allCases.first { $0.description == name }
    }

    /// The routing id the peer announced in the handshake (its `ZMQ_ROUTING_ID` option), if it set one.
    /// Only REQ, DEALER and ROUTER peers announce it. libzmq returns the value as a C string, so a
    /// binary routing id ends at its first zero byte.
    ///
    /// The corresponding C property is `Routing-Id` (`zmq_msg_gets`); libzmq 4.3 stores it under its
    /// older name `Identity`, which is read when `Routing-Id` is missing.
    public var peerRoutingID: String? { metadata("Routing-Id") ?? metadata("Identity") }

    /// The user id a ZAP authentication handler assigned to the connection, if any.
    ///
    /// The corresponding C property is `User-Id` (`zmq_msg_gets`).
    public var userID: String? { metadata("User-Id") }

    /// The routing id libzmq gave the peer a SERVER or PEER socket received this message from: pass
    /// it to ``Socket/send(_:routingID:group:timeout:)`` to reply. `nil` for other sockets' messages
    /// and for messages you create.
    ///
    /// The corresponding C function is `zmq_msg_routing_id` (DRAFT).
    public var routingID: UInt32? { withExtendedLifetime(storage) { storage.routingID } }

    /// The group a DISH socket received this message in (the RADIO sender's group); `nil` otherwise.
    ///
    /// The corresponding C function is `zmq_msg_group` (DRAFT).
    public var group: String? { withExtendedLifetime(storage) { storage.group } }
}
