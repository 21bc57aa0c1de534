import Foundation
import Testing
@testable import ZMQ

/// The Python original's pattern tests, over every transport.
@Suite(.timeLimit(.minutes(1)))
struct PatternTests {
    @Test(arguments: Transport.allCases)
    func subscriberReceivesOnlyMatchingTopic(_ transport: Transport) async throws {
        try await withTimeout {
            let publisher = try Socket.pub()
            let endpoint = try await bindFresh(publisher, transport)
            let subscriber = try await Socket.sub().connect(endpoint).subscribe("weather")
            try await awaitSubscription(publisher: publisher, subscriber: subscriber, probe: "weather probe")

            try await publisher.send("news ignored")
            try await publisher.send("weather sunny")
            let received = try await subscriber.recv()
            #expect(received == Array("weather sunny".utf8))
            await publisher.close()
            await subscriber.close()
        }
    }

    @Test(arguments: Transport.allCases)
    func pushDeliversToPullInOrder(_ transport: Transport) async throws {
        try await withTimeout {
            let pull = try Socket.pull()
            let endpoint = try await bindFresh(pull, transport)
            let push = try await Socket.push().connect(endpoint)
            for index in 0..<100 { try await push.send("task \(index)") }
            for index in 0..<100 {
                #expect(try await pull.recv() == Array("task \(index)".utf8))
            }
            await push.close()
            await pull.close()
        }
    }

    @Test(arguments: Transport.allCases)
    func requestGetsItsReply(_ transport: Transport) async throws {
        try await withTimeout {
            let rep = try Socket.rep()
            let endpoint = try await bindFresh(rep, transport)
            let req = try await Socket.req().connect(endpoint)
            let server = Task {
                let request = try await rep.recv()
                try await rep.send(request + Array(" pong".utf8))
            }
            try await req.send("ping")
            #expect(try await req.recv() == Array("ping pong".utf8))
            try await server.value
            await req.close()
            await rep.close()
        }
    }

    @Test(arguments: Transport.allCases)
    func routerSeesIdentityAndRoutesReplyBack(_ transport: Transport) async throws {
        try await withTimeout {
            let router = try Socket.router()
            let endpoint = try await bindFresh(router, transport)
            let dealer = try await Socket.dealer().connect(endpoint)
            try await dealer.send("hello")
            let request = try await router.recvMultipart()
            #expect(request.count == 2)
            #expect(!request[0].isEmpty)
            #expect(request[1] == Array("hello".utf8))
            try await router.sendMultipart([request[0], Array("world".utf8)])
            #expect(try await dealer.recv() == Array("world".utf8))
            await dealer.close()
            await router.close()
        }
    }

    @Test(arguments: Transport.allCases)
    func pairTalksBothWays(_ transport: Transport) async throws {
        try await withTimeout {
            let a = try Socket.pair()
            let endpoint = try await bindFresh(a, transport)
            let b = try await Socket.pair().connect(endpoint)
            try await a.send("from a")
            #expect(try await b.recv() == Array("from a".utf8))
            try await b.send("from b")
            #expect(try await a.recv() == Array("from b".utf8))
            await a.close()
            await b.close()
        }
    }

    @Test(arguments: Transport.allCases)
    func xpubReceivesSubscriptionThenDataFlows(_ transport: Transport) async throws {
        try await withTimeout {
            let xpub = try Socket.xpub()
            let endpoint = try await bindFresh(xpub, transport)
            let xsub = try await Socket.xsub().connect(endpoint).subscribe()
            #expect(try await xpub.recv() == [0x01])
            try await xpub.send("data")
            #expect(try await xsub.recv() == Array("data".utf8))
            await xpub.close()
            await xsub.close()
        }
    }

    @Test func streamTalksToPlainTCPClient() async throws {
        try await withTimeout {
            let stream = try Socket.stream()
            let endpoint = try await bindFresh(stream, .tcp)
            let client = try RawTCPClient(endpoint: endpoint)

            let connected = try await stream.recvMultipart()
            #expect(connected.count == 2)
            #expect(connected[1].isEmpty, "a connection is announced by an empty frame")
            let peer = connected[0]

            client.write(Array("hello".utf8))
            let data = try await stream.recvMultipart()
            #expect(data == [peer, Array("hello".utf8)])

            try await stream.sendMultipart([peer, Array("world".utf8)])
            #expect(try await client.read() == Array("world".utf8))
            await stream.close()
        }
    }

    @Test(.enabled(if: !ZMQLibrary.has(.draft), "the linked libzmq has DRAFT support"),
          arguments: SocketType.allCases.filter(\.isDraft))
    func draftTypeIsRefusedWithClearError(_ type: SocketType) async throws {
        let error = #expect(throws: ZMQError.self) { try Socket(type) }
        #expect(error?.kind == .draftUnavailable)
        #expect(error?.description.contains("\(type)") == true)
        #expect(error?.description.contains("DRAFT") == true)
    }

    @Test(.enabled(if: !ZMQLibrary.has(.draft), "the linked libzmq has DRAFT support"))
    func draftFactoriesAreRefused() {
        let factories: [(String, () throws -> Socket)] = [
            ("SERVER", { try Socket.server() }), ("CLIENT", { try Socket.client() }),
            ("RADIO", { try Socket.radio() }), ("DISH", { try Socket.dish() }),
            ("GATHER", { try Socket.gather() }), ("SCATTER", { try Socket.scatter() }),
            ("DGRAM", { try Socket.dgram() }), ("PEER", { try Socket.peer() }),
            ("CHANNEL", { try Socket.channel() }),
        ]
        for (name, make) in factories {
            #expect(throws: ZMQError.draftUnavailable, "\(name)") { try make() }
        }
    }

    /// CI says which libzmq each pass links (`SWIFT_ZMQ_EXPECT_DRAFT`), so that a pass meant for the
    /// DRAFT build cannot quietly run against the system libzmq, skipping every DRAFT test.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["SWIFT_ZMQ_EXPECT_DRAFT"] != nil))
    func linkedLibzmqIsTheOneCIExpects() {
        let expected = ProcessInfo.processInfo.environment["SWIFT_ZMQ_EXPECT_DRAFT"] == "1"
        #expect(ZMQLibrary.has(.draft) == expected)
    }

    @Test(.enabled(if: ZMQLibrary.has(.draft), "the linked libzmq has no DRAFT support"))
    func dgramSocketsExchangeDatagrams() async throws {
        try await withTimeout {
            // libzmq has no wildcard port for udp: try free-looking ports until two bind.
            var bound: (port: Int, receiver: Socket, sender: Socket)?
            for _ in 0..<20 where bound == nil {
                let port = Int.random(in: 20_000...60_000)
                let receiver = try Socket.dgram(), sender = try Socket.dgram()
                if (try? await receiver.bind("udp://127.0.0.1:\(port)")) != nil,
                   (try? await sender.bind("udp://127.0.0.1:\(port + 1)")) != nil {
                    bound = (port, receiver, sender)
                } else {
                    await receiver.close()
                    await sender.close()
                }
            }
            let (port, receiver, sender) = try #require(bound)
            // A DGRAM message is the peer's address, then the datagram.
            try await sender.sendMultipart([Array("127.0.0.1:\(port)".utf8), Array("datagram".utf8)])
            let received = try await receiver.recvMultipart()
            // libzmq gives the source address as a C string, terminating NUL included.
            #expect(received == [Array("127.0.0.1:\(port + 1)".utf8) + [0], Array("datagram".utf8)])
            #expect(receiver.type == .dgram)
            await sender.close()
            await receiver.close()
        }
    }

    @Test func everyClassicFactoryMakesItsType() throws {
        let made = try [Socket.pair(), .pub(), .sub(), .req(), .rep(), .dealer(), .router(), .pull(),
                        .push(), .xpub(), .xsub(), .stream()].map(\.type)
        #expect(made == [.pair, .pub, .sub, .req, .rep, .dealer, .router, .pull, .push, .xpub, .xsub, .stream])
    }
}
