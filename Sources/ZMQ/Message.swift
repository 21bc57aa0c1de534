internal import CZMQ
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One message frame owned by libzmq, for when `[UInt8]` is not enough: large payloads that should
/// not be copied, and the metadata libzmq attaches to received frames.
///
/// ```swift
/// let payload = [UInt8](repeating: 7, count: 1 << 20)
/// try await push.send(Message(payload))          // libzmq sends the array's own storage
/// let message = try await pull.recv(as: Message.self)  // no copy out of libzmq
/// message.withUnsafeBytes { bytes in checksum(bytes) }
/// print(message.peerAddress ?? "local")
/// ```
///
/// A `Message` is immutable and cheap to copy: copies share one libzmq content, which is freed when
/// the last copy and the last libzmq queue holding it are gone. Sending a message does not consume
/// it: libzmq takes a reference to the same bytes (`zmq_msg_copy`), so a message can be sent again,
/// on any socket, still without copying. Because the bytes may be shared with libzmq, a peer on the
/// same `inproc://` transport and other copies, there is no way to change them after creation.
///
/// The message is a collection of bytes, so the usual conversions apply, each of which copies:
/// `Array(message)`, `Data(message)`, `String(decoding: message, as: UTF8.self)`. To read the bytes
/// in place use ``withUnsafeBytes(_:)``.
///
/// The corresponding C type is `zmq_msg_t`.
public struct Message: Sendable {
    let storage: Storage

    /// Below this size a copy costs less than setting up a shared buffer that libzmq frees later.
    static let zeroCopyThreshold = 1024

    /// Creates an empty message (a zero-length frame, such as a ROUTER envelope delimiter).
    ///
    /// The corresponding C function is `zmq_msg_init`.
    public init() {
        storage = Storage(taking: LibZMQ.newFrame(), more: false)
    }

    /// Creates a message of `count` bytes in a buffer that libzmq allocates and will free, letting
    /// `body` write the bytes in place: the way to build a large message with no copy at all.
    ///
    /// `body` must write all `count` bytes; their initial contents are unspecified.
    /// ```swift
    /// let message = Message(count: 65536) { buffer in
    ///     for index in buffer.indices { buffer[index] = UInt8(truncatingIfNeeded: index) }
    /// }
    /// ```
    /// The corresponding C function is `zmq_msg_init_size`.
    public init(count: Int, initializingWith body: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        precondition(count >= 0, "a message cannot have a negative size")
        let frame = LibZMQ.newFrame()
        let buffer: UnsafeMutableRawBufferPointer
        do {
            buffer = try LibZMQ.initFrame(frame, count: count)
        } catch {
            LibZMQ.freeFrame(frame)
            fatalError("\(error)")  // ENOMEM, the only failure: Swift's own allocations trap too
        }
        do {
            try body(buffer)
        } catch {
            LibZMQ.freeFrame(frame)
            throw error
        }
        storage = Storage(taking: frame, more: false)
    }

    /// Creates a message holding `bytes`.
    ///
    /// From 1 KiB up the array's storage itself becomes the message: libzmq keeps the array alive
    /// and releases it once, when the last message and queue sharing it are gone (on one of its
    /// I/O threads, or wherever that last message is closed). Smaller arrays are copied, which is
    /// cheaper at that size.
    ///
    /// The corresponding C functions are `zmq_msg_init_data` (shared) and `zmq_msg_init_size` (copied).
    public init(_ bytes: [UInt8]) {
        self.init(sharing: bytes, onRelease: nil)
    }

    /// Creates a message holding the bytes of `data`, sharing `data`'s storage from 1 KiB up and
    /// copying smaller values, as ``init(_:)-([UInt8])`` does for arrays.
    ///
    /// The corresponding C functions are `zmq_msg_init_data` (shared) and `zmq_msg_init_size` (copied).
    public init(_ data: Data) {
        let count = data.count
        if count < Message.zeroCopyThreshold {
            self.init(copying: count) { target in _ = data.copyBytes(to: target.assumingMemoryBound(to: UInt8.self)) }
            return
        }
        // A large Data keeps its bytes in one heap allocation, so the pointer stays valid for as long
        // as the owner holds this (never mutated) copy.
        let bytes = data.withUnsafeBytes { $0 }
        self.init(noCopy: bytes, owner: ZeroCopyOwner(data, onRelease: nil))
    }

    /// Creates a message holding the UTF-8 bytes of `text`, sharing the string's storage from 1 KiB
    /// up and copying shorter strings.
    ///
    /// The corresponding C functions are `zmq_msg_init_data` (shared) and `zmq_msg_init_size` (copied).
    public init(_ text: String) {
        var text = text
        let count = text.utf8.count
        if count < Message.zeroCopyThreshold {
            self.init(copying: count) { target in
                text.withUTF8 { target.copyMemory(from: UnsafeRawBufferPointer($0)) }
            }
            return
        }
        // A contiguous native string of this size lives in one heap allocation that the owner's copy
        // keeps alive; `withUTF8` on an already contiguous string does not reallocate it.
        text.makeContiguousUTF8()
        let bytes = text.withUTF8 { UnsafeRawBufferPointer($0) }
        self.init(noCopy: bytes, owner: ZeroCopyOwner(text, onRelease: nil))
    }

    /// Like ``init(_:)-([UInt8])``; `onRelease` runs when libzmq releases a shared array (tests use
    /// it to count releases).
    init(sharing bytes: [UInt8], onRelease: (@Sendable () -> Void)?) {
        if bytes.count < Message.zeroCopyThreshold {
            self.init(copying: bytes.count) { target in bytes.withUnsafeBytes { target.copyMemory(from: $0) } }
            return
        }
        // On Linux an array's elements always live in its own heap buffer, which the owner's copy
        // keeps alive and which nothing can mutate (a write would copy it first, as the owner holds it).
        let pointer = bytes.withUnsafeBytes { $0 }
        self.init(noCopy: pointer, owner: ZeroCopyOwner(bytes, onRelease: onRelease))
    }

    /// Wraps a received frame, taking its content out of `frame` (which is left empty for reuse).
    init(moving frame: UnsafeMutablePointer<zmq_msg_t>) {
        let more = LibZMQ.more(frame)
        let own = LibZMQ.newFrame()
        LibZMQ.move(frame, into: own)
        storage = Storage(taking: own, more: more)
    }

    private init(copying count: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void) {
        self.init(count: count, initializingWith: write)
    }

    private init(noCopy bytes: UnsafeRawBufferPointer, owner: ZeroCopyOwner) {
        let frame = LibZMQ.newFrame()
        do {
            try LibZMQ.initFrame(frame, noCopy: bytes, owner: owner)
        } catch {
            LibZMQ.freeFrame(frame)
            fatalError("\(error)")  // ENOMEM, the only failure
        }
        storage = Storage(taking: frame, more: false)
    }

    /// Whether more frames of the same multipart message follow this one. Set on received frames;
    /// always `false` for a message you create (when sending, the position in the list decides).
    ///
    /// The corresponding C function is `zmq_msg_more`.
    public var hasMore: Bool { storage.more }

    /// Calls `body` with the message's bytes in place, without copying them. The pointer is valid only
    /// during the call.
    ///
    /// The corresponding C functions are `zmq_msg_data` and `zmq_msg_size`.
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try withExtendedLifetime(storage) { try body(storage.bytes) }
    }
}

// MARK: - The bytes as a collection

extension Message: RandomAccessCollection {
    /// A message is a collection of bytes.
    public typealias Element = UInt8
    /// Byte offsets from 0.
    public typealias Index = Int
    /// `0..<count`.
    public typealias Indices = Range<Int>

    /// Always 0.
    public var startIndex: Int { 0 }

    /// The message's size in bytes. The corresponding C function is `zmq_msg_size`.
    public var endIndex: Int { storage.bytes.count }

    /// The message's size in bytes. The corresponding C function is `zmq_msg_size`.
    public var count: Int { storage.bytes.count }

    /// The byte at `position`.
    public subscript(position: Int) -> UInt8 {
        precondition(position >= 0 && position < storage.bytes.count, "Message index out of range")
        return withExtendedLifetime(storage) { storage.bytes[position] }
    }

    /// Lets `Data(message)` and `String(decoding:as:)` copy the bytes in one go.
    public func withContiguousStorageIfAvailable<Result>(
        _ body: (UnsafeBufferPointer<UInt8>) throws -> Result
    ) rethrows -> Result? {
        try withExtendedLifetime(storage) { try body(storage.bytes.assumingMemoryBound(to: UInt8.self)) }
    }

    /// Iterates over the message's bytes.
    public struct Iterator: IteratorProtocol {
        let message: Message
        var position: Int

        /// The next byte, or `nil` after the last.
        public mutating func next() -> UInt8? {
            guard position < message.count else { return nil }
            defer { position += 1 }
            return message[position]
        }
    }

    /// An iterator over the message's bytes.
    public func makeIterator() -> Iterator { Iterator(message: self, position: 0) }

    /// Lets `Array(message)` copy the bytes in one go instead of one at a time, as `Data` does.
    public func _copyContents(initializing buffer: UnsafeMutableBufferPointer<UInt8>) -> (Iterator, Int) {
        let copied = Swift.min(count, buffer.count)
        if copied > 0 {
            withUnsafeBytes { bytes in
                buffer.baseAddress!.initialize(from: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), count: copied)
            }
        }
        return (Iterator(message: self, position: copied), copied)
    }
}

extension Message: Hashable {
    /// Messages are equal when their bytes are; metadata and the more-frames flag are not compared.
    public static func == (lhs: Message, rhs: Message) -> Bool {
        lhs.storage === rhs.storage || lhs.withUnsafeBytes { left in rhs.withUnsafeBytes { left.elementsEqual($0) } }
    }

    /// Hashes the bytes.
    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

extension Message: CustomStringConvertible, CustomDebugStringConvertible {
    /// The size, as `Data` describes itself: "5 bytes".
    public var description: String { "\(count) bytes" }
    /// The size and the more-frames flag.
    public var debugDescription: String { "Message(\(count) bytes\(hasMore ? ", more" : ""))" }
}

// MARK: - Storage

extension Message {
    /// Owns one heap-allocated `zmq_msg_t`, which never moves (small contents live inside it).
    ///
    /// After creation the `zmq_msg_t` is only read, except by `zmq_msg_copy`, which marks a large
    /// content as shared on first use; that write is serialised by `sharing`, and everything else
    /// reads the bytes and flag cached at creation, so the storage is safe to share between threads.
    ///
    /// `sharing` is a flag in the object rather than a ``Locked``: every received message makes a
    /// storage, and a `Locked` is two more allocations (one of them 128-byte aligned) for a lock that
    /// is rarely taken and almost never contended (with a `Locked`, thr-inproc of 1 KiB messages ran
    /// at 0.86 of C's rate; without, 0.97, medians of 9 alternating runs).
    final class Storage: @unchecked Sendable {
        private let frame: UnsafeMutablePointer<zmq_msg_t>
        let bytes: UnsafeRawBufferPointer
        let more: Bool
        private let sharing = Atomic<Bool>(false)

        init(taking frame: UnsafeMutablePointer<zmq_msg_t>, more: Bool) {
            self.frame = frame
            self.bytes = LibZMQ.contents(of: frame)
            self.more = more
        }

        deinit {
            LibZMQ.freeFrame(frame)
        }

        /// A new `zmq_msg_t` sharing this content, for libzmq to take when sending. The caller frees it.
        func shareForSending() throws(ZMQError) -> UnsafeMutablePointer<zmq_msg_t> {
            let copy = LibZMQ.newFrame()
            while !sharing.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
                System.yieldThread()
            }
            defer { sharing.store(false, ordering: .releasing) }
            do {
                try LibZMQ.share(frame, into: copy)
            } catch {
                LibZMQ.freeFrame(copy)
                throw error
            }
            return copy
        }

        /// A metadata property of the connection this frame arrived on.
        func metadata(_ property: String) -> String? {
            LibZMQ.metadata(frame, property)
        }

        /// The DRAFT routing id and group of the frame (reading them does not change it).
        var routingID: UInt32? { DraftAPI.routingID(of: frame) }
        var group: String? { DraftAPI.group(of: frame) }
    }
}

/// Keeps a Swift value holding a message's bytes alive while libzmq uses them. libzmq holds one
/// reference and releases it exactly once, from its free function.
final class ZeroCopyOwner: Sendable {
    private let value: any Sendable
    private let onRelease: (@Sendable () -> Void)?

    init(_ value: any Sendable, onRelease: (@Sendable () -> Void)?) {
        self.value = value
        self.onRelease = onRelease
    }

    deinit {
        onRelease?()
    }
}
