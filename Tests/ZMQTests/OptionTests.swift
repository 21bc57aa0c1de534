import Foundation
import Testing
@testable import ZMQ

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite(.timeLimit(.minutes(1)))
struct SocketOptionTests {
    // MARK: Set and read back, per family

    @Test func queueOptionsReadBack() async throws {
        let socket = try Socket.dealer()
        #expect(try await socket.get(.sendHighWaterMark) == 1000)
        #expect(try await socket.get(.sendBufferSize) == nil)
        #expect(try await socket.get(.maxMessageSize) == nil)
        try await socket
            .set(.sendHighWaterMark, 10)
            .set(.receiveHighWaterMark, 20)
            .set(.backlog, 7)
            .set(.sendBufferSize, 65536)
            .set(.receiveBufferSize, 32768)
            .set(.maxMessageSize, 1 << 20)
            .set(.affinity, 3)
            .set(.conflate, true)
            .set(.immediate, true)
            .set(.invertMatching, true)
        #expect(try await socket.get(.sendHighWaterMark) == 10)
        #expect(try await socket.get(.receiveHighWaterMark) == 20)
        #expect(try await socket.get(.backlog) == 7)
        #expect(try await socket.get(.sendBufferSize) == 65536)
        #expect(try await socket.get(.receiveBufferSize) == 32768)
        #expect(try await socket.get(.maxMessageSize) == 1 << 20)
        #expect(try await socket.get(.affinity) == 3)
        #expect(try await socket.get(.conflate))
        #expect(try await socket.get(.immediate))
        #expect(try await socket.get(.invertMatching))
        try await socket.set(.sendBufferSize, nil).set(.maxMessageSize, nil)
        #expect(try await socket.get(.sendBufferSize) == nil)
        #expect(try await socket.get(.maxMessageSize) == nil)
        await socket.close()
    }

    @Test func timingOptionsReadBackAsDurations() async throws {
        let socket = try Socket.dealer()
        #expect(try await socket.get(.linger) == nil)  // libzmq's default: forever
        #expect(try await socket.get(.receiveTimeout) == nil)
        #expect(try await socket.get(.reconnectInterval) == .milliseconds(100))
        #expect(try await socket.get(.handshakeInterval) == .seconds(30))
        #expect(try await socket.get(.heartbeatTimeout) == nil)  // follows heartbeatInterval until set
        try await socket
            .set(.linger, .milliseconds(250))
            .set(.receiveTimeout, .seconds(2))
            .set(.sendTimeout, .zero)
            .set(.reconnectInterval, nil)
            .set(.reconnectIntervalMax, .seconds(5))
            .set(.handshakeInterval, .zero)
            .set(.heartbeatInterval, .seconds(1))
            .set(.heartbeatTimeout, .seconds(3))
            .set(.heartbeatTimeToLive, .milliseconds(1234))
            .set(.connectTimeout, .milliseconds(500))
            .set(.tcpMaxRetransmitTimeout, .seconds(10))
            .set(.multicastRecoveryInterval, .seconds(1))
        #expect(try await socket.get(.linger) == .milliseconds(250))
        #expect(try await socket.get(.receiveTimeout) == .seconds(2))
        #expect(try await socket.get(.sendTimeout) == .zero)
        #expect(try await socket.get(.reconnectInterval) == nil)
        #expect(try await socket.get(.reconnectIntervalMax) == .seconds(5))
        #expect(try await socket.get(.handshakeInterval) == .zero)
        #expect(try await socket.get(.heartbeatInterval) == .seconds(1))
        #expect(try await socket.get(.heartbeatTimeout) == .seconds(3))
        #expect(try await socket.get(.heartbeatTimeToLive) == .milliseconds(1200))  // libzmq keeps tenths of a second
        #expect(try await socket.get(.connectTimeout) == .milliseconds(500))
        #expect(try await socket.get(.tcpMaxRetransmitTimeout) == .seconds(10))
        #expect(try await socket.get(.multicastRecoveryInterval) == .seconds(1))
        // A fraction of a millisecond rounds up, so that a short timeout never means "do not wait".
        try await socket.set(.linger, .microseconds(1500)).set(.receiveTimeout, .nanoseconds(1))
        #expect(try await socket.get(.linger) == .milliseconds(2))
        #expect(try await socket.get(.receiveTimeout) == .milliseconds(1))
        try await socket.set(.linger, nil)
        #expect(try await socket.get(.linger) == nil)
        await socket.close()
    }

    @Test func transportOptionsReadBack() async throws {
        let socket = try Socket.dealer()
        #expect(try await socket.get(.tcpKeepAlive) == nil)
        #expect(try await socket.get(.ipv6) == false)
        try await socket
            .set(.ipv6, true)
            .set(.tcpKeepAlive, true)
            .set(.tcpKeepAliveCount, 4)
            .set(.tcpKeepAliveIdle, .seconds(60))
            .set(.tcpKeepAliveInterval, .milliseconds(1500))
            .set(.typeOfService, 0x10)
            .set(.multicastHops, 4)
            .set(.multicastRate, 1000)
            .set(.multicastMaxTransportDataUnit, 1400)
            .set(.bindToDevice, "lo")
            .set(.socksProxy, "127.0.0.1:1080")
            .set(.useFileDescriptor, nil)
        #expect(try await socket.get(.ipv6))
        #expect(try await socket.get(.tcpKeepAlive) == true)
        #expect(try await socket.get(.tcpKeepAliveCount) == 4)
        #expect(try await socket.get(.tcpKeepAliveIdle) == .seconds(60))
        #expect(try await socket.get(.tcpKeepAliveInterval) == .seconds(2))  // whole seconds, rounded up
        #expect(try await socket.get(.typeOfService) == 0x10)
        #expect(try await socket.get(.multicastHops) == 4)
        #expect(try await socket.get(.multicastRate) == 1000)
        #expect(try await socket.get(.multicastMaxTransportDataUnit) == 1400)
        #expect(try await socket.get(.bindToDevice) == "lo")
        #expect(try await socket.get(.socksProxy) == "127.0.0.1:1080")
        #expect(try await socket.get(.useFileDescriptor) == nil)
        try await socket.set(.tcpKeepAlive, nil).set(.socksProxy, "")
        #expect(try await socket.get(.tcpKeepAlive) == nil)
        #expect(try await socket.get(.socksProxy) == "")
        await socket.close()
    }

    @Test func plainCredentialsSelectTheMechanism() async throws {
        let socket = try Socket.dealer()
        #expect(try await socket.get(.mechanism) == .null)
        try await socket.set(.plainUsername, "admin").set(.plainPassword, "secret").set(.zapDomain, "global")
        #expect(try await socket.get(.mechanism) == .plain)
        #expect(try await socket.get(.plainUsername) == "admin")
        #expect(try await socket.get(.plainPassword) == "secret")
        #expect(try await socket.get(.zapDomain) == "global")
        // An empty user name goes back to no security.
        try await socket.set(.plainUsername, "")
        #expect(try await socket.get(.mechanism) == .null)
        try await socket.set(.plainServer, true)
        #expect(try await socket.get(.plainServer))
        #expect(try await socket.get(.mechanism) == .plain)
        await socket.close()
    }

    @Test(.enabled(if: ZMQLibrary.has(.curve))) func curveKeysReadBack() async throws {
        let client = try Socket.dealer()
        let (public1, secret1, server1) = ((0..<32).map { UInt8($0) }, (0..<32).map { UInt8($0 + 100) }, (0..<32).map { UInt8(255 - $0) })
        try await client.set(.curvePublicKey, public1).set(.curveSecretKey, secret1).set(.curveServerKey, server1)
        #expect(try await client.get(.mechanism) == .curve)
        #expect(try await client.get(.curvePublicKey) == public1)
        #expect(try await client.get(.curveSecretKey) == secret1)
        #expect(try await client.get(.curveServerKey) == server1)
        let server = try await Socket.router().set(.curveServer, true).set(.curveSecretKey, secret1)
        #expect(try await server.get(.curveServer))
        #expect(try await server.get(.mechanism) == .curve)
        await client.close()
        await server.close()
    }

    @Test func z85EncodesAndDecodesTheSpecVectorAndRefusesBadInput() throws {
        // RFC 32/Z85's test vector.
        let bytes: [UInt8] = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B]
        #expect(try Z85.encode(bytes) == "HelloWorld")
        #expect(try Z85.decode("HelloWorld") == bytes)
        #expect(try Z85.decode(Z85.encode([])) == [])
        #expect(throws: ZMQError.invalidArgument) { try Z85.encode([1, 2, 3]) }
        #expect(throws: ZMQError.invalidArgument) { try Z85.decode("Hell") }
        #expect(throws: ZMQError.invalidArgument) { try Z85.decode("Hello Worl") }  // a space is not Z85
    }

    @Test(.enabled(if: ZMQLibrary.has(.curve))) func curveKeyPairsAreFreshAndDeriveTheirPublicKey() throws {
        let first = try CurveKeyPair()
        let second = try CurveKeyPair()
        #expect(first.publicKey.count == 32 && first.secretKey.count == 32)
        #expect(first != second)
        #expect(try CurveKeyPair(secretKey: first.secretKey) == first)
        #expect(try Z85.encode(first.publicKey).count == 40)
        #expect(throws: ZMQError.invalidArgument) { try CurveKeyPair(secretKey: [1, 2, 3]) }
    }

    @Test(.enabled(if: ZMQLibrary.has(.curve))) func curveEncryptsForTheRightServerKeyOnly() async throws {
        try await withTimeout(.seconds(10)) {
            let serverKeys = try CurveKeyPair()
            let router = try await Socket.router().set(.linger, .zero)
                .set(.curveServer, true).set(.curveSecretKey, serverKeys.secretKey)
            let endpoint = try await bindFresh(router, .tcp)

            let clientKeys = try CurveKeyPair()
            let good = try await Socket.dealer().set(.linger, .zero)
                .set(.curveServerKey, serverKeys.publicKey)
                .set(.curvePublicKey, clientKeys.publicKey).set(.curveSecretKey, clientKeys.secretKey)
                .connect(endpoint)
            try await good.send("sealed")
            let request = try await router.recvMultipart()
            #expect(request.count == 2 && request[1] == Array("sealed".utf8))
            try await router.sendMultipart([request[0], Array("reply".utf8)])
            #expect(try await good.recv() == Array("reply".utf8))

            // A client that expects another server key fails the handshake: nothing arrives.
            let wrong = try await Socket.dealer().set(.linger, .zero)
                .set(.curveServerKey, try CurveKeyPair().publicKey)
                .set(.curvePublicKey, clientKeys.publicKey).set(.curveSecretKey, clientKeys.secretKey)
                .connect(endpoint)
            try await sendUnlessRefused(wrong, "never seen")
            await #expect(throws: ZMQError.timedOut) { try await router.recv(timeout: .milliseconds(300)) }
            for socket in [router, good, wrong] { await socket.close() }
        }
    }

    @Test(.enabled(if: ZMQLibrary.has(.gssapi))) func gssapiOptionsReadBack() async throws {
        let socket = try Socket.dealer()
        try await socket
            .set(.gssapiPrincipal, "client@EXAMPLE")
            .set(.gssapiServicePrincipal, "zmq@server")
            .set(.gssapiPrincipalNameType, .userName)
            .set(.gssapiServicePrincipalNameType, .kerberosPrincipal)
            .set(.gssapiPlaintext, true)
        #expect(try await socket.get(.gssapiPrincipal) == "client@EXAMPLE")
        #expect(try await socket.get(.gssapiServicePrincipal) == "zmq@server")
        #expect(try await socket.get(.gssapiPrincipalNameType) == .userName)
        #expect(try await socket.get(.gssapiServicePrincipalNameType) == .kerberosPrincipal)
        #expect(try await socket.get(.gssapiPlaintext))
        #expect(try await socket.get(.mechanism) == .gssapi)
        await socket.close()
    }

    @Test func readOnlyOptionsDescribeTheSocket() async throws {
        try await withTimeout {
            let pull = try Socket.pull()
            #expect(try await pull.get(.type) == .pull)
            #expect(try await pull.get(.threadSafe) == false)
            #expect(try await pull.get(.lastEndpoint) == "")
            #expect(await pull.lastEndpoint == nil)
            let endpoint = try await bindFresh(pull, .tcp)
            #expect(try await pull.get(.lastEndpoint) == endpoint)
            #expect(try await pull.get(.events) == [])

            let push = try await Socket.push().connect(endpoint)
            try await push.sendMultipart([[1], [2]])
            try await eventually { (try? await pull.get(.events))?.contains(.readable) == true }
            #expect(try await pull.recv() == [1])
            #expect(try await pull.get(.more))
            #expect(try await pull.recv() == [2])
            #expect(try await pull.get(.more) == false)
            #expect(try await push.get(.events).contains(.writable))
            await push.close()
            await pull.close()
        }
    }

    @Test func optionsOfAClosedSocketThrowSocketClosed() async throws {
        let socket = try Socket.pair()
        await socket.close()
        await #expect(throws: ZMQError.socketClosed) { try await socket.set(.linger, .zero) }
        await #expect(throws: ZMQError.socketClosed) { try await socket.get(.linger) }
        await #expect(throws: ZMQError.socketClosed) { try await socket.get(.type) }
    }

    @Test func optionKeysNameThemselves() {
        #expect(SocketOption.linger.description == "ZMQ_LINGER (linger)")
        #expect(ReadOnlySocketOption.type.description == "ZMQ_TYPE (type)")
        #expect(WriteOnlySocketOption.routerMandatory.description == "ZMQ_ROUTER_MANDATORY (routerMandatory)")
    }

    // MARK: Bad values

    struct BadValue: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let type: SocketType
        let expected: ZMQError
        let message: String
        let apply: @Sendable (Socket) async throws -> Void
    }

    static let badValues: [BadValue] = [
        BadValue(testDescription: "negative HWM", type: .dealer, expected: .invalidValue,
                 message: "ZMQ_SNDHWM (sendHighWaterMark) = -1 on DEALER socket: Invalid argument") { try await $0.set(.sendHighWaterMark, -1) },
        BadValue(testDescription: "negative linger", type: .dealer, expected: .invalidArgument,
                 message: "ZMQ_LINGER (linger) = -5 ms on DEALER socket (must not be negative)") { try await $0.set(.linger, .milliseconds(-5)) },
        BadValue(testDescription: "timeout beyond Int32 ms", type: .dealer, expected: .invalidArgument,
                 message: "ZMQ_RCVTIMEO (receiveTimeout) = 3000000000 ms on DEALER socket (must be at most 2147483647 ms)") {
                     try await $0.set(.receiveTimeout, .seconds(3_000_000))
                 },
        BadValue(testDescription: "huge duration", type: .dealer, expected: .invalidArgument,
                 message: "ZMQ_HANDSHAKE_IVL (handshakeInterval)") { try await $0.set(.handshakeInterval, .seconds(Int64.max)) },
        BadValue(testDescription: "negative keep-alive idle", type: .dealer, expected: .invalidArgument,
                 message: "ZMQ_TCP_KEEPALIVE_IDLE (tcpKeepAliveIdle)") { try await $0.set(.tcpKeepAliveIdle, .seconds(-1)) },
        BadValue(testDescription: "heartbeat TTL too long", type: .dealer, expected: .invalidValue,
                 message: "ZMQ_HEARTBEAT_TTL (heartbeatTimeToLive) = 7000000 ms on DEALER socket: Invalid argument") {
                     try await $0.set(.heartbeatTimeToLive, .seconds(7000))
                 },
        BadValue(testDescription: "heartbeat timeout reset to nil", type: .dealer, expected: .invalidArgument,
                 message: "ZMQ_HEARTBEAT_TIMEOUT (heartbeatTimeout) = nil") { try await $0.set(.heartbeatTimeout, nil) },
        BadValue(testDescription: "empty routing id", type: .dealer, expected: .invalidValue,
                 message: "ZMQ_ROUTING_ID (routingID) = [] on DEALER socket: Invalid argument") { try await $0.set(.routingID, []) },
        BadValue(testDescription: "short CURVE key", type: .dealer, expected: .invalidValue,
                 message: "ZMQ_CURVE_PUBLICKEY (curvePublicKey)") { try await $0.set(.curvePublicKey, [UInt8](repeating: 1, count: 31)) },
        BadValue(testDescription: "zero multicast hops", type: .dealer, expected: .invalidValue,
                 message: "ZMQ_MULTICAST_HOPS (multicastHops) = 0") { try await $0.set(.multicastHops, 0) },
        BadValue(testDescription: "router option on a dealer", type: .dealer, expected: .invalidValue,
                 message: "ZMQ_ROUTER_MANDATORY (routerMandatory) = true on DEALER socket: Invalid argument") { try await $0.set(.routerMandatory, true) },
        BadValue(testDescription: "REQ option on a dealer", type: .dealer, expected: .invalidValue,
                 message: "ZMQ_REQ_RELAXED (reqRelaxed) = true") { try await $0.set(.reqRelaxed, true) },
        BadValue(testDescription: "XPUB option on a SUB", type: .sub, expected: .invalidValue,
                 message: "ZMQ_XPUB_WELCOME_MSG (xpubWelcomeMessage)") { try await $0.set(.xpubWelcomeMessage, [1]) },
    ]

    @Test(arguments: badValues)
    func badValueIsRefusedWithErrorNamingTheOption(_ bad: BadValue) async throws {
        let socket = try Socket(bad.type)
        let error = await #expect(throws: bad.expected) { try await bad.apply(socket) }
        let description = error?.description ?? ""
        #expect(description.hasPrefix("set " + bad.message), "\(description)")
        #expect(description.contains(" on \(bad.type) socket"), "\(description)")
        await socket.close()
    }

    @Test func secretsStayOutOfErrorMessages() async throws {
        let socket = try Socket.dealer()
        let password = String(repeating: "p", count: 300)  // longer than libzmq accepts
        let error = await #expect(throws: ZMQError.invalidValue) { try await socket.set(.plainPassword, password) }
        #expect(error?.description == "set ZMQ_PLAIN_PASSWORD (plainPassword) = <300 bytes> on DEALER socket: Invalid argument")
        await socket.close()
    }

    // MARK: Effects

    @Test func publisherDropsMessagesBeyondHighWaterMark() async throws {
        try await withTimeout {
            let publisher = try await Socket.pub().set(.sendHighWaterMark, 5).set(.linger, .zero)
            let endpoint = try await bindFresh(publisher, .inproc)
            let subscriber = try await Socket.sub().set(.receiveHighWaterMark, 5).set(.linger, .zero).connect(endpoint).subscribe()
            try await awaitSubscription(publisher: publisher, subscriber: subscriber, probe: "probe")

            // The subscriber is not reading: PUB never waits, it drops what does not fit.
            let total = 1000
            for index in 0..<total { try await publisher.send("\(index)") }
            var received = [try await subscriber.recv()]
            while let message = try await subscriber.recvIfQueued() { received.append(message) }
            let numbers = received.map { Int(String(decoding: $0, as: UTF8.self))! }
            #expect(numbers.first == 0)
            #expect(numbers == numbers.sorted(), "what arrives arrives in order")
            // inproc queues hold about sendHighWaterMark + receiveHighWaterMark messages.
            #expect(numbers.count <= 20, "received \(numbers.count) of \(total)")
            await publisher.close()
            await subscriber.close()
        }
    }

    @Test func conflateKeepsOnlyTheLastMessage() async throws {
        try await withTimeout {
            let push = try await Socket.push().set(.linger, .zero)
            let endpoint = try await bindFresh(push, .inproc)
            let pull = try await Socket.pull().set(.conflate, true).set(.linger, .zero).connect(endpoint)
            for index in 0..<10 { try await push.send("m\(index)") }
            try await eventually { (try? await pull.get(.events))?.contains(.readable) == true }
            #expect(try await pull.recv() == bytes("m9"))
            #expect(try await pull.recvIfQueued() == nil)
            await push.close()
            await pull.close()
        }
    }

    @Test func lingerZeroDropsQueuedMessagesOnClose() async throws {
        try await withTimeout {
            // Both sockets queue a message for a peer that does not exist yet, then close. The one
            // with the default infinite linger keeps trying to deliver; the one with linger 0 drops.
            let endpoint = freshEndpoint(.ipc)
            let dropping = try await Socket.push().set(.linger, .zero).set(.reconnectInterval, .milliseconds(10))
            // libzmq ends a closed socket in the background, and the socket's sessions with it. Its
            // listening port is freed in the same step, which shows when the close has taken effect.
            let witness = try await bindFresh(dropping, .tcp)
            try await dropping.connect(endpoint)
            let keeping = try await Socket.push().set(.reconnectInterval, .milliseconds(10)).connect(endpoint)
            #expect(try await keeping.get(.linger) == nil)
            try await dropping.send("dropped", timeout: .zero)
            try await keeping.send("kept", timeout: .zero)
            await dropping.close()
            await keeping.close()
            try await eventually { await canBind(witness) }

            let pull = try await Socket.pull().set(.linger, .zero).bind(endpoint)
            #expect(try await pull.recv() == bytes("kept"))
            // The kept message proves that the late peer is reached by reconnecting (every 10 ms);
            // a surviving dropped message would have been delivered the same way.
            await #expect(throws: ZMQError.timedOut) { try await pull.recv(timeout: .milliseconds(300)) }
            await pull.close()
        }
    }

    /// Whether a socket can bind `endpoint` now (binds, then closes at once).
    private func canBind(_ endpoint: String) async -> Bool {
        guard let probe = try? await Socket.pull().set(.linger, .zero) else { return false }
        let bound = (try? await probe.bind(endpoint)) != nil
        await probe.close()
        return bound
    }

    @Test func routerMandatoryRejectsUnknownPeer() async throws {
        let strict = try await Socket.router().set(.routerMandatory, true)
        let error = await #expect(throws: ZMQError.hostUnreachable) {
            try await strict.sendMultipart([bytes("nobody"), bytes("hello")])
        }
        #expect(error?.kind == .libzmq)
        // Without it, the message is dropped silently.
        let lax = try Socket.router()
        try await lax.sendMultipart([bytes("nobody"), bytes("hello")])
        await strict.close()
        await lax.close()
    }

    @Test func routingIDNamesThePeerAtTheRouter() async throws {
        try await withTimeout {
            let router = try Socket.router()
            let endpoint = try await bindFresh(router, .inproc)
            let dealer = try await Socket.dealer().set(.routingID, bytes("worker-1")).connect(endpoint)
            #expect(try await dealer.get(.routingID) == bytes("worker-1"))
            try await dealer.send("ready")
            #expect(try await router.recvMultipart() == [bytes("worker-1"), bytes("ready")])
            await dealer.close()
            await router.close()
        }
    }

    @Test func connectRoutingIDLetsARouterSendAtOnce() async throws {
        try await withTimeout {
            let server = try Socket.router()
            let endpoint = try await bindFresh(server, .inproc)
            let client = try await Socket.router()
                .set(.routerMandatory, true)
                .set(.connectRoutingID, bytes("server"))
                .connect(endpoint)
            try await client.sendMultipart([bytes("server"), bytes("hi")])
            let parts = try await server.recvMultipart()
            #expect(parts.count == 2 && parts[1] == bytes("hi"))
            await client.close()
            await server.close()
        }
    }

    @Test func probeRouterAnnouncesNewPeers() async throws {
        try await withTimeout {
            let router = try Socket.router()
            let endpoint = try await bindFresh(router, .inproc)
            let dealer = try await Socket.dealer().set(.probeRouter, true).set(.routingID, bytes("probe")).connect(endpoint)
            #expect(try await router.recvMultipart() == [bytes("probe"), []])
            await dealer.close()
            await router.close()
        }
    }

    @Test func relaxedCorrelatedRequestCanBeReplaced() async throws {
        try await withTimeout {
            let rep = try Socket.rep()
            let endpoint = try await bindFresh(rep, .inproc)
            let req = try await Socket.req().set(.reqRelaxed, true).set(.reqCorrelate, true).connect(endpoint)
            try await req.send("one")
            try await req.send("two")  // a strict REQ throws invalidState here
            #expect(try await rep.recv() == bytes("one"))
            try await rep.send("reply to one")  // correlation discards this stale reply
            #expect(try await rep.recv() == bytes("two"))
            try await rep.send("reply to two")
            #expect(try await req.recv() == bytes("reply to two"))
            await req.close()
            await rep.close()
        }
    }

    @Test func xpubWelcomeMessageGreetsSubscribers() async throws {
        try await withTimeout {
            let xpub = try await Socket.xpub().set(.xpubWelcomeMessage, bytes("welcome"))
            let endpoint = try await bindFresh(xpub, .inproc)
            let sub = try await Socket.sub().subscribe("welcome").connect(endpoint)
            // libzmq attaches the subscriber (and greets it) when the XPUB is next used: here, to
            // read the subscription, as XPUB applications do.
            #expect(try await xpub.recv() == [1] + bytes("welcome"))
            #expect(try await sub.recv() == bytes("welcome"))
            await sub.close()
            await xpub.close()
        }
    }

    @Test func xpubVerbosePassesDuplicateSubscriptions() async throws {
        try await withTimeout {
            let xpub = try await Socket.xpub().set(.xpubVerbose, true)
            let endpoint = try await bindFresh(xpub, .inproc)
            let first = try await Socket.sub().connect(endpoint).subscribe("a")
            #expect(try await xpub.recv() == [1] + bytes("a"))
            let second = try await Socket.sub().connect(endpoint).subscribe("a")
            #expect(try await xpub.recv() == [1] + bytes("a"))  // without verbose, only the first is passed on
            await first.close()
            await second.close()
            await xpub.close()
        }
    }

    @Test func xpubManualDecidesSubscriptions() async throws {
        try await withTimeout {
            let xpub = try await Socket.xpub().set(.xpubManual, true)
            let endpoint = try await bindFresh(xpub, .inproc)
            let sub = try await Socket.sub().connect(endpoint).subscribe()
            #expect(try await xpub.recv() == [1])  // the subscriber asks for everything...
            try await xpub.set(.subscribe, bytes("news"))  // ...and is given only "news"
            try await xpub.send("sports 1")
            try await xpub.send("news 1")
            #expect(try await sub.recv() == bytes("news 1"))
            await sub.close()
            await xpub.close()
        }
    }

    @Test func invertMatchingDeliversWhatDoesNotMatch() async throws {
        try await withTimeout {
            let publisher = try await Socket.pub().set(.invertMatching, true)
            let endpoint = try await bindFresh(publisher, .inproc)
            let subscriber = try await Socket.sub().set(.invertMatching, true).connect(endpoint).subscribe("a")
            try await awaitSubscription(publisher: publisher, subscriber: subscriber, probe: "probe")
            try await publisher.send("a1")
            try await publisher.send("b1")
            #expect(try await subscriber.recv() == bytes("b1"))
            await subscriber.close()
            await publisher.close()
        }
    }

    @Test func immediateWaitsForACompletedConnection() async throws {
        try await withTimeout {
            let endpoint = freshEndpoint(.ipc)
            let eager = try await Socket.push().set(.linger, .zero).connect(endpoint)
            try await eager.send("queued early", timeout: .zero)  // queued for the peer to come
            let careful = try await Socket.push().set(.linger, .zero).set(.immediate, true).connect(endpoint)
            await #expect(throws: ZMQError.timedOut) { try await careful.send("too early", timeout: .milliseconds(20)) }

            let pull = try await Socket.pull().set(.linger, .zero).bind(endpoint)
            try await careful.send("connected")  // waits for the connection, then goes
            let received = Set([try await pull.recv(), try await pull.recv()])
            #expect(received == [bytes("queued early"), bytes("connected")])
            await eager.close()
            await careful.close()
            await pull.close()
        }
    }
}

@Suite(.timeLimit(.minutes(1)))
struct ContextOptionTests {
    @Test func contextOptionsReadBackAndApplyToNewSockets() async throws {
        let context = try Context()
        #expect(try context.get(.ioThreads) == 1)
        #expect(try context.get(.maxSockets) == 1023)
        #expect(try context.get(.blocky))
        #expect(try context.get(.ipv6) == false)
        #expect(try context.get(.threadSchedulingPolicy) == nil)
        #expect(try context.get(.socketLimit) >= 1023)
        try context
            .set(.ioThreads, 2)
            .set(.maxSockets, 64)
            .set(.ipv6, true)
            .set(.blocky, false)
            .set(.maxMessageSize, 1 << 20)
            .set(.threadNamePrefix, 7)
        #expect(try context.get(.ioThreads) == 2)
        #expect(try context.get(.maxSockets) == 64)
        #expect(try context.get(.ipv6))
        #expect(try context.get(.blocky) == false)
        #expect(try context.get(.maxMessageSize) == 1 << 20)
        #expect(try context.get(.threadNamePrefix) == 7)

        // New sockets take the context's IPv6 setting, and non-blocky contexts give them linger 0.
        let socket = try Socket.pair(context: context)
        #expect(try await socket.get(.ipv6))
        #expect(try await socket.get(.linger) == .zero)

        // libzmq ignores thread settings once its threads run; this library says so.
        let error = #expect(throws: ZMQError.invalidArgument) { try context.set(.ioThreads, 4) }
        #expect(error?.description.hasPrefix("set ZMQ_IO_THREADS (ioThreads) = 4 (only takes effect before") == true)
        #expect(throws: ZMQError.invalidArgument) { try context.set(.threadPriority, 1) }
        #expect(try context.get(.ioThreads) == 2)
        try context.set(.ipv6, false)  // not a thread setting: still allowed
        await socket.close()
    }

    @Test func maxSocketsIsEnforced() async throws {
        let context = try Context().set(.maxSockets, 2)
        let first = try Socket.pair(context: context)
        let second = try Socket.pair(context: context)
        #expect(throws: ZMQError.tooManyOpenFiles) { try Socket.pair(context: context) }
        await first.close()
        await second.close()
    }

    @Test func badContextValuesNameTheOption() throws {
        let context = try Context()
        let error = #expect(throws: ZMQError.invalidValue) { try context.set(.maxSockets, 0) }
        #expect(error?.description == "set ZMQ_MAX_SOCKETS (maxSockets) = 0: Invalid argument")
        #expect(throws: ZMQError.invalidValue) { try context.set(.ioThreads, -1) }
        #expect(ContextOption.ioThreads.description == "ZMQ_IO_THREADS (ioThreads)")
    }
}
