import ArgumentParser
import ZMQ

/// A command that runs sockets: SIGINT and SIGTERM stop it cleanly (see ``Signals``).
protocol SocketCommand {}

// One command per pattern role; each is a thin front of ``PatternPlan``.

struct PubCommand: AsyncParsableCommand, SocketCommand {
    static let configuration = CommandConfiguration(
        commandName: "pub",
        abstract: "Publish messages: each line of standard input (or --message) to every subscriber.",
        discussion: """
            A PUB socket drops messages for subscribers it does not know yet: a subscriber that connects while the \
            lines are sent may miss the first ones (repeat with --interval).

            Example:
              zmq pub --bind tcp://127.0.0.1:5556 --message 'weather sunny' --interval 1s
            """
    )

    @OptionGroup var endpoints: EndpointOptions

    @OptionGroup(title: "Input") var input: InputOptions

    @OptionGroup(title: "Messages") var messages: MessageOptions

    @OptionGroup(title: "Socket") var socket: SocketOptions

    func run() async throws {
        try await PatternPlan(.pub, role: .sender, endpoints: endpoints, messages: messages,
                              input: input, socket: socket).run()
    }
}

struct SubCommand: AsyncParsableCommand, SocketCommand {
    static let configuration = CommandConfiguration(
        commandName: "sub",
        abstract: "Subscribe and print what arrives, one message per line.",
        discussion: """
            Without --topic it subscribes to every message.

            Example:
              zmq sub tcp://127.0.0.1:5556 --topic weather --count 10
            """
    )

    @OptionGroup var endpoints: EndpointOptions

    @Option(name: .shortAndLong, help: ArgumentHelp("Subscribe to messages starting with this (repeatable; none: every message).", valueName: "topic"))
    var topic: [String] = []

    @OptionGroup(title: "Messages") var messages: MessageOptions

    @OptionGroup(title: "Socket") var socket: SocketOptions

    func run() async throws {
        try await PatternPlan(.sub, role: .receiver, endpoints: endpoints, messages: messages,
                              input: nil, socket: socket, topics: topic).run()
    }
}

struct PushCommand: AsyncParsableCommand, SocketCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Send each line of standard input (or --message) into a pipeline.",
        discussion: """
            At the end of the input the command waits until every message is delivered (see --linger), so a \
            pipe delivers everything: the receiver may start later.

            Example:
              seq 10 | zmq push tcp://127.0.0.1:5555
            """
    )

    @OptionGroup var endpoints: EndpointOptions

    @OptionGroup(title: "Input") var input: InputOptions

    @OptionGroup(title: "Messages") var messages: MessageOptions

    @OptionGroup(title: "Socket") var socket: SocketOptions

    func run() async throws {
        try await PatternPlan(.push, role: .sender, endpoints: endpoints, messages: messages,
                              input: input, socket: socket).run()
    }
}

struct PullCommand: AsyncParsableCommand, SocketCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Receive from a pipeline and print each message on a line.",
        discussion: """
            Example:
              zmq pull --bind tcp://127.0.0.1:5555 --format json | jq -c .
            """
    )

    @OptionGroup var endpoints: EndpointOptions

    @OptionGroup(title: "Messages") var messages: MessageOptions

    @OptionGroup(title: "Socket") var socket: SocketOptions

    func run() async throws {
        try await PatternPlan(.pull, role: .receiver, endpoints: endpoints, messages: messages,
                              input: nil, socket: socket).run()
    }
}

struct ReqCommand: AsyncParsableCommand, SocketCommand {
    static let configuration = CommandConfiguration(
        commandName: "req",
        abstract: "Send each line of standard input (or --message) as a request and print its reply.",
        discussion: """
            Example:
              echo ping | zmq req tcp://127.0.0.1:5557 --timeout 5s
            """
    )

    @OptionGroup var endpoints: EndpointOptions

    @OptionGroup(title: "Input") var input: InputOptions

    @OptionGroup(title: "Messages") var messages: MessageOptions

    @OptionGroup(title: "Socket") var socket: SocketOptions

    func run() async throws {
        try await PatternPlan(.req, role: .request, endpoints: endpoints, messages: messages,
                              input: input, socket: socket).run()
    }
}

struct RepCommand: AsyncParsableCommand, SocketCommand {
    static let configuration = CommandConfiguration(
        commandName: "rep",
        abstract: "Print each request and answer it: --echo, --reply TEXT, or the next line of standard input.",
        discussion: """
            Example:
              zmq rep --bind tcp://127.0.0.1:5557 --echo
            """
    )

    @OptionGroup var endpoints: EndpointOptions

    @Flag(help: "Answer each request with itself.")
    var echo = false

    @Option(help: ArgumentHelp("Answer every request with this message (in --format).", valueName: "text"))
    var reply: String?

    @OptionGroup(title: "Input") var input: InputOptions

    @OptionGroup(title: "Messages") var messages: MessageOptions

    @OptionGroup(title: "Socket") var socket: SocketOptions

    mutating func validate() throws {
        if echo && reply != nil { throw ValidationError("--echo and --reply exclude each other") }
    }

    func run() async throws {
        let mode: ReplyMode
        if echo {
            mode = .echo
        } else if let reply {
            let codec = MessageCodec(format: messages.format, separator: Array(messages.separator.utf8),
                                     splitsInput: input.frames, routingFrame: false)
            do { mode = .fixed(try codec.decode(Array(reply.utf8))) } catch { throw ValidationError("--reply: \(error.reason)") }
        } else {
            mode = .input
        }
        try await PatternPlan(.rep, role: .reply(mode), endpoints: endpoints, messages: messages,
                              input: input, socket: socket).run()
    }
}

struct DealerCommand: AsyncParsableCommand, SocketCommand {
    static let configuration = CommandConfiguration(
        commandName: "dealer",
        abstract: "Send standard input and print what arrives, both at once (asynchronous requests).",
        discussion: """
            The end of the input does not end the command: it keeps printing until --count, --timeout or Ctrl-C.

            Example:
              zmq dealer tcp://127.0.0.1:5558 --message hello --count 1
            """
    )

    @OptionGroup var endpoints: EndpointOptions

    @OptionGroup(title: "Input") var input: InputOptions

    @OptionGroup(title: "Messages") var messages: MessageOptions

    @OptionGroup(title: "Socket") var socket: SocketOptions

    func run() async throws {
        try await PatternPlan(.dealer, role: .both, endpoints: endpoints, messages: messages,
                              input: input, socket: socket).run()
    }
}

struct RouterCommand: AsyncParsableCommand, SocketCommand {
    static let configuration = CommandConfiguration(
        commandName: "router",
        abstract: "Print each message with its sender's routing id; send lines 'ID|frames' back.",
        discussion: """
            In text format the routing id is written 0x and hex, as in 0x0080000001|hello, and a line to \
            send starts with the id in the same form (or as text, for a peer that set --identity).

            Example:
              zmq router --bind tcp://127.0.0.1:5558
            """
    )

    @OptionGroup var endpoints: EndpointOptions

    @OptionGroup(title: "Input") var input: InputOptions

    @OptionGroup(title: "Messages") var messages: MessageOptions

    @OptionGroup(title: "Socket") var socket: SocketOptions

    func run() async throws {
        try await PatternPlan(.router, role: .both, endpoints: endpoints, messages: messages,
                              input: input, socket: socket).run()
    }
}

struct PairCommand: AsyncParsableCommand, SocketCommand {
    static let configuration = CommandConfiguration(
        commandName: "pair",
        abstract: "An exclusive pair: send standard input and print what arrives.",
        discussion: """
            Example:
              zmq pair --bind ipc:///tmp/pair.sock
            """
    )

    @OptionGroup var endpoints: EndpointOptions

    @OptionGroup(title: "Input") var input: InputOptions

    @OptionGroup(title: "Messages") var messages: MessageOptions

    @OptionGroup(title: "Socket") var socket: SocketOptions

    func run() async throws {
        try await PatternPlan(.pair, role: .both, endpoints: endpoints, messages: messages,
                              input: input, socket: socket).run()
    }
}

struct XPubCommand: AsyncParsableCommand, SocketCommand {
    static let configuration = CommandConfiguration(
        commandName: "xpub",
        abstract: "Publish standard input and print the subscription messages that arrive (use --format hex).",
        discussion: """
            A subscription message is one byte (1 to subscribe, 0 to unsubscribe) and the topic.

            Example:
              zmq xpub --bind tcp://127.0.0.1:5556 --format hex
            """
    )

    @OptionGroup var endpoints: EndpointOptions

    @OptionGroup(title: "Input") var input: InputOptions

    @OptionGroup(title: "Messages") var messages: MessageOptions

    @OptionGroup(title: "Socket") var socket: SocketOptions

    func run() async throws {
        try await PatternPlan(.xpub, role: .both, endpoints: endpoints, messages: messages,
                              input: input, socket: socket).run()
    }
}

struct XSubCommand: AsyncParsableCommand, SocketCommand {
    static let configuration = CommandConfiguration(
        commandName: "xsub",
        abstract: "Subscribe with --topic (or to everything), print what arrives, send standard input upstream.",
        discussion: """
            Example:
              zmq xsub tcp://127.0.0.1:5556 --topic weather
            """
    )

    @OptionGroup var endpoints: EndpointOptions

    @Option(name: .shortAndLong, help: ArgumentHelp("Subscribe to messages starting with this (repeatable; none: every message).", valueName: "topic"))
    var topic: [String] = []

    @OptionGroup(title: "Input") var input: InputOptions

    @OptionGroup(title: "Messages") var messages: MessageOptions

    @OptionGroup(title: "Socket") var socket: SocketOptions

    func run() async throws {
        try await PatternPlan(.xsub, role: .both, endpoints: endpoints, messages: messages,
                              input: input, socket: socket, topics: topic).run()
    }
}

struct StreamCommand: AsyncParsableCommand, SocketCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream",
        abstract: "Talk raw TCP: print 'ID|data' for what arrives, send lines 'ID|data'.",
        discussion: """
            An empty data frame means a peer connected or disconnected; sending an empty frame to an id \
            closes that connection.

            Example:
              zmq stream --bind tcp://127.0.0.1:8080 --format json
            """
    )

    @OptionGroup var endpoints: EndpointOptions

    @OptionGroup(title: "Input") var input: InputOptions

    @OptionGroup(title: "Messages") var messages: MessageOptions

    @OptionGroup(title: "Socket") var socket: SocketOptions

    func run() async throws {
        try await PatternPlan(.stream, role: .both, endpoints: endpoints, messages: messages,
                              input: input, socket: socket).run()
    }
}
