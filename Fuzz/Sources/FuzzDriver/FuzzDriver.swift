// What every fuzz target shares: handing over to libFuzzer's driver.
//
// SwiftPM gives an executable target a `main` of its own, so libFuzzer's is not linked in: a target
// calls `runFuzzer(fuzz)` at the end of its main.swift, which hands over to libFuzzer's driver (its
// documented entry point for programs with their own `main`) with the command line; the driver
// parses libFuzzer's options and calls `fuzz` with each input.
#if canImport(Glibc)
import Glibc
#endif

/// The running target's input function, set once by ``runFuzzer(_:)`` before the driver starts.
nonisolated(unsafe) private var target: (UnsafePointer<UInt8>, Int) -> Int32 = { _, _ in 0 }

@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// libFuzzer's own `main` (linked in too, but not the one that runs) refers to this symbol.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return target(UnsafePointer(bitPattern: 1)!, 0) }
    return target(data, size)
}

/// Runs libFuzzer with the process's command line, calling `fuzz` with each input (its bytes and
/// their count; a finding is a crash, such as a failed `fatalError`); exits with the driver's status.
public func runFuzzer(_ fuzz: @escaping (UnsafePointer<UInt8>, Int) -> Int32) -> Never {
    target = fuzz
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(runDriver(&argc, &argv, testOneInput))
}
