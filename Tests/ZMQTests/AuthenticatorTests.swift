import Logging
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
            try await sendUnlessRefused(intruder, "intruder")
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
            try await sendUnlessRefused(refused, "from a stranger")
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
            try await sendUnlessRefused(denied, "denied")
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

    @Test func oneAuthenticatorAtATimeAndANewOneStartsOnceTheLastStoppedOrWasDropped() async throws {
        try await withTimeout {
            let context = try Context()
            let first = try await Authenticator(context: context)
            #expect(first.isRunning)
            await #expect(throws: ZMQError.addressInUse) { try await Authenticator(context: context) }
            await first.stop()
            #expect(!first.isRunning)
            await first.stop()  // a second stop returns at once
            let second = try await Authenticator(context: context)
            await second.stop()
            // Dropping one (without stop) frees the context for the next at once.
            try await startAndDrop(context)
            let last = try await Authenticator(context: context)
            await last.stop()
            await context.terminate()
        }
    }

    @Test func anotherZAPHandlerBoundFirstIsRefused() async throws {
        try await withTimeout {
            let context = try Context()
            let handler = try await Socket.rep(context: context).set(.linger, .zero).bind(Authenticator.endpoint)
            await #expect(throws: ZMQError.addressInUse) { try await Authenticator(context: context) }
            await handler.close()
        }
    }

    // MARK: Failing closed

    @Test func curveClientsAreRefusedAfterStopAndAfterDropUntilANewAuthenticatorRuns() async throws {
        try await withTimeout(.seconds(30)) {
            let context = try Context()
            let curve = try await CurveServer(context: context)
            let known = try CurveKeyPair()

            let authenticator = try await Authenticator(context: context)
            authenticator.allowCurveClients([known.publicKey])
            #expect(try await curve.handshake(known) == .handshakeSucceeded)
            await authenticator.stop()
            // libzmq alone would accept this client now: the context's gate refuses it.
            #expect(try await curve.handshake(known) == .handshakeFailedAuthentication)

            try await Authenticator.run(context: context) { (running: Authenticator) async throws in
                running.allowAnyCurveClient()
                #expect(try await curve.handshake(known) == .handshakeSucceeded)
                #expect(try await curve.handshake(try CurveKeyPair()) == .handshakeSucceeded)
            }
            #expect(try await curve.handshake(known) == .handshakeFailedAuthentication, "refused once run's body ended")

            try await startAndDrop(context) { $0.allowAnyCurveClient() }
            #expect(try await curve.handshake(known) == .handshakeFailedAuthentication, "refused once dropped")

            let again = try await Authenticator(context: context)
            again.allowCurveClients([known.publicKey])
            #expect(try await curve.handshake(known) == .handshakeSucceeded, "accepted again by a new one")
            await again.stop()
            await curve.close()
        }
    }

    @Test func plainAndNullWithADomainAreRefusedWhenNoAuthenticatorRuns() async throws {
        try await withTimeout(.seconds(30)) {
            let context = try Context()
            try await startAndDrop(context) { authenticator in
                authenticator.setPasswords(["admin": "secret"])
            }
            let plainServer = try await Socket.pull(context: context).set(.linger, .zero).set(.plainServer, true)
            let nullServer = try await Socket.pull(context: context).set(.linger, .zero).set(.zapDomain, "global")
            for server in [plainServer, nullServer] {
                // The connection's other events too: a missing handshake then says how far it got.
                let handshakes = try await server.monitor(SocketEvent.Kind.handshakeEvents.union([.accepted, .disconnected, .closed]))
                let endpoint = try await bindFresh(server, .tcp)
                let client = try await Socket.push(context: context).set(.linger, .zero).set(.reconnectInterval, nil)
                if server === plainServer {
                    try await client.set(.plainUsername, "admin").set(.plainPassword, "secret")
                }
                try await client.connect(endpoint)
                try await sendUnlessRefused(client, "let me in")
                #expect(try await nextHandshake(handshakes) == .handshakeFailedAuthentication)
                await handshakes.stop()
                await client.close()
                await server.close()
            }
        }
    }

    @Test func runInATaskGroupDecidesUntilCancelled() async throws {
        try await withTimeout(.seconds(30)) {
            let context = try Context()
            let curve = try await CurveServer(context: context)
            let client = try CurveKeyPair()
            let authenticator = try await Authenticator(context: context)
            authenticator.allowAnyCurveClient()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await authenticator.run() }
                #expect(try await curve.handshake(client) == .handshakeSucceeded)
                group.cancelAll()
                try await group.waitForAll()
            }
            #expect(!authenticator.isRunning)
            #expect(try await curve.handshake(client) == .handshakeFailedAuthentication)
            await authenticator.run()  // returns at once once stopped
            await curve.close()
        }
    }

    @Test func aContextWithAGateIsStillReleasedAndTerminates() async throws {
        try await withTimeout {
            weak var released: Context?
            do {
                let context = try Context()
                released = context
                try await startAndDrop(context)
            }
            // The gate's thread holds the libzmq context only, never the Context: dropping the last
            // reference terminates it, and the gate's blocking receive ends with ETERM.
            #expect(released == nil)
            let shutDown = try Context()
            try await startAndDrop(shutDown)
            shutDown.shutdown()
            try await eventually {
                do { _ = try await Authenticator(context: shutDown); return false } catch { return error as? ZMQError == .contextTerminated }
            }
        }
    }

    @Test func decisionsAreLoggedAtInfoWithWhoMechanismDomainAndWhy() async throws {
        try await withTimeout(.seconds(30)) {
            let records = RecordingLogHandler.Records()
            let context = try Context(logger: Logger(label: "test") { _ in RecordingLogHandler(records, level: .trace) })
            let curve = try await CurveServer(context: context, domain: "vault")
            let known = try CurveKeyPair(), stranger = try CurveKeyPair()
            try await Authenticator.run(context: context) { (authenticator: Authenticator) async throws in
                authenticator.allowCurveClients([known.publicKey], domain: "vault")
                #expect(try await curve.handshake(known) == .handshakeSucceeded)
                #expect(try await curve.handshake(stranger) == .handshakeFailedAuthentication)
            }
            #expect(try await curve.handshake(known) == .handshakeFailedAuthentication)
            await curve.close()
            let decisions = records.all.filter { $0.metadata["zap.status"] != nil }
            #expect(decisions.count == 3)
            #expect(decisions.allSatisfy { $0.level == .info })
            #expect(decisions.map { $0.metadata["zap.status"] } == ["200", "400", "400"])
            #expect(decisions.map { $0.metadata["zap.identity"] } == [try Z85.encode(known.publicKey), try Z85.encode(stranger.publicKey), try Z85.encode(known.publicKey)])
            #expect(decisions.allSatisfy { $0.metadata["zap.mechanism"] == "CURVE" && $0.metadata["zap.domain"] == "vault" && $0.metadata["zap.address"] == "127.0.0.1" })
            #expect(decisions.map { $0.metadata["zap.reason"] } == ["OK", "Unknown CURVE key", "No authenticator is running"])
            #expect(decisions.map { $0.metadata["zap.authenticator"] } == ["running", "running", "none"])
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
func nextHandshake(_ handshakes: SocketMonitor, within limit: Duration = .seconds(10)) async throws -> SocketEvent.Kind? {
    let seen = Locked<[String]>([])
    do {
        return try await withTimeout(limit) {
            for try await event in handshakes {
                guard event.kind.isSubset(of: SocketEvent.Kind.handshakeEvents) else {
                    seen.withLock { $0.append(event.description) }
                    continue
                }
                return event.kind
            }
            return nil
        }
    } catch is TimedOut {
        // Says how far the connection got, so that a missing handshake can be told from a missing peer.
        Issue.record("no handshake event within \(limit); the monitor saw: \(seen.withLock { $0 })")
        return nil
    }
}

extension SocketEvent.Kind {
    /// The outcomes of a security handshake.
    static let handshakeEvents: SocketEvent.Kind = [
        .handshakeSucceeded, .handshakeFailed, .handshakeFailedProtocol, .handshakeFailedAuthentication,
    ]
}

/// Status code, status text and user id of the reply to a ZAP request from 127.0.0.1.
private func status(_ policy: ZAPPolicy, domain: String, _ mechanism: String, _ credentials: String...) -> [String] {
    let request = [Array("1.0".utf8), [1], Array(domain.utf8), Array("127.0.0.1".utf8), [], Array(mechanism.utf8)]
        + credentials.map { Array($0.utf8) }
    return policy.reply(to: request)[2...4].map { String(decoding: $0, as: UTF8.self) }
}

/// Starts an authenticator on `context`, lets `configure` set it up, and drops it without `stop()`.
func startAndDrop(_ context: Context, _ configure: (Authenticator) -> Void = { _ in }) async throws {
    let authenticator = try await Authenticator(context: context)
    configure(authenticator)
}

/// A CURVE server (a PULL socket over tcp) and the clients that try to get in.
struct CurveServer {
    let context: Context
    let keys: CurveKeyPair
    let server: Socket
    let handshakes: SocketMonitor
    let endpoint: String
    private let clients = Locked<[Socket]>([])

    init(context: Context, domain: String? = nil) async throws {
        self.context = context
        keys = try CurveKeyPair()
        server = try await Socket.pull(context: context).set(.linger, .zero)
            .set(.curveServer, true).set(.curveSecretKey, keys.secretKey)
        if let domain { try await server.set(.zapDomain, domain) }
        handshakes = try await server.monitor([.handshakeSucceeded, .handshakeFailedAuthentication])
        endpoint = try await bindFresh(server, .tcp)
    }

    /// Connects a new client with `client`'s keys and returns how its handshake ended; an accepted
    /// client's message is received, so the server is drained for the next one.
    func handshake(_ client: CurveKeyPair) async throws -> SocketEvent.Kind? {
        // No reconnection: a refused client would otherwise try again and report a second outcome.
        let socket = try await Socket.push(context: context).set(.linger, .zero).set(.reconnectInterval, nil)
            .set(.curveServerKey, keys.publicKey)
            .set(.curvePublicKey, client.publicKey).set(.curveSecretKey, client.secretKey)
            .connect(endpoint)
        clients.withLock { $0.append(socket) }
        let knocked = try await sendUnlessRefused(socket, "knock")
        let outcome = try await nextHandshake(handshakes)
        if outcome == .handshakeSucceeded {
            #expect(knocked, "an accepted client always has a pipe to send on")
            if knocked { #expect(try await server.recv() == Array("knock".utf8)) }
        }
        // A refused client retries; closing it now keeps it from handshaking again.
        await socket.close()
        return outcome
    }

    func close() async {
        await handshakes.stop()
        await server.close()
    }
}
