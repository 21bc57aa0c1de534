import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Standard output was closed by its reader (a broken pipe): the command ends quietly.
struct BrokenPipe: Error {}

/// Standard output, written from a Dispatch queue of its own: a write that blocks (a full pipe,
/// a slow terminal) blocks that queue's thread, never one of Swift's cooperative threads, and the
/// receiving loop awaits each write, so a slow reader slows the receiver down instead of queueing
/// messages in memory (they wait in libzmq, within its high-water mark).
final class Output: Sendable {
    static let standard = Output(fd: 1)

    private let fd: Int32
    private let queue = DispatchQueue(label: "zmq.stdout")

    init(fd: Int32) {
        self.fd = fd
    }

    /// Writes `bytes` whole, in order with every other write.
    /// - Throws: ``BrokenPipe`` when the reader has gone, or a ``ToolFailure`` for another error.
    func write(_ bytes: [UInt8]) async throws {
        let fd = self.fd
        let failure: Int32? = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Self.writeAll(fd, bytes))
            }
        }
        guard let failure else { return }
        if failure == EPIPE { throw BrokenPipe() }
        throw ToolFailure.runtime("cannot write to standard output: \(String(cString: strerror(failure)))")
    }

    /// The errno of a failed write, or `nil` when every byte went out.
    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
        bytes.withUnsafeBytes { buffer -> Int32? in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return nil
        }
    }
}
