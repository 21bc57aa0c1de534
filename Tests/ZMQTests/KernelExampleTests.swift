import Foundation
import Testing
import ZMQ

// A real protocol written on the public API only (no @testable import): a Jupyter-style kernel
// (the Jupyter messaging protocol, version 5.3, with an empty key, so signatures are empty).
//
//   shell      ROUTER  requests from any number of clients (DEALERs), replies to the sender
//   iopub      PUB     status (busy/idle), execute_input, execute_result for every client
//   heartbeat  REP     echoes whatever it gets
//
// A message on shell or iopub is: the routing identities, the delimiter "<IDS|MSG>", the signature,
// then four JSON frames (header, parent header, metadata, content) and optional binary buffers.

/// The header of a Jupyter message.
struct KernelHeader: Codable, Equatable, Sendable {
    var msg_id: String
    var session: String
    var username: String = "test"
    var date: String = "2026-01-01T00:00:00.000000Z"
    var msg_type: String
    var version: String = "5.3"
}

/// One Jupyter message, after the routing identities.
struct KernelMessage: Sendable {
    static let delimiter = "<IDS|MSG>"

    var identities: [Message] = []
    var header: KernelHeader
    var parent: KernelHeader?
    var metadata: [String: String] = [:]
    /// The content, as JSON (its shape depends on the message type).
    var content: Data
    var buffers: [Message] = []

    /// The frames on the wire: identities, delimiter, signature, the JSON frames, buffers. Frames of
    /// four types in one multipart message.
    func frames() throws -> [any MessageFrame] {
        let encoder = JSONEncoder()
        let parentJSON = try parent.map { try encoder.encode($0) } ?? Data("{}".utf8)
        return identities + [Self.delimiter, "", try encoder.encode(header), parentJSON, try encoder.encode(metadata), content] + buffers
    }

    /// Parses received frames: everything before the delimiter is identities.
    init(frames: [Message]) throws {
        guard let delimiter = frames.firstIndex(where: { String(decoding: $0, as: UTF8.self) == Self.delimiter }),
              frames.count >= delimiter + 6 else {
            throw KernelError.malformed(frames.count)
        }
        let decoder = JSONDecoder()
        identities = Array(frames[..<delimiter])
        header = try decoder.decode(KernelHeader.self, from: Data(frames[delimiter + 2]))
        parent = try? decoder.decode(KernelHeader.self, from: Data(frames[delimiter + 3]))
        metadata = (try? decoder.decode([String: String].self, from: Data(frames[delimiter + 4]))) ?? [:]
        content = Data(frames[delimiter + 5])
        buffers = Array(frames[(delimiter + 6)...])
    }

    init(identities: [Message] = [], type: String, session: String, parent: KernelHeader? = nil, content: some Encodable) throws {
        self.identities = identities
        header = KernelHeader(msg_id: UUID().uuidString, session: session, msg_type: type)
        self.parent = parent
        self.content = try JSONEncoder().encode(content)
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: content)
    }
}

enum KernelError: Error {
    case malformed(Int)
}

struct ExecuteRequest: Codable, Sendable { var code: String; var silent = false }
struct ExecuteReply: Codable, Sendable { var status: String; var execution_count: Int }
struct ExecuteResult: Codable, Sendable { var execution_count: Int; var data: [String: String] }
struct ExecuteInput: Codable, Sendable { var code: String; var execution_count: Int }
struct Status: Codable, Sendable { var execution_state: String }
struct KernelInfoReply: Codable, Sendable { var status: String; var protocol_version: String; var implementation: String }
struct Empty: Codable, Sendable {}

/// The kernel: three sockets on wildcard tcp ports, a task for the heartbeat and one for shell.
final class Kernel: Sendable {
    let shell: Socket
    let iopub: Socket
    let heartbeat: Socket
    let session = UUID().uuidString
    private let tasks: [Task<Void, any Error>]

    /// The endpoints a client connects to (the connection file, in Jupyter).
    let shellEndpoint: String
    let iopubEndpoint: String
    let heartbeatEndpoint: String

    init() async throws {
        shell = try await Socket.router().set(.linger, .zero).bind("tcp://127.0.0.1:*")
        iopub = try await Socket.pub().set(.linger, .zero).bind("tcp://127.0.0.1:*")
        heartbeat = try await Socket.rep().set(.linger, .zero).bind("tcp://127.0.0.1:*")
        shellEndpoint = try await Self.endpoint(of: shell)
        iopubEndpoint = try await Self.endpoint(of: iopub)
        heartbeatEndpoint = try await Self.endpoint(of: heartbeat)
        let (shell, iopub, heartbeat, session) = (shell, iopub, heartbeat, session)
        tasks = [
            Task {
                while true { try await heartbeat.send(try await heartbeat.recv(as: Message.self)) }
            },
            Task {
                var executionCount = 0
                for try await frames in shell.multipartMessages {
                    guard let request = try? KernelMessage(frames: frames) else { continue }  // not Jupyter: ignored
                    let publish = { (type: String, content: any Encodable) in
                        try await iopub.sendMultipart(
                            KernelMessage(type: type, session: session, parent: request.header, content: content).frames())
                    }
                    try await publish("status", Status(execution_state: "busy"))
                    switch request.header.msg_type {
                    case "kernel_info_request":
                        try await shell.sendMultipart(KernelMessage(
                            identities: request.identities, type: "kernel_info_reply", session: session, parent: request.header,
                            content: KernelInfoReply(status: "ok", protocol_version: "5.3", implementation: "swift-zmq-test")).frames())
                    case "execute_request":
                        let code = try request.decode(ExecuteRequest.self).code
                        executionCount += 1
                        try await publish("execute_input", ExecuteInput(code: code, execution_count: executionCount))
                        // The "language": sums of integers.
                        let sum = code.split(separator: "+").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.reduce(0, +)
                        try await publish("execute_result", ExecuteResult(execution_count: executionCount, data: ["text/plain": "\(sum)"]))
                        // Binary buffers ride after the JSON frames: the reply echoes the request's.
                        var reply = try KernelMessage(
                            identities: request.identities, type: "execute_reply", session: session, parent: request.header,
                            content: ExecuteReply(status: "ok", execution_count: executionCount))
                        reply.buffers = request.buffers
                        try await shell.sendMultipart(reply.frames())
                    default:
                        break
                    }
                    try await publish("status", Status(execution_state: "idle"))
                }
            },
        ]
    }

    /// The resolved endpoint of a wildcard bind. (Until the bound-port API lands, from `lastEndpoint`.)
    private static func endpoint(of socket: Socket) async throws -> String {
        try #require(await socket.lastEndpoint)
    }

    func stop() async {
        for task in tasks { task.cancel() }
        await shell.close()
        await iopub.close()
        await heartbeat.close()
        for task in tasks { _ = await task.result }
    }
}

/// A client: a DEALER on shell (its routing id names it), a SUB on iopub, a REQ heartbeat.
struct KernelClient {
    let shell: Socket
    let iopub: Socket
    let heartbeat: Socket
    let session = UUID().uuidString

    init(_ kernel: Kernel, name: String) async throws {
        shell = try await Socket.dealer().set(.linger, .zero).set(.routingID, Array(name.utf8)).connect(kernel.shellEndpoint)
        iopub = try await Socket.sub().set(.linger, .zero).subscribe().connect(kernel.iopubEndpoint)
        heartbeat = try await Socket.req().set(.linger, .zero).connect(kernel.heartbeatEndpoint)
    }

    func request(_ type: String, _ content: some Encodable, buffers: [Message] = []) async throws -> KernelHeader {
        var message = try KernelMessage(type: type, session: session, content: content)
        message.buffers = buffers
        try await shell.sendMultipart(message.frames())
        return message.header
    }

    func reply() async throws -> KernelMessage {
        try KernelMessage(frames: try await shell.recvMultipart(as: Message.self, timeout: .seconds(5)))
    }

    func event() async throws -> KernelMessage {
        try KernelMessage(frames: try await iopub.recvMultipart(as: Message.self, timeout: .seconds(5)))
    }

    /// What `jupyter_client` does before trusting iopub: ask for kernel info until its status
    /// arrives on iopub (PUB drops what it publishes before the subscription reaches it). A
    /// handshake, not a sleep. Returns the parent of the first event seen.
    func waitForReady() async throws {
        while true {
            let sent = try await request("kernel_info_request", Empty())
            #expect(try await reply().header.msg_type == "kernel_info_reply")
            // Events of requests before the subscription arrived never come; this one's might.
            while let event = try? KernelMessage(frames: try await iopub.recvMultipart(as: Message.self, timeout: .milliseconds(200))) {
                if event.parent == sent, try event.decode(Status.self).execution_state == "idle" { return }
            }
        }
    }

    func close() async {
        await shell.close()
        await iopub.close()
        await heartbeat.close()
    }
}

@Suite(.timeLimit(.minutes(1)))
struct KernelExampleTests {
    @Test func executeRequestGetsItsReplyAndItsEventsInOrder() async throws {
        try await withTimeout(.seconds(30)) {
            let kernel = try await Kernel()
            let client = try await KernelClient(kernel, name: "client-1")
            try await client.waitForReady()

            let sent = try await client.request("execute_request", ExecuteRequest(code: "1 + 2 + 39"))
            let reply = try await client.reply()
            #expect(reply.header.msg_type == "execute_reply")
            #expect(reply.parent == sent)
            #expect(reply.identities.isEmpty, "the DEALER's ROUTER identity is the kernel's business only")
            let result = try reply.decode(ExecuteReply.self)
            #expect(result.status == "ok")
            #expect(result.execution_count == 1)

            var events: [String] = []
            var value: String?
            while events.last != "status:idle" {
                let event = try await client.event()
                guard event.parent == sent else { continue }
                #expect(event.header.session == kernel.session)
                switch event.header.msg_type {
                case "status": events.append("status:" + (try event.decode(Status.self).execution_state))
                case "execute_result":
                    events.append("execute_result")
                    value = try event.decode(ExecuteResult.self).data["text/plain"]
                default: events.append(event.header.msg_type)
                }
            }
            #expect(events == ["status:busy", "execute_input", "execute_result", "status:idle"])
            #expect(value == "42")
            await client.close()
            await kernel.stop()
        }
    }

    @Test func repliesGoToTheClientThatAskedWhateverTheInterleaving() async throws {
        try await withTimeout(.seconds(30)) {
            let kernel = try await Kernel()
            let clients = try await [KernelClient(kernel, name: "alpha"), KernelClient(kernel, name: "beta"), KernelClient(kernel, name: "gamma")]
            // Every client sends all its requests first, so that the kernel serves them interleaved.
            var sent: [[KernelHeader]] = []
            for (index, client) in clients.enumerated() {
                var headers: [KernelHeader] = []
                for round in 0..<5 {
                    headers.append(try await client.request("execute_request", ExecuteRequest(code: "\(index) + \(round)")))
                }
                sent.append(headers)
            }
            var counts: Set<Int> = []
            for (index, client) in clients.enumerated() {
                for round in 0..<5 {
                    let reply = try await client.reply()
                    #expect(reply.parent == sent[index][round], "client \(index) gets its own replies, in order")
                    counts.insert(try reply.decode(ExecuteReply.self).execution_count)
                }
            }
            #expect(counts == Set(1...15), "the kernel ran each request once")
            for client in clients { await client.close() }
            await kernel.stop()
        }
    }

    @Test func binaryBuffersAndRoutingThroughABrokerKeepEveryIdentity() async throws {
        try await withTimeout(.seconds(30)) {
            let kernel = try await Kernel()
            // A broker between client and kernel: ROUTER in front, DEALER to the kernel. The kernel
            // sees two identities (the broker's, then the client's) and must return both.
            let front = try await Socket.router().set(.linger, .zero).bind("tcp://127.0.0.1:*")
            let back = try await Socket.dealer().set(.linger, .zero).set(.routingID, Array("broker".utf8)).connect(kernel.shellEndpoint)
            // Read before the proxy takes the socket (from then on it refuses every other use).
            let frontEndpoint = try #require(await front.lastEndpoint)
            let broker = Task { try await Socket.proxy(front, back) }
            let shell = try await Socket.dealer().set(.linger, .zero).set(.routingID, Array("far-client".utf8)).connect(frontEndpoint)

            let buffer = Message([UInt8](repeating: 0xAB, count: 100_000))
            var request = try KernelMessage(type: "execute_request", session: "s", content: ExecuteRequest(code: "1"))
            request.buffers = [buffer, Message()]
            try await shell.sendMultipart(request.frames())
            let reply = try KernelMessage(frames: try await shell.recvMultipart(as: Message.self, timeout: .seconds(5)))
            #expect(reply.parent == request.header)
            #expect(reply.buffers == [buffer, Message()], "binary frames after the JSON ones travel intact")

            broker.cancel()
            _ = await broker.result
            await shell.close()
            await front.close()
            await back.close()
            await kernel.stop()
        }
    }

    @Test func heartbeatEchoesAndAMalformedRequestIsIgnored() async throws {
        try await withTimeout(.seconds(30)) {
            let kernel = try await Kernel()
            let client = try await KernelClient(kernel, name: "hb")
            for beat in 0..<3 {
                try await client.heartbeat.send("ping \(beat)")
                #expect(try await client.heartbeat.recv(as: String.self, timeout: .seconds(5)) == "ping \(beat)")
            }
            // Not a Jupyter message (no delimiter): the kernel drops it and goes on serving.
            try await client.shell.sendMultipart(["garbage", Data([0xFF])])
            let sent = try await client.request("kernel_info_request", Empty())
            let reply = try await client.reply()
            #expect(reply.parent == sent)
            #expect(try reply.decode(KernelInfoReply.self).implementation == "swift-zmq-test")
            await client.close()
            await kernel.stop()
        }
    }
}
