/// What using one libzmq socket needs, under the socket's lock (`Socket.exclusive`).
///
/// A send or receive that can complete at once takes the lock on the caller's own executor and never
/// hops anywhere; a call that has to wait takes the same lock for each libzmq call it makes. The lock is
/// held only for non-blocking libzmq calls, never across a suspension.
struct SocketState {
    /// The libzmq socket; `nil` once closed. Every libzmq call on it is made with the lock held.
    var handle: LibZMQ.Handle?
    /// Set while a proxy owns the libzmq socket; every use is then refused.
    var lentToProxy = false
    /// How many calls are in the slow (suspending) path, per direction. While any is, a new call in
    /// that direction joins the line instead of trying at once, which keeps callers in order.
    var slow = PerDirection(repeating: 0)
    /// Whether the reactor's epoll set holds the socket's descriptor.
    var inReactor = false
    /// `ZMQ_RCVTIMEO` and `ZMQ_SNDTIMEO` as last set through ``Socket/set(_:_:)-(SocketOption<Value>,_)``;
    /// `nil` waits forever. libzmq never applies them itself, because every call here is non-blocking.
    var timeout = PerDirection<Duration?>(repeating: nil)
    /// Whether a call that would block retries for a moment before it suspends (see ``SpinPolicy``).
    var spin = PerDirection(repeating: SpinPolicy())
    /// The current ``Socket/monitor(_:)``, if any (see `Socket+Monitor.swift`).
    var monitor: MonitorLink?
    /// The direction of the last call that completed. A send after a receive is a socket taking
    /// turns (a reply after its request): the one kind of send whose wait is worth a spin.
    var lastCompleted: Direction?
    /// Whether a ``Poller`` holds the socket: libzmq calls are then reported to it.
    var watched = false
    /// The id of the next waiter; ids only need to be unique per socket.
    var nextWaiterID: UInt64 = 0
    /// ``Socket/calls`` right after a receive found nothing queued, or `.max`. Such a receive
    /// (`zmq_msg_recv` with `ZMQ_DONTWAIT` failing with EAGAIN) has processed the socket's pending
    /// commands, exactly as reading `ZMQ_EVENTS` does, and found no message: until another libzmq call
    /// is made on the socket, the events need not be read again before a receiver parks.
    var receiveFoundNothing: UInt64 = .max

    /// Whether a receiver waits for the socket's `ZMQ_FD` on the reactor thread itself, inside its
    /// task's job (`Reactor.waitHere(for:)`), instead of being parked in the line. Whoever makes a
    /// libzmq call on the socket meanwhile (it may consume the signal that receiver waits for), or
    /// closes the socket, or lends it to a proxy, or starts watching it with a poller, ends that wait
    /// with ``endWaitHere()``; the receiver then parks the usual way.
    var waitingHere = false
    /// How many such waits there have been; for tests and diagnostics.
    var waitsHere = 0

    /// Ends a wait of ``waitingHere``, if there is one.
    mutating func endWaitHere() {
        guard waitingHere else { return }
        waitingHere = false
        Reactor.shared.interrupt()
    }

    /// Whether any call is in the slow path, in either direction: every libzmq call may then have
    /// consumed the `ZMQ_FD` edge a waiter counts on, and the waiters must be looked at again.
    var hasWaiters: Bool { slow.receive + slow.send > 0 }

    /// How long a call in `direction` that would block may spin first, or 0: never while anyone waits
    /// (each try is a libzmq call that may consume the edge a waiter counts on), a send only when the
    /// socket takes turns, and only as the policy allows. A socket that takes turns (its last completed
    /// call was in the other direction) may spin longer (``SpinPolicy/turnBudget``). `timeout` is the
    /// call's own, if any.
    mutating func spinBudget(_ direction: Direction, timeout: Duration?) -> UInt64 {
        guard !hasWaiters, let last = lastCompleted, direction == .receive || last == .receive else { return 0 }
        let budget = last != direction ? SpinPolicy.turnBudget : SpinPolicy.budget
        let bound = (timeout ?? self.timeout[direction]).map(MonotonicClock.nanoseconds(of:))
        return spin[direction].shouldSpin(timeout: bound, budget: budget) ? budget : 0
    }
}
