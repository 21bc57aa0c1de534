// Certificate files (ZMQ.CurveCertificate, over the ZPL parser): text a user, pyzmq or czmq wrote,
// read by `CurveCertificate(contentsOfFile:)` and `allowCurveClients(directory:)`.
//
// Invariants, for any input:
// - parsing never crashes; it either returns a certificate or throws a CertificateError that names
//   the file it was given and, when it names a line, a line the text has;
// - a certificate read back is what it was: rendered again (as a secret file when it has the secret
//   key), the text parses to an equal certificate (same keys, same metadata);
// - a secret key always belongs with the public key read beside it.
import FuzzDriver
@_spi(Fuzzing) import ZMQ

func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).count
    let certificate: CurveCertificate
    do {
        certificate = try CurveCertificate.parse(text, file: "fuzz.key")
    } catch {
        guard error.file == "fuzz.key" else { fatalError("a CertificateError names \(error.file), not the file given") }
        if let line = error.line, !(1...lines).contains(line) {
            fatalError("a CertificateError names line \(line) of a text of \(lines) lines: \(error)")
        }
        return 0
    }
    guard certificate.publicKey.count == 32 else { fatalError("a public key of \(certificate.publicKey.count) bytes") }
    if let pair = certificate.keyPair {
        guard (try? CurveKeyPair(secretKey: pair.secretKey).publicKey) == certificate.publicKey else {
            fatalError("a certificate was read whose secret key is not the public key's")
        }
    }
    let secret = certificate.keyPair != nil
    let rendered: String
    do {
        rendered = try certificate.render(banner: ["#   fuzz"], secret: secret, file: "again.key")
    } catch {
        // Metadata that ZPL cannot hold (a line break, both kinds of quote) is refused on writing.
        return 0
    }
    guard let again = try? CurveCertificate.parse(rendered, file: "again.key") else {
        fatalError("the rendered certificate does not parse:\n\(rendered)")
    }
    guard again == certificate else {
        fatalError("a certificate does not survive writing and reading: \(certificate) became \(again)")
    }
    return 0
}

runFuzzer(fuzz)
