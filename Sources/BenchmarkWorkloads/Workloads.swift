import ZMQ
#if canImport(Glibc)
import Glibc
#endif

/// Seconds on the monotonic clock, as `Benchmarks/reference.c` measures them.
func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// Runs `body` in a task of its own, off the caller's, and ends the process if it fails: the
/// other side of the workload would otherwise wait forever for messages that never come.
func peer<T: Sendable>(_ role: String, _ body: @escaping @Sendable () async throws -> T) -> Task<T, Never> {
    Task.detached {
        do {
            return try await body()
        } catch {
            fail("\(role) failed: \(error)")
        }
    }
}

/// thr-*: a PULL socket receives `count` messages of `size` bytes that a PUSH socket in another task
/// sends to `sendEndpoint`; the PULL binds `receiveEndpoint` when `bindReceiver`, else connects to it.
/// Returns messages per second from the first to the last message received.
func throughput(
    receiveEndpoint: String, bindReceiver: Bool, sendEndpoint: String,
    size: Int, count: Int, lose: Int?, watchdog: Watchdog
) async throws -> Double {
    let pull = try Socket.pull()
    if bindReceiver { try await pull.bind(receiveEndpoint) } else { try await pull.connect(receiveEndpoint) }
    let zeroCopy = size >= Payload.zeroCopySize
    // The sender hands its socket back instead of closing it after its last send, and the receiver
    // closes it once every message has arrived: the measurement then never depends on how libzmq
    // lingers over messages still in flight when a socket closes.
    let sender = peer("sender") { () -> Socket in
        let push = try await Socket.push().connect(sendEndpoint)
        // The sender copies its buffer into each message exactly as Benchmarks/reference.c's zmq_send does,
        // so that both sides make the same copies; the receiver decides whether to add one.
        var payload = Payload.buffer(size)
        for index in 0..<count where index != lose {
            payload.withUnsafeMutableBytes { Payload.stamp($0, index) }
            try await push.send(payload)
        }
        return push
    }
    // The loops call recv directly, as a user would: a helper async function around it would add an
    // async frame of its own per message.
    var start = 0.0
    if zeroCopy {
        for index in 0..<count {
            try await pull.recv(as: Message.self).withUnsafeBytes { check($0, index, size) }
            if index == 0 { start = now() } else { watchdog.advance(to: index) }
        }
    } else {
        // Received into one buffer: no allocation per message (Benchmarks/reference.c reads each frame
        // in place from one reused zmq_msg_t, without this copy).
        var buffer = Payload.buffer(0)
        for index in 0..<count {
            try await pull.recv(into: &buffer)
            buffer.withUnsafeBytes { check($0, index, size) }
            if index == 0 { start = now() } else { watchdog.advance(to: index) }
        }
    }
    let elapsed = now() - start
    await sender.value.close()
    await pull.close()
    return Double(count - 1) / elapsed
}

/// Ends the run unless `bytes` are message `index` of `size` bytes.
@inline(__always)
func check(_ bytes: UnsafeRawBufferPointer, _ index: Int, _ size: Int) {
    guard Payload.matches(bytes, index, size: size) else { fail(Payload.mismatch(bytes, index, size: size)) }
}

/// lat-*: a REQ socket binds `endpoint`, a REP socket in another task connects and echoes; returns the
/// mean round trip in microseconds over `count` request/reply pairs, measured at the REQ side.
func latency(endpoint: String, size: Int, count: Int, lose: Int?, watchdog: Watchdog) async throws -> Double {
    let req = try await Socket.req().bind(endpoint)
    let echo = peer("echo") { () -> Socket in
        let rep = try await Socket.rep().connect(endpoint)
        var request = Payload.buffer(0)
        for index in 0..<count {
            try await rep.recv(into: &request)
            // A lost reply cannot be skipped in REQ/REP; send a wrong one instead.
            try await rep.send(index == lose ? [] : request)
        }
        return rep  // closed by the REQ side once the last reply is in (see throughput)
    }
    var payload = Payload.buffer(size)
    var reply = Payload.buffer(0)
    let start = now()
    for index in 0..<count {
        payload.withUnsafeMutableBytes { Payload.stamp($0, index) }
        try await req.send(payload)
        try await req.recv(into: &reply)
        reply.withUnsafeBytes { check($0, index, size) }
        watchdog.advance(to: index + 1)
    }
    let elapsed = now() - start
    await echo.value.close()
    await req.close()
    return elapsed * 1e6 / Double(count)
}

/// proxy-inproc: PUSH -> (PULL frontend, PUSH backend) proxy -> PULL; the proxy is the library's own
/// ``Socket/proxy(_:_:capture:control:)``, stopped with its control afterwards. Returns messages per
/// second as for thr-*.
func proxied(size: Int, count: Int, lose: Int?, watchdog: Watchdog) async throws -> Double {
    let frontend = try await Socket.pull().bind("inproc://fe")
    let backend = try await Socket.push().bind("inproc://be")
    let control = ProxyControl()
    let proxy = Task.detached { try await Socket.proxy(frontend, backend, control: control) }
    let rate = try await throughput(
        receiveEndpoint: "inproc://be", bindReceiver: false, sendEndpoint: "inproc://fe",
        size: size, count: count, lose: lose, watchdog: watchdog)
    control.terminate()
    try await proxy.value
    await frontend.close()
    await backend.close()
    return rate
}
