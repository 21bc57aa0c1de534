import Foundation
import Testing
@testable import ZMQ

/// Faults over real tcp with another process as the peer (pyzmq, Interop/peer.py): a peer killed
/// and restarted, and a peer frozen in place. Each waits on handshakes (echoes, monitor events),
/// never on sleeps; the only time bounds are generous deadlines for what must happen at all.
@Suite(.timeLimit(.minutes(1)), .enabled(if: PythonPeer.available || PythonPeer.required))
struct FaultTests {
    init() throws {
        try #require(PythonPeer.available, "pyzmq is required (pip install pyzmq)")
    }

    /// Sends `numbers` one at a time through `dealer` to the echoing peer, and returns the echoes.
    private func exchange(_ dealer: Socket, _ numbers: Range<Int>) async throws -> [Int] {
        var echoes: [Int] = []
        for number in numbers {
            try await dealer.send("\(number)")
            echoes.append(Int(try await dealer.recv(as: String.self, timeout: .seconds(10))) ?? -1)
        }
        return echoes
    }

    @Test func aPeerKilledAndRestartedIsReconnectedWithNothingLostDuplicatedOrReordered() async throws {
        try await withTimeout(.seconds(40)) {
            let first = try PythonPeer("router", "tcp://127.0.0.1:*", count: 1000)
            defer { first.stop() }
            let endpoint = await first.boundEndpoint()
            let dealer = try await Socket.dealer().set(.linger, .zero).set(.reconnectInterval, .milliseconds(50))
            let events = EventLog(try await dealer.monitor([.connected, .disconnected]))
            try await dealer.connect(endpoint)
            #expect(try await exchange(dealer, 0..<20) == Array(0..<20))

            // Killed outright: no goodbye on the connection, only the kernel closing it.
            first.signal(SIGKILL)
            #expect(await first.exit().status == 128 + SIGKILL)
            try await events.wait(for: .disconnected, count: 1)

            // Messages sent while nobody listens wait in the socket, and go out on the new connection.
            try await dealer.send("queued 1")
            try await dealer.send("queued 2")
            let second = try PythonPeer("router", endpoint, count: 1000)
            defer { second.stop() }
            #expect(await second.boundEndpoint() == endpoint, "the restarted peer listens where the first did")
            try await events.wait(for: .connected, count: 2)
            #expect(try await dealer.recv(as: String.self, timeout: .seconds(10)) == "queued 1")
            #expect(try await dealer.recv(as: String.self, timeout: .seconds(10)) == "queued 2")
            #expect(try await exchange(dealer, 20..<40) == Array(20..<40), "in order, each once")
            // Nothing else arrives: no message of the first connection comes twice.
            await #expect(throws: ZMQError.timedOut) { try await dealer.recv(timeout: .milliseconds(200)) }
            await dealer.close()
        }
    }

    @Test func aFrozenPeerIsDetectedByHeartbeatsAndTheSocketReconnectsWhenItThaws() async throws {
        try await withTimeout(.seconds(40)) {
            let peer = try PythonPeer("router", "tcp://127.0.0.1:*", count: 1000)
            defer {
                peer.signal(SIGCONT)
                peer.stop()
            }
            let endpoint = await peer.boundEndpoint()
            let dealer = try await Socket.dealer().set(.linger, .zero)
                .set(.heartbeatInterval, .milliseconds(100)).set(.heartbeatTimeout, .milliseconds(500))
                .set(.reconnectInterval, .milliseconds(50))
            let events = EventLog(try await dealer.monitor([.connected, .disconnected]))
            try await dealer.connect(endpoint)
            #expect(try await exchange(dealer, 0..<5) == Array(0..<5))

            // Frozen: the process is stopped, its kernel still holds the connection open and
            // acknowledges bytes, but nothing answers the heartbeats.
            peer.signal(SIGSTOP)
            let frozen = ContinuousClock.now
            try await events.wait(for: .disconnected, count: 1, within: .seconds(15))
            let detected = ContinuousClock.now - frozen
            #expect(peer.isRunning, "the peer was frozen, not gone: only the heartbeats can have noticed")
            #expect(detected < .seconds(15), "detected after \(detected), heartbeat timeout 500 ms")

            // Thawed, the peer accepts the reconnection and the socket works again.
            peer.signal(SIGCONT)
            try await events.wait(for: .connected, count: 2)
            #expect(try await exchange(dealer, 5..<10) == Array(5..<10))
            await dealer.close()
        }
    }
}

/// The events of a monitor, collected by a task of its own.
final class EventLog: Sendable {
    private let events = Locked<[SocketEvent]>([])
    private let task: Task<Void, any Error>

    init(_ monitor: SocketMonitor) {
        let events = self.events
        task = Task {
            for try await event in monitor { events.withLock { $0.append(event) } }
        }
    }

    deinit { task.cancel() }

    /// Waits (a handshake on the monitor, with a deadline) until `count` events of `kind` came.
    func wait(for kind: SocketEvent.Kind, count: Int, within duration: Duration = .seconds(10)) async throws {
        try await eventually(within: duration) {
            self.events.withLock { $0.filter { $0.kind == kind }.count >= count }
        }
    }
}
