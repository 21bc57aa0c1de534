import Foundation
import Synchronization
import Testing
@testable import ZMQ

/// Counts how often libzmq released a shared buffer's owner.
final class ReleaseCounter: Sendable {
    private let releases = Atomic(0)
    var count: Int { releases.load(ordering: .acquiring) }
    func record() { releases.add(1, ordering: .releasing) }
}

private func address(of message: Message) -> UInt {
    message.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
}

private func address(of bytes: [UInt8]) -> UInt {
    bytes.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
}

private func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}

extension Socket {
    /// Sets a binary socket option by number (the typed option API lives on another branch).
    fileprivate func setRawOption(_ option: Int32, _ value: String) throws {
        try withHandle("set option \(option)") { try LibZMQ.setOption($0, option, bytes: Array(value.utf8), "set option \(option)") }
    }
}

private let routingIDOption: Int32 = 5     // ZMQ_ROUTING_ID
private let zapDomainOption: Int32 = 55    // ZMQ_ZAP_DOMAIN
private let metadataOption: Int32 = 95     // ZMQ_METADATA

@Suite(.timeLimit(.minutes(1)))
struct MessageTests {
    /// Over inproc libzmq hands the very content from sender to receiver, so the received bytes are
    /// at the sent array's address: no copy on the way in or out.
    @Test func largeArrayIsSentAndReceivedWithoutCopyAndReleasedOnceAfterUse() async throws {
        try await withTimeout {
            let pull = try Socket.pull()
            let endpoint = try await bindFresh(pull, .inproc)
            let push = try await Socket.push().connect(endpoint)
            let released = ReleaseCounter()
            let payload = randomBytes(65536)

            try await push.send(Message(sharing: payload, onRelease: released.record))
            do {
                let received = try await pull.recv(as: Message.self)
                #expect(address(of: received) == address(of: payload))
                #expect(received.count == payload.count)
                #expect(Array(received) == payload)
                // The received message still points into the array: libzmq must not release it yet.
                #expect(released.count == 0)
                withExtendedLifetime(received) {}
            }
            // Closing the last message sharing the content runs the free function at once, here.
            #expect(released.count == 1)
            await push.close()
            await pull.close()
            #expect(released.count == 1)
        }
    }

    @Test func sharedBufferIsReleasedOnceAfterTCPSendCompletes() async throws {
        try await withTimeout {
            let pull = try Socket.pull()
            let endpoint = try await bindFresh(pull, .tcp)
            let push = try await Socket.push().connect(endpoint)
            let released = ReleaseCounter()
            let payload = randomBytes(1 << 20)

            try await push.send(Message(sharing: payload, onRelease: released.record))
            let received = try await pull.recv(as: Message.self)
            #expect(Array(received) == payload)
            // tcp copies into the receiver's buffer; the sender's I/O thread releases the array once written.
            try await eventually { released.count == 1 }
            await push.close()
            await pull.close()
            #expect(released.count == 1)
        }
    }

    @Test func messageCanBeSentTwiceAndStillSharesOneBuffer() async throws {
        try await withTimeout {
            let pull = try Socket.pull()
            let endpoint = try await bindFresh(pull, .inproc)
            let push = try await Socket.push().connect(endpoint)
            let released = ReleaseCounter()
            let payload = randomBytes(100_000)

            do {
                let message = Message(sharing: payload, onRelease: released.record)
                try await push.send(message)
                try await push.send(message)
                let first = try await pull.recv(as: Message.self)
                let second = try await pull.recv(as: Message.self)
                #expect(address(of: first) == address(of: payload))
                #expect(address(of: second) == address(of: payload))
                #expect(first == message && second == message)
                #expect(released.count == 0)
                withExtendedLifetime((message, first, second)) {}
            }
            #expect(released.count == 1)
            await push.close()
            await pull.close()
        }
    }

    /// The first `zmq_msg_copy` of a shared buffer writes to the source message; tasks sending
    /// one message at once must still leave exactly one reference to release. The race is on the
    /// first copy only, so each round sends a fresh message from every task at once.
    @Test func messageSentByManyTasksAtOnceIsReleasedOnce() async throws {
        try await withTimeout {
            let pull = try Socket.pull()
            let endpoint = try await bindFresh(pull, .inproc)
            var pushes: [Socket] = []
            for _ in 0..<2 { pushes.append(try await Socket.push().connect(endpoint)) }
            let released = ReleaseCounter()
            let payload = randomBytes(10_000)
            let rounds = 500
            for round in 0..<rounds {
                let message = Message(sharing: payload, onRelease: released.record)
                let arrived = ReleaseCounter()  // counts the tasks that reached the starting line
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for push in pushes {
                        group.addTask {
                            // Start both sends at the same moment where two threads are free (a
                            // bounded spin: with one thread free they simply run one after the other).
                            arrived.record()
                            var spins = 0
                            while arrived.count < 2 && spins < 100_000 { spins += 1 }
                            try await push.send(message)
                        }
                    }
                    try await group.waitForAll()
                }
                for _ in pushes {
                    let received = try await pull.recv(as: Message.self)
                    #expect(address(of: received) == address(of: payload))
                }
                #expect(released.count == round)
            }
            #expect(released.count == rounds)
            for push in pushes { await push.close() }
            await pull.close()
        }
    }

    @Test func messageWrittenInPlaceReachesReceiverWithoutCopy() async throws {
        try await withTimeout {
            let pull = try Socket.pull()
            let endpoint = try await bindFresh(pull, .inproc)
            let push = try await Socket.push().connect(endpoint)

            let message = Message(count: 65536) { buffer in
                for index in buffer.indices { buffer[index] = UInt8(truncatingIfNeeded: index &* 31) }
            }
            try await push.send(message)
            let received = try await pull.recv(as: Message.self)
            #expect(address(of: received) == address(of: message))
            #expect(received.count == 65536)
            #expect(received.enumerated().allSatisfy { $0.element == UInt8(truncatingIfNeeded: $0.offset &* 31) })
            await push.close()
            await pull.close()
        }
    }

    @Test func smallMessagesKeepTheirBytesWhenLaterFramesArrive() async throws {
        try await withTimeout {
            let pull = try Socket.pull()
            let endpoint = try await bindFresh(pull, .inproc)
            let push = try await Socket.push().connect(endpoint)
            // Up to 33 bytes live inside the zmq_msg_t: each Message must have its own.
            try await push.send(Message(Array("first".utf8)))
            try await push.send(Message(Array("second, a bit longer".utf8)))
            try await push.send(Message())
            let first = try await pull.recv(as: Message.self)
            let second = try await pull.recv(as: Message.self)
            let empty = try await pull.recv(as: Message.self)
            #expect(String(decoding: first, as: UTF8.self) == "first")
            #expect(String(decoding: second, as: UTF8.self) == "second, a bit longer")
            #expect(empty.isEmpty)
            await push.close()
            await pull.close()
        }
    }

    @Test(arguments: [Transport.inproc, .tcp])
    func multipartMessagesRoundTripWithMoreFlags(_ transport: Transport) async throws {
        try await withTimeout {
            let pull = try Socket.pull()
            let endpoint = try await bindFresh(pull, transport)
            let push = try await Socket.push().connect(endpoint)
            let big = randomBytes(70_000)

            try await push.sendMultipart([Message("header"), Message(), Message(big)])
            try await push.sendMultipart([Array("plain".utf8), Array("bytes".utf8)])
            let parts = try await pull.recvMultipart(as: Message.self)
            #expect(parts.map(Array.init) == [Array("header".utf8), [], big])
            #expect(parts.map(\.hasMore) == [true, true, false])
            let plain = try await pull.recvMultipart(as: Message.self)
            #expect(plain.map { String(decoding: $0, as: UTF8.self) } == ["plain", "bytes"])
            await push.close()
            await pull.close()
        }
    }

    @Test func emptyMultipartMessageIsRejected() async throws {
        try await withTimeout {
            let push = try Socket.push()
            await #expect(throws: ZMQError.invalidArgument) { try await push.sendMultipart([Message]()) }
            await push.close()
        }
    }

    @Test func stringAndDataConveniencesRoundTrip() async throws {
        try await withTimeout {
            let pull = try Socket.pull()
            let endpoint = try await bindFresh(pull, .inproc)
            let push = try await Socket.push().connect(endpoint)
            let longText = String(repeating: "zéro-copie ", count: 500)
            let bigData = Data(randomBytes(50_000))

            try await push.send("héllo")
            try await push.send(Message(longText))
            try await push.send(Data([1, 2, 3]))
            try await push.send(bigData)
            #expect(try await pull.recv(as: String.self) == "héllo")
            #expect(try await pull.recv(as: String.self) == longText)
            #expect(try await pull.recv(as: Data.self) == Data([1, 2, 3]))
            let received = try await pull.recv(as: Message.self)
            #expect(Data(received) == bigData)
            await push.close()
            await pull.close()
        }
    }

    @Test func jsonValuesRoundTripAndAMessageThatIsNotJSONIsReportedAndConsumed() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline()
            // A class: neither Sendable nor a value, so only the caller's executor may touch it.
            final class Order: Codable {
                var item: String, quantity: Int
                init(item: String, quantity: Int) { self.item = item; self.quantity = quantity }
            }
            try await push.send(json: Order(item: "tea", quantity: 2))
            try await push.send("not json")
            try await push.send(json: ["a": [1, 2]])
            let sorted = JSONEncoder()
            sorted.outputFormatting = .sortedKeys
            try await push.send(json: Order(item: "coffee", quantity: 1), encoder: sorted)

            let order = try await pull.recv(json: Order.self)
            #expect(order.item == "tea" && order.quantity == 2)
            await #expect(throws: DecodingError.self) { try await pull.recv(json: Order.self) }
            #expect(try await pull.recv(json: [String: [Int]].self) == ["a": [1, 2]])
            #expect(try await pull.recv(as: String.self) == #"{"item":"coffee","quantity":1}"#)
            await push.close()
            await pull.close()
        }
    }

    @Test func messagesCompareByBytes() {
        let bytes = randomBytes(5000)
        #expect(Message(bytes) == Message(Data(bytes)))
        #expect(Message(bytes).hashValue == Message(Data(bytes)).hashValue)
        #expect(Message("abc") != Message("abd"))
        #expect(Message("abc").description == "3 bytes")
        #expect(Message("abc")[1] == UInt8(ascii: "b"))
        #expect(Array(Message(bytes)) == bytes)
    }

    @Test func tcpMessageCarriesPeerMetadata() async throws {
        try await withTimeout {
            let pull = try Socket.pull()
            let endpoint = try await bindFresh(pull, .tcp)
            let push = try Socket.push()
            try await push.setRawOption(metadataOption, "X-Colour:blue")
            try await push.connect(endpoint)

            try await push.send("hello")
            let message = try await pull.recv(as: Message.self)
            #expect(message.peerAddress == "127.0.0.1")
            #expect(message.peerSocketType == .push)
            #expect(message.metadata("X-Colour") == "blue")
            #expect(message.metadata("X-Missing") == nil)
            #expect(message.userID == nil)
            await push.close()
            await pull.close()
        }
    }

    @Test func routerSeesDealersAnnouncedRoutingID() async throws {
        try await withTimeout {
            let router = try Socket.router()
            let endpoint = try await bindFresh(router, .tcp)
            let dealer = try Socket.dealer()
            try await dealer.setRawOption(routingIDOption, "worker-7")
            try await dealer.connect(endpoint)

            try await dealer.send("ready")
            let parts = try await router.recvMultipart(as: Message.self)
            #expect(parts.map { String(decoding: $0, as: UTF8.self) } == ["worker-7", "ready"])
            #expect(parts[1].peerRoutingID == "worker-7")
            #expect(parts[1].peerSocketType == .dealer)
            await dealer.close()
            await router.close()
        }
    }

    @Test func inprocMessageHasNoMetadata() async throws {
        try await withTimeout {
            let pull = try Socket.pull()
            let endpoint = try await bindFresh(pull, .inproc)
            let push = try await Socket.push().connect(endpoint)
            try await push.send("x")
            let message = try await pull.recv(as: Message.self)
            #expect(message.peerAddress == nil)
            #expect(message.peerSocketType == nil)
            #expect(Message("created").peerAddress == nil)
            await push.close()
            await pull.close()
        }
    }

    /// A ZAP handler (RFC 27) answering for the NULL mechanism assigns the user id.
    @Test func zapHandlerUserIDReachesTheMessage() async throws {
        try await withTimeout {
            let context = try Context()
            let handler = try await Socket.rep(context: context).bind("inproc://zeromq.zap.01")
            let zap = Task {
                let request = try await handler.recvMultipart()
                // version, request id, domain, address, routing id, mechanism
                try await handler.sendMultipart([Array("1.0".utf8), request[1], Array("200".utf8),
                                                 Array("OK".utf8), Array("alice".utf8), []])
                return String(decoding: request[5], as: UTF8.self)
            }
            let pull = try Socket.pull(context: context)
            try await pull.setRawOption(zapDomainOption, "test")
            let endpoint = try await bindFresh(pull, .tcp)
            let push = try await Socket.push(context: context).connect(endpoint)

            try await push.send("authenticated")
            let message = try await pull.recv(as: Message.self)
            #expect(try await zap.cancellableValue == "NULL")
            #expect(message.userID == "alice")
            #expect(String(decoding: message, as: UTF8.self) == "authenticated")
            for socket in [push, pull, handler] {
                try await socket.set(.linger, .zero)
                await socket.close()
            }
        }
    }
}
