import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Ends the run with an error when messages stop arriving: a message that was lost leaves the
/// receiver waiting forever, and such a run must fail, not hang or report a number.
///
/// It watches from a thread of its own, which sleeps between checks; that thread never touches a
/// socket and is not part of the cooperative pool.
final class Watchdog: Sendable {
    /// Messages (or round trips) completed so far; the workload updates it as it goes.
    let progress = Atomic<Int>(0)
    private let expected: Int
    private let stall: Int

    /// Starts watching: if `progress` stays the same for `stall` seconds the process exits with status 1.
    init(expected: Int, stall: Int = 20) {
        self.expected = expected
        self.stall = stall
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { context in
            Unmanaged<Watchdog>.fromOpaque(context!).takeRetainedValue().watch()
        }, Unmanaged.passRetained(self).toOpaque())
        precondition(started == 0, "cannot start the watchdog thread")
        pthread_detach(thread)
    }

    /// Records that `count` messages (or round trips) are done. Only the workload's receiving task
    /// calls it, so a plain store will do: an atomic increment per message was a locked instruction
    /// the C program does not pay.
    @inline(__always)
    func advance(to count: Int) {
        progress.store(count, ordering: .relaxed)
    }

    /// Records `count` more messages; for workloads whose messages arrive on many tasks.
    func advance(by count: Int) {
        progress.wrappingAdd(count, ordering: .relaxed)
    }

    private func watch() -> Never {
        var last = -1
        var still = 0
        while true {
            sleep(1)
            let now = progress.load(ordering: .relaxed)
            if now != last {
                (last, still) = (now, 0)
                continue
            }
            still += 1
            if still >= stall {
                fail("no message for \(stall) s after \(now) of \(expected): messages were lost or the run hung")
            }
        }
    }
}

/// Reports a failed run on stderr and exits non-zero, so that `compare` records no number for it.
package func fail(_ message: String) -> Never {
    printError("zmq-bench: \(message)")
    exit(1)
}

/// Writes `line` to stderr (file descriptor 2: the C `stderr` global is not concurrency-safe).
package func printError(_ line: String) {
    var line = line + "\n"
    line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}
