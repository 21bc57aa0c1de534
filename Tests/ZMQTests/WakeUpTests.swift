import Testing
@testable import ZMQ

/// How a waiting call is woken when its socket signals: a signal that finds nobody parked is kept for
/// the next waiter at the head of the line (`WaitQueue.signal`), and a receiver whose waits are long
/// keeps its socket watched edge-triggered from one wait to the next (`Socket.arm`), which is only
/// safe because no signal is lost.
@Suite(.timeLimit(.minutes(1)))
struct WakeUpTests {
    /// Parks waiter `id` in a task of its own; returns the task and where the waiter parked.
    private func park(_ queue: WaitQueue, _ id: UInt64, _ direction: Direction = .receive) async throws -> (Task<Void, any Error>, WaitQueue.Parked) {
        let parked = Locked<WaitQueue.Parked?>(nil)
        let task = Task {
            try await withUnsafeThrowingContinuation { continuation in
                let place = queue.park(id, direction, continuation, interruptible: true)
                parked.withLock { $0 = place }
                if place == .signalled { continuation.resume() }
            }
        }
        try await eventually { parked.withLock { $0 } != nil }
        return (task, parked.withLock { $0! })
    }

    @Test func aSignalThatFindsNobodyParkedIsKeptForTheNextWaiterAtTheHead() async throws {
        try await withTimeout {
            let queue = WaitQueue()
            queue.signal(.receive)
            queue.signal(.send)
            // The next waiter to park at the head takes the signal and tries again at once.
            let (first, place) = try await park(queue, 1)
            #expect(place == .signalled)
            try await first.value
            // It was taken: parking again waits, and a signal now wakes the parked head, keeping nothing.
            let (again, waits) = try await park(queue, 1)
            #expect(waits == .atHead)
            queue.signal(.receive)
            try await again.value
            let (last, waitsAgain) = try await park(queue, 1)
            #expect(waitsAgain == .atHead, "a signal that woke someone is not kept as well")
            #expect(queue.fail(1, .receive, with: ZMQError.timedOut))
            await #expect(throws: ZMQError.timedOut) { try await last.value }
            queue.leave(1, .receive)
            // The send line's signal was kept for the send line.
            let (sender, sends) = try await park(queue, 2, .send)
            #expect(sends == .signalled)
            try await sender.value
        }
    }

    @Test func aKeptSignalIsForTheHeadNotForAWaiterBehindIt() async throws {
        try await withTimeout {
            let queue = WaitQueue()
            let (head, place) = try await park(queue, 1)
            #expect(place == .atHead)
            #expect(queue.wakeFirst(.receive))
            try await head.value
            // The head is on its way to try (woken, still first in line) when the socket signals.
            queue.signal(.receive)
            let (behind, behindPlace) = try await park(queue, 2)
            #expect(behindPlace == .behind)
            // The head found nothing and parks again: the signal is its own.
            let (headAgain, headPlace) = try await park(queue, 1)
            #expect(headPlace == .signalled)
            try await headAgain.value
            queue.leave(1, .receive)
            #expect(queue.fail(2, .receive, with: ZMQError.timedOut))
            await #expect(throws: ZMQError.timedOut) { try await behind.value }
        }
    }

    /// Each message comes while the receiver is parked: its waits are long, it never spins, and its
    /// socket stays watched edge-triggered from one wait to the next (no `epoll_ctl` per wait).
    @Test func aReceiverWhoseWaitsAreLongStaysWatchedEdgeTriggered() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline()
            for index in 0..<100 {
                let receive = Task { try await pull.recv() }
                try await eventually { pull.waiters.wanted().receive }
                try await push.send([UInt8(index)])
                #expect(try await receive.value == [UInt8(index)])
                if index > 0 { #expect(pull.isWatchedOnEdge, "message \(index)") }
            }
            #expect(pull.spinStatistics.receive.caught == 0)
            await push.close()
            await pull.close()
        }
    }

    /// Messages a few tens of microseconds apart, so that signals often come between a receive that
    /// found nothing and its waiter parking: with the socket watched edge-triggered, such a signal
    /// is reported once, and without the kept signal the receiver would wait for ever.
    @Test func signalsBetweenAFailedReceiveAndItsParkingAreNotLost() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline()
            let count = 3_000
            let sender = Task {
                for index in 0..<count {
                    try await push.send([UInt8(truncatingIfNeeded: index)])
                    // A pause a few microseconds long, varying, without a clock or a sleep.
                    for _ in 0..<(index % 7) * 200 { await Task.yield() }
                }
            }
            for index in 0..<count {
                #expect(try await pull.recv(timeout: .seconds(10)) == [UInt8(truncatingIfNeeded: index)], "message \(index)")
            }
            try await sender.value
            await push.close()
            await pull.close()
        }
    }
}
