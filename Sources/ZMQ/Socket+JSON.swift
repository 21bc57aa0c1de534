#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Socket {
    /// Sends `value` encoded as JSON, as one message (pyzmq's `send_json`).
    ///
    /// ```swift
    /// struct Order: Codable { var item: String; var quantity: Int }
    /// try await push.send(json: Order(item: "tea", quantity: 2))
    /// let order = try await pull.recv(json: Order.self)
    /// ```
    ///
    /// The value is encoded on the caller's executor, so it need not be `Sendable`. Waits like
    /// ``send(_:timeout:)-([UInt8],_)`` when the high-water mark is reached.
    /// - Throws: the encoder's `EncodingError` (before anything is sent), or as
    ///   ``send(_:timeout:)-([UInt8],_)``.
    nonisolated(nonsending) public func send<Value: Encodable>(
        json value: Value, encoder: JSONEncoder = JSONEncoder(), timeout: Duration? = nil
    ) async throws {
        try await send(encoder.encode(value), timeout: timeout)
    }

    /// Receives the next message and decodes it from JSON (pyzmq's `recv_json`).
    ///
    /// The value is decoded on the caller's executor, so it need not be `Sendable`. Waits and
    /// handles cancellation like ``recv(timeout:)``. A message that is not the JSON of `type` is
    /// still taken from the queue: the decoder's `DecodingError` reports it, and the next call
    /// receives the next message.
    /// - Throws: the decoder's `DecodingError`, or as ``recv(timeout:)``.
    nonisolated(nonsending) public func recv<Value: Decodable>(
        json type: Value.Type, decoder: JSONDecoder = JSONDecoder(), timeout: Duration? = nil
    ) async throws -> Value {
        try decoder.decode(type, from: await recv(as: Data.self, timeout: timeout))
    }
}
