import ArgumentParser
import ZMQ

/// `zmq version`: what this tool is built on.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the tool's and libzmq's versions and libzmq's capabilities.",
        discussion: """
            Example:
              zmq version --format json | jq .capabilities.curve
            """
    )

    @Option(help: ArgumentHelp("text or json.", valueName: "format"))
    var format: MessageFormat = .text

    mutating func validate() throws {
        if format == .hex { throw ValidationError("--format for version is text or json") }
    }

    func run() {
        let capabilities = ZMQLibrary.Capability.allCases
        switch format {
        case .json:
            let list = capabilities.map { "\"\($0.rawValue)\":\(ZMQLibrary.has($0))" }.joined(separator: ",")
            print("{\"zmq\":\"\(ZMQTool.toolVersion)\",\"libzmq\":\"\(ZMQLibrary.version)\",\"capabilities\":{\(list)}}")
        default:
            print("zmq \(ZMQTool.toolVersion) (swift-zmq)")
            print("libzmq \(ZMQLibrary.version)")
            for capability in capabilities {
                print("\(capability.rawValue): \(ZMQLibrary.has(capability) ? "yes" : "no")")
            }
        }
    }
}
