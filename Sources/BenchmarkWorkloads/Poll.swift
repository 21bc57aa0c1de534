import ZMQ

/// poll: one task polls `sockets` PULL sockets with a ``Poller``; one of them (the middle one) receives
/// `count` messages paced at ``pollRate`` a second, the others stay idle. Returns the process's CPU
/// microseconds per message: what waiting on many sockets costs per message that arrives on one.
func polled(sockets: Int, count: Int, watchdog: Watchdog) async throws -> Double {
    var pulls: [Socket] = []
    var poller = Poller()
    for index in 0..<sockets {
        let pull = try await Socket.pull().bind("inproc://poll-\(index)")
        pulls.append(pull)
        poller.add(pull, events: .readable)
    }
    let push = try await Socket.push().connect("inproc://poll-\(sockets / 2)")
    let start = cpuSeconds()
    let sender = peer("sender") { try await pacedSend(push, rate: pollRate, count: count) }
    var received = 0
    var buffer = Payload.buffer(0)
    while received < count {
        for item in try await poller.poll() {
            try await item.socket.recv(into: &buffer)
            guard buffer == pacedMessage else { fail("a polled message arrived with \(buffer.count) wrong bytes") }
            received += 1
            watchdog.advance(to: received)
        }
    }
    let used = cpuSeconds() - start
    await sender.value
    await push.close()
    for pull in pulls { await pull.close() }
    return used * 1e6 / Double(count)
}

/// The rate of the poll workload's one stream, as the reference programs send it.
let pollRate = 10_000
