import Testing
@testable import ZMQ

/// `Socket.endpoints`: where a socket is bound and connected, kept right by unbind, disconnect and
/// close, with the port libzmq picked for a wildcard bind.
@Suite(.timeLimit(.minutes(1)))
struct EndpointTests {
    @Test func bindAndConnectAreListedInOrderWithTheResolvedWildcard() async throws {
        try await withTimeout {
            let name = freshEndpoint(.inproc)
            let server = try await Socket.pull().set(.linger, .zero).bind("tcp://127.0.0.1:*")
            let resolved = try #require(await server.lastEndpoint)
            try await server.bind(name)
            let endpoints = await server.endpoints
            #expect(endpoints.map(\.mode) == [.bind, .bind])
            #expect(endpoints.map(\.address) == [resolved, name])
            #expect(endpoints[0].requested == "tcp://127.0.0.1:*")
            let port = try #require(endpoints[0].port)
            #expect(port > 0 && resolved == "tcp://127.0.0.1:\(port)")
            #expect(endpoints[0].transport == "tcp" && endpoints[1].transport == "inproc" && endpoints[1].port == nil)

            let client = try await Socket.push().set(.linger, .zero).connect(resolved).connect(name)
            #expect(await client.endpoints == [Endpoint(mode: .connect, address: resolved), Endpoint(mode: .connect, address: name)])
            try await client.send("over tcp or inproc")
            #expect(try await server.recv(as: String.self) == "over tcp or inproc")

            try await client.disconnect(resolved)
            #expect(await client.endpoints.map(\.address) == [name])
            try await server.unbind(resolved)
            #expect(await server.endpoints.map(\.address) == [name])
            await #expect(throws: ZMQError.noSuchEndpoint) { try await server.unbind(resolved) }
            #expect(await server.endpoints.map(\.address) == [name], "a failed unbind changes nothing")
            await #expect(throws: ZMQError.self) { try await server.bind("tcp://127.0.0.1:99999") }
            await #expect(throws: ZMQError.self) { try await server.bind("nonsense://x") }
            #expect(await server.endpoints.count == 1, "a failed bind is not listed")

            await client.close()
            await server.close()
            #expect(await client.endpoints.isEmpty)
            #expect(await server.endpoints.isEmpty)
        }
    }

    @Test func anIPCWildcardIsListedWithThePathLibzmqMade() async throws {
        try await withTimeout {
            let socket = try await Socket.pull().set(.linger, .zero).bind("ipc://*")
            let endpoint = try #require(await socket.endpoints.first)
            #expect(endpoint.transport == "ipc" && endpoint.port == nil)
            let last = await socket.lastEndpoint
            #expect(endpoint.address != "ipc://*" && endpoint.address == last)
            try await socket.unbind(endpoint.address)
            #expect(await socket.endpoints.isEmpty)
            await socket.close()
        }
    }

    @Test func portsOfEveryNetworkTransport() {
        #expect(Endpoint(mode: .bind, address: "tcp://127.0.0.1:5555").port == 5555)
        #expect(Endpoint(mode: .bind, address: "tcp://[::1]:5556").port == 5556)
        #expect(Endpoint(mode: .connect, address: "tcp://localhost:5557").port == 5557)
        #expect(Endpoint(mode: .connect, address: "udp://239.0.0.1:5558").port == 5558)
        #expect(Endpoint(mode: .connect, address: "ws://example.com:8080/feed").port == 8080)
        #expect(Endpoint(mode: .bind, address: "ipc:///tmp/a:1").port == nil)
        #expect(Endpoint(mode: .bind, address: "inproc://a:1").port == nil)
        #expect(Endpoint(mode: .bind, address: "tcp://127.0.0.1:*").port == nil)
        #expect(Endpoint(mode: .bind, address: "tcp://127.0.0.1:41234").description == "bind tcp://127.0.0.1:41234")
    }
}
