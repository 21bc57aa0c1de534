import Foundation

import Testing
@testable import ZMQ

@Suite(.timeLimit(.minutes(1)))
struct SocketBehaviourTests {

    @Test func queuedMessageIsReturnedWithoutSuspending() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline()
            try await push.send("queued")
            try await eventually { (try? await pull.recvIfQueuedPeek()) == true }
            #expect(try await pull.recv() == Array("queued".utf8))
            #expect(await pull.suspendedCalls.receive == 0)
        }
    }

    @Test func receiveIntoABufferReusesItsStorage() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline()
            let sizes = [300, 5, 0, 120, 300]
            for (index, size) in sizes.enumerated() {
                try await push.send([UInt8](repeating: UInt8(index), count: size))
            }
            var buffer: [UInt8] = []
            try await pull.recv(into: &buffer)
            #expect(buffer == [UInt8](repeating: 0, count: 300))
            let storage = buffer.withUnsafeBufferPointer { $0.baseAddress }
            for (index, size) in sizes.enumerated().dropFirst() {
                try await pull.recv(into: &buffer)
                #expect(buffer == [UInt8](repeating: UInt8(index), count: size), "message \(index) replaced the contents")
                #expect(buffer.capacity >= 300)
                // Nothing was allocated: the frame was copied into the same storage.
                #expect(buffer.withUnsafeBufferPointer { $0.baseAddress } == storage)
            }

            // A receive that times out leaves the buffer as it was; one that waits fills it.
            await #expect(throws: ZMQError.timedOut) { try await pull.recv(into: &buffer, timeout: .milliseconds(10)) }
            #expect(buffer == [UInt8](repeating: 4, count: 300))
            let sender = Task {
                try await eventually { await pull.suspendedCalls.receive == 1 }
                try await push.send("after a wait")
            }
            try await pull.recv(into: &buffer)
            #expect(buffer == Array("after a wait".utf8))
            #expect(buffer.withUnsafeBufferPointer { $0.baseAddress } == storage, "the receive that waited copied into the same storage")
            try await sender.value
        }
    }

    @Test func receivesIntoBuffersThatWaitInLineGetEveryMessageOnce() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline()
            // Parked behind the head, a receiver is served by the one ahead of it, which hands it its
            // frame as a new array; the head copies into its own buffer.
            let receivers = (0..<8).map { _ in
                Task { () throws -> [String] in
                    var buffer = [UInt8](repeating: 0xEE, count: 64)
                    var received: [String] = []
                    for _ in 0..<25 {
                        try await pull.recv(into: &buffer)
                        received.append(String(decoding: buffer, as: UTF8.self))
                    }
                    return received
                }
            }
            try await eventually { await pull.suspendedCalls.receive == 8 }
            for index in 0..<200 { try await push.send("message \(index)") }
            var all: [String] = []
            for receiver in receivers { all += try await receiver.value }
            #expect(all.sorted() == (0..<200).map { "message \($0)" }.sorted())
        }
    }

    @Test func receiveIntoABufferTakesFramesAStreamHandedBackFirst() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline()
            for index in 0..<5 { try await push.send("\(index)") }
            try await eventually { (try? await pull.recvIfQueuedPeek()) == true }
            for try await _ in pull.messages { break }       // takes a batch, delivers "0"
            #expect(pull.unread.count == 4, "the stream handed the rest of its batch back")
            var buffer: [UInt8] = []
            for index in 1..<5 {
                try await pull.recv(into: &buffer)
                #expect(buffer == Array("\(index)".utf8))
            }
        }
    }

    @Test func cancelledReceiveThrowsAndLosesNothing() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline()
            let waiting = Task { try await pull.recv() }
            try await eventually { await pull.suspendedCalls.receive == 1 }
            waiting.cancel()
            await #expect(throws: CancellationError.self) { try await waiting.value }
            #expect(await pull.suspendedCalls.receive == 0)

            try await push.send("after cancel")
            #expect(try await pull.recv() == Array("after cancel".utf8))
        }
    }

    @Test func receiversAreServedInOrderEachMessageOnce() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline()
            var receivers: [Task<[UInt8], any Error>] = []
            for index in 0..<5 {
                receivers.append(Task { try await pull.recv() })
                try await eventually { await pull.suspendedCalls.receive == index + 1 }
            }
            for index in 0..<5 { try await push.send("m\(index)") }
            for (index, receiver) in receivers.enumerated() {
                #expect(try await receiver.value == Array("m\(index)".utf8))
            }
        }
    }

    /// More receivers than one round of serving takes (`Socket.serveLimit`): the line drains a burst
    /// in rounds, each receiver getting the message of its place in line.
    @Test func aLongLineOfReceiversDrainsABurstInOrder() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline()
            let count = 3 * Socket.serveLimit + 5
            var receivers: [Task<[UInt8], any Error>] = []
            for index in 0..<count {
                receivers.append(Task { try await pull.recv() })
                try await eventually { await pull.suspendedCalls.receive == index + 1 }
            }
            for index in 0..<count { try await push.send("m\(index)") }
            for (index, receiver) in receivers.enumerated() {
                #expect(try await receiver.value == Array("m\(index)".utf8))
            }
            #expect(await pull.suspendedCalls.receive == 0)
        }
    }

    @Test func cancellingOneOfSeveralReceiversKeepsTheOthersInOrder() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline()
            let first = Task { try await pull.recv() }
            try await eventually { await pull.suspendedCalls.receive == 1 }
            let second = Task { try await pull.recv() }
            try await eventually { await pull.suspendedCalls.receive == 2 }
            let third = Task { try await pull.recv() }
            try await eventually { await pull.suspendedCalls.receive == 3 }
            second.cancel()
            await #expect(throws: CancellationError.self) { try await second.value }
            try await push.send("a")
            try await push.send("b")
            #expect(try await first.value == Array("a".utf8))
            #expect(try await third.value == Array("b".utf8))
        }
    }

    @Test func randomCancellationNeverLosesOrDuplicates() async throws {
        try await withTimeout(.seconds(30)) {
            let (push, pull) = try await pipeline()
            let total = 2_000
            let sender = Task {
                for index in 0..<total { try await push.sendMultipart([Array("\(index)".utf8), [1, 2, 3]]) }
            }
            var received: [Int] = []
            while received.count < total {
                let receiver = Task { try await pull.recvMultipart() }
                if Bool.random() { receiver.cancel() }
                do {
                    let parts = try await receiver.value
                    #expect(parts.count == 2 && parts[1] == [1, 2, 3])
                    received.append(Int(String(decoding: parts[0], as: UTF8.self))!)
                } catch is CancellationError {}
            }
            try await sender.value
            #expect(received == Array(0..<total))
        }
    }

    @Test func concurrentMultipartSendersNeverInterleave() async throws {
        try await withTimeout(.seconds(30)) {
            let (push, pull) = try await pipeline()
            let senders = 8, perSender = 200
            try await withThrowingTaskGroup(of: Void.self) { group in
                for sender in 0..<senders {
                    group.addTask {
                        for index in 0..<perSender {
                            try await push.sendMultipart([[UInt8(sender)], Array("\(index)".utf8), [UInt8(sender)]])
                        }
                    }
                }
                var next = [Int](repeating: 0, count: senders)
                for _ in 0..<(senders * perSender) {
                    let parts = try await pull.recvMultipart()
                    #expect(parts.count == 3)
                    #expect(parts[0] == parts[2], "frames of one message stay together")
                    let sender = Int(parts[0][0])
                    #expect(parts[1] == Array("\(next[sender])".utf8), "each sender's messages stay in order")
                    next[sender] += 1
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func sendWaitsForRoomUnderHighWaterMark() async throws {
        try await withTimeout {
            // No peer yet: PUSH has nowhere to put the message, so send must suspend, not fail or block.
            let push = try Socket.push()
            let endpoint = freshEndpoint(.inproc)
            try await push.bind(endpoint)
            let sending = Task { try await push.send("waiting for a peer") }
            try await eventually { await push.suspendedCalls.send == 1 }
            let pull = try await Socket.pull().connect(endpoint)
            try await sending.value
            #expect(try await pull.recv() == Array("waiting for a peer".utf8))
        }
    }

    @Test func closedSocketRefusesEveryCall() async throws {
        let socket = try Socket.pair()
        await socket.close()
        await socket.close()  // idempotent
        #expect(await socket.isClosed)
        await #expect(throws: ZMQError.socketClosed) { try await socket.send("x") }
        await #expect(throws: ZMQError.socketClosed) { try await socket.recv() }
        await #expect(throws: ZMQError.socketClosed) { try await socket.sendMultipart([[1]]) }
        await #expect(throws: ZMQError.socketClosed) { try await socket.recvMultipart() }
        await #expect(throws: ZMQError.socketClosed) { try await socket.bind(freshEndpoint(.inproc)) }
        await #expect(throws: ZMQError.socketClosed) { try await socket.connect(freshEndpoint(.inproc)) }
        #expect(await socket.lastEndpoint == nil)
        let error = await #expect(throws: ZMQError.self) { try await socket.recv() }
        #expect(error?.description.contains("closed") == true)
    }

    @Test func closeWakesWaitersWithClosedError() async throws {
        try await withTimeout {
            let (_, pull) = try await pipeline()
            let waiting = Task { try await pull.recv() }
            try await eventually { await pull.suspendedCalls.receive == 1 }
            await pull.close()
            await #expect(throws: ZMQError.socketClosed) { try await waiting.value }
        }
    }

    /// A waiter can line up or park again after a close ended the waiters it found: a woken receiver
    /// whose attempt found nothing parks again after releasing the lock, and a close can come in
    /// between. Parking at the head reads the socket's state (`schedule()`, as `park` does), and on
    /// a closed socket that must wake the waiter to see the error, not leave it waiting for ever.
    @Test func aWaiterThatParksOnAClosedSocketIsWokenToSeeTheError() async throws {
        try await withTimeout(.seconds(10)) {
            let (_, pull) = try await pipeline()
            await pull.close()
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                #expect(pull.waiters.park(1, .receive, continuation, interruptible: true))
                pull.schedule()
            }
            pull.waiters.leave(1, .receive)
            await #expect(throws: ZMQError.socketClosed) { try await pull.recv() }
        }
    }

    @Test func contextShutdownWakesWaitersWithTerminatedError() async throws {
        try await withTimeout {
            let context = try Context()
            let (push, pull) = try await pipeline(context: context)
            let waiting = Task { try await pull.recv() }
            try await eventually { await pull.suspendedCalls.receive == 1 }
            context.shutdown()
            await #expect(throws: ZMQError.contextTerminated) { try await waiting.value }
            #expect(throws: ZMQError.contextTerminated) { try Socket.pair(context: context) }
            await push.close()
            await pull.close()
        }
    }

    @Test(arguments: [
        "tcp://", "foo://x", "tcp://127.0.0.1:99999", "inproc://",
        "ipc:///tmp/" + String(repeating: "x", count: 200), "not an endpoint",
    ])
    func badEndpointIsRefusedWithErrorNamingIt(_ endpoint: String) async throws {
        let socket = try Socket.pull()
        let error = await #expect(throws: ZMQError.self) { try await socket.bind(endpoint) }
        #expect(error?.kind == .libzmq)
        #expect(error?.description.contains(endpoint) == true)
        // The socket is still usable afterwards.
        try await socket.bind(freshEndpoint(.inproc))
        await socket.close()
    }

    @Test func bindingAnAddressInUseFails() async throws {
        let first = try Socket.pull()
        let endpoint = try await bindFresh(first, .tcp)
        let second = try Socket.pull()
        await #expect(throws: ZMQError.addressInUse) { try await second.bind(endpoint) }
        await first.close()
        await second.close()
    }

    @Test(arguments: [SocketType.pub, .push, .pull, .req, .rep, .dealer, .router, .pair, .xpub, .stream])
    func subscribeOnWrongTypeThrows(_ type: SocketType) async throws {
        let socket = try Socket(type)
        let error = await #expect(throws: ZMQError.wrongSocketType) { try await socket.subscribe("topic") }
        #expect(error?.description.contains("\(type)") == true)
        await #expect(throws: ZMQError.wrongSocketType) { try await socket.unsubscribe() }
    }

    @Test func unsubscribeStopsDelivery() async throws {
        try await withTimeout {
            let publisher = try Socket.pub()
            let endpoint = try await bindFresh(publisher, .inproc)
            let subscriber = try await Socket.sub().connect(endpoint).subscribe("a").subscribe("b")
            try await awaitSubscription(publisher: publisher, subscriber: subscriber, probe: "a probe")
            try await subscriber.unsubscribe("a")
            // Prove the unsubscription reached the publisher: "b" still flows, "a" no longer does.
            try await awaitSubscription(publisher: publisher, subscriber: subscriber, probe: "b probe")
            try await publisher.send("a gone")
            try await publisher.send("b here")
            #expect(try await subscriber.recv() == Array("b here".utf8))
        }
    }

    @Test func reqSendingTwiceIsAStateError() async throws {
        let rep = try Socket.rep()
        let endpoint = try await bindFresh(rep, .inproc)
        let req = try await Socket.req().connect(endpoint)
        try await req.send("one")
        await #expect(throws: ZMQError.invalidState) { try await req.send("two") }
    }

    @Test func emptyMultipartIsRefused() async throws {
        let socket = try Socket.push()
        await #expect(throws: ZMQError.invalidArgument) { try await socket.sendMultipart([]) }
    }

    @Test func wildcardBindReportsItsPort() async throws {
        let socket = try await Socket.pull().bind("tcp://127.0.0.1:*")
        let endpoint = try #require(await socket.lastEndpoint)
        #expect(endpoint.hasPrefix("tcp://127.0.0.1:"))
        #expect(Int(endpoint.split(separator: ":").last!)! > 0)
        try await socket.unbind(endpoint)
        await #expect(throws: ZMQError.noSuchEndpoint) { try await socket.unbind(endpoint) }
    }

    @Test func droppedSocketIsClosed() async throws {
        try await withTimeout {
            var router: Socket? = try Socket.router()
            let endpoint = try await bindFresh(router!, .tcp)
            let client = try RawTCPClient(endpoint: endpoint)
            client.write([0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F])  // a ZMTP greeting start, so the peer answers
            let greeting = try await client.read(upTo: 10)
            #expect(!greeting.isEmpty, "the router answers while it lives")
            router = nil
            // The libzmq socket closes with its Swift owner, which closes the TCP connection: the
            // client reads to the end of the stream (a read that times out throws instead).
            var received = greeting.count
            while case let rest = try await client.read(), !rest.isEmpty { received += rest.count }
            #expect(received >= 10, "the whole greeting came before the end of the stream")
        }
    }

    @Test func withSocketClosesAfterBodyReturnsOrThrows() async throws {
        let kept = try await withSocket(.pair) { socket in
            try await socket.bind(freshEndpoint(.inproc))
            return socket
        }
        #expect(await kept.isClosed)

        struct Boom: Error {}
        let escaped = Locked<Socket?>(nil)
        await #expect(throws: Boom.self) {
            try await withSocket(.pair) { socket in
                escaped.withLock { $0 = socket }
                throw Boom()
            }
        }
        let socket = try #require(escaped.withLock { $0 })
        #expect(await socket.isClosed)
    }

    @Test func idleSocketsDoNotNeedAThreadEach() async throws {
        try await withTimeout(.seconds(30)) {
            let pulls = try (0..<300).map { _ in try Socket.pull() }
            var endpoints: [String] = []
            for pull in pulls { endpoints.append(try await bindFresh(pull, .inproc)) }
            let results = try await withThrowingTaskGroup(of: [UInt8].self) { group in
                for pull in pulls { group.addTask { try await pull.recv() } }
                for pull in pulls { try await eventually { await pull.suspendedCalls.receive == 1 } }
                let push = try Socket.push()
                for endpoint in endpoints { try await push.connect(endpoint) }
                for index in 0..<pulls.count { try await push.send("\(index)") }
                var all: [[UInt8]] = []
                for try await message in group { all.append(message) }
                return all
            }
            #expect(Set(results).count == pulls.count)
        }
    }

    @Test func errorsDescribeThemselves() {
        #expect(ZMQError.addressInUse.description.lowercased().contains("address"))
        #expect(ZMQError.contextTerminated.description.lowercased().contains("context"))
        #expect(ZMQError.invalidState.description.lowercased().contains("state"))
        #expect(ZMQError(code: 22, detail: "bind x").description.hasPrefix("bind x: "))
        #expect(ZMQLibrary.version >= ZMQLibrary.Version(major: 4, minor: 0, patch: 0))
        #expect(ZMQLibrary.has(.ipc))
    }
}

extension Socket {
    /// Whether a frame is queued, without taking it (test helper).
    func recvIfQueuedPeek() throws -> Bool {
        try withHandle("get ZMQ_EVENTS") { try LibZMQ.events($0) } & 1 != 0
    }
}
