import ArgumentParser
import ZMQ

/// A duration on the command line: a number and a unit, `250ms`, `2s`, `1.5s`, `1m`, `100us`; a bare
/// number is seconds, as for `sleep` and `timeout`.
struct DurationArgument: ExpressibleByArgument, Sendable, CustomStringConvertible {
    var duration: Duration
    var text: String

    init?(argument: String) {
        let units: [(String, Double)] = [("ms", 1e-3), ("us", 1e-6), ("µs", 1e-6), ("ns", 1e-9), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(argument)
        var scale = 1.0
        var unit = "s"
        for (suffix, factor) in units where argument.hasSuffix(suffix) {
            number = argument.dropLast(suffix.count)
            scale = factor
            unit = ""
            break
        }
        guard let value = Double(number), value.isFinite, value >= 0, value * scale < 1e9 else { return nil }
        duration = .nanoseconds(Int64((value * scale * 1e9).rounded()))
        text = argument + unit  // "2" reads back as "2s"
    }

    var description: String { text }

    static var defaultCompletionKind: CompletionKind { .default }
}

/// How long a socket keeps unsent messages at close: a duration, or `forever` (the default).
struct LingerArgument: ExpressibleByArgument, Sendable {
    /// `nil` is forever.
    var duration: Duration?

    init?(argument: String) {
        if ["forever", "inf", "infinite", "-1"].contains(argument) {
            duration = nil
        } else if let value = DurationArgument(argument: argument) {
            duration = value.duration
        } else {
            return nil
        }
    }

    init(duration: Duration?) {
        self.duration = duration
    }
}

/// How messages are written to standard output and read from standard input.
enum MessageFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// The bytes as they are, frames joined by the separator.
    case text
    /// Each frame in lowercase hexadecimal, frames joined by the separator.
    case hex
    /// A JSON array of frames: a string for a UTF-8 frame, `{"base64": "..."}` for any other.
    case json
}

/// A socket type given by name (`--type dealer`).
struct SocketTypeArgument: ExpressibleByArgument, Sendable {
    var type: SocketType

    init?(argument: String) {
        guard let match = SocketType.allCases.first(where: { $0.description.lowercased() == argument.lowercased() }) else {
            return nil
        }
        type = match
    }

    static var allValueStrings: [String] { SocketType.allCases.map { $0.description.lowercased() } }
}
