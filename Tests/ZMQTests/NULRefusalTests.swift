#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import ZMQ

/// Strings with a NUL byte are refused before libzmq, which takes C strings and would cut them at
/// the NUL, sees them: the error is `invalidArgument`, naming the socket type, the operation and
/// the value.
@Suite(.timeLimit(.minutes(1)))
struct NULRefusalTests {
    /// Runs `call` and returns the error it throws, checked to be a NUL refusal of `operation`.
    private func refusal(_ operation: String, on type: SocketType, _ call: () async throws -> Void) async throws -> ZMQError {
        let error = try #require(await #expect(throws: ZMQError.self) { try await call() })
        #expect(error.kind == .invalidArgument)
        let description = error.description
        #expect(error.operation?.hasPrefix(operation) == true && error.socketType == type, "\(description)")
        #expect(description.contains("\(type) socket") && description.contains("NUL byte"), "\(description)")
        #expect(!description.contains("\0"), "the description escapes the NUL: \(description)")
        return error
    }

    @Test func endpointsWithANULAreRefusedAndNothingIsBoundAtTheCutName() async throws {
        try await withTimeout {
            let name = freshEndpoint(.inproc)
            let socket = try await Socket.pull().set(.linger, .zero)
            var error = try await refusal("bind", on: .pull) { try await socket.bind(name + "\0tail") }
            #expect(error.operation == "bind \(name)\0tail", "the value, whole")
            #expect(error.description.hasPrefix("bind \(name)\\0tail on PULL socket"), "\(error)")
            _ = try await refusal("connect", on: .pull) { try await socket.connect(name + "\0tail") }
            _ = try await refusal("unbind", on: .pull) { try await socket.unbind(name + "\0tail") }
            _ = try await refusal("disconnect", on: .pull) { try await socket.disconnect(name + "\0tail") }
            // Nothing was bound at the part before the NUL: binding there works.
            try await socket.bind(name)
            #expect(await socket.endpoints.map(\.address) == [name])

            let path = "/tmp/swift-zmq-nul-\(UInt32.random(in: 0...UInt32.max))"
            error = try await refusal("bind", on: .pull) { try await socket.bind("ipc://\(path)\0tail") }
            #expect(access(path, F_OK) != 0, "no ipc file made at the cut path")
            await socket.close()
        }
    }

    @Test func stringOptionsWithANULAreRefused() async throws {
        try await withTimeout {
            let socket = try await Socket.dealer().set(.linger, .zero)
            let options: [(SocketOption<String>, String)] = [
                (.zapDomain, "global\0evil"), (.plainUsername, "admin\0evil"), (.plainPassword, "secret\0evil"),
                (.socksProxy, "127.0.0.1:1080\0evil"), (.bindToDevice, "lo\0evil"),
                (.gssapiPrincipal, "me\0evil"), (.gssapiServicePrincipal, "svc\0evil"),
            ]
            for (option, value) in options {
                let error = try await refusal("set", on: .dealer) { try await socket.set(option, value) }
                #expect(error.operation?.contains(option.description) == true)
                if option.description.contains("plainPassword") {
                    #expect(!error.description.contains("secret"), "a password stays out of errors")
                } else {
                    #expect(error.operation?.contains(value) == true)
                }
            }
            #expect(try await socket.get(.zapDomain) == "", "nothing was set")
            #expect(try await socket.get(.mechanism) == .null)
            await socket.close()
        }
    }

    @Test func stringTopicsWithANULAreRefusedAndBinaryTopicsAreNot() async throws {
        try await withTimeout {
            let subscriber = try await Socket.sub().set(.linger, .zero)
            let error = try await refusal("subscribe", on: .sub) { try await subscriber.subscribe("news\0sport") }
            #expect(error.description.contains("news\\0sport"), "\(error)")
            _ = try await refusal("unsubscribe", on: .sub) { try await subscriber.unsubscribe("news\0sport") }
            // Bytes are bytes: the same topic as [UInt8] is a subscription, and matches.
            let publisher = try await Socket.pub().set(.linger, .zero)
            let endpoint = try await bindFresh(publisher, .inproc)
            try await subscriber.subscribe(Array("news\0sport".utf8)).connect(endpoint)
            try await awaitSubscription(publisher: publisher, subscriber: subscriber, probe: "news\0sport probe")
            await publisher.close()
            await subscriber.close()
        }
    }

    @Test func metadataNamesWithANULNameNothing() {
        #expect(Message("x").metadata("Peer-Address\0x") == nil)
    }
}
