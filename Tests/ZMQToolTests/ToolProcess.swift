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
/// blocked signal mask of the thread that starts it). Output is collected by Dispatch threads (their
/// reads block), never on Swift's cooperative pool; every wait has a deadline, and a child still
/// running when the test lets go of it is killed.
final class ToolProcess: @unchecked Sendable {
    let arguments: [String]
    private let pid: pid_t
    private let input: Mutex<Int32?>
    private let output = Mutex<[UInt8]>([])
    private let errors = Mutex<[UInt8]>([])
    private let readersDone = Atomic<Int>(0)
    private let status = Mutex<Int32?>(nil)

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
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in inPipe + outPipe + errPipe { posix_spawn_file_actions_addclose(&actions, fd) }
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
        var pid = pid_t()
        let started = posix_spawnp(&pid, executable, &actions, &attributes, argv, environ)
        close(inPipe[0])
        close(outPipe[1])
        close(errPipe[1])
        guard started == 0 else {
            for fd in [inPipe[1], outPipe[0], errPipe[0]] { close(fd) }
            throw POSIXError(.init(rawValue: started) ?? .EIO)
        }
        self.pid = pid
        input = Mutex(inPipe[1])
        if closeOutput {
            close(outPipe[0])
            readersDone.add(1, ordering: .relaxed)
        } else {
            collect(outPipe[0]) { [self] bytes in output.withLock { $0 += bytes } }
        }
        collect(errPipe[0]) { [self] bytes in errors.withLock { $0 += bytes } }
    }

    deinit {
        if status.withLock({ $0 }) == nil {
            kill(pid, SIGKILL)
            _ = reap(blocking: true)
        }
        closeInput()
    }

    private func collect(_ fd: Int32, _ append: @escaping @Sendable (ArraySlice<UInt8>) -> Void) {
        DispatchQueue.global().async { [self] in
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = read(fd, &chunk, chunk.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                append(chunk[0..<count])
            }
            close(fd)
            readersDone.add(1, ordering: .relaxed)
        }
    }

    // MARK: Input

    /// Writes `text` to the child's standard input.
    func write(_ text: String) {
        input.withLock { fd in
            guard let fd else { return }
            var bytes = Array(text.utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return }
                offset += written
            }
            bytes.removeAll()
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

    var stdout: String { String(decoding: output.withLock { $0 }, as: UTF8.self) }
    var stderr: String { String(decoding: errors.withLock { $0 }, as: UTF8.self) }
    var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }
    var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }

    /// Waits until `condition` holds for the output so far (checking every millisecond or so), or
    /// fails at the deadline with what the child wrote.
    func waitUntil(_ what: String, within limit: Duration = .seconds(20),
                   _ condition: (ToolProcess) -> Bool) async throws {
        let deadline = ContinuousClock.now + limit
        while !condition(self) {
            if ContinuousClock.now > deadline {
                throw ProcessTimedOut(what: what, description:
                    "zmq \(arguments.joined(separator: " ")): no \(what) within \(limit); stdout: \(stdout.debugDescription) stderr: \(stderr.debugDescription)")
            }
            try await Task.sleep(for: .milliseconds(2))
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
    var hasExited: Bool { reap(blocking: false) != nil }

    func signal(_ number: Int32) {
        if status.withLock({ $0 }) == nil { kill(pid, number) }
    }

    /// Waits for the child to exit, and for its output to be complete; its exit status (128 + the
    /// signal if one killed it).
    @discardableResult
    func exitStatus(within limit: Duration = .seconds(20)) async throws -> Int32 {
        let deadline = ContinuousClock.now + limit
        while true {
            if let code = reap(blocking: false), readersDone.load(ordering: .relaxed) == 2 { return code }
            if ContinuousClock.now > deadline {
                signal(SIGKILL)
                throw ProcessTimedOut(what: "exit", description:
                    "zmq \(arguments.joined(separator: " ")) did not exit within \(limit); stdout: \(stdout.debugDescription) stderr: \(stderr.debugDescription)")
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    private func reap(blocking: Bool) -> Int32? {
        status.withLock { status in
            if let status { return status }
            var raw: Int32 = 0
            var result: pid_t
            repeat { result = waitpid(pid, &raw, blocking ? 0 : WNOHANG) } while result < 0 && errno == EINTR
            guard result == pid else { return nil }
            let code = raw & 0x7F == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
            status = code
            return code
        }
    }
}
