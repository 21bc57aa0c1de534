import Testing
@testable import ZMQ

/// Sockets for a proxy test, each with linger 0.
private func sockets(_ types: SocketType..., context: Context = .shared) async throws -> [Socket] {
    var made: [Socket] = []
    for type in types {
        let socket = try Socket(type, context: context)
        try await socket.set(.linger, .zero)
        made.append(socket)
    }
    return made
}

/// Starts a proxy in a task of its own and waits until it owns its sockets.
private func startProxy(
    _ frontend: Socket, _ backend: Socket, capture: Socket? = nil, control: ProxyControl? = nil
) async throws -> Task<Void, any Error> {
    let task = Task { try await Socket.proxy(frontend, backend, capture: capture, control: control) }
    try await eventually { await frontend.lentToProxy }
    try await eventually { await backend.lentToProxy }
    return task
}

/// The result of `task`, or ``TimedOut`` after `duration` even if the task ignores cancellation: a
/// proxy that cannot be stopped fails the test instead of hanging it.
private func result<T: Sendable>(of task: Task<T, any Error>, within duration: Duration = .seconds(5)) async throws -> T {
    let once = Once<T>()
    return try await withCheckedThrowingContinuation { continuation in
        once.continuation.withLock { $0 = continuation }
        Task { once.resume(with: await task.result) }
        Task {
            try? await Task.sleep(for: duration)
            once.resume(with: .failure(TimedOut(duration: duration)))
        }
    }
}

/// A continuation resumed by whichever comes first.
private final class Once<T: Sendable>: Sendable {
    let continuation = Locked<CheckedContinuation<T, any Error>?>(nil)
    func resume(with result: Result<T, any Error>) {
        continuation.withLock { $0.take() }?.resume(with: result)
    }
}

/// Whether any of `sockets` is owned by a proxy.
private func anyLent(_ sockets: Socket...) async -> Bool {
    for socket in sockets where await socket.lentToProxy { return true }
    return false
}

private func closeAll(_ sockets: [Socket]) async {
    for socket in sockets { await socket.close() }
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A streamer (PUSH -> PULL frontend, PUSH backend -> PULL) with its endpoints connected.
private struct Streamer {
    let producer: Socket
    let frontend: Socket
    let backend: Socket
    let consumer: Socket
    var all: [Socket] { [producer, frontend, backend, consumer] }

    init(_ transport: Transport = .inproc) async throws {
        let made = try await sockets(.push, .pull, .push, .pull)
        (producer, frontend, backend, consumer) = (made[0], made[1], made[2], made[3])
        try await producer.connect(bindFresh(frontend, transport))
        try await consumer.connect(bindFresh(backend, transport))
    }
}

@Suite(.timeLimit(.minutes(1)))
struct ProxyTests {
    /// The Python original's proxy test: SUB frontend, PUB backend, a publisher in front and a
    /// subscriber behind; the message arrives, and cancelling the proxy makes it throw CancellationError.
    @Test(arguments: Transport.allCases)
    func publishesThroughProxyAndStopsOnCancel(_ transport: Transport) async throws {
        try await withTimeout {
            let made = try await sockets(.sub, .pub, .pub, .sub)
            let (frontend, backend, publisher, subscriber) = (made[0], made[1], made[2], made[3])
            let frontendEndpoint = try await bindFresh(frontend, transport)
            try await frontend.subscribe()
            let backendEndpoint = try await bindFresh(backend, transport)
            try await publisher.connect(frontendEndpoint)
            try await subscriber.connect(backendEndpoint).subscribe()

            let proxy = try await startProxy(frontend, backend)
            try await awaitSubscription(publisher: publisher, subscriber: subscriber, probe: "probe")
            try await publisher.send("hello through the proxy")
            #expect(try await subscriber.recv() == bytes("hello through the proxy"))

            proxy.cancel()
            await #expect(throws: CancellationError.self) { try await result(of: proxy) }
            #expect(await !anyLent(frontend, backend))
            await closeAll(made)
        }
    }

    @Test func brokerRoutesEveryReplyToItsRequest() async throws {
        try await withTimeout {
            let brokerSockets = try await sockets(.router, .dealer)
            let (frontend, backend) = (brokerSockets[0], brokerSockets[1])
            let clientEndpoint = try await bindFresh(frontend, .inproc)
            let workerEndpoint = try await bindFresh(backend, .inproc)
            let proxy = try await startProxy(frontend, backend)

            let workerSockets = try await sockets(.rep, .rep, .rep)
            var workers: [Task<Int, any Error>] = []
            for (index, worker) in workerSockets.enumerated() {
                try await worker.connect(workerEndpoint)
                workers.append(Task {
                    var served = 0
                    while true {
                        let request: [UInt8]
                        do { request = try await worker.recv() } catch is CancellationError { return served }
                        served += 1
                        try await worker.send(request + bytes(" answered by \(index)"))
                    }
                })
            }
            let clientSockets = try await sockets(.req, .req, .req, .req)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (client, socket) in clientSockets.enumerated() {
                    try await socket.connect(clientEndpoint)
                    group.addTask {
                        for request in 0..<10 {
                            let text = "client \(client) request \(request)"
                            try await socket.send(text)
                            let reply = String(decoding: try await socket.recv(), as: UTF8.self)
                            #expect(reply.hasPrefix(text + " answered by "), "\(text) got \(reply)")
                        }
                    }
                }
                try await group.waitForAll()
            }
            var served = 0
            for worker in workers {
                worker.cancel()
                served += try await result(of: worker)
            }
            #expect(served == 40)

            proxy.cancel()
            await #expect(throws: CancellationError.self) { try await result(of: proxy) }
            await closeAll(brokerSockets + workerSockets + clientSockets)
        }
    }

    @Test func forwarderCarriesSubscriptionsUpstreamAndDataDownstream() async throws {
        try await withTimeout {
            let made = try await sockets(.xsub, .xpub, .xpub, .sub)
            let (frontend, backend, publisher, subscriber) = (made[0], made[1], made[2], made[3])
            try await publisher.connect(bindFresh(frontend, .inproc))
            let backendEndpoint = try await bindFresh(backend, .inproc)
            let proxy = try await startProxy(frontend, backend)

            try await subscriber.connect(backendEndpoint).subscribe("weather")
            // The subscription reached the publisher through the proxy.
            #expect(try await publisher.recv() == [1] + bytes("weather"))

            try await publisher.send("news ignored")
            try await publisher.send("weather sunny")
            #expect(try await subscriber.recv() == bytes("weather sunny"))

            try await subscriber.unsubscribe("weather")
            #expect(try await publisher.recv() == [0] + bytes("weather"))

            proxy.cancel()
            await #expect(throws: CancellationError.self) { try await result(of: proxy) }
            await closeAll(made)
        }
    }

    @Test func multipartMessagesTravelWholeAndInOrderBothWays() async throws {
        try await withTimeout {
            let made = try await sockets(.pair, .pair, .pair, .pair)
            let (client, frontend, backend, server) = (made[0], made[1], made[2], made[3])
            try await client.connect(bindFresh(frontend, .inproc))
            try await server.connect(bindFresh(backend, .inproc))
            let proxy = try await startProxy(frontend, backend)

            let count = 200
            func message(_ from: String, _ index: Int) -> [[UInt8]] {
                (0...(index % 4)).map { bytes("\(from) \(index) part \($0)") }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { for index in 0..<count { try await client.sendMultipart(message("request", index)) } }
                group.addTask { for index in 0..<count { try await server.sendMultipart(message("reply", index)) } }
                group.addTask {
                    for index in 0..<count {
                        let received = try await server.recvMultipart()
                        #expect(received == message("request", index))
                    }
                }
                group.addTask {
                    for index in 0..<count {
                        let received = try await client.recvMultipart()
                        #expect(received == message("reply", index))
                    }
                }
                try await group.waitForAll()
            }

            proxy.cancel()
            await #expect(throws: CancellationError.self) { try await result(of: proxy) }
            await closeAll(made)
        }
    }

    @Test func captureReceivesACopyOfEveryFrame() async throws {
        try await withTimeout {
            let streamer = try await Streamer()
            let taps = try await sockets(.push, .pull)
            let (capture, tap) = (taps[0], taps[1])
            try await tap.connect(bindFresh(capture, .inproc))
            let proxy = try await startProxy(streamer.frontend, streamer.backend, capture: capture)

            let messages = [[bytes("one")], [bytes("two"), bytes("parts")], [bytes("three"), [], bytes("x")]]
            for message in messages { try await streamer.producer.sendMultipart(message) }
            for message in messages {
                #expect(try await streamer.consumer.recvMultipart() == message)
                #expect(try await tap.recvMultipart() == message)
            }

            proxy.cancel()
            await #expect(throws: CancellationError.self) { try await result(of: proxy) }
            #expect(await !capture.lentToProxy)
            await closeAll(streamer.all + taps)
        }
    }

    @Test func pauseHoldsMessagesAndResumeForwardsThemAll() async throws {
        try await withTimeout {
            let streamer = try await Streamer()
            let control = ProxyControl()
            let proxy = try await startProxy(streamer.frontend, streamer.backend, control: control)
            try await streamer.producer.send("before")
            #expect(try await streamer.consumer.recv() == bytes("before"))

            control.pause()
            #expect(control.isPaused)
            // The proxy answers after the commands sent before: it has paused now.
            let atPause = await control.statistics()
            for index in 0..<20 { try await streamer.producer.send("held \(index)") }
            // Each answer comes from a later pass of the loop, which would have forwarded the queued
            // messages by the second one had it not been paused.
            _ = await control.statistics()
            #expect(await control.statistics() == atPause)
            #expect(try await streamer.consumer.recvIfQueued() == nil)

            control.resume()
            for index in 0..<20 { #expect(try await streamer.consumer.recv() == bytes("held \(index)")) }
            #expect(await control.statistics().backend.sent.messages == 21)

            proxy.cancel()
            await #expect(throws: CancellationError.self) { try await result(of: proxy) }
            await closeAll(streamer.all)
        }
    }

    @Test func statisticsCountWhatWasForwarded() async throws {
        try await withTimeout {
            let made = try await sockets(.dealer, .router, .dealer, .dealer)
            let (client, frontend, backend, server) = (made[0], made[1], made[2], made[3])
            try await client.connect(bindFresh(frontend, .inproc))
            try await server.connect(bindFresh(backend, .inproc))
            let control = ProxyControl()
            #expect(await control.statistics() == ProxyStatistics())
            let proxy = try await startProxy(frontend, backend, control: control)

            // Requests: the ROUTER adds a routing-id frame; replies travel back carrying it.
            let requests = [[bytes("a")], [bytes("bb"), bytes("ccc")], [bytes("dddd")]]
            var routingIDSizes = 0
            for request in requests {
                try await client.sendMultipart(request)
                let received = try await server.recvMultipart()
                #expect(Array(received.dropFirst()) == request)
                routingIDSizes += received[0].count
                try await server.sendMultipart([received[0], bytes("ok")])
                #expect(try await client.recvMultipart() == [bytes("ok")])
            }

            let statistics = await control.statistics()
            let forward = ProxyStatistics.Traffic(messages: 3, frames: 3 + 4, bytes: UInt64(routingIDSizes + 1 + 2 + 3 + 4))
            let back = ProxyStatistics.Traffic(messages: 3, frames: 6, bytes: UInt64(routingIDSizes + 3 * 2))
            #expect(statistics.frontend.received == forward)
            #expect(statistics.backend.sent == forward)
            #expect(statistics.backend.received == back)
            #expect(statistics.frontend.sent == back)

            control.terminate()
            try await result(of: proxy)
            // After the proxy ends, the control keeps its final counts.
            #expect(await control.statistics() == statistics)
            await closeAll(made)
        }
    }

    @Test func terminateReturnsNormallyAndSocketsWorkAgain() async throws {
        try await withTimeout {
            let streamer = try await Streamer()
            let control = ProxyControl()
            let proxy = try await startProxy(streamer.frontend, streamer.backend, control: control)
            try await streamer.producer.send("via proxy")
            #expect(try await streamer.consumer.recv() == bytes("via proxy"))
            control.terminate()
            try await result(of: proxy)
            try await expectUsableDirectly(streamer)

            // A terminated control stays terminated: the next proxy given it returns at once.
            try await Socket.proxy(streamer.frontend, streamer.backend, control: control)
            try await expectUsableDirectly(streamer)
            await closeAll(streamer.all)
        }
    }

    @Test(arguments: Transport.allCases)
    func socketsWorkAgainAfterCancellation(_ transport: Transport) async throws {
        try await withTimeout {
            let streamer = try await Streamer(transport)
            let proxy = try await startProxy(streamer.frontend, streamer.backend)
            try await streamer.producer.send("via proxy")
            #expect(try await streamer.consumer.recv() == bytes("via proxy"))
            proxy.cancel()
            await #expect(throws: CancellationError.self) { try await result(of: proxy) }
            try await expectUsableDirectly(streamer)
            await closeAll(streamer.all)
        }
    }

    @Test func cancellationBeforeTheProxyStartsStopsIt() async throws {
        try await withTimeout {
            let streamer = try await Streamer()
            let proxy = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                try await Socket.proxy(streamer.frontend, streamer.backend)
            }
            await #expect(throws: CancellationError.self) { try await result(of: proxy) }
            try await expectUsableDirectly(streamer)
            await closeAll(streamer.all)
        }
    }

    @Test func aBlockedDestinationLeavesMessagesAtTheSource() async throws {
        try await withTimeout {
            let made = try await sockets(.push, .pull, .push)
            let (producer, frontend, backend) = (made[0], made[1], made[2])
            try await producer.connect(bindFresh(frontend, .inproc))
            let backendEndpoint = try await bindFresh(backend, .inproc)
            let control = ProxyControl()
            let proxy = try await startProxy(frontend, backend, control: control)

            // The backend PUSH has no peer, so it cannot take a message: the proxy must not read any.
            for index in 0..<5 { try await producer.send("queued \(index)") }
            _ = await control.statistics()
            #expect(await control.statistics().frontend.received.messages == 0)

            proxy.cancel()
            await #expect(throws: CancellationError.self) { try await result(of: proxy) }
            #expect(try await frontend.recv() == bytes("queued 0"))

            // Once the backend has a peer, the proxy forwards the rest.
            let consumer = try await Socket.pull().connect(backendEndpoint)
            let again = try await startProxy(frontend, backend)
            for index in 1..<5 { #expect(try await consumer.recv() == bytes("queued \(index)")) }
            again.cancel()
            await #expect(throws: CancellationError.self) { try await result(of: again) }
            await closeAll(made + [consumer])
        }
    }

    @Test func socketsOwnedByAProxyRefuseUseThroughTheirActors() async throws {
        try await withTimeout {
            let streamer = try await Streamer()
            // A task already waiting on the frontend is turned away when the proxy takes it.
            let waiting = Task { try await streamer.frontend.recv() }
            try await eventually { await streamer.frontend.suspendedCalls.receive == 1 }
            let proxy = try await startProxy(streamer.frontend, streamer.backend)
            await #expect(throws: ZMQError.inUseByProxy) { try await result(of: waiting) }

            await #expect(throws: ZMQError.inUseByProxy) { try await streamer.frontend.recv() }
            await #expect(throws: ZMQError.inUseByProxy) { try await streamer.backend.send("x") }
            await #expect(throws: ZMQError.inUseByProxy) { try await streamer.backend.bind(freshEndpoint(.inproc)) }
            await #expect(throws: ZMQError.inUseByProxy) {
                try await Socket.proxy(streamer.frontend, Socket.push())
            }
            // The refused second proxy left the first one running.
            try await streamer.producer.send("still forwarded")
            #expect(try await streamer.consumer.recv() == bytes("still forwarded"))

            proxy.cancel()
            await #expect(throws: CancellationError.self) { try await result(of: proxy) }
            await closeAll(streamer.all)
        }
    }

    @Test func refusesClosedOrRepeatedSocketsAndLendsNothing() async throws {
        try await withTimeout {
            let made = try await sockets(.pull, .push)
            let (frontend, backend) = (made[0], made[1])
            await #expect(throws: ZMQError.invalidArgument) { try await Socket.proxy(frontend, frontend) }
            await #expect(throws: ZMQError.invalidArgument) { try await Socket.proxy(frontend, backend, capture: frontend) }
            await #expect(throws: ZMQError.invalidArgument) { try await Socket.proxy(frontend, backend, capture: backend) }

            let closed = try Socket.pub()
            await closed.close()
            await #expect(throws: ZMQError.socketClosed) { try await Socket.proxy(closed, backend) }
            await #expect(throws: ZMQError.socketClosed) { try await Socket.proxy(frontend, closed) }
            await #expect(throws: ZMQError.socketClosed) { try await Socket.proxy(frontend, backend, capture: closed) }

            let control = ProxyControl()
            let running = try await startProxy(try Socket.pull(), try Socket.push(), control: control)
            await #expect(throws: ZMQError.invalidArgument) { try await Socket.proxy(frontend, backend, control: control) }
            running.cancel()
            await #expect(throws: CancellationError.self) { try await result(of: running) }

            for socket in made {
                #expect(await !socket.lentToProxy)
                #expect(await socket.isClosed == false)
            }
            #expect(try await frontend.recvIfQueued() == nil)
            await closeAll(made)
        }
    }

    @Test func closingAnOwnedSocketStopsTheProxy() async throws {
        try await withTimeout {
            let streamer = try await Streamer()
            let proxy = try await startProxy(streamer.frontend, streamer.backend)
            await streamer.backend.close()
            await #expect(throws: ZMQError.socketClosed) { try await result(of: proxy) }
            #expect(await streamer.backend.isClosed)
            await #expect(throws: ZMQError.socketClosed) { try await streamer.backend.send("x") }
            // The frontend was given back and works.
            try await streamer.producer.send("direct")
            #expect(try await streamer.frontend.recv() == bytes("direct"))
            await closeAll(streamer.all)
        }
    }

    @Test func contextShutdownEndsTheProxyWithItsError() async throws {
        try await withTimeout {
            let context = try Context()
            let made = try await sockets(.pull, .push, context: context)
            let (frontend, backend) = (made[0], made[1])
            try await frontend.bind(freshEndpoint(.inproc))
            try await backend.bind(freshEndpoint(.inproc))
            let proxy = try await startProxy(frontend, backend)
            context.shutdown()
            await #expect(throws: ZMQError.contextTerminated) { try await result(of: proxy) }
            // Given back: the sockets report the context's error now, not the proxy's.
            #expect(await !anyLent(frontend, backend))
            await #expect(throws: ZMQError.contextTerminated) { try await frontend.recv() }
            // A proxy started on a shut-down context fails at once.
            await #expect(throws: ZMQError.contextTerminated) { try await Socket.proxy(frontend, backend) }
            await closeAll(made)
        }
    }
}

/// After a proxy ended: the streamer's sockets work directly through their actors.
private func expectUsableDirectly(_ streamer: Streamer) async throws {
    #expect(await !anyLent(streamer.frontend, streamer.backend))
    try await streamer.producer.send("direct to the frontend")
    #expect(try await streamer.frontend.recv() == bytes("direct to the frontend"))
    try await streamer.backend.send("direct from the backend")
    #expect(try await streamer.consumer.recv() == bytes("direct from the backend"))
}
