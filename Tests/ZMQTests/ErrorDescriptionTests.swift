import Foundation
import Testing
@testable import ZMQ

/// Every error path the library throws: the description names the operation (with its endpoint,
/// option or value), the socket type where there is one, then libzmq's (or the library's) text.
@Suite(.timeLimit(.minutes(1)))
struct ErrorDescriptionTests {
    private static let efsm = ZMQError.invalidState.reason

    @Test func reqSendingTwiceNamesTheSocketAndTheOperation() async throws {
        try await withTimeout {
            let rep = try Socket.rep()
            let endpoint = try await bindFresh(rep, .inproc)
            let req = try await Socket.req().connect(endpoint)
            try await req.send("one")
            let error = await #expect(throws: ZMQError.invalidState) { try await req.send("two") }
            #expect(error?.description == "send on REQ socket: \(Self.efsm)")
            #expect(error?.operation == "send")
            #expect(error?.socketType == .req)
            // Every send flavour goes through the same path.
            let multipart = await #expect(throws: ZMQError.invalidState) { try await req.sendMultipart([[1], [2]]) }
            #expect(multipart?.description == "send on REQ socket: \(Self.efsm)")
            let message = await #expect(throws: ZMQError.invalidState) { try await req.send(Message("x")) }
            #expect(message?.description == "send on REQ socket: \(Self.efsm)")
        }
    }

    @Test func repReceivingTwiceNamesTheSocketAndTheOperation() async throws {
        try await withTimeout {
            let rep = try Socket.rep()
            let endpoint = try await bindFresh(rep, .inproc)
            let req = try await Socket.req().connect(endpoint)
            try await req.send("one")
            _ = try await rep.recv()
            let error = await #expect(throws: ZMQError.invalidState) { try await rep.recv() }
            #expect(error?.description == "receive on REP socket: \(Self.efsm)")
            let multipart = await #expect(throws: ZMQError.invalidState) { try await rep.recvMultipart() }
            #expect(multipart?.description == "receive on REP socket: \(Self.efsm)")
            let text = await #expect(throws: ZMQError.invalidState) { try await rep.recv(as: String.self) }
            #expect(text?.description == "receive on REP socket: \(Self.efsm)")
        }
    }

    @Test func timeoutsNameTheSocketTheOperationAndTheWait() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline(lingerZero: true)
            let receive = await #expect(throws: ZMQError.timedOut) { try await pull.recv(timeout: .milliseconds(20)) }
            #expect(receive?.description == "receive on PULL socket (after 20 ms): operation timed out")
            try await push.set(.sendHighWaterMark, 1)
            await pull.close()
            // Fill the pipe until a send has to wait, then see it time out.
            var sendError: ZMQError?
            for _ in 0..<10_000 {
                do { try await push.send([0], timeout: .milliseconds(20)) } catch let error as ZMQError {
                    sendError = error
                    break
                }
            }
            #expect(sendError?.description == "send on PUSH socket (after 20 ms): operation timed out")
        }
    }

    @Test func aClosedSocketNamesTheOperationTriedOnIt() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline(lingerZero: true)
            let waiting = Task { try await pull.recv() }
            try await eventually { await pull.suspendedCalls.receive == 1 }
            await pull.close()
            let woken = await #expect(throws: ZMQError.socketClosed) { try await waiting.value }
            #expect(woken?.description == "receive on PULL socket: socket is closed")
            await push.close()
            let send = await #expect(throws: ZMQError.socketClosed) { try await push.send("x") }
            #expect(send?.description == "send on PUSH socket: socket is closed")
            let bind = await #expect(throws: ZMQError.socketClosed) { try await push.bind("inproc://closed") }
            #expect(bind?.description == "bind inproc://closed on PUSH socket: socket is closed")
            let get = await #expect(throws: ZMQError.socketClosed) { try await push.get(.linger) }
            #expect(get?.description == "get ZMQ_LINGER (linger) on PUSH socket: socket is closed")
            let monitor = await #expect(throws: ZMQError.socketClosed) { try await push.monitor() }
            #expect(monitor?.description == "monitor on PUSH socket: socket is closed")
            var poller = Poller()
            poller.add(pull)
            let poll = await #expect(throws: ZMQError.socketClosed) { try await poller.poll(timeout: .zero) }
            #expect(poll?.description == "poll on PULL socket: socket is closed")
        }
    }

    @Test func endpointErrorsNameTheEndpointAndTheSocket() async throws {
        try await withTimeout {
            let first = try await Socket.rep().set(.linger, .zero).bind("tcp://127.0.0.1:*")
            let endpoint = try #require(await first.lastEndpoint)
            let second = try Socket.rep()
            let inUse = await #expect(throws: ZMQError.addressInUse) { try await second.bind(endpoint) }
            #expect(inUse?.description == "bind \(endpoint) on REP socket: \(ZMQError.addressInUse.reason)")
            let badPort = await #expect(throws: ZMQError.invalidValue) { try await second.bind("tcp://127.0.0.1:99999") }
            #expect(badPort?.description
                    == "bind tcp://127.0.0.1:99999 on REP socket (port must be 0...65535 or *): \(ZMQError.invalidValue.reason)")
            let transport = await #expect(throws: ZMQError.protocolNotSupported) { try await second.connect("nope://x") }
            #expect(transport?.description == "connect nope://x on REP socket: \(ZMQError.protocolNotSupported.reason)")
            let unbind = await #expect(throws: ZMQError.noSuchEndpoint) { try await second.unbind("inproc://never-bound") }
            #expect(unbind?.description == "unbind inproc://never-bound on REP socket: \(ZMQError.noSuchEndpoint.reason)")
            let disconnect = await #expect(throws: ZMQError.noSuchEndpoint) { try await second.disconnect("inproc://never-connected") }
            #expect(disconnect?.description == "disconnect inproc://never-connected on REP socket: \(ZMQError.noSuchEndpoint.reason)")
        }
    }

    @Test func optionErrorsNameTheOptionTheValueAndTheSocket() async throws {
        try await withTimeout {
            let push = try Socket.push()
            let refused = await #expect(throws: ZMQError.invalidValue) { try await push.set(.sendHighWaterMark, -1) }
            #expect(refused?.description == "set ZMQ_SNDHWM (sendHighWaterMark) = -1 on PUSH socket: \(ZMQError.invalidValue.reason)")
            let negative = await #expect(throws: ZMQError.invalidArgument) { try await push.set(.sendTimeout, .milliseconds(-1)) }
            #expect(negative?.description == "set ZMQ_SNDTIMEO (sendTimeout) = -1 ms on PUSH socket (must not be negative): invalid argument")
            let wrongType = await #expect(throws: ZMQError.invalidValue) { try await push.set(.routerMandatory, true) }
            #expect(wrongType?.description == "set ZMQ_ROUTER_MANDATORY (routerMandatory) = true on PUSH socket: \(ZMQError.invalidValue.reason)")
            let subscribe = await #expect(throws: ZMQError.wrongSocketType) { try await push.subscribe("x") }
            #expect(subscribe?.description
                    == "subscribe on PUSH socket (only SUB and XSUB have subscriptions): operation not supported by this socket type")
        }
    }

    @Test func argumentErrorsNameTheSocketAndTheOperation() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline(lingerZero: true)
            let empty = await #expect(throws: ZMQError.invalidArgument) { try await push.sendMultipart([[UInt8]]()) }
            #expect(empty?.description == "send on PUSH socket (a multipart message needs at least one frame): invalid argument")
            let emptyMessages = await #expect(throws: ZMQError.invalidArgument) { try await push.sendMultipart([Message]()) }
            #expect(emptyMessages?.description == "send on PUSH socket (a multipart message needs at least one frame): invalid argument")
            let timeout = await #expect(throws: ZMQError.invalidArgument) { try await pull.recv(timeout: .seconds(-1)) }
            #expect(timeout?.description == "receive on PULL socket (timeout -1.0 seconds is negative): invalid argument")
            let proxy = await #expect(throws: ZMQError.invalidArgument) { try await Socket.proxy(pull, pull) }
            #expect(proxy?.description == "proxy on PULL socket (the frontend and the backend are the same socket): invalid argument")
        }
    }

    @Test func aSocketTakenByAProxyNamesTheOperation() async throws {
        try await withTimeout {
            let (push, pull) = try await pipeline(lingerZero: true)
            let sink = try await Socket.push().set(.linger, .zero).bind("inproc://error-proxy-\(UUID())")
            let waiting = Task { try await pull.recv() }
            try await eventually { await pull.suspendedCalls.receive == 1 }
            let proxy = Task { try await Socket.proxy(pull, sink) }
            let takenOver = await #expect(throws: ZMQError.inUseByProxy) { try await waiting.value }
            #expect(takenOver?.description == "receive on PULL socket (taken over by a proxy): socket is in use by a proxy")
            let direct = await #expect(throws: ZMQError.inUseByProxy) { try await pull.recv(timeout: .zero) }
            #expect(direct?.description == "receive on PULL socket: socket is in use by a proxy")
            proxy.cancel()
            _ = await proxy.result
            _ = push
        }
    }

    @Test func proxyFailuresNameTheProxy() async throws {
        try await withTimeout {
            let context = try Context()
            let front = try await Socket.pull(context: context).set(.linger, .zero).bind("inproc://error-front-\(UUID())")
            let back = try await Socket.push(context: context).set(.linger, .zero).bind("inproc://error-back-\(UUID())")
            let capture = await #expect(throws: ZMQError.invalidArgument) { try await Socket.proxy(front, back, capture: back) }
            #expect(capture?.description == "proxy on PUSH socket (the capture socket is also the frontend or the backend): invalid argument")
            let proxy = Task { try await Socket.proxy(front, back) }
            try await eventually { let lent = (await front.lentToProxy, await back.lentToProxy); return lent.0 && lent.1 }
            context.shutdown()
            let ended = await #expect(throws: ZMQError.contextTerminated) { try await proxy.value }
            // Which of the loop's libzmq calls met the shutdown first varies; the proxy is named either way.
            let description = try #require(ended?.description)
            #expect(description.hasPrefix("proxy between PULL and PUSH sockets"), "\(description)")
            #expect(description.hasSuffix(": \(ZMQError.contextTerminated.reason)"), "\(description)")
            await front.close()
            await back.close()
        }
    }

    @Test func routingFailuresNameTheSocket() async throws {
        try await withTimeout {
            let router = try await Socket.router().set(.routerMandatory, true).bind("inproc://error-router-\(UUID())")
            let error = await #expect(throws: ZMQError.hostUnreachable) { try await router.sendMultipart([Array("nobody".utf8), [1]]) }
            #expect(error?.description == "send on ROUTER socket: \(ZMQError.hostUnreachable.reason)")
        }
    }

    @Test func aTerminatedContextNamesTheOperation() async throws {
        try await withTimeout {
            let context = try Context()
            let pull = try await Socket.pull(context: context).set(.linger, .zero)
            let waiting = Task { try await pull.recv() }
            try await eventually { await pull.suspendedCalls.receive == 1 }
            context.shutdown()
            let error = await #expect(throws: ZMQError.contextTerminated) { try await waiting.value }
            #expect(error?.description == "receive on PULL socket: \(ZMQError.contextTerminated.reason)")
            await pull.close()
        }
    }

    @Test func errorsWithoutASocketNameTheOperation() throws {
        let z85 = #expect(throws: ZMQError.invalidArgument) { try Z85.decode("abc") }
        #expect(z85?.description == "Z85 decode (3 characters that are not Z85 text): invalid argument")
        let encode = #expect(throws: ZMQError.invalidArgument) { try Z85.encode([1, 2, 3]) }
        #expect(encode?.description == "Z85 encode (Z85 encodes a multiple of 4 bytes, not 3): invalid argument")
        let key = #expect(throws: ZMQError.invalidArgument) { try CurveKeyPair(secretKey: [1]) }
        #expect(key?.description == "derive a CURVE public key (a CURVE secret key is 32 bytes, not 1): invalid argument")
        let context = #expect(throws: ZMQError.invalidArgument) { try Context(ioThreads: -1) }
        #expect(context?.description.hasPrefix("create a context with -1 I/O threads (ioThreads must be 0...") == true)
    }

    @Test func callsATypeLacksNameTheTypeAndTheCall() async throws {
        let sub = try Socket.sub()
        let join = await #expect(throws: ZMQError.wrongSocketType) { try await sub.join("weather") }
        #expect(join?.description == "join weather on SUB socket (only DISH sockets join groups): operation not supported by this socket type")
        let peer = await #expect(throws: ZMQError.wrongSocketType) { try await sub.connectPeer("tcp://127.0.0.1:5555") }
        #expect(peer?.description
                == "connectPeer tcp://127.0.0.1:5555 on SUB socket (only PEER sockets have it): operation not supported by this socket type")
        await sub.close()
    }

    @Test func pollErrorsNameThePoll() async throws {
        let empty = Poller()
        let forever = await #expect(throws: ZMQError.invalidArgument) { try await empty.poll() }
        #expect(forever?.description == "poll (polling no sockets without a timeout would never return): invalid argument")
        let negative = await #expect(throws: ZMQError.invalidArgument) { try await empty.poll(timeout: .seconds(-1)) }
        #expect(negative?.description == "poll (timeout -1.0 seconds is negative): invalid argument")
    }

    @Test(.enabled(if: !ZMQLibrary.has(.draft), "only a libzmq without DRAFT refuses DRAFT types"))
    func aDraftTypeWithoutDraftSupportNamesTheType() {
        let error = #expect(throws: ZMQError.draftUnavailable) { try Socket(.server) }
        #expect(error?.description == "create a SERVER socket: \(ZMQError.draftUnavailable.reason)")
    }

    @Test func contextOptionErrorsNameTheOption() async throws {
        let context = try Context()
        let socket = try Socket.pair(context: context)
        let late = #expect(throws: ZMQError.invalidArgument) { try context.set(.ioThreads, 4) }
        #expect(late?.description
                == "set ZMQ_IO_THREADS (ioThreads) = 4 (only takes effect before the context's first socket): invalid argument")
        await socket.close()
    }

    @Test func descriptionsEscapeBytesThatAreNotPrintable() async throws {
        #expect(ZMQError(code: EINVAL, detail: "a\0b\nc\td\r\\e").description
                == "a\\0b\\nc\\td\\r\\\\e: \(ZMQError.invalidValue.reason)")
        // Control and format characters (an ESC sequence, a right-to-left override), not other text.
        #expect(ZMQError(code: EINVAL, detail: "\u{1B}[2J\u{202E}é→").description
                == "\\u{1B}[2J\\u{202E}é→: \(ZMQError.invalidValue.reason)")
        // An endpoint from outside, with a forged log line in it, stays on one line.
        let socket = try Socket.req()
        let error = await #expect(throws: ZMQError.self) { try await socket.connect("evil\n2026-01-01 INFO all good://x") }
        let description = try #require(error?.description)
        #expect(!description.contains("\n"))
        #expect(description.hasPrefix("connect evil\\n2026-01-01 INFO all good://x on REQ socket: "))
    }

    @Test func errorsStillMatchByKindAndCodeWhateverTheirContext() {
        let contextual = ZMQError.timedOut.with("after 5 ms").on(.pull, "receive")
        #expect(contextual == ZMQError.timedOut)
        #expect(contextual.hashValue == ZMQError.timedOut.hashValue)
        #expect(ZMQError.timedOut.description == "operation timed out")
        #expect(ZMQError.invalidState.on(.req, "send").on(.rep, "receive").description == "send on REQ socket: \(Self.efsm)",
                "the innermost context wins")
    }
}
