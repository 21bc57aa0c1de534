#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import ZMQ

/// CURVE certificate files in the ZPL format of czmq and pyzmq: reading, writing (the secret file
/// readable by its owner only), malformed files named by file and line, directories of client
/// certificates for the authenticator, and round trips with pyzmq's `zmq.auth`.
@Suite(.timeLimit(.minutes(1)))
struct CertificateTests {
    @Test func aWrittenKeyPairReadsBackAndTheSecretFileIsTheOwnersOnly() throws {
        let directory = try TemporaryDirectory()
        let keys = try CurveKeyPair()
        let certificate = CurveCertificate(keyPair: keys, metadata: ["name": "server", "quote": "say \"hi\""])
        let (publicFile, secretFile) = try certificate.write(name: "server", directory: directory.path)
        #expect(publicFile == directory.path + "/server.key")
        #expect(secretFile == directory.path + "/server.key_secret")
        #expect(try mode(of: secretFile!) == 0o600)
        #expect(try mode(of: publicFile) == 0o644)

        let secret = try CurveCertificate(contentsOfFile: secretFile!)
        #expect(secret == certificate)
        #expect(secret.keyPair == keys)
        let publicOnly = try CurveCertificate(contentsOfFile: publicFile)
        #expect(publicOnly.publicKey == keys.publicKey && publicOnly.secretKey == nil && publicOnly.keyPair == nil)
        #expect(publicOnly.metadata == certificate.metadata)
        #expect(try !String(decoding: directory.read("server.key"), as: UTF8.self).contains("secret-key"))

        // Rewriting a secret file that someone opened up makes it the owner's only again.
        chmod(secretFile!, 0o666)
        try certificate.write(name: "server", directory: directory.path)
        #expect(try mode(of: secretFile!) == 0o600)
        // A public certificate writes the public file only.
        #expect(try CurveCertificate(publicKey: keys.publicKey).write(name: "peer", directory: directory.path).secretFile == nil)
        #expect(access(directory.path + "/peer.key_secret", F_OK) != 0)
    }

    @Test func malformedFilesAreNamedByFileAndLine() throws {
        let directory = try TemporaryDirectory()
        let key = try Z85.encode(try CurveKeyPair().publicKey)
        let cases: [(text: String, line: Int?, reason: String)] = [
            ("curve\n\tpublic-key = \"\(key)\"\n", 2, "tabs"),
            ("curve\n  public-key = \"\(key)\"\n", 2, "multiple of 4"),
            ("curve\n        public-key = \"\(key)\"\n", 2, "more than one level"),
            ("# comment\ncurve\n    public-key = \"\(key)\n", 3, "no closing"),
            ("curve\n    public-key = \"\(key)\" trailing\n", 2, "after the quoted value"),
            ("curve\n    public-key \"\(key)\"\n", 2, "expected '='"),
            ("curve\n    = \"\(key)\"\n", 2, "expected a name"),
            ("curve\n    public-key = \"short\"\n", 2, "40 Z85"),
            ("curve\n    secret-key = \"\(key)\"\n", 1, "no public-key"),
            ("metadata\n    name = x\n", nil, "no 'curve' section"),
        ]
        for (index, (text, line, reason)) in cases.enumerated() {
            let path = try directory.write("bad\(index).key", text)
            let error = try #require(throws: CertificateError.self) { try CurveCertificate(contentsOfFile: path) }
            #expect(error.file == path && error.line == line && error.reason.contains(reason), "\(error)")
            #expect(error.description.hasPrefix(path + (line.map { ":\($0): " } ?? ": ")))
        }
        let mismatched = "curve\n    public-key = \"\(key)\"\n    secret-key = \"\(try Z85.encode(try CurveKeyPair().secretKey))\"\n"
        let error = try #require(throws: CertificateError.self) {
            try CurveCertificate(contentsOfFile: try directory.write("mismatch.key_secret", mismatched))
        }
        #expect(error.line == 2 && error.reason.contains("not the public key of secret-key"))
        let missing = try #require(throws: CertificateError.self) { try CurveCertificate(contentsOfFile: directory.path + "/none.key") }
        #expect(missing.line == nil && missing.reason.contains("cannot be read"))
    }

    @Test func zplParserReadsNestingValuesAndComments() throws {
        let text = """
            # comment
            root
                name = "quoted # not a comment"   # a comment
                single = 'it "is"'
                bare = value with spaces # comment
                empty =
                nested
                    deep = 1
            other\r
            """
        let document = try ZPL.parse(text)
        #expect(document.children.map(\.name) == ["root", "other"])
        let root = try #require(document.child("root"))
        #expect(root.line == 2)
        #expect(root.child("name")?.value == "quoted # not a comment")
        #expect(root.child("single")?.value == "it \"is\"")
        #expect(root.child("bare")?.value == "value with spaces")
        #expect(root.child("empty")?.value == "")
        #expect(root.child("nested")?.child("deep")?.value == "1")
        #expect(root.child("nested")?.value == nil)
        #expect(try ZPL.parse("").children.isEmpty)
        #expect(throws: ZPL.SyntaxError(line: 1, reason: "indented more than one level deeper than the name above it")) {
            try ZPL.parse("    orphan")
        }
    }

    @Test func zplParserNeverCrashesAndNamesALineOfTheText() {
        // Texts made of the characters ZPL gives a meaning to, from a fixed seed.
        var state: UInt64 = 0x2545F4914F6CDD1D
        func next() -> UInt64 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return state
        }
        let alphabet = Array(" \t\n\r#=\"'ab1-$é\0".unicodeScalars)
        for _ in 0..<2000 {
            var text = ""
            for _ in 0..<(next() % 60) { text.unicodeScalars.append(alphabet[Int(next() % UInt64(alphabet.count))]) }
            let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).count
            do {
                _ = try ZPL.parse(text)
            } catch {
                #expect((1...lines).contains(error.line), "\(error) for \(Array(text.utf8))")
            }
        }
    }

    @Test func metadataZPLCannotHoldIsRefusedWhenWriting() throws {
        let directory = try TemporaryDirectory()
        let keys = try CurveKeyPair()
        for metadata in [["bad name": "x"], ["name": "two\nlines"], ["name": "both ' and \""]] {
            #expect(throws: CertificateError.self) {
                try CurveCertificate(keyPair: keys, metadata: metadata).write(name: "x", directory: directory.path)
            }
        }
    }

    @Test func aDirectoryOfClientCertificatesIsAllowedAndReloaded() async throws {
        try await withTimeout(.seconds(30)) {
            let directory = try TemporaryDirectory()
            let alice = try CurveKeyPair(), bob = try CurveKeyPair()
            try CurveCertificate(keyPair: alice).write(name: "alice", directory: directory.path)
            let context = try Context()
            let curve = try await CurveServer(context: context)
            let authenticator = try await Authenticator(context: context)
            try authenticator.allowCurveClients(directory: directory.path)
            #expect(try await curve.handshake(alice) == .handshakeSucceeded)
            #expect(try await curve.handshake(bob) == .handshakeFailedAuthentication)

            try CurveCertificate(publicKey: bob.publicKey).write(name: "bob", directory: directory.path)
            #expect(try await curve.handshake(bob) == .handshakeFailedAuthentication, "not before a reload")
            try authenticator.reloadCurveClientDirectories()
            #expect(try await curve.handshake(bob) == .handshakeSucceeded)

            unlink(directory.path + "/alice.key")
            _ = try directory.write("broken.key", "curve\n    public-key = \"short\"\n")
            #expect(throws: CertificateError.self) { try authenticator.reloadCurveClientDirectories() }
            #expect(try await curve.handshake(alice) == .handshakeSucceeded, "a failed reload changes nothing")
            unlink(directory.path + "/broken.key")
            try authenticator.reloadCurveClientDirectories()
            #expect(try await curve.handshake(alice) == .handshakeFailedAuthentication, "removed, then reloaded")
            #expect(try await curve.handshake(bob) == .handshakeSucceeded)
            #expect(throws: CertificateError.self) { try authenticator.allowCurveClients(directory: directory.path + "/missing") }
            await authenticator.stop()
            await curve.close()
        }
    }
}

/// Certificate files exchanged with pyzmq's `zmq.auth`, both ways.
@Suite(.timeLimit(.minutes(1)), .enabled(if: PythonPeer.available || PythonPeer.required))
struct CertificateInteropTests {
    init() throws {
        try #require(PythonPeer.available, "pyzmq is required (pip install pyzmq)")
    }

    @Test func certificatesMadeByPyzmqAreRead() async throws {
        try await withTimeout(.seconds(30)) {
            let directory = try TemporaryDirectory()
            let python = try PythonPeer("create-certificates", directory.path)
            let publicText = await python.boundEndpoint(), secretText = await python.boundEndpoint()
            let result = await python.exit()
            #expect(result.status == 0, "\(result.stderr)")
            let secret = try CurveCertificate(contentsOfFile: directory.path + "/python.key_secret")
            #expect(try Z85.encode(secret.publicKey) == publicText)
            #expect(try secret.secretKey.map(Z85.encode) == secretText)
            #expect(secret.metadata == ["made-by": "pyzmq"])
            let keyPair = try #require(secret.keyPair)
            #expect(try CurveKeyPair(secretKey: keyPair.secretKey) == keyPair)
            let publicOnly = try CurveCertificate(contentsOfFile: directory.path + "/python.key")
            #expect(publicOnly.publicKey == secret.publicKey && publicOnly.secretKey == nil)
            #expect(try CurveCertificate.publicKeys(inDirectory: directory.path) == [secret.publicKey])
        }
    }

    @Test func certificatesWrittenHereAreReadByPyzmq() async throws {
        try await withTimeout(.seconds(30)) {
            let directory = try TemporaryDirectory()
            let keys = try CurveKeyPair(), other = try CurveKeyPair()
            let (publicFile, secretFile) = try CurveCertificate(keyPair: keys, metadata: ["name": "swift side"])
                .write(name: "swift", directory: directory.path)
            try CurveCertificate(publicKey: other.publicKey).write(name: "other", directory: directory.path)

            let secret = try PythonPeer("load-certificate", try #require(secretFile))
            #expect(await secret.boundEndpoint() == (try Z85.encode(keys.publicKey)))
            #expect(await secret.boundEndpoint() == (try Z85.encode(keys.secretKey)))
            var result = await secret.exit()
            #expect(result.status == 0, "\(result.stderr)")

            let publicOnly = try PythonPeer("load-certificate", publicFile)
            #expect(await publicOnly.boundEndpoint() == (try Z85.encode(keys.publicKey)))
            #expect(await publicOnly.boundEndpoint() == "None")
            result = await publicOnly.exit()
            #expect(result.status == 0, "\(result.stderr)")

            let all = try PythonPeer("load-certificates", directory.path)
            var listed: [String] = []
            while true {
                let line = await all.boundEndpoint()
                if line == "end" || line.isEmpty { break }
                listed.append(line)
            }
            #expect(Set(listed) == [try Z85.encode(keys.publicKey), try Z85.encode(other.publicKey)])
            result = await all.exit()
            #expect(result.status == 0, "\(result.stderr)")
        }
    }
}

/// The permission bits of the file at `path`.
private func mode(of path: String) throws -> mode_t {
    var info = stat()
    guard stat(path, &info) == 0 else { throw ZMQError(code: errno, detail: "stat \(path)") }
    return info.st_mode & 0o777
}

/// A directory under /tmp, removed with its files when dropped.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        var template = Array("/tmp/swift-zmq-certs-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ZMQError(code: errno, detail: "mkdtemp") }
        path = String(cString: made)
    }

    /// Writes `text` to the file `name` in the directory and returns its path.
    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        guard let stream = fopen(file, "w") else { throw ZMQError(code: errno, detail: "fopen \(file)") }
        fputs(text, stream)
        fclose(stream)
        return file
    }

    /// The bytes of the file `name` in the directory.
    func read(_ name: String) throws -> [UInt8] {
        guard let stream = fopen(path + "/" + name, "r") else { throw ZMQError(code: errno, detail: "fopen \(name)") }
        defer { fclose(stream) }
        var bytes: [UInt8] = []
        while case let byte = fgetc(stream), byte != EOF { bytes.append(UInt8(byte)) }
        return bytes
    }

    deinit {
        if let stream = opendir(path) {
            while let entry = readdir(stream) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(stream)
        }
        rmdir(path)
    }
}
