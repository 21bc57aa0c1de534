internal import CZMQ
#if canImport(Glibc)
import Glibc
#endif

/// libzmq's DRAFT functions, looked up at run time: Debian's libzmq neither declares nor exports
/// them, so calling them directly would not link. Each is `nil` when the loaded libzmq lacks it;
/// callers reach them only for DRAFT socket types, which exist only when `zmq_has("draft")` is true.
enum DraftAPI {
    private typealias PollerNew = @convention(c) () -> UnsafeMutableRawPointer?
    private typealias PollerDestroy = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32
    private typealias PollerAdd = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, Int16) -> Int32
    private typealias PollerFD = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<Int32>?) -> Int32
    private typealias SocketText = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?) -> Int32
    private typealias ConnectPeer = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?) -> UInt32
    private typealias SetRoutingID = @convention(c) (UnsafeMutablePointer<zmq_msg_t>?, UInt32) -> Int32
    private typealias RoutingID = @convention(c) (UnsafeMutablePointer<zmq_msg_t>?) -> UInt32
    private typealias SetGroup = @convention(c) (UnsafeMutablePointer<zmq_msg_t>?, UnsafePointer<CChar>?) -> Int32
    private typealias Group = @convention(c) (UnsafeMutablePointer<zmq_msg_t>?) -> UnsafePointer<CChar>?

    private static func load<F>(_ name: String, as type: F.Type) -> F? {
        // A nil handle is RTLD_DEFAULT: search every loaded library.
        guard let symbol = dlsym(nil, name) else { return nil }
        return unsafeBitCast(symbol, to: type)
    }

    private static let pollerNew = load("zmq_poller_new", as: PollerNew.self)
    private static let pollerDestroy = load("zmq_poller_destroy", as: PollerDestroy.self)
    private static let pollerAdd = load("zmq_poller_add", as: PollerAdd.self)
    private static let pollerFD = load("zmq_poller_fd", as: PollerFD.self)
    private static let join = load("zmq_join", as: SocketText.self)
    private static let leave = load("zmq_leave", as: SocketText.self)
    private static let connectPeer = load("zmq_connect_peer", as: ConnectPeer.self)
    private static let setRoutingID = load("zmq_msg_set_routing_id", as: SetRoutingID.self)
    private static let routingID = load("zmq_msg_routing_id", as: RoutingID.self)
    private static let setGroup = load("zmq_msg_set_group", as: SetGroup.self)
    private static let group = load("zmq_msg_group", as: Group.self)

    private static func missing(_ name: String) -> ZMQError {
        ZMQError.draftUnavailable.with("\(name) is not in the loaded libzmq")
    }

    // MARK: Readiness of thread-safe sockets

    /// A readiness signal for a thread-safe socket, which has no `ZMQ_FD`: a `zmq_poller` holding
    /// only this socket, and the poller's file descriptor, which libzmq signals whenever a command
    /// reaches the socket (as it does `ZMQ_FD` for the other types). Nothing but
    /// ``drain(_:)`` ever reads that descriptor (the poller is never waited on), so it is made
    /// non-blocking here and drained before each `ZMQ_EVENTS` reading.
    static func readinessSignal(for socket: LibZMQ.Handle) throws(ZMQError) -> (fd: Int32, poller: UnsafeMutableRawPointer) {
        guard let pollerNew, let pollerAdd, let pollerFD, pollerDestroy != nil else { throw missing("zmq_poller_fd") }
        guard let poller = pollerNew() else { throw ZMQError.last("zmq_poller_new") }
        var fd: Int32 = -1
        do {
            _ = try LibZMQ.check("zmq_poller_add") { pollerAdd(poller, socket, nil, Int16(ZMQ_POLLIN | ZMQ_POLLOUT)) }
            _ = try LibZMQ.check("zmq_poller_fd") { pollerFD(poller, &fd) }
        } catch {
            destroy(poller)
            throw error
        }
        do {
            try System.setNonBlocking(fd)
        } catch {
            destroy(poller)
            throw error.zmqError
        }
        return (fd, poller)
    }

    /// Empties a readiness signal from ``readinessSignal(for:)`` (an eventfd), so that epoll reports
    /// only signals that come after it.
    static func drain(_ fd: Int32) {
        System.drainEventFD(fd)
    }

    /// Destroys a poller from ``readinessSignal(for:)``; before its socket is closed.
    static func destroy(_ poller: UnsafeMutableRawPointer) {
        var pointer: UnsafeMutableRawPointer? = poller
        _ = pollerDestroy?(&pointer)
    }

    // MARK: Groups, routing ids, peers

    /// `zmq_join` (`true`) or `zmq_leave` (`false`) for a DISH socket.
    static func changeGroup(_ handle: LibZMQ.Handle, _ group: String, join: Bool) throws(ZMQError) {
        let name = join ? "zmq_join" : "zmq_leave"
        guard let function = join ? Self.join : Self.leave else { throw missing(name) }
        _ = try LibZMQ.check { function(handle, group) }
    }

    /// `zmq_connect_peer`: connects a PEER socket and returns the new peer's routing id.
    static func connectPeer(_ handle: LibZMQ.Handle, _ endpoint: String) throws(ZMQError) -> UInt32 {
        guard let connectPeer else { throw missing("zmq_connect_peer") }
        let id = connectPeer(handle, endpoint)
        if id == 0 { throw ZMQError.last("connectPeer \(endpoint)") }
        return id
    }

    /// Sets a frame's routing id (SERVER replies, PEER messages) and group (RADIO messages).
    static func address(_ frame: UnsafeMutablePointer<zmq_msg_t>, routingID: UInt32?, group: String?) throws(ZMQError) {
        if let routingID {
            guard let setRoutingID else { throw missing("zmq_msg_set_routing_id") }
            do {
                _ = try LibZMQ.check { setRoutingID(frame, routingID) }
            } catch {
                throw error.with("routing id \(routingID)")
            }
        }
        if let group {
            guard let setGroup else { throw missing("zmq_msg_set_group") }
            do {
                _ = try LibZMQ.check { setGroup(frame, group) }
            } catch {
                throw error.with("group \(group)")
            }
        }
    }

    /// A received frame's routing id, or `nil` when it has none (or libzmq has no DRAFT API).
    static func routingID(of frame: UnsafeMutablePointer<zmq_msg_t>) -> UInt32? {
        guard let routingID else { return nil }
        let id = routingID(frame)
        return id == 0 ? nil : id
    }

    /// A received frame's group, or `nil` when it has none (or libzmq has no DRAFT API).
    static func group(of frame: UnsafeMutablePointer<zmq_msg_t>) -> String? {
        guard let group, let text = group(frame), text.pointee != 0 else { return nil }
        return String(cString: text)
    }
}
