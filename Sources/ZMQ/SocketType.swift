internal import CZMQ

/// The ZeroMQ socket types, one per messaging pattern role.
///
/// The DRAFT types (``isDraft``) exist only when libzmq was built with its DRAFT API; creating one
/// on a libzmq without it throws ``ZMQError/draftUnavailable``. With DRAFT support they work, with
/// the calls some of them need: ``Socket/join(_:)`` (DISH), ``Socket/connectPeer(_:)`` (PEER),
/// ``Socket/send(_:routingID:group:timeout:)`` and ``Message/routingID``, ``Message/group``.
public enum SocketType: CaseIterable, Sendable, CustomStringConvertible {
    /// Exclusive pair: one peer, both directions (`ZMQ_PAIR`).
    case pair
    /// Publisher: sends to every matching subscriber (`ZMQ_PUB`).
    case pub
    /// Subscriber: receives the topics it subscribed to (`ZMQ_SUB`).
    case sub
    /// Request: strict send-then-receive client (`ZMQ_REQ`).
    case req
    /// Reply: strict receive-then-send server (`ZMQ_REP`).
    case rep
    /// Dealer: asynchronous, load-balancing request side (`ZMQ_DEALER`).
    case dealer
    /// Router: asynchronous reply side, addressing peers by routing id (`ZMQ_ROUTER`).
    case router
    /// Pull: pipeline receiver, fair-queued (`ZMQ_PULL`).
    case pull
    /// Push: pipeline sender, load-balanced (`ZMQ_PUSH`).
    case push
    /// Extended publisher: also receives subscriptions as messages (`ZMQ_XPUB`).
    case xpub
    /// Extended subscriber: subscribes by sending subscription messages (`ZMQ_XSUB`).
    case xsub
    /// Raw TCP stream, framed by peer routing id (`ZMQ_STREAM`).
    case stream
    /// DRAFT: thread-safe server of CLIENT sockets (`ZMQ_SERVER`).
    case server
    /// DRAFT: thread-safe client of a SERVER (`ZMQ_CLIENT`).
    case client
    /// DRAFT: group publisher for DISH sockets (`ZMQ_RADIO`).
    case radio
    /// DRAFT: group subscriber of RADIO sockets (`ZMQ_DISH`).
    case dish
    /// DRAFT: fan-in receiver of SCATTER sockets (`ZMQ_GATHER`).
    case gather
    /// DRAFT: fan-out sender to GATHER sockets (`ZMQ_SCATTER`).
    case scatter
    /// DRAFT: UDP datagrams (`ZMQ_DGRAM`).
    case dgram
    /// DRAFT: peer-to-peer, addressed by routing id (`ZMQ_PEER`).
    case peer
    /// DRAFT: thread-safe exclusive pair (`ZMQ_CHANNEL`).
    case channel

    /// Whether this type belongs to libzmq's DRAFT API.
    public var isDraft: Bool {
        switch self {
        case .server, .client, .radio, .dish, .gather, .scatter, .dgram, .peer, .channel: true
        default: false
        }
    }

    /// Whether libzmq makes sockets of this type thread-safe: the DRAFT types other than DGRAM.
    /// Such sockets have no `ZMQ_FD` (libzmq's readiness signal for the other types), so a
    /// ``Socket`` of this type waits on the descriptor of a `zmq_poller` instead.
    var isThreadSafe: Bool {
        isDraft && self != .dgram
    }

    /// Whether the type takes subscriptions (`subscribe`/`unsubscribe`): SUB and XSUB. (A DISH
    /// joins groups instead: ``Socket/join(_:)``.)
    public var acceptsSubscriptions: Bool {
        switch self {
        case .sub, .xsub: true
        default: false
        }
    }

    /// The libzmq name of the type, such as `PUB` or `DEALER`.
    public var description: String {
        switch self {
        case .pair: "PAIR"
        case .pub: "PUB"
        case .sub: "SUB"
        case .req: "REQ"
        case .rep: "REP"
        case .dealer: "DEALER"
        case .router: "ROUTER"
        case .pull: "PULL"
        case .push: "PUSH"
        case .xpub: "XPUB"
        case .xsub: "XSUB"
        case .stream: "STREAM"
        case .server: "SERVER"
        case .client: "CLIENT"
        case .radio: "RADIO"
        case .dish: "DISH"
        case .gather: "GATHER"
        case .scatter: "SCATTER"
        case .dgram: "DGRAM"
        case .peer: "PEER"
        case .channel: "CHANNEL"
        }
    }

    /// The libzmq constant (`ZMQ_PAIR` ... `ZMQ_CHANNEL`).
    var rawValue: Int32 {
        switch self {
        case .pair: ZMQ_PAIR
        case .pub: ZMQ_PUB
        case .sub: ZMQ_SUB
        case .req: ZMQ_REQ
        case .rep: ZMQ_REP
        case .dealer: ZMQ_DEALER
        case .router: ZMQ_ROUTER
        case .pull: ZMQ_PULL
        case .push: ZMQ_PUSH
        case .xpub: ZMQ_XPUB
        case .xsub: ZMQ_XSUB
        case .stream: ZMQ_STREAM
        case .server: ZMQ_SERVER
        case .client: ZMQ_CLIENT
        case .radio: ZMQ_RADIO
        case .dish: ZMQ_DISH
        case .gather: ZMQ_GATHER
        case .scatter: ZMQ_SCATTER
        case .dgram: ZMQ_DGRAM
        case .peer: ZMQ_PEER
        case .channel: ZMQ_CHANNEL
        }
    }

    /// The type for a libzmq constant, as read back from `ZMQ_TYPE`.
    init?(rawValue: Int32) {
        guard let match = SocketType.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = match
    }
}
