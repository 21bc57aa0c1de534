internal import CZMQ
import Synchronization

/// What a ``Poller`` shares between its copies: an epoll set holding the `ZMQ_FD` of every socket it
/// polls, what it last read of each socket, and the line of tasks waiting in ``Poller/poll(timeout:)``.
///
/// A poll must not read `ZMQ_EVENTS` of every socket each time (that is what `zmq_poll` does, and
/// what made a poll of a thousand sockets cost a thousand libzmq calls): a socket whose events said
/// "not ready" can only become ready after something reaches its mailbox, which signals its `ZMQ_FD`
/// (seen in this epoll set, which is level-triggered), or after a libzmq call on it (counted by
/// ``Socket/calls``, and reported to the parked polls by ``socketChanged()``). So a poll reads the
/// events only of the sockets that signalled, changed, or were ready last time; an idle socket costs
/// it one atomic load.
final class PollerCore: Sendable {
    struct Member {
        let socket: Socket
        /// ``Socket/calls`` when the events were last read, and what was ready then.
        var calls: UInt64 = .max
        var ready: Poller.Events = []
        /// Whether the epoll set holds the socket's descriptor; if epoll refused it, the socket's
        /// events are read on every poll, and a waiting poll looks again every millisecond.
        var signals: Bool
    }

    /// How long a poll holding a socket that epoll refused waits before it looks again.
    static let recheckInterval: UInt64 = 1_000_000

    private let poll: System.Poll
    /// The members, in the poller's order (parallel to ``Poller/items``).
    private let members = Locked<[Member]>([])
    /// The tasks parked in a poll, all woken by any change; registered with the reactor as one
    /// descriptor, the epoll set's.
    let waiters = WaitQueue()
    private let token: UInt64
    private let inReactor = Locked(false)
    /// Bumped by ``socketChanged()``, so that a poll that is about to park sees a change it raced with.
    private let changes = Atomic<UInt64>(0)
    private let nextWaiterID = Atomic<UInt64>(0)

    init() {
        do {
            poll = try System.Poll()
        } catch {
            fatalError("ZMQ cannot create a poller's epoll set: \(error)")
        }
        token = Reactor.shared.register(waiters, wakesAll: true)
    }

    deinit {
        for member in members.withLock({ $0 }) { member.socket.unwatch(self) }
        Reactor.shared.unregister(fd: poll.descriptor, token: token, added: inReactor.withLock { $0 })
        System.close(poll.descriptor)
    }

    /// A new core with the same members, for a copy of the poller that is changed.
    func copy() -> PollerCore {
        let copy = PollerCore()
        for member in members.withLock({ $0 }) { copy.append(member.socket) }
        return copy
    }

    func append(_ socket: Socket) {
        var added = false
        // A socket that epoll refuses (at the system's limit of watched descriptors) is still polled.
        try? poll.watch(socket.fd, token: socket.token, .level, added: &added)
        members.withLock { $0.append(Member(socket: socket, signals: added)) }
        socket.watch(self)
    }

    func remove(at index: Int) {
        let member = members.withLock { $0.remove(at: index) }
        poll.unwatch(member.socket.fd)
        member.socket.unwatch(self)
    }

    /// A polled socket made a libzmq call: wake the parked polls to look again.
    func socketChanged() {
        changes.wrappingAdd(1, ordering: .releasing)
        waiters.wakeAll()
    }

    /// The items that are ready now, in order, reading the events only of the sockets that may have
    /// become ready since the last look.
    /// `unsignalled` says whether a member's descriptor is not in the epoll set (see `Member.signals`).
    func ready(_ items: [Poller.Item]) throws -> (ready: [Poller.Item], changes: UInt64, unsignalled: Bool) {
        let changes = self.changes.load(ordering: .acquiring)
        var signalled: Set<UInt64> = []
        withUnsafeTemporaryAllocation(of: epoll_event.self, capacity: 64) { events in
            let count = poll.poll(into: events)
            for index in 0..<count { signalled.insert(events[index].data.u64) }
        }
        return try members.withLock { members in
            var ready: [Poller.Item] = []
            var unsignalled = false
            for index in members.indices {
                let socket = members[index].socket
                let calls = socket.calls.load(ordering: .acquiring)
                unsignalled = unsignalled || !members[index].signals
                guard signalled.contains(socket.token) || calls != members[index].calls || !members[index].ready.isEmpty
                        || !members[index].signals else { continue }
                let (events, after): (Poller.Events, UInt64)
                do {
                    (events, after) = try socket.readiness(items[index].events, for: self)
                } catch {
                    throw ZMQError.adding(socket.type, "poll", to: error)
                }
                members[index].calls = after
                members[index].ready = events
                if !events.isEmpty { ready.append(Poller.Item(socket: socket, events: events)) }
            }
            return (ready, changes, unsignalled)
        }
    }

    /// Parks until a polled socket signals or changes, `deadline` passes, or the task is cancelled;
    /// returns at once if something changed since `changes` (the value ``ready(_:)`` returned).
    nonisolated(nonsending) func wait(since changes: UInt64, deadline: UInt64?) async throws {
        let id = nextWaiterID.wrappingAdd(1, ordering: .relaxed).oldValue
        var timer = deadline.map { Reactor.shared.addTimer(deadline: $0, token: token, waiter: id, direction: .receive) }
        defer {
            waiters.leave(id, .receive)
            if let timer { Reactor.shared.cancelTimer(timer) }
        }
        do {
            try await withTaskCancellationHandler {
                try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                    waiters.park(id, .receive, continuation, interruptible: true)
                    if Task.isCancelled {
                        waiters.fail(id, .receive, with: CancellationError())
                    } else if self.changes.load(ordering: .acquiring) != changes {
                        waiters.wakeAll()
                    } else {
                        do {
                            try inReactor.withLock { added throws(System.Failure) in
                                try Reactor.shared.arm(fd: poll.descriptor, token: token, added: &added)
                            }
                        } catch let failure as System.Failure {
                            waiters.fail(id, .receive, with: ZMQError(kind: .libzmq, code: failure.code, operation: "poll", detail: "cannot wait: \(failure.call) failed"))
                        } catch {
                            waiters.fail(id, .receive, with: error)
                        }
                    }
                }
            } onCancel: {
                waiters.fail(id, .receive, with: CancellationError())
            }
        } catch is TimerFired {
            timer = nil  // it fired: nothing to cancel
            return  // the deadline: the poll looks once more and returns what it finds
        }
    }
}
