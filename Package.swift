// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "swift-zmq",
    products: [
        .library(name: "ZMQ", targets: ["ZMQ"]),
        .executable(name: "zmq-demo", targets: ["zmq-demo"]),
        .executable(name: "zmq-bench", targets: ["zmq-bench"]),
    ],
    dependencies: [
        // The one dependency of the core library: the Logger a user hands to a context or socket.
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        // Debian's libzmq.pc adds an -isystem flag SwiftPM refuses; the header is in /usr/include,
        // so the providers hint alone is enough.
        .systemLibrary(
            name: "CZMQ",
            providers: [.apt(["libzmq3-dev"])]
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
            dependencies: ["ZMQ"]
        ),
        .testTarget(
            name: "ZMQTests",
            dependencies: ["ZMQ", .product(name: "Logging", package: "swift-log")],
            exclude: ["Interop/peer.py"]  // run by the interop tests with python3 and pyzmq
        ),
    ],
    swiftLanguageModes: [.v6]
)
