#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A value that can be sent as one frame of a message: `[UInt8]`, `ArraySlice<UInt8>`, `Data`,
/// `String`, `Substring` and ``Message`` are, so a multipart message can mix them.
///
/// ```swift
/// // A ROUTER reply: the peer's identity, an empty delimiter, a text header and a JSON body.
/// try await router.sendMultipart([identity, Message(), "reply", try JSONEncoder().encode(body)])
/// ```
///
/// A ``Message`` is sent without copying its bytes (as ``Socket/send(_:routingID:group:timeout:)``
/// sends it); the others are copied into the frame, as `zmq_send` does. Conform a type of your own
/// by giving its bytes to ``withFrameBytes(_:)``.
public protocol MessageFrame {
    /// Calls `body` with the frame's bytes, valid only during the call.
    func withFrameBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result
}

/// A byte array is a frame of its bytes.
extension Array: MessageFrame where Element == UInt8 {
    /// Calls `body` with the array's bytes.
    public func withFrameBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try withUnsafeBytes(body)
    }
}

/// A slice of bytes is a frame of those bytes, without copying the slice into an array first.
extension ArraySlice: MessageFrame where Element == UInt8 {
    /// Calls `body` with the slice's bytes.
    public func withFrameBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try withUnsafeBytes(body)
    }
}

/// `Data` is a frame of its bytes (for example an encoder's output).
extension Data: MessageFrame {
    /// Calls `body` with the data's bytes.
    public func withFrameBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try withUnsafeBytes(body)
    }
}

/// A string is a frame of its UTF-8 bytes, without a terminating NUL.
extension String: MessageFrame {
    /// Calls `body` with the string's UTF-8 bytes.
    public func withFrameBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        var text = self
        return try text.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }
}

/// A substring is a frame of its UTF-8 bytes.
extension Substring: MessageFrame {
    /// Calls `body` with the substring's UTF-8 bytes.
    public func withFrameBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        var text = self
        return try text.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }
}

extension Message: MessageFrame {
    /// Calls `body` with the message's bytes (``withUnsafeBytes(_:)``). Sending a `Message` in a
    /// multipart message does not call this: libzmq shares its content instead.
    public func withFrameBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try withUnsafeBytes(body)
    }
}
