import Foundation
import Synchronization
import Testing

/// Checks on the test sources themselves: every suite has a time limit, and every test can fail
/// (it has at least one `#expect` or `#require`, or says why it needs none).
@Suite(.timeLimit(.minutes(1)))
struct SuiteHygieneTests {
    /// The test files next to this one.
    static let sources: [(name: String, text: String)] = {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".swift") }.sorted().compactMap { name in
            (try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)).map { (name, $0) }
        }
    }()

    /// The marker a test without an expectation of its own carries, with the reason after it.
    static let marker = "// No expectation:"

    @Test func theSourcesAreFound() {
        #expect(Self.sources.count >= 10)
        #expect(Self.sources.contains { $0.name == "SuiteHygieneTests.swift" })
    }

    @Test func everyTestHasAnExpectationOrSaysWhyNot() {
        var checked = 0
        for (name, text) in Self.sources where name != "SuiteHygieneTests.swift" {
            for test in TestSource.tests(in: text) {
                checked += 1
                let canFail = test.body.contains("#expect") || test.body.contains("#require") || test.body.contains(Self.marker)
                #expect(canFail, "\(name): @Test \(test.name) has no #expect or #require (or '\(Self.marker) why')")
            }
        }
        #expect(checked > 100, "the scan found the tests")
    }

    @Test func everySuiteHasATimeLimit() {
        var checked = 0
        for (name, text) in Self.sources where name != "SuiteHygieneTests.swift" {
            for suite in TestSource.suites(in: text) {
                checked += 1
                #expect(suite.attributes.contains(".timeLimit("), "\(name): suite \(suite.name) has no .timeLimit trait")
            }
        }
        #expect(checked >= 15, "the scan found the suites")
    }

    @Test func withTimeoutFailsAtItsDeadlineEvenWhenTheBodyIgnoresCancellation() async throws {
        let release = Atomic<Bool>(false)
        let start = ContinuousClock.now
        await #expect(throws: TimedOut.self) {
            try await withTimeout(.milliseconds(200)) {
                // Ignores cancellation: only `release` ends it.
                while !release.load(ordering: .relaxed) { try? await Task.sleep(for: .milliseconds(5)) }
            }
        }
        #expect(ContinuousClock.now - start < .seconds(30), "it failed at its own deadline, not the suite's")
        release.store(true, ordering: .relaxed)
        // And it returns what a body that finishes returns, and throws what it throws.
        #expect(try await withTimeout { 42 } == 42)
        struct Boom: Error {}
        await #expect(throws: Boom.self) { try await withTimeout { throw Boom() } }
    }

    @Test func theScannerFindsWhatItLooksFor() {
        let sample = """
            @Suite(.timeLimit(.minutes(1)))
            struct Good {
                @Test func checks() { #expect(1 == 1) }
                @Test(arguments: [1, 2]) func skips(_ value: Int) {
                    let text = "}"  // a brace in a string
                    _ = text
                }
            }
            struct Bare {
                @Test func marked() {
                    // No expectation: it only has to finish.
                }
            }
            """
        let tests = TestSource.tests(in: sample)
        #expect(tests.map(\.name) == ["checks", "skips", "marked"])
        #expect(tests.map { $0.body.contains("#expect") } == [true, false, false])
        #expect(tests[2].body.contains(Self.marker))
        let suites = TestSource.suites(in: sample)
        #expect(suites.map(\.name) == ["Good", "Bare"])
        #expect(suites.map { $0.attributes.contains(".timeLimit(") } == [true, false])
    }
}

/// A small scanner of Swift test sources: enough to find `@Test` functions and the types that hold
/// them, skipping strings and comments when matching braces.
enum TestSource {
    struct Test { let name: String; let body: String }
    struct Suite { let name: String; let attributes: String }

    /// Every `@Test` function and its body (from its opening brace to the matching one).
    static func tests(in text: String) -> [Test] {
        let characters = Array(text)
        var result: [Test] = []
        for start in occurrences(of: "@Test", in: characters) {
            guard let function = find("func ", in: characters, from: start) else { continue }
            let nameStart = function + 5
            var nameEnd = nameStart
            while nameEnd < characters.count, characters[nameEnd].isLetter || characters[nameEnd].isNumber || characters[nameEnd] == "_" {
                nameEnd += 1
            }
            guard let open = find("{", in: characters, from: nameEnd, skippingParentheses: true),
                  let close = matchingBrace(characters, open) else { continue }
            result.append(Test(name: String(characters[nameStart..<nameEnd]), body: String(characters[open...close])))
        }
        return result
    }

    /// Every type (struct, class, enum, extension) whose body holds a `@Test`, with the attributes
    /// written on the lines just before it.
    static func suites(in text: String) -> [Suite] {
        let lines = text.components(separatedBy: "\n")
        var result: [Suite] = []
        var index = 0
        while index < lines.count {
            let line = lines[index].trimmingCharacters(in: .whitespaces)
            let declaration = ["struct ", "final class ", "class ", "enum "].first { line.hasPrefix($0) || line.contains("@Suite") && line.contains($0) }
            if let declaration, let range = line.range(of: declaration) {
                let name = String(line[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" })
                // The type's body, by braces, from this line on.
                let rest = Array(lines[index...].joined(separator: "\n"))
                if let open = rest.firstIndex(of: "{"), let close = matchingBrace(rest, open) {
                    let body = String(rest[open...close])
                    if body.contains("@Test") {
                        var attributes = String(line[..<range.lowerBound])
                        var above = index - 1
                        while above >= 0, lines[above].trimmingCharacters(in: .whitespaces).hasPrefix("@") {
                            attributes = lines[above] + attributes
                            above -= 1
                        }
                        result.append(Suite(name: name, attributes: attributes))
                    }
                }
            }
            index += 1
        }
        return result
    }

    private static func occurrences(of word: String, in characters: [Character]) -> [Int] {
        let pattern = Array(word)
        var found: [Int] = []
        var index = 0
        while index + pattern.count <= characters.count {
            if Array(characters[index..<index + pattern.count]) == pattern,
               index + pattern.count == characters.count || !(characters[index + pattern.count].isLetter) {
                found.append(index)
            }
            index += 1
        }
        return found
    }

    private static func find(_ word: String, in characters: [Character], from start: Int, skippingParentheses: Bool = false) -> Int? {
        let pattern = Array(word)
        var depth = 0
        var index = start
        while index + pattern.count <= characters.count {
            if skippingParentheses {
                if characters[index] == "(" { depth += 1 }
                if characters[index] == ")" { depth -= 1 }
            }
            if depth == 0 && Array(characters[index..<index + pattern.count]) == pattern { return index }
            index += 1
        }
        return nil
    }

    /// The index of the brace that closes the one at `open`, ignoring braces in strings and comments.
    static func matchingBrace(_ characters: [Character], _ open: Int) -> Int? {
        var depth = 0
        var index = open
        var inString = false
        while index < characters.count {
            let character = characters[index]
            let next = index + 1 < characters.count ? characters[index + 1] : " "
            if inString {
                if character == "\\" { index += 2; continue }
                if character == "\"" { inString = false }
            } else if character == "/" && next == "/" {
                while index < characters.count && characters[index] != "\n" { index += 1 }
                continue
            } else if character == "\"" {
                inString = true
            } else if character == "{" {
                depth += 1
            } else if character == "}" {
                depth -= 1
                if depth == 0 { return index }
            }
            index += 1
        }
        return nil
    }
}
