import ZMQ
import Synchronization

/// churn-inproc: `waiters` tasks loop on `recv(timeout:)` with timeouts of 1 to 50 ms on one PULL socket
/// while a sender sends `count` numbered messages; most receives time out and the waiters line up again
/// at once. Every message must arrive exactly once; a ticker task must keep waking on time while they
/// do (a tick more than half a second late fails the run). The issue asked for a 1-second ticker, but
/// a run lasts well under a second: the ticker wakes every 100 ms, so that its ticks fall within the
/// run. Returns messages per second from the first to the last message received.
func churn(waiters: Int, count: Int, watchdog: Watchdog) async throws -> Double {
    let pull = try await Socket.pull().bind("inproc://churn")
    let push = try await Socket.push().connect("inproc://churn")
    let tally = Tally(count)
    let sender = peer("sender") {
        var payload = Payload.buffer(8)
        for index in 0..<count {
            payload.withUnsafeMutableBytes { Payload.stamp($0, index) }
            try await push.send(payload)
        }
    }
    // The latest tick, and how many ticks came before the last message did.
    let ticker = peer("ticker") { () -> (late: Double, ticks: Int) in
        var latest = 0.0
        var ticks = 0
        var next = ContinuousClock.now
        while tally.received.load(ordering: .relaxed) < count {
            next += .milliseconds(100)
            try await Task.sleep(until: next, clock: .continuous)
            let late = next.duration(to: .now)
            latest = max(latest, Double(late.components.seconds) + Double(late.components.attoseconds) / 1e18)
            if tally.received.load(ordering: .relaxed) < count { ticks += 1 }
        }
        return (latest, ticks)
    }
    try await withThrowingTaskGroup(of: Void.self) { group in
        for waiter in 0..<waiters {
            group.addTask {
                var random = FastRandom(seed: UInt64(waiter + 1) &* 0x9E37_79B9_7F4A_7C15)
                var buffer = Payload.buffer(0)
                while tally.received.load(ordering: .relaxed) < count {
                    do {
                        try await pull.recv(into: &buffer, timeout: .milliseconds(Int.random(in: 1...50, using: &random)))
                    } catch let error as ZMQError where error == .timedOut {
                        tally.timeouts.wrappingAdd(1, ordering: .relaxed)
                        continue
                    }
                    guard buffer.count == 8 else { fail("a message of \(buffer.count) bytes arrived, expected 8") }
                    let index = Int(buffer.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian })
                    guard index < count else { fail("message \(index) was never sent") }
                    watchdog.advance(to: tally.record(index))
                }
            }
        }
        try await group.waitForAll()
    }
    let (late, ticks) = await ticker.value
    await sender.value
    if late > 0.5 { fail("the 100 ms ticker woke \(Int(late * 1000)) ms late while \(waiters) tasks waited") }
    let elapsed = tally.times.withLock { $0.last - $0.first }
    let timeouts = tally.timeouts.load(ordering: .relaxed)
    printError("max_tick_late_ms=\(Int(late * 1000)) ticks=\(ticks) timeouts=\(timeouts) timeouts_per_s=\(Int(Double(timeouts) / elapsed))")
    await push.close()
    await pull.close()
    return Double(count - 1) / elapsed
}

/// A xorshift generator: the system's generator makes a system call per number, which would be
/// measured here as if the library made it.
struct FastRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed | 1
    }

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}

/// Which messages of the churn workload arrived, and when the first and the last did.
private final class Tally: Sendable {
    let received = Atomic<Int>(0)
    /// How many receives timed out (a diagnostic, printed on standard error).
    let timeouts = Atomic<Int>(0)
    let seen: Mutex<[Bool]>
    let times = Mutex((first: 0.0, last: 0.0))

    init(_ count: Int) {
        seen = Mutex([Bool](repeating: false, count: count))
    }

    /// Records message `index`, failing the run if it came before; returns how many have arrived.
    func record(_ index: Int) -> Int {
        let repeated = seen.withLock { seen in
            defer { seen[index] = true }
            return seen[index]
        }
        if repeated { fail("message \(index) arrived twice") }
        let time = now()
        times.withLock { times in
            if times.first == 0 { times.first = time }
            times.last = max(times.last, time)
        }
        return received.wrappingAdd(1, ordering: .relaxed).newValue
    }
}
