import Dispatch
import Foundation
import Testing
@testable import ZMQ

/// The transports a pattern test runs over.
enum Transport: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case inproc, ipc, tcp
    var testDescription: String { rawValue }
}

/// A fresh endpoint name for `transport`; tcp uses a wildcard port, read back after binding.
func freshEndpoint(_ transport: Transport) -> String {
    let name = UUID().uuidString.prefix(18).lowercased()
    switch transport {
    case .inproc: return "inproc://test-\(name)"
    case .ipc: return "ipc://" + IPCFiles.made("/tmp/swift-zmq-\(name)")
    case .tcp: return "tcp://127.0.0.1:*"
    }
}

/// The socket files of the ipc endpoints the tests made, removed when the test process exits:
/// libzmq leaves a bound ipc endpoint's file behind when the socket closes.
enum IPCFiles {
    private static let paths: Locked<[String]> = {
        atexit { for path in IPCFiles.paths.withLock({ $0 }) { unlink(path) } }
        return Locked([])
    }()

    /// Records `path` for removal at exit, and returns it.
    static func made(_ path: String) -> String {
        paths.withLock { $0.append(path) }
        return path
    }
}

/// Binds `socket` to a fresh endpoint of `transport` and returns the endpoint peers connect to.
@discardableResult
func bindFresh(_ socket: Socket, _ transport: Transport) async throws -> String {
    try await socket.bind(freshEndpoint(transport))
    return try #require(await socket.lastEndpoint)
}

/// Sends `text` from a client whose security handshake the server may refuse, without waiting, and
/// returns whether it was queued. libzmq ends a client's session when the server refuses its
/// handshake, and the socket is then left without a pipe to send on (`ZMQ_EVENTS` 0): a send made
/// after that, which on a loaded machine can come after the whole handshake, would wait for ever.
/// Before the handshake ends, or once it has succeeded, the message is queued at once.
@discardableResult
func sendUnlessRefused(_ client: Socket, _ text: String) async throws -> Bool {
    do {
        try await client.send(text, timeout: .zero)
        return true
    } catch let error as ZMQError where error == .timedOut {
        return false
    }
}

struct TimedOut: Error, CustomStringConvertible {
    let duration: Duration
    var description: String { "test step did not finish within \(duration)" }
}

/// Runs `body`, failing with ``TimedOut`` at `duration` if it has not finished, so that a hang fails
/// the test at its own deadline instead of stalling the run.
///
/// The body runs in a task of its own, which is cancelled at the deadline but not waited for: a body
/// that ignores cancellation (stuck in a continuation nobody resumes, say) still fails the test on
/// time; it is abandoned, holding whatever it holds. This is the one time-limit helper of the suite;
/// every suite also has a `.timeLimit` trait, the backstop for a test that forgets it.
///
/// The default deadline is far above what a test needs on a quiet machine (a second or two): it is
/// there to catch hangs, not a test that runs slowly under a sanitizer on cores it shares.
func withTimeout<T: Sendable>(
    _ duration: Duration = .seconds(30),
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let outcome = FirstOutcome<T>()
    let work = Task { outcome.settle(await Result { try await body() }) }
    let timer = Task {
        try? await Task.sleep(for: duration)
        outcome.settle(.failure(TimedOut(duration: duration)))
    }
    defer {
        work.cancel()
        timer.cancel()
    }
    return try await withTaskCancellationHandler {
        try await outcome.value()
    } onCancel: {
        work.cancel()
    }
}

/// The first of several results, delivered once to one waiter; later results are ignored.
private final class FirstOutcome<T: Sendable>: Sendable {
    private struct State {
        var result: Result<T, any Error>?
        var waiter: CheckedContinuation<T, any Error>?
    }
    private let state = Locked(State())

    func settle(_ result: Result<T, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<T, any Error>? in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: result)
    }

    func value() async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let settled = state.withLock { state -> Result<T, any Error>? in
                if state.result == nil { state.waiter = continuation }
                return state.result
            }
            if let settled { continuation.resume(with: settled) }
        }
    }
}

extension Result where Failure == any Error {
    /// The result of an async throwing body.
    init(_ body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

/// Waits (yielding, with a deadline) until `condition` holds: a handshake on state the library exposes
/// to tests, not a sleep.
func eventually(
    within duration: Duration = .seconds(5),
    _ condition: @Sendable () async -> Bool
) async throws {
    let deadline = ContinuousClock.now + duration
    while !(await condition()) {
        if ContinuousClock.now > deadline { throw TimedOut(duration: duration) }
        try await Task.sleep(for: .milliseconds(1))
    }
}

/// A PUSH/PULL pair over a fresh inproc endpoint (both with linger 0 if `lingerZero`).
func pipeline(context: Context = .shared, lingerZero: Bool = false) async throws -> (push: Socket, pull: Socket) {
    let pull = try Socket.pull(context: context)
    let push = try Socket.push(context: context)
    if lingerZero {
        try await pull.set(.linger, .zero)
        try await push.set(.linger, .zero)
    }
    let endpoint = try await bindFresh(pull, .inproc)
    try await push.connect(endpoint)
    return (push, pull)
}

/// Publishes `probe` until `subscriber` receives a message, which proves that its subscription has
/// reached the publisher (PUB drops messages for subscribers it does not know yet).
func awaitSubscription(publisher: Socket, subscriber: Socket, probe: String) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            while !Task.isCancelled {
                try await publisher.send(probe)
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        _ = try await subscriber.recv()
        group.cancelAll()
        try? await group.waitForAll()
    }
    // Drain probes that were already in flight.
    while let message = try await subscriber.recvIfQueued(), message == Array(probe.utf8) {}
}

extension Socket {
    /// The next frame if one is already queued (test helper over the internal fast path).
    func recvIfQueued() throws -> [UInt8]? {
        try withHandle("receive") { handle in
            try LibZMQ.receive(handle, into: frame) ? LibZMQ.bytes(of: frame) : nil
        }
    }
}

/// A plain TCP client (not ZeroMQ) for STREAM tests and hostile-peer tests. Its blocking calls run
/// on Dispatch threads, never on Swift's cooperative pool.
final class RawTCPClient: @unchecked Sendable {
    private let fd: Int32

    init(endpoint: String) throws {
        // endpoint is tcp://127.0.0.1:PORT
        let port = UInt16(endpoint.split(separator: ":").last!)!
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if rc != 0 { Glibc.close(fd); throw ZMQError(code: errno, detail: "raw connect") }
    }

    deinit { Glibc.close(fd) }

    func write(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// The connection did not deliver within the receive timeout (10 s), or failed.
    struct ReadFailed: Error, CustomStringConvertible {
        let errno: Int32
        var description: String { "raw read failed: \(String(cString: strerror(errno)))" }
    }

    /// Reads up to `count` bytes; an empty result means the peer closed the connection (and only
    /// that: a timeout or an error throws ``ReadFailed``).
    func read(upTo count: Int = 4096) async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            // A queue of its own gets a thread at once; a global queue's threads are, on Linux, Swift's
            // cooperative pool, which a blocked read would starve (the other suites' tests then wait).
            DispatchQueue(label: "swift-zmq-tests.raw-read").async {
                var buffer = [UInt8](repeating: 0, count: count)
                let n = buffer.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, count, 0) }
                if n < 0 {
                    continuation.resume(throwing: ReadFailed(errno: errno))
                } else {
                    continuation.resume(returning: Array(buffer.prefix(n)))
                }
            }
        }
    }
}
