import Testing
@testable import ZMQ

/// `Socket.monitor`: libzmq's connection events as an asynchronous sequence.
@Suite(.timeLimit(.minutes(1)))
struct MonitorTests {
    @Test func reportsListeningAcceptedHandshakeAndDisconnect() async throws {
        try await withTimeout(.seconds(10)) {
            let router = try await Socket.router().set(.linger, .zero)
            let events = try await router.monitor()
            let endpoint = try await bindFresh(router, .tcp)
            let dealer = try await Socket.dealer().set(.linger, .zero).connect(endpoint)
            try await dealer.send("hello")
            #expect(try await router.recvMultipart().last == Array("hello".utf8))
            await dealer.close()

            var seen: [SocketEvent] = []
            for try await event in events {
                seen.append(event)
                if event.kind == .disconnected { break }
            }
            #expect(seen.first?.kind == .listening)
            #expect(seen.first?.endpoint == endpoint)
            #expect(seen.contains { $0.kind == .accepted })
            #expect(seen.contains { $0.kind == .handshakeSucceeded })
            #expect(seen.last?.kind == .disconnected)
            #expect(seen.allSatisfy { $0.endpoint.hasPrefix("tcp://127.0.0.1:") })
            await events.stop()
            await router.close()
        }
    }

    @Test func reportsOnlyTheEventsAskedFor() async throws {
        try await withTimeout(.seconds(10)) {
            let router = try await Socket.router().set(.linger, .zero)
            let events = try await router.monitor(.accepted)
            let endpoint = try await bindFresh(router, .tcp)
            let dealers = [try await Socket.dealer().set(.linger, .zero).connect(endpoint),
                           try await Socket.dealer().set(.linger, .zero).connect(endpoint)]
            var kinds: [SocketEvent.Kind] = []
            for try await event in events {
                kinds.append(event.kind)
                if kinds.count == 2 { break }
            }
            #expect(kinds == [.accepted, .accepted])
            for dealer in dealers { await dealer.close() }
            await router.close()
        }
    }

    @Test func sequenceEndsWhenTheSocketClosesOrTheMonitorStops() async throws {
        try await withTimeout(.seconds(10)) {
            let first = try Socket.pull()
            let closing = try await first.monitor()
            let waiting = countEvents(closing)
            try await eventually { await closing.receiverIsWaiting }
            await first.close()
            #expect(try await waiting.value == 0)

            let second = try Socket.pull()
            let stopped = try await second.monitor()
            let iterating = countEvents(stopped)
            try await eventually { await stopped.receiverIsWaiting }
            await stopped.stop()
            await stopped.stop()  // a second stop does nothing
            #expect(try await iterating.value == 0)
            // The socket itself is unaffected.
            let endpoint = try await bindFresh(second, .tcp)
            #expect(endpoint.hasPrefix("tcp://"))
            await second.close()
        }
    }

    @Test func filteredSequenceStillEndsWhenTheSocketCloses() async throws {
        try await withTimeout(.seconds(10)) {
            let socket = try Socket.pull()
            // The filter leaves out every event that will happen; closing must still end the loop.
            let events = try await socket.monitor([.handshakeFailedAuthentication])
            let waiting = countEvents(events)
            try await eventually { await events.receiverIsWaiting }
            await socket.close()
            #expect(try await waiting.value == 0)
        }
    }

    @Test func stoppingAReplacedMonitorLeavesTheNewOneRunning() async throws {
        try await withTimeout(.seconds(10)) {
            let router = try await Socket.router().set(.linger, .zero)
            let old = try await router.monitor(.accepted)
            let current = try await router.monitor(.accepted)
            // The first monitor ended when the second one replaced it.
            var oldEvents = 0
            for try await _ in old { oldEvents += 1 }
            #expect(oldEvents == 0)
            await old.stop()

            let endpoint = try await bindFresh(router, .tcp)
            let dealer = try await Socket.dealer().set(.linger, .zero).connect(endpoint)
            var iterator = current.makeAsyncIterator()
            #expect(try await iterator.next()?.kind == .accepted)
            await current.stop()
            await dealer.close()
            await router.close()
        }
    }

    /// libzmq sends monitor events with blocking sends, also from its reaper thread while it finishes
    /// closing a socket (here kept there for its linger period by a message nobody can take): the
    /// monitor is stopped when the socket closes, so the context still terminates after the monitor
    /// is dropped.
    @Test func closingAMonitoredSocketAndDroppingItsMonitorNeverBlocksLibzmq() async throws {
        // The hang this guards against is libzmq's reaper blocking for ever on a monitor event it
        // cannot deliver; then terminate() never returns and withTimeout fails the test at 10 s.
        let (firstEvent, terminated) = try await withTimeout(.seconds(10)) {
            let context = try Context()
            let firstEvent: SocketEvent?
            do {
                // A message nobody can take keeps the socket in libzmq's reaper for its linger period,
                // so the monitor is dropped well before libzmq finishes closing the socket.
                let push = try await Socket.push(context: context).set(.linger, .milliseconds(300))
                let events = try await push.monitor()
                try await push.connect("tcp://127.0.0.1:1")  // nothing listens there
                try await push.send("never delivered")
                // The monitor is live: the refused connection is reported before the socket closes.
                var iterator = events.makeAsyncIterator()
                firstEvent = try await iterator.next()
                await push.close()
            }
            await context.terminate()  // returns only once libzmq's reaper has closed every socket
            return (firstEvent, true)
        }
        #expect(firstEvent != nil, "the monitor reported the connection attempt")
        #expect(terminated)
    }

    @Test func monitoringAClosedSocketThrows() async throws {
        let socket = try Socket.pair()
        await socket.close()
        await #expect(throws: ZMQError.socketClosed) { try await socket.monitor() }
    }
}

/// Counts the events of `monitor` in a task of its own, until its sequence ends.
private func countEvents(_ monitor: SocketMonitor) -> Task<Int, any Error> {
    Task {
        var count = 0
        for try await _ in monitor { count += 1 }
        return count
    }
}

extension SocketMonitor {
    /// Whether a task is suspended on the monitor's receiving socket (for handshakes in tests).
    var receiverIsWaiting: Bool {
        get async { await receiverForTests.suspendedCalls.receive > 0 }
    }
}
