/// Decides who may connect to the sockets of a context: a ZAP handler (ZeroMQ RFC 27) with
/// address allow and deny lists, PLAIN user names and passwords, and CURVE client keys.
///
/// libzmq asks the handler bound at `inproc://zeromq.zap.01` in a socket's context about every
/// incoming connection that uses PLAIN or CURVE security, or NULL security with a
/// ``SocketOption/zapDomain`` set; without a handler, every such connection is accepted. An
/// `Authenticator` is that handler: a REP socket answering requests in a task of its own, so
/// authentication costs no thread and nothing while no peer connects.
///
/// ```swift
/// let authenticator = try await Authenticator()
/// authenticator.allow("127.0.0.1")
/// authenticator.setPasswords(["admin": "secret"])
///
/// let server = try await Socket.rep().set(.plainServer, true).bind("tcp://127.0.0.1:5555")
/// let client = try await Socket.req()
///     .set(.plainUsername, "admin").set(.plainPassword, "secret")
///     .connect("tcp://127.0.0.1:5555")
/// ```
///
/// How a request is decided, as pyzmq's `zmq.auth` does:
/// 1. If addresses were allowed with ``allow(_:)``, a peer whose IP address is not among them is
///    refused; otherwise, a peer whose address was given to ``deny(_:)`` is refused.
/// 2. NULL security is then accepted. PLAIN needs a user name and password set with
///    ``setPasswords(_:domain:)``; CURVE needs a client key given to
///    ``allowCurveClients(_:domain:)``, or ``allowAnyCurveClient(domain:)``. Any other mechanism
///    is refused.
///
/// Settings for a ZAP domain (the server socket's ``SocketOption/zapDomain``) apply to that domain;
/// settings for the domain `"*"` (the default) apply to every domain that has none of its own,
/// including the empty one. Changes apply to the connections that arrive after them.
///
/// The user id of an accepted connection is the PLAIN user name or the CURVE client's public key in
/// ``Z85``, and a receiver reads it from ``Message/userID``. A refused peer gets ZAP status 400 and
/// never reaches the socket; the server socket's ``Socket/monitor(_:)`` reports
/// ``SocketEvent/Kind-swift.struct/handshakeFailedAuthentication`` with value 400.
///
/// Only one handler can be bound in a context: a second `Authenticator` (or any socket bound at
/// `inproc://zeromq.zap.01`) in the same context throws ``ZMQError/addressInUse``.
public final class Authenticator: Sendable {
    /// The endpoint libzmq sends authentication requests to, in every context.
    public static let endpoint = "inproc://zeromq.zap.01"

    private let policy: Locked<ZAPPolicy>
    private let loop: Task<Void, Never>

    /// Starts answering authentication requests for the sockets of `context`.
    ///
    /// - Throws: ``ZMQError/addressInUse`` if the context already has a handler, or another libzmq
    ///   error from creating or binding its socket.
    public init(context: Context = .shared) async throws {
        let socket = try Socket.rep(context: context)
        do {
            try await socket.set(.linger, .zero).bind(Self.endpoint)
        } catch {
            await socket.close()
            throw error
        }
        let policy = Locked(ZAPPolicy())
        self.policy = policy
        loop = Task { await Self.serve(socket, policy) }
    }

    /// Stops answering (and closes the handler's socket) when the authenticator is dropped.
    deinit {
        loop.cancel()
    }

    /// Accepts connections only from these IP addresses (`"127.0.0.1"`, `"::1"`), adding them to
    /// those allowed before. Once any address is allowed, ``deny(_:)`` no longer matters.
    public func allow(_ addresses: String...) {
        policy.withLock { $0.allow(addresses) }
    }

    /// Refuses connections from these IP addresses, adding them to those denied before. Ignored
    /// when addresses have been allowed with ``allow(_:)``.
    public func deny(_ addresses: String...) {
        policy.withLock { $0.deny(addresses) }
    }

    /// Accepts PLAIN connections in `domain` whose user name and password are in `passwords`
    /// (user name to password), replacing that domain's earlier passwords.
    ///
    /// Passwords are compared in time that does not depend on where they differ.
    public func setPasswords(_ passwords: [String: String], domain: String = "*") {
        policy.withLock { $0.setPasswords(passwords, domain: domain) }
    }

    /// Accepts CURVE connections in `domain` from clients with these public keys (32 bytes each, as
    /// in ``CurveKeyPair/publicKey``), adding them to those allowed before.
    public func allowCurveClients(_ publicKeys: [[UInt8]], domain: String = "*") {
        policy.withLock { $0.allowCurveClients(publicKeys, domain: domain) }
    }

    /// Accepts every CURVE client in `domain`: the connection is still encrypted, and the client
    /// must know the server's public key, but any client key will do (pyzmq's `CURVE_ALLOW_ANY`).
    public func allowAnyCurveClient(domain: String = "*") {
        policy.withLock { $0.allowAnyCurveClient(domain: domain) }
    }

    /// Stops answering and closes the handler's socket. Connections that arrive afterwards are no
    /// longer checked by this authenticator. Calling it again returns at once.
    public func stop() async {
        loop.cancel()
        await loop.value
    }

    private static func serve(_ socket: Socket, _ policy: Locked<ZAPPolicy>) async {
        do {
            while true {
                let request = try await socket.recvMultipart()
                let reply = policy.withLock { $0.reply(to: request) }
                try await socket.sendMultipart(reply)
            }
        } catch {
            // Cancelled by stop() or deinit, or the context was shut down.
        }
        await socket.close()
    }
}

/// What an ``Authenticator`` accepts, and how it answers one ZAP request.
///
/// SPI for the fuzz targets (`Fuzz/`, `@_spi(Fuzzing) import ZMQ`), which feed ``reply(to:)``
/// requests no handshake would make; not part of the library's API.
@_spi(Fuzzing)
public struct ZAPPolicy: Sendable {
    enum CurveClients: Sendable, Equatable {
        case any
        case keys(Set<[UInt8]>)
    }

    var allowed: Set<String> = []
    var denied: Set<String> = []
    var passwords: [String: [String: String]] = [:]
    var curve: [String: CurveClients] = [:]

    /// A policy that allows nothing but NULL security from any address, as a new ``Authenticator``.
    public init() {}

    /// As ``Authenticator/allow(_:)``.
    public mutating func allow(_ addresses: [String]) { allowed.formUnion(addresses) }

    /// As ``Authenticator/deny(_:)``.
    public mutating func deny(_ addresses: [String]) { denied.formUnion(addresses) }

    /// As ``Authenticator/setPasswords(_:domain:)``.
    public mutating func setPasswords(_ passwords: [String: String], domain: String) { self.passwords[domain] = passwords }

    /// As ``Authenticator/allowCurveClients(_:domain:)``.
    public mutating func allowCurveClients(_ publicKeys: [[UInt8]], domain: String) {
        if case .keys(let known) = curve[domain] {
            curve[domain] = .keys(known.union(publicKeys))
        } else if curve[domain] == nil {
            curve[domain] = .keys(Set(publicKeys))
        }
    }

    /// As ``Authenticator/allowAnyCurveClient(domain:)``.
    public mutating func allowAnyCurveClient(domain: String) { curve[domain] = .any }

    /// The decision on a ZAP request, as a ZAP reply.
    ///
    /// Request frames: version, request id, domain, address, routing id, mechanism, credentials.
    /// Reply frames: version, request id, status code, status text, user id, metadata.
    public func reply(to request: [[UInt8]]) -> [[UInt8]] {
        let requestID = request.count > 1 ? request[1] : []
        let (status, text, userID) = decide(request)
        return [Array("1.0".utf8), requestID, Array(status.utf8), Array(text.utf8), Array(userID.utf8), []]
    }

    private func decide(_ request: [[UInt8]]) -> (status: String, text: String, userID: String) {
        let refused = { (reason: String) in ("400", reason, "") }
        guard request.count >= 6 else { return ("500", "ZAP request has \(request.count) frames, not 6 or more", "") }
        guard request[0] == Array("1.0".utf8) else { return ("500", "ZAP version is not 1.0", "") }
        let domain = String(decoding: request[2], as: UTF8.self)
        let address = String(decoding: request[3], as: UTF8.self)
        let mechanism = String(decoding: request[5], as: UTF8.self)
        let credentials = request.dropFirst(6)

        if !allowed.isEmpty {
            guard allowed.contains(address) else { return refused("Address not allowed") }
        } else if denied.contains(address) {
            return refused("Address denied")
        }

        switch mechanism {
        case "NULL":
            return ("200", "OK", "")
        case "PLAIN":
            guard credentials.count == 2 else { return refused("PLAIN needs a user name and a password") }
            guard let users = passwords[domain] ?? passwords["*"] else { return refused("No passwords for this domain") }
            let user = String(decoding: credentials.first!, as: UTF8.self)
            let given = credentials.last!
            // The same work whether or not the user exists, so timing reveals neither.
            let expected = users[user].map { Array($0.utf8) }
            guard Self.constantTimeEqual(expected ?? given, given), expected != nil else {
                return refused("Invalid user name or password")
            }
            return ("200", "OK", user)
        case "CURVE":
            guard credentials.count == 1, let key = credentials.first, key.count == 32 else {
                return refused("CURVE needs the client's 32-byte public key")
            }
            switch curve[domain] ?? curve["*"] {
            case .any:
                break
            case .keys(let keys):
                guard keys.contains(key) else { return refused("Unknown CURVE key") }
            case nil:
                return refused("No CURVE clients for this domain")
            }
            return ("200", "OK", (try? Z85.encode(key)) ?? "")
        default:
            return refused("Mechanism \(mechanism) is not supported by this authenticator")
        }
    }

    /// Whether `a` and `b` are equal, comparing every byte of `b` whatever the first difference.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in b.indices {
            difference |= (index < a.count ? a[index] : 0) ^ b[index]
        }
        return difference == 0 && a.count == b.count
    }
}
