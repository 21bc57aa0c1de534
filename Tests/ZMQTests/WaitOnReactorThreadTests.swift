import Testing
@testable import ZMQ

/// A lone receiver running on the reactor thread (its task prefers ``ReactorExecutor``) waits for its
/// socket right there, in `ppoll`, instead of suspending (`Reactor.waitHere(for:)`). That wait must
/// give the thread back to everything else the reactor does (jobs of other tasks, timers, other
/// sockets), end at once on cancellation or close, and keep waiters in their order.
///
/// A receiver only waits there while no deadline is due within a millisecond, and other suites'
/// timed waits share the reactor: each test starts receivers until one does wait there
/// (``receiverWaitingHere(_:_:)``), and fails if none ever does.
@Suite(.timeLimit(.minutes(1)))
struct WaitOnReactorThreadTests {
    /// A receiver task on the reactor.
    private func receiver(_ pull: Socket) -> Task<[UInt8], any Error> {
        Task(executorPreference: ReactorExecutor.shared) { try await pull.recv() }
    }

    private func waitingReceivers(_ pull: Socket, _ count: Int) async throws {
        try await eventually { await pull.suspendedCalls.receive == count }
    }

    private struct NeverWaitedHere: Error {}

    /// A receiver on the reactor that waits on the reactor thread itself, once it does. One that
    /// parked the usual way instead is given a message and replaced.
    private func receiverWaitingHere(_ push: Socket, _ pull: Socket) async throws -> Task<[UInt8], any Error> {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            let task = receiver(pull)
            try await waitingReceivers(pull, 1)
            if pull.isWaitingOnReactorThread { return task }
            try await push.send("again")
            #expect(try await task.value == Array("again".utf8))
        }
        Issue.record("no receive waited on the reactor thread in 20 s")
        throw NeverWaitedHere()
    }

    @Test func aLoneReceiverOnTheReactorWaitsForItsSocketOnTheThreadItself() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline()
            for index in 0..<3 {
                let waits = pull.waitsOnReactorThread
                let task = try await receiverWaitingHere(push, pull)
                #expect(pull.waitsOnReactorThread > waits)
                try await push.send([UInt8(index)])
                #expect(try await task.value == [UInt8(index)])
            }
            await push.close()
            await pull.close()
        }
    }

    @Test func aReceiverFromThePoolWaitsOnTheDefaultExecutorAsBefore() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline()
            let task = Task { try await pull.recv() }
            try await waitingReceivers(pull, 1)
            try await push.send("x")
            #expect(try await task.value == Array("x".utf8))
            #expect(pull.waitsOnReactorThread == 0)
            await push.close()
            await pull.close()
        }
    }

    /// The task that sends runs on the reactor thread too: it can only run if the waiting receiver
    /// gives the thread back when its job is queued.
    @Test func aJobQueuedFromAnotherThreadEndsTheWaitSoThatItRuns() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline()
            let task = try await receiverWaitingHere(push, pull)
            let sender = Task(executorPreference: ReactorExecutor.shared) { try await push.send("from the reactor") }
            try await sender.value
            #expect(try await task.value == Array("from the reactor".utf8))
            await push.close()
            await pull.close()
        }
    }

    /// A deadline added by another thread while the reactor thread waits for a socket arms the
    /// timerfd, which ends that wait: the timed receive elsewhere ends on time.
    @Test func aDeadlineFromAnotherThreadEndsTheWaitSoThatItFires() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline()
            let (otherPush, otherPull) = try await pipeline()
            let task = try await receiverWaitingHere(push, pull)
            let start = ContinuousClock.now
            await #expect(throws: ZMQError.timedOut) { try await otherPull.recv(timeout: .milliseconds(30)) }
            #expect(ContinuousClock.now - start < .seconds(5), "the timer fired while the reactor thread waited")
            try await push.send("done")
            #expect(try await task.value == Array("done".utf8))
            for socket in [push, pull, otherPush, otherPull] { await socket.close() }
        }
    }

    @Test func cancellingAReceiverWaitingOnTheReactorEndsItAndLosesNothing() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline()
            let task = try await receiverWaitingHere(push, pull)
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
            try await push.send("kept")
            #expect(try await receiver(pull).value == Array("kept".utf8), "the next receiver gets the message")
            await push.close()
            await pull.close()
        }
    }

    @Test func aTimedReceiveOnTheReactorTimesOutOnTime() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline()
            let deadline = ContinuousClock.now + .seconds(20)
            // Until one of the timed receives has waited on the reactor thread.
            while pull.waitsOnReactorThread == 0 && ContinuousClock.now < deadline {
                let start = ContinuousClock.now
                let task = Task(executorPreference: ReactorExecutor.shared) { try await pull.recv(timeout: .milliseconds(30)) }
                await #expect(throws: ZMQError.timedOut) { try await task.value }
                #expect(ContinuousClock.now - start >= .milliseconds(30))
            }
            #expect(pull.waitsOnReactorThread >= 1)
            await push.close()
            await pull.close()
        }
    }

    @Test func closingTheSocketEndsAWaitOnTheReactor() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline()
            let task = try await receiverWaitingHere(push, pull)
            await pull.close()
            await #expect(throws: ZMQError.socketClosed) { try await task.value }
            await push.close()
        }
    }

    /// The receiver that waited first, on the reactor thread, gets the first message; the one that
    /// came from the pool while it waited, the second.
    @Test func aReceiverThatComesWhileOneWaitsOnTheReactorIsServedAfterIt() async throws {
        try await withTimeout {
            for _ in 0..<20 {
                let (push, pull) = try await pipeline()
                let first = try await receiverWaitingHere(push, pull)
                let second = Task { try await pull.recv() }
                try await waitingReceivers(pull, 2)
                try await push.send("1")
                try await push.send("2")
                #expect(try await first.value == Array("1".utf8))
                #expect(try await second.value == Array("2".utf8))
                await push.close()
                await pull.close()
            }
        }
    }
}
