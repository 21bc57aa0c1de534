import ZMQ
#if canImport(Glibc)
import Glibc
#endif

/// A failure that ends the command with `status` (1 runtime, 2 usage) and one line on standard error.
struct ToolFailure: Error {
    var message: String
    var status: Int32
    /// The command the failure belongs to, such as `zmq pull`.
    var command: String?

    static func usage(_ message: String, command: String? = nil) -> ToolFailure {
        ToolFailure(message: message, status: 2, command: command)
    }

    static func runtime(_ message: String, command: String? = nil) -> ToolFailure {
        ToolFailure(message: message, status: 1, command: command)
    }
}

/// Lines on standard error: errors, the endpoints bound and connected, statistics.
///
/// Written with `write(2)` directly: one call per line, so lines from different tasks never mix,
/// and nothing is buffered when the process exits.
enum Diagnostics {
    static func line(_ text: String) {
        var text = text + "\n"
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(2, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return }
                offset += written
            }
        }
    }

    static func error(_ message: String, command: String?) {
        line("\(command ?? "zmq"): error: \(message)")
    }
}
