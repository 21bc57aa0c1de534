internal import CZMQ
#if canImport(Glibc)
import Glibc
#endif

/// The layer that calls libzmq's socket and message functions (the proxy's loop and the DRAFT group
/// calls, looked up at run time, use it too; `Context` makes its own few context calls). Everything
/// here is synchronous and non-blocking; EINTR is retried; EAGAIN is a `nil`/`false` result, not an
/// error.
enum LibZMQ {
    typealias Handle = UnsafeMutableRawPointer

    /// Runs `call` until it does not fail with EINTR; returns its result, or throws the libzmq error
    /// naming `operation` (built only then).
    @inline(__always)
    static func check(_ operation: @autoclosure () -> String? = nil, _ call: () -> Int32) throws(ZMQError) -> Int32 {
        while true {
            let rc = call()
            if rc >= 0 { return rc }
            let code = zmq_errno()
            if code == EINTR { continue }
            throw ZMQError(kind: .libzmq, code: code, operation: operation(), detail: nil)
        }
    }

    /// Like ``check(_:_:)`` but maps EAGAIN to `nil`.
    @inline(__always)
    static func nonBlocking(_ call: () -> Int32) throws(ZMQError) -> Int32? {
        while true {
            let rc = call()
            if rc >= 0 { return rc }
            let code = zmq_errno()
            if code == EINTR { continue }
            if code == EAGAIN { return nil }
            throw ZMQError(code: code)
        }
    }

    static func socket(_ context: Context, _ type: SocketType) throws(ZMQError) -> Handle {
        guard let handle = zmq_socket(context.handle, type.rawValue) else {
            throw ZMQError.last("create a \(type) socket")
        }
        return handle
    }

    static func close(_ handle: Handle) {
        _ = zmq_close(handle)
    }

    // MARK: Options

    static func setOption(_ handle: Handle, _ option: Int32, _ value: Int32, _ name: @autoclosure () -> String) throws(ZMQError) {
        var value = value
        _ = try check(name()) { zmq_setsockopt(handle, option, &value, MemoryLayout<Int32>.size) }
    }

    static func setOption(_ handle: Handle, _ option: Int32, _ value: Int64, _ name: @autoclosure () -> String) throws(ZMQError) {
        var value = value
        _ = try check(name()) { zmq_setsockopt(handle, option, &value, MemoryLayout<Int64>.size) }
    }

    static func setOption(_ handle: Handle, _ option: Int32, _ value: UInt64, _ name: @autoclosure () -> String) throws(ZMQError) {
        var value = value
        _ = try check(name()) { zmq_setsockopt(handle, option, &value, MemoryLayout<UInt64>.size) }
    }

    static func setOption(_ handle: Handle, _ option: Int32, bytes: [UInt8], _ name: String) throws(ZMQError) {
        _ = try check(name) {
            bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        }
    }

    static func int32Option(_ handle: Handle, _ option: Int32, _ name: @autoclosure () -> String) throws(ZMQError) -> Int32 {
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        _ = try check(name()) { zmq_getsockopt(handle, option, &value, &size) }
        return value
    }

    static func int64Option(_ handle: Handle, _ option: Int32, _ name: @autoclosure () -> String) throws(ZMQError) -> Int64 {
        var value: Int64 = 0
        var size = MemoryLayout<Int64>.size
        _ = try check(name()) { zmq_getsockopt(handle, option, &value, &size) }
        return value
    }

    static func uint64Option(_ handle: Handle, _ option: Int32, _ name: @autoclosure () -> String) throws(ZMQError) -> UInt64 {
        var value: UInt64 = 0
        var size = MemoryLayout<UInt64>.size
        _ = try check(name()) { zmq_getsockopt(handle, option, &value, &size) }
        return value
    }

    /// Reads a binary option of at most `capacity` bytes.
    static func bytesOption(_ handle: Handle, _ option: Int32, capacity: Int = 256, _ name: @autoclosure () -> String) throws(ZMQError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: capacity)
        var size = capacity
        _ = try check(name()) { buffer.withUnsafeMutableBytes { zmq_getsockopt(handle, option, $0.baseAddress, &size) } }
        return Array(buffer.prefix(size))
    }

    /// Reads a NUL-terminated string option; an empty string reads as `nil`.
    static func stringOption(_ handle: Handle, _ option: Int32, _ name: @autoclosure () -> String) throws(ZMQError) -> String? {
        var bytes = try bytesOption(handle, option, capacity: 1024, name())
        if let nul = bytes.firstIndex(of: 0) { bytes.removeSubrange(nul...) }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }

    /// Sets an option from its C representation; an empty byte string is passed as `NULL`, which is
    /// how libzmq clears string options (and resets PLAIN credentials to the NULL mechanism).
    static func setOption(_ handle: Handle, _ option: Int32, _ value: OptionValue, _ detail: @autoclosure () -> String) throws(ZMQError) {
        switch value {
        case .int32(let value): try setOption(handle, option, value, detail())
        case .int64(let value): try setOption(handle, option, value, detail())
        case .uint64(let value): try setOption(handle, option, value, detail())
        case .bytes(let bytes):
            _ = try check(detail()) {
                bytes.isEmpty
                    ? zmq_setsockopt(handle, option, nil, 0)
                    : bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
            }
        }
    }

    /// Reads an option in its C representation.
    static func option(_ handle: Handle, _ option: Int32, _ layout: OptionLayout, _ detail: @autoclosure () -> String) throws(ZMQError) -> OptionValue {
        switch layout {
        case .int32: return .int32(try int32Option(handle, option, detail()))
        case .int64: return .int64(try int64Option(handle, option, detail()))
        case .uint64: return .uint64(try uint64Option(handle, option, detail()))
        case .bytes(let capacity): return .bytes(try bytesOption(handle, option, capacity: capacity, detail()))
        case .string(let capacity):
            var bytes = try bytesOption(handle, option, capacity: capacity, detail())
            if let nul = bytes.firstIndex(of: 0) { bytes.removeSubrange(nul...) }
            return .bytes(bytes)
        }
    }

    // MARK: Context options

    /// Sets a context option. `zmq_ctx_set` is thread-safe, so any thread may call it.
    static func setContextOption(_ context: UnsafeMutableRawPointer, _ option: Int32, _ value: Int32, _ detail: @autoclosure () -> String) throws(ZMQError) {
        _ = try check(detail()) { zmq_ctx_set(context, option, value) }
    }

    /// Reads a context option. Every readable context option is a non-negative `int`, except the
    /// scheduling policy, whose default is -1; so -1 with `errno` set is the only failure.
    static func contextOption(_ context: UnsafeMutableRawPointer, _ option: Int32, _ detail: @autoclosure () -> String) throws(ZMQError) -> Int32 {
        while true {
            errno = 0
            let value = zmq_ctx_get(context, option)
            if value != -1 { return value }
            let code = zmq_errno()
            if code == 0 { return value }
            if code == EINTR { continue }
            throw ZMQError(kind: .libzmq, code: code, operation: detail(), detail: nil)
        }
    }

    /// The socket's readiness (`ZMQ_EVENTS`): `ZMQ_POLLIN` and/or `ZMQ_POLLOUT`. Reading it also
    /// processes the socket's pending commands, which consumes the edge on `ZMQ_FD`.
    @inline(__always)
    static func events(_ handle: Handle) throws(ZMQError) -> Int32 {
        try int32Option(handle, ZMQ_EVENTS, "ZMQ_EVENTS")
    }

    static func hasMore(_ handle: Handle) throws(ZMQError) -> Bool {
        try int32Option(handle, ZMQ_RCVMORE, "ZMQ_RCVMORE") != 0
    }

    // MARK: Messages

    /// Sends one frame without blocking, copying `bytes`; `false` means libzmq would block (EAGAIN).
    /// A frame of kilobytes is copied into a recycled buffer (see ``SendBuffers``), a smaller one by
    /// `zmq_send`.
    @inline(__always)
    static func send(_ handle: Handle, _ bytes: UnsafeRawBufferPointer, more: Bool) throws(ZMQError) -> Bool {
        if bytes.count >= SendBuffers.threshold && bytes.count <= SendBuffers.largest {
            return try SendBuffers.send(handle, bytes, more: more)
        }
        let flags = ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)
        return try nonBlocking { zmq_send(handle, bytes.baseAddress, bytes.count, flags) } != nil
    }

    /// Receives one frame into `message` without blocking; `false` means nothing is queued (EAGAIN).
    @inline(__always)
    static func receive(_ handle: Handle, into message: UnsafeMutablePointer<zmq_msg_t>) throws(ZMQError) -> Bool {
        try nonBlocking { zmq_msg_recv(message, handle, ZMQ_DONTWAIT) } != nil
    }

    /// Copies a received frame's bytes out of `message`.
    @inline(__always)
    static func bytes(of message: UnsafeMutablePointer<zmq_msg_t>) -> [UInt8] {
        let size = zmq_msg_size(message)
        guard size > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: zmq_msg_data(message), count: size))
    }

    /// Replaces `buffer`'s contents with the bytes of `message`, keeping its capacity.
    ///
    /// Sizes the buffer first (usually it already has the size: messages of one kind tend to keep
    /// theirs), then copies in place; `removeAll` and `append` cost several times the copy.
    @inline(__always)
    static func copy(_ message: UnsafeMutablePointer<zmq_msg_t>, into buffer: inout [UInt8]) {
        let source = UnsafeRawBufferPointer(start: zmq_msg_data(message), count: zmq_msg_size(message))
        if buffer.count > source.count {
            buffer.removeLast(buffer.count - source.count)
        } else if buffer.count < source.count {
            buffer.append(contentsOf: repeatElement(0, count: source.count - buffer.count))
        }
        buffer.withUnsafeMutableBytes { $0.copyMemory(from: source) }
    }

    @inline(__always)
    static func more(_ message: UnsafeMutablePointer<zmq_msg_t>) -> Bool {
        zmq_msg_more(message) != 0
    }

    // MARK: Message objects

    /// A new empty `zmq_msg_t` on the heap: libzmq keeps messages of up to 33 bytes inside the
    /// `zmq_msg_t` itself, so it must never move while anything points into it.
    static func newFrame() -> UnsafeMutablePointer<zmq_msg_t> {
        let frame = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
        zmq_msg_init(frame)
        return frame
    }

    /// Releases `frame`'s content (or its share of it) and the `zmq_msg_t` itself.
    static func freeFrame(_ frame: UnsafeMutablePointer<zmq_msg_t>) {
        zmq_msg_close(frame)
        frame.deallocate()
    }

    /// Gives `frame` a libzmq-owned buffer of `count` uninitialised bytes and returns it.
    static func initFrame(_ frame: UnsafeMutablePointer<zmq_msg_t>, count: Int) throws(ZMQError) -> UnsafeMutableRawBufferPointer {
        _ = try check("allocate a \(count)-byte message") { zmq_msg_init_size(frame, count) }
        return UnsafeMutableRawBufferPointer(start: zmq_msg_data(frame), count: count)
    }

    /// Makes `frame` point at `bytes` without copying them. libzmq holds `owner` (retained here)
    /// until the last message sharing the bytes is gone, then releases it from whichever thread
    /// closes that message, often one of its I/O threads; `owner` keeps `bytes` alive until then.
    static func initFrame(_ frame: UnsafeMutablePointer<zmq_msg_t>, noCopy bytes: UnsafeRawBufferPointer, owner: AnyObject) throws(ZMQError) {
        let hint = Unmanaged.passRetained(owner).toOpaque()
        let data = UnsafeMutableRawPointer(mutating: bytes.baseAddress)
        do {
            _ = try check("share a \(bytes.count)-byte message") {
                zmq_msg_init_data(frame, data, bytes.count, { _, hint in
                    Unmanaged<AnyObject>.fromOpaque(hint!).release()
                }, hint)
            }
        } catch {
            // zmq_msg_init_data fails only when it cannot allocate, and then it has not taken the owner.
            Unmanaged<AnyObject>.fromOpaque(hint).release()
            throw error
        }
    }

    /// Makes `destination` share `source`'s content: large contents gain a reference instead of
    /// being copied (libzmq copies only the up-to-33-byte contents stored inline).
    static func share(_ source: UnsafeMutablePointer<zmq_msg_t>, into destination: UnsafeMutablePointer<zmq_msg_t>) throws(ZMQError) {
        _ = try check("zmq_msg_copy") { zmq_msg_copy(destination, source) }
    }

    /// Moves `source`'s content into `destination`, leaving `source` empty.
    static func move(_ source: UnsafeMutablePointer<zmq_msg_t>, into destination: UnsafeMutablePointer<zmq_msg_t>) {
        _ = zmq_msg_move(destination, source)
    }

    /// The bytes of `frame`, valid while its content is not closed or moved.
    @inline(__always)
    static func contents(of frame: UnsafeMutablePointer<zmq_msg_t>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: zmq_msg_data(frame), count: zmq_msg_size(frame))
    }

    /// Sends `frame` without blocking; on success libzmq has taken its content and `frame` is empty.
    /// `false` means libzmq would block (EAGAIN) and `frame` is unchanged.
    @inline(__always)
    static func send(_ handle: Handle, frame: UnsafeMutablePointer<zmq_msg_t>, more: Bool) throws(ZMQError) -> Bool {
        let flags = ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)
        return try nonBlocking { zmq_msg_send(frame, handle, flags) } != nil
    }

    /// A metadata property of a received frame (`zmq_msg_gets`), or `nil` when the connection has none.
    static func metadata(_ frame: UnsafeMutablePointer<zmq_msg_t>, _ property: String) -> String? {
        guard let value = zmq_msg_gets(frame, property) else { return nil }
        return String(cString: value)
    }

    // MARK: Endpoints

    /// `zmq_bind`; the error names the endpoint.
    static func bind(_ handle: Handle, _ endpoint: String) throws(ZMQError) {
        _ = try check("bind \(endpoint)") { zmq_bind(handle, endpoint) }
    }

    /// `zmq_connect`; the error names the endpoint.
    static func connect(_ handle: Handle, _ endpoint: String) throws(ZMQError) {
        _ = try check("connect \(endpoint)") { zmq_connect(handle, endpoint) }
    }

    /// `zmq_unbind`; the error names the endpoint.
    static func unbind(_ handle: Handle, _ endpoint: String) throws(ZMQError) {
        _ = try check("unbind \(endpoint)") { zmq_unbind(handle, endpoint) }
    }

    /// `zmq_disconnect`; the error names the endpoint.
    static func disconnect(_ handle: Handle, _ endpoint: String) throws(ZMQError) {
        _ = try check("disconnect \(endpoint)") { zmq_disconnect(handle, endpoint) }
    }

    // MARK: Monitoring

    /// `zmq_socket_monitor`: reports `events` on a PAIR socket bound at `endpoint` (inproc);
    /// a `nil` endpoint stops monitoring.
    static func monitor(_ handle: Handle, endpoint: String?, events: Int32) throws(ZMQError) {
        _ = try check(endpoint == nil ? "stop monitoring" : "monitor") { zmq_socket_monitor(handle, endpoint, events) }
    }

    // MARK: CURVE keys and Z85

    /// `zmq_curve_keypair`: a new key pair, each key as 40 Z85 characters.
    static func curveKeyPair() throws(ZMQError) -> (public: String, secret: String) {
        var publicKey = [CChar](repeating: 0, count: 41)
        var secretKey = [CChar](repeating: 0, count: 41)
        _ = try check("generate a CURVE key pair (zmq_curve_keypair)") { zmq_curve_keypair(&publicKey, &secretKey) }
        return (text(publicKey), text(secretKey))
    }

    /// `zmq_curve_public`: the public key (40 Z85 characters) of a Z85 secret key.
    static func curvePublic(ofSecret secret: String) throws(ZMQError) -> String {
        var publicKey = [CChar](repeating: 0, count: 41)
        _ = try check("derive a CURVE public key (zmq_curve_public)") { zmq_curve_public(&publicKey, secret) }
        return text(publicKey)
    }

    /// `zmq_z85_encode`; `bytes.count` must be a multiple of 4.
    static func z85Encode(_ bytes: [UInt8]) -> String? {
        var text = [CChar](repeating: 0, count: bytes.count / 4 * 5 + 1)
        guard zmq_z85_encode(&text, bytes, bytes.count) != nil else { return nil }
        return Self.text(text)
    }

    /// The text of a NUL-terminated C string held in an array.
    private static func text(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `zmq_z85_decode`; `nil` for text that is not Z85 (or whose length is not a multiple of 5).
    static func z85Decode(_ text: String) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: text.utf8.count / 5 * 4)
        guard zmq_z85_decode(&bytes, text) != nil else { return nil }
        return bytes
    }

    // MARK: Proxy

    /// Receives one frame and throws it away; `false` means nothing is queued (EAGAIN).
    static func discard(_ handle: Handle) throws(ZMQError) -> Bool {
        var byte: UInt8 = 0
        return try nonBlocking { zmq_recv(handle, &byte, 1, ZMQ_DONTWAIT) } != nil
    }

    /// Sends a one-byte frame without blocking; `false` means libzmq would block (EAGAIN).
    static func sendByte(_ handle: Handle, _ byte: UInt8) throws(ZMQError) -> Bool {
        var byte = byte
        return try nonBlocking { zmq_send(handle, &byte, 1, ZMQ_DONTWAIT) } != nil
    }

    /// Waits until one of `items` is ready and returns how many are; `timeout` is in milliseconds,
    /// -1 for no limit. This blocks its thread: call it only from a thread of its own, never from
    /// Swift's cooperative pool.
    @inline(__always)
    static func poll(_ items: UnsafeMutablePointer<zmq_pollitem_t>, count: Int32, timeout: Int) throws(ZMQError) -> Int32 {
        try check("zmq_poll") { zmq_poll(items, count, timeout) }
    }
}
