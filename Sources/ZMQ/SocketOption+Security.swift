internal import CZMQ

/// How a GSSAPI principal name is interpreted.
public enum GSSAPINameType: Int32, Sendable, CaseIterable {
    /// A host-based service name (`ZMQ_GSSAPI_NT_HOSTBASED`).
    case hostBased = 0
    /// A local user name (`ZMQ_GSSAPI_NT_USER_NAME`).
    case userName = 1
    /// An unparsed Kerberos principal name (`ZMQ_GSSAPI_NT_KRB5_PRINCIPAL`).
    case kerberosPrincipal = 2
}

extension SocketOption where Value == Bool {
    /// Act as the PLAIN server (checking credentials through ZAP); `false` resets to no security.
    /// The corresponding C option is `ZMQ_PLAIN_SERVER`.
    public static var plainServer: SocketOption { .init(ZMQ_PLAIN_SERVER, "ZMQ_PLAIN_SERVER", "plainServer", .bool) }
    /// Act as the CURVE server (set ``curveSecretKey`` too); `false` resets to no security.
    /// The corresponding C option is `ZMQ_CURVE_SERVER`.
    public static var curveServer: SocketOption { .init(ZMQ_CURVE_SERVER, "ZMQ_CURVE_SERVER", "curveServer", .bool) }
    /// Act as the GSSAPI server. The corresponding C option is `ZMQ_GSSAPI_SERVER`.
    public static var gssapiServer: SocketOption { .init(ZMQ_GSSAPI_SERVER, "ZMQ_GSSAPI_SERVER", "gssapiServer", .bool) }
    /// Send GSSAPI traffic unencrypted. The corresponding C option is `ZMQ_GSSAPI_PLAINTEXT`.
    public static var gssapiPlaintext: SocketOption { .init(ZMQ_GSSAPI_PLAINTEXT, "ZMQ_GSSAPI_PLAINTEXT", "gssapiPlaintext", .bool) }
}

extension SocketOption where Value == String {
    /// The PLAIN user name for outgoing connections; setting one selects PLAIN, `""` goes back to no
    /// security. The corresponding C option is `ZMQ_PLAIN_USERNAME`.
    public static var plainUsername: SocketOption { .init(ZMQ_PLAIN_USERNAME, "ZMQ_PLAIN_USERNAME", "plainUsername", .string()) }
    /// The PLAIN password for outgoing connections; kept out of error messages.
    /// The corresponding C option is `ZMQ_PLAIN_PASSWORD`.
    public static var plainPassword: SocketOption {
        .init(ZMQ_PLAIN_PASSWORD, "ZMQ_PLAIN_PASSWORD", "plainPassword", .string(secret: true))
    }
    /// The ZAP authentication domain; `""` (the default) means no ZAP for NULL security.
    /// The corresponding C option is `ZMQ_ZAP_DOMAIN`.
    public static var zapDomain: SocketOption { .init(ZMQ_ZAP_DOMAIN, "ZMQ_ZAP_DOMAIN", "zapDomain", .string()) }
    /// The name of the GSSAPI principal whose credentials are used.
    /// The corresponding C option is `ZMQ_GSSAPI_PRINCIPAL`.
    public static var gssapiPrincipal: SocketOption { .init(ZMQ_GSSAPI_PRINCIPAL, "ZMQ_GSSAPI_PRINCIPAL", "gssapiPrincipal", .string()) }
    /// The name of the GSSAPI server principal a client connects to.
    /// The corresponding C option is `ZMQ_GSSAPI_SERVICE_PRINCIPAL`.
    public static var gssapiServicePrincipal: SocketOption {
        .init(ZMQ_GSSAPI_SERVICE_PRINCIPAL, "ZMQ_GSSAPI_SERVICE_PRINCIPAL", "gssapiServicePrincipal", .string())
    }
}

extension SocketOption where Value == [UInt8] {
    /// The socket's long-term CURVE public key: 32 bytes (a client must set it).
    /// The corresponding C option is `ZMQ_CURVE_PUBLICKEY`.
    public static var curvePublicKey: SocketOption {
        .init(ZMQ_CURVE_PUBLICKEY, "ZMQ_CURVE_PUBLICKEY", "curvePublicKey", .bytes(capacity: 32))
    }
    /// The socket's long-term CURVE secret key: 32 bytes; kept out of error messages.
    /// The corresponding C option is `ZMQ_CURVE_SECRETKEY`.
    public static var curveSecretKey: SocketOption {
        .init(ZMQ_CURVE_SECRETKEY, "ZMQ_CURVE_SECRETKEY", "curveSecretKey", .bytes(capacity: 32, secret: true))
    }
    /// The server's CURVE public key, 32 bytes, which a client must know.
    /// The corresponding C option is `ZMQ_CURVE_SERVERKEY`.
    public static var curveServerKey: SocketOption {
        .init(ZMQ_CURVE_SERVERKEY, "ZMQ_CURVE_SERVERKEY", "curveServerKey", .bytes(capacity: 32))
    }
}

extension SocketOption where Value == GSSAPINameType {
    /// How ``gssapiPrincipal`` is interpreted. The corresponding C option is `ZMQ_GSSAPI_PRINCIPAL_NAMETYPE`.
    public static var gssapiPrincipalNameType: SocketOption {
        .init(ZMQ_GSSAPI_PRINCIPAL_NAMETYPE, "ZMQ_GSSAPI_PRINCIPAL_NAMETYPE", "gssapiPrincipalNameType", .enumeration)
    }
    /// How ``gssapiServicePrincipal`` is interpreted.
    /// The corresponding C option is `ZMQ_GSSAPI_SERVICE_PRINCIPAL_NAMETYPE`.
    public static var gssapiServicePrincipalNameType: SocketOption {
        .init(ZMQ_GSSAPI_SERVICE_PRINCIPAL_NAMETYPE, "ZMQ_GSSAPI_SERVICE_PRINCIPAL_NAMETYPE", "gssapiServicePrincipalNameType",
              .enumeration)
    }
}

