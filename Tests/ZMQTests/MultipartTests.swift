import Foundation
import Testing
@testable import ZMQ

/// Multipart messages of any ``MessageFrame`` type, mixed.
@Suite(.timeLimit(.minutes(1)))
struct MultipartTests {
    @Test func framesOfEveryTypeMixInOneMessage() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline(lingerZero: true)
            let large = [UInt8](repeating: 9, count: 4096)  // shared with libzmq, not copied
            let json = try JSONEncoder().encode(["key": "value"])
            try await push.sendMultipart([
                [1, 2] as [UInt8], Message(), "text", Substring("sub"), json, Message(large), ArraySlice([7, 8, 9])[1...],
            ])
            let frames = try await pull.recvMultipart()
            #expect(frames == [[1, 2], [], Array("text".utf8), Array("sub".utf8), Array(json), large, [8, 9]])
        }
    }

    @Test func homogeneousArraysOfAnyFrameTypeSend() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline(lingerZero: true)
            let texts = ["a", "bc", ""]
            try await push.sendMultipart(texts)
            #expect(try await pull.recvMultipart() == [[97], [98, 99], []])
            let data = [Data([1]), Data(), Data(repeating: 2, count: 2000)]
            try await push.sendMultipart(data)
            #expect(try await pull.recvMultipart() == [[1], [], [UInt8](repeating: 2, count: 2000)])
            // The older overloads keep working, and a literal of byte arrays still picks theirs.
            try await push.sendMultipart([[1], [2, 3]])
            #expect(try await pull.recvMultipart() == [[1], [2, 3]])
            try await push.sendMultipart([Message("x"), Message("y")])
            #expect(try await pull.recvMultipart(as: Message.self).map(Array.init) == [[120], [121]])
        }
    }

    @Test func aMessageFrameCanBeSentAgainAndIsNotConsumed() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline(lingerZero: true)
            let shared = Message([UInt8](repeating: 5, count: 2048))
            try await push.sendMultipart([shared, "tail"])
            try await push.sendMultipart(["head", shared])
            #expect(try await pull.recvMultipart() == [Array(shared), Array("tail".utf8)])
            #expect(try await pull.recvMultipart() == [Array("head".utf8), Array(shared)])
            #expect(shared.count == 2048)
        }
    }

    @Test func anEmptyListOfAnyFramesIsRefused() async throws {
        let push = try Socket.push()
        let error = await #expect(throws: ZMQError.invalidArgument) { try await push.sendMultipart([any MessageFrame]()) }
        #expect(error?.description == "send on PUSH socket (a multipart message needs at least one frame): invalid argument")
        await push.close()
    }

    @Test func aTypeOfYourOwnCanBeAFrame() async throws {
        struct Header: MessageFrame {
            var version: UInt8
            func withFrameBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
                try [0x5A, version].withUnsafeBytes(body)
            }
        }
        try await withTimeout {
            let (push, pull) = try await pipeline(lingerZero: true)
            try await push.sendMultipart([Header(version: 3), "body"])
            #expect(try await pull.recvMultipart() == [[0x5A, 3], Array("body".utf8)])
        }
    }
}
