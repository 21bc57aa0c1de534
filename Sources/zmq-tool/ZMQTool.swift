// zmq: a command-line tool for every ZeroMQ pattern, built on the ZMQ library
// (Sources/ZMQ/ZMQ.docc/CommandLineTool.md). Run it with `swift run zmq --help`.
import ArgumentParser
import ZMQ
#if canImport(Glibc)
import Glibc
#endif

@main
struct ZMQTool: AsyncParsableCommand {
    /// The tool's own version, printed by `zmq version` and `zmq --version`.
    static let toolVersion = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "zmq",
        abstract: "Talk to any ZeroMQ peer from a shell: every socket pattern, a proxy, a monitor, CURVE keys.",
        discussion: """
            Pattern commands read the messages they send from standard input (one per line) and write \
            what they receive to standard output (one message per line, --format text|hex|json). \
            Endpoints are connected to unless --bind is given; an endpoint written as @ENDPOINT is \
            bound and >ENDPOINT connected, whatever the default.

            Examples:
              zmq pull --bind tcp://127.0.0.1:5555 &
              echo hello | zmq push tcp://127.0.0.1:5555
              zmq sub tcp://127.0.0.1:5556 --topic weather --format json | jq .

            Exit status: 0 on success (and for a receiver stopped by SIGINT or SIGTERM), 1 for a \
            runtime error, 2 for a usage error, 130 for a sender interrupted before its input was sent.
            """,
        version: "zmq \(toolVersion) (libzmq \(ZMQLibrary.version))",
        subcommands: [
            PubCommand.self, SubCommand.self, PushCommand.self, PullCommand.self,
            ReqCommand.self, RepCommand.self, DealerCommand.self, RouterCommand.self,
            PairCommand.self, XPubCommand.self, XSubCommand.self, StreamCommand.self,
            ProxyCommand.self, MonitorCommand.self, KeygenCommand.self, BenchCommand.self, VersionCommand.self,
        ]
    )

    /// Parses the command line and runs the command, with the tool's exit statuses: 2 for every usage
    /// error (ArgumentParser's own would be 64), 1 for a runtime error, each reported on one line.
    static func main() async {
        await execute()
    }

    /// Off the main actor, so that the command it parses is the running task's alone.
    nonisolated private static func execute() async -> Never {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot(SocketOptions.attachingValues(Array(CommandLine.arguments.dropFirst())))
        } catch {
            finish(error)
        }
        // Before any thread starts, and before the first suspension (see Signals.swift).
        if command is any SocketCommand { Signals.install() }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
        } catch {
            finish(error)
        }
        Glibc.exit(0)
    }

    /// Reports `error` on one line of standard error (or prints the help it asked for) and exits.
    static func finish(_ error: any Error) -> Never {
        switch error {
        case let status as ExitCode:
            Glibc.exit(status.rawValue)
        case let failure as ToolFailure:
            Diagnostics.error(failure.message, command: failure.command)
            Glibc.exit(failure.status)
        default:
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }  // --help, --version: printed on stdout
            let message = self.message(for: error).split(whereSeparator: \.isNewline).joined(separator: "; ")
            if code == .validationFailure {
                // Named after the subcommand when there is one: "zmq push: error: ...".
                let arguments = CommandLine.arguments.dropFirst()
                let subcommand = configuration.subcommands.map { $0._commandName }.first { $0 == arguments.first }
                let name = subcommand.map { "zmq \($0)" }
                Diagnostics.error("\(message) (see '\(name ?? "zmq") --help')", command: name)
                Glibc.exit(2)
            }
            Diagnostics.error(message, command: nil)
            Glibc.exit(code == .failure ? 1 : code.rawValue)
        }
    }
}
