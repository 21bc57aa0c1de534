// swift-tools-version: 6.2
// The libFuzzer targets (README.md here). A package of its own, so that the root package's
// `swift build` and `swift test` never see a target without `main`: libFuzzer supplies it, and only
// `swift build -Xswiftc -sanitize=fuzzer,address` links it in.
import PackageDescription

let package = Package(
    name: "swift-zmq-fuzz",
    dependencies: [.package(name: "swift-zmq", path: "..")],
    targets: [
        // libFuzzer's entry point, which every target hands over to (FuzzDriver.swift).
        .target(name: "FuzzDriver"),
        .executableTarget(name: "FuzzZAP", dependencies: ["FuzzDriver", .product(name: "ZMQ", package: "swift-zmq")]),
        .executableTarget(name: "FuzzMonitorEvent", dependencies: ["FuzzDriver", .product(name: "ZMQ", package: "swift-zmq")]),
        .executableTarget(name: "FuzzZ85", dependencies: ["FuzzDriver", .product(name: "ZMQ", package: "swift-zmq")]),
        .executableTarget(name: "FuzzCertificate", dependencies: ["FuzzDriver", .product(name: "ZMQ", package: "swift-zmq")]),
    ],
    swiftLanguageModes: [.v6]
)
