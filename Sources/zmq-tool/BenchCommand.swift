import ArgumentParser
import BenchmarkWorkloads

/// `zmq bench`: the benchmark workloads of Benchmarks/README.md, the same code as `zmq-bench`.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a benchmark workload and print its one result line (as zmq-bench and Benchmarks/reference.c do).",
        discussion: """
            Build with -c release for numbers worth reading. Workloads: \(Workload.allCases.map(\.rawValue).joined(separator: ", ")).

            \(Arguments.usage.replacingOccurrences(of: "usage: zmq-bench", with: "usage: zmq bench"))

            Example:
              swift run -c release zmq bench thr-tcp 64 1000000
            """
    )

    @Argument(help: ArgumentHelp("The workload, such as thr-inproc or lat-tcp.", valueName: "workload"))
    var workload: String

    @Argument(help: ArgumentHelp("Message size in bytes (a rate, or a number of sockets or tasks, for some workloads).",
                                 valueName: "size"))
    var size: String

    @Argument(help: ArgumentHelp("Number of messages, round trips or socket pairs.", valueName: "count"))
    var count: String

    @Flag(help: "Also print the peak resident set size to standard error.")
    var rss = false

    @Option(help: ArgumentHelp("The sender leaves out message N (a self-check: the run must fail).", valueName: "n"))
    var lose: Int?

    func run() async throws {
        let arguments: Arguments
        do {
            arguments = try Arguments([workload, size, count] + (rss ? ["--rss"] : []) + (lose.map { ["--lose", String($0)] } ?? []))
        } catch {
            throw ValidationError(error.message)
        }
        print(try await BenchmarkWorkloads.run(arguments))
        if arguments.reportRSS { printError("peak_rss_kib=\(peakRSS())") }
    }
}
