import Testing
@testable import ZMQ

/// Bytes that differ from frame to frame and from byte to byte, so that a frame sent from another
/// frame's recycled buffer, or a buffer reused before libzmq was done with it, shows.
private func pattern(_ count: Int, seed: Int) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: count) { bytes, initialized in
        for index in 0..<count { bytes[index] = UInt8(truncatingIfNeeded: index &* 31 &+ seed &* 7 &+ index >> 8) }
        initialized = count
    }
}

/// The recycled buffers of large frames sent by copy (`SendBuffers`). The pool is one for the
/// process; these tests use frame sizes of their own (3 MB and up), whose size classes no other
/// test sends, and run one at a time.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct SendBufferTests {
    /// A size only these tests send: its class is (2^21, 2^22], step 2^19, capacity 3 MiB.
    static let size = 3_000_000

    @Test func sizeClassesHoldTheirFramesAndWasteAtMostAQuarter() {
        var previous = (index: -1, capacity: 0)
        for count in stride(from: SendBuffers.threshold, through: SendBuffers.largest, by: 509) + [SendBuffers.largest] {
            let sizeClass = SendBuffers.sizeClass(of: count)
            #expect(sizeClass.capacity >= count, "a buffer holds its frame (\(count) bytes)")
            #expect(Double(sizeClass.capacity) <= Double(count) * 1.25, "at most a quarter more than \(count) bytes")
            #expect(sizeClass.index >= previous.index, "classes grow with the frame")
            if sizeClass.index == previous.index {
                #expect(sizeClass.capacity == previous.capacity, "one class, one capacity")
            } else {
                #expect(sizeClass.capacity > previous.capacity, "a larger class has larger buffers")
            }
            previous = sizeClass
        }
        #expect(SendBuffers.sizeClass(of: 65536).capacity == 65536, "a power of two fits exactly")
    }

    @Test(arguments: [Transport.inproc, .tcp])
    func largeFramesArriveIntactWhateverBufferTheyWereSentFrom(_ transport: Transport) async throws {
        try await withTimeout {
        let pull = try Socket.pull()
        let push = try await Socket.push().connect(try await bindFresh(pull, transport))
        // Sizes around the pool's limits, the smaller ones several times, so that buffers are
        // taken back and sent again; the receiver lags behind so that several are in flight at once.
        let sizes = [SendBuffers.threshold - 1, SendBuffers.threshold, 65536, Self.size, SendBuffers.largest,
                     SendBuffers.largest + 1] + [SendBuffers.threshold, 65536, 100_000].flatMap { Array(repeating: $0, count: 4) }
        let frames = sizes.enumerated().map { pattern($0.element, seed: $0.offset) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for frame in frames { try await push.send(frame, timeout: .seconds(10)) }
                try await push.sendMultipart([frames[3], [1, 2, 3], frames[2]], timeout: .seconds(10))
            }
            var buffer: [UInt8] = []
            for (index, frame) in frames.enumerated() {
                try await pull.recv(into: &buffer, timeout: .seconds(10))
                let intact = buffer == frame  // not in #expect, which would print megabytes on a failure
                #expect(intact, "frame \(index) (\(frame.count) bytes) arrived as sent")
            }
            let parts = try await pull.recvMultipart(timeout: .seconds(10))
            let intact = parts == [frames[3], [1, 2, 3], frames[2]]
            #expect(intact, "a multipart message's large frames arrived as sent")
            try await group.waitForAll()
        }
        await push.close()
        await pull.close()
        }
    }

    /// Over inproc the receiver closes the frame it took: by then the buffer is back in the pool,
    /// and the next frame of the size is sent from it.
    @Test func aBufferIsBackInThePoolOnceItsFrameIsReceived() async throws {
        try await withTimeout {
        let (push, pull) = try await pipeline()
        let frame = pattern(Self.size, seed: 1)
        try await push.send(frame, timeout: .seconds(5))
        let before = SendBuffers.freeBuffers(forFrameOf: Self.size)
        var buffer: [UInt8] = []
        try await pull.recv(into: &buffer, timeout: .seconds(5))
        var intact = buffer == frame
        #expect(intact, "the frame arrived as sent")
        // The receive that takes the next frame closes this one (the socket reuses one zmq_msg_t).
        try await push.send([0], timeout: .seconds(5))
        try await pull.recv(into: &buffer, timeout: .seconds(5))
        #expect(SendBuffers.freeBuffers(forFrameOf: Self.size) == before + 1, "the received frame's buffer was given back")
        try await push.send(frame, timeout: .seconds(5))
        #expect(SendBuffers.freeBuffers(forFrameOf: Self.size) == before, "the next frame of the size took it")
        try await pull.recv(into: &buffer, timeout: .seconds(5))
        intact = buffer == frame
        #expect(intact, "the frame arrived as sent again")
        await push.close()
        await pull.close()
        }
    }

    /// A frame that libzmq does not take (no peer, so no room: EAGAIN) gives its buffer back at once.
    @Test func aFrameThatCannotBeSentGivesItsBufferBack() async throws {
        try await withTimeout {
        let push = try Socket.push()
        let before = SendBuffers.freeBuffers(forFrameOf: Self.size)
        await #expect(throws: ZMQError.timedOut) { try await push.send(pattern(Self.size, seed: 2), timeout: .zero) }
        #expect(SendBuffers.freeBuffers(forFrameOf: Self.size) == max(before, 1), "the buffer is in the pool, not lost")
        await push.close()
        }
    }

    /// Buffers given back beyond the pool's limit are freed, not kept.
    @Test func thePoolKeepsNoMoreThanItsLimit() {
        let count = SendBuffers.largest
        let capacity = SendBuffers.sizeClass(of: count).capacity
        let buffers = (0...(SendBuffers.retainedLimit / capacity + 2)).map { _ in SendBuffers.take(count) }
        for (buffer, sizeClass) in buffers { SendBuffers.giveBack(buffer, sizeClass: sizeClass) }
        #expect(SendBuffers.retainedBytes <= SendBuffers.retainedLimit)
        let kept = SendBuffers.freeBuffers(forFrameOf: count)
        #expect(kept < buffers.count, "buffers beyond the limit were freed")
        // Leave the pool as other tests expect it: none of these kept.
        for _ in 0..<kept { SendBuffers.take(count).buffer.deallocate() }
        #expect(SendBuffers.freeBuffers(forFrameOf: count) == 0)
    }
}
