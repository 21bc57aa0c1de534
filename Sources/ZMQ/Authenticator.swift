import Logging

/// Decides who may connect to the sockets of a context: a ZAP handler (ZeroMQ RFC 27) with
/// address allow and deny lists, PLAIN user names and passwords, and CURVE client keys (given as
/// bytes or as a directory of certificate files).
///
/// libzmq asks the handler bound at `inproc://zeromq.zap.01` in a socket's context about every
/// incoming connection that uses PLAIN or CURVE security, or NULL security with a
/// ``SocketOption/zapDomain`` set. Without a handler, libzmq 4.3 accepts every CURVE client that
/// knows the server's public key and every such NULL connection (PLAIN is refused).
///
/// So authentication here fails closed: the first `Authenticator` started on a context binds a
/// handler that belongs to the context and stays for its whole life. While an authenticator is
/// running, it decides; once it is stopped (``stop()``, the end of ``run(context:logger:isolation:_:)``)
/// or dropped, every such connection on that context is refused with ZAP status 400 ("No
/// authenticator is running") until another authenticator starts. Contexts on which no
/// authenticator ever started behave as libzmq does.
///
/// The structured form runs one for the length of a body:
/// ```swift
/// try await Authenticator.run { authenticator in
///     authenticator.allow("127.0.0.1")
///     authenticator.setPasswords(["admin": "secret"])
///     let server = try await Socket.rep().set(.plainServer, true).bind("tcp://127.0.0.1:5555")
///     ...   // serve; when the body returns or throws, connections are refused again
/// }
/// ```
/// or, in a task group next to the services it protects (as a swift-service-lifecycle `Service`
/// runs), ``run()`` until the task is cancelled:
/// ```swift
/// let authenticator = try await Authenticator()
/// authenticator.allowCurveClients(directory: "/etc/myapp/clients")
/// try await withThrowingTaskGroup(of: Void.self) { group in
///     group.addTask { await authenticator.run() }
///     group.addTask { try await serve() }
///     ...
/// }
/// ```
///
/// How a request is decided, as pyzmq's `zmq.auth` does:
/// 1. If addresses were allowed with ``allow(_:)``, a peer whose IP address is not among them is
///    refused; otherwise, a peer whose address was given to ``deny(_:)`` is refused.
/// 2. NULL security is then accepted. PLAIN needs a user name and password set with
///    ``setPasswords(_:domain:)``; CURVE needs a client key given to
///    ``allowCurveClients(_:domain:)`` or found in a directory given to
///    ``allowCurveClients(directory:domain:)``, or ``allowAnyCurveClient(domain:)``. Any other
///    mechanism is refused.
///
/// Settings for a ZAP domain (the server socket's ``SocketOption/zapDomain``) apply to that domain;
/// settings for the domain `"*"` (the default) apply to every domain that has none of its own,
/// including the empty one. Changes apply to the connections that arrive after them.
///
/// The user id of an accepted connection is the PLAIN user name or the CURVE client's public key in
/// ``Z85``, and a receiver reads it from ``Message/userID``. A refused peer gets ZAP status 400 and
/// never reaches the socket; the server socket's ``Socket/monitor(_:)`` reports
/// ``SocketEvent/Kind-swift.struct/handshakeFailedAuthentication`` with value 400. Every decision is
/// logged at `info` level to the authenticator's logger (see ``Context/logger``): who (address,
/// user name or client key), mechanism, domain, and allowed or refused and why.
///
/// Requests are answered by a thread of the context's own (blocked in `zmq_msg_recv`, never one of
/// Swift's concurrency threads) from the first authenticator until the context is terminated.
/// Only one authenticator runs on a context at a time: starting a second one while the first runs
/// throws ``ZMQError/addressInUse``, as does starting one where another ZAP handler (any socket
/// bound at `inproc://zeromq.zap.01`) was bound first.
public final class Authenticator: Sendable {
    /// The endpoint libzmq sends authentication requests to, in every context.
    public static let endpoint = "inproc://zeromq.zap.01"

    /// The context whose connections this authenticator decides on.
    public let context: Context
    private let policy: Locked<ZAPPolicy>
    private let runState = Locked(RunState())

    private struct RunState {
        var stopped = false
        /// Callers of ``run()`` waiting for the stop.
        var runners: [UnsafeContinuation<Void, Never>] = []
    }

    /// Starts deciding on the connections to the sockets of `context`.
    ///
    /// - Parameters:
    ///   - context: The context whose connections are checked.
    ///   - logger: Where decisions are logged (at `info`); the context's ``Context/logger`` by default.
    /// - Throws: ``ZMQError/addressInUse`` if another authenticator is running on the context, or a
    ///   ZAP handler that is not an authenticator was bound there first;
    ///   ``ZMQError/contextTerminated`` after ``Context/shutdown()``; another libzmq error from
    ///   creating or binding the handler's socket (the first time only).
    public init(context: Context = .shared, logger: Logger? = nil) async throws {
        let policy = Locked(ZAPPolicy())
        self.context = context
        self.policy = policy
        let logger = logger ?? context.logger
        try context.zapGate.attach(
            ZAPGate.Attachment(owner: ObjectIdentifier(self), policy: policy, logger: logger),
            context: context.handle)
        context.hasStarted.store(true, ordering: .relaxed)
        logger.debug("Authenticator started", metadata: ["zmq.endpoint": "\(Self.endpoint)"])
    }

    /// Runs an authenticator on `context` for the length of `body`, and stops it when `body` returns
    /// or throws (connections are refused from then on, until another authenticator starts).
    ///
    /// - Parameters:
    ///   - context: The context whose connections are checked.
    ///   - logger: Where decisions are logged; the context's ``Context/logger`` by default.
    ///   - isolation: The actor `body` runs on; the caller's by default.
    ///   - body: Configures the authenticator and does the work it protects.
    /// - Returns: What `body` returns.
    /// - Throws: What ``init(context:logger:)`` throws, or what `body` throws.
    public static func run<Result>(
        context: Context = .shared,
        logger: Logger? = nil,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (Authenticator) async throws -> Result
    ) async throws -> Result {
        let authenticator = try await Authenticator(context: context, logger: logger)
        do {
            let result = try await body(authenticator)
            await authenticator.stop()
            return result
        } catch {
            await authenticator.stop()
            throw error
        }
    }

    /// Stops deciding when the authenticator is dropped: connections are refused from then on.
    deinit {
        context.zapGate.detach(ObjectIdentifier(self))
    }

    /// Whether the authenticator decides now: `true` from its start until ``stop()``.
    public var isRunning: Bool { !runState.withLock { $0.stopped } }

    /// Keeps deciding until the calling task is cancelled or ``stop()`` is called, then stops (if it
    /// was not stopped already) and returns: the `run()` of a service in a task group.
    ///
    /// The authenticator decides from its start, not only while `run()` is awaited; `run()` ties its
    /// end to a task. Several callers may await it; all return at the stop.
    public func run() async {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                let stopped = runState.withLock { state -> Bool in
                    if !state.stopped { state.runners.append(continuation) }
                    return state.stopped
                }
                if stopped { continuation.resume() }
            }
        } onCancel: {
            stopNow()
        }
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

    /// Accepts CURVE connections in `domain` from every client whose public certificate (a file
    /// named `*.key`, as ``CurveCertificate/write(name:directory:)``, pyzmq's
    /// `zmq.auth.create_certificates` and czmq's `zcert_save_public` write them) is in `directory`,
    /// as pyzmq's `Authenticator.configure_curve(domain, location)` does.
    ///
    /// The directory is read now; files added or removed later count after
    /// ``reloadCurveClientDirectories()``. Giving the same directory again for a domain reads it again.
    /// Keys given to ``allowCurveClients(_:domain:)`` stay allowed alongside.
    /// - Throws: ``CertificateError`` for a directory that cannot be read or a certificate that is
    ///   malformed (naming the file and line); the authenticator is then left as it was.
    public func allowCurveClients(directory: String, domain: String = "*") throws {
        let keys = try CurveCertificate.publicKeys(inDirectory: directory)
        policy.withLock { policy in
            var directories = policy.curveDirectories[domain] ?? [:]
            directories[directory] = keys
            policy.curveDirectories[domain] = directories
        }
    }

    /// Reads every directory given to ``allowCurveClients(directory:domain:)`` again, so that
    /// certificates added since are allowed and those removed no longer are.
    ///
    /// - Throws: ``CertificateError`` as ``allowCurveClients(directory:domain:)`` does; the
    ///   directories are then all left as they were.
    public func reloadCurveClientDirectories() throws {
        let directories = policy.withLock { $0.curveDirectories }
        var reloaded: [String: [String: Set<[UInt8]>]] = [:]
        for (domain, paths) in directories {
            for path in paths.keys {
                reloaded[domain, default: [:]][path] = try CurveCertificate.publicKeys(inDirectory: path)
            }
        }
        policy.withLock { policy in
            for (domain, paths) in reloaded {
                for (path, keys) in paths where policy.curveDirectories[domain]?[path] != nil {
                    policy.curveDirectories[domain]?[path] = keys
                }
            }
        }
    }

    /// Stops deciding: from now on, connections that need authentication on this context are
    /// refused until another authenticator starts. Callers of ``run()`` return. Calling it again
    /// returns at once.
    public func stop() async {
        stopNow()
    }

    private func stopNow() {
        let runners = runState.withLock { state -> [UnsafeContinuation<Void, Never>] in
            guard !state.stopped else { return [] }
            state.stopped = true
            defer { state.runners.removeAll() }
            return state.runners
        }
        if context.zapGate.detach(ObjectIdentifier(self)) {
            context.logger.debug("Authenticator stopped: connections needing authentication are refused until another starts")
        }
        runners.forEach { $0.resume() }
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
    /// Per domain, the keys read from each certificate directory (path to keys).
    var curveDirectories: [String: [String: Set<[UInt8]>]] = [:]

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
        decide(request).reply
    }

    /// The decision on a ZAP request.
    func decide(_ request: [[UInt8]]) -> ZAPDecision {
        let (status, text, userID) = verdict(request)
        return ZAPDecision(request: request, status: status, text: text, userID: userID)
    }

    private func verdict(_ request: [[UInt8]]) -> (status: String, text: String, userID: String) {
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
            // A domain with settings of its own uses those; others use the "*" domain's.
            let own = curve[domain] != nil || curveDirectories[domain] != nil
            let settingsDomain = own ? domain : "*"
            let explicit = curve[settingsDomain]
            let directories = curveDirectories[settingsDomain]
            if explicit == nil && directories == nil { return refused("No CURVE clients for this domain") }
            let known: Bool
            switch explicit {
            case .any: known = true
            case .keys(let keys): known = keys.contains(key)
            case nil: known = false
            }
            guard known || (directories?.values.contains { $0.contains(key) } ?? false) else {
                return refused("Unknown CURVE key")
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

/// One ZAP decision: the request's particulars, the answer, and how it is logged.
struct ZAPDecision: Sendable {
    let requestID: [UInt8]
    let domain: String
    let address: String
    let mechanism: String
    /// Who asked: the PLAIN user name or the CURVE client key in Z85 (empty for NULL).
    let identity: String
    let status: String
    let text: String
    let userID: String

    init(request: [[UInt8]], status: String, text: String, userID: String) {
        func field(_ index: Int) -> String {
            index < request.count ? String(decoding: request[index], as: UTF8.self) : ""
        }
        requestID = request.count > 1 ? request[1] : []
        domain = field(2)
        address = field(3)
        mechanism = field(5)
        switch mechanism {
        case "PLAIN": identity = field(6)
        case "CURVE" where request.count > 6 && request[6].count == 32: identity = (try? Z85.encode(request[6])) ?? ""
        default: identity = ""
        }
        self.status = status
        self.text = text
        self.userID = userID
    }

    var allowed: Bool { status == "200" }

    /// Reply frames: version, request id, status code, status text, user id, metadata.
    var reply: [[UInt8]] {
        [Array("1.0".utf8), requestID, Array(status.utf8), Array(text.utf8), Array(userID.utf8), []]
    }

    /// Logs the decision at `info`: who, mechanism, domain, allowed or refused and why.
    func log(to logger: Logger, authenticatorRunning: Bool) {
        logger.info(
            "ZAP \(allowed ? "allowed" : "refused") \(mechanism) connection from \(address)\(identity.isEmpty ? "" : " (\(identity))"): \(text)",
            metadata: [
                "zap.address": "\(address)",
                "zap.mechanism": "\(mechanism)",
                "zap.domain": "\(domain)",
                "zap.identity": "\(identity)",
                "zap.status": "\(status)",
                "zap.reason": "\(text)",
                "zap.authenticator": "\(authenticatorRunning ? "running" : "none")",
            ])
    }
}
