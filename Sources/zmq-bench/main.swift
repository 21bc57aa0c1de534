// zmq-bench: the workloads of Benchmarks/README.md through the library's public async API, printing the same
// one line as Benchmarks/reference.c. Run it with `swift run -c release zmq-bench WORKLOAD SIZE COUNT`, or
// side by side with C and pyzmq with `Benchmarks/compare`. The workloads live in the BenchmarkWorkloads
// target, which `zmq bench` runs too.
import BenchmarkWorkloads
#if canImport(Glibc)
import Glibc
#endif

let arguments: Arguments
do {
    arguments = try Arguments(CommandLine.arguments.dropFirst())
} catch {
    if !error.message.isEmpty { printError("zmq-bench: \(error.message)") }
    printError(Arguments.usage)
    exit(2)
}
do {
    let line = try await run(arguments)
    print(line)
    if arguments.reportRSS { printError("peak_rss_kib=\(peakRSS())") }
} catch {
    fail("\(arguments.workload.rawValue) failed: \(error)")
}
