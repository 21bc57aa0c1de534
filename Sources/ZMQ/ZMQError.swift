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
/// Every error the library throws says what failed: the ``operation`` (with its endpoint, option
/// or value), the ``socketType`` it was called on, any ``detail``, then libzmq's text:
/// ```
/// send on REQ socket: Operation cannot be accomplished in current state
/// bind tcp://127.0.0.1:5555 on REP socket: Address already in use
/// set ZMQ_SNDTIMEO (sendTimeout) = -1 ms on PUSH socket (must not be negative): invalid argument
/// ```
/// Bytes that are not printable (a NUL, a newline, other control characters) are escaped in the
/// description, so a hostile endpoint or value cannot forge log lines. See <doc:Errors>.
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
    /// What failed, such as `send`, `receive`, `bind tcp://127.0.0.1:5555` or
    /// `set ZMQ_LINGER (linger) = 5 ms`; `nil` for an error made with ``init(code:detail:)``.
    public let operation: String?
    /// The type of the socket the failed ``operation`` was called on; `nil` for a failure that is
    /// not about one socket (``Z85``, ``CurveKeyPair``, a ``Context``).
    public let socketType: SocketType?
    /// Extra context beyond the operation: why an argument was refused, how long a wait lasted.
    public let detail: String?

    /// Creates an error from a libzmq error number.
    public init(code: Int32, detail: String? = nil) {
        self.init(kind: .libzmq, code: code, detail: detail)
    }

    init(kind: Kind, code: Int32, operation: String? = nil, socketType: SocketType? = nil, detail: String?) {
        self.kind = kind
        self.code = code
        self.operation = operation
        self.socketType = socketType
        self.detail = detail
    }

    /// The error libzmq reports for the calling thread's last failure (`zmq_errno()`), from `operation`.
    static func last(_ operation: String? = nil) -> ZMQError {
        ZMQError(kind: .libzmq, code: zmq_errno(), operation: operation, detail: nil)
    }

    /// Errors compare by kind and code only; the context is for people, not identity.
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

    /// The message without context: libzmq's `zmq_strerror` text, or the library's own.
    public var reason: String {
        switch kind {
        case .libzmq: return String(cString: zmq_strerror(code))
        case .socketClosed: return "socket is closed"
        case .draftUnavailable: return "DRAFT socket types are not supported by the linked libzmq (zmq_has(\"draft\") is false)"
        case .wrongSocketType: return "operation not supported by this socket type"
        case .inUseByProxy: return "socket is in use by a proxy"
        case .timedOut: return "operation timed out"
        case .invalidArgument: return "invalid argument"
        }
    }

    /// What failed, then the ``reason``: `OPERATION on TYPE socket (DETAIL): REASON`, each part
    /// present when known; characters that are not printable
    /// escaped: `\0`, `\t`, `\n`, `\r`, `\\` (a backslash) and `\u{…}` for the rest.
    public var description: String {
        var context = operation.map(Self.escaped) ?? ""
        if let socketType {
            context += context.isEmpty ? "\(socketType) socket" : " on \(socketType) socket"
        }
        if let detail {
            context += context.isEmpty ? Self.escaped(detail) : " (\(Self.escaped(detail)))"
        }
        return context.isEmpty ? reason : "\(context): \(reason)"
    }

    /// `text` with every character that is not printable written as an escape, so that it is safe
    /// in a log line and unambiguous: `\0`, `\t`, `\n`, `\r`, `\\` (a backslash), and `\u{…}` for
    /// other control and format characters, line and paragraph separators, surrogates, private-use
    /// and unassigned code points.
    static func escaped(_ text: String) -> String {
        // The common case, printable ASCII, costs one scan and no copy.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") }) { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\0": result += "\\0"
            case "\t": result += "\\t"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\\": result += "\\\\"
            default:
                switch scalar.properties.generalCategory {
                case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
                    result += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
                default:
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
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

    /// Returns this error with `detail` attached (why an argument was refused, and the like).
    func with(_ detail: String) -> ZMQError {
        ZMQError(kind: kind, code: code, operation: operation, socketType: socketType, detail: detail)
    }

    /// Returns this error as the failure of `operation`, unless it already names one.
    func during(_ operation: @autoclosure () -> String) -> ZMQError {
        guard self.operation == nil else { return self }
        return ZMQError(kind: kind, code: code, operation: operation(), socketType: socketType, detail: detail)
    }

    /// Returns this error as the failure of `operation` on a socket of `type`, filling in what it
    /// does not name yet (what it names is kept: the innermost context is the more precise).
    /// Called only where an error is thrown, so that the success path builds no text.
    func on(_ type: SocketType, _ operation: @autoclosure () -> String) -> ZMQError {
        if socketType != nil && self.operation != nil { return self }
        return ZMQError(kind: kind, code: code, operation: self.operation ?? operation(), socketType: socketType ?? type, detail: detail)
    }

    /// `error` with the context of `operation` on a socket of `type` when it is a ``ZMQError``;
    /// any other error unchanged.
    static func adding(_ type: SocketType, _ operation: @autoclosure () -> String, to error: any Error) -> any Error {
        guard let error = error as? ZMQError else { return error }
        return error.on(type, operation())
    }
}
