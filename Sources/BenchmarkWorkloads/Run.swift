// The entry points both benchmark front ends use: `zmq-bench WORKLOAD SIZE COUNT` (its own
// command line, which Benchmarks/compare and .ci/run call) and `zmq bench` (the command-line tool).
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
package func peakRSS() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss
}

/// Runs the workload on the global executor (top-level code is on the main actor, whose hops
/// would be measured otherwise) and returns the result line.
package func run(_ arguments: Arguments) async throws -> String {
    let (workload, size, count) = (arguments.workload, arguments.size, arguments.count)
    let watchdog = Watchdog(expected: workload.isPaced ? size * 2 * count : count)
    let prefix = "workload=\(workload.rawValue) size=\(size) count=\(count)"
    switch workload {
    case .thrInproc, .thrIPC, .thrTCP:
        let endpoint = switch workload {
        case .thrInproc: "inproc://thr"
        case .thrIPC: "ipc:///tmp/zmq-bench-\(getpid())"
        default: "tcp://127.0.0.1:25591"
        }
        let rate = try await throughput(
            receiveEndpoint: endpoint, bindReceiver: true, sendEndpoint: endpoint,
            size: size, count: count, lose: arguments.lose, watchdog: watchdog)
        // libzmq leaves a bound ipc endpoint's socket file behind when the socket closes.
        if workload == .thrIPC { unlink(String(endpoint.dropFirst("ipc://".count))) }
        return "\(prefix) msgs_per_s=\(Int(rate.rounded()))"
    case .latInproc, .latTCP:
        let endpoint = workload == .latInproc ? "inproc://lat" : "tcp://127.0.0.1:25592"
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

