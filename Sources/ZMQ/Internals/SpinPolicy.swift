/// When a call that would block should keep trying for a moment before it suspends, for one socket
/// and one direction.
///
/// Suspending a task and waking it again costs two thread wake-ups (the reactor's, then a pool
/// thread's): tens of microseconds of CPU on a virtual machine. A wait that ends sooner than that (the
/// reply of a request/reply round trip, the next message of a busy pipeline) is cheaper to catch by
/// retrying than by suspending. A wait that does not end within the retrying is pure loss, and while a
/// task retries it holds a thread of the cooperative pool. So the policy spins only where spinning has
/// been seen to pay, and bounds what failed spins may cost:
///
/// - **Spinning mode**: the last spin caught its message within ``budget``: spin again on the next wait.
/// - **Suspending mode**: the last spin failed. Waits then suspend at once; now and then one probes
///   with a spin, after twice as many waits each time a probe fails (up to ``longestProbeInterval``),
///   and half as many each time one catches, so that a socket whose waits are long (paced traffic,
///   an idle socket, a peer that waits for people) spends next to nothing on spins, and a socket whose
///   traffic becomes a ping-pong goes back to spinning within a few waits.
/// - **A CPU bound**: failed spins may take at most a tenth of the time the socket spent suspended
///   (plus a small start-up allowance); a spin is only started while that allowance covers a whole
///   ``budget``.
///
/// The policy only decides; the socket measures (``Socket/attemptAtOnce(_:timeout:spin:_:_:)``). All
/// times are `MonotonicClock` nanoseconds.
struct SpinPolicy: Sendable {
    /// How long one spin may last: about what suspending and being woken costs here (measured on this
    /// project's 2-core VMs: 15 to 40 µs of CPU for the two wake-ups), so that a spin that succeeds
    /// costs no more than the suspension it saves.
    static let budget: UInt64 = 20_000
    /// How long a spin may last on a socket that takes turns (a REQ awaiting its reply, a REP its next
    /// request after replying): a reply over TCP takes tens of microseconds, and there the wait is the
    /// round trip the caller is waiting on. A stream's receiver (paced traffic) keeps ``budget``.
    static let turnBudget: UInt64 = 100_000
    /// How long a spin of `budget` goes on without yielding its thread between tries (a processor
    /// hint only). A socket that takes turns waits for a reply: for about one in-process round trip
    /// its tries cost no `sched_yield` each (measured: lat-inproc's round trip 0.94x, 15 pairs of runs),
    /// and a peer that shares the core waits at most that long. A stream's receiver yields at every
    /// try, after its ``retryGap(budget:)``.
    static func yieldsAfter(budget: UInt64) -> UInt64 {
        budget >= turnBudget ? 5_000 : 0
    }

    /// How long a spin of `budget` leaves between two tries, on the processor's spin hint and without
    /// touching libzmq; 0 when it tries again at once.
    ///
    /// A stream's receiver waits 5 µs between tries. A receiver that keeps up with its sender finds
    /// the pipe empty every few dozen messages, and each try that finds it empty costs both sides:
    /// libzmq marks the pipe inactive, so the sender's next flush sends an `activate_read` command,
    /// with an `eventfd` write when the receiver's mailbox went to sleep, and the receiver's next try
    /// polls and reads that mailbox; the tries also take the pipe's cache lines from the sender that
    /// is filling them. Tried again at once (after a `sched_yield`), thr-inproc of 1 byte made 22
    /// `eventfd` writes and 67 `poll`s per 1,000 messages; with the gap, 10 and 34 (C's blocking
    /// receiver: 4 and 16). The yield after the gap stays: on two cores a libzmq I/O thread or a
    /// proxy's thread may be waiting for this core to bring the message. A socket that takes turns
    /// waits for a reply that may come at any moment: it tries again at once.
    static func retryGap(budget: UInt64) -> UInt64 {
        budget >= turnBudget ? 0 : 5_000
    }
    /// The most waits between two probes once probes keep failing: a failed probe then costs under
    /// 0.03 µs per wait on average.
    static let longestProbeInterval: UInt32 = 1024
    /// The allowance a new socket starts with, and the most it can save up: a few spins' worth, so that
    /// a long quiet period cannot pay for a long run of failures afterwards.
    static let allowanceLimit: Int64 = 10 * Int64(turnBudget)

    private(set) var spinning = false
    /// Suspended waits left before the next probe, in suspending mode.
    private var untilProbe: UInt32 = 0
    /// Waits between probes now, in suspending mode.
    private var probeInterval: UInt32 = 1
    /// Nanoseconds that failed spins may still take.
    private(set) var allowance: Int64 = allowanceLimit

    /// What the socket did, for tests and diagnostics.
    private(set) var statistics = Statistics()

    struct Statistics: Sendable, Equatable {
        /// Spins started, and of those the ones that caught their message.
        var spins = 0
        var caught = 0
        /// Nanoseconds spent in spins that failed, and in suspended waits.
        var failedSpinTime: UInt64 = 0
        var suspendedTime: UInt64 = 0
    }

    /// Whether the next wait should start with a spin of up to `budget`. `timeout` is the call's own
    /// bound on the wait: a wait that may not last a whole budget never spins.
    mutating func shouldSpin(timeout: UInt64?, budget: UInt64 = Self.budget) -> Bool {
        if let timeout, timeout < budget { return false }
        guard allowance >= Int64(budget) else { return false }
        if spinning { return true }
        if untilProbe > 0 {
            untilProbe -= 1
            return false
        }
        return true
    }

    /// A spin that lasted `duration` caught its message (`caught`) or gave up.
    mutating func spun(caught: Bool, after duration: UInt64) {
        statistics.spins += 1
        if caught {
            statistics.caught += 1
            spinning = true
            // One lucky catch among long waits (two messages that happened to come close together)
            // only halves the interval between probes; a ping-pong's steady catches bring it to 1.
            probeInterval = max(1, probeInterval / 2)
            return
        }
        statistics.failedSpinTime += duration
        allowance -= Int64(clamping: duration)
        if spinning {
            // One miss in a ping-pong (the peer was preempted) costs a suspended wait or two, not the mode.
            spinning = false
        } else {
            probeInterval = min(probeInterval * 2, Self.longestProbeInterval)
        }
        untilProbe = probeInterval
    }

    /// A wait that suspended ended (with its message, or with a timeout) after `duration`.
    mutating func suspended(for duration: UInt64) {
        statistics.suspendedTime += duration
        allowance = min(Self.allowanceLimit, allowance + Int64(clamping: duration / 10))
    }
}
