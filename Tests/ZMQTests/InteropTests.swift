import Foundation
import Testing
@testable import ZMQ

/// A pyzmq process running `Interop/peer.py` in one role.
///
/// Started with `posix_spawnp`, not Foundation's `Process`: on Linux `Process` leaks every instance
/// in a reference cycle and over-reads a directory buffer as it starts a child, both of which the
/// address sanitizer reports, and its child inherits the blocked signal mask of the Dispatch thread
/// that starts it, so SIGTERM would never end it. Here the child starts with no signal blocked.
final class PythonPeer: @unchecked Sendable {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Interop/peer.py").path

    /// Whether `python3` can import pyzmq on this machine.
    static let available: Bool = {
        guard let child = try? PythonPeer(arguments: ["python3", "-c", "import zmq"]) else { return false }
        return child.waitSynchronously() == 0
    }()

    /// CI sets this so that a missing pyzmq fails instead of skipping the interop tests.
    static let required = ProcessInfo.processInfo.environment["SWIFT_ZMQ_REQUIRE_PYZMQ"] == "1"

    private let pid: pid_t
    private let output: Int32
    private let errors: Int32
    private let reaped = Locked<Int32?>(nil)

    convenience init(_ role: String, _ endpoint: String, count: Int = 1) throws {
        try self.init(arguments: ["python3", Self.script, role, endpoint, String(count)])
    }

    private init(arguments: [String]) throws {
        var outputPipe: [Int32] = [0, 0]
        var errorPipe: [Int32] = [0, 0]
        guard pipe(&outputPipe) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        guard pipe(&errorPipe) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errorPipe[1], 2)
        for fd in outputPipe + errorPipe { posix_spawn_file_actions_addclose(&actions, fd) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for signal in [SIGTERM, SIGINT, SIGPIPE] { sigaddset(&defaultSignals, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let started = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, environ)
        close(outputPipe[1])
        close(errorPipe[1])
        guard started == 0 else {
            close(outputPipe[0])
            close(errorPipe[0])
            throw POSIXError(.init(rawValue: started) ?? .EIO)
        }
        self.pid = pid
        self.output = outputPipe[0]
        self.errors = errorPipe[0]
    }

    deinit {
        stop()
        _ = waitSynchronously()
        close(output)
        close(errors)
    }

    /// Blocks until the child has exited; its exit status (128 + the signal if a signal ended it).
    private func waitSynchronously() -> Int32 {
        reaped.withLock { reaped in
            if let reaped { return reaped }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            let code = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
            reaped = code
            return code
        }
    }

    /// Runs `body` on a thread of its own (it blocks), never on Swift's cooperative pool: a Dispatch
    /// serial queue gets a thread at once, where a global queue's threads are, on Linux, the pool's.
    private func offThePool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue(label: "swift-zmq-tests.python-peer").async { continuation.resume(returning: body()) }
        }
    }

    /// The endpoint a binding role printed on its first line.
    func boundEndpoint() async -> String {
        let fd = output
        return await offThePool {
            var line: [UInt8] = []
            var byte: UInt8 = 0
            while read(fd, &byte, 1) == 1, byte != 0x0A { line.append(byte) }
            return String(decoding: line, as: UTF8.self)
        }
    }

    /// Waits for the process to exit and returns its status, with what it wrote on stderr.
    func exit() async -> (status: Int32, stderr: String) {
        let fd = errors
        return await offThePool { [self] in
            var text: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(fd, &chunk, chunk.count)
                if count <= 0 { break }
                text += chunk[0..<count]
            }
            return (waitSynchronously(), String(decoding: text, as: UTF8.self))
        }
    }

    /// Sends `signal` to the child unless it has been reaped (SIGKILL kills it, SIGSTOP freezes it,
    /// SIGCONT thaws it).
    func signal(_ signal: Int32) {
        reaped.withLock { reaped in
            if reaped == nil { kill(pid, signal) }
        }
    }

    /// Whether the child has not exited (a stopped child has not). Reaps it if it has.
    var isRunning: Bool {
        reaped.withLock { reaped in
            if reaped != nil { return false }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                reaped = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
                return false
            }
            return true
        }
    }

    /// Asks the child to end (SIGTERM) unless it already has.
    func stop() {
        reaped.withLock { reaped in
            if reaped == nil { kill(pid, SIGTERM) }
        }
    }
}

/// Wire compatibility with another binding: pyzmq (which bundles its own libzmq) on the other end of tcp.
@Suite(.timeLimit(.minutes(1)), .enabled(if: PythonPeer.available || PythonPeer.required))
struct InteropTests {
    init() throws {
        try #require(PythonPeer.available, "pyzmq is required (pip install pyzmq)")
    }

    @Test func swiftRequestsPythonReplies() async throws {
        try await withTimeout(.seconds(30)) {
            let req = try Socket.req()
            let endpoint = try await bindFresh(req, .tcp)
            let python = try PythonPeer("rep-echo", endpoint, count: 3)
            defer { python.stop() }
            let large = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            for request in [Array("hello".utf8), [], large] {
                try await req.send(request)
                #expect(try await req.recv() == request)
            }
            let result = await python.exit()
            #expect(result.status == 0, "\(result.stderr)")
            await req.close()
        }
    }

    @Test func pythonRequestsSwiftReplies() async throws {
        try await withTimeout(.seconds(30)) {
            let rep = try Socket.rep()
            let endpoint = try await bindFresh(rep, .tcp)
            let python = try PythonPeer("req-client", endpoint, count: 5)
            defer { python.stop() }
            for _ in 0..<5 { try await rep.send(try await rep.recv()) }
            let result = await python.exit()
            #expect(result.status == 0, "\(result.stderr)")
            await rep.close()
        }
    }

    @Test func swiftSubscribesToPythonPublisher() async throws {
        try await withTimeout(.seconds(30)) {
            let python = try PythonPeer("pub", "tcp://127.0.0.1:*")
            defer { python.stop() }
            let endpoint = await python.boundEndpoint()
            let subscriber = try await Socket.sub().connect(endpoint).subscribe("weather")
            var numbers: [Int] = []
            for _ in 0..<5 {
                let text = String(decoding: try await subscriber.recv(), as: UTF8.self)
                #expect(text.hasPrefix("weather "), "only the subscribed topic arrives")
                numbers.append(Int(text.dropFirst(8)) ?? -1)
            }
            #expect(numbers == numbers.sorted() && Set(numbers).count == 5)
            await subscriber.close()
        }
    }

    @Test func pythonSubscribesToSwiftPublisher() async throws {
        try await withTimeout(.seconds(30)) {
            let publisher = try Socket.pub()
            let endpoint = try await bindFresh(publisher, .tcp)
            let python = try PythonPeer("sub", endpoint, count: 5)
            defer { python.stop() }
            let publishing = Task {
                var index = 0
                while !Task.isCancelled {
                    try await publisher.send("news \(index)")
                    try await publisher.send("weather \(index)")
                    index += 1
                    try await Task.sleep(for: .milliseconds(2))
                }
            }
            let result = await python.exit()
            publishing.cancel()
            _ = await publishing.result
            #expect(result.status == 0, "\(result.stderr)")
            await publisher.close()
        }
    }

    @Test func swiftDealerTalksToPythonRouter() async throws {
        try await withTimeout(.seconds(30)) {
            let python = try PythonPeer("router", "tcp://127.0.0.1:*", count: 2)
            defer { python.stop() }
            let endpoint = await python.boundEndpoint()
            let dealer = try await Socket.dealer().connect(endpoint)
            for index in 0..<2 {
                let frames = [Array("frame \(index)".utf8), [], [UInt8](repeating: 7, count: 100_000), Array("end".utf8)]
                try await dealer.sendMultipart(frames)
                #expect(try await dealer.recvMultipart() == frames.reversed())
            }
            let result = await python.exit()
            #expect(result.status == 0, "\(result.stderr)")
            await dealer.close()
        }
    }

    @Test func pythonDealerTalksToSwiftRouter() async throws {
        try await withTimeout(.seconds(30)) {
            let router = try Socket.router()
            let endpoint = try await bindFresh(router, .tcp)
            let python = try PythonPeer("dealer", endpoint, count: 3)
            defer { python.stop() }
            for _ in 0..<3 {
                let message = try await router.recvMultipart()
                #expect(message.count == 5, "identity and four frames")
                try await router.sendMultipart([message[0]] + message.dropFirst().reversed())
            }
            let result = await python.exit()
            #expect(result.status == 0, "\(result.stderr)")
            await router.close()
        }
    }
}
