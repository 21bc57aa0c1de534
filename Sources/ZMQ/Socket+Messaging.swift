internal import CZMQ

extension Socket {
    /// Sends `bytes` as one message.
    ///
    /// The bytes are copied into the message, as `zmq_send` does (from 8 KiB up, into a buffer the
    /// library recycles: see <doc:HowItWorks>); to hand a large array to libzmq without a copy, send
    /// `Message(bytes)` (``send(_:routingID:group:timeout:)``).
    ///
    /// Completes without suspending when the message fits under the send high-water mark, right on
    /// the caller's executor (no hop onto the socket's actor); otherwise suspends until it does (for
    /// PUB and other dropping types, libzmq drops instead of waiting).
    /// The corresponding C function is `zmq_send` with `ZMQ_DONTWAIT`.
    /// - Parameters:
    ///   - bytes: The message's bytes.
    ///   - timeout: How long to wait for room; `nil` uses ``SocketOption/sendTimeout``
    ///     (by default, forever). `.zero` only tries once.
    /// - Throws: ``ZMQError`` (for example ``ZMQError/invalidState`` for a REQ sending twice,
    ///   ``ZMQError/socketClosed``), ``ZMQError/timedOut`` when the timeout passes (nothing was sent),
    ///   or `CancellationError` if the task is cancelled while waiting.
    ///
    /// `@inlinable` so that a send that completes at once costs the caller no async call frame; the
    /// work itself is in `_sendAtOnce`, a plain function, and `_sendWaiting`, on the caller's executor.
    @inlinable
    nonisolated(nonsending) public func send(_ bytes: [UInt8], timeout: Duration? = nil) async throws {
        if try _sendAtOnce(bytes, timeout: timeout) { return }
        try await _sendWaiting(bytes, timeout: timeout)
    }

    /// The fast path of ``send(_:timeout:)-([UInt8],_)``: `true` when the message went out at once;
    /// `false` when the caller has to wait, and is now counted in line.
    @usableFromInline
    nonisolated func _sendAtOnce(_ bytes: [UInt8], timeout: Duration?) throws -> Bool {
        try completeAtOnce(.send, timeout: timeout) { handle, _, _ in try Self.send(bytes, handle) } != nil
    }

    /// The rest of a send that has to wait, on the caller's executor; the caller is already counted in line.
    @usableFromInline
    nonisolated(nonsending) func _sendWaiting(_ bytes: [UInt8], timeout: Duration?) async throws {
        try await completeWaiting(.send, timeout: timeout) { handle, _, _ in try Self.send(bytes, handle) }
    }

    @inline(__always)
    private static func send(_ bytes: [UInt8], _ handle: LibZMQ.Handle) throws -> Void? {
        try bytes.withUnsafeBytes { try LibZMQ.send(handle, $0, more: false) } ? () : nil
    }

    /// Sends the UTF-8 bytes of `text` as one message.
    ///
    /// The corresponding C function is `zmq_send` with `ZMQ_DONTWAIT`.
    /// - Parameters:
    ///   - text: The message's text, sent as its UTF-8 bytes.
    ///   - timeout: How long to wait for room; `nil` uses ``SocketOption/sendTimeout``.
    /// - Throws: as ``send(_:timeout:)-([UInt8],_)``.
    @inlinable
    nonisolated(nonsending) public func send(_ text: String, timeout: Duration? = nil) async throws {
        if try _sendAtOnce(text, timeout: timeout) { return }
        try await _sendWaiting(text, timeout: timeout)
    }

    /// The fast path of ``send(_:timeout:)-(String,_)``, as for bytes.
    @usableFromInline
    nonisolated func _sendAtOnce(_ text: String, timeout: Duration?) throws -> Bool {
        var text = text
        return try completeAtOnce(.send, timeout: timeout) { handle, _, _ in try Self.send(&text, handle) } != nil
    }

    @usableFromInline
    nonisolated(nonsending) func _sendWaiting(_ text: String, timeout: Duration?) async throws {
        var text = text
        try await completeWaiting(.send, timeout: timeout) { handle, _, _ in try Self.send(&text, handle) }
    }

    @inline(__always)
    private static func send(_ text: inout String, _ handle: LibZMQ.Handle) throws -> Void? {
        try text.withUTF8 { try LibZMQ.send(handle, UnsafeRawBufferPointer($0), more: false) } ? () : nil
    }

    /// Sends `parts` as one multipart message: peers receive all of its frames or none.
    ///
    /// Other tasks sending on the same socket wait until the whole message is out, so frames of
    /// different messages never interleave. Once the first frame has gone out the call finishes the
    /// message even if its task is cancelled or its timeout passes.
    /// The corresponding C function is `zmq_send` with `ZMQ_SNDMORE` on every frame but the last.
    /// - Parameters:
    ///   - parts: The message's frames, in order; at least one.
    ///   - timeout: How long to wait for room for the first frame; `nil` uses
    ///     ``SocketOption/sendTimeout``.
    /// - Throws: ``ZMQError/invalidArgument`` for an empty `parts`, or as ``send(_:timeout:)-([UInt8],_)``.
    public func sendMultipart(_ parts: [[UInt8]], timeout: Duration? = nil) async throws {
        guard !parts.isEmpty else { throw emptyMultipart() }
        var next = 0
        try await perform(.send, timeout: timeout) { (handle, committed) -> Void? in
            while next < parts.count {
                let more = next < parts.count - 1
                guard try parts[next].withUnsafeBytes({ try LibZMQ.send(handle, $0, more: more) }) else { return nil }
                committed = true
                next += 1
            }
            return ()
        }
    }

    /// The error for a multipart message without frames.
    nonisolated func emptyMultipart() -> ZMQError {
        ZMQError.invalidArgument.with("a multipart message needs at least one frame").on(type, "send")
    }

    /// Receives the next frame.
    ///
    /// Returns at once when a message is queued, right on the caller's executor (no hop onto the
    /// socket's actor); otherwise suspends until one arrives. For a
    /// multipart message this returns one frame per call; use ``recvMultipart(timeout:)`` to receive
    /// messages whole.
    /// The corresponding C function is `zmq_msg_recv` with `ZMQ_DONTWAIT`.
    /// - Parameter timeout: How long to wait for a message; `nil` uses ``SocketOption/receiveTimeout``
    ///   (by default, forever). `.zero` only takes a message that is already queued.
    /// - Throws: ``ZMQError``, ``ZMQError/timedOut`` when the timeout passes, or `CancellationError`
    ///   if the task is cancelled while waiting. Neither loses a message: a message taken from libzmq
    ///   is always returned.
    ///
    /// `@inlinable` so that a receive that completes at once costs the caller no async call frame.
    @inlinable
    nonisolated(nonsending) public func recv(timeout: Duration? = nil) async throws -> [UInt8] {
        if let bytes = try _recvAtOnce(timeout: timeout) { return bytes }
        return try await _recvWaiting(timeout: timeout)
    }

    /// The fast path of ``recv(timeout:)``: the frame, or `nil` when the caller has to wait and is
    /// now counted in line.
    @usableFromInline
    nonisolated func _recvAtOnce(timeout: Duration?) throws -> [UInt8]? {
        try completeAtOnce(.receive, timeout: timeout, Self.receive)
    }

    /// The rest of a receive that has to wait, on the caller's executor; the caller is already counted in line.
    @usableFromInline
    nonisolated(nonsending) func _recvWaiting(timeout: Duration?) async throws -> [UInt8] {
        try await completeReceiving(timeout: timeout, Self.receive)
    }

    /// One frame: a frame a stream handed back first, else the next from libzmq.
    @inline(__always)
    private static func receive(_ handle: LibZMQ.Handle, _ frame: UnsafeMutablePointer<zmq_msg_t>, _ unread: UnreadFrames) throws -> [UInt8]? {
        if let handedBack = unread.takeFrame() { return Array(handedBack) }
        return try LibZMQ.receive(handle, into: frame) ? LibZMQ.bytes(of: frame) : nil
    }

    /// Receives the next frame into `buffer`, replacing what it held.
    ///
    /// Like ``recv(timeout:)``, but the bytes are copied into storage you own: the buffer keeps its
    /// capacity from call to call, so a loop that receives into one buffer allocates nothing per
    /// message once the buffer has grown to the largest message (`zmq_recv` into a buffer, in C;
    /// pyzmq's `recv_into`, but never truncating), whether or not the call waits. Only a call that
    /// waited behind other receivers of the same socket, and was completed by the one ahead of it,
    /// gets its frame as a new array.
    /// ```swift
    /// var buffer: [UInt8] = []
    /// for _ in 0..<1000 {
    ///     try await pull.recv(into: &buffer)
    ///     handle(buffer)
    /// }
    /// ```
    /// The corresponding C function is `zmq_msg_recv` with `ZMQ_DONTWAIT`.
    /// - Parameters:
    ///   - buffer: Replaced by the frame's bytes; left unchanged when the call throws.
    ///   - timeout: As for ``recv(timeout:)``.
    /// - Throws: as ``recv(timeout:)``.
    @inlinable
    nonisolated(nonsending) public func recv(into buffer: inout [UInt8], timeout: Duration? = nil) async throws {
        if try _recvAtOnce(into: &buffer, timeout: timeout) { return }
        try await _recvWaiting(into: &buffer, timeout: timeout)
    }

    /// The fast path of ``recv(into:timeout:)``: `true` when `buffer` holds the next frame; `false`
    /// when the caller has to wait and is now counted in line.
    @usableFromInline
    nonisolated func _recvAtOnce(into buffer: inout [UInt8], timeout: Duration?) throws -> Bool {
        try completeAtOnce(.receive, timeout: timeout) { handle, frame, unread -> Void? in
            try Self.receive(handle, frame, unread, into: &buffer) ? () : nil
        } != nil
    }

    /// One frame into `buffer`: a frame a stream handed back first, else the next from libzmq;
    /// `false` when there is none.
    @inline(__always)
    private static func receive(_ handle: LibZMQ.Handle, _ frame: UnsafeMutablePointer<zmq_msg_t>, _ unread: UnreadFrames,
                                into buffer: inout [UInt8]) throws -> Bool {
        if let handedBack = unread.takeFrame() {
            buffer.removeAll(keepingCapacity: true)
            buffer.append(contentsOf: handedBack)
            return true
        }
        guard try LibZMQ.receive(handle, into: frame) else { return false }
        LibZMQ.copy(frame, into: &buffer)
        return true
    }

    /// The rest of a ``recv(into:timeout:)`` that has to wait, on the caller's executor; the caller
    /// is already counted in line. Woken at the head of the line, it copies the frame into `buffer`
    /// as the fast path does; served by the waiter ahead (see ``WaitQueue/serve(behind:_:limit:_:)``),
    /// which cannot reach `buffer`, it is given the frame as a new array.
    @usableFromInline
    nonisolated(nonsending) func _recvWaiting(into buffer: inout [UInt8], timeout: Duration?) async throws {
        // The outcome: `nil` when the frame is in `buffer`, the bytes when a server received them.
        let served: [UInt8]? = try await completeReceiving(timeout: timeout, servedWith: { handle, frame, unread in
            try Self.receive(handle, frame, unread).map(Optional.some)
        }, atHead: { handle, frame, unread in
            try Self.receive(handle, frame, unread, into: &buffer) ? .some(nil) : nil
        })
        if let served { buffer = served }
    }

    /// Receives the next message whole, as its list of frames.
    ///
    /// The corresponding C function is `zmq_msg_recv`, repeated while `zmq_msg_more` is set.
    /// - Parameter timeout: How long to wait for the message to start; `nil` uses
    ///   ``SocketOption/receiveTimeout``.
    /// - Throws: as ``recv(timeout:)``.
    public func recvMultipart(timeout: Duration? = nil) async throws -> [[UInt8]] {
        let frame = self.frame
        var parts: [[UInt8]] = []
        return try await perform(.receive, timeout: timeout) { (handle, committed) -> [[UInt8]]? in
            while true {
                let more: Bool
                if let unread = unread.takeFrame() {
                    parts.append(Array(unread))
                    more = unread.hasMore
                } else if try LibZMQ.receive(handle, into: frame) {
                    parts.append(LibZMQ.bytes(of: frame))
                    more = LibZMQ.more(frame)
                } else {
                    return nil
                }
                committed = true
                if !more { return parts }
            }
        }
    }
}
