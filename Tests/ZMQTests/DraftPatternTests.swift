import Testing
@testable import ZMQ

/// The DRAFT socket types, which need a libzmq built with its DRAFT API: CI runs the suite a last
/// time against one built from Debian's source (`.ci/run`). The thread-safe ones among them (all
/// but DGRAM) have no `ZMQ_FD`; a `Socket` waits on them through a `zmq_poller`'s descriptor.
@Suite(.timeLimit(.minutes(1)), .enabled(if: ZMQLibrary.has(.draft), "the linked libzmq has no DRAFT support"))
struct DraftPatternTests {
    @Test(arguments: [Transport.inproc, .tcp])
    func scatterToGatherIncludingAWaitingReceive(_ transport: Transport) async throws {
        try await withTimeout {
            let gather = try Socket.gather()
            let endpoint = try await bindFresh(gather, transport)
            let scatter = try await Socket.scatter().connect(endpoint)
            try await scatter.send("first")
            #expect(try await gather.recv() == Array("first".utf8))

            // A receive that has to wait is woken through the poller's descriptor.
            let waiting = Task { try await gather.recv() }
            try await eventually { await gather.suspendedCalls.receive == 1 }
            try await scatter.send("second")
            #expect(try await waiting.value == Array("second".utf8))
            #expect(gather.type.isThreadSafe)
            await scatter.close()
            await gather.close()
        }
    }

    @Test(arguments: [Transport.inproc, .tcp])
    func serverRepliesToTheClientByRoutingID(_ transport: Transport) async throws {
        try await withTimeout {
            let server = try Socket.server()
            let endpoint = try await bindFresh(server, transport)
            let clients = [try await Socket.client().connect(endpoint), try await Socket.client().connect(endpoint)]
            for (index, client) in clients.enumerated() { try await client.send("request \(index)") }
            for _ in clients {
                let request = try await server.recv(as: Message.self)
                let id = try #require(request.routingID)
                try await server.send("reply to " + String(decoding: request, as: UTF8.self), routingID: id)
            }
            for (index, client) in clients.enumerated() {
                #expect(try await client.recv(as: String.self) == "reply to request \(index)")
            }
            for socket in clients + [server] { await socket.close() }
        }
    }

    @Test func dishReceivesOnlyTheGroupsItJoined() async throws {
        try await withTimeout {
            let dish = try Socket.dish()
            let endpoint = try await bindFresh(dish, .tcp)
            try await dish.join("weather")
            let radio = try await Socket.radio().connect(endpoint)
            // Like PUB/SUB, a RADIO drops what it sends before the DISH's joins reach it.
            var first: Message?
            while first == nil {
                try await radio.send("news first", group: "news")
                try await radio.send("weather first", group: "weather")
                first = try? await dish.recv(as: Message.self, timeout: .milliseconds(50))
            }
            #expect(first?.group == "weather")
            try await radio.send("news", group: "news")
            try await radio.send("sunny", group: "weather")
            var next = try await dish.recv(as: Message.self)
            while String(decoding: next, as: UTF8.self) == "weather first" {  // repeats of the probe
                next = try await dish.recv(as: Message.self)
            }
            #expect(String(decoding: next, as: UTF8.self) == "sunny")
            #expect(next.group == "weather")

            try await dish.leave("weather")
            await #expect(throws: ZMQError.self) { try await dish.leave("weather") }  // not joined
            await radio.close()
            await dish.close()
        }
    }

    @Test func groupNamesWithANULAreRefused() async throws {
        try await withTimeout {
            let dish = try Socket.dish()
            let join = await #expect(throws: ZMQError.invalidArgument) { try await dish.join("news\0sport") }
            #expect(join?.description.hasPrefix("join news\\0sport on DISH socket") == true, "\(String(describing: join))")
            await #expect(throws: ZMQError.invalidArgument) { try await dish.leave("news\0sport") }
            let radio = try Socket.radio()
            let send = await #expect(throws: ZMQError.invalidArgument) { try await radio.send("x", group: "news\0sport") }
            #expect(send?.description.contains("on RADIO socket") == true, "\(String(describing: send))")
            // Nothing was joined at the part before the NUL: leaving it fails as leaving any group not joined.
            await #expect(throws: ZMQError.self) { try await dish.leave("news") }
            await radio.close()
            await dish.close()
        }
    }

    @Test func channelTalksBothWays() async throws {
        try await withTimeout {
            let one = try Socket.channel()
            let endpoint = try await bindFresh(one, .inproc)
            let other = try await Socket.channel().connect(endpoint)
            try await one.send("ping")
            #expect(try await other.recv() == Array("ping".utf8))
            try await other.send("pong")
            #expect(try await one.recv() == Array("pong".utf8))
            await other.close()
            await one.close()
        }
    }

    @Test func peersAddressEachOtherByRoutingID() async throws {
        try await withTimeout {
            let listener = try Socket.peer()
            let endpoint = try await bindFresh(listener, .tcp)
            let caller = try Socket.peer()
            let listenerID = try await caller.connectPeer(endpoint)
            try await caller.send("hello", routingID: listenerID)
            let hello = try await listener.recv(as: Message.self)
            #expect(String(decoding: hello, as: UTF8.self) == "hello")
            try await listener.send("welcome", routingID: try #require(hello.routingID))
            let welcome = try await caller.recv(as: Message.self)
            #expect(String(decoding: welcome, as: UTF8.self) == "welcome")
            #expect(welcome.routingID == listenerID)
            await caller.close()
            await listener.close()
        }
    }
}

/// The DRAFT calls refuse the socket types they do not apply to, with or without DRAFT support.
@Suite(.timeLimit(.minutes(1)))
struct DraftCallTests {
    @Test func joinLeaveAndConnectPeerNeedTheirSocketTypes() async throws {
        let sub = try Socket.sub()
        await #expect(throws: ZMQError.wrongSocketType) { try await sub.join("group") }
        await #expect(throws: ZMQError.wrongSocketType) { try await sub.leave("group") }
        await #expect(throws: ZMQError.wrongSocketType) { try await sub.connectPeer("tcp://127.0.0.1:5555") }
        await sub.close()
    }

    @Test func messagesOfClassicSocketsHaveNoRoutingIDOrGroup() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline()
            try await push.send("plain")
            let message = try await pull.recv(as: Message.self)
            #expect(message.routingID == nil)
            #expect(message.group == nil)
            await push.close()
            await pull.close()
        }
    }
}
