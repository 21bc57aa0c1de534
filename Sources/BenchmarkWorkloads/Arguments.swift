/// The workloads of Benchmarks/README.md, named as `Benchmarks/reference.c` and `pyzmq_reference.py` name them.
package enum Workload: String, CaseIterable {
    case thrInproc = "thr-inproc"
    case thrIPC = "thr-ipc"
    case thrTCP = "thr-tcp"
    case latInproc = "lat-inproc"
    case latTCP = "lat-tcp"
    case proxyInproc = "proxy-inproc"
    case pacedInproc = "paced-inproc"
    case pacedTCP = "paced-tcp"
    case pacedReceiveTCP = "paced-recv-tcp"
    case poll = "poll"
    case churnInproc = "churn-inproc"

    /// Whether the result is a round-trip time rather than a message rate.
    var isLatency: Bool { self == .latInproc || self == .latTCP }

    /// Whether SIZE is a rate (messages per second per socket) and COUNT a number of socket pairs.
    var isPaced: Bool { self == .pacedInproc || self == .pacedTCP || self == .pacedReceiveTCP }
}

/// The command line: `zmq-bench [--rss] WORKLOAD SIZE COUNT`.
package struct Arguments {
    package var workload: Workload
    package var size: Int
    package var count: Int
    /// Print the peak resident set size to stderr at the end (stdout stays one line).
    package var reportRSS: Bool
    /// The sequence number of a message the sender leaves out, to show that a lost message fails the run.
    package var lose: Int?

    /// Large enough for every workload of Benchmarks/README.md (64 KiB) with room to spare; small enough
    /// that the two pipes' high-water marks (2 x 1000 messages) cannot exhaust memory.
    static let maximumSize = 1 << 20

    package static let usage = """
        usage: zmq-bench [--rss] WORKLOAD SIZE COUNT
          WORKLOAD  \(Workload.allCases.map(\.rawValue).joined(separator: " | "))
          SIZE      message size in bytes, 0...\(maximumSize); paced-*: messages per second per socket;
                    poll: number of sockets polled; churn-inproc: number of waiting tasks
          COUNT     number of messages (thr-*, proxy-*, churn-inproc: at least 2; poll: at least 1),
                    round trips (lat-*: at least 1), or socket pairs (paced-*: at least 1)
          paced-recv-tcp runs the paced sender named by $ZMQ_BENCH_SENDER in a process of its own
          (`$ZMQ_BENCH_SENDER paced-send RATE ENDPOINT...`) and measures the receiving process only
          --rss     also print the peak resident set size to stderr
          --lose N  the sender leaves out message N (a self-check: the run must fail)
        """

    package struct Invalid: Error {
        package let message: String
    }

    package init(_ arguments: some Sequence<String>) throws(Invalid) {
        var reportRSS = false
        var lose: Int?
        var positional: [String] = []
        var arguments = arguments.makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--rss": reportRSS = true
            case "--lose":
                guard let value = arguments.next().flatMap({ Int($0) }), value >= 0 else {
                    throw Invalid(message: "--lose needs a message number")
                }
                lose = value
            case "-h", "--help": throw Invalid(message: "")
            case let option where option.hasPrefix("--"): throw Invalid(message: "unknown option \(option)")
            default: positional.append(argument)
            }
        }
        guard positional.count == 3 else {
            throw Invalid(message: "expected WORKLOAD SIZE COUNT, got \(positional.count) argument(s)")
        }
        guard let workload = Workload(rawValue: positional[0]) else {
            throw Invalid(message: "unknown workload '\(positional[0])'")
        }
        let sizes = workload.isPaced || workload == .poll || workload == .churnInproc ? 1...1_000_000 : 0...Self.maximumSize
        guard let size = Int(positional[1]), sizes.contains(size) else {
            throw Invalid(message: "SIZE must be a whole number in \(sizes.lowerBound)...\(sizes.upperBound) for \(workload.rawValue), got '\(positional[1])'")
        }
        let minimumCount = workload.isLatency || workload.isPaced || workload == .poll ? 1 : 2
        guard let count = Int(positional[2]), count >= minimumCount else {
            throw Invalid(message: "COUNT must be a whole number of at least \(minimumCount) for \(workload.rawValue), got '\(positional[2])'")
        }
        self.workload = workload
        self.size = size
        self.count = count
        self.reportRSS = reportRSS
        self.lose = lose
    }
}
