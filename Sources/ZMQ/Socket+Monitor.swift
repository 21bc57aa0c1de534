internal import CZMQ
import Synchronization

/// Something that happened to one of a socket's connections or listeners, as libzmq's socket
/// monitor reports it. See ``Socket/monitor(_:)``.
///
/// The corresponding C function is `zmq_socket_monitor`; each event is its two-frame message.
public struct SocketEvent: Sendable, Hashable, CustomStringConvertible {
    /// Which events: one for an event, any number for the filter given to ``Socket/monitor(_:)``.
    ///
    /// The corresponding C constants are the `ZMQ_EVENT_*` values.
    public struct Kind: OptionSet, Sendable, Hashable {
        /// The `ZMQ_EVENT_*` bits.
        public let rawValue: UInt32
        /// Creates a set of kinds from `ZMQ_EVENT_*` bits.
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// A connection to a peer was made (`ZMQ_EVENT_CONNECTED`; the value is its file descriptor).
        public static let connected = Kind(rawValue: UInt32(ZMQ_EVENT_CONNECTED))
        /// A connection is pending (`ZMQ_EVENT_CONNECT_DELAYED`).
        public static let connectDelayed = Kind(rawValue: UInt32(ZMQ_EVENT_CONNECT_DELAYED))
        /// A connection failed and will be retried (`ZMQ_EVENT_CONNECT_RETRIED`; the value is the
        /// retry interval in milliseconds).
        public static let connectRetried = Kind(rawValue: UInt32(ZMQ_EVENT_CONNECT_RETRIED))
        /// A bind succeeded (`ZMQ_EVENT_LISTENING`; the value is the listening file descriptor).
        public static let listening = Kind(rawValue: UInt32(ZMQ_EVENT_LISTENING))
        /// A bind failed (`ZMQ_EVENT_BIND_FAILED`; the value is the `errno`).
        public static let bindFailed = Kind(rawValue: UInt32(ZMQ_EVENT_BIND_FAILED))
        /// A peer's connection was accepted (`ZMQ_EVENT_ACCEPTED`; the value is its file descriptor).
        public static let accepted = Kind(rawValue: UInt32(ZMQ_EVENT_ACCEPTED))
        /// Accepting a connection failed (`ZMQ_EVENT_ACCEPT_FAILED`; the value is the `errno`).
        public static let acceptFailed = Kind(rawValue: UInt32(ZMQ_EVENT_ACCEPT_FAILED))
        /// A connection or listener was closed (`ZMQ_EVENT_CLOSED`).
        public static let closed = Kind(rawValue: UInt32(ZMQ_EVENT_CLOSED))
        /// Closing failed (`ZMQ_EVENT_CLOSE_FAILED`; the value is the `errno`).
        public static let closeFailed = Kind(rawValue: UInt32(ZMQ_EVENT_CLOSE_FAILED))
        /// A connection broke (`ZMQ_EVENT_DISCONNECTED`).
        public static let disconnected = Kind(rawValue: UInt32(ZMQ_EVENT_DISCONNECTED))
        /// The ZMTP handshake with a peer failed without more detail (`ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL`).
        public static let handshakeFailed = Kind(rawValue: UInt32(ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL))
        /// The ZMTP handshake (and security mechanism) with a peer succeeded (`ZMQ_EVENT_HANDSHAKE_SUCCEEDED`).
        public static let handshakeSucceeded = Kind(rawValue: UInt32(ZMQ_EVENT_HANDSHAKE_SUCCEEDED))
        /// The handshake failed on a protocol error (`ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL`; the value is
        /// a `ZMQ_PROTOCOL_ERROR_*` code).
        public static let handshakeFailedProtocol = Kind(rawValue: UInt32(ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL))
        /// Authentication failed (`ZMQ_EVENT_HANDSHAKE_FAILED_AUTH`; the value is the ZAP status code).
        public static let handshakeFailedAuthentication = Kind(rawValue: UInt32(ZMQ_EVENT_HANDSHAKE_FAILED_AUTH))
        /// Every event above (`ZMQ_EVENT_ALL`).
        public static let all = Kind(rawValue: UInt32(ZMQ_EVENT_ALL))
        /// Monitoring ended (`ZMQ_EVENT_MONITOR_STOPPED`): never delivered, it ends the sequence.
        static let monitorStopped = Kind(rawValue: UInt32(ZMQ_EVENT_MONITOR_STOPPED))
    }

    /// What happened.
    public let kind: Kind
    /// The event's number: a file descriptor, an `errno`, an interval or a status code, as
    /// documented for each ``Kind``.
    public let value: Int32
    /// The endpoint it happened on, such as `tcp://127.0.0.1:5555`.
    public let endpoint: String

    /// The event in words, such as `accepted tcp://127.0.0.1:5555 (value 14)`.
    public var description: String {
        let names: [(Kind, String)] = [
            (.connected, "connected"), (.connectDelayed, "connect delayed"), (.connectRetried, "connect retried"),
            (.listening, "listening"), (.bindFailed, "bind failed"), (.accepted, "accepted"),
            (.acceptFailed, "accept failed"), (.closed, "closed"), (.closeFailed, "close failed"),
            (.disconnected, "disconnected"), (.handshakeFailed, "handshake failed"),
            (.handshakeSucceeded, "handshake succeeded"), (.handshakeFailedProtocol, "handshake failed (protocol)"),
            (.handshakeFailedAuthentication, "handshake failed (authentication)"),
        ]
        let name = names.first { $0.0 == kind }?.1 ?? "event 0x\(String(kind.rawValue, radix: 16))"
        return "\(name) \(endpoint) (value \(value))"
    }

    /// Decodes libzmq's two frames: 16-bit event and 32-bit value (little-endian), then the endpoint;
    /// `nil` for frames that are not an event.
    ///
    /// SPI for the fuzz targets (`Fuzz/`, `@_spi(Fuzzing) import ZMQ`); not part of the library's API.
    @_spi(Fuzzing)
    public init?(frames: [[UInt8]]) {
        guard frames.count == 2, frames[0].count == 6 else { return nil }
        let header = frames[0]
        kind = Kind(rawValue: UInt32(header[0]) | UInt32(header[1]) << 8)
        value = Int32(bitPattern: UInt32(header[2]) | UInt32(header[3]) << 8 | UInt32(header[4]) << 16 | UInt32(header[5]) << 24)
        endpoint = String(decoding: frames[1], as: UTF8.self)
    }
}

extension Socket {
    /// Starts reporting the socket's connection events, and returns them as an asynchronous sequence.
    ///
    /// ```swift
    /// let events = try await router.monitor([.accepted, .disconnected])
    /// Task {
    ///     for try await event in events { print(event) }   // "accepted tcp://127.0.0.1:5555 (value 14)"
    /// }
    /// ```
    ///
    /// Only connection-oriented transports (tcp, ipc) have events. Events that happen before this
    /// call are not reported, so start monitoring before `bind` or `connect` to see them all. The
    /// sequence ends when the socket is closed, when ``SocketMonitor/stop()`` is called, or when
    /// `monitor` is called again on this socket (libzmq keeps one monitor per socket).
    ///
    /// The events travel over an `inproc://` PAIR socket in the socket's context, as libzmq's monitor
    /// works; iterating it costs nothing while no event comes.
    /// The corresponding C function is `zmq_socket_monitor`.
    /// - Parameter events: Which events to report; by default all.
    /// - Throws: ``ZMQError/socketClosed``, ``ZMQError/inUseByProxy``, or the libzmq error.
    public func monitor(_ events: SocketEvent.Kind = .all) async throws -> SocketMonitor {
        let endpoint = "inproc://swift-zmq.monitor.\(token).\(SocketMonitor.nextNumber.wrappingAdd(1, ordering: .relaxed).oldValue)"
        // libzmq sends events with blocking sends from its own threads (and from whichever thread
        // closes or stops monitoring the socket), so the receiving end must be connected before
        // libzmq binds the endpoint (inproc allows connecting first), must never be full (no receive
        // high-water mark), and must stay open until monitoring has stopped.
        let receiver = try Socket(.pair, context: context)
        do {
            try await receiver.set(.receiveHighWaterMark, 0).connect(endpoint)
            // MONITOR_STOPPED is what ends the sequence, so it is always asked for (libzmq sends it
            // only when it is in the mask).
            let mask = Int32(bitPattern: events.union(.monitorStopped).rawValue)
            try withHandle("monitor") { handle in try LibZMQ.monitor(handle, endpoint: endpoint, events: mask) }
        } catch {
            await receiver.close()
            throw error
        }
        // A monitor this one replaced was stopped by libzmq (its sequence ends); its receiving end
        // is released after the lock.
        let replaced = exclusive.withLock { state -> MonitorLink? in
            defer { state.monitor = MonitorLink(endpoint: endpoint, receiver: receiver) }
            return state.monitor
        }
        _ = replaced
        return SocketMonitor(socket: self, endpoint: endpoint, receiver: receiver)
    }

    /// Ends libzmq's monitoring of this socket if the monitor at `endpoint` is still the current one
    /// (a later ``monitor(_:)`` replaced it otherwise). libzmq sends the monitor its last event from
    /// this thread, while the receiving end is still open. Returns `false` when the socket is lent to
    /// a proxy: monitoring then stops when the proxy gives the socket back.
    @discardableResult
    nonisolated func stopMonitoring(_ endpoint: String) -> Bool {
        var wake = Wake()
        var receiver: Socket?
        defer {
            deliver(wake)
            _ = receiver  // released (and closed) after the lock
        }
        return exclusive.withLock { state in
            guard state.monitor?.endpoint == endpoint else { return true }
            receiver = Self.stopMonitoringLocked(&state)
            noteCallLocked(state.watched, &wake)
            if state.hasWaiters { wake.merge(scheduleLocked(&state)) }
            return state.monitor == nil
        }
    }

    /// Stops libzmq's monitoring, if any, while the lock is held: before the socket is closed, so
    /// that libzmq never sends an event to a monitor whose receiving end is gone (its send would block
    /// a libzmq thread for ever). While a proxy owns the socket, only its thread may call libzmq: the
    /// stop is then left to ``giveBack(_:)``, which passes the lent `handle` (the socket may have
    /// been closed meanwhile). Returns the monitor's receiving socket, which the caller releases after
    /// the lock (its last reference may be this one).
    static func stopMonitoringLocked(_ state: inout SocketState, handle lent: LibZMQ.Handle? = nil) -> Socket? {
        guard let monitor = state.monitor else { return nil }
        guard let handle = lent ?? state.handle, !state.lentToProxy else {
            state.monitor?.stopRequested = true
            return nil
        }
        state.monitor = nil
        try? LibZMQ.monitor(handle, endpoint: nil, events: 0)
        return monitor.receiver
    }
}

/// The socket's side of a running monitor: the socket keeps the monitor's receiving end open until
/// monitoring has stopped, whatever happens to the ``SocketMonitor``.
struct MonitorLink {
    let endpoint: String
    let receiver: Socket
    /// Stopping was asked for while a proxy owned the socket.
    var stopRequested = false
}

/// The events of a monitored socket, as an asynchronous sequence; see ``Socket/monitor(_:)``.
public final class SocketMonitor: AsyncSequence, Sendable {
    /// Each element is one event.
    public typealias Element = SocketEvent
    /// The failure type of iteration.
    public typealias Failure = any Error

    static let nextNumber = Atomic<UInt64>(0)

    private let socket: Socket
    private let endpoint: String
    private let receiver: Socket

    /// The PAIR socket the events arrive on; for tests.
    var receiverForTests: Socket { receiver }

    init(socket: Socket, endpoint: String, receiver: Socket) {
        self.socket = socket
        self.endpoint = endpoint
        self.receiver = receiver
    }

    /// Stops monitoring when the last reference (including every iterator's) goes away. The
    /// receiving socket stays open for as long as libzmq may still send to it.
    deinit {
        socket.stopMonitoring(endpoint)
    }

    /// Stops monitoring: libzmq stops reporting, and iteration ends. Calling it again does nothing.
    ///
    /// The corresponding C function is `zmq_socket_monitor` with no endpoint.
    public func stop() async {
        // While a proxy owns the socket, the sequence ends once the proxy has given it back.
        if socket.stopMonitoring(endpoint) { await receiver.close() }
    }

    /// Creates an iterator over the events; it keeps the monitor alive while it is used.
    public func makeAsyncIterator() -> Iterator { Iterator(monitor: self) }

    /// Receives the monitor's events one at a time.
    public struct Iterator: AsyncIteratorProtocol {
        let monitor: SocketMonitor
        var receiver: Socket { monitor.receiver }

        /// The next event, or `nil` once monitoring has stopped.
        /// - Throws: `CancellationError` if the task is cancelled while waiting.
        public mutating func next() async throws -> SocketEvent? {
            while true {
                let frames: [[UInt8]]
                do {
                    frames = try await receiver.recvMultipart()
                } catch ZMQError.socketClosed {
                    return nil
                } catch ZMQError.contextTerminated {
                    return nil
                }
                guard let event = SocketEvent(frames: frames) else { continue }
                if event.kind == .monitorStopped {
                    await receiver.close()
                    return nil
                }
                return event
            }
        }
    }
}
