// zmq-demo: every classic ZeroMQ pattern over inproc://, printing what flows.
#if canImport(Glibc)
import Glibc
#endif
// Run it with `swift run zmq-demo`.
import ZMQ

func show(_ pattern: String, _ line: String) {
    print("[\(pattern)] \(line)")
}

func text(_ bytes: [UInt8]) -> String {
    String(decoding: bytes, as: UTF8.self)
}

func frames(_ parts: [[UInt8]]) -> String {
    parts.map { part in part.allSatisfy { (0x20..<0x7F).contains($0) } ? "\"\(text(part))\"" : "0x" + part.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }
        .joined(separator: " | ")
}

func pubSub() async throws {
    let publisher = try await Socket.pub().bind("inproc://demo-weather")
    let subscriber = try await Socket.sub().connect("inproc://demo-weather").subscribe("weather")
    // inproc connects at once, but a subscription still travels to the publisher asynchronously:
    // publish until the first message arrives, as any PUB/SUB program must.
    let warmUp = Task {
        while !Task.isCancelled {
            try await publisher.send("weather warming-up")
            try await Task.sleep(for: .milliseconds(2))
        }
    }
    _ = try await subscriber.recv()
    warmUp.cancel()
    _ = await warmUp.result
    try await publisher.send("news ignored: not subscribed")
    try await publisher.send("weather sunny")
    var message = try await subscriber.recv()
    while text(message) == "weather warming-up" { message = try await subscriber.recv() }
    show("PUB/SUB", "subscriber to \"weather\" received \"\(text(message))\"")
    await publisher.close()
    await subscriber.close()
}

func pushPull() async throws {
    let pull = try await Socket.pull().bind("inproc://demo-pipeline")
    let push = try await Socket.push().connect("inproc://demo-pipeline")
    for task in 1...3 { try await push.send("task \(task)") }
    for _ in 1...3 { show("PUSH/PULL", "worker pulled \"\(text(try await pull.recv()))\"") }
    await push.close()
    await pull.close()
}

func reqRep() async throws {
    let rep = try await Socket.rep().bind("inproc://demo-echo")
    let req = try await Socket.req().connect("inproc://demo-echo")
    let server = Task {
        let request = try await rep.recv()
        show("REQ/REP", "server got \"\(text(request))\"")
        try await rep.send("pong")
    }
    try await req.send("ping")
    show("REQ/REP", "client got reply \"\(text(try await req.recv()))\"")
    try await server.value
    await req.close()
    await rep.close()
}

func dealerRouter() async throws {
    let router = try await Socket.router().bind("inproc://demo-broker")
    let dealer = try await Socket.dealer().connect("inproc://demo-broker")
    try await dealer.send("hello")
    let request = try await router.recvMultipart()
    show("DEALER/ROUTER", "router got \(frames(request)) (identity frame, then content)")
    try await router.sendMultipart([request[0], Array("world".utf8)])
    show("DEALER/ROUTER", "dealer got reply \"\(text(try await dealer.recv()))\"")
    await dealer.close()
    await router.close()
}

func pair() async throws {
    let a = try await Socket.pair().bind("inproc://demo-pair")
    let b = try await Socket.pair().connect("inproc://demo-pair")
    try await a.send("from a")
    show("PAIR", "b got \"\(text(try await b.recv()))\"")
    try await b.send("from b")
    show("PAIR", "a got \"\(text(try await a.recv()))\"")
    await a.close()
    await b.close()
}

func xpubXsub() async throws {
    let xpub = try await Socket.xpub().bind("inproc://demo-xpub")
    let xsub = try await Socket.xsub().connect("inproc://demo-xpub").subscribe("alerts")
    show("XPUB/XSUB", "xpub got subscription \(frames([try await xpub.recv()]))")
    try await xpub.send("alerts disk full")
    show("XPUB/XSUB", "xsub got \"\(text(try await xsub.recv()))\"")
    await xpub.close()
    await xsub.close()
}

func stream() async throws {
    // STREAM speaks raw TCP; a second STREAM socket plays the plain TCP client.
    let server = try await Socket.stream().bind("tcp://127.0.0.1:*")
    let endpoint = await server.lastEndpoint!
    let client = try await Socket.stream().connect(endpoint)
    let serverSide = try await server.recvMultipart()
    show("STREAM", "server saw a connection: \(frames(serverSide)) (peer id, empty frame)")
    let clientSide = try await client.recvMultipart()
    try await client.sendMultipart([clientSide[0], Array("raw bytes".utf8)])
    let data = try await server.recvMultipart()
    show("STREAM", "server got \"\(text(data[1]))\" from the TCP peer")
    await client.close()
    await server.close()
}

func drafts() {
    for type in SocketType.allCases where type.isDraft {
        do {
            _ = try Socket(type)
            show("DRAFT", "\(type) socket created (libzmq has DRAFT support)")
        } catch {
            show("DRAFT", "\(error)")
        }
    }
}

print("libzmq \(ZMQLibrary.version), DRAFT API: \(ZMQLibrary.has(.draft) ? "yes" : "no")")
do {
    try await pubSub()
    try await pushPull()
    try await reqRep()
    try await dealerRouter()
    try await pair()
    try await xpubXsub()
    try await stream()
    drafts()
} catch {
    print("demo failed: \(error)")
    exit(1)
}
