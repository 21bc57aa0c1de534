internal import CZMQ
import Synchronization  // Atomic
#if canImport(Glibc)
import Glibc
#endif

/// Every operating-system call the library makes (the libzmq calls are in `LibZMQ`): epoll, `ppoll`,
/// timerfd, eventfd reads, `fcntl`, `sched_yield`, the reactor's thread and its timer slack (`prctl`). This is the file a port to another system rewrites (a
/// kqueue port: `Poll` over `kqueue`/`kevent`, the timer as an `EVFILT_TIMER`); nothing else in the
/// library names these calls. EINTR is retried here, in ``retryingInterrupts(_:)``, and nowhere else.
///
/// Programmer errors (a bad descriptor) are preconditions; a failure the caller can report (no memory,
/// the system's limit of watched descriptors) throws ``Failure``.
enum System {
    /// A failed system call: its name and `errno`.
    struct Failure: Error, CustomStringConvertible {
        let call: String
        let code: Int32

        var description: String { "\(call): \(String(cString: strerror(code)))" }

        /// The error a waiting call throws for it.
        var zmqError: ZMQError { ZMQError(code: code, detail: call) }
    }

    /// Runs `call` until it does not fail with EINTR; returns its result (negative with `errno` set on
    /// any other failure).
    @inline(__always)
    static func retryingInterrupts<Result: BinaryInteger>(_ call: () -> Result) -> Result {
        while true {
            let result = call()
            if result >= 0 || errno != EINTR { return result }
        }
    }

    /// Tells the processor that the thread is spinning (x86 `pause`, ARM `yield`): no system call.
    @inline(__always)
    static func relax() {
        swift_zmq_cpu_relax()
    }

    /// Gives the thread's core to another thread that is ready to run, if any.
    @inline(__always)
    static func yieldThread() {
        sched_yield()
    }

    /// Starts a detached thread of its own (not one of the cooperative pool's) running `body`, which
    /// must never return: the reactor's.
    static func startThread(_ body: @escaping @Sendable () -> Never) {
        final class Box: Sendable {
            let body: @Sendable () -> Never
            init(_ body: @escaping @Sendable () -> Never) { self.body = body }
        }
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { context in
            Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().body()
        }, Unmanaged.passRetained(Box(body)).toOpaque())
        precondition(started == 0, "pthread_create: \(String(cString: strerror(started)))")
        pthread_detach(thread)
    }

    /// Sets how late the kernel may end the calling thread's timed waits (`PR_SET_TIMERSLACK`; the
    /// default is 50 µs), beyond a thousandth of the wait, which epoll always allows.
    static func setTimerSlack(nanoseconds: UInt) {
        _ = swift_zmq_set_timer_slack(nanoseconds)
    }

    /// An identifier of the calling thread (`pthread_self`), to compare with another's.
    @inline(__always)
    static func currentThread() -> UInt {
        UInt(pthread_self())
    }

    // MARK: Readiness: epoll

    /// An epoll set: the descriptors a thread waits on, each with a 64-bit token.
    struct Poll: Sendable {
        let descriptor: Int32

        init() throws(Failure) {
            descriptor = epoll_create1(Int32(EPOLL_CLOEXEC))
            if descriptor < 0 { throw Failure(call: "epoll_create1", code: errno) }
        }

        /// How a watched descriptor is reported.
        enum Trigger {
            /// Whenever a wait finds it readable.
            case level
            /// Each time it is made readable (`EPOLLET`): once per write to an eventfd, once per expiry
            /// of a timerfd, with no read needed to stop the reports.
            case edge
            /// Once, then ignored until it is watched again (`EPOLLONESHOT`).
            case once
        }

        /// Watches `fd` for readability, reporting `token` as `trigger` says; `added` says whether the
        /// set already holds it, and is updated.
        func watch(_ fd: Int32, token: UInt64, _ trigger: Trigger, added: inout Bool) throws(Failure) {
            var event = epoll_event()
            switch trigger {
            case .level: event.events = EPOLLIN.rawValue
            case .edge: event.events = EPOLLIN.rawValue | EPOLLET.rawValue
            case .once: event.events = EPOLLIN.rawValue | EPOLLONESHOT.rawValue
            }
            event.data.u64 = token
            if added, epoll_ctl(descriptor, EPOLL_CTL_MOD, fd, &event) == 0 { return }
            if epoll_ctl(descriptor, EPOLL_CTL_ADD, fd, &event) == 0 {
                added = true
                return
            }
            if errno == EEXIST, epoll_ctl(descriptor, EPOLL_CTL_MOD, fd, &event) == 0 {
                added = true
                return
            }
            throw Failure(call: "epoll_ctl(\(added ? "EPOLL_CTL_MOD" : "EPOLL_CTL_ADD"), fd \(fd))", code: errno)
        }

        /// Stops watching `fd`; before it is closed. A descriptor the set does not hold is ignored.
        func unwatch(_ fd: Int32) {
            var event = epoll_event()
            _ = epoll_ctl(descriptor, EPOLL_CTL_DEL, fd, &event)
        }

        /// Returns, into `events`, the tokens of the descriptors that are ready now, without waiting;
        /// how many there are.
        func poll(into events: UnsafeMutableBufferPointer<epoll_event>) -> Int {
            wait(into: events, nanoseconds: 0)
        }

        /// Waits up to `nanoseconds` (`nil`: for ever, 0: not at all) and returns the tokens of the
        /// descriptors that are ready, into `events`; how many there are. A timed wait is
        /// `epoll_pwait2`'s (Linux 5.11), which the kernel may end up to the thread's timer slack late
        /// (50 µs by default, as for `clock_nanosleep`); on an older kernel it falls back to
        /// `epoll_wait`, whose timeout is rounded up to whole milliseconds.
        func wait(into events: UnsafeMutableBufferPointer<epoll_event>, nanoseconds: UInt64?) -> Int {
            let base = events.baseAddress, capacity = Int32(events.count)
            if let nanoseconds, nanoseconds > 0, !Self.timedWaitMissing.load(ordering: .relaxed) {
                var timeout = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
                let count = retryingInterrupts { epoll_pwait2(descriptor, base, capacity, &timeout, nil) }
                if count >= 0 { return Int(count) }
                precondition(errno == ENOSYS, "epoll_pwait2: \(String(cString: strerror(errno)))")
                Self.timedWaitMissing.store(true, ordering: .relaxed)
            }
            let milliseconds = nanoseconds.map { Int32(clamping: $0 / 1_000_000 + ($0 % 1_000_000 == 0 ? 0 : 1)) } ?? -1
            let count = retryingInterrupts { epoll_wait(descriptor, base, capacity, milliseconds) }
            precondition(count >= 0, "epoll_wait: \(String(cString: strerror(errno)))")
            return Int(count)
        }

        /// Set once `epoll_pwait2` proved missing (ENOSYS): timed waits use `epoll_wait` instead.
        private static let timedWaitMissing = Atomic<Bool>(false)
    }

    /// Waits up to `nanoseconds` (`nil`: for ever) until `fd`, `other` or `another` is readable
    /// (`ppoll`, which the kernel may end up to the thread's timer slack late); says which. A
    /// descriptor that is closed or failed counts as one of the others: the caller then goes the long
    /// way, which reports it.
    static func waitReadable(_ fd: Int32, or other: Int32, _ another: Int32, nanoseconds: UInt64?) -> Readable {
        var descriptors = (pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: other, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: another, events: Int16(POLLIN), revents: 0))
        let timeout = nanoseconds.map { Int64(clamping: $0) } ?? -1
        let count = withUnsafeMutableBytes(of: &descriptors) { raw in
            let base = raw.baseAddress!.assumingMemoryBound(to: pollfd.self)
            return retryingInterrupts { swift_zmq_ppoll(base, 3, timeout) }
        }
        precondition(count >= 0, "ppoll: \(String(cString: strerror(errno)))")
        if descriptors.2.revents != 0 { return .another }
        if descriptors.1.revents != 0 || descriptors.0.revents & ~Int16(POLLIN) != 0 { return .other }
        return descriptors.0.revents != 0 ? .first : .neither
    }

    /// What ``waitReadable(_:or:_:nanoseconds:)`` found.
    enum Readable {
        /// Only the first descriptor is readable.
        case first
        /// The second one is readable (whatever the first is), or the first is closed or failed.
        case other
        /// The third one is readable, whatever the others are.
        case another
        /// The time ran out.
        case neither
    }

    // MARK: Time: timerfd

    /// A timer descriptor on `CLOCK_MONOTONIC` that becomes readable at an absolute deadline.
    struct Timer: Sendable {
        let descriptor: Int32

        init() throws(Failure) {
            descriptor = timerfd_create(CLOCK_MONOTONIC, Int32(TFD_CLOEXEC | TFD_NONBLOCK))
            if descriptor < 0 { throw Failure(call: "timerfd_create", code: errno) }
        }

        /// Arms the timer for `deadline` (`MonotonicClock` nanoseconds), or disarms it for 0.
        func arm(_ deadline: UInt64) {
            var spec = itimerspec()
            spec.it_value.tv_sec = Int(deadline / 1_000_000_000)
            spec.it_value.tv_nsec = Int(deadline % 1_000_000_000)
            let rc = timerfd_settime(descriptor, Int32(TFD_TIMER_ABSTIME), &spec, nil)
            precondition(rc == 0, "timerfd_settime: \(String(cString: strerror(errno)))")
        }
    }

    // MARK: Wake-ups: eventfd

    /// An eventfd: a descriptor another thread makes readable to wake a thread waiting in a ``Poll``.
    /// Watched edge-triggered, it is never read: each signal is one report (its counter, 64 bits,
    /// cannot fill up in practice).
    struct Event: Sendable {
        let descriptor: Int32

        init() throws(Failure) {
            descriptor = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
            if descriptor < 0 { throw Failure(call: "eventfd", code: errno) }
        }

        /// Makes the descriptor readable.
        func signal() {
            var one: UInt64 = 1
            _ = retryingInterrupts { write(descriptor, &one, MemoryLayout<UInt64>.size) }
        }
    }

    // MARK: Descriptors

    /// Closes a descriptor the library made.
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// Makes reads and writes on `fd` fail with EAGAIN instead of blocking.
    static func setNonBlocking(_ fd: Int32) throws(Failure) {
        let flags = retryingInterrupts { fcntl(fd, F_GETFL) }
        if flags < 0 || retryingInterrupts({ fcntl(fd, F_SETFL, flags | O_NONBLOCK) }) < 0 {
            throw Failure(call: "fcntl(O_NONBLOCK)", code: errno)
        }
    }

    /// Reads a non-blocking eventfd until it is empty.
    static func drainEventFD(_ fd: Int32) {
        var count: UInt64 = 0
        while retryingInterrupts({ read(fd, &count, MemoryLayout<UInt64>.size) }) > 0 {}
    }

    /// Nanoseconds on `CLOCK_MONOTONIC`.
    @inline(__always)
    static func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
