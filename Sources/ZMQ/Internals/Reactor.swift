internal import CZMQ
import Synchronization  // Atomic
#if canImport(Glibc)
import Glibc
#endif

/// One thread for the whole process that waits on the `ZMQ_FD` of every socket with a suspended
/// task, using epoll in one-shot mode.
///
/// `ZMQ_FD` only says "something changed", so the reactor never decides readiness: it wakes the
/// first waiter of each direction, whose task re-reads `ZMQ_EVENTS` on the socket's actor. A socket
/// is armed only while it has a waiter, so idle sockets cost nothing, and no thread exists per socket.
final class Reactor: Sendable {
    static let shared = Reactor()

    private let epoll: Int32
    private let queues = Locked<[UInt64: WaitQueue]>([:])
    private let nextToken = Atomic<UInt64>(1)

    private init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epoll >= 0, "epoll_create1 failed: \(String(cString: strerror(errno)))")
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { context in
            Unmanaged<Reactor>.fromOpaque(context!).takeUnretainedValue().run()
            return nil
        }, Unmanaged.passRetained(self).toOpaque())
        precondition(started == 0, "cannot start the reactor thread")
        pthread_detach(thread)
    }

    /// A registration token for one socket's queue.
    func register(_ queue: WaitQueue) -> UInt64 {
        let token = nextToken.wrappingAdd(1, ordering: .relaxed).oldValue
        queues.withLock { $0[token] = queue }
        return token
    }

    /// Arms `fd` for one wake-up of `token`'s queue. `added` records whether epoll already knows the fd.
    func arm(fd: Int32, token: UInt64, added: inout Bool) {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLONESHOT.rawValue
        event.data.u64 = token
        if added {
            if epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &event) == 0 { return }
        }
        if epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0 {
            added = true
        } else if errno == EEXIST {
            _ = epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &event)
            added = true
        }
    }

    /// Forgets `token`; must run before libzmq closes `fd`.
    func unregister(fd: Int32, token: UInt64, added: Bool) {
        if added {
            var event = epoll_event()
            _ = epoll_ctl(epoll, EPOLL_CTL_DEL, fd, &event)
        }
        _ = queues.withLock { $0.removeValue(forKey: token) }
    }

    private func run() {
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        while true {
            let count = epoll_wait(epoll, events, Int32(capacity), -1)
            if count < 0 { continue }  // EINTR
            for index in 0..<Int(count) {
                let token = events[index].data.u64
                guard let queue = queues.withLock({ $0[token] }) else { continue }
                queue.wakeFirst(.receive)
                queue.wakeFirst(.send)
            }
        }
    }
}
