internal import CZMQ

/// Facts about the libzmq this program is linked against.
public enum ZMQLibrary {
    /// A libzmq version, as `zmq_version` reports it.
    public struct Version: Comparable, Sendable, CustomStringConvertible {
        /// The major version.
        public let major: Int
        /// The minor version.
        public let minor: Int
        /// The patch level.
        public let patch: Int

        /// Creates a version from its three components.
        public init(major: Int, minor: Int, patch: Int) {
            self.major = major
            self.minor = minor
            self.patch = patch
        }

        /// Orders versions by major, then minor, then patch number.
        public static func < (lhs: Version, rhs: Version) -> Bool {
            (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
        }

        /// The version as `major.minor.patch`.
        public var description: String { "\(major).\(minor).\(patch)" }
    }

    /// An optional libzmq capability, queried with ``ZMQLibrary/has(_:)``.
    public enum Capability: String, CaseIterable, Sendable {
        /// The `ipc://` transport.
        case ipc
        /// The `pgm://` transport.
        case pgm
        /// The `tipc://` transport.
        case tipc
        /// The `norm://` transport.
        case norm
        /// The CURVE security mechanism.
        case curve
        /// The GSSAPI security mechanism.
        case gssapi
        /// The DRAFT API (DRAFT socket types such as SERVER, CLIENT, RADIO and DISH).
        case draft
    }

    /// The linked libzmq's version. The corresponding C function is `zmq_version`.
    public static let version: Version = {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return Version(major: Int(major), minor: Int(minor), patch: Int(patch))
    }()

    /// Whether the linked libzmq supports `capability`. The corresponding C function is `zmq_has`.
    public static func has(_ capability: Capability) -> Bool {
        zmq_has(capability.rawValue) != 0
    }
}
