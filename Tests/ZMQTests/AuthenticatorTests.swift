import Testing
@_spi(Fuzzing) @testable import ZMQ

/// `Authenticator`: the ZAP handler, over real tcp handshakes (each test in a context of its own,
/// since a context has one handler), and its decisions on ZAP requests directly.
@Suite(.timeLimit(.minutes(1)))
struct AuthenticatorTests {
    @Test func plainAcceptsAKnownUserAndRefusesAWrongPassword() async throws {
        try await withTimeout {
            let context = try Context()
            let authenticator = try await Authenticator(context: context)
            authenticator.setPasswords(["admin": "secret"])
            let server = try await Socket.pull(context: context).set(.linger, .zero).set(.plainServer, true)
            let handshakes = try await server.monitor([.handshakeSucceeded, .handshakeFailedAuthentication])
            let endpoint = try await bindFresh(server, .tcp)

            let intruder = try await Socket.push(context: context).set(.linger, .zero)
                .set(.plainUsername, "admin").set(.plainPassword, "guess").connect(endpoint)
            try await intruder.send("intruder")
            #expect(try await nextHandshake(handshakes) == SocketEvent.Kind.handshakeFailedAuthentication)

            let client = try await Socket.push(context: context).set(.linger, .zero)
                .set(.plainUsername, "admin").set(.plainPassword, "secret").connect(endpoint)
            try await client.send("hello")
            #expect(try await nextHandshake(handshakes) == .handshakeSucceeded)
            let message = try await server.recv(as: Message.self)
            #expect(String(decoding: message, as: UTF8.self) == "hello")
            #expect(message.userID == "admin")

            await handshakes.stop()
            for socket in [intruder, client, server] { await socket.close() }
            await authenticator.stop()
        }
    }

    @Test func curveAcceptsOnlyAllowedClientKeysUnlessAnyIsAllowed() async throws {
        try await withTimeout {
            let context = try Context()
            let authenticator = try await Authenticator(context: context)
            let serverKeys = try CurveKeyPair(), known = try CurveKeyPair(), stranger = try CurveKeyPair()
            authenticator.allowCurveClients([known.publicKey])
            let server = try await Socket.pull(context: context).set(.linger, .zero)
                .set(.curveServer, true).set(.curveSecretKey, serverKeys.secretKey)
            let handshakes = try await server.monitor([.handshakeSucceeded, .handshakeFailedAuthentication])
            let endpoint = try await bindFresh(server, .tcp)
            func client(_ keys: CurveKeyPair) async throws -> Socket {
                try await Socket.push(context: context).set(.linger, .zero)
                    .set(.curveServerKey, serverKeys.publicKey)
                    .set(.curvePublicKey, keys.publicKey).set(.curveSecretKey, keys.secretKey)
                    .connect(endpoint)
            }

            let refused = try await client(stranger)
            try await refused.send("from a stranger")
            #expect(try await nextHandshake(handshakes) == .handshakeFailedAuthentication)

            let accepted = try await client(known)
            try await accepted.send("from a known client")
            #expect(try await nextHandshake(handshakes) == .handshakeSucceeded)
            let message = try await server.recv(as: Message.self)
            #expect(String(decoding: message, as: UTF8.self) == "from a known client")
            #expect(message.userID == (try Z85.encode(known.publicKey)))

            authenticator.allowAnyCurveClient()
            let anyone = try await client(stranger)
            try await anyone.send("from anyone")
            #expect(try await nextHandshake(handshakes) == .handshakeSucceeded)
            #expect(try await server.recv() == Array("from anyone".utf8))

            await handshakes.stop()
            for socket in [refused, accepted, anyone, server] { await socket.close() }
            await authenticator.stop()
        }
    }

    @Test func deniedAddressIsRefusedUntilAllowed() async throws {
        try await withTimeout {
            let context = try Context()
            let authenticator = try await Authenticator(context: context)
            authenticator.deny("127.0.0.1")
            // NULL security asks the handler only when the server has a ZAP domain.
            let server = try await Socket.pull(context: context).set(.linger, .zero).set(.zapDomain, "global")
            let handshakes = try await server.monitor([.handshakeSucceeded, .handshakeFailedAuthentication])
            let endpoint = try await bindFresh(server, .tcp)

            let denied = try await Socket.push(context: context).set(.linger, .zero).connect(endpoint)
            try await denied.send("denied")
            #expect(try await nextHandshake(handshakes) == .handshakeFailedAuthentication)

            authenticator.allow("127.0.0.1")  // an allow list overrides the deny list
            let allowed = try await Socket.push(context: context).set(.linger, .zero).connect(endpoint)
            try await allowed.send("allowed")
            #expect(try await nextHandshake(handshakes) == .handshakeSucceeded)
            #expect(try await server.recv() == Array("allowed".utf8))

            await handshakes.stop()
            for socket in [denied, allowed, server] { await socket.close() }
            await authenticator.stop()
        }
    }

    @Test func oneHandlerPerContextAndStopOrDropReleasesTheEndpoint() async throws {
        try await withTimeout {
            let context = try Context()
            let first = try await Authenticator(context: context)
            await #expect(throws: ZMQError.addressInUse) { try await Authenticator(context: context) }
            await first.stop()
            await first.stop()  // a second stop returns at once
            // libzmq's reaper releases the inproc name shortly after the socket is closed.
            try await eventually { (try? await Authenticator(context: context)) != nil }
            // Each authenticator above was dropped without stop(): dropping one stops it too.
            try await eventually {
                guard let last = try? await Authenticator(context: context) else { return false }
                await last.stop()
                return true
            }
        }
    }

    // MARK: Decisions on ZAP requests

    @Test func passwordsOfADomainOverrideThoseOfEveryDomain() {
        var policy = ZAPPolicy()
        policy.passwords["*"] = ["alice": "one"]
        policy.passwords["admin"] = ["root": "two"]
        #expect(status(policy, domain: "", "PLAIN", "alice", "one") == ["200", "OK", "alice"])
        #expect(status(policy, domain: "other", "PLAIN", "alice", "one") == ["200", "OK", "alice"])
        #expect(status(policy, domain: "admin", "PLAIN", "alice", "one")[0] == "400")
        #expect(status(policy, domain: "admin", "PLAIN", "root", "two") == ["200", "OK", "root"])
        #expect(status(policy, domain: "admin", "PLAIN", "root", "tw")[0] == "400")
        #expect(status(policy, domain: "admin", "PLAIN", "nobody", "two")[0] == "400")
        #expect(status(ZAPPolicy(), domain: "", "PLAIN", "alice", "one") == ["400", "No passwords for this domain", ""])
    }

    @Test func malformedRequestsAndUnknownMechanismsAreRefused() {
        let policy = ZAPPolicy()
        #expect(policy.reply(to: [])[2] == Array("500".utf8))
        #expect(policy.reply(to: [Array("1.0".utf8), [7]])[1] == [7])  // the request id is echoed
        #expect(policy.reply(to: [Array("2.0".utf8), [7], [], [], [], Array("NULL".utf8)])[2] == Array("500".utf8))
        #expect(status(policy, domain: "", "NULL") == ["200", "OK", ""])
        #expect(status(policy, domain: "", "GSSAPI", "principal")[0] == "400")
        #expect(status(policy, domain: "", "PLAIN", "only a user name")[0] == "400")
        #expect(status(policy, domain: "", "CURVE", "short key")[0] == "400")
    }

    @Test func passwordComparisonLooksAtEveryByte() {
        #expect(ZAPPolicy.constantTimeEqual(Array("secret".utf8), Array("secret".utf8)))
        #expect(!ZAPPolicy.constantTimeEqual(Array("secret".utf8), Array("secreT".utf8)))
        #expect(!ZAPPolicy.constantTimeEqual(Array("secret".utf8), Array("secret!".utf8)))
        #expect(!ZAPPolicy.constantTimeEqual(Array("secret".utf8), Array("secre".utf8)))
        #expect(!ZAPPolicy.constantTimeEqual([], [0]))
        #expect(ZAPPolicy.constantTimeEqual([], []))
    }
}

/// The next handshake outcome the server's monitor reports.
private func nextHandshake(_ handshakes: SocketMonitor) async throws -> SocketEvent.Kind? {
    for try await event in handshakes { return event.kind }
    return nil
}

/// Status code, status text and user id of the reply to a ZAP request from 127.0.0.1.
private func status(_ policy: ZAPPolicy, domain: String, _ mechanism: String, _ credentials: String...) -> [String] {
    let request = [Array("1.0".utf8), [1], Array(domain.utf8), Array("127.0.0.1".utf8), [], Array(mechanism.utf8)]
        + credentials.map { Array($0.utf8) }
    return policy.reply(to: request)[2...4].map { String(decoding: $0, as: UTF8.self) }
}
