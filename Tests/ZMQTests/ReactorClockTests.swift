import Testing
@testable import ZMQ

/// ``ReactorClock``'s sleeps end at their deadline (never before), on the reactor thread for a task
/// that prefers ``ReactorExecutor``, at once when cancelled, and each exactly once however many there are.
@Suite(.timeLimit(.minutes(1)))
struct ReactorClockTests {
    @Test func aSleepEndsAtItsDeadlineAndNotBefore() async throws {
        try await withTimeout {
            let clock = ReactorClock()
            for milliseconds in [1, 5, 20] {
                let deadline = clock.now.advanced(by: .milliseconds(milliseconds))
                try await clock.sleep(until: deadline)
                #expect(clock.now >= deadline, "woke \(clock.now.duration(to: deadline)) early")
            }
            // Task.sleep takes the clock as any other.
            let start = clock.now
            try await Task.sleep(for: .milliseconds(10), clock: .reactor)
            #expect(start.duration(to: clock.now) >= .milliseconds(10))
        }
    }

    @Test func aTaskOnTheReactorSleepsAndWakesThere() async throws {
        try await withTimeout {
            let onReactor = try await Task(executorPreference: ReactorExecutor.shared) { () async throws -> [Bool] in
                let clock = ReactorClock()
                var next = clock.now
                var seen: [Bool] = []
                for _ in 0..<20 {
                    next = next.advanced(by: .microseconds(500))
                    try await clock.sleep(until: next)
                    seen.append(Reactor.isCurrentThread)
                }
                return seen
            }.value
            #expect(onReactor == Array(repeating: true, count: 20))
        }
    }

    @Test func aPassedDeadlineReturnsAtOnceAndACancelledTaskThrows() async throws {
        try await withTimeout {
            let clock = ReactorClock()
            try await clock.sleep(until: clock.now.advanced(by: .seconds(-1)))
            let sleeper = Task { try await clock.sleep(until: clock.now.advanced(by: .seconds(3600))) }
            try await Task.sleep(for: .milliseconds(5))  // let it park (it would also throw if not yet)
            let started = clock.now
            sleeper.cancel()
            await #expect(throws: CancellationError.self) { try await sleeper.value }
            #expect(started.duration(to: clock.now) < .seconds(5), "cancellation ends the sleep at once")
            // Cancelled before it starts: throws without sleeping.
            let early = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                try await clock.sleep(until: clock.now.advanced(by: .seconds(3600)))
            }
            await #expect(throws: CancellationError.self) { try await early.value }
        }
    }

    @Test func manySleepsEachEndOnceWhateverTheirOrder() async throws {
        try await withTimeout {
            let clock = ReactorClock()
            let start = clock.now
            // 2,000 sleeps with deadlines in shuffled order, a tenth of them cancelled.
            let offsets = (0..<2_000).map { Duration.microseconds(($0 * 7_919) % 20_000) }
            let outcomes = await withTaskGroup(of: Bool?.self) { group in
                var tasks: [Task<Void, any Error>] = []
                for (index, offset) in offsets.enumerated() {
                    let task = Task { try await clock.sleep(until: start.advanced(by: offset + .milliseconds(5))) }
                    if index % 10 == 0 { tasks.append(task) }
                    group.addTask {
                        do {
                            try await task.value
                            #expect(clock.now >= start.advanced(by: offset + .milliseconds(5)))
                            return true
                        } catch {
                            return error is CancellationError ? false : nil
                        }
                    }
                }
                for task in tasks { task.cancel() }
                return await group.reduce(into: [Bool?]()) { $0.append($1) }
            }
            #expect(outcomes.count == 2_000)
            #expect(!outcomes.contains(nil), "a sleep ends normally or with CancellationError, nothing else")
            #expect(outcomes.filter { $0 == true }.count >= 2_000 - 200)
        }
    }

    /// The reactor thread's wait in epoll times out at the earliest deadline it saw before sleeping;
    /// an earlier one added from another thread while it sleeps must still wake it (the timerfd).
    @Test func aNearDeadlineAddedWhileTheReactorSleepsForAFarOneEndsOnTime() async throws {
        try await withTimeout {
            let clock = ReactorClock()
            let far = Task(executorPreference: ReactorExecutor.shared) {
                try await clock.sleep(until: clock.now.advanced(by: .seconds(3600)))
            }
            defer { far.cancel() }
            let (_, pull) = try await pipeline(lingerZero: true)
            for _ in 0..<20 {
                let start = clock.now
                try await clock.sleep(until: start.advanced(by: .milliseconds(5)))
                await #expect(throws: ZMQError.timedOut) { try await pull.recv(timeout: .milliseconds(5)) }
                #expect(start.duration(to: clock.now) < .seconds(5), "a near deadline waited for the far one")
            }
        }
    }

    @Test func instantsCountNanosecondsAndSaturate() {
        let clock = ReactorClock()
        let now = clock.now
        #expect(now.advanced(by: .milliseconds(3)).duration(to: now) == .milliseconds(-3))
        #expect(now.advanced(by: .seconds(Int64.max)) > now)
        #expect(now.advanced(by: .seconds(Int64.min)) < now)
        #expect(clock.minimumResolution == .nanoseconds(1))
    }
}
