import Foundation
import Testing
@testable import ZMQ

/// A pyzmq process running `Interop/peer.py` in one role.
final class PythonPeer: @unchecked Sendable {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Interop/peer.py").path

    /// Whether `python3` can import pyzmq on this machine.
    static let available: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import zmq"]
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    /// CI sets this so that a missing pyzmq fails instead of skipping the interop tests.
    static let required = ProcessInfo.processInfo.environment["SWIFT_ZMQ_REQUIRE_PYZMQ"] == "1"

    private let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    private let exited: Task<Int32, Never>

    init(_ role: String, _ endpoint: String, count: Int = 1) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script, role, endpoint, String(count)]
        process.standardOutput = output
        process.standardError = errors
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        process.terminationHandler = { continuation.yield($0.terminationStatus); continuation.finish() }
        try process.run()
        exited = Task { await stream.first { _ in true } ?? -1 }
    }

    deinit { if process.isRunning { process.terminate() } }

    /// The endpoint a binding role printed on its first line (read on a Dispatch thread).
    func boundEndpoint() async -> String {
        let handle = output.fileHandleForReading
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var line = Data()
                while true {
                    let byte = handle.readData(ofLength: 1)
                    if byte.isEmpty || byte == Data([0x0A]) { break }
                    line.append(byte)
                }
                continuation.resume(returning: String(decoding: line, as: UTF8.self))
            }
        }
    }

    /// Waits for the process to exit and returns its status, with what it wrote on stderr.
    func exit() async -> (status: Int32, stderr: String) {
        let status = await exited.value
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (status, text)
    }

    func stop() { if process.isRunning { process.terminate() } }
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
