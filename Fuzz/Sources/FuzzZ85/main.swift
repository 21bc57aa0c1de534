// Z85 decoding (ZMQ.Z85): text a configuration file or a peer hands over.
//
// Invariants, for any input:
// - decoding never crashes, and succeeds exactly for text of Z85's alphabet whose length is a
//   multiple of 5 and whose every 5-character group is at most 2^32 - 1;
// - decoded bytes encode back to the same text (the encoding is a bijection on valid text);
// - the input's bytes, cut to a multiple of 4, encode to text of 5/4 their length that decodes back.
import FuzzDriver
import ZMQ

private let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8)

/// What a correct decoder must return for `text`: the reference, written out from RFC 32.
private func reference(_ text: [UInt8]) -> [UInt8]? {
    guard text.count % 5 == 0 else { return nil }
    var bytes: [UInt8] = []
    for group in stride(from: 0, to: text.count, by: 5) {
        var value: UInt64 = 0
        for character in text[group..<group + 5] {
            guard let digit = alphabet.firstIndex(of: character) else { return nil }
            value = value * 85 + UInt64(digit)
        }
        guard value <= UInt64(UInt32.max) else { return nil }
        bytes += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
    return bytes
}

func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))

    // Decoding arbitrary text.
    let text = String(decoding: input, as: UTF8.self)
    let expected = reference(Array(text.utf8))
    let decoded = try? Z85.decode(text)
    guard decoded == expected else {
        fatalError("Z85.decode(\(Array(text.utf8))) = \(String(describing: decoded)), the RFC says \(String(describing: expected))")
    }
    if let decoded {
        guard let again = try? Z85.encode(decoded), again == text else {
            fatalError("Z85 text \(Array(text.utf8)) decodes to \(decoded), which does not encode back to it")
        }
    }

    // Encoding arbitrary bytes.
    let bytes = Array(input.prefix(input.count / 4 * 4))
    guard let encoded = try? Z85.encode(bytes), encoded.utf8.count == bytes.count / 4 * 5,
          (try? Z85.decode(encoded)) == bytes else {
        fatalError("Z85 round trip of \(bytes) failed")
    }
    if input.count % 4 != 0 {
        guard (try? Z85.encode(input)) == nil else { fatalError("Z85.encode accepted \(input.count) bytes") }
    }
    return 0
}

runFuzzer(fuzz)
