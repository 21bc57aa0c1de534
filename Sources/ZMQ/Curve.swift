/// A CURVE key pair: what a CURVE server or client needs for ``SocketOption/curveSecretKey`` and
/// ``SocketOption/curvePublicKey`` (and, for a client, the server's public key as
/// ``SocketOption/curveServerKey``).
///
/// ```swift
/// let server = try CurveKeyPair()
/// let client = try CurveKeyPair()
/// let router = try await Socket.router()
///     .set(.curveServer, true).set(.curveSecretKey, server.secretKey)
///     .bind("tcp://127.0.0.1:5555")
/// let dealer = try await Socket.dealer()
///     .set(.curveServerKey, server.publicKey)
///     .set(.curvePublicKey, client.publicKey).set(.curveSecretKey, client.secretKey)
///     .connect("tcp://127.0.0.1:5555")
/// ```
/// Keys are 32 bytes; ``Z85`` turns them into the 40-character text form other tools print.
/// The corresponding C functions are `zmq_curve_keypair` and `zmq_curve_public`.
public struct CurveKeyPair: Sendable, Hashable {
    /// The public key, 32 bytes: give it to peers.
    public let publicKey: [UInt8]
    /// The secret key, 32 bytes: keep it to this side.
    public let secretKey: [UInt8]

    /// Generates a new random key pair.
    ///
    /// The corresponding C function is `zmq_curve_keypair`.
    /// - Throws: ``ZMQError/notSupported`` when libzmq was built without CURVE
    ///   (``ZMQLibrary/has(_:)`` with `.curve` says whether it was).
    public init() throws {
        let (publicText, secretText) = try LibZMQ.curveKeyPair()
        guard let publicKey = Z85.decodeIfValid(publicText), let secretKey = Z85.decodeIfValid(secretText) else {
            throw ZMQError.invalidValue.with("zmq_curve_keypair returned keys that are not Z85").during("generate a CURVE key pair")
        }
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// The key pair of an existing secret key: its public key is derived from it.
    ///
    /// The corresponding C function is `zmq_curve_public`.
    /// - Throws: ``ZMQError/invalidArgument`` when `secretKey` is not 32 bytes, or
    ///   ``ZMQError/notSupported`` when libzmq was built without CURVE.
    public init(secretKey: [UInt8]) throws {
        guard secretKey.count == 32 else {
            throw ZMQError.invalidArgument.with("a CURVE secret key is 32 bytes, not \(secretKey.count)").during("derive a CURVE public key")
        }
        let publicText = try LibZMQ.curvePublic(ofSecret: try Z85.encode(secretKey))
        guard let publicKey = Z85.decodeIfValid(publicText) else {
            throw ZMQError.invalidValue.with("zmq_curve_public returned a key that is not Z85").during("derive a CURVE public key")
        }
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// A key pair from keys already known to belong together (a certificate checks that they do).
    init(publicKey: [UInt8], secretKey: [UInt8]) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }
}

/// Z85, ZeroMQ's text encoding of binary keys (RFC 32/Z85): 4 bytes become 5 printable characters,
/// so a 32-byte CURVE key is 40 characters.
///
/// The corresponding C functions are `zmq_z85_encode` and `zmq_z85_decode`.
public enum Z85 {
    /// The Z85 text of `bytes`.
    /// - Throws: ``ZMQError/invalidArgument`` when `bytes.count` is not a multiple of 4.
    public static func encode(_ bytes: [UInt8]) throws -> String {
        if bytes.isEmpty { return "" }
        guard bytes.count % 4 == 0, let text = LibZMQ.z85Encode(bytes) else {
            throw ZMQError.invalidArgument.with("Z85 encodes a multiple of 4 bytes, not \(bytes.count)").during("Z85 encode")
        }
        return text
    }

    /// The bytes that `text` encodes.
    /// - Throws: ``ZMQError/invalidArgument`` when `text` is not Z85: its length is not a multiple
    ///   of 5, or it has a character outside Z85's alphabet.
    public static func decode(_ text: String) throws -> [UInt8] {
        guard let bytes = decodeIfValid(text) else {
            throw ZMQError.invalidArgument.with("\(text.utf8.count) characters that are not Z85 text").during("Z85 decode")
        }
        return bytes
    }

    static func decodeIfValid(_ text: String) -> [UInt8]? {
        // libzmq checks the length but not every character: check the alphabet here.
        if text.isEmpty { return [] }
        guard text.utf8.count % 5 == 0, text.utf8.allSatisfy({ alphabet.contains($0) }) else { return nil }
        return LibZMQ.z85Decode(text)
    }

    private static let alphabet = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8)
}
