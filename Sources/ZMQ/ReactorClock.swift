/// A clock whose sleeps are timed by the library's reactor thread, the thread that runs
/// ``ReactorExecutor``'s tasks.
///
/// `Task.sleep` on Swift's own clocks is timed, on Linux, by a thread of Dispatch's: when the sleep
/// ends, that thread wakes, then hands the task to the thread that runs it (another wake-up), and each
/// new sleep first wakes it to re-arm its timer. A sleep on this clock is a deadline in the reactor's
/// timer heap, ended by the timeout of the reactor thread's wait in epoll. A task that prefers ``ReactorExecutor`` is then
/// run by the thread the timer woke: one thread wake-up per sleep, as `clock_nanosleep` costs a C
/// thread. A task on another executor is handed on once, as after any other wake-up.
///
/// Use it for a task that paces its sends, or polls something at an interval, beside sockets:
///
/// ```swift
/// try await withTaskExecutorPreference(ReactorExecutor.shared) {
///     let clock = ReactorClock()
///     var next = clock.now
///     while true {
///         next = next.advanced(by: .milliseconds(1))
///         try await clock.sleep(until: next)
///         try await socket.send(data)
///     }
/// }
/// ```
///
/// The clock counts `CLOCK_MONOTONIC`, the clock of the sockets' timeouts. A sleep ends at its
/// deadline or up to its tolerance later (when none is given, a sixteenth of the sleep, at most
/// 62.5 µs, so that sleeps that end close together can share a timer setting); cancelling the sleeping task ends the sleep at once
/// with `CancellationError`, as `Task.sleep` does.
public struct ReactorClock: Clock {
    /// A point in time on ``ReactorClock``: nanoseconds of `CLOCK_MONOTONIC`.
    public struct Instant: InstantProtocol, CustomStringConvertible {
        /// Nanoseconds since `CLOCK_MONOTONIC`'s origin (usually the system's boot).
        let nanoseconds: Int64

        /// The instant `duration` after this one (before it, for a negative duration); saturates
        /// instead of overflowing.
        public func advanced(by duration: Duration) -> Instant {
            let (sum, overflow) = nanoseconds.addingReportingOverflow(Self.nanoseconds(of: duration))
            return Instant(nanoseconds: overflow ? (duration < .zero ? .min : .max) : sum)
        }

        /// The time from this instant to `other` (negative when `other` comes first).
        public func duration(to other: Instant) -> Duration {
            let (difference, overflow) = other.nanoseconds.subtractingReportingOverflow(nanoseconds)
            return overflow ? .seconds(other.nanoseconds > nanoseconds ? Int64.max / 1_000_000_000 : Int64.min / 1_000_000_000)
                            : .nanoseconds(difference)
        }

        /// Whether `lhs` comes before `rhs`.
        public static func < (lhs: Instant, rhs: Instant) -> Bool {
            lhs.nanoseconds < rhs.nanoseconds
        }

        /// The instant as seconds of `CLOCK_MONOTONIC`, for logs.
        public var description: String {
            "\(nanoseconds / 1_000_000_000).\(String(nanoseconds % 1_000_000_000 + 1_000_000_000).dropFirst()) s (CLOCK_MONOTONIC)"
        }

        /// `duration` in whole nanoseconds, saturating at `Int64`'s bounds.
        static func nanoseconds(of duration: Duration) -> Int64 {
            let (seconds, attoseconds) = duration.components
            let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
            if overflow { return seconds < 0 ? .min : .max }
            let (sum, overflowed) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
            return overflowed ? (seconds < 0 ? .min : .max) : sum
        }
    }

    /// A clock; every instance is the same clock.
    public init() {}

    /// The current instant.
    public var now: Instant { Instant(nanoseconds: Int64(truncatingIfNeeded: MonotonicClock.now())) }

    /// The clock's resolution: a nanosecond (the timer's real precision is the kernel's).
    public var minimumResolution: Duration { .nanoseconds(1) }

    /// Suspends the task until `deadline` (or up to `tolerance` after it), on the reactor's timer.
    ///
    /// Returns at once, without suspending, when `deadline` has passed.
    /// - Throws: `CancellationError` when the task is, or gets, cancelled before the deadline.
    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        let now = Int64(truncatingIfNeeded: MonotonicClock.now())
        guard deadline.nanoseconds > now else { return }
        let slack = tolerance.map(MonotonicClock.nanoseconds(of:))
        try await Reactor.shared.sleep(until: UInt64(deadline.nanoseconds), now: UInt64(now), slack: slack)
    }
}

/// `.reactor`, the ``ReactorClock``, wherever a clock is expected.
extension Clock where Self == ReactorClock {
    /// The clock whose sleeps the library's reactor thread times (``ReactorClock``):
    /// `try await Task.sleep(until: deadline, clock: .reactor)`.
    public static var reactor: ReactorClock { ReactorClock() }
}
