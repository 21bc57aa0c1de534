internal import CZMQ
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How a proxy loop ended.
enum ProxyOutcome: Sendable {
    /// ``ProxyControl/terminate()`` was called: the proxy returns normally.
    case terminated
    /// The awaiting task was cancelled: the proxy throws `CancellationError`.
    case cancelled
    /// A socket or the context failed, or a socket was closed: the proxy throws this error.
    case failed(ZMQError)
}

/// The line from the async world into one running proxy loop: a PAIR socket pair over `inproc://`
/// whose receiving end sits in the loop's `zmq_poll` set, so that a command wakes the loop at once
/// and the loop never has to poll with a timeout to notice one.
///
/// Commands are state, not messages: a caller records what it wants (here the stop request, in
/// ``ProxyControl`` pause, terminate and statistics requests) and then sends a one-byte wake-up.
/// The loop drains the wake-ups and then reads the state, so a command is never lost, and a full
/// wake-up pipe (libzmq says EAGAIN) only means a wake-up is already pending.
final class ProxyLink: Sendable {
    enum Stop: Sendable {
        case cancelled
        case failed(ZMQError)
    }

    private struct State {
        /// The sending end; `nil` once the loop has ended. A libzmq socket is not thread-safe and
        /// wake-ups come from any task, so it is only ever used under the lock.
        var sender: SendablePointer?
        var stop: Stop?
    }

    private let state: Locked<State>
    /// The receiving end, used only by the loop's thread.
    let receiver: SendablePointer

    private static let nextID = Atomic<UInt64>(0)

    /// Creates the socket pair in `context` (the frontend's), so that shutting that context down
    /// also ends the loop's `zmq_poll` with ETERM.
    init(context: Context) throws(ZMQError) {
        let id = Self.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let endpoint = "inproc://swift-zmq.proxy-control.\(id)"
        let receiver = try LibZMQ.socket(context, .pair)
        let sender: LibZMQ.Handle
        do {
            sender = try LibZMQ.socket(context, .pair)
        } catch {
            LibZMQ.close(receiver)
            throw error
        }
        do {
            try LibZMQ.setOption(receiver, ZMQ_LINGER, Int32(0), "ZMQ_LINGER")
            try LibZMQ.setOption(sender, ZMQ_LINGER, Int32(0), "ZMQ_LINGER")
            try LibZMQ.bind(receiver, endpoint)
            try LibZMQ.connect(sender, endpoint)
        } catch {
            LibZMQ.close(sender)
            LibZMQ.close(receiver)
            throw error
        }
        self.receiver = SendablePointer(receiver)
        self.state = Locked(State(sender: SendablePointer(sender)))
    }

    /// Wakes the loop so it re-reads the shared state. Never blocks; does nothing once the loop ended.
    func wake() {
        state.withLock { state in
            guard let sender = state.sender else { return }
            // EAGAIN: unread wake-ups fill the pipe, so one is pending anyway. An error (the context
            // was shut down) reaches the loop through its own zmq_poll.
            _ = try? LibZMQ.sendByte(sender.pointer, 0)
        }
    }

    /// Asks the loop to stop; the first request wins.
    func requestStop(_ stop: Stop) {
        state.withLock { state in
            if state.stop == nil { state.stop = stop }
            guard let sender = state.sender else { return }
            _ = try? LibZMQ.sendByte(sender.pointer, 0)
        }
    }

    var stopRequest: Stop? {
        state.withLock { $0.stop }
    }

    /// Closes both ends; later wake-ups do nothing. Called once, when the loop has ended (or never started).
    func shutDown() {
        let sender = state.withLock { state -> SendablePointer? in
            defer { state.sender = nil }
            return state.sender
        }
        if let sender { LibZMQ.close(sender.pointer) }
        LibZMQ.close(receiver.pointer)
    }
}

/// Starts the threads proxy loops run on. A loop blocks its thread in `zmq_poll` for as long as the
/// proxy runs, so it never runs on Swift's cooperative pool (which it would starve): each proxy gets
/// a Dispatch serial queue of its own. Such a queue targets Dispatch's overcommitting root queue,
/// which starts another thread rather than wait when its threads are blocked, so a running proxy
/// holds exactly one Dispatch thread and takes none from anything else.
enum ProxyThread {
    static func start(_ run: @escaping @Sendable () -> Void) {
        DispatchQueue(label: "swift-zmq.proxy", qos: .userInitiated).async(execute: run)
    }
}

/// The forwarding loop of one proxy, run on its own thread, which owns the lent libzmq sockets
/// until it returns.
///
/// It waits in `zmq_poll` on the sockets and the wake-up socket, and then moves whole messages in
/// bursts with `ZMQ_DONTWAIT` until the source runs dry, so a busy proxy pays for one poll per burst,
/// not per message. Frames move by `zmq_msg_recv`/`zmq_msg_send` on one reused `zmq_msg_t`: libzmq
/// hands the frame over without copying it.
///
/// Back-pressure, as libzmq's own proxy does it: a side is read only once the other side (and the
/// capture socket) reports `ZMQ_POLLOUT`, so a stalled consumer leaves messages queued in libzmq
/// rather than in the proxy. Sends never block (a blocked send would keep the loop from hearing a
/// cancellation): when one would, the frame in hand is kept as the *flight* and the loop waits for
/// exactly the readiness it needs, touching nothing else until that message is through, so frames of
/// different messages never interleave on any socket.
struct ProxyLoop: ~Copyable {
    /// Which way a message travels.
    private enum Route {
        case frontendToBackend
        case backendToFrontend
    }

    /// The step a message in flight is waiting to take.
    private enum Stage {
        /// Receive its next frame from the source.
        case receive
        /// Send the copy of the frame in hand to the capture socket.
        case capture
        /// Send the frame in hand to the destination.
        case send
    }

    /// A message that is part-way through the proxy.
    private struct Flight {
        var route: Route
        var stage: Stage
        var more: Bool
        var size: Int
    }

    /// The socket a route waits to become writable before its source is read.
    private enum Blocker {
        case destination
        case capture
    }

    /// Poll-set slots.
    private static let frontendSlot = 0
    private static let backendSlot = 1
    private static let controlSlot = 2
    private static let captureSlot = 3

    /// Messages moved per route before the loop looks at its wake-up socket again.
    private static let burst = 1000

    private let frontend: LibZMQ.Handle
    private let backend: LibZMQ.Handle
    private let capture: LibZMQ.Handle?
    private let link: ProxyLink
    private let control: ProxyControl?
    private let items: UnsafeMutablePointer<zmq_pollitem_t>
    private let itemCount: Int32
    /// The frame being forwarded; heap-allocated so that it never moves while libzmq uses it.
    private let message: UnsafeMutablePointer<zmq_msg_t>
    /// The capture socket's copy of `message`.
    private let copy: UnsafeMutablePointer<zmq_msg_t>

    /// Plain counters: only this thread writes them; requests are answered with a snapshot.
    private var statistics = ProxyStatistics()
    private var flight: Flight?
    private var paused = false
    private var frontendToBackendBlocker: Blocker?
    private var backendToFrontendBlocker: Blocker?

    init(frontend: SendablePointer, backend: SendablePointer, capture: SendablePointer?,
         link: ProxyLink, control: ProxyControl?) {
        self.frontend = frontend.pointer
        self.backend = backend.pointer
        self.capture = capture?.pointer
        self.link = link
        self.control = control
        itemCount = capture == nil ? 3 : 4
        items = .allocate(capacity: 4)
        items[Self.frontendSlot] = zmq_pollitem_t(socket: frontend.pointer, fd: 0, events: 0, revents: 0)
        items[Self.backendSlot] = zmq_pollitem_t(socket: backend.pointer, fd: 0, events: 0, revents: 0)
        items[Self.controlSlot] = zmq_pollitem_t(socket: link.receiver.pointer, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        items[Self.captureSlot] = zmq_pollitem_t(socket: capture?.pointer, fd: 0, events: 0, revents: 0)
        message = .allocate(capacity: 1)
        zmq_msg_init(message)
        copy = .allocate(capacity: 1)
        zmq_msg_init(copy)
    }

    deinit {
        zmq_msg_close(message)
        zmq_msg_close(copy)
        message.deallocate()
        copy.deallocate()
        items.deallocate()
    }

    /// Forwards until told to stop or until something fails; then closes the wake-up sockets and
    /// publishes the final statistics, so that both are done before the proxy's caller resumes.
    /// A message still in flight at that point (its destination was full) is dropped.
    consuming func run() -> ProxyOutcome {
        let outcome: ProxyOutcome
        do {
            outcome = try forward()
        } catch {
            outcome = .failed(error)
        }
        control?.detach(link, statistics: statistics)
        link.shutDown()
        return outcome
    }

    private mutating func forward() throws(ZMQError) -> ProxyOutcome {
        if let outcome = try takeCommands() { return outcome }
        while true {
            arm()
            _ = try LibZMQ.poll(items, count: itemCount, timeout: -1)
            if revents(Self.controlSlot) & Int16(ZMQ_POLLIN) != 0, let outcome = try takeCommands() {
                return outcome
            }
            try advance()
        }
    }

    /// Sets what `zmq_poll` waits for: the one readiness a message in flight needs; or, per route,
    /// input on its source, or writability of whatever blocks it; nothing while paused.
    private mutating func arm() {
        var frontendEvents: Int16 = 0
        var backendEvents: Int16 = 0
        var captureEvents: Int16 = 0
        let pollIn = Int16(ZMQ_POLLIN)
        let pollOut = Int16(ZMQ_POLLOUT)
        if let flight {
            let towardsBackend = flight.route == .frontendToBackend
            switch flight.stage {
            case .receive: if towardsBackend { frontendEvents = pollIn } else { backendEvents = pollIn }
            case .capture: captureEvents = pollOut
            case .send: if towardsBackend { backendEvents = pollOut } else { frontendEvents = pollOut }
            }
        } else if !paused {
            switch frontendToBackendBlocker {
            case nil: frontendEvents |= pollIn
            case .destination: backendEvents |= pollOut
            case .capture: captureEvents |= pollOut
            }
            switch backendToFrontendBlocker {
            case nil: backendEvents |= pollIn
            case .destination: frontendEvents |= pollOut
            case .capture: captureEvents |= pollOut
            }
        }
        items[Self.frontendSlot].events = frontendEvents
        items[Self.backendSlot].events = backendEvents
        items[Self.captureSlot].events = captureEvents
    }

    @inline(__always)
    private func revents(_ slot: Int) -> Int16 {
        items[slot].revents
    }

    /// Acts on what the last poll reported.
    private mutating func advance() throws(ZMQError) {
        if let flight {
            let slot: Int
            let wanted: Int16
            switch flight.stage {
            case .receive: (slot, wanted) = (sourceSlot(flight.route), Int16(ZMQ_POLLIN))
            case .capture: (slot, wanted) = (Self.captureSlot, Int16(ZMQ_POLLOUT))
            case .send: (slot, wanted) = (destinationSlot(flight.route), Int16(ZMQ_POLLOUT))
            }
            guard revents(slot) & wanted != 0 else { return }
            try pump(flight.route)
            if self.flight != nil { return }
        }
        if paused { return }
        try serve(.frontendToBackend)
        // The message buffer and the capture socket are busy until the flight lands.
        if flight != nil { return }
        try serve(.backendToFrontend)
    }

    /// Forwards a burst on `route` if its source has input and its destination (and the capture
    /// socket) can take it; otherwise records what blocks it, so the next poll waits for that.
    private mutating func serve(_ route: Route) throws(ZMQError) {
        let pollOut = Int16(ZMQ_POLLOUT)
        switch blocker(route) {
        case nil:
            guard revents(sourceSlot(route)) & Int16(ZMQ_POLLIN) != 0 else { return }
        case .destination:
            guard revents(destinationSlot(route)) & pollOut != 0 else { return }
        case .capture:
            guard revents(Self.captureSlot) & pollOut != 0 else { return }
        }
        let destination = route == .frontendToBackend ? backend : frontend
        if revents(destinationSlot(route)) & pollOut == 0,
           try LibZMQ.events(destination) & Int32(ZMQ_POLLOUT) == 0 {
            setBlocker(.destination, route)
            return
        }
        if let capture, revents(Self.captureSlot) & pollOut == 0,
           try LibZMQ.events(capture) & Int32(ZMQ_POLLOUT) == 0 {
            setBlocker(.capture, route)
            return
        }
        setBlocker(nil, route)
        try pump(route)
    }

    /// Moves whole messages along `route`, starting with the flight if it is on this route, until
    /// the source is empty or a burst has gone. When a send would block, or (never seen: libzmq
    /// delivers messages whole) the next frame of a message is not there yet, the frame in hand
    /// becomes the flight.
    private mutating func pump(_ route: Route) throws(ZMQError) {
        let source = route == .frontendToBackend ? frontend : backend
        let destination = route == .frontendToBackend ? backend : frontend
        var stage = Stage.receive
        var more = false
        var size = 0
        var inMessage = false
        if let flight, flight.route == route {
            (stage, more, size, inMessage) = (flight.stage, flight.more, flight.size, true)
            self.flight = nil
        }
        var moved = 0
        while true {
            switch stage {
            case .receive:
                if !inMessage && moved == Self.burst { return }
                guard try LibZMQ.receive(source, into: message) else {
                    if inMessage { flight = Flight(route: route, stage: .receive, more: more, size: size) }
                    return
                }
                inMessage = true
                size = zmq_msg_size(message)
                more = LibZMQ.more(message)
                count(route, received: true, size: size, last: !more)
                if capture != nil {
                    try LibZMQ.share(message, into: copy)
                    stage = .capture
                } else {
                    stage = .send
                }
            case .capture:
                guard try LibZMQ.send(capture!, frame: copy, more: more) else {
                    flight = Flight(route: route, stage: .capture, more: more, size: size)
                    return
                }
                stage = .send
            case .send:
                guard try LibZMQ.send(destination, frame: message, more: more) else {
                    flight = Flight(route: route, stage: .send, more: more, size: size)
                    return
                }
                count(route, received: false, size: size, last: !more)
                stage = .receive
                if !more {
                    inMessage = false
                    moved += 1
                }
            }
        }
    }

    /// Counts a frame received from the route's source, or sent to its destination.
    @inline(__always)
    private mutating func count(_ route: Route, received: Bool, size: Int, last: Bool) {
        switch (route, received) {
        case (.frontendToBackend, true): statistics.frontend.received.add(size, last: last)
        case (.frontendToBackend, false): statistics.backend.sent.add(size, last: last)
        case (.backendToFrontend, true): statistics.backend.received.add(size, last: last)
        case (.backendToFrontend, false): statistics.frontend.sent.add(size, last: last)
        }
    }

    private func blocker(_ route: Route) -> Blocker? {
        route == .frontendToBackend ? frontendToBackendBlocker : backendToFrontendBlocker
    }

    private mutating func setBlocker(_ blocker: Blocker?, _ route: Route) {
        if route == .frontendToBackend { frontendToBackendBlocker = blocker } else { backendToFrontendBlocker = blocker }
    }

    private func sourceSlot(_ route: Route) -> Int {
        route == .frontendToBackend ? Self.frontendSlot : Self.backendSlot
    }

    private func destinationSlot(_ route: Route) -> Int {
        route == .frontendToBackend ? Self.backendSlot : Self.frontendSlot
    }

    /// Drains the wake-ups, then reads what was asked: a stop, a terminate, pause or resume, and
    /// statistics (answered here, from this thread's counters). Draining first means a wake-up that
    /// arrives after the state was read stays in the pipe and brings the loop back.
    private mutating func takeCommands() throws(ZMQError) -> ProxyOutcome? {
        while try LibZMQ.discard(link.receiver.pointer) {}
        switch link.stopRequest {
        case .cancelled: return .cancelled
        case .failed(let error): return .failed(error)
        case nil: break
        }
        guard let control else { return nil }
        let commands = control.loopPass(statistics)
        paused = commands.paused
        return commands.terminated ? .terminated : nil
    }
}

extension ProxyStatistics.Traffic {
    @inline(__always)
    mutating func add(_ size: Int, last: Bool) {
        frames &+= 1
        bytes &+= UInt64(truncatingIfNeeded: size)
        if last { messages &+= 1 }
    }
}
