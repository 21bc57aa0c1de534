import Testing
@testable import ZMQ

/// A PULL socket bound over inproc with a connected PUSH that has already queued `count` messages
/// "0", "1", ... (inproc delivers into the PULL's queue as each send completes).
private func queuedPipeline(_ count: Int) async throws -> (pull: Socket, push: Socket) {
    let pull = try Socket.pull()
    let endpoint = try await bindFresh(pull, .inproc)
    let push = try await Socket.push().connect(endpoint)
    for index in 0..<count { try await push.send("\(index)") }
    return (pull, push)
}

private func text(_ message: Message) -> String { String(decoding: message, as: UTF8.self) }

extension Task where Failure == any Error {
    /// The task's value; if the awaiting task is cancelled (by `withTimeout`), the task is cancelled
    /// too, so that a hang fails the test instead of stalling the run (`value` alone ignores cancellation).
    var cancellableValue: Success {
        get async throws {
            try await withTaskCancellationHandler { try await value } onCancel: { cancel() }
        }
    }
}

/// Suspends until the task is cancelled, without throwing.
private func untilCancelled() async {
    try? await Task.sleep(for: .seconds(3600))
}

@Suite(.timeLimit(.minutes(1)))
struct StreamTests {
    @Test func loopReceivesEveryMessageInOrder() async throws {
        try await withTimeout {
            let (pull, push) = try await queuedPipeline(0)
            let sender = Task {
                for index in 0..<500 { try await push.send("\(index)") }
            }
            var received: [String] = []
            for try await message in pull.messages {
                received.append(text(message))
                if received.count == 500 { break }
            }
            #expect(received == (0..<500).map(String.init))
            try await sender.cancellableValue
            await push.close()
            await pull.close()
        }
    }

    @Test func breakingOutOfTheLoopLosesNothing() async throws {
        try await withTimeout {
            let (pull, push) = try await queuedPipeline(200)
            var received: [String] = []
            for try await message in pull.messages {
                received.append(text(message))
                if received.count == 10 { break }
            }
            #expect(received == (0..<10).map(String.init))
            // The loop took one bounded batch; the frames it did not deliver went back to the socket,
            // and the rest never left libzmq's queue.
            #expect(pull.unread.count == Socket.batchMessages - 10)

            for index in 10..<200 {
                #expect(try await pull.recv(as: String.self) == "\(index)")
            }
            #expect(pull.unread.isEmpty)
            await push.close()
            await pull.close()
        }
    }

    @Test func aSecondLoopContinuesWhereTheFirstStopped() async throws {
        try await withTimeout {
            let (pull, push) = try await queuedPipeline(100)
            var received: [String] = []
            for try await message in pull.messages {
                received.append(text(message))
                if received.count == 3 { break }
            }
            for try await message in pull.messages {
                received.append(text(message))
                if received.count == 100 { break }
            }
            #expect(received == (0..<100).map(String.init))
            await push.close()
            await pull.close()
        }
    }

    @Test func cancellingTheConsumingTaskLosesNothing() async throws {
        try await withTimeout {
            let (pull, push) = try await queuedPipeline(100)
            let (reachedFive, reached) = AsyncStream.makeStream(of: Void.self)
            let consumer = Task {
                var received: [String] = []
                do {
                    for try await message in pull.messages {
                        received.append(text(message))
                        if received.count == 5 {
                            reached.yield()
                            await untilCancelled()
                        }
                    }
                } catch is CancellationError {
                    return (received, true)
                }
                return (received, false)
            }
            for await _ in reachedFive { break }
            consumer.cancel()
            let (received, threwCancellation) = try await consumer.cancellableValue
            #expect(threwCancellation)
            #expect(received == (0..<5).map(String.init))

            for index in 5..<100 {
                #expect(try await pull.recv(as: String.self) == "\(index)")
            }
            await push.close()
            await pull.close()
        }
    }

    @Test func cancellingALoopWaitingForMessagesLosesNothingSentLater() async throws {
        try await withTimeout {
            let (pull, push) = try await queuedPipeline(0)
            let consumer = Task {
                do {
                    for try await _ in pull.messages { return false }
                } catch is CancellationError {
                    return true
                }
                return false
            }
            try await eventually { await pull.suspendedCalls.receive == 1 }
            consumer.cancel()
            #expect(try await consumer.cancellableValue)
            for index in 0..<10 { try await push.send("\(index)") }
            for index in 0..<10 {
                #expect(try await pull.recv(as: String.self) == "\(index)")
            }
            await push.close()
            await pull.close()
        }
    }

    @Test func errorThrownInTheLoopBodyHandsTheBatchBack() async throws {
        struct Stop: Error {}
        try await withTimeout {
            let (pull, push) = try await queuedPipeline(20)
            await #expect(throws: Stop.self) {
                for try await message in pull.messages where text(message) == "2" { throw Stop() }
            }
            for index in 3..<20 {
                #expect(try await pull.recv(as: String.self) == "\(index)")
            }
            await push.close()
            await pull.close()
        }
    }

    /// A receiver that parked while a loop held the frames is woken when the loop hands them back.
    @Test func handBackWakesAWaitingReceiver() async throws {
        try await withTimeout {
            let (pull, push) = try await queuedPipeline(10)
            var iterator: Socket.Messages.AsyncIterator? = pull.messages.makeAsyncIterator()
            let first = try await iterator?.next()
            #expect(first.map(text) == "0")
            let waiter = Task { try await pull.recv(as: String.self) }
            try await eventually { await pull.suspendedCalls.receive == 1 }
            iterator = nil
            #expect(try await waiter.cancellableValue == "1")
            #expect(try await pull.recv(as: String.self) == "2")
            await push.close()
            await pull.close()
        }
    }

    /// The hand-back wakes the first waiter only; the socket must then see the stash as readable
    /// and wake the next one too.
    @Test func handBackServesEveryWaitingReceiverInOrder() async throws {
        try await withTimeout {
            let (pull, push) = try await queuedPipeline(10)
            var iterator: Socket.Messages.AsyncIterator? = pull.messages.makeAsyncIterator()
            _ = try await iterator?.next()
            let first = Task { try await pull.recv(as: String.self) }
            try await eventually { await pull.suspendedCalls.receive == 1 }
            let second = Task { try await pull.recv() }
            try await eventually { await pull.suspendedCalls.receive == 2 }
            iterator = nil
            #expect(try await first.cancellableValue == "1")
            #expect(try await second.cancellableValue == Array("2".utf8))
            #expect(try await pull.recv(as: String.self) == "3")
            await push.close()
            await pull.close()
        }
    }

    @Test func multipartLoopDeliversWholeMessagesAndBreakLosesNothing() async throws {
        try await withTimeout {
            let (pull, push) = try await queuedPipeline(0)
            for index in 0..<50 {
                try await push.sendMultipart([Message("key \(index)"), Message(), Message("value \(index)")])
            }
            var received: [[String]] = []
            for try await parts in pull.multipartMessages {
                received.append(parts.map(text))
                #expect(parts.map(\.hasMore) == [true, true, false])
                if received.count == 7 { break }
            }
            #expect(received == (0..<7).map { ["key \($0)", "", "value \($0)"] })
            for index in 7..<50 {
                let parts = try await pull.recvMultipart()
                #expect(parts == [Array("key \(index)".utf8), [], Array("value \(index)".utf8)])
            }
            await push.close()
            await pull.close()
        }
    }

    /// A frame loop that stops inside a multipart message leaves the rest of it to the next receive,
    /// exactly as libzmq does after single-frame receives.
    @Test func multipartReceiveCompletesAMessageAFrameLoopStartedAndHandedBack() async throws {
        try await withTimeout {
            let (pull, push) = try await queuedPipeline(0)
            try await push.sendMultipart([Message("a"), Message("b"), Message("c")])
            try await push.send("next")
            for try await message in pull.messages where text(message) == "a" { break }
            let rest = try await pull.recvMultipart(as: Message.self)
            #expect(rest.map(text) == ["b", "c"])
            #expect(try await pull.recv(as: String.self) == "next")
            await push.close()
            await pull.close()
        }
    }

    @Test func closingTheSocketEndsTheLoop() async throws {
        try await withTimeout {
            let (pull, push) = try await queuedPipeline(3)
            let consumer = Task {
                var count = 0
                for try await _ in pull.messages { count += 1 }
                return count
            }
            try await eventually { await pull.suspendedCalls.receive == 1 }
            await pull.close()
            #expect(try await consumer.cancellableValue == 3)
            await push.close()
        }
    }

    @Test func framesHandedBackOutOfOrderAreTakenInReceiveOrder() {
        let unread = UnreadFrames()
        let entries = (0..<10).map { unread.stamp(Message("\($0)"), precededByMore: false) }
        unread.putBack(entries[6...])
        unread.putBack(entries[2..<6])
        var taken: [String] = []
        while let frame = unread.takeFrame() { taken.append(text(frame)) }
        #expect(taken == (2..<10).map(String.init))
        #expect(unread.isEmpty)
    }
}

@Suite(.timeLimit(.minutes(1)))
struct ReceiveMoreTests {
    /// `get(.more)` is about the caller's last frame, not libzmq's, once a stream took frames ahead.
    @Test func moreIsAboutTheCallersLastFrameAfterAStreamReadAhead() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline(lingerZero: true)
            for name in ["a", "b", "c"] {
                try await push.sendMultipart([Array("\(name)1".utf8), Array("\(name)2".utf8)])
            }
            // All six frames are queued (inproc): the stream's first batch takes them all.
            try await eventually { (try? await pull.get(.events))?.contains(.readable) == true }
            for try await frame in pull.messages {
                #expect(frame.hasMore)
                #expect(String(decoding: frame, as: UTF8.self) == "a1")
                break
            }
            // libzmq's own flag is about c2 now (false); the caller's last frame is a1.
            #expect(pull.unread.count == 5, "the stream took the whole batch ahead")
            #expect(try await pull.get(.more) == true)
            #expect(try await pull.recv() == Array("a2".utf8))
            #expect(try await pull.get(.more) == false)
            #expect(try await pull.recv() == Array("b1".utf8))
            #expect(try await pull.get(.more) == true)
            #expect(try await pull.recvMultipart() == [Array("b2".utf8)])
            #expect(try await pull.get(.more) == false)
            #expect(try await pull.recv() == Array("c1".utf8))
            #expect(try await pull.get(.more) == true)
            #expect(try await pull.recv() == Array("c2".utf8))
            #expect(try await pull.get(.more) == false)
        }
    }
}
