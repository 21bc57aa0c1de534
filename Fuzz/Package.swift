// swift-tools-version: 6.2
// The libFuzzer targets (README.md here). A package of its own, so that the root package's
// `swift build` and `swift test` never see a target without `main`: libFuzzer supplies it, and only
// `swift build -Xswiftc -sanitize=fuzzer,address` links it in.
import PackageDescription

let package = Package(
    name: "swift-zmq-fuzz",
    dependencies: [.package(name: "swift-zmq", path: "..")],
    targets: [
        .executableTarget(name: "FuzzZAP", dependencies: [.product(name: "ZMQ", package: "swift-zmq")]),
        .executableTarget(name: "FuzzMonitorEvent", dependencies: [.product(name: "ZMQ", package: "swift-zmq")]),
        .executableTarget(name: "FuzzZ85", dependencies: [.product(name: "ZMQ", package: "swift-zmq")]),
        .executableTarget(name: "FuzzCertificate", dependencies: [.product(name: "ZMQ", package: "swift-zmq")]),
    ],
    swiftLanguageModes: [.v6]
)
