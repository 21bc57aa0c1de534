import ArgumentParser
import ZMQ

/// `zmq keygen`: a new CURVE key pair from libzmq.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Print a new CURVE key pair in Z85: give the public key to peers, keep the secret key.",
        discussion: """
            Text output is two lines, 'public-key: KEY' and 'secret-key: KEY'; json is one object.

            Example:
              zmq keygen
              zmq rep --bind tcp://127.0.0.1:5557 --echo --curve-server --curve-secret-key 'SECRET'
              zmq req tcp://127.0.0.1:5557 --curve-server-key 'PUBLIC' --message hi
            """
    )

    @Option(help: ArgumentHelp("text or json.", valueName: "format"))
    var format: MessageFormat = .text

    mutating func validate() throws {
        if format == .hex { throw ValidationError("--format for keygen is text or json") }
    }

    func run() throws {
        let pair: CurveKeyPair
        do {
            pair = try CurveKeyPair()
        } catch {
            throw ToolFailure.runtime("cannot make a CURVE key pair: \(error)", command: "zmq keygen")
        }
        let publicKey = try Z85.encode(pair.publicKey)
        let secretKey = try Z85.encode(pair.secretKey)
        switch format {
        case .json:
            print("{\"public\":\(MessageCodec.jsonString(publicKey)),\"secret\":\(MessageCodec.jsonString(secretKey))}")
        default:
            print("public-key: \(publicKey)\nsecret-key: \(secretKey)")
        }
    }
}
