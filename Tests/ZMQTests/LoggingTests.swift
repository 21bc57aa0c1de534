import Logging
import Testing
@testable import ZMQ

/// Logging: what the library logs to a context's or socket's swift-log `Logger` (and what it never
/// logs), and `PUBLogHandler`, which publishes records on a PUB socket.
@Suite(.timeLimit(.minutes(1)))
struct LoggingTests {
    @Test func theDefaultLoggerWritesNothing() throws {
        #expect(try Context().logger.handler is SwiftLogNoOpLogHandler)
        #expect(Context.shared.logger.handler is SwiftLogNoOpLogHandler)
    }

    @Test func attachingAndClosingAreLoggedAtDebugWithTheSocketAndEndpoint() async throws {
        try await withTimeout {
            let records = RecordingLogHandler.Records()
            let context = try Context(logger: Logger(label: "test") { _ in RecordingLogHandler(records, level: .debug) })
            let name = freshEndpoint(.inproc)
            let pull = try await Socket.pull(context: context).bind(name).bind("tcp://127.0.0.1:*")
            let tcp = try #require(await pull.lastEndpoint)
            let push = try await Socket.push(context: context).connect(name)
            try await push.disconnect(name)
            try await pull.unbind(tcp)
            await #expect(throws: ZMQError.self) { try await pull.bind("nonsense://x") }
            await push.close()
            await pull.close()
            let lines = records.all.map { "\($0.level) \($0.message) \($0.metadata["zmq.socket"] ?? "-") \($0.metadata["zmq.endpoint"] ?? "-")" }
            #expect(lines == [
                "debug bind PULL \(name)",
                "debug bind PULL \(tcp)",
                "debug connect PUSH \(name)",
                "debug disconnect PUSH \(name)",
                "debug unbind PULL \(tcp)",
                "debug bind failed PULL nonsense://x",
                "debug close PUSH -",
                "debug close PULL bind \(name)",
            ])
            #expect(records.all[5].metadata["zmq.error"]?.contains("nonsense://x") == true)
        }
    }

    @Test func aSocketsOwnLoggerTakesItsRecords() async throws {
        try await withTimeout {
            let contextRecords = RecordingLogHandler.Records(), socketRecords = RecordingLogHandler.Records()
            let context = try Context(logger: Logger(label: "context") { _ in RecordingLogHandler(contextRecords, level: .debug) })
            let socket = try await Socket.pair(context: context)
                .setLogger(Logger(label: "socket") { _ in RecordingLogHandler(socketRecords, level: .debug) })
                .bind(freshEndpoint(.inproc))
            await socket.setLogger(nil).close()
            #expect(socketRecords.all.map(\.message) == ["bind"])
            #expect(contextRecords.all.map(\.message) == ["close"])
        }
    }

    @Test func sendingAndReceivingAtOnceNeverLogButAWaitThatFailsDoes() async throws {
        try await withTimeout {
            let records = RecordingLogHandler.Records()
            let context = try Context(logger: Logger(label: "test") { _ in RecordingLogHandler(records, level: .trace) })
            let (push, pull) = try await pipeline(context: context, lingerZero: true)
            let before = records.all.count
            for index in 0..<200 {
                try await push.send("message \(index)")
                #expect(try await pull.recv(as: String.self) == "message \(index)")
            }
            try await push.sendMultipart([Array("a".utf8), Array("b".utf8)])
            #expect(try await pull.recvMultipart().count == 2)
            #expect(records.all.count == before, "no record per message")

            // A receive that has to wait and then times out is on the slow path: logged at debug.
            await #expect(throws: ZMQError.timedOut) { try await pull.recv(timeout: .milliseconds(5)) }
            let failure = try #require(records.all.last)
            #expect(failure.level == .debug)
            #expect(failure.message == "receive failed after waiting")
            #expect(failure.metadata["zmq.socket"] == "PULL")
            #expect(failure.metadata["zmq.error"]?.contains("timed out") == true)
            await push.close()
            await pull.close()
        }
    }

    @Test func aTimedOutWaitIsLoggedOnlyWhileTheLoggerInForceTakesDebug() async throws {
        try await withTimeout {
            let records = RecordingLogHandler.Records()
            let context = try Context(logger: Logger(label: "info") { _ in RecordingLogHandler(records, level: .info) })
            let pull = try await Socket.pull(context: context).bind(freshEndpoint(.inproc))
            func timeOut() async { await #expect(throws: ZMQError.timedOut) { try await pull.recv(timeout: .milliseconds(2)) } }
            await timeOut()
            #expect(records.all.isEmpty, "an info logger takes no debug record")
            context.logger = Logger(label: "debug") { _ in RecordingLogHandler(records, level: .debug) }
            await timeOut()
            #expect(records.all.map(\.message) == ["receive failed after waiting"], "the context's new logger is seen")
            await pull.setLogger(Logger(label: "own") { _ in RecordingLogHandler(records, level: .warning) })
            await timeOut()
            #expect(records.all.count == 1, "the socket's own logger, at warning, takes none")
            await pull.setLogger(nil)
            await timeOut()
            #expect(records.all.count == 2, "back to the context's")
            await pull.close()
        }
    }

    @Test func proxyStartAndStopAreLogged() async throws {
        try await withTimeout {
            let records = RecordingLogHandler.Records()
            let context = try Context(logger: Logger(label: "test") { _ in RecordingLogHandler(records, level: .debug) })
            let frontend = try await Socket.pull(context: context).set(.linger, .zero).bind(freshEndpoint(.inproc))
            let backend = try await Socket.push(context: context).set(.linger, .zero).bind(freshEndpoint(.inproc))
            // In a group, so that a test that times out cancels the proxy too.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await Socket.proxy(frontend, backend) }
                try await eventually { records.all.contains { $0.message == "proxy started" } }
                group.cancelAll()
                await #expect(throws: CancellationError.self) { try await group.next() }
            }
            let control = ProxyControl()
            control.terminate()
            try await Socket.proxy(frontend, backend, control: control)
            let proxyRecords = records.all.filter { $0.message.hasPrefix("proxy") }
            #expect(proxyRecords.map(\.message) == ["proxy started", "proxy stopped: cancelled", "proxy started", "proxy stopped: terminated by its control"])
            #expect(proxyRecords.allSatisfy { $0.level == .debug && $0.metadata["zmq.frontend"] == "PULL" && $0.metadata["zmq.backend"] == "PUSH" })
            await frontend.close()
            await backend.close()
        }
    }

    @Test func pubLogHandlerPublishesRecordsUnderTheirLevelForASubscriber() async throws {
        try await withTimeout {
            let publisher = try await Socket.pub().set(.linger, .zero)
            let endpoint = try await bindFresh(publisher, .inproc)
            let subscriber = try await Socket.sub().set(.linger, .zero).connect(endpoint).subscribe("app.WARNING").subscribe("app.INFO")
            let logger = Logger(label: "test") { _ in PUBLogHandler(socket: publisher, rootTopic: "app", logLevel: .info) }
            // PUB drops what it sends before the subscription arrives: log until one gets through.
            let first = try await withThrowingTaskGroup(of: [[UInt8]]?.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        logger.info("probe")
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    return nil
                }
                group.addTask { try await subscriber.recvMultipart() }
                defer { group.cancelAll() }
                while let result = try await group.next() {
                    if let result { return result }
                }
                return []
            }
            #expect(String(decoding: first[0], as: UTF8.self) == "app.INFO")
            #expect(String(decoding: first[1], as: UTF8.self).hasPrefix("INFO LoggingTests.swift:"))

            logger.debug("below the level: not published")
            logger.error("not subscribed to")
            logger.warning("disk almost full", metadata: ["free": "1%", "disk": "/dev/sda"])
            var received: [[String]] = []
            while received.last?.first != "app.WARNING" {
                received.append(try await subscriber.recvMultipart().map { String(decoding: $0, as: UTF8.self) })
            }
            #expect(received.allSatisfy { $0[0] == "app.INFO" || $0[0] == "app.WARNING" })
            let warning = try #require(received.last)
            #expect(warning.count == 2)
            #expect(warning[1].hasPrefix("WARNING LoggingTests.swift:"))
            #expect(warning[1].hasSuffix(" - disk almost full disk=/dev/sda free=1%\n"))
            await subscriber.close()
            await publisher.close()
        }
    }

    @Test func levelNamesAreThoseOfPyzmq() {
        #expect(Logger.Level.allCases.map(PUBLogHandler.levelName) == ["TRACE", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL"])
    }
}

/// A `LogHandler` that keeps every record, for tests.
struct RecordingLogHandler: LogHandler {
    struct Record: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    final class Records: Sendable {
        private let records = Locked<[Record]>([])
        var all: [Record] { records.withLock { $0 } }
        func append(_ record: Record) { records.withLock { $0.append(record) } }
    }

    let records: Records
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    init(_ records: Records, level: Logger.Level) {
        self.records = records
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        records.append(Record(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
    }
}
