import Dispatch
import Foundation
import Synchronization
import Testing

/// The `zmq` binary under test: `$ZMQ_TOOL` if set, else the one next to the test bundle (SwiftPM
/// builds every product into the folder the test runner lives in, `swift build` and `swift test` alike).
enum ToolBinary {
    static let path: String = {
        if let path = ProcessInfo.processInfo.environment["ZMQ_TOOL"], !path.isEmpty { return path }
        let runner = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return runner.deletingLastPathComponent().appendingPathComponent("zmq").path
    }()

    /// Fails the test with a clear message when the binary is missing.
    static func require() throws {
        try #require(FileManager.default.isExecutableFile(atPath: path),
                     "the zmq binary is not at \(path): run `swift build` (or set ZMQ_TOOL to its path)")
    }
}

struct ProcessTimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String
}

/// A child process with pipes for its standard input, output and error, started with `posix_spawn`
/// (Foundation's `Process` leaks on Linux, which the address sanitizer reports, and passes on the
/// blocked signal mask of the thread that starts it). Threads of its own read the output and wait for
/// the exit (their calls block; never on Swift's cooperative pool), and wake the test's waits when
/// something changed: nothing polls, so the tests add no load beyond the processes themselves. Every
/// wait has a deadline, and a child still running when the test lets go of it is killed.
final class ToolProcess: @unchecked Sendable {
    let arguments: [String]
    private let pid: pid_t
    private let input: Protected<Int32?>
    private let shared = Shared()

    /// What the reader and reaper threads update; they hold this, not the process, so that dropping
    /// the process kills the child.
    private final class Shared: Sendable {
        let output = Protected<[UInt8]>([])
        let errors = Protected<[UInt8]>([])
        /// The exit status, once reaped, and how many of the output streams have ended.
        let state = Protected<(status: Int32?, streamsEnded: Int, version: Int, waiters: [CheckedContinuation<Void, Never>])>(
            (nil, 0, 0, []))

        /// Wakes every waiter: something changed.
        func changed(_ update: (inout (status: Int32?, streamsEnded: Int)) -> Void = { _ in }) {
            let waiters = state.withLock { state in
                var fields = (status: state.status, streamsEnded: state.streamsEnded)
                update(&fields)
                (state.status, state.streamsEnded) = fields
                state.version += 1
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }

        var version: Int { state.withLock { $0.version } }

        /// Returns once something changed after `version`.
        func waitForChange(after version: Int) async {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    if state.version != version { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        }
    }

    /// Runs `zmq` with `arguments`.
    convenience init(_ arguments: String..., closeOutput: Bool = false) throws {
        try ToolBinary.require()
        try self.init(executable: ToolBinary.path, arguments, closeOutput: closeOutput)
    }

    /// Runs `executable` (looked up on PATH) with `arguments`. With `closeOutput`, the read end of its
    /// standard output is closed at once, so that its first write fails with EPIPE.
    init(executable: String, _ arguments: [String], closeOutput: Bool = false) throws {
        self.arguments = arguments
        var inPipe: [Int32] = [0, 0], outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard pipe(&inPipe) == 0, pipe(&outPipe) == 0, pipe(&errPipe) == 0 else {
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        // The test's own ends are not inherited by the children of later tests.
        for fd in [inPipe[1], outPipe[0], errPipe[0]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in [inPipe[0], outPipe[1], errPipe[1]] { posix_spawn_file_actions_addclose(&actions, fd) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGUSR1] { sigaddset(&defaultSignals, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // Under the address sanitizer the child's leak check prints the suppressions it used on
        // stderr (where the tests read its one-line errors) unless told not to.
        var environment = ProcessInfo.processInfo.environment
        if let options = environment["LSAN_OPTIONS"] { environment["LSAN_OPTIONS"] = options + " print_suppressions=0" }
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid = pid_t()
        let started = posix_spawnp(&pid, executable, &actions, &attributes, argv, envp)
        close(inPipe[0])
        close(outPipe[1])
        close(errPipe[1])
        guard started == 0 else {
            for fd in [inPipe[1], outPipe[0], errPipe[0]] { close(fd) }
            throw POSIXError(.init(rawValue: started) ?? .EIO)
        }
        self.pid = pid
        input = Protected(inPipe[1])
        let shared = self.shared
        if closeOutput {
            close(outPipe[0])
            shared.changed { $0.streamsEnded += 1 }
        } else {
            Self.collect(outPipe[0], shared) { bytes in shared.output.withLock { $0 += bytes } }
        }
        Self.collect(errPipe[0], shared) { bytes in shared.errors.withLock { $0 += bytes } }
        let child = pid
        startThread {
            var raw: Int32 = 0
            while waitpid(child, &raw, 0) < 0 && errno == EINTR {}
            let code = raw & 0x7F == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
            shared.changed { $0.status = code }
        }
    }

    deinit {
        if !hasExited { kill(pid, SIGKILL) }  // the reaper thread collects it
        closeInput()
    }

    /// Reads `fd` to its end on a thread of its own: a blocking read on `DispatchQueue.global()` would
    /// hold one of the few threads Swift's concurrency runs on (on Linux the same pool), and starve
    /// the tests running beside this one.
    private static func collect(_ fd: Int32, _ shared: Shared, _ append: @escaping @Sendable (ArraySlice<UInt8>) -> Void) {
        startThread {
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = read(fd, &chunk, chunk.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                append(chunk[0..<count])
                shared.changed()
            }
            close(fd)
            shared.changed { $0.streamsEnded += 1 }
        }
    }

    // MARK: Input

    /// Writes `text` to the child's standard input.
    func write(_ text: String) {
        input.withLock { fd in
            guard let fd else { return }
            let bytes = Array(text.utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return }
                offset += written
            }
        }
    }

    /// Ends the child's standard input (EOF).
    func closeInput() {
        input.withLock { fd in
            if let open = fd { close(open) }
            fd = nil
        }
    }

    // MARK: Output

    var stdout: String { String(decoding: shared.output.withLock { $0 }, as: UTF8.self) }
    var stderr: String { String(decoding: shared.errors.withLock { $0 }, as: UTF8.self) }
    var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }
    var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }

    /// Waits until `condition` holds for the process (checked whenever it wrote or exited), or fails
    /// at the deadline with what it wrote.
    func waitUntil(_ what: String, within limit: Duration = .seconds(20),
                   _ condition: (ToolProcess) -> Bool) async throws {
        let deadline = ContinuousClock.now + limit
        let shared = self.shared
        // Wakes the waits below at the deadline, so that a process that writes nothing more fails in time.
        let alarm = Task {
            try? await Task.sleep(until: deadline)
            shared.changed()
        }
        defer { alarm.cancel() }
        while true {
            let version = shared.version
            if condition(self) { return }
            if ContinuousClock.now >= deadline {
                throw ProcessTimedOut(what: what, description:
                    "zmq \(arguments.joined(separator: " ")): no \(what) within \(limit); stdout: \(stdout.debugDescription) stderr: \(stderr.debugDescription)")
            }
            await shared.waitForChange(after: version)
        }
    }

    /// The endpoint of the `bound ENDPOINT` line the command prints once its socket is bound (the
    /// `n`th such line for a command with several).
    func boundEndpoint(_ n: Int = 0) async throws -> String {
        let prefix = ": bound "
        try await waitUntil("bound line") { $0.stderrLines.filter { $0.contains(prefix) }.count > n }
        let line = stderrLines.filter { $0.contains(prefix) }[n]
        return String(line[line.range(of: prefix)!.upperBound...])
    }

    /// Waits for the first `count` lines of standard output.
    func outputLines(_ count: Int, within limit: Duration = .seconds(20)) async throws -> [String] {
        try await waitUntil("\(count) output lines", within: limit) { $0.stdoutLines.count >= count }
        return Array(stdoutLines.prefix(count))
    }

    // MARK: Ending

    /// Whether the child has exited (without waiting).
    var hasExited: Bool { shared.state.withLock { $0.status != nil } }

    func signal(_ number: Int32) {
        if !hasExited { kill(pid, number) }
    }

    /// Waits for the child to exit, and for its output to be complete; its exit status (128 + the
    /// signal if one killed it). At the deadline the child is killed and the wait fails.
    @discardableResult
    func exitStatus(within limit: Duration = .seconds(20)) async throws -> Int32 {
        do {
            try await waitUntil("exit", within: limit) { process in
                process.shared.state.withLock { $0.status != nil && $0.streamsEnded == 2 }
            }
        } catch {
            signal(SIGKILL)
            throw error
        }
        return shared.state.withLock { $0.status! }
    }
}

/// Runs `body` on a new detached thread.
private func startThread(_ body: @escaping @Sendable () -> Void) {
    final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    var thread = pthread_t()
    let started = pthread_create(&thread, nil, { context in
        Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().body()
        return nil
    }, Unmanaged.passRetained(Box(body)).toOpaque())
    precondition(started == 0, "cannot start a reader thread")
    pthread_detach(thread)
}
