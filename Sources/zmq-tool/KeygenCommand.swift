import ArgumentParser
import ZMQ

/// `zmq keygen`: a new CURVE key pair from libzmq.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Print a new CURVE key pair in Z85: give the public key to peers, keep the secret key.",
        discussion: """
            Text output is two lines, 'public-key: KEY' and 'secret-key: KEY'; json is one object.
            With --output PATH the pair is written as certificate files instead, in the ZPL format of
            czmq and pyzmq's zmq.auth: PATH.key (the public key, to hand out) and PATH.key_secret (both
            keys, readable by its owner only); the public key and the two paths are printed.

            Example:
              zmq keygen
              zmq keygen --output /etc/myapp/server
              zmq rep --bind tcp://127.0.0.1:5557 --echo --curve-server --curve-secret-key 'SECRET'
              zmq req tcp://127.0.0.1:5557 --curve-server-key 'PUBLIC' --message hi
            """
    )

    @Option(help: ArgumentHelp("text or json.", valueName: "format"))
    var format: MessageFormat = .text

    @Option(help: ArgumentHelp("Write PATH.key and PATH.key_secret instead of printing the secret key.", valueName: "path"))
    var output: String?

    mutating func validate() throws {
        if format == .hex { throw ValidationError("--format for keygen is text or json") }
        if let output, output.isEmpty || output.hasSuffix("/") {
            throw ValidationError("--output needs a file name (PATH.key and PATH.key_secret are written), not '\(output)'")
        }
    }

    func run() throws {
        let pair: CurveKeyPair
        do {
            pair = try CurveKeyPair()
        } catch {
            throw ToolFailure.runtime("cannot make a CURVE key pair: \(error)", command: "zmq keygen")
        }
        let publicKey = try Z85.encode(pair.publicKey)
        if let output {
            try write(pair, to: output, publicKey: publicKey)
            return
        }
        let secretKey = try Z85.encode(pair.secretKey)
        switch format {
        case .json:
            print("{\"public\":\(MessageCodec.jsonString(publicKey)),\"secret\":\(MessageCodec.jsonString(secretKey))}")
        default:
            print("public-key: \(publicKey)\nsecret-key: \(secretKey)")
        }
    }

    /// Writes `pair` as the certificate files `path.key` and `path.key_secret` and prints where.
    private func write(_ pair: CurveKeyPair, to path: String, publicKey: String) throws {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let files: (publicFile: String, secretFile: String?)
        do {
            files = try CurveCertificate(keyPair: pair).write(name: name, directory: directory)
        } catch {
            throw ToolFailure.runtime("\(error)", command: "zmq keygen")
        }
        let secretFile = files.secretFile ?? ""
        switch format {
        case .json:
            print("{\"public\":\(MessageCodec.jsonString(publicKey)),\"public-file\":\(MessageCodec.jsonString(files.publicFile)),"
                + "\"secret-file\":\(MessageCodec.jsonString(secretFile))}")
        default:
            print("public-key: \(publicKey)\npublic-file: \(files.publicFile)\nsecret-file: \(secretFile)")
        }
    }
}
