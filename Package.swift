// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "swift-zmq",
    products: [
        .library(name: "ZMQ", targets: ["ZMQ"]),
        .executable(name: "zmq-demo", targets: ["zmq-demo"]),
        .executable(name: "zmq-bench", targets: ["zmq-bench"]),
        .executable(name: "zmq", targets: ["zmq-tool"]),
    ],
    dependencies: [
        // The command-line tool's parser only (the zmq-tool target).
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // The one dependency of the core library: the Logger a user hands to a context or socket.
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        // Documentation only: `swift package generate-documentation --target ZMQ` (see ZMQ.docc).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // libzmq: Debian/Ubuntu's libzmq3-dev, Homebrew's zeromq. No `pkgConfig:`: Debian's libzmq.pc
        // adds an -isystem flag that SwiftPM refuses with a warning on every build, and the header is
        // in /usr/include. SwiftPM prints `providers` only after a failed pkg-config lookup, so a
        // missing zmq.h is reported by Sources/CZMQ/shim.h, naming the same packages.
        .systemLibrary(
            name: "CZMQ",
            providers: [.apt(["libzmq3-dev"]), .brew(["zeromq"])]
        ),
        .target(
            name: "ZMQ",
            dependencies: ["CZMQ", .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "zmq-demo",
            dependencies: ["ZMQ"]
        ),
        // The benchmark (Benchmarks/README.md): `swift run -c release zmq-bench WORKLOAD SIZE COUNT`.
        .executableTarget(
            name: "zmq-bench",
            dependencies: ["BenchmarkWorkloads"]
        ),
        // The benchmark's workloads, shared by zmq-bench and `zmq bench`.
        .target(
            name: "BenchmarkWorkloads",
            dependencies: ["ZMQ"]
        ),
        // The `zmq` command-line tool (Sources/ZMQ/ZMQ.docc/CommandLineTool.md): `swift run zmq --help`.
        .executableTarget(
            name: "zmq-tool",
            dependencies: [
                "ZMQ",
                "BenchmarkWorkloads",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "ZMQTests",
            dependencies: ["ZMQ", .product(name: "Logging", package: "swift-log")],
            exclude: ["Interop/peer.py"]  // run by the interop tests with python3 and pyzmq
        ),
        // End-to-end tests of the `zmq` tool: they run the built binary (which `swift build` and
        // `swift test` build) as a subprocess.
        .testTarget(
            name: "ZMQToolTests",
            dependencies: ["ZMQ"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
