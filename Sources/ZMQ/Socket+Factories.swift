extension Socket {
    /// An exclusive PAIR socket: one peer, messages both ways.
    public static func pair(context: Context = .shared) throws -> Socket { try Socket(.pair, context: context) }
    /// A PUB socket: every message goes to every subscriber whose topic matches its start.
    public static func pub(context: Context = .shared) throws -> Socket { try Socket(.pub, context: context) }
    /// A SUB socket: receives the messages of the topics it subscribes to.
    public static func sub(context: Context = .shared) throws -> Socket { try Socket(.sub, context: context) }
    /// A REQ socket: sends a request, then receives its reply, strictly alternating.
    public static func req(context: Context = .shared) throws -> Socket { try Socket(.req, context: context) }
    /// A REP socket: receives a request, then sends its reply, strictly alternating.
    public static func rep(context: Context = .shared) throws -> Socket { try Socket(.rep, context: context) }
    /// A DEALER socket: sends and receives freely, load-balancing outgoing messages across peers.
    public static func dealer(context: Context = .shared) throws -> Socket { try Socket(.dealer, context: context) }
    /// A ROUTER socket: prefixes each received message with its sender's routing id and routes
    /// each sent message to the peer named by its first frame.
    public static func router(context: Context = .shared) throws -> Socket { try Socket(.router, context: context) }
    /// A PULL socket: receives from a pipeline, fair-queued across PUSH peers.
    public static func pull(context: Context = .shared) throws -> Socket { try Socket(.pull, context: context) }
    /// A PUSH socket: sends into a pipeline, load-balanced across PULL peers.
    public static func push(context: Context = .shared) throws -> Socket { try Socket(.push, context: context) }
    /// An XPUB socket: a PUB that also receives its subscribers' subscription messages.
    public static func xpub(context: Context = .shared) throws -> Socket { try Socket(.xpub, context: context) }
    /// An XSUB socket: a SUB that subscribes by sending subscription messages.
    public static func xsub(context: Context = .shared) throws -> Socket { try Socket(.xsub, context: context) }
    /// A STREAM socket: talks raw TCP to non-ZeroMQ peers; each message is a routing-id frame and a data frame.
    public static func stream(context: Context = .shared) throws -> Socket { try Socket(.stream, context: context) }
    /// A DRAFT SERVER socket: a CLIENT's server: each received ``Message`` has a ``Message/routingID`` to reply to. Throws ``ZMQError/draftUnavailable`` without libzmq DRAFT support.
    public static func server(context: Context = .shared) throws -> Socket { try Socket(.server, context: context) }
    /// A DRAFT CLIENT socket: talks to a SERVER, single-frame messages. Throws ``ZMQError/draftUnavailable`` without libzmq DRAFT support.
    public static func client(context: Context = .shared) throws -> Socket { try Socket(.client, context: context) }
    /// A DRAFT RADIO socket: sends each message in a group (``send(_:routingID:group:timeout:)``). Throws ``ZMQError/draftUnavailable`` without libzmq DRAFT support.
    public static func radio(context: Context = .shared) throws -> Socket { try Socket(.radio, context: context) }
    /// A DRAFT DISH socket: receives the groups it ``join(_:)``s from RADIO sockets. Throws ``ZMQError/draftUnavailable`` without libzmq DRAFT support.
    public static func dish(context: Context = .shared) throws -> Socket { try Socket(.dish, context: context) }
    /// A DRAFT GATHER socket: receives from SCATTER sockets, fair-queued (single-frame PULL). Throws ``ZMQError/draftUnavailable`` without libzmq DRAFT support.
    public static func gather(context: Context = .shared) throws -> Socket { try Socket(.gather, context: context) }
    /// A DRAFT SCATTER socket: sends to GATHER sockets, load-balanced (single-frame PUSH). Throws ``ZMQError/draftUnavailable`` without libzmq DRAFT support.
    public static func scatter(context: Context = .shared) throws -> Socket { try Socket(.scatter, context: context) }
    /// A DRAFT DGRAM socket (UDP; each message is the peer's `host:port`, then the datagram). Throws
    /// ``ZMQError/draftUnavailable`` without libzmq DRAFT support.
    public static func dgram(context: Context = .shared) throws -> Socket { try Socket(.dgram, context: context) }
    /// A DRAFT PEER socket: addresses peers by routing id (``connectPeer(_:)``, ``Message/routingID``). Throws ``ZMQError/draftUnavailable`` without libzmq DRAFT support.
    public static func peer(context: Context = .shared) throws -> Socket { try Socket(.peer, context: context) }
    /// A DRAFT CHANNEL socket: a thread-safe, single-frame PAIR. Throws ``ZMQError/draftUnavailable`` without libzmq DRAFT support.
    public static func channel(context: Context = .shared) throws -> Socket { try Socket(.channel, context: context) }
}

/// Creates a socket of `type`, runs `body` with it, and closes it when `body` returns or throws.
///
/// The scoped form of a socket, for code that should not outlive it:
/// ```swift
/// let reply = try await withSocket(.req) { req in
///     try await req.connect("tcp://127.0.0.1:5555")
///     try await req.send("ping")
///     return try await req.recv()
/// }
/// ```
public func withSocket<Result>(
    _ type: SocketType,
    context: Context = .shared,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (Socket) async throws -> Result
) async throws -> Result {
    let socket = try Socket(type, context: context)
    do {
        let result = try await body(socket)
        await socket.close()
        return result
    } catch {
        await socket.close()
        throw error
    }
}
