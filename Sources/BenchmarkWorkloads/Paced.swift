import ZMQ
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The whole process's CPU time so far (user + system), in seconds, as `getrusage` reports it.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    return user + system
}

/// Where the paced senders and receivers run: on ``ReactorExecutor``, as the library recommends for
/// tasks that await steady traffic (one thread wake-up per message instead of two), the senders
/// sleeping on ``ReactorClock``, whose timer the same thread waits for; unless
/// `ZMQ_BENCH_EXECUTOR=default` puts them all on the default executor, the senders sleeping on
/// `ContinuousClock`, for comparison.
let onReactor = getenv("ZMQ_BENCH_EXECUTOR").map { String(cString: $0) } != "default"
let pacedExecutor: (any TaskExecutor)? = onReactor ? ReactorExecutor.shared : nil

/// The 4-byte message every paced sender sends, as the reference programs do.
let pacedMessage: [UInt8] = [1, 2, 3, 4]

/// Sends `count` paced messages on `push`, `rate` per second, sleeping to absolute times (as the C
/// reference sleeps with `clock_nanosleep(TIMER_ABSTIME)`), so that a late wake-up shortens the next
/// sleep instead of slowing the rate: on ``ReactorClock``, or on `ContinuousClock` with
/// `ZMQ_BENCH_EXECUTOR=default`.
func pacedSend(_ push: Socket, rate: Int, count: Int) async throws {
    if onReactor {
        try await pacedSend(push, rate: rate, count: count, clock: ReactorClock())
    } else {
        try await pacedSend(push, rate: rate, count: count, clock: ContinuousClock())
    }
}

private func pacedSend<C: Clock>(_ push: Socket, rate: Int, count: Int, clock: C) async throws where C.Duration == Duration {
    let step = Duration.nanoseconds(1_000_000_000 / rate)
    var next = clock.now
    for _ in 0..<count {
        next = next.advanced(by: step)
        try await clock.sleep(until: next, tolerance: nil)
        try await push.send(pacedMessage)
    }
}

/// Receives `count` paced messages on `pull`, checking each.
func pacedReceive(_ pull: Socket, count: Int, watchdog: Watchdog) async throws {
    var buffer = Payload.buffer(0)
    for _ in 0..<count {
        try await pull.recv(into: &buffer)
        guard buffer == pacedMessage else { fail("a paced message arrived with \(buffer.count) wrong bytes") }
        watchdog.advance(by: 1)
    }
}

/// paced-inproc, paced-tcp: `pairs` PUSH -> PULL pairs; each sender sends `rate` messages a second for
/// two seconds, each receiver awaits them. Returns the process's CPU microseconds per message, from the
/// start of sending to the last message received.
func paced(tcp: Bool, rate: Int, pairs: Int, watchdog: Watchdog) async throws -> Double {
    let perSocket = rate * 2
    var sockets: [(pull: Socket, push: Socket)] = []
    for index in 0..<pairs {
        let pull = try Socket.pull()
        let endpoint: String
        if tcp {
            try await pull.bind("tcp://127.0.0.1:*")
            guard let bound = await pull.lastEndpoint else { fail("no endpoint after a wildcard bind") }
            endpoint = bound
        } else {
            endpoint = "inproc://paced-\(index)"
            try await pull.bind(endpoint)
        }
        sockets.append((pull, try await Socket.push().connect(endpoint)))
    }
    let start = cpuSeconds()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for (pull, push) in sockets {
            group.addTask(executorPreference: pacedExecutor) { try await pacedReceive(pull, count: perSocket, watchdog: watchdog) }
            group.addTask(executorPreference: pacedExecutor) { try await pacedSend(push, rate: rate, count: perSocket) }
        }
        try await group.waitForAll()
    }
    let used = cpuSeconds() - start
    for (pull, push) in sockets {
        await push.close()
        await pull.close()
    }
    return used * 1e6 / Double(perSocket * pairs)
}

/// paced-recv-tcp: the receiving side of paced-tcp alone. `pairs` PULL sockets bind; the sender is a
/// process of its own (`$ZMQ_BENCH_SENDER paced-send RATE ENDPOINT...`, the same one for every program
/// compared), so only the receiving process's CPU is counted. Returns CPU microseconds per message.
func pacedReceiveOnly(rate: Int, pairs: Int, watchdog: Watchdog) async throws -> Double {
    guard let sender = getenv("ZMQ_BENCH_SENDER").map({ String(cString: $0) }), !sender.isEmpty else {
        printError("zmq-bench: paced-recv-tcp needs ZMQ_BENCH_SENDER, the paced sender program (Benchmarks/compare sets it)")
        exit(2)
    }
    let perSocket = rate * 2
    var pulls: [Socket] = []
    var endpoints: [String] = []
    for _ in 0..<pairs {
        let pull = try await Socket.pull().bind("tcp://127.0.0.1:*")
        guard let endpoint = await pull.lastEndpoint else { fail("no endpoint after a wildcard bind") }
        pulls.append(pull)
        endpoints.append(endpoint)
    }
    let start = cpuSeconds()
    let child = spawn(sender, ["paced-send", String(rate)] + endpoints)
    try await withThrowingTaskGroup(of: Void.self) { group in
        for pull in pulls {
            group.addTask(executorPreference: pacedExecutor) { try await pacedReceive(pull, count: perSocket, watchdog: watchdog) }
        }
        try await group.waitForAll()
    }
    let used = cpuSeconds() - start
    for pull in pulls { await pull.close() }
    var status: Int32 = 0
    while waitpid(child, &status, 0) < 0 && errno == EINTR {}
    if status != 0 { fail("the paced sender \(sender) failed (wait status \(status))") }
    return used * 1e6 / Double(perSocket * pairs)
}

/// Starts `path` with `arguments` (stdin, stdout and stderr inherited) and returns its process id.
func spawn(_ path: String, _ arguments: [String]) -> pid_t {
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, nil, nil, argv, environ)
    if rc != 0 { fail("cannot start \(path): \(String(cString: strerror(rc)))") }
    return pid
}
