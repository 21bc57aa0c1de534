import ArgumentParser
import ZMQ

/// The options every socket command takes: delivery, identity, output on standard error, security.
struct SocketOptions: ParsableArguments {
    /// The options whose value is whatever argument follows them, even one that begins with '-'.
    static let optionsTakingAnyValue: Set<String> = [
        "--curve-server-key", "--curve-secret-key", "--curve-public-key", "--plain-user", "--plain-password",
    ]

    /// `arguments` with each option of ``optionsTakingAnyValue`` joined to the argument after it
    /// (`--plain-password -x` becomes `--plain-password=-x`), up to a `--` terminator.
    ///
    /// ArgumentParser reads an argument that begins with '-' as an option before any option's parsing
    /// strategy is consulted, and refuses some outright (`-=…`, `---…`), so a Z85 key that begins so
    /// could not be given as a separate argument. The `--name=value` form takes any value. An option
    /// given last, without a value, is left alone, for ArgumentParser to report the missing value.
    static func attachingValues(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            if argument == "--" {
                result.append(contentsOf: arguments[index...])
                break
            }
            if optionsTakingAnyValue.contains(argument), index + 1 < arguments.endIndex {
                result.append(argument + "=" + arguments[index + 1])
                index += 2
            } else {
                result.append(argument)
                index += 1
            }
        }
        return result
    }

    @Option(help: ArgumentHelp(
        "How long unsent messages are kept for delivery when the socket closes: a duration (0, 500ms, 5s) or 'forever' (the default; 1s for pub and xpub, 0 for sub, pull and monitor).",
        valueName: "duration"))
    var linger: LingerArgument?

    @Option(help: ArgumentHelp("The send and receive high-water marks, in messages (0: no limit).", valueName: "messages"))
    var hwm: Int32?

    @Option(help: ArgumentHelp("The socket's routing id, as a ROUTER peer sees it (1 to 255 bytes).", valueName: "id"))
    var identity: String?

    @Flag(name: .shortAndLong, help: "Print nothing on standard error but errors (no endpoint lines).")
    var quiet = false

    @Flag(help: "Print messages and bytes per second, and totals, on standard error once a second.")
    var stats = false

    // The keys and credentials may begin with '-' (Z85 has it in its alphabet: one key in 85 begins
    // with it), and so may a password: `SocketOptions.attachingValues(_:)` joins each of these options
    // with the argument after it before the command line is parsed.
    @Option(help: ArgumentHelp("The CURVE server's public key in Z85 (a CURVE client's side).", valueName: "key"))
    var curveServerKey: String?

    @Option(help: ArgumentHelp("This socket's CURVE secret key in Z85 (a server's, or a client's with --curve-public-key).", valueName: "key"))
    var curveSecretKey: String?

    @Option(help: ArgumentHelp("This socket's CURVE public key in Z85 (a client's; a client without keys gets a fresh pair).", valueName: "key"))
    var curvePublicKey: String?

    @Flag(help: "Act as a CURVE server (with --curve-secret-key).")
    var curveServer = false

    @Option(help: ArgumentHelp("The PLAIN user name: a client's to send, a PLAIN server's to accept.", valueName: "name"))
    var plainUser: String?

    @Option(help: ArgumentHelp("The PLAIN password: a client's to send, a PLAIN server's to accept.", valueName: "password"))
    var plainPassword: String?

    @Flag(help: "Act as a PLAIN server, accepting the --plain-user and --plain-password given.")
    var plainServer = false

    mutating func validate() throws {
        _ = try security()
        if let identity, identity.utf8.isEmpty || identity.utf8.count > 255 {
            throw ValidationError("--identity must be 1 to 255 bytes")
        }
        if let hwm, hwm < 0 { throw ValidationError("--hwm must be 0 or more, not \(hwm)") }
    }

    /// The security the options ask for, checked: keys are Z85 of 32 bytes, servers have what they need.
    func security() throws -> Security {
        func key(_ text: String?, _ option: String) throws -> [UInt8]? {
            guard let text else { return nil }
            guard let bytes = try? Z85.decode(text), bytes.count == 32 else {
                throw ValidationError("\(option) must be a 40-character Z85 CURVE key (as `zmq keygen` prints)")
            }
            return bytes
        }
        let serverKey = try key(curveServerKey, "--curve-server-key")
        let secretKey = try key(curveSecretKey, "--curve-secret-key")
        let publicKey = try key(curvePublicKey, "--curve-public-key")
        let usesPlain = plainServer || plainUser != nil || plainPassword != nil
        let usesCurve = curveServer || serverKey != nil || secretKey != nil || publicKey != nil
        if usesPlain && usesCurve { throw ValidationError("PLAIN and CURVE options exclude each other") }
        if curveServer {
            guard let secretKey else { throw ValidationError("--curve-server needs --curve-secret-key") }
            if serverKey != nil { throw ValidationError("--curve-server-key is a client's option, not a --curve-server's") }
            return .curveServer(secretKey: secretKey)
        }
        if usesCurve {
            guard let serverKey else { throw ValidationError("a CURVE client needs --curve-server-key (or give --curve-server)") }
            switch (publicKey, secretKey) {
            case (nil, nil): return .curveClient(serverKey: serverKey, keys: nil)
            case (let publicKey?, let secretKey?):
                return .curveClient(serverKey: serverKey, keys: (publicKey, secretKey))
            default: throw ValidationError("--curve-public-key and --curve-secret-key go together")
            }
        }
        if usesPlain {
            guard let plainUser, let plainPassword else {
                throw ValidationError("PLAIN needs both --plain-user and --plain-password")
            }
            return plainServer ? .plainServer(user: plainUser, password: plainPassword)
                : .plainClient(user: plainUser, password: plainPassword)
        }
        return .none
    }
}

/// The security mechanism of a socket command.
enum Security: Sendable {
    case none
    case curveServer(secretKey: [UInt8])
    case curveClient(serverKey: [UInt8], keys: (public: [UInt8], secret: [UInt8])?)
    case plainServer(user: String, password: String)
    case plainClient(user: String, password: String)
}

/// The checked values of ``SocketOptions``, passed to the tasks that run a command.
struct SocketSettings: Sendable {
    var linger: Duration?
    var highWaterMark: Int32?
    var identity: [UInt8]?
    var quiet: Bool
    var stats: Bool
    var security: Security

    /// - Parameter defaultLinger: The linger without `--linger` (`nil`: forever).
    init(_ options: SocketOptions, defaultLinger: Duration? = nil) throws {
        linger = options.linger.map(\.duration) ?? defaultLinger
        highWaterMark = options.hwm
        identity = options.identity.map { Array($0.utf8) }
        quiet = options.quiet
        stats = options.stats
        security = try options.security()
    }

    /// Applies the settings to `socket`, before it binds or connects (libzmq reads most options then).
    func apply(to socket: Socket) async throws {
        try await socket.set(.linger, linger)
        if let highWaterMark {
            try await socket.set(.sendHighWaterMark, highWaterMark).set(.receiveHighWaterMark, highWaterMark)
        }
        if let identity { try await socket.set(.routingID, identity) }
        switch security {
        case .none: break
        case .curveServer(let secretKey):
            try await socket.set(.curveServer, true).set(.curveSecretKey, secretKey)
        case .curveClient(let serverKey, let keys):
            let keys = try keys ?? {
                let pair = try CurveKeyPair()
                return (pair.publicKey, pair.secretKey)
            }()
            try await socket.set(.curveServerKey, serverKey).set(.curvePublicKey, keys.public).set(.curveSecretKey, keys.secret)
        case .plainServer:
            try await socket.set(.plainServer, true)
        case .plainClient(let user, let password):
            try await socket.set(.plainUsername, user).set(.plainPassword, password)
        }
    }

    /// The ZAP handler a PLAIN server needs to check passwords (without one libzmq accepts any).
    func authenticator(context: Context) async throws -> Authenticator? {
        guard case .plainServer(let user, let password) = security else { return nil }
        let authenticator = try await Authenticator(context: context)
        authenticator.setPasswords([user: password])
        return authenticator
    }
}
