internal import CZMQ

/// A socket option that can be set and read, typed by its value: `Int32`, `Bool`, `Duration`,
/// `[UInt8]` or `String`, optional where libzmq gives -1 a meaning (`nil` is "forever", "never" or
/// "the default", as each option says).
///
/// Keys are static members, so the option's value type is checked by the compiler:
/// ```swift
/// let socket = try await Socket.dealer()
///     .set(.linger, .zero)
///     .set(.sendHighWaterMark, 100)
///     .set(.routingID, Array("worker-1".utf8))
/// let hwm = try await socket.get(.sendHighWaterMark)  // Int32
/// ```
/// Options libzmq only lets you read are ``ReadOnlySocketOption``s and options it only lets you set
/// are ``WriteOnlySocketOption``s, so `socket.set(.type, ...)` and `socket.get(.routerMandatory)`
/// do not compile. Most options apply to later `bind`s and `connect`s only; set them first.
///
/// The corresponding C functions are `zmq_setsockopt` and `zmq_getsockopt`.
public struct SocketOption<Value: Sendable>: Sendable, CustomStringConvertible {
    let key: OptionKey<Value>

    init(_ code: Int32, _ cName: String, _ name: String, _ codec: OptionCodec<Value>) {
        key = OptionKey(code: code, cName: cName, name: name, codec: codec)
    }

    /// The C and Swift names, such as `ZMQ_LINGER (linger)`.
    public var description: String { key.description }
}

/// A socket option libzmq lets you read but not set, such as the socket ``type`` or its ``events``.
///
/// The corresponding C function is `zmq_getsockopt`.
public struct ReadOnlySocketOption<Value: Sendable>: Sendable, CustomStringConvertible {
    let key: OptionKey<Value>

    init(_ code: Int32, _ cName: String, _ name: String, _ codec: OptionCodec<Value>) {
        key = OptionKey(code: code, cName: cName, name: name, codec: codec)
    }

    /// The C and Swift names, such as `ZMQ_TYPE (type)`.
    public var description: String { key.description }
}

/// A socket option libzmq lets you set but not read back, such as ``routerMandatory``.
///
/// The corresponding C function is `zmq_setsockopt`.
public struct WriteOnlySocketOption<Value: Sendable>: Sendable, CustomStringConvertible {
    let key: OptionKey<Value>

    init(_ code: Int32, _ cName: String, _ name: String, _ codec: OptionCodec<Value>) {
        key = OptionKey(code: code, cName: cName, name: name, codec: codec)
    }

    /// The C and Swift names, such as `ZMQ_ROUTER_MANDATORY (routerMandatory)`.
    public var description: String { key.description }
}

// MARK: - Value types

/// The security mechanism a socket uses, as read from ``ReadOnlySocketOption/mechanism``.
public enum SecurityMechanism: Int32, Sendable, CaseIterable {
    /// No security (`ZMQ_NULL`).
    case null = 0
    /// Clear-text user name and password (`ZMQ_PLAIN`).
    case plain = 1
    /// CurveZMQ encryption and authentication (`ZMQ_CURVE`).
    case curve = 2
    /// Kerberos through GSSAPI (`ZMQ_GSSAPI`).
    case gssapi = 3
}

extension Socket {
    /// What a socket can do now without waiting, as read from ``ReadOnlySocketOption/events``.
    ///
    /// The corresponding C option is `ZMQ_EVENTS` (`ZMQ_POLLIN`, `ZMQ_POLLOUT`).
    public struct Events: OptionSet, Sendable, Hashable {
        /// The raw `ZMQ_POLL*` bits.
        public let rawValue: Int32
        /// Creates a set from `ZMQ_POLL*` bits.
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// At least one message can be received (`ZMQ_POLLIN`).
        public static let readable = Events(rawValue: Int32(ZMQ_POLLIN))
        /// At least one message can be sent (`ZMQ_POLLOUT`).
        public static let writable = Events(rawValue: Int32(ZMQ_POLLOUT))
    }
}

// MARK: - Queues and delivery

extension SocketOption where Value == Int32 {
    /// The most messages queued for sending to any one peer before the socket blocks (or drops,
    /// for PUB and other dropping types); 0 means no limit. Default 1000.
    /// The corresponding C option is `ZMQ_SNDHWM`.
    public static var sendHighWaterMark: SocketOption { .init(ZMQ_SNDHWM, "ZMQ_SNDHWM", "sendHighWaterMark", .int32) }
    /// The most messages queued on receipt from any one peer; 0 means no limit. Default 1000.
    /// The corresponding C option is `ZMQ_RCVHWM`.
    public static var receiveHighWaterMark: SocketOption { .init(ZMQ_RCVHWM, "ZMQ_RCVHWM", "receiveHighWaterMark", .int32) }
    /// The length of the queue of pending incoming connections. Default 100.
    /// The corresponding C option is `ZMQ_BACKLOG`.
    public static var backlog: SocketOption { .init(ZMQ_BACKLOG, "ZMQ_BACKLOG", "backlog", .int32) }
    /// The IP type-of-service (DSCP and ECN bits) of outgoing packets. Default 0.
    /// The corresponding C option is `ZMQ_TOS`.
    public static var typeOfService: SocketOption { .init(ZMQ_TOS, "ZMQ_TOS", "typeOfService", .int32) }
    /// How many network hops multicast packets may travel. Default 1 (the local network).
    /// The corresponding C option is `ZMQ_MULTICAST_HOPS`.
    public static var multicastHops: SocketOption { .init(ZMQ_MULTICAST_HOPS, "ZMQ_MULTICAST_HOPS", "multicastHops", .int32) }
    /// The multicast data rate in kilobits per second. Default 100.
    /// The corresponding C option is `ZMQ_RATE`.
    public static var multicastRate: SocketOption { .init(ZMQ_RATE, "ZMQ_RATE", "multicastRate", .int32) }
    /// The largest multicast transport data unit, in bytes. Default 1500.
    /// The corresponding C option is `ZMQ_MULTICAST_MAXTPDU`.
    public static var multicastMaxTransportDataUnit: SocketOption {
        .init(ZMQ_MULTICAST_MAXTPDU, "ZMQ_MULTICAST_MAXTPDU", "multicastMaxTransportDataUnit", .int32)
    }
}

extension SocketOption where Value == Int32? {
    /// The kernel send buffer size in bytes; `nil` (the default) leaves the operating system's.
    /// The corresponding C option is `ZMQ_SNDBUF`.
    public static var sendBufferSize: SocketOption { .init(ZMQ_SNDBUF, "ZMQ_SNDBUF", "sendBufferSize", .int32OrDefault) }
    /// The kernel receive buffer size in bytes; `nil` (the default) leaves the operating system's.
    /// The corresponding C option is `ZMQ_RCVBUF`.
    public static var receiveBufferSize: SocketOption { .init(ZMQ_RCVBUF, "ZMQ_RCVBUF", "receiveBufferSize", .int32OrDefault) }
    /// A listening file descriptor (already bound and listening) for the next tcp or ipc `bind` to
    /// use, as in systemd socket activation; `nil` (the default) makes a new one.
    /// The corresponding C option is `ZMQ_USE_FD`.
    public static var useFileDescriptor: SocketOption { .init(ZMQ_USE_FD, "ZMQ_USE_FD", "useFileDescriptor", .int32OrDefault) }
    /// The TCP keep-alive probe count; `nil` (the default) leaves the operating system's.
    /// The corresponding C option is `ZMQ_TCP_KEEPALIVE_CNT`.
    public static var tcpKeepAliveCount: SocketOption {
        .init(ZMQ_TCP_KEEPALIVE_CNT, "ZMQ_TCP_KEEPALIVE_CNT", "tcpKeepAliveCount", .int32OrDefault)
    }
}

extension SocketOption where Value == Int64? {
    /// The largest message accepted from a peer, in bytes; a peer sending more is disconnected.
    /// `nil` (the default) means no limit. The corresponding C option is `ZMQ_MAXMSGSIZE`.
    public static var maxMessageSize: SocketOption { .init(ZMQ_MAXMSGSIZE, "ZMQ_MAXMSGSIZE", "maxMessageSize", .int64OrUnlimited) }
}

extension SocketOption where Value == UInt64 {
    /// Which I/O threads (a bitmap: bit 0 is thread 1) serve new connections; 0 (the default) means all.
    /// The corresponding C option is `ZMQ_AFFINITY`.
    public static var affinity: SocketOption { .init(ZMQ_AFFINITY, "ZMQ_AFFINITY", "affinity", .uint64) }
}

extension SocketOption where Value == Bool {
    /// Keep only the last message in the queue, dropping older ones; for PUSH, PULL, PUB, SUB and
    /// DEALER with single-part messages. The high-water marks no longer apply. Default `false`.
    /// The corresponding C option is `ZMQ_CONFLATE`.
    public static var conflate: SocketOption { .init(ZMQ_CONFLATE, "ZMQ_CONFLATE", "conflate", .bool) }
    /// Queue messages only to completed connections, so that sends wait instead of filling the queue
    /// of a peer that is not there yet. Default `false`. The corresponding C option is `ZMQ_IMMEDIATE`.
    public static var immediate: SocketOption { .init(ZMQ_IMMEDIATE, "ZMQ_IMMEDIATE", "immediate", .bool) }
    /// Reverse PUB/SUB filtering: deliver what does *not* match a subscription. Set it on the PUB or
    /// XPUB and on every SUB connected to it. Default `false`.
    /// The corresponding C option is `ZMQ_INVERT_MATCHING`.
    public static var invertMatching: SocketOption { .init(ZMQ_INVERT_MATCHING, "ZMQ_INVERT_MATCHING", "invertMatching", .bool) }
}

// MARK: - Timing

extension SocketOption where Value == Duration? {
    /// How long messages still queued when the socket is closed or disconnected are kept for
    /// delivery; `.zero` drops them at once, `nil` (the default) keeps them until delivered.
    /// The corresponding C option is `ZMQ_LINGER`.
    public static var linger: SocketOption { .init(ZMQ_LINGER, "ZMQ_LINGER", "linger", .millisecondsOrNone) }
    /// How long `recv` waits before throwing ``ZMQError/timedOut``; `nil` (the default) waits forever.
    /// A `timeout:` argument to a single call overrides it. The corresponding C option is `ZMQ_RCVTIMEO`.
    public static var receiveTimeout: SocketOption { .init(ZMQ_RCVTIMEO, "ZMQ_RCVTIMEO", "receiveTimeout", .millisecondsOrNone) }
    /// How long `send` waits for room before throwing ``ZMQError/timedOut``; `nil` (the default)
    /// waits forever. A `timeout:` argument to a single call overrides it.
    /// The corresponding C option is `ZMQ_SNDTIMEO`.
    public static var sendTimeout: SocketOption { .init(ZMQ_SNDTIMEO, "ZMQ_SNDTIMEO", "sendTimeout", .millisecondsOrNone) }
    /// How long to wait before reconnecting a lost or failed connection; `nil` means never reconnect.
    /// Default 100 ms. The corresponding C option is `ZMQ_RECONNECT_IVL`.
    public static var reconnectInterval: SocketOption {
        .init(ZMQ_RECONNECT_IVL, "ZMQ_RECONNECT_IVL", "reconnectInterval", .millisecondsOrNone)
    }
    /// How long without traffic after a heartbeat before the connection is dropped. It reads `nil`
    /// until set, which means ``heartbeatInterval``; it cannot be set back to `nil`.
    /// The corresponding C option is `ZMQ_HEARTBEAT_TIMEOUT`.
    public static var heartbeatTimeout: SocketOption {
        .init(ZMQ_HEARTBEAT_TIMEOUT, "ZMQ_HEARTBEAT_TIMEOUT", "heartbeatTimeout", .millisecondsReadingNone)
    }
    /// The TCP keep-alive idle time, in whole seconds; `nil` (the default) leaves the operating system's.
    /// The corresponding C option is `ZMQ_TCP_KEEPALIVE_IDLE`.
    public static var tcpKeepAliveIdle: SocketOption {
        .init(ZMQ_TCP_KEEPALIVE_IDLE, "ZMQ_TCP_KEEPALIVE_IDLE", "tcpKeepAliveIdle", .secondsOrDefault)
    }
    /// The interval between TCP keep-alive probes, in whole seconds; `nil` (the default) leaves the
    /// operating system's. The corresponding C option is `ZMQ_TCP_KEEPALIVE_INTVL`.
    public static var tcpKeepAliveInterval: SocketOption {
        .init(ZMQ_TCP_KEEPALIVE_INTVL, "ZMQ_TCP_KEEPALIVE_INTVL", "tcpKeepAliveInterval", .secondsOrDefault)
    }
}

extension SocketOption where Value == Duration {
    /// The longest wait between reconnection attempts, doubling from ``reconnectInterval``;
    /// `.zero` (the default) keeps the interval fixed. The corresponding C option is `ZMQ_RECONNECT_IVL_MAX`.
    public static var reconnectIntervalMax: SocketOption {
        .init(ZMQ_RECONNECT_IVL_MAX, "ZMQ_RECONNECT_IVL_MAX", "reconnectIntervalMax", .milliseconds)
    }
    /// How long a new connection may take to complete its ZMTP handshake before it is closed;
    /// `.zero` means no limit. Default 30 s. The corresponding C option is `ZMQ_HANDSHAKE_IVL`.
    public static var handshakeInterval: SocketOption {
        .init(ZMQ_HANDSHAKE_IVL, "ZMQ_HANDSHAKE_IVL", "handshakeInterval", .milliseconds)
    }
    /// How often to send a ZMTP heartbeat (PING); `.zero` (the default) sends none.
    /// The corresponding C option is `ZMQ_HEARTBEAT_IVL`.
    public static var heartbeatInterval: SocketOption {
        .init(ZMQ_HEARTBEAT_IVL, "ZMQ_HEARTBEAT_IVL", "heartbeatInterval", .milliseconds)
    }
    /// How long the peer should wait for traffic before dropping the connection, kept in whole
    /// tenths of a second (at most 6553.5 s); `.zero` (the default) sets none.
    /// The corresponding C option is `ZMQ_HEARTBEAT_TTL`.
    public static var heartbeatTimeToLive: SocketOption {
        .init(ZMQ_HEARTBEAT_TTL, "ZMQ_HEARTBEAT_TTL", "heartbeatTimeToLive", .milliseconds)
    }
    /// How long a TCP `connect()` may take before it is abandoned and retried; `.zero` (the
    /// default) leaves the operating system's. The corresponding C option is `ZMQ_CONNECT_TIMEOUT`.
    public static var connectTimeout: SocketOption {
        .init(ZMQ_CONNECT_TIMEOUT, "ZMQ_CONNECT_TIMEOUT", "connectTimeout", .milliseconds)
    }
    /// How long unacknowledged TCP data is retransmitted before the connection fails; `.zero` (the
    /// default) leaves the operating system's. The corresponding C option is `ZMQ_TCP_MAXRT`.
    public static var tcpMaxRetransmitTimeout: SocketOption {
        .init(ZMQ_TCP_MAXRT, "ZMQ_TCP_MAXRT", "tcpMaxRetransmitTimeout", .milliseconds)
    }
    /// How long a multicast receiver may be absent before it loses data. Default 10 s.
    /// The corresponding C option is `ZMQ_RECOVERY_IVL`.
    public static var multicastRecoveryInterval: SocketOption {
        .init(ZMQ_RECOVERY_IVL, "ZMQ_RECOVERY_IVL", "multicastRecoveryInterval", .milliseconds)
    }
}

// MARK: - Transport

extension SocketOption where Value == Bool {
    /// Use IPv6 as well as IPv4 for tcp endpoints. Default `false` (the context's ``ContextOption/ipv6``
    /// for new sockets). The corresponding C option is `ZMQ_IPV6`.
    public static var ipv6: SocketOption { .init(ZMQ_IPV6, "ZMQ_IPV6", "ipv6", .bool) }
}

extension SocketOption where Value == Bool? {
    /// TCP keep-alive (`SO_KEEPALIVE`) on or off; `nil` (the default) leaves the operating system's.
    /// The corresponding C option is `ZMQ_TCP_KEEPALIVE`.
    public static var tcpKeepAlive: SocketOption { .init(ZMQ_TCP_KEEPALIVE, "ZMQ_TCP_KEEPALIVE", "tcpKeepAlive", .boolOrDefault) }
}

extension SocketOption where Value == String {
    /// The network device (interface or VRF) tcp and udp connections are bound to; `""` for none.
    /// Usually needs `CAP_NET_RAW` to take effect. The corresponding C option is `ZMQ_BINDTODEVICE`.
    public static var bindToDevice: SocketOption { .init(ZMQ_BINDTODEVICE, "ZMQ_BINDTODEVICE", "bindToDevice", .string()) }
    /// The SOCKS5 proxy (`host:port`) for tcp connections; `""` for none.
    /// The corresponding C option is `ZMQ_SOCKS_PROXY`.
    public static var socksProxy: SocketOption { .init(ZMQ_SOCKS_PROXY, "ZMQ_SOCKS_PROXY", "socksProxy", .string()) }
}

// MARK: - Identity and routing

extension SocketOption where Value == [UInt8] {
    /// The socket's routing id as a ROUTER peer sees it: 1 to 255 bytes, not starting with a zero
    /// byte; empty until set. The corresponding C option is `ZMQ_ROUTING_ID`.
    public static var routingID: SocketOption { .init(ZMQ_ROUTING_ID, "ZMQ_ROUTING_ID", "routingID", .bytes(capacity: 255)) }
}

extension WriteOnlySocketOption where Value == [UInt8] {
    /// The routing id to give the peer of the next `connect` (ROUTER and STREAM), so that messages
    /// can be sent to it at once. Applies to one `connect` only.
    /// The corresponding C option is `ZMQ_CONNECT_ROUTING_ID`.
    public static var connectRoutingID: WriteOnlySocketOption {
        .init(ZMQ_CONNECT_ROUTING_ID, "ZMQ_CONNECT_ROUTING_ID", "connectRoutingID", .bytes())
    }
    /// The message every new subscriber receives on connecting (XPUB); empty for none.
    /// The corresponding C option is `ZMQ_XPUB_WELCOME_MSG`.
    public static var xpubWelcomeMessage: WriteOnlySocketOption {
        .init(ZMQ_XPUB_WELCOME_MSG, "ZMQ_XPUB_WELCOME_MSG", "xpubWelcomeMessage", .bytes())
    }
    /// Adds a subscription on an XPUB in ``xpubManual`` mode (a SUB uses ``Socket/subscribe(_:)-([UInt8])``).
    /// The corresponding C option is `ZMQ_SUBSCRIBE`.
    public static var subscribe: WriteOnlySocketOption { .init(ZMQ_SUBSCRIBE, "ZMQ_SUBSCRIBE", "subscribe", .bytes()) }
    /// Removes a subscription on an XPUB in ``xpubManual`` mode (a SUB uses ``Socket/unsubscribe(_:)-([UInt8])``).
    /// The corresponding C option is `ZMQ_UNSUBSCRIBE`.
    public static var unsubscribe: WriteOnlySocketOption { .init(ZMQ_UNSUBSCRIBE, "ZMQ_UNSUBSCRIBE", "unsubscribe", .bytes()) }
}

extension WriteOnlySocketOption where Value == Bool {
    /// Make a ROUTER throw ``ZMQError/hostUnreachable`` for a message to an unknown routing id
    /// (and wait at the high-water mark) instead of dropping it. The corresponding C option is
    /// `ZMQ_ROUTER_MANDATORY`.
    public static var routerMandatory: WriteOnlySocketOption {
        .init(ZMQ_ROUTER_MANDATORY, "ZMQ_ROUTER_MANDATORY", "routerMandatory", .bool)
    }
    /// Let a ROUTER hand a routing id over to a new peer that claims it, disconnecting the old one,
    /// instead of refusing the newcomer. The corresponding C option is `ZMQ_ROUTER_HANDOVER`.
    public static var routerHandover: WriteOnlySocketOption {
        .init(ZMQ_ROUTER_HANDOVER, "ZMQ_ROUTER_HANDOVER", "routerHandover", .bool)
    }
    /// Send an empty message on every new connection (REQ, DEALER, ROUTER talking to a ROUTER), so
    /// the ROUTER learns of the peer at once. The corresponding C option is `ZMQ_PROBE_ROUTER`.
    public static var probeRouter: WriteOnlySocketOption {
        .init(ZMQ_PROBE_ROUTER, "ZMQ_PROBE_ROUTER", "probeRouter", .bool)
    }
    /// Make a REQ match replies to requests by a request id, discarding stray replies.
    /// The corresponding C option is `ZMQ_REQ_CORRELATE`.
    public static var reqCorrelate: WriteOnlySocketOption {
        .init(ZMQ_REQ_CORRELATE, "ZMQ_REQ_CORRELATE", "reqCorrelate", .bool)
    }
    /// Let a REQ send a new request before the reply to the last one (use with ``reqCorrelate``).
    /// The corresponding C option is `ZMQ_REQ_RELAXED`.
    public static var reqRelaxed: WriteOnlySocketOption {
        .init(ZMQ_REQ_RELAXED, "ZMQ_REQ_RELAXED", "reqRelaxed", .bool)
    }
    /// Pass every subscription message to an XPUB's reader, not only the first for each topic.
    /// The corresponding C option is `ZMQ_XPUB_VERBOSE`.
    public static var xpubVerbose: WriteOnlySocketOption {
        .init(ZMQ_XPUB_VERBOSE, "ZMQ_XPUB_VERBOSE", "xpubVerbose", .bool)
    }
    /// Like ``xpubVerbose``, and pass every unsubscription too.
    /// The corresponding C option is `ZMQ_XPUB_VERBOSER`.
    public static var xpubVerboser: WriteOnlySocketOption {
        .init(ZMQ_XPUB_VERBOSER, "ZMQ_XPUB_VERBOSER", "xpubVerboser", .bool)
    }
    /// Make an XPUB or PUB wait at the high-water mark (so `send` suspends, or times out) instead of
    /// dropping. The corresponding C option is `ZMQ_XPUB_NODROP`.
    public static var xpubNoDrop: WriteOnlySocketOption {
        .init(ZMQ_XPUB_NODROP, "ZMQ_XPUB_NODROP", "xpubNoDrop", .bool)
    }
    /// Let the application decide an XPUB's subscriptions (with ``subscribe``) instead of taking
    /// the subscribers'. The corresponding C option is `ZMQ_XPUB_MANUAL`.
    public static var xpubManual: WriteOnlySocketOption {
        .init(ZMQ_XPUB_MANUAL, "ZMQ_XPUB_MANUAL", "xpubManual", .bool)
    }
    /// Deliver an empty message on a STREAM socket when a peer connects or disconnects. Default `true`.
    /// The corresponding C option is `ZMQ_STREAM_NOTIFY`.
    public static var streamNotify: WriteOnlySocketOption {
        .init(ZMQ_STREAM_NOTIFY, "ZMQ_STREAM_NOTIFY", "streamNotify", .bool)
    }
}

// MARK: - Read-only

extension ReadOnlySocketOption where Value == SocketType {
    /// The socket's type. The corresponding C option is `ZMQ_TYPE`.
    public static var type: ReadOnlySocketOption {
        .init(ZMQ_TYPE, "ZMQ_TYPE", "type", .int32({ SocketType(rawValue: $0)! }, { $0.rawValue }))
    }
}

extension ReadOnlySocketOption where Value == Bool {
    /// Whether the last frame received is followed by more frames of the same message.
    ///
    /// It is about the last frame a receive call on the socket returned, also when a message stream
    /// took frames ahead and handed them back (``Socket/messages`` and ``Socket/multipartMessages``, left
    /// early): those count as not yet received. Inside a stream's loop, whose frames are taken from
    /// libzmq a batch at a time, read ``Message/hasMore`` of each frame instead; a socket received
    /// from by several tasks at once has no single "last frame", and each frame's
    /// ``Message/hasMore`` is the answer there too.
    /// The corresponding C option is `ZMQ_RCVMORE`.
    public static var more: ReadOnlySocketOption { .init(ZMQ_RCVMORE, "ZMQ_RCVMORE", "more", .bool) }
    /// Whether the socket type is thread-safe in libzmq (only DRAFT types are); this library's
    /// ``Socket`` actor makes every type safe to share. The corresponding C option is `ZMQ_THREAD_SAFE`.
    public static var threadSafe: ReadOnlySocketOption { .init(ZMQ_THREAD_SAFE, "ZMQ_THREAD_SAFE", "threadSafe", .bool) }
}

extension ReadOnlySocketOption where Value == Socket.Events {
    /// Whether a message can be received or sent now without waiting.
    /// The corresponding C option is `ZMQ_EVENTS`.
    public static var events: ReadOnlySocketOption {
        .init(ZMQ_EVENTS, "ZMQ_EVENTS", "events", .int32({ Socket.Events(rawValue: $0) }, { $0.rawValue }))
    }
}

extension ReadOnlySocketOption where Value == String {
    /// The endpoint of the last bind or connect, with a wildcard port resolved; `""` before any.
    /// The corresponding C option is `ZMQ_LAST_ENDPOINT`.
    public static var lastEndpoint: ReadOnlySocketOption {
        .init(ZMQ_LAST_ENDPOINT, "ZMQ_LAST_ENDPOINT", "lastEndpoint", .string(capacity: 1024))
    }
}

extension ReadOnlySocketOption where Value == SecurityMechanism {
    /// The security mechanism the socket's options select.
    /// The corresponding C option is `ZMQ_MECHANISM`.
    public static var mechanism: ReadOnlySocketOption {
        .init(ZMQ_MECHANISM, "ZMQ_MECHANISM", "mechanism", .enumeration)
    }
}
