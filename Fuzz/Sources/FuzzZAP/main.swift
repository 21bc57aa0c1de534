// The ZAP request decision (ZMQ.Authenticator's rules, ZMQ.ZAPPolicy): frames a connecting
// client's handshake fills in.
//
// The input is cut into frames (see `frames(_:)`) and decided under a fixed policy. Invariants,
// for any request:
// - a decision for every request: a reply of six frames, version "1.0", the request id echoed
//   (empty when the request has none), status 200, 400 or 500 with a text, no metadata;
// - 500 exactly for a request that is not ZAP 1.0 with at least six frames;
// - 200 only when the policy allows it: the address is allowed; NULL; PLAIN with a user name and
//   password from the domain's table (its user id the name); CURVE with a 32-byte key allowed in
//   the domain (its user id the key's Z85); and the user id is empty for any other status.
import FuzzDriver
@_spi(Fuzzing) import ZMQ

/// Frames from fuzz bytes: each frame is a length byte, then that many bytes (cut at the end).
func frames(_ input: [UInt8]) -> [[UInt8]] {
    var frames: [[UInt8]] = []
    var index = 0
    while index < input.count {
        let count = Int(input[index])
        index += 1
        let end = min(index + count, input.count)
        frames.append(Array(input[index..<end]))
        index = end
    }
    return frames
}

private let curveKey = [UInt8](repeating: 0x42, count: 32)
private let passwords = ["admin": "secret", "": "empty-user"]

/// The policy under test: a deny list, passwords and CURVE keys for the domain "*" and "any-key"
/// (any CURVE key) for the domain "open".
private let policy: ZAPPolicy = {
    var policy = ZAPPolicy()
    policy.deny(["10.0.0.66"])
    policy.setPasswords(passwords, domain: "*")
    policy.allowCurveClients([curveKey], domain: "*")
    policy.allowAnyCurveClient(domain: "open")
    return policy
}()

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let request = frames(Array(UnsafeBufferPointer(start: data, count: size)))
    let reply = policy.reply(to: request)
    func fail(_ why: String) -> Never { fatalError("request \(request) got reply \(reply): \(why)") }

    guard reply.count == 6, reply[0] == Array("1.0".utf8), reply[5].isEmpty else { fail("not a ZAP reply") }
    guard reply[1] == (request.count > 1 ? request[1] : []) else { fail("request id not echoed") }
    let status = text(reply[2])
    guard ["200", "400", "500"].contains(status), !reply[3].isEmpty else { fail("no decision") }
    let wellFormed = request.count >= 6 && request[0] == Array("1.0".utf8)
    guard (status == "500") == !wellFormed else { fail("500 is for malformed requests only") }
    guard status == "200" else {
        guard reply[4].isEmpty else { fail("a refusal carries a user id") }
        return 0
    }
    let domain = text(request[2])
    let address = text(request[3])
    let mechanism = text(request[5])
    let credentials = Array(request.dropFirst(6))
    guard address != "10.0.0.66" else { fail("a denied address was accepted") }
    switch mechanism {
    case "NULL":
        guard reply[4].isEmpty else { fail("NULL with a user id") }
    case "PLAIN":
        guard credentials.count == 2, let password = passwords[text(credentials[0])],
              Array(password.utf8) == credentials[1] else { fail("PLAIN accepted wrong credentials") }
        guard reply[4] == Array(text(credentials[0]).utf8) else { fail("PLAIN user id is not the user name") }
    case "CURVE":
        guard credentials.count == 1, credentials[0].count == 32,
              domain == "open" || credentials[0] == curveKey else { fail("CURVE accepted an unknown key") }
        guard let z85 = try? Z85.encode(credentials[0]), reply[4] == Array(z85.utf8) else { fail("CURVE user id is not the key's Z85") }
    default:
        fail("mechanism \(mechanism) accepted")
    }
    return 0
}

runFuzzer(fuzz)
