/// ZPL, the ZeroMQ property language (RFC 4/ZPL) that czmq and pyzmq certificate files are written
/// in: one name per line, nested by four spaces of indentation, each with an optional `= value`.
///
/// ```
/// # a comment
/// curve
///     public-key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
/// ```
/// ``parse(_:)`` is a pure function of the text, so it can be tested and fuzzed on its own.
enum ZPL {
    /// One name of a ZPL document, with its value and the names nested under it.
    struct Node: Sendable, Equatable {
        var name: String
        var value: String?
        var children: [Node] = []
        /// The 1-based line it was read from (0 for the root).
        var line: Int

        /// The first child called `name`.
        func child(_ name: String) -> Node? { children.first { $0.name == name } }
    }

    /// Why a text is not ZPL, and on which 1-based line.
    struct SyntaxError: Error, Equatable {
        let line: Int
        let reason: String
    }

    /// The characters a name may hold (RFC 4: alphanumerics and `$-_@.&+/`).
    static func isNameCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "$-_@.&+/".utf8.contains(byte)
        }
    }

    /// Parses `text` into a root node (named `""`) whose children are the top-level names.
    ///
    /// Blank lines and lines whose first non-space character is `#` are skipped. Indentation is
    /// spaces only, a multiple of four, and at most one level deeper than the line before. A value
    /// is quoted with `"` or `'` (ZPL has no escapes), or unquoted, running to the end of the line or
    /// to a `#` after a space, with surrounding spaces dropped (pyzmq writes metadata values that
    /// way). After a quoted value only spaces and a comment may follow.
    /// - Throws: ``SyntaxError`` naming the first line that breaks these rules.
    static func parse(_ text: String) throws(SyntaxError) -> Node {
        var stack = [Node(name: "", value: nil, line: 0)]
        var number = 0
        for rawLine in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            var line = Array(rawLine)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            let indent = line.prefix { $0 == UInt8(ascii: " ") }.count
            let rest = line[indent...]
            if rest.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) || rest.first == UInt8(ascii: "#") {
                continue
            }
            if rest.first == UInt8(ascii: "\t") {
                throw SyntaxError(line: number, reason: "indentation must be spaces, not tabs")
            }
            guard indent % 4 == 0 else {
                throw SyntaxError(line: number, reason: "indentation must be a multiple of 4 spaces, not \(indent)")
            }
            let depth = indent / 4 + 1  // the root is depth 0
            guard depth <= stack.count else {
                throw SyntaxError(line: number, reason: "indented more than one level deeper than the name above it")
            }
            let node = try parseEntry(rest, line: number)
            // Close the nodes this line is not nested in.
            while stack.count > depth {
                let closed = stack.removeLast()
                stack[stack.count - 1].children.append(closed)
            }
            stack.append(node)
        }
        while stack.count > 1 {
            let closed = stack.removeLast()
            stack[stack.count - 1].children.append(closed)
        }
        return stack[0]
    }

    /// One line after its indentation: `name`, `name = value`, either with a trailing comment.
    private static func parseEntry(_ bytes: ArraySlice<UInt8>, line: Int) throws(SyntaxError) -> Node {
        var index = bytes.startIndex
        while index < bytes.endIndex, isNameCharacter(bytes[index]) { index += 1 }
        guard index > bytes.startIndex else {
            throw SyntaxError(line: line, reason: "expected a name (letters, digits or $-_@.&+/), found '\(Character(Unicode.Scalar(bytes[index])))'")
        }
        let name = String(decoding: bytes[bytes.startIndex..<index], as: UTF8.self)
        let afterName = skipSpaces(bytes, from: index)
        if afterName == bytes.endIndex || bytes[afterName] == UInt8(ascii: "#") {
            return Node(name: name, value: nil, line: line)
        }
        guard bytes[afterName] == UInt8(ascii: "=") else {
            throw SyntaxError(line: line, reason: "expected '=' or the end of the line after the name \(name)")
        }
        let valueStart = skipSpaces(bytes, from: afterName + 1)
        guard valueStart < bytes.endIndex else { return Node(name: name, value: "", line: line) }
        let first = bytes[valueStart]
        if first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") {
            guard let close = bytes[(valueStart + 1)...].firstIndex(of: first) else {
                throw SyntaxError(line: line, reason: "the quoted value of \(name) has no closing \(first == UInt8(ascii: "\"") ? "\"" : "'")")
            }
            let after = skipSpaces(bytes, from: close + 1)
            guard after == bytes.endIndex || bytes[after] == UInt8(ascii: "#") else {
                throw SyntaxError(line: line, reason: "unexpected text after the quoted value of \(name)")
            }
            return Node(name: name, value: String(decoding: bytes[(valueStart + 1)..<close], as: UTF8.self), line: line)
        }
        var end = bytes.endIndex
        var scan = valueStart
        while scan < bytes.endIndex {
            if bytes[scan] == UInt8(ascii: "#"), bytes[scan - 1] == UInt8(ascii: " ") || bytes[scan - 1] == UInt8(ascii: "\t") {
                end = scan
                break
            }
            scan += 1
        }
        var value = bytes[valueStart..<end]
        while let last = value.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { value.removeLast() }
        return Node(name: name, value: String(decoding: value, as: UTF8.self), line: line)
    }

    private static func skipSpaces(_ bytes: ArraySlice<UInt8>, from start: Int) -> Int {
        var index = start
        while index < bytes.endIndex, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
        return index
    }
}
