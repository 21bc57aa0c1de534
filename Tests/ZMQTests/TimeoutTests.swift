import Foundation
import Synchronization
import Testing
@testable import ZMQ

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite(.timeLimit(.minutes(1)))
struct TimeoutTests {
    @Test func receiveTimeoutOptionEndsAWaitingReceiveAndLosesNothing() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline(lingerZero: true)
            try await pull.set(.receiveTimeout, .milliseconds(50))
            let start = ContinuousClock.now
            let error = await #expect(throws: ZMQError.timedOut) { try await pull.recv() }
            #expect(ContinuousClock.now - start >= .milliseconds(50), "a timeout never fires early")
            #expect(error?.description == "receive on PULL socket (after 50 ms): operation timed out")
            #expect(await pull.suspendedCalls.receive == 0)
            await #expect(throws: ZMQError.timedOut) { try await pull.recvMultipart() }

            try await push.send("after the timeout")
            #expect(try await pull.recv() == bytes("after the timeout"))
            try await push.sendMultipart([[1], [2]])
            #expect(try await pull.recvMultipart() == [[1], [2]])
        }
    }

    @Test func perCallTimeoutOverridesTheOption() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline(lingerZero: true)
            try await pull.set(.receiveTimeout, .seconds(30))
            let start = ContinuousClock.now
            await #expect(throws: ZMQError.timedOut) { try await pull.recv(timeout: .milliseconds(20)) }
            #expect(ContinuousClock.now - start >= .milliseconds(20))

            // A longer per-call timeout outlasts a short option.
            try await pull.set(.receiveTimeout, .milliseconds(10))
            let waiting = Task { try await pull.recv(timeout: .seconds(30)) }
            try await eventually { await pull.suspendedCalls.receive == 1 }
            try await Task.sleep(for: .milliseconds(50))  // five times the option's timeout
            #expect(await pull.suspendedCalls.receive == 1, "still waiting")
            try await push.send("late")
            #expect(try await waiting.value == bytes("late"))
        }
    }

    @Test func zeroTimeoutOnlyTakesWhatIsQueued() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline(lingerZero: true)
            await #expect(throws: ZMQError.timedOut) { try await pull.recv(timeout: .zero) }
            try await push.send("queued")
            try await eventually { (try? await pull.get(.events))?.contains(.readable) == true }
            #expect(try await pull.recv(timeout: .zero) == bytes("queued"))
            #expect(Reactor.shared.pendingTimers(token: pull.token) == 0)
        }
    }

    @Test func sendTimeoutFiresOnAFullPipeAndSendsNothing() async throws {
        try await withTimeout {
            let pull = try await Socket.pull().set(.receiveHighWaterMark, 1).set(.linger, .zero)
            let endpoint = try await bindFresh(pull, .inproc)
            let push = try await Socket.push().set(.sendHighWaterMark, 1).set(.linger, .zero).connect(endpoint)
            // Fill the pipe: with a zero timeout a send only goes if there is room.
            var sent = 0
            while sent < 10_000 {
                do {
                    try await push.send("m\(sent)", timeout: .zero)
                    sent += 1
                } catch ZMQError.timedOut {
                    break
                }
            }
            #expect(sent >= 1 && sent < 10_000)

            try await push.set(.sendTimeout, .milliseconds(30))
            #expect(try await push.get(.sendTimeout) == .milliseconds(30))
            let start = ContinuousClock.now
            let error = await #expect(throws: ZMQError.timedOut) { try await push.send("too many") }
            #expect(ContinuousClock.now - start >= .milliseconds(30))
            #expect(error?.description == "send on PUSH socket (after 30 ms): operation timed out")
            await #expect(throws: ZMQError.timedOut) { try await push.sendMultipart([[1], [2]]) }
            #expect(await push.suspendedCalls.send == 0)

            // Exactly the accepted messages arrive, in order; the timed-out ones were not sent.
            for index in 0..<sent { #expect(try await pull.recv() == bytes("m\(index)")) }
            try await push.send("after", timeout: .seconds(10))
            #expect(try await pull.recv() == bytes("after"))
        }
    }

    @Test func multipartSendTimesOutBeforeItsFirstFrameOnly() async throws {
        try await withTimeout {
            // No peer: nothing can go, so the whole message times out and no frame is left behind.
            let push = try await Socket.push().set(.linger, .zero)
            let endpoint = try await bindFresh(push, .inproc)
            await #expect(throws: ZMQError.timedOut) { try await push.sendMultipart([[1], [2], [3]], timeout: .milliseconds(20)) }
            let pull = try await Socket.pull().set(.linger, .zero).connect(endpoint)
            try await push.sendMultipart([[4], [5]])
            #expect(try await pull.recvMultipart() == [[4], [5]])
        }
    }

    @Test func timedOutHeadOfTheLineLetsTheNextReceiverHaveTheMessage() async throws {
        try await withTimeout(.seconds(20)) {
            let (push, pull) = try await pipeline(lingerZero: true)
            // Long enough for the second receiver to queue up behind it even on a loaded machine
            // under the thread sanitizer.
            let first = Task { try await pull.recv(timeout: .milliseconds(1500)) }
            try await eventually { await pull.suspendedCalls.receive == 1 }
            let second = Task { try await pull.recv() }
            try await eventually { await pull.suspendedCalls.receive == 2 }
            await #expect(throws: ZMQError.timedOut) { try await first.value }
            #expect(await pull.suspendedCalls.receive == 1)
            try await push.send("for the second")
            #expect(try await second.value == bytes("for the second"))
        }
    }

    @Test func timedOutReceiverInTheMiddleKeepsTheOthersInOrder() async throws {
        try await withTimeout(.seconds(20)) {
            let (push, pull) = try await pipeline(lingerZero: true)
            let first = Task { try await pull.recv() }
            try await eventually { await pull.suspendedCalls.receive == 1 }
            let second = Task { try await pull.recv(timeout: .milliseconds(1500)) }
            try await eventually { await pull.suspendedCalls.receive == 2 }
            let third = Task { try await pull.recv() }
            try await eventually { await pull.suspendedCalls.receive == 3 }
            await #expect(throws: ZMQError.timedOut) { try await second.value }
            try await push.send("a")
            try await push.send("b")
            #expect(try await first.value == bytes("a"))
            #expect(try await third.value == bytes("b"))
            // A zero timeout does not jump the line: with a message queued for a waiter, it gives up.
            let waiting = Task { try await pull.recv() }
            try await eventually { await pull.suspendedCalls.receive == 1 }
            try await push.send("c")
            await #expect(throws: ZMQError.timedOut) { try await pull.recv(timeout: .zero) }
            #expect(try await waiting.value == bytes("c"))
        }
    }

    @Test func racingTimeoutsNeverLoseOrDuplicateMessages() async throws {
        try await withTimeout(.seconds(40)) {
            let (push, pull) = try await pipeline(lingerZero: true)
            let total = 2_000
            let sender = Task {
                for index in 0..<total {
                    try await push.sendMultipart([bytes("\(index)"), [1, 2, 3]])
                    if index % 16 == 0 { try await Task.sleep(for: .microseconds(100)) }
                    // Now and then a pause longer than any timeout below, so that the receiver, having
                    // drained the queue, times out whatever the relative speed of the two tasks (a
                    // serial ASan run once saw the receiver never wait: 0 timeouts).
                    if index % 256 == 255 { try await Task.sleep(for: .milliseconds(2)) }
                }
            }
            var received: [Int] = []
            var timeouts = 0
            while received.count < total {
                do {
                    let parts = try await pull.recvMultipart(timeout: .microseconds(Int64.random(in: 0...300)))
                    #expect(parts.count == 2 && parts[1] == [1, 2, 3])
                    received.append(Int(String(decoding: parts[0], as: UTF8.self))!)
                } catch ZMQError.timedOut {
                    timeouts += 1
                }
            }
            try await sender.value
            #expect(received == Array(0..<total))
            #expect(timeouts > 0, "the race was exercised")
            #expect(Reactor.shared.pendingTimers(token: pull.token) == 0)
        }
    }

    /// Hundreds here, so that the sanitizer passes keep the machine for the other tests; thousands
    /// are the `churn-inproc` benchmark's (CI runs it too).
    @Test func hundredsOfWaitersWithShortTimeoutsGetEveryMessageOnce() async throws {
        try await withTimeout(.seconds(40)) {
            let (push, pull) = try await pipeline(lingerZero: true)
            let total = 2_000
            let waiters = 200
            let sender = Task {
                for index in 0..<total {
                    // Pauses longer than the shortest timeouts, so that receives time out meanwhile.
                    if index % 100 == 0 { try await Task.sleep(for: .milliseconds(20)) }
                    try await push.send(bytes("\(index)"))
                }
            }
            // Each waiter loops on a receive with a timeout of 1 to 50 ms, as a server's workers
            // polling for work would; most receives time out and line up again at once.
            let received = try await withThrowingTaskGroup(of: (messages: [Int], timeouts: Int).self) { group in
                let done = ManagedCounter()
                for _ in 0..<waiters {
                    group.addTask {
                        var messages: [Int] = []
                        var timeouts = 0
                        while done.value < total {
                            do {
                                let message = try await pull.recv(timeout: .milliseconds(Int64.random(in: 1...50)))
                                messages.append(Int(String(decoding: message, as: UTF8.self))!)
                                done.add(1)
                            } catch ZMQError.timedOut {
                                timeouts += 1
                            }
                        }
                        return (messages, timeouts)
                    }
                }
                var all: [Int] = []
                var timeouts = 0
                for try await result in group {
                    all += result.messages
                    timeouts += result.timeouts
                }
                #expect(timeouts > 0, "the waiters timed out and lined up again")
                return all
            }
            try await sender.value
            #expect(received.count == total)
            #expect(Set(received) == Set(0..<total), "every message once")
            #expect(Reactor.shared.pendingTimers(token: pull.token) == 0)
            #expect(await pull.suspendedCalls.receive == 0)
        }
    }

    @Test func waitersTimingOutBehindAHeadThatWaitsForEverKeepTheLineSmall() async throws {
        try await withTimeout(.seconds(30)) {
            let (push, pull) = try await pipeline(lingerZero: true)
            let head = Task { try await pull.recv() }
            try await eventually { await pull.suspendedCalls.receive == 1 }
            // Each of these joins the line behind the head and leaves it at its timeout.
            for _ in 0..<600 {
                await #expect(throws: ZMQError.timedOut) { try await pull.recv(timeout: .milliseconds(1)) }
            }
            #expect(pull.waiters.storedIDs.receive <= 2 * 1 + 64 + 1)
            try await push.send("for the head")
            #expect(try await head.value == bytes("for the head"))
        }
    }

    @Test func waitsThatEndInTimeRemoveTheirTimers() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline(lingerZero: true)
            try await pull.set(.receiveTimeout, .seconds(30))
            let token = pull.token
            for index in 0..<50 {
                let waiting = Task { try await pull.recv() }
                try await eventually { await pull.suspendedCalls.receive == 1 }
                #expect(Reactor.shared.pendingTimers(token: token) == 1)
                try await push.send("\(index)")
                #expect(try await waiting.value == bytes("\(index)"))
                #expect(Reactor.shared.pendingTimers(token: token) == 0)
            }
            // Closing a socket ends its timed waiters and their timers.
            let waiting = Task { try await pull.recv() }
            try await eventually { await pull.suspendedCalls.receive == 1 }
            await pull.close()
            await #expect(throws: ZMQError.socketClosed) { try await waiting.value }
            #expect(Reactor.shared.pendingTimers(token: token) == 0)
        }
    }

    @Test func manySocketsTimeOutIndependently() async throws {
        try await withTimeout(.seconds(30)) {
            let pulls = try (0..<100).map { _ in try Socket.pull() }
            for pull in pulls { try await bindFresh(pull, .inproc) }
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for (index, pull) in pulls.enumerated() {
                    group.addTask {
                        do {
                            _ = try await pull.recv(timeout: .milliseconds(Int64(1 + (index * 37) % 50)))
                            return false
                        } catch ZMQError.timedOut {
                            return true
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.count == pulls.count && outcomes.allSatisfy { $0 })
            for pull in pulls { await pull.close() }
        }
    }

    @Test func negativeTimeoutsAreRefused() async throws {
        let (push, pull) = try await pipeline(lingerZero: true)
        await #expect(throws: ZMQError.invalidArgument) { try await pull.recv(timeout: .milliseconds(-1)) }
        await #expect(throws: ZMQError.invalidArgument) { try await push.send("x", timeout: .seconds(-1)) }
        let error = await #expect(throws: ZMQError.invalidArgument) { try await push.set(.sendTimeout, .milliseconds(-1)) }
        #expect(error?.description.hasPrefix("set ZMQ_SNDTIMEO (sendTimeout) = -1 ms on PUSH socket (must not be negative)") == true)
        #expect(try await push.get(.sendTimeout) == nil)
    }

    @Test func cancellationStillWorksWithATimeout() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline(lingerZero: true)
            let waiting = Task { try await pull.recv(timeout: .seconds(30)) }
            try await eventually { await pull.suspendedCalls.receive == 1 }
            waiting.cancel()
            await #expect(throws: CancellationError.self) { try await waiting.value }
            #expect(Reactor.shared.pendingTimers(token: pull.token) == 0)
            try await push.send("after cancel")
            #expect(try await pull.recv(timeout: .seconds(10)) == bytes("after cancel"))
        }
    }
}

extension TimerQueue {
    /// Every expired entry, taken in rounds of a buffer of 7 (the reactor's is bigger), earliest first.
    mutating func popExpired(now: UInt64) -> [Entry] {
        var all: [Entry] = []
        withUnsafeTemporaryAllocation(of: Entry.self, capacity: 7) { buffer in
            while true {
                let count = popExpired(now: now, into: buffer)
                all += buffer[..<count]
                if count < buffer.count { break }
            }
        }
        return all
    }
}

/// The parts of the wait mechanism that timeouts rely on, tested directly.
@Suite(.timeLimit(.minutes(1)))
struct TimerMechanismTests {
    @Test func timerQueueReturnsLiveDeadlinesInOrder() {
        var queue = TimerQueue()
        var keys: [UInt64: UInt64] = [:]  // key -> deadline
        for _ in 0..<500 {
            let deadline = UInt64.random(in: 1...1_000_000)
            keys[queue.add(deadline: deadline, token: 1, waiter: 0, direction: .receive)] = deadline
        }
        let removed = Set(keys.keys.shuffled().prefix(300))
        for key in removed { queue.remove(key) }
        #expect(queue.count(token: 1) == 200)
        let expired = queue.popExpired(now: 500_000)
        let deadlines = expired.map(\.deadline)
        #expect(deadlines == deadlines.sorted())
        #expect(Set(expired.map(\.key)) == Set(keys.filter { !removed.contains($0.key) && $0.value <= 500_000 }.keys))
        let rest = queue.popExpired(now: .max)
        #expect(expired.count + rest.count == 200)
        #expect(queue.earliest() == nil)
    }

    /// The head of a line serves the receivers parked right behind it, in line order, until one
    /// cannot be served; a served waiter can no longer time out, one that was not is untouched.
    @Test func theHeadServesTheParkedReceiversBehindItInLineOrder() async throws {
        try await withTimeout {
            let queue = WaitQueue()
            let socket = try Socket.pull()
            let servers = (0..<4).map { _ in Served(Receive<Int>(take: { _, _, _ in nil }, frame: socket.frame, unread: socket.unread)) }
            var tasks: [Task<Void, any Error>] = []
            for id in 0..<5 {
                let server: Server? = id == 0 || id == 4 ? nil : servers[id]
                tasks.append(Task {
                    try await withUnsafeThrowingContinuation { continuation in
                        queue.park(UInt64(id), .receive, continuation, interruptible: true, server: server)
                    }
                })
                try await eventually { queue.count.receive == id + 1 }
            }
            #expect(queue.wakeFirst(.receive))
            try await tasks[0].value
            let asked = Locked<[ObjectIdentifier]>([])
            let served = queue.serve(behind: 0, .receive, limit: 16) { server in
                asked.withLock { $0.append(ObjectIdentifier(server)); return $0.count <= 2 }
            }
            #expect(asked.withLock { $0 } == [1, 2, 3].map { ObjectIdentifier(servers[$0]) })
            #expect(served.count == 2)
            #expect(queue.fail(1, .receive, with: ZMQError.timedOut) == false, "a served waiter has left the line")
            #expect(queue.count.receive == 3, "the head, and the waiters not served")
            served.forEach { $0.resume() }
            try await tasks[1].value
            try await tasks[2].value
            // Waiter 3 was asked but not served: still parked, so its timeout can end it.
            #expect(queue.fail(3, .receive, with: ZMQError.timedOut))
            await #expect(throws: ZMQError.timedOut) { try await tasks[3].value }
            // Waiter 4, next behind the head now, has no server: a round serves nobody.
            #expect(queue.serve(behind: 0, .receive, limit: 16) { _ in Issue.record("asked a waiter with no server"); return true }.isEmpty)
            #expect(queue.fail(4, .receive, with: ZMQError.timedOut))
            await #expect(throws: ZMQError.timedOut) { try await tasks[4].value }
            await socket.close()
        }
    }

    @Test func aWaiterInTheMiddleOfAMultipartMessageCannotBeInterrupted() async throws {
        try await withTimeout {
            let queue = WaitQueue()
            let parked = Task {
                try await withUnsafeThrowingContinuation { continuation in
                    queue.park(1, .receive, continuation, interruptible: false)
                }
            }
            try await eventually { !queue.isIdle(.receive) }
            #expect(queue.fail(1, .receive, with: ZMQError.timedOut) == false)
            #expect(queue.wakeFirst(.receive))
            try await parked.value
        }
    }

    @Test func reactorTimerFailsAWaitingWaiter() async throws {
        try await withTimeout {
            let queue = WaitQueue()
            let token = Reactor.shared.register(queue)
            let parked = Task {
                try await withUnsafeThrowingContinuation { continuation in
                    queue.park(7, .send, continuation, interruptible: true)
                }
            }
            try await eventually { !queue.isIdle(.send) }
            _ = Reactor.shared.addTimer(deadline: MonotonicClock.now() + 5_000_000, token: token, waiter: 7, direction: .send)
            // `TimerFired`: the waiter's call then knows the timer is gone, and throws `timedOut`.
            await #expect(throws: TimerFired.self) { try await parked.value }
            #expect(queue.isIdle(.send))
            #expect(Reactor.shared.pendingTimers(token: token) == 0)
            Reactor.shared.unregister(fd: -1, token: token, added: false)
        }
    }
}

/// A counter that tasks share. (A `Locked`, not a `Mutex`, whose futex hand-off ThreadSanitizer
/// cannot see: it reported this counter as a race.)
final class ManagedCounter: Sendable {
    private let count = Locked(0)
    var value: Int { count.withLock { $0 } }
    func add(_ amount: Int) { count.withLock { $0 += amount } }
}
