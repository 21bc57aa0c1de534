import Logging

/// A swift-log `LogHandler` that publishes each record on a PUB socket, as pyzmq's
/// `zmq.log.handlers.PUBHandler` does, so that one SUB socket (or the `zmq` tool) can collect the
/// logs of many processes.
///
/// Each record is a two-frame message: the topic, which is the level in capitals (`INFO`, `DEBUG`,
/// `WARNING`, ...) after the root topic and a dot if there is one (`myapp.INFO`), then the text,
/// `LEVEL file:line - message key=value ...` and a line feed, metadata sorted by key. Subscribers
/// choose levels by topic:
///
/// ```swift
/// let logs = try await Socket.pub().connect("tcp://collector:5558")
/// LoggingSystem.bootstrap { _ in PUBLogHandler(socket: logs, rootTopic: "myapp") }
///
/// // the collector
/// let collector = try await Socket.sub().bind("tcp://*:5558").subscribe("myapp.ERROR")
/// let record = try await collector.recvMultipart()    // ["myapp.ERROR", "ERROR main.swift:12 - ..."]
/// ```
///
/// Records are sent in the order they were logged, by one task, from a buffer of up to
/// `bufferLimit` records that drops the oldest when the socket falls behind; logging itself never
/// waits. A PUB socket drops what no subscriber is connected for, as it drops any message. The
/// handler gives the socket a logger that writes nothing (``Socket/setLogger(_:)``), so that the
/// socket's own records never feed back into it. The socket stays the caller's to close.
public struct PUBLogHandler: LogHandler {
    /// The topic before the level; `""` (the default) makes the level the whole topic.
    public let rootTopic: String
    /// Metadata added to every record (swift-log's handler metadata).
    public var metadata: Logger.Metadata = [:]
    /// The least severe level published; `info` by default.
    public var logLevel: Logger.Level
    /// Where more metadata comes from, merged into every record.
    public var metadataProvider: Logger.MetadataProvider?

    private let publisher: Publisher

    /// A handler that publishes on `socket`, a PUB (or XPUB) socket bound or connected by the caller.
    /// - Parameters:
    ///   - socket: The socket records are sent on.
    ///   - rootTopic: The topic before the level (`"myapp"` gives `myapp.INFO`).
    ///   - logLevel: The least severe level published.
    ///   - bufferLimit: How many records may wait to be sent before the oldest are dropped.
    public init(socket: Socket, rootTopic: String = "", logLevel: Logger.Level = .info, bufferLimit: Int = 10_000) {
        self.rootTopic = rootTopic
        self.logLevel = logLevel
        self.publisher = Publisher(socket: socket, bufferLimit: bufferLimit)
    }

    /// The handler metadata value for `metadataKey`.
    public subscript(metadataKey metadataKey: String) -> Logger.Metadata.Value? {
        get { metadata[metadataKey] }
        set { metadata[metadataKey] = newValue }
    }

    /// Publishes `event` as `[topic, text]`.
    public func log(event: LogEvent) {
        let level = Self.levelName(event.level)
        let topic = rootTopic.isEmpty ? level : "\(rootTopic).\(level)"
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let own = event.metadata { merged.merge(own) { $1 } }
        let file = event.file.split(separator: "/").last.map(String.init) ?? event.file
        var text = "\(level) \(file):\(event.line) - \(event.message)"
        if let error = event.error { text += " error=\(error)" }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) { text += " \(key)=\(value)" }
        publisher.publish([Array(topic.utf8), Array((text + "\n").utf8)])
    }

    /// `INFO`, `WARNING`, ...: the level as pyzmq's handler names it.
    static func levelName(_ level: Logger.Level) -> String {
        level.rawValue.uppercased()
    }

    /// The buffer and the task that sends from it; the task ends when the last handler copy goes.
    private final class Publisher: Sendable {
        private let continuation: AsyncStream<[[UInt8]]>.Continuation

        init(socket: Socket, bufferLimit: Int) {
            let (stream, continuation) = AsyncStream.makeStream(of: [[UInt8]].self, bufferingPolicy: .bufferingNewest(max(1, bufferLimit)))
            self.continuation = continuation
            Task {
                await socket.setLogger(Context.silentLogger)
                for await record in stream {
                    // A PUB socket drops rather than blocks; a closed socket drops the rest.
                    try? await socket.sendMultipart(record)
                }
            }
        }

        func publish(_ record: [[UInt8]]) {
            continuation.yield(record)
        }

        deinit {
            continuation.finish()
        }
    }
}
