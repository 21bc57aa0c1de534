internal import CZMQ
#if canImport(Glibc)
import Glibc
#endif

/// An error reported by libzmq or by this library.
///
/// libzmq errors carry the C error number (`errno`/`zmq_errno()`), and their ``description`` comes
/// from `zmq_strerror`. The library's own errors (a closed socket, a missing DRAFT capability, a call
/// that does not apply to a socket type, a socket owned by a running proxy) carry a readable message.
///
/// Errors compare by kind and code, so they can be matched in a `catch`:
/// ```swift
/// do { try await socket.send("x") }
/// catch ZMQError.socketClosed { ... }
/// catch let error as ZMQError where error == .tryAgain { ... }
/// ```
public struct ZMQError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Kind: Hashable, Sendable {
        /// libzmq (or the operating system) reported the error number ``ZMQError/code``.
        case libzmq
        /// The socket was closed with ``Socket/close()`` (or is being closed).
        case socketClosed
        /// The socket type is a DRAFT type and the linked libzmq has no DRAFT support.
        case draftUnavailable
        /// The call does not apply to this socket type (for example `subscribe` on a PUB).
        case wrongSocketType
        /// The socket is owned by a running proxy and cannot be used through its actor.
        case inUseByProxy
        /// An awaited operation did not complete in time.
        case timedOut
        /// An argument was rejected before reaching libzmq.
        case invalidArgument
    }

    /// The kind of failure.
    public let kind: Kind
    /// The libzmq error number (`zmq_errno()`), or the closest match for the library's own errors.
    public let code: Int32
    /// Extra context: the endpoint, socket type or option the failure is about, if any.
    public let detail: String?

    /// Creates an error from a libzmq error number.
    public init(code: Int32, detail: String? = nil) {
        self.kind = .libzmq
        self.code = code
        self.detail = detail
    }

    init(kind: Kind, code: Int32, detail: String?) {
        self.kind = kind
        self.code = code
        self.detail = detail
    }

    /// The error libzmq reports for the calling thread's last failure (`zmq_errno()`).
    static func last(_ detail: String? = nil) -> ZMQError {
        ZMQError(code: zmq_errno(), detail: detail)
    }

    /// Errors compare by kind and code only; the detail is context for people, not identity.
    public static func == (lhs: ZMQError, rhs: ZMQError) -> Bool {
        lhs.kind == rhs.kind && lhs.code == rhs.code
    }

    /// Hashes the kind and code, as ``==(_:_:)`` compares them.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        hasher.combine(code)
    }

    /// Lets `catch ZMQError.socketClosed` (and any other static member) match by kind and code.
    public static func ~= (pattern: ZMQError, value: any Error) -> Bool {
        (value as? ZMQError) == pattern
    }

    /// A readable message: libzmq's `zmq_strerror` text, or the library's own, with the detail.
    public var description: String {
        let base: String
        switch kind {
        case .libzmq: base = String(cString: zmq_strerror(code))
        case .socketClosed: base = "socket is closed"
        case .draftUnavailable: base = "DRAFT socket types are not supported by the linked libzmq (zmq_has(\"draft\") is false)"
        case .wrongSocketType: base = "operation not supported by this socket type"
        case .inUseByProxy: base = "socket is in use by a proxy"
        case .timedOut: base = "operation timed out"
        case .invalidArgument: base = "invalid argument"
        }
        guard let detail else { return base }
        return "\(detail): \(base)"
    }
}

// MARK: - Common libzmq error numbers

extension ZMQError {
    /// libzmq reported that the operation would block (`EAGAIN`). The library's own calls never
    /// throw this for a wait: they suspend instead, and a timeout throws ``timedOut``.
    public static let tryAgain = ZMQError(code: EAGAIN)
    /// An argument was invalid (`EINVAL`), such as a bad option value.
    public static let invalidValue = ZMQError(code: EINVAL)
    /// The endpoint's transport protocol is not supported (`EPROTONOSUPPORT`).
    public static let protocolNotSupported = ZMQError(code: EPROTONOSUPPORT)
    /// The transport is not compatible with the socket type (`ENOCOMPATPROTO`).
    public static let incompatibleProtocol = ZMQError(code: ZMQ_HAUSNUMERO + 52)
    /// The address is already in use (`EADDRINUSE`).
    public static let addressInUse = ZMQError(code: EADDRINUSE)
    /// The address is not local or cannot be assigned (`EADDRNOTAVAIL`).
    public static let addressNotAvailable = ZMQError(code: EADDRNOTAVAIL)
    /// The endpoint does not exist, for example an unbound endpoint in `unbind` (`ENOENT`).
    public static let noSuchEndpoint = ZMQError(code: ENOENT)
    /// The operation is not valid in the socket's current state, such as REQ sending twice (`EFSM`).
    public static let invalidState = ZMQError(code: ZMQ_HAUSNUMERO + 51)
    /// The context was shut down or terminated (`ETERM`).
    public static let contextTerminated = ZMQError(code: ZMQ_HAUSNUMERO + 53)
    /// The operation is not supported by this socket type (`ENOTSUP`).
    public static let notSupported = ZMQError(code: ENOTSUP)
    /// No I/O thread is available for the operation (`EMTHREAD`).
    public static let noIOThread = ZMQError(code: ZMQ_HAUSNUMERO + 54)
    /// The message cannot be routed to its destination (`EHOSTUNREACH`).
    public static let hostUnreachable = ZMQError(code: EHOSTUNREACH)
    /// The socket is invalid (`ENOTSOCK`).
    public static let notASocket = ZMQError(code: ENOTSOCK)
    /// Too many open sockets or files (`EMFILE`).
    public static let tooManyOpenFiles = ZMQError(code: EMFILE)
    /// The name (for example an ipc path) is too long (`ENAMETOOLONG`).
    public static let nameTooLong = ZMQError(code: ENAMETOOLONG)
    /// The call was interrupted by a signal (`EINTR`); the library retries these itself.
    public static let interrupted = ZMQError(code: EINTR)

    /// The socket was closed; raised by every call on a closed ``Socket``.
    public static let socketClosed = ZMQError(kind: .socketClosed, code: ENOTSOCK, detail: nil)
    /// The socket type is a DRAFT type and libzmq has no DRAFT support.
    public static let draftUnavailable = ZMQError(kind: .draftUnavailable, code: ENOTSUP, detail: nil)
    /// The call does not apply to this socket type.
    public static let wrongSocketType = ZMQError(kind: .wrongSocketType, code: ENOTSUP, detail: nil)
    /// The socket is owned by a running proxy.
    public static let inUseByProxy = ZMQError(kind: .inUseByProxy, code: EBUSY, detail: nil)
    /// An awaited operation did not complete within its timeout.
    public static let timedOut = ZMQError(kind: .timedOut, code: EAGAIN, detail: nil)
    /// An argument was rejected before it reached libzmq.
    public static let invalidArgument = ZMQError(kind: .invalidArgument, code: EINVAL, detail: nil)

    /// Returns this error with `detail` attached (the endpoint, type or option it is about).
    func with(_ detail: String) -> ZMQError {
        ZMQError(kind: kind, code: code, detail: detail)
    }
}
