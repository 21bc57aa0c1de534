import Foundation
import Testing
import ZMQ

/// Runs `body`, failing if it takes longer than `duration`, so that a hang fails the test.
func withTimeout<T: Sendable>(_ duration: Duration = .seconds(40), _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: duration)
            throw ProcessTimedOut(what: "test", description: "test did not finish within \(duration)")
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// A fresh ipc endpoint; its socket file is removed when the test process exits (libzmq leaves a
/// bound ipc endpoint's file behind when the socket closes).
func freshIPC() -> String {
    let path = "/tmp/zmq-tool-test-\(UUID().uuidString.prefix(12).lowercased())"
    ipcFiles.withLock { $0.append(path) }
    return "ipc://" + path
}

/// The socket files `freshIPC()` named.
private let ipcFiles: Protected<[String]> = {
    atexit { for path in ipcFiles.withLock({ $0 }) { unlink(path) } }
    return Protected([])
}()

/// The frames of a `--format json` line.
func jsonFrames(_ line: String) throws -> [[UInt8]] {
    let array = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Any], "not a JSON array: \(line)")
    return try array.map { element in
        if let text = element as? String { return Array(text.utf8) }
        let object = try #require(element as? [String: String], "not a frame: \(element)")
        let encoded = try #require(object["base64"])
        return Array(try #require(Data(base64Encoded: encoded)))
    }
}

/// The `zmq` tool, run as a subprocess against itself, the library's sockets and pyzmq. One test at a
/// time (`.serialized` covers the nested suites): each starts processes of its own, and running them
/// all at once would load the machine that the library's tests share.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct ZMQToolTests {}

extension ZMQToolTests {
@Suite struct PatternCommandTests {
    @Test(arguments: ["tcp", "ipc"])
    func pushPipesIntoPull(transport: String) async throws {
        try await withTimeout {
            let pull = try ToolProcess("pull", "--bind", transport == "tcp" ? "tcp://127.0.0.1:*" : freshIPC(), "--count", "3")
            let endpoint = try await pull.boundEndpoint()
            let push = try ToolProcess("push", endpoint)
            push.write("one\ntwo\nthree\n")
            push.closeInput()
            #expect(try await push.exitStatus() == 0, "\(push.stderr)")
            #expect(try await pull.exitStatus() == 0, "\(pull.stderr)")
            #expect(pull.stdoutLines == ["one", "two", "three"])
        }
    }

    @Test func pushDeliversItsInputAtEndOfFileEvenBeforeTheReceiverBinds() async throws {
        try await withTimeout {
            let endpoint = freshIPC()
            // `echo hi | zmq push`: the input ends at once; the command lingers until delivery.
            let push = try ToolProcess("push", endpoint)
            push.write("hi\nlast line without newline")
            push.closeInput()
            try await push.waitUntil("connecting line") { $0.stderr.contains("connecting to") }
            let pull = try ToolProcess("pull", "--bind", endpoint, "--count", "2")
            #expect(try await pull.exitStatus() == 0, "\(pull.stderr)")
            #expect(pull.stdoutLines == ["hi", "last line without newline"])
            #expect(try await push.exitStatus() == 0, "\(push.stderr)")
        }
    }

    @Test func subscriberReceivesOnlyItsTopics() async throws {
        try await withTimeout {
            let sub = try ToolProcess("sub", "--bind", "tcp://127.0.0.1:*", "--topic", "weather", "--topic", "sport", "--count", "4")
            let endpoint = try await sub.boundEndpoint()
            let pub = try ToolProcess("pub", endpoint)
            // PUB drops messages until the subscription has arrived: publish until the subscriber has enough.
            var index = 0
            while !sub.hasExited {
                pub.write("news \(index)\nweather \(index)\nsport \(index)\n")
                index += 1
                try await Task.sleep(for: .milliseconds(5))  // the publishing pace, not a synchronisation
            }
            pub.closeInput()
            #expect(try await sub.exitStatus() == 0)
            #expect(sub.stdoutLines.count == 4)
            #expect(sub.stdoutLines.allSatisfy { $0.hasPrefix("weather ") || $0.hasPrefix("sport ") }, "\(sub.stdoutLines)")
            #expect(try await pub.exitStatus() == 0, "\(pub.stderr)")
        }
    }

    @Test func requestGetsTheEchoOfRep() async throws {
        try await withTimeout {
            let rep = try ToolProcess("rep", "--bind", "tcp://127.0.0.1:*", "--echo", "--count", "2")
            let endpoint = try await rep.boundEndpoint()
            let req = try ToolProcess("req", endpoint, "--frames")
            req.write("ping\nmulti|part\n")
            req.closeInput()
            #expect(try await req.exitStatus() == 0, "\(req.stderr)")
            #expect(req.stdoutLines == ["ping", "multi|part"])
            #expect(try await rep.exitStatus() == 0, "\(rep.stderr)")
            #expect(rep.stdoutLines == ["ping", "multi|part"], "rep prints the requests it answers")
        }
    }

    @Test func repAnswersWithTheReplyGivenOrWithItsInput() async throws {
        try await withTimeout {
            let fixed = try ToolProcess("rep", "--bind", "tcp://127.0.0.1:*", "--reply", "pong", "--count", "1")
            let req = try ToolProcess("req", try await fixed.boundEndpoint(), "--message", "ping")
            #expect(try await req.exitStatus() == 0, "\(req.stderr)")
            #expect(req.stdoutLines == ["pong"])
            #expect(try await fixed.exitStatus() == 0)

            let scripted = try ToolProcess("rep", "--bind", "tcp://127.0.0.1:*")
            scripted.write("first answer\nsecond answer\n")
            scripted.closeInput()
            let client = try ToolProcess("req", try await scripted.boundEndpoint())
            client.write("a\nb\n")
            client.closeInput()
            #expect(try await client.exitStatus() == 0, "\(client.stderr)")
            #expect(client.stdoutLines == ["first answer", "second answer"])
            scripted.signal(SIGINT)
            #expect(try await scripted.exitStatus() == 0)
        }
    }

    @Test func routerPrintsTheIdentityAndRoutesAReplyBack() async throws {
        try await withTimeout {
            let router = try ToolProcess("router", "--bind", "tcp://127.0.0.1:*")
            let endpoint = try await router.boundEndpoint()
            let dealer = try ToolProcess("dealer", endpoint, "--identity", "bob", "--message", "hello", "--count", "1")
            #expect(try await router.outputLines(1) == ["0x626f62|hello"])
            router.write("0x626f62|world\n")
            #expect(try await dealer.exitStatus() == 0, "\(dealer.stderr)")
            #expect(dealer.stdoutLines == ["world"])
            router.signal(SIGTERM)
            #expect(try await router.exitStatus() == 0)
        }
    }

    @Test func pairTalksBothWays() async throws {
        try await withTimeout {
            let left = try ToolProcess("pair", "--bind", freshIPC(), "--count", "1")
            let right = try ToolProcess("pair", try await left.boundEndpoint(), "--count", "1")
            left.write("from left\n")
            right.write("from right\n")
            #expect(try await left.exitStatus() == 0, "\(left.stderr)")
            #expect(try await right.exitStatus() == 0, "\(right.stderr)")
            #expect(left.stdoutLines == ["from right"])
            #expect(right.stdoutLines == ["from left"])
        }
    }

    @Test func xpubPrintsTheSubscriptionsOfSubscribers() async throws {
        try await withTimeout {
            let xpub = try ToolProcess("xpub", "--bind", "tcp://127.0.0.1:*", "--format", "hex", "--count", "1")
            let sub = try ToolProcess("sub", try await xpub.boundEndpoint(), "--topic", "ab")
            #expect(try await xpub.exitStatus() == 0, "\(xpub.stderr)")
            #expect(xpub.stdoutLines == ["016162"], "a subscription is 0x01 and the topic")
            sub.signal(SIGINT)
            #expect(try await sub.exitStatus() == 0)
        }
    }

    @Test func streamSpeaksRawTCP() async throws {
        try await withTimeout {
            let stream = try ToolProcess("stream", "--bind", "tcp://127.0.0.1:*", "--format", "json", "--count", "2")
            let endpoint = try await stream.boundEndpoint()
            // A plain TCP peer: python3's socket module, with no ZeroMQ.
            let port = String(endpoint.split(separator: ":").last!)
            let peer = try ToolProcess(executable: "python3", ["-c", """
                import socket; s = socket.create_connection(("127.0.0.1", \(port))); s.sendall(b"raw bytes"); \
                import time; time.sleep(30)
                """])
            let lines = try await stream.outputLines(2)
            let connect = try jsonFrames(lines[0]), data = try jsonFrames(lines[1])
            #expect(connect.count == 2 && connect[1].isEmpty, "a connection is announced with an empty frame")
            #expect(data.count == 2 && data[0] == connect[0] && data[1] == Array("raw bytes".utf8))
            #expect(try await stream.exitStatus() == 0)
            peer.signal(SIGKILL)
        }
    }
}
}

extension ZMQToolTests {
@Suite struct FormatTests {
    @Test func jsonOutputParsesBackToTheFramesSent() async throws {
        try await withTimeout {
            let pull = try ToolProcess("pull", "--bind", freshIPC(), "--format", "json", "--count", "3")
            let push = try ToolProcess("push", try await pull.boundEndpoint(), "--format", "json")
            push.write(#"["text","é \"quoted\"\n"]"# + "\n")
            push.write(#"[{"base64":"/wABAg=="},""]"# + "\n")
            push.write(#""a single frame""# + "\n")
            push.closeInput()
            #expect(try await push.exitStatus() == 0, "\(push.stderr)")
            #expect(try await pull.exitStatus() == 0, "\(pull.stderr)")
            let messages = try pull.stdoutLines.map(jsonFrames)
            #expect(messages == [
                [Array("text".utf8), Array("é \"quoted\"\n".utf8)],
                [[0xFF, 0x00, 0x01, 0x02], []],
                [Array("a single frame".utf8)],
            ])
        }
    }

    @Test func jsonOutputOfTheLibrarysSocketPipesIntoAParser() async throws {
        try await withTimeout {
            let pull = try ToolProcess("pull", "--bind", "tcp://127.0.0.1:*", "--format", "json", "--count", "1")
            let push = try Socket.push()
            try await push.connect(try await pull.boundEndpoint())
            try await push.sendMultipart([[0x80, 0x81], Array("ok".utf8)])
            #expect(try await pull.exitStatus() == 0)
            #expect(try jsonFrames(pull.stdoutLines[0]) == [[0x80, 0x81], Array("ok".utf8)])
            await push.close()
        }
    }

    @Test func hexWritesAndReadsEachFrameInHex() async throws {
        try await withTimeout {
            let pull = try ToolProcess("pull", "--bind", freshIPC(), "--format", "hex", "--separator", " ", "--count", "2")
            let push = try ToolProcess("push", try await pull.boundEndpoint(), "--frames")
            push.write("ab|cd\n\n")
            push.closeInput()
            #expect(try await pull.exitStatus() == 0)
            #expect(pull.stdoutLines == ["6162 6364", ""], "an empty line is an empty message")
            #expect(try await push.exitStatus() == 0)
        }
    }

    @Test func rawSendsAllOfStandardInputAsOneMessage() async throws {
        try await withTimeout {
            let pull = try Socket.pull()
            try await pull.bind("tcp://127.0.0.1:*")
            let push = try ToolProcess("push", "--raw", try #require(await pull.lastEndpoint))
            push.write("line 1\nline 2\n")
            push.closeInput()
            #expect(try await pull.recv() == Array("line 1\nline 2\n".utf8))
            #expect(try await push.exitStatus() == 0)
            await pull.close()
        }
    }

    @Test func messageRepeatsCountTimes() async throws {
        try await withTimeout {
            let pull = try ToolProcess("pull", "--bind", freshIPC(), "--count", "3")
            let push = try ToolProcess("push", try await pull.boundEndpoint(), "--message", "tick", "--count", "3", "--interval", "1ms")
            #expect(try await push.exitStatus() == 0)
            #expect(try await pull.exitStatus() == 0)
            #expect(pull.stdoutLines == ["tick", "tick", "tick"])
        }
    }

    @Test func aBadInputLineFailsWithItsLineNumber() async throws {
        try await withTimeout {
            let push = try ToolProcess("push", freshIPC(), "--format", "hex", "--linger", "0")
            push.write("00\nzz\n")
            push.closeInput()
            #expect(try await push.exitStatus() == 1)
            #expect(push.stderr.contains("zmq push: error: standard input line 2: 'zz' is not hex digits"), "\(push.stderr)")
        }
    }
}
}

extension ZMQToolTests {
@Suite struct ExitStatusTests {
    @Test(arguments: [
        (["push"], "give at least one endpoint"),
        (["push", "foo://x"], "unknown transport 'foo'"),
        (["push", "localhost:5555"], "has no transport"),
        (["pull", "tcp://127.0.0.1:1", "--bogus"], "Unknown option '--bogus'"),
        (["pull", "tcp://127.0.0.1:1", "--count", "0"], "--count must be at least 1"),
        (["pull", "tcp://127.0.0.1:1", "--timeout", "soon"], "soon"),
        (["pull", "tcp://127.0.0.1:1", "--format", "xml"], "xml"),
        (["req", "tcp://127.0.0.1:1", "--curve-server-key", "short"], "--curve-server-key must be a 40-character Z85"),
        (["rep", "--bind", "tcp://127.0.0.1:*", "--curve-server"], "--curve-server needs --curve-secret-key"),
        (["rep", "--bind", "tcp://127.0.0.1:*", "--plain-server", "--plain-user", "u"], "PLAIN needs both"),
        (["pull", "--bind", "tcp://127.0.0.1:99999"], "port must be 0...65535"),
        (["pull", "--bind", "--connect", "tcp://127.0.0.1:1"], "exclude each other"),
        (["rep", "tcp://127.0.0.1:1", "--echo", "--reply", "x"], "exclude each other"),
        (["nosuchcommand"], "nosuchcommand"),
        (["bench", "nope", "1", "1"], "unknown workload 'nope'"),
    ])
    func aUsageErrorExits2WithOneLine(arguments: [String], message: String) async throws {
        try await withTimeout {
            try ToolBinary.require()
            let tool = try ToolProcess(executable: ToolBinary.path, arguments)
            #expect(try await tool.exitStatus() == 2, "\(tool.stderr)")
            #expect(tool.stderrLines.count == 1, "one line: \(tool.stderr)")
            #expect(tool.stderr.contains("error:") && tool.stderr.contains(message), "\(tool.stderr)")
            #expect(tool.stdout.isEmpty)
        }
    }

    @Test func anAddressInUseExits1() async throws {
        try await withTimeout {
            let first = try ToolProcess("pull", "--bind", "tcp://127.0.0.1:*")
            let endpoint = try await first.boundEndpoint()
            let second = try ToolProcess("pull", "--bind", endpoint)
            #expect(try await second.exitStatus() == 1)
            #expect(second.stderrLines == ["zmq pull: error: bind \(endpoint) on PULL socket: Address already in use"])
            first.signal(SIGTERM)
            #expect(try await first.exitStatus() == 0)
        }
    }

    @Test func aReceiveTimeoutExits1() async throws {
        try await withTimeout {
            let pull = try ToolProcess("pull", "--bind", freshIPC(), "--timeout", "50ms", "--quiet")
            #expect(try await pull.exitStatus() == 1)
            #expect(pull.stderrLines == ["zmq pull: error: no message within 50ms (0 received)"])
        }
    }

    @Test func aRequestWithoutAReplyTimesOutAndExits1() async throws {
        try await withTimeout {
            let req = try ToolProcess("req", freshIPC(), "--message", "anyone?", "--timeout", "50ms", "-q")
            #expect(try await req.exitStatus() == 1)
            #expect(req.stderr.contains("no message within 50ms"), "\(req.stderr)")
        }
    }

    @Test(arguments: [SIGINT, SIGTERM])
    func aSignalStopsAReceiverWithStatus0(signal: Int32) async throws {
        try await withTimeout {
            let sub = try ToolProcess("sub", "tcp://127.0.0.1:1")  // never connects: a queued subscription
            try await sub.waitUntil("connecting line") { $0.stderr.contains("connecting to") }
            let pull = try ToolProcess("pull", "--bind", freshIPC())
            _ = try await pull.boundEndpoint()
            sub.signal(signal)
            pull.signal(signal)
            #expect(try await sub.exitStatus() == 0, "\(sub.stderr)")
            #expect(try await pull.exitStatus() == 0, "\(pull.stderr)")
        }
    }

    @Test(arguments: [SIGINT, SIGTERM])
    func aSignalInterruptsASenderWithStatus130(signal: Int32) async throws {
        try await withTimeout {
            let pull = try ToolProcess("pull", "--bind", freshIPC(), "--count", "1")
            let push = try ToolProcess("push", try await pull.boundEndpoint())
            push.write("first\n")
            #expect(try await pull.outputLines(1) == ["first"], "the sender is running, waiting for more input")
            push.signal(signal)
            #expect(try await push.exitStatus() == 130, "\(push.stderr)")
            #expect(try await pull.exitStatus() == 0)
        }
    }

    @Test func aSignalEndsALingeringSenderAtOnce() async throws {
        try await withTimeout {
            // No receiver ever comes: with the default linger (forever) the sender would wait for one.
            // A signal while it lingers ends it at once; one that comes before it has sent cancels the
            // sending, and then the close lingers, until the next signal. Signals that come close
            // together may merge into one, so they are repeated until the process has gone.
            let push = try ToolProcess("push", freshIPC(), "--message", "undeliverable")
            try await push.waitUntil("connecting line") { $0.stderr.contains("connecting to") }
            while !push.hasExited {
                push.signal(SIGINT)
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(try await push.exitStatus() == 130)
        }
    }

    @Test func aBrokenPipeEndsTheReceiverQuietly() async throws {
        try await withTimeout {
            let pull = try ToolProcess("pull", "--bind", freshIPC(), "--quiet", closeOutput: true)
            let push = try Socket.push()
            // The quiet pull prints no bound line: the library's socket connects and sends once it can.
            let endpoint = pull.arguments[2]
            try await push.set(.linger, .zero).connect(endpoint)
            try await push.send("into a closed pipe")
            #expect(try await pull.exitStatus() == 0)
            #expect(pull.stderr.isEmpty, "quietly: \(pull.stderr)")
            await push.close()
        }
    }

    @Test func statsPrintsAThroughputLineWhileItRuns() async throws {
        try await withTimeout {
            let pull = try ToolProcess("pull", "--bind", freshIPC(), "--stats")
            let push = try ToolProcess("push", try await pull.boundEndpoint(), "--message", "12345", "--count", "3")
            #expect(try await push.exitStatus() == 0)
            try await pull.waitUntil("stats line") { $0.stderr.contains("received") && $0.stderr.contains("(total 3 msg 15 B)") }
            pull.signal(SIGINT)
            #expect(try await pull.exitStatus() == 0)
        }
    }
}
}

extension ZMQToolTests {
@Suite struct ToolCommandTests {
    @Test func proxyStreamsAndReportsItsStatistics() async throws {
        try await withTimeout {
            let proxy = try ToolProcess("proxy", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*", "--kind", "streamer")
            let frontend = try await proxy.boundEndpoint(0), backend = try await proxy.boundEndpoint(1)
            let pull = try ToolProcess("pull", backend, "--count", "2")
            let push = try ToolProcess("push", frontend)
            push.write("a\nb\n")
            push.closeInput()
            #expect(try await pull.exitStatus() == 0)
            #expect(pull.stdoutLines == ["a", "b"])
            let expected = "frontend received 2 msg (2 frames, 2 B), sent 0 msg (0 frames, 0 B); backend received 0 msg (0 frames, 0 B), sent 2 msg (2 frames, 2 B)"
            proxy.signal(SIGUSR1)
            try await proxy.waitUntil("statistics line") { $0.stderr.contains(expected) }
            proxy.signal(SIGINT)
            #expect(try await proxy.exitStatus() == 0)
            #expect(proxy.stderrLines.filter { $0.contains(expected) }.count == 2, "on SIGUSR1 and at exit: \(proxy.stderr)")
            #expect(try await push.exitStatus() == 0)
        }
    }

    @Test func queueProxyCarriesRequestsToWorkers() async throws {
        try await withTimeout {
            let proxy = try ToolProcess("proxy", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*")
            let frontend = try await proxy.boundEndpoint(0), backend = try await proxy.boundEndpoint(1)
            let rep = try ToolProcess("rep", backend, "--echo", "--count", "1")
            let req = try ToolProcess("req", frontend, "--message", "through the broker")
            #expect(try await req.exitStatus() == 0, "\(req.stderr)")
            #expect(req.stdoutLines == ["through the broker"])
            #expect(try await rep.exitStatus() == 0)
            proxy.signal(SIGTERM)
            #expect(try await proxy.exitStatus() == 0)
        }
    }

    @Test func monitorReportsListeningAndAcceptedConnections() async throws {
        try await withTimeout {
            let monitor = try ToolProcess("monitor", "--type", "pull", "--bind", "tcp://127.0.0.1:*", "--format", "json", "--count", "3")
            let endpoint = try await monitor.boundEndpoint()
            let push = try Socket.push()
            try await push.connect(endpoint)
            #expect(try await monitor.exitStatus() == 0, "\(monitor.stderr)")
            let events = try monitor.stdoutLines.map { line in
                try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            }
            #expect(events.map { $0["event"] as? String } == ["listening", "accepted", "handshake succeeded"])
            #expect(events.allSatisfy { $0["endpoint"] as? String == endpoint && $0["value"] is Int })
            await push.close()
        }
    }

    @Test func keygenPrintsAKeyPairThatWorksForCurve() async throws {
        try await withTimeout {
            let keygen = try ToolProcess("keygen")
            #expect(try await keygen.exitStatus() == 0)
            let lines = keygen.stdoutLines
            try #require(lines.count == 2 && lines[0].hasPrefix("public-key: ") && lines[1].hasPrefix("secret-key: "), "\(lines)")
            let publicKey = String(lines[0].dropFirst(12)), secretKey = String(lines[1].dropFirst(12))
            #expect(try CurveKeyPair(secretKey: try Z85.decode(secretKey)).publicKey == (try Z85.decode(publicKey)))

            let rep = try ToolProcess("rep", "--bind", "tcp://127.0.0.1:*", "--echo", "--count", "1",
                                      "--curve-server", "--curve-secret-key", secretKey)
            let endpoint = try await rep.boundEndpoint()
            let req = try ToolProcess("req", endpoint, "--message", "secret", "--curve-server-key", publicKey)
            #expect(try await req.exitStatus() == 0, "\(req.stderr)")
            #expect(req.stdoutLines == ["secret"])
            #expect(try await rep.exitStatus() == 0)

            // A client that expects another server key never gets through.
            let other = try CurveKeyPair()
            let wrong = try ToolProcess("req", endpoint, "--message", "x", "--timeout", "200ms", "-q",
                                        "--curve-server-key", try Z85.encode(other.publicKey))
            #expect(try await wrong.exitStatus() == 1)
        }
    }

    /// Z85 keys may begin with '-' (one in 85 does): such a key is taken as the option's value, not
    /// as another option; so are credentials that begin as ArgumentParser refuses any argument to
    /// (`-=`, `---`), which a key can too.
    @Test func keysAndPasswordsThatBeginWithADashAreValues() async throws {
        try await withTimeout {
            var server = try CurveKeyPair()
            while !(try Z85.encode(server.secretKey)).hasPrefix("-") { server = try CurveKeyPair() }
            let rep = try ToolProcess("rep", "--bind", "tcp://127.0.0.1:*", "--echo", "--count", "1",
                                      "--curve-server", "--curve-secret-key", try Z85.encode(server.secretKey))
            let endpoint = try await rep.boundEndpoint()
            let req = try ToolProcess("req", endpoint, "--message", "dash", "--curve-server-key", try Z85.encode(server.publicKey))
            #expect(try await req.exitStatus() == 0, "\(req.stderr)")
            #expect(req.stdoutLines == ["dash"])
            #expect(try await rep.exitStatus() == 0, "\(rep.stderr)")

            let plain = try ToolProcess("rep", "--bind", "tcp://127.0.0.1:*", "--echo", "--count", "1",
                                        "--plain-server", "--plain-user", "-=admin", "--plain-password", "---secret")
            let plainEndpoint = try await plain.boundEndpoint()
            let client = try ToolProcess("req", plainEndpoint, "--message", "hi", "--plain-user", "-=admin", "--plain-password", "---secret")
            #expect(try await client.exitStatus() == 0, "\(client.stderr)")
            #expect(try await plain.exitStatus() == 0, "\(plain.stderr)")
        }
    }

    @Test func keygenWritesCertificateFilesTheLibraryLoads() async throws {
        try await withTimeout {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zmq-keygen-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let keygen = try ToolProcess("keygen", "--output", "\(directory)/server")
            #expect(try await keygen.exitStatus() == 0, "\(keygen.stderr)")
            let lines = keygen.stdoutLines
            try #require(lines.count == 3 && lines[0].hasPrefix("public-key: "), "\(lines)")
            #expect(lines[1] == "public-file: \(directory)/server.key")
            #expect(lines[2] == "secret-file: \(directory)/server.key_secret")
            #expect(!keygen.stdout.contains("secret-key"), "the secret key is not printed")
            let publicKey = try Z85.decode(String(lines[0].dropFirst(12)))
            let pair = try #require(try CurveCertificate(contentsOfFile: "\(directory)/server.key_secret").keyPair)
            #expect(pair.publicKey == publicKey)
            #expect(try CurveCertificate(contentsOfFile: "\(directory)/server.key").publicKey == publicKey)
            let mode = try FileManager.default.attributesOfItem(atPath: "\(directory)/server.key_secret")[.posixPermissions] as? Int
            #expect(mode == 0o600)

            let unwritable = try ToolProcess("keygen", "--output", "\(directory)/missing/server")
            #expect(try await unwritable.exitStatus() == 1)
            #expect(unwritable.stderrLines.count == 1 && unwritable.stderrLines[0].contains("missing/server.key"), "\(unwritable.stderrLines)")
        }
    }

    @Test func plainServerAcceptsOnlyItsUser() async throws {
        try await withTimeout {
            let rep = try ToolProcess("rep", "--bind", "tcp://127.0.0.1:*", "--echo",
                                      "--plain-server", "--plain-user", "admin", "--plain-password", "s3cret")
            let endpoint = try await rep.boundEndpoint()
            let good = try ToolProcess("req", endpoint, "--message", "hello", "--plain-user", "admin", "--plain-password", "s3cret")
            #expect(try await good.exitStatus() == 0, "\(good.stderr)")
            #expect(good.stdoutLines == ["hello"])
            let bad = try ToolProcess("req", endpoint, "--message", "hello", "--plain-user", "admin", "--plain-password", "guess",
                                      "--timeout", "200ms", "-q")
            #expect(try await bad.exitStatus() == 1)
            #expect(bad.stdout.isEmpty)
            rep.signal(SIGINT)
            #expect(try await rep.exitStatus() == 0)
            #expect(rep.stdoutLines == ["hello"], "only the good client's request arrived")
        }
    }

    @Test func versionPrintsTheLibzmqVersionAndCapabilities() async throws {
        try await withTimeout {
            let version = try ToolProcess("version")
            #expect(try await version.exitStatus() == 0)
            #expect(version.stdoutLines.contains("libzmq \(ZMQLibrary.version)"))
            for capability in ZMQLibrary.Capability.allCases {
                #expect(version.stdoutLines.contains("\(capability.rawValue): \(ZMQLibrary.has(capability) ? "yes" : "no")"))
            }
            let json = try ToolProcess("version", "--format", "json")
            #expect(try await json.exitStatus() == 0)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect(object["libzmq"] as? String == "\(ZMQLibrary.version)")
            #expect((object["capabilities"] as? [String: Bool])?["curve"] == ZMQLibrary.has(.curve))
        }
    }

    @Test func benchRunsAWorkloadAsZmqBenchDoes() async throws {
        try await withTimeout {
            let bench = try ToolProcess("bench", "thr-inproc", "64", "1000")
            #expect(try await bench.exitStatus() == 0, "\(bench.stderr)")
            #expect(bench.stdoutLines.count == 1)
            #expect(bench.stdout.hasPrefix("workload=thr-inproc size=64 count=1000 msgs_per_s="))
        }
    }

    static let subcommands = ["pub", "sub", "push", "pull", "req", "rep", "dealer", "router", "pair", "xpub", "xsub",
                              "stream", "proxy", "monitor", "keygen", "bench", "version"]

    @Test(arguments: subcommands)
    func everySubcommandHasHelpWithAnExample(subcommand: String) async throws {
        try await withTimeout {
            let help = try ToolProcess(subcommand, "--help")
            #expect(try await help.exitStatus() == 0)
            #expect(help.stdout.contains("Example:") && help.stdout.contains("zmq \(subcommand)"), "\(help.stdout)")
        }
    }
}
}

extension ZMQToolTests {
/// pyzmq on the other end (CI installs it and sets SWIFT_ZMQ_REQUIRE_PYZMQ=1, so that a missing
/// pyzmq fails instead of skipping).
@Suite(.enabled(if: PyZMQ.available || ProcessInfo.processInfo.environment["SWIFT_ZMQ_REQUIRE_PYZMQ"] == "1"))
struct PyZMQPeerTests {
    @Test func pyzmqPullReceivesFromZmqPush() async throws {
        try await withTimeout {
            try #require(PyZMQ.available, "pyzmq is required (pip install pyzmq)")
            let python = try ToolProcess(executable: "python3", ["-c", """
                import zmq, sys
                s = zmq.Context().socket(zmq.PULL); s.setsockopt(zmq.RCVTIMEO, 20000); s.bind("tcp://127.0.0.1:*")
                print(s.getsockopt_string(zmq.LAST_ENDPOINT), flush=True)
                print(s.recv_multipart(), flush=True)
                """])
            let endpoint = try await python.outputLines(1)[0]
            let push = try ToolProcess("push", endpoint, "--message", "from|swift", "--frames")
            #expect(try await push.exitStatus() == 0)
            #expect(try await python.exitStatus() == 0, "\(python.stderr)")
            #expect(python.stdoutLines.last == "[b'from', b'swift']")
        }
    }

    @Test func zmqReqGetsAReplyFromPyzmqRep() async throws {
        try await withTimeout {
            try #require(PyZMQ.available, "pyzmq is required (pip install pyzmq)")
            let python = try ToolProcess(executable: "python3", ["-c", """
                import zmq
                s = zmq.Context().socket(zmq.REP); s.setsockopt(zmq.RCVTIMEO, 20000); s.bind("tcp://127.0.0.1:*")
                print(s.getsockopt_string(zmq.LAST_ENDPOINT), flush=True)
                s.send(s.recv().upper())
                """])
            let endpoint = try await python.outputLines(1)[0]
            let req = try ToolProcess("req", endpoint, "--message", "shout")
            #expect(try await req.exitStatus() == 0, "\(req.stderr)")
            #expect(req.stdoutLines == ["SHOUT"])
            #expect(try await python.exitStatus() == 0, "\(python.stderr)")
        }
    }
}
}

enum PyZMQ {
    static let available: Bool = {
        var pid = pid_t()
        let arguments: [String] = ["python3", "-c", "import zmq"]
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        guard posix_spawnp(&pid, "python3", nil, nil, argv, environ) == 0 else { return false }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status == 0
    }()
}
