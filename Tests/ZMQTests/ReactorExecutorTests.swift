import Testing
@testable import ZMQ

/// Tasks that prefer ``ReactorExecutor`` run on the reactor thread, and every operation works there as
/// it does on the default executor: nothing lost, reordered, stranded or spun.
@Suite(.timeLimit(.minutes(1)))
struct ReactorExecutorTests {
    @Test func aTaskPreferringTheReactorRunsOnItsThreadAcrossWaits() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline()
            let receiver = Task(executorPreference: ReactorExecutor.shared) { () async throws -> [Bool] in
                var onReactor = [Reactor.isCurrentThread]
                for _ in 0..<3 {
                    _ = try await pull.recv()  // suspends: the message comes later
                    onReactor.append(Reactor.isCurrentThread)
                }
                return onReactor
            }
            for index in 0..<3 {
                try await push.send([UInt8(index)])
                try await Task.sleep(for: .milliseconds(5))  // let the receiver wait again
            }
            #expect(try await receiver.value == [true, true, true, true])
            #expect(!Reactor.isCurrentThread, "a task without the preference runs on the cooperative pool")
            await push.close()
            await pull.close()
        }
    }

    @Test func messagesBetweenTasksOnTheReactorArriveOnceAndInOrder() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline()
            let count = 5_000
            let received = try await withTaskExecutorPreference(ReactorExecutor.shared) {
                try await withThrowingTaskGroup(of: [Int].self) { group in
                    group.addTask {
                        for index in 0..<count { try await push.send(Array(String(index).utf8)) }
                        return []
                    }
                    group.addTask {
                        var numbers: [Int] = []
                        for _ in 0..<count { numbers.append(Int(String(decoding: try await pull.recv(), as: UTF8.self))!) }
                        return numbers
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
            }
            #expect(received == Array(0..<count))
            await push.close()
            await pull.close()
        }
    }

    @Test func timeoutsCancellationAndTheActorWorkOnTheReactor() async throws {
        try await withTimeout {
            try await withTaskExecutorPreference(ReactorExecutor.shared) {
                // The actor's methods run on the preferred executor too.
                let (push, pull) = try await pipeline()
                // A socket that has received once would spin before its next wait, anywhere else.
                try await push.send("first")
                #expect(try await pull.recv() == Array("first".utf8))
                let error = await #expect(throws: ZMQError.timedOut) { try await pull.recv(timeout: .milliseconds(20)) }
                #expect(error != nil)
                let waiting = Task(executorPreference: ReactorExecutor.shared) { try await pull.recv() }
                try await Task.sleep(for: .milliseconds(5))
                waiting.cancel()
                await #expect(throws: CancellationError.self) { try await waiting.value }
                #expect(pull.spinStatistics.receive.spins == 0, "no spinning on the reactor thread")
                await push.close()
                await pull.close()
            }
        }
    }
}
