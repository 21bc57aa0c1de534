import ArgumentParser
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Where a sending command's messages come from.
struct InputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Send this message instead of reading standard input (in --format, split into frames with --frames).",
        valueName: "text"))
    var message: String?

    @Flag(help: "Split each input line into frames at the --separator: a multipart message per line.")
    var frames = false

    @Flag(help: "Send all of standard input, up to its end, as one message of one frame.")
    var raw = false

    @Option(help: ArgumentHelp("Wait this long between messages; with --message, repeat it at this pace (until --count).",
                               valueName: "duration"))
    var interval: DurationArgument?

    mutating func validate() throws {
        if raw && (frames || message != nil) { throw ValidationError("--raw sends standard input whole; it excludes --frames and --message") }
    }
}

/// The messages a command sends, one at a time: read from standard input, or a `--message` repeated.
/// Used by one task only.
final class MessageSource {
    private enum Kind {
        case repeated([[UInt8]], remaining: Int?)
        case standardInput(AsyncStream<StandardInput.Event>.Iterator, StandardInput, remaining: Int?)
    }

    private var kind: Kind

    /// `--message` sent `times` times (`nil`: for ever).
    init(message: [[UInt8]], times: Int?) {
        kind = .repeated(message, remaining: times)
    }

    /// Lines of standard input, decoded with `codec` (or all of it as one frame, if `raw`); at most
    /// `limit` of them.
    init(codec: MessageCodec, raw: Bool, limit: Int?) {
        let input = StandardInput(codec: codec, raw: raw)
        kind = .standardInput(input.events.makeAsyncIterator(), input, remaining: limit)
    }

    /// The next message, or `nil` at the end of the input.
    /// - Throws: `CancellationError` when the task is cancelled, or a ``ToolFailure`` for a line
    ///   that is not in the input format.
    func next() async throws -> [[UInt8]]? {
        switch kind {
        case .repeated(let message, let remaining):
            try Task.checkCancellation()
            if let remaining {
                guard remaining > 0 else { return nil }
                kind = .repeated(message, remaining: remaining - 1)
            }
            return message
        case .standardInput(var iterator, let input, let remaining):
            if let remaining, remaining <= 0 { return nil }
            let event = await iterator.next()
            kind = .standardInput(iterator, input, remaining: remaining.map { $0 - 1 })
            try Task.checkCancellation()
            switch event {
            case nil: return nil
            case .message(let frames):
                input.taken()
                return frames
            case .invalid(let line, let reason):
                throw ToolFailure.runtime("standard input line \(line): \(reason)")
            }
        }
    }
}

/// Standard input, read on a Dispatch queue of its own (the `read` calls block that thread, never
/// one of Swift's cooperative threads) and handed over a line at a time; at most `window` lines
/// are read ahead of the sender, so a slow peer slows the reading instead of filling memory.
final class StandardInput: Sendable {
    enum Event: Sendable {
        case message([[UInt8]])
        case invalid(line: Int, reason: String)
    }

    let events: AsyncStream<Event>
    private let slots: DispatchSemaphore

    init(codec: MessageCodec, raw: Bool, window: Int = 64) {
        let (events, continuation) = AsyncStream.makeStream(of: Event.self)
        // Starts at 0 and is raised to `window`: libdispatch traps when a semaphore is freed below
        // its initial value, as this one is when the sender stops before the input's end.
        let slots = DispatchSemaphore(value: 0)
        for _ in 0..<window { slots.signal() }
        self.events = events
        self.slots = slots
        DispatchQueue(label: "zmq.stdin").async {
            Self.read(codec: codec, raw: raw, slots: slots, continuation)
        }
    }

    /// The sender took a message: one more may be read ahead.
    func taken() {
        slots.signal()
    }

    private static func read(codec: MessageCodec, raw: Bool, slots: DispatchSemaphore,
                             _ continuation: AsyncStream<Event>.Continuation) {
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var lineNumber = 0
        var stopped = false
        func deliver(_ line: [UInt8]) -> Bool {
            lineNumber += 1
            slots.wait()
            let event: Event
            do {
                event = .message(try codec.decode(line))
            } catch {
                event = .invalid(line: lineNumber, reason: error.reason)
            }
            if case .terminated = continuation.yield(event) { return false }
            if case .invalid = event { return false }
            return true
        }
        reading: while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }  // the end, or an unreadable stdin (closed): no more input
            if raw {
                pending += chunk[0..<count]
                continue
            }
            var start = pending.count
            pending += chunk[0..<count]
            var lineStart = 0
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                if !deliver(Array(pending[lineStart..<newline])) {
                    stopped = true
                    break reading
                }
                lineStart = newline + 1
                start = lineStart
            }
            pending.removeFirst(lineStart)
        }
        if stopped {
            // the sender has stopped, or a line was invalid: nothing more is sent
        } else if raw {
            slots.wait()
            continuation.yield(.message([pending]))
        } else if !pending.isEmpty {
            _ = deliver(pending)  // a last line without its newline
        }
        continuation.finish()
    }
}
