#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A CURVE certificate: a public key, the secret key if this is the owner's copy, and metadata, as
/// czmq (`zcert`) and pyzmq (`zmq.auth`) keep them in ZPL files.
///
/// A certificate is written as two files: `NAME.key` holds the public key (give it to peers; a
/// server allows the clients whose `.key` files are in a directory, see
/// ``Authenticator/allowCurveClients(directory:domain:)``), and `NAME.key_secret` holds both keys
/// and is readable by its owner only (mode 0600).
///
/// ```swift
/// let server = CurveCertificate(keyPair: try CurveKeyPair())
/// try server.write(name: "server", directory: "/etc/myapp")      // server.key, server.key_secret
///
/// let loaded = try CurveCertificate(contentsOfFile: "/etc/myapp/server.key_secret")
/// let keys = try loaded.keyPair!                                  // secret and public key
/// let serverKey = try CurveCertificate(contentsOfFile: "/etc/myapp/server.key").publicKey
/// ```
/// The files look like this (the format of czmq's `zcert_save` and pyzmq's
/// `zmq.auth.create_certificates`, which read each other's files and these):
/// ```
/// #   ****  Generated on 2026-12-01 21:00:00 +0000 by swift-zmq  ****
/// #   ZeroMQ CURVE **Secret** Certificate
/// #   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.
///
/// metadata
///     name = "server"
/// curve
///     public-key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
///     secret-key = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
/// ```
public struct CurveCertificate: Sendable, Hashable {
    /// The public key, 32 bytes.
    public var publicKey: [UInt8]
    /// The secret key, 32 bytes, or `nil` for a public certificate (a `.key` file).
    public var secretKey: [UInt8]?
    /// The names and values of the certificate's `metadata` section (czmq's `zcert_meta`).
    public var metadata: [String: String]

    /// The certificate of a key pair, with both keys.
    public init(keyPair: CurveKeyPair, metadata: [String: String] = [:]) {
        self.publicKey = keyPair.publicKey
        self.secretKey = keyPair.secretKey
        self.metadata = metadata
    }

    /// A public certificate: a public key (32 bytes) only.
    public init(publicKey: [UInt8], metadata: [String: String] = [:]) {
        self.publicKey = publicKey
        self.secretKey = nil
        self.metadata = metadata
    }

    /// The key pair, for a certificate that has the secret key; `nil` for a public certificate.
    public var keyPair: CurveKeyPair? {
        secretKey.map { CurveKeyPair(publicKey: publicKey, secretKey: $0) }
    }

    /// Reads a certificate file: a public one (`NAME.key`) or a secret one (`NAME.key_secret`).
    ///
    /// - Throws: ``CertificateError`` naming the file, and the line where the text is at fault:
    ///   a file that cannot be read, text that is not ZPL, no `curve` section or `public-key`, a key
    ///   that is not 40 ``Z85`` characters, or a `secret-key` whose public key is not `public-key`.
    public init(contentsOfFile path: String) throws(CertificateError) {
        self = try Self.parse(String(decoding: try Self.read(path), as: UTF8.self), file: path)
    }

    /// The certificate in `text`, the contents of a certificate file; `file` names it in errors.
    ///
    /// SPI for the fuzz targets (`Fuzz/`, `@_spi(Fuzzing) import ZMQ`); not part of the library's API.
    @_spi(Fuzzing)
    public static func parse(_ text: String, file: String) throws(CertificateError) -> CurveCertificate {
        let root: ZPL.Node
        do {
            root = try ZPL.parse(text)
        } catch {
            throw CertificateError(file: file, line: error.line, reason: error.reason)
        }
        guard let curve = root.child("curve") else {
            throw CertificateError(file: file, line: nil, reason: "has no 'curve' section")
        }
        func key(_ name: String) throws(CertificateError) -> [UInt8]? {
            guard let node = curve.child(name) else { return nil }
            guard let text = node.value, text.utf8.count == 40, let key = Z85.decodeIfValid(text) else {
                throw CertificateError(file: file, line: node.line, reason: "\(name) is not a key of 40 Z85 characters")
            }
            return key
        }
        guard let publicKey = try key("public-key") else {
            throw CertificateError(file: file, line: curve.line, reason: "the 'curve' section has no public-key")
        }
        let secretKey = try key("secret-key")
        if let secretKey {
            // A secret file whose public key belongs to another secret key would make a socket
            // announce one key and prove another: refuse it here, where the file can be named.
            let derived = try? CurveKeyPair(secretKey: secretKey).publicKey
            if let derived, derived != publicKey {
                throw CertificateError(file: file, line: curve.child("public-key")?.line,
                                       reason: "public-key is not the public key of secret-key")
            }
        }
        var metadata: [String: String] = [:]
        for entry in root.child("metadata")?.children ?? [] {
            metadata[entry.name] = entry.value ?? ""
        }
        var certificate = CurveCertificate(publicKey: publicKey, metadata: metadata)
        certificate.secretKey = secretKey
        return certificate
    }

    /// Writes the certificate as `NAME.key` (the public key and the metadata) and, if it has the
    /// secret key, `NAME.key_secret` (both keys and the metadata, mode 0600: readable and writable
    /// by its owner only) in `directory`, replacing files of those names.
    ///
    /// - Returns: The paths of the public file and of the secret file (`nil` for a public certificate).
    /// - Throws: ``CertificateError`` naming the file that cannot be written, or for a metadata
    ///   name that is not a ZPL name or a value ZPL cannot hold (a line break, or both kinds of quote).
    @discardableResult
    public func write(name: String, directory: String) throws(CertificateError) -> (publicFile: String, secretFile: String?) {
        let base = directory.hasSuffix("/") ? directory + name : directory + "/" + name
        let publicFile = base + ".key", secretFile = base + ".key_secret"
        let date = Date().description
        try Self.write(render(banner: [
            "#   ****  Generated on \(date) by swift-zmq  ****",
            "#   ZeroMQ CURVE Public Certificate",
            "#   Exchange securely, or use a secure mechanism to verify the contents",
            "#   of this file after exchange. Store public certificates in your home",
            "#   directory, in the .curve subdirectory.",
        ], secret: false, file: publicFile), to: publicFile, mode: 0o644)
        guard secretKey != nil else { return (publicFile, nil) }
        try Self.write(render(banner: [
            "#   ****  Generated on \(date) by swift-zmq  ****",
            "#   ZeroMQ CURVE **Secret** Certificate",
            "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.",
        ], secret: true, file: secretFile), to: secretFile, mode: 0o600)
        return (publicFile, secretFile)
    }

    /// The ZPL text of one of the two files.
    ///
    /// SPI for the fuzz targets, as ``parse(_:file:)``.
    @_spi(Fuzzing)
    public func render(banner: [String], secret: Bool, file: String) throws(CertificateError) -> String {
        var lines = banner + ["", "metadata"]
        for (name, value) in metadata.sorted(by: { $0.key < $1.key }) {
            guard !name.isEmpty, name.utf8.allSatisfy(ZPL.isNameCharacter) else {
                throw CertificateError(file: file, line: nil, reason: "metadata name '\(name)' is not a ZPL name (letters, digits or $-_@.&+/)")
            }
            guard !value.contains(where: { $0.isNewline }), !(value.contains("\"") && value.contains("'")) else {
                throw CertificateError(file: file, line: nil, reason: "the value of metadata \(name) cannot be written in ZPL (a line break, or both kinds of quote)")
            }
            let quote = value.contains("\"") ? "'" : "\""
            lines.append("    \(name) = \(quote)\(value)\(quote)")
        }
        lines.append("curve")
        // Z85 text never holds a quote character, so keys are always double-quoted.
        lines.append("    public-key = \"\((try? Z85.encode(publicKey)) ?? "")\"")
        if secret, let secretKey {
            lines.append("    secret-key = \"\((try? Z85.encode(secretKey)) ?? "")\"")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes `text` to `path` with permissions `mode`, also when the file existed with others.
    private static func write(_ text: String, to path: String, mode: mode_t) throws(CertificateError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw CertificateError(file: path, line: nil, reason: "cannot be written (\(Self.lastError))")
        }
        defer { close(fd) }
        guard fchmod(fd, mode) == 0 else {
            throw CertificateError(file: path, line: nil, reason: "cannot be given mode \(String(mode, radix: 8)) (\(Self.lastError))")
        }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw CertificateError(file: path, line: nil, reason: "cannot be written (\(Self.lastError))")
            }
            bytes = bytes.dropFirst(written)
        }
    }

    /// The bytes of the file at `path`.
    private static func read(_ path: String) throws(CertificateError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CertificateError(file: path, line: nil, reason: "cannot be read (\(lastError))") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count == 0 { return bytes }
            if count < 0 {
                if errno == EINTR { continue }
                throw CertificateError(file: path, line: nil, reason: "cannot be read (\(lastError))")
            }
            bytes += buffer[..<count]
            // A certificate is a few hundred bytes; refuse what cannot be one rather than read it all.
            if bytes.count > 1 << 20 { throw CertificateError(file: path, line: nil, reason: "is larger than 1 MiB: not a certificate") }
        }
    }

    /// The text of `errno`.
    private static var lastError: String { String(cString: strerror(errno)) }

    /// The public keys of every public certificate (`*.key`) in `directory`, as pyzmq's
    /// `zmq.auth.load_certificates` finds them.
    static func publicKeys(inDirectory directory: String) throws(CertificateError) -> Set<[UInt8]> {
        guard let stream = opendir(directory) else {
            throw CertificateError(file: directory, line: nil, reason: "is not a directory that can be read (\(Self.lastError))")
        }
        var names: [String] = []
        while let entry = readdir(stream) {
            names.append(withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) })
        }
        closedir(stream)
        var keys = Set<[UInt8]>()
        for name in names.sorted() where name.hasSuffix(".key") {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            keys.insert(try CurveCertificate(contentsOfFile: path).publicKey)
        }
        return keys
    }
}

/// A certificate file that cannot be read, written or understood.
public struct CertificateError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The path of the file (or directory) at fault.
    public let file: String
    /// The 1-based line of the file at fault, when the fault is on one line.
    public let line: Int?
    /// What is wrong.
    public let reason: String

    /// `path:line: reason`, as a compiler names a place in a file.
    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(reason)"
    }
}
