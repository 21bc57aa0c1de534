import Testing
@testable import ZMQ

/// `count` PULL sockets, each bound to its own inproc endpoint, in a context of their own (a
/// context allows 1023 sockets by default, and other tests share `Context.shared`).
private func pullSockets(_ count: Int, context: Context) async throws -> [(socket: Socket, endpoint: String)] {
    var sockets: [(Socket, String)] = []
    for _ in 0..<count {
        let pull = try Socket.pull(context: context)
        let endpoint = try await bindFresh(pull, .inproc)
        try await pull.set(.linger, .zero)
        sockets.append((pull, endpoint))
    }
    return sockets
}

private func closeAll(_ sockets: [Socket]) async {
    for socket in sockets { await socket.close() }
}

private func ids(_ items: [Poller.Item]) -> [ObjectIdentifier] {
    items.map { ObjectIdentifier($0.socket) }
}

@Suite(.timeLimit(.minutes(1)))
struct PollerTests {
    @Test func pollOfAThousandSocketsReturnsExactlyTheOnesWithMessages() async throws {
        try await withTimeout(.seconds(30)) {
            let context = try Context()
            let pulls = try await pullSockets(1000, context: context)
            var poller = Poller()
            for pull in pulls { poller.add(pull.socket, events: .readable) }

            let chosen = [3, 500, 998]
            var pushes: [Socket] = []
            for index in chosen {
                let push = try await Socket.push(context: context).connect(pulls[index].endpoint)
                try await push.send("for \(index)")
                pushes.append(push)
            }
            let ready = try await poller.poll(timeout: .seconds(5))
            #expect(ids(ready) == chosen.map { ObjectIdentifier(pulls[$0].socket) })
            #expect(ready.allSatisfy { $0.events == .readable })
            // Polling consumed nothing: each message is still there, and then nothing is ready.
            for (index, item) in zip(chosen, ready) {
                #expect(try await item.socket.recv(as: String.self) == "for \(index)")
            }
            #expect(try await poller.poll(timeout: .zero).isEmpty)

            await closeAll(pushes + pulls.map(\.socket))
        }
    }

    @Test func waitingPollWakesForTheOneSocketThatGetsAMessage() async throws {
        try await withTimeout(.seconds(30)) {
            let context = try Context()
            let pulls = try await pullSockets(1000, context: context)
            var poller = Poller()
            for pull in pulls { poller.add(pull.socket) }

            let polling = Task { [poller] in try await poller.poll() }
            try await eventually { [poller] in poller.waitingPolls == 1 }
            // Waiting costs the sockets nothing: no waiter in any socket's line.
            #expect(await pulls[999].socket.suspendedCalls.receive == 0)
            let push = try await Socket.push(context: context).connect(pulls[321].endpoint)
            try await push.send("wake")

            let ready = try await polling.cancellableValue
            #expect(ids(ready) == [ObjectIdentifier(pulls[321].socket)])
            #expect(try await pulls[321].socket.recv(as: String.self) == "wake")
            #expect(poller.waitingPolls == 0)
            await closeAll([push] + pulls.map(\.socket))
        }
    }

    @Test func pollReadsTheEventsOnlyOfSocketsThatMayHaveChanged() async throws {
        try await withTimeout(.seconds(30)) {
            let context = try Context()
            let pulls = try await pullSockets(1000, context: context)
            var poller = Poller()
            for pull in pulls { poller.add(pull.socket) }
            let push = try await Socket.push(context: context).connect(pulls[500].endpoint)
            // The first poll looks at every socket once.
            #expect(try await poller.poll(timeout: .zero).isEmpty)
            let before = pulls.map { $0.socket.calls.load(ordering: .relaxed) }
            for index in 0..<20 {
                try await push.send([UInt8(index)])
                let ready = try await poller.poll(timeout: .seconds(5))
                #expect(ids(ready) == [ObjectIdentifier(pulls[500].socket)])
                #expect(try await pulls[500].socket.recv() == [UInt8(index)])
            }
            // Each libzmq call on a socket counts; the idle sockets were never asked again.
            let after = pulls.map { $0.socket.calls.load(ordering: .relaxed) }
            for index in pulls.indices where index != 500 {
                #expect(after[index] == before[index], "socket \(index) was read")
            }
            #expect(after[500] > before[500])
            await closeAll([push] + pulls.map(\.socket))
        }
    }

    @Test func aCallByAnotherTaskWakesAWaitingPoll() async throws {
        try await withTimeout {
            let rep = try Socket.rep()
            let endpoint = try await bindFresh(rep, .inproc)
            let req = try await Socket.req().connect(endpoint)
            var poller = Poller()
            // A REP can send only once it has received a request: its own receive makes it writable,
            // and nothing reaches its mailbox then.
            poller.add(rep, events: .writable)
            #expect(try await poller.poll(timeout: .zero).isEmpty)
            let polling = Task { [poller] in try await poller.poll() }
            try await eventually { [poller] in poller.waitingPolls == 1 }
            try await req.send("request")
            #expect(try await rep.recv(as: String.self) == "request")
            let ready = try await polling.cancellableValue
            #expect(ids(ready) == [ObjectIdentifier(rep)])
            #expect(ready.first?.events == .writable)
            await req.close()
            await rep.close()
        }
    }

    @Test func pollTimesOutWithNothingReady() async throws {
        try await withTimeout {
            let pull = try Socket.pull()
            try await bindFresh(pull, .inproc)
            var poller = Poller()
            poller.add(pull)
            let start = ContinuousClock.now
            #expect(try await poller.poll(timeout: .milliseconds(50)).isEmpty)
            #expect(ContinuousClock.now - start >= .milliseconds(50))
            #expect(try await poller.poll(timeout: .zero).isEmpty)
            #expect(await pull.suspendedCalls.receive == 0)
            await pull.close()
        }
    }

    @Test func pollReportsWritableWhenAPeerConnects() async throws {
        try await withTimeout {
            let push = try Socket.push()
            let endpoint = try await bindFresh(push, .inproc)
            var poller = Poller()
            poller.add(push, events: [.readable, .writable])
            // A PUSH without peers cannot send: not writable, and never readable.
            #expect(try await poller.poll(timeout: .zero).isEmpty)

            let polling = Task { [poller] in try await poller.poll() }
            try await eventually { [poller] in poller.waitingPolls == 1 }
            let pull = try await Socket.pull().connect(endpoint)
            let ready = try await polling.cancellableValue
            #expect(ids(ready) == [ObjectIdentifier(push)])
            #expect(ready.first?.events == .writable)
            await push.close()
            await pull.close()
        }
    }

    @Test func cancelledPollThrowsAndLeavesTheSocketsUsable() async throws {
        try await withTimeout {
            let pull = try Socket.pull()
            let endpoint = try await bindFresh(pull, .inproc)
            var poller = Poller()
            poller.add(pull)
            let polling = Task { [poller] in try await poller.poll() }
            try await eventually { [poller] in poller.waitingPolls == 1 }
            polling.cancel()
            await #expect(throws: CancellationError.self) { try await polling.cancellableValue }
            #expect(poller.waitingPolls == 0)

            let push = try await Socket.push().connect(endpoint)
            try await push.send("after")
            #expect(try await pull.recv(as: String.self) == "after")
            await push.close()
            await pull.close()
        }
    }

    @Test func framesAStreamHandedBackCountAsReadable() async throws {
        try await withTimeout {
            let pull = try Socket.pull()
            let endpoint = try await bindFresh(pull, .inproc)
            let push = try await Socket.push().connect(endpoint)
            for index in 0..<5 { try await push.send("\(index)") }
            for try await _ in pull.messages { break }
            // libzmq's queue is empty now; the four undelivered frames are with the socket.
            #expect(pull.unread.count == 4)
            var poller = Poller()
            poller.add(pull)
            #expect(ids(try await poller.poll(timeout: .zero)) == [ObjectIdentifier(pull)])
            #expect(try await pull.recv(as: String.self) == "1")
            await push.close()
            await pull.close()
        }
    }

    @Test func pollerWithoutSocketsNeedsATimeout() async throws {
        try await withTimeout {
            let poller = Poller()
            await #expect(throws: ZMQError.invalidArgument) { try await poller.poll() }
            let ready = try await poller.poll(timeout: .milliseconds(1))
            #expect(ready.isEmpty)
        }
    }

    @Test func pollingAClosedSocketThrows() async throws {
        try await withTimeout {
            let pull = try Socket.pull()
            var poller = Poller()
            poller.add(pull)
            await pull.close()
            await #expect(throws: ZMQError.socketClosed) { try await poller.poll(timeout: .zero) }
        }
    }

    @Test func addingASocketAgainMergesItsEventsAndRemoveDropsIt() throws {
        let first = try Socket.pull()
        let second = try Socket.push()
        var poller = Poller()
        poller.add(first, events: .readable)
        poller.add(second, events: .writable)
        poller.add(first, events: .writable)
        #expect(poller.items.count == 2)
        #expect(poller.items.first?.events == [.readable, .writable])
        poller.remove(first)
        #expect(poller.items.map { ObjectIdentifier($0.socket) } == [ObjectIdentifier(second)])
    }
}
