import Foundation

/// Turns messages (lists of frames) into lines of text and back, in a ``MessageFormat``.
struct MessageCodec: Sendable {
    var format: MessageFormat
    /// Written between frames (text and hex), and where input lines are split into frames.
    var separator: [UInt8]
    /// Whether input lines are split into frames at the separator (`--frames`); json lines always
    /// give their frames.
    var splitsInput: Bool
    /// Whether the first frame is a routing id (ROUTER, STREAM): in text it is written as `0x` and
    /// hex, and an input line's first frame is read back so; input lines are then always split.
    var routingFrame: Bool

    struct Invalid: Error {
        var reason: String
    }

    // MARK: Output

    /// The line for `frames`, newline included.
    func encode(_ frames: [[UInt8]]) -> [UInt8] {
        var line: [UInt8] = []
        switch format {
        case .text:
            for (index, frame) in frames.enumerated() {
                if index > 0 { line += separator }
                if index == 0 && routingFrame { line += Array(("0x" + Self.hex(frame)).utf8) } else { line += frame }
            }
        case .hex:
            for (index, frame) in frames.enumerated() {
                if index > 0 { line += separator }
                line += Array(Self.hex(frame).utf8)
            }
        case .json:
            line += Array(Self.json(frames).utf8)
        }
        line.append(0x0A)
        return line
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// A JSON array with one element per frame: a string for UTF-8, `{"base64": ...}` otherwise.
    static func json(_ frames: [[UInt8]]) -> String {
        "[" + frames.map { frame in
            if let text = String(validating: frame, as: UTF8.self) { return jsonString(text) }
            return "{\"base64\":\"\(Data(frame).base64EncodedString())\"}"
        }.joined(separator: ",") + "]"
    }

    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let code = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - code.count) + code
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    // MARK: Input

    /// The frames of one input line (without its newline).
    func decode(_ line: [UInt8]) throws(Invalid) -> [[UInt8]] {
        switch format {
        case .text:
            guard splitsInput || routingFrame else { return [line] }
            var frames = split(line)
            if routingFrame, let first = frames.first, first.starts(with: Array("0x".utf8)) {
                guard let id = Self.unhex(Array(first.dropFirst(2))) else {
                    throw Invalid(reason: "the routing id '\(String(decoding: first, as: UTF8.self))' is not 0x and hex digits")
                }
                frames[0] = id
            }
            return frames
        case .hex:
            return try split(line).map { frame throws(Invalid) in
                guard let bytes = Self.unhex(frame) else {
                    throw Invalid(reason: "'\(String(decoding: frame, as: UTF8.self))' is not hex digits")
                }
                return bytes
            }
        case .json:
            return try Self.unjson(line)
        }
    }

    private func split(_ line: [UInt8]) -> [[UInt8]] {
        guard !separator.isEmpty else { return [line] }
        var frames: [[UInt8]] = []
        var start = 0
        var index = 0
        while index + separator.count <= line.count {
            if line[index..<(index + separator.count)].elementsEqual(separator) {
                frames.append(Array(line[start..<index]))
                index += separator.count
                start = index
            } else {
                index += 1
            }
        }
        frames.append(Array(line[start...]))
        return frames
    }

    static func unhex(_ text: [UInt8]) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count / 2)
        var index = 0
        while index < text.count {
            guard let high = value(text[index]), let low = value(text[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    /// A JSON line: an array of frames (strings, or `{"base64": ...}`), or one string for one frame.
    static func unjson(_ line: [UInt8]) throws(Invalid) -> [[UInt8]] {
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: Data(line), options: [.fragmentsAllowed])
        } catch {
            throw Invalid(reason: "not JSON")
        }
        func frame(_ element: Any) throws(Invalid) -> [UInt8] {
            if let text = element as? String { return Array(text.utf8) }
            if let object = element as? [String: Any], object.count == 1, let encoded = object["base64"] as? String,
               let data = Data(base64Encoded: encoded) {
                return Array(data)
            }
            throw Invalid(reason: "a frame must be a string or {\"base64\": \"...\"}")
        }
        if let array = value as? [Any] {
            guard !array.isEmpty else { throw Invalid(reason: "a message needs at least one frame") }
            return try array.map { element throws(Invalid) in try frame(element) }
        }
        return [try frame(value)]
    }
}
