// zmq-bench: the workloads of Benchmarks/README.md through the library's public async API, printing the same
// one line as Benchmarks/reference.c. Run it with `swift run -c release zmq-bench WORKLOAD SIZE COUNT`, or
// side by side with C and pyzmq with `Benchmarks/compare`.
import ZMQ
#if canImport(Glibc)
import Glibc
#endif

/// `%.2f` without Foundation.
func twoDecimals(_ value: Double) -> String {
    let hundredths = Int((value * 100).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}

/// The peak resident set size in KiB (Linux reports `ru_maxrss` in KiB).
func peakRSS() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss
}

/// Runs the workload on the global executor (top-level code is on the main actor, whose hops
/// would be measured otherwise) and returns the result line.
func run(_ arguments: Arguments) async throws -> String {
    let (workload, size, count) = (arguments.workload, arguments.size, arguments.count)
    let watchdog = Watchdog(expected: workload.isPaced ? size * 2 * count : count)
    let prefix = "workload=\(workload.rawValue) size=\(size) count=\(count)"
    switch workload {
    case .thrInproc, .thrIPC, .thrTCP:
        let endpoint = switch workload {
        case .thrInproc: "inproc://thr"
        case .thrIPC: "ipc:///tmp/zmq-bench-\(getpid())"
        default: "tcp://127.0.0.1:35591"
        }
        let rate = try await throughput(
            receiveEndpoint: endpoint, bindReceiver: true, sendEndpoint: endpoint,
            size: size, count: count, lose: arguments.lose, watchdog: watchdog)
        return "\(prefix) msgs_per_s=\(Int(rate.rounded()))"
    case .latInproc, .latTCP:
        let endpoint = workload == .latInproc ? "inproc://lat" : "tcp://127.0.0.1:35592"
        let rtt = try await latency(endpoint: endpoint, size: size, count: count, lose: arguments.lose, watchdog: watchdog)
        return "\(prefix) usec_rtt=\(twoDecimals(rtt))"
    case .proxyInproc:
        let rate = try await proxied(size: size, count: count, lose: arguments.lose, watchdog: watchdog)
        return "\(prefix) msgs_per_s=\(Int(rate.rounded()))"
    case .pacedInproc, .pacedTCP:
        let cpu = try await paced(tcp: workload == .pacedTCP, rate: size, pairs: count, watchdog: watchdog)
        return "\(prefix) cpu_us_per_msg=\(twoDecimals(cpu))"
    case .pacedReceiveTCP:
        let cpu = try await pacedReceiveOnly(rate: size, pairs: count, watchdog: watchdog)
        return "\(prefix) cpu_us_per_msg=\(twoDecimals(cpu))"
    case .poll:
        let cpu = try await polled(sockets: size, count: count, watchdog: watchdog)
        return "\(prefix) cpu_us_per_msg=\(twoDecimals(cpu))"
    case .churnInproc:
        let rate = try await churn(waiters: size, count: count, watchdog: watchdog)
        return "\(prefix) msgs_per_s=\(Int(rate.rounded()))"
    }
}

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
