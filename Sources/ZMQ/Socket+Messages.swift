internal import CZMQ
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Socket {
    /// Sends `message` without copying its bytes: libzmq takes a reference to the message's content.
    ///
    /// The message stays valid and unchanged, so it can be sent again (on this socket or another)
    /// and still not be copied. Waits like ``send(_:timeout:)-([UInt8],_)`` when the high-water mark is reached.
    /// The corresponding C functions are `zmq_msg_copy` and `zmq_msg_send` with `ZMQ_DONTWAIT`.
    ///
    /// `routingID` and `group` address the message on the DRAFT socket types that need it: a SERVER
    /// replies, and a PEER sends, to the peer with that ``Message/routingID``; a RADIO publishes in
    /// `group` (up to 15 bytes) to the DISH sockets that joined it. Leave them `nil` elsewhere.
    /// - Throws: as ``send(_:timeout:)-([UInt8],_)``.
    public func send(_ message: Message, routingID: UInt32? = nil, group: String? = nil, timeout: Duration? = nil) async throws {
        if let group { try refuseNUL(group, "send in group") }
        let frame: UnsafeMutablePointer<zmq_msg_t>
        do {
            frame = try message.storage.shareForSending()
        } catch {
            throw error.on(type, "send")
        }
        defer { LibZMQ.freeFrame(frame) }
        if routingID != nil || group != nil {
            do {
                try DraftAPI.address(frame, routingID: routingID, group: group)
            } catch {
                throw error.on(type, "send")
            }
        }
        try await perform(.send, timeout: timeout) { handle, _ in
            try LibZMQ.send(handle, frame: frame, more: false) ? () : nil
        }
    }

    /// Sends `bytes` to the peer with `routingID` (a SERVER's reply, a PEER's message); see
    /// ``send(_:routingID:group:timeout:)``.
    public func send(_ bytes: [UInt8], routingID: UInt32, timeout: Duration? = nil) async throws {
        try await send(Message(bytes), routingID: routingID, timeout: timeout)
    }

    /// Sends `bytes` in `group` (a RADIO's message); see ``send(_:routingID:group:timeout:)``.
    public func send(_ bytes: [UInt8], group: String, timeout: Duration? = nil) async throws {
        try await send(Message(bytes), group: group, timeout: timeout)
    }

    /// Sends the UTF-8 bytes of `text` to the peer with `routingID`; see ``send(_:routingID:group:timeout:)``.
    public func send(_ text: String, routingID: UInt32, timeout: Duration? = nil) async throws {
        try await send(Message(text), routingID: routingID, timeout: timeout)
    }

    /// Sends the UTF-8 bytes of `text` in `group`; see ``send(_:routingID:group:timeout:)``.
    public func send(_ text: String, group: String, timeout: Duration? = nil) async throws {
        try await send(Message(text), group: group, timeout: timeout)
    }

    /// Sends the bytes of `data` as one message, without copying them from 1 KiB up
    /// (see ``Message/init(_:)-(Data)``).
    ///
    /// The corresponding C function is `zmq_msg_send` with `ZMQ_DONTWAIT`.
    /// - Throws: as ``send(_:timeout:)-([UInt8],_)``.
    public func send(_ data: Data, timeout: Duration? = nil) async throws {
        try await send(Message(data), timeout: timeout)
    }

    /// Sends `parts` as one multipart message without copying their bytes: peers receive all of
    /// its frames or none. Behaves like ``sendMultipart(_:timeout:)-([[UInt8]],_)`` in every other way.
    ///
    /// The corresponding C function is `zmq_msg_send` with `ZMQ_SNDMORE` on every frame but the last.
    /// - Throws: ``ZMQError/invalidArgument`` for an empty `parts`, or as ``send(_:timeout:)-([UInt8],_)``.
    @_disfavoredOverload  // so that `sendMultipart([])` still means the `[[UInt8]]` overload
    public func sendMultipart(_ parts: [Message], timeout: Duration? = nil) async throws {
        try await sendMultipart(parts as [any MessageFrame], timeout: timeout)
    }

    /// Sends `parts`, frames of any ``MessageFrame`` type mixed (`[UInt8]`, `Data`, `String`,
    /// ``Message``), as one multipart message: peers receive all of its frames or none.
    ///
    /// ```swift
    /// try await router.sendMultipart([identity, Message(), "status", try JSONEncoder().encode(status)])
    /// ```
    /// ``Message`` frames are sent without copying their bytes; the others are copied, as by
    /// ``sendMultipart(_:timeout:)-([[UInt8]],_)``, which this behaves like in every other way.
    /// Runs on the caller's executor, so the frames need not be `Sendable`.
    ///
    /// The corresponding C functions are `zmq_send` and `zmq_msg_send`, with `ZMQ_SNDMORE` on every
    /// frame but the last.
    /// - Throws: ``ZMQError/invalidArgument`` for an empty `parts`, or as ``send(_:timeout:)-([UInt8],_)``.
    @_disfavoredOverload  // so that a literal of byte arrays still means the `[[UInt8]]` overload
    nonisolated(nonsending) public func sendMultipart(_ parts: [any MessageFrame], timeout: Duration? = nil) async throws {
        guard !parts.isEmpty else { throw emptyMultipart() }
        // Messages are shared with libzmq up front (nil for the frames copied at the send).
        var shared: [UnsafeMutablePointer<zmq_msg_t>?] = []
        shared.reserveCapacity(parts.count)
        defer { for case let frame? in shared { LibZMQ.freeFrame(frame) } }
        do {
            for part in parts { shared.append(try (part as? Message)?.storage.shareForSending()) }
        } catch {
            throw ZMQError.adding(type, "send", to: error)
        }

        var next = 0
        try await perform(.send, timeout: timeout) { (handle, committed) -> Void? in
            while next < parts.count {
                let more = next < parts.count - 1
                let sent = try shared[next].map { try LibZMQ.send(handle, frame: $0, more: more) }
                    ?? parts[next].withFrameBytes { try LibZMQ.send(handle, $0, more: more) }
                guard sent else { return nil }
                committed = true
                next += 1
            }
            return ()
        }
    }

    /// Receives the next frame as a ``Message``, without copying its bytes out of libzmq.
    ///
    /// Use this for large messages, for the more-frames flag, and for the connection's metadata
    /// (``Message/peerAddress`` and the like). Waits and handles cancellation like ``recv(timeout:)``.
    /// The corresponding C function is `zmq_msg_recv` with `ZMQ_DONTWAIT`.
    /// - Throws: as ``recv(timeout:)``.
    ///
    /// Like ``recv(timeout:)``, it completes on the caller's executor when a message is queued, and
    /// is `@inlinable` so that doing so costs no async call frame.
    @inlinable
    nonisolated(nonsending) public func recv(as type: Message.Type, timeout: Duration? = nil) async throws -> Message {
        if let message = try _recvMessageAtOnce(timeout: timeout) { return message }
        return try await _recvMessageWaiting(timeout: timeout)
    }

    /// The fast path of ``recv(as:timeout:)-(Message.Type,_)``: the frame, or `nil` when the caller
    /// has to wait and is now counted in line.
    @usableFromInline
    nonisolated func _recvMessageAtOnce(timeout: Duration?) throws -> Message? {
        try completeAtOnce(.receive, timeout: timeout, Self.receiveMessage)
    }

    /// The rest of a receive that has to wait, on the caller's executor; the caller is already counted in line.
    @usableFromInline
    nonisolated(nonsending) func _recvMessageWaiting(timeout: Duration?) async throws -> Message {
        try await completeReceiving(timeout: timeout, Self.receiveMessage)
    }

    @inline(__always)
    private static func receiveMessage(_ handle: LibZMQ.Handle, _ frame: UnsafeMutablePointer<zmq_msg_t>, _ unread: UnreadFrames) throws -> Message? {
        if let handedBack = unread.takeFrame() { return handedBack }
        return try LibZMQ.receive(handle, into: frame) ? Message(moving: frame) : nil
    }

    /// Receives the next frame as text, decoding its bytes as UTF-8 (a copy; invalid sequences
    /// become U+FFFD). Waits and handles cancellation like ``recv(timeout:)``.
    ///
    /// The corresponding C function is `zmq_msg_recv` with `ZMQ_DONTWAIT`.
    /// - Throws: as ``recv(timeout:)``.
    public func recv(as type: String.Type, timeout: Duration? = nil) async throws -> String {
        let frame = self.frame
        return try await perform(.receive, timeout: timeout) { handle, _ in
            if let unread = unread.takeFrame() { return String(decoding: unread, as: UTF8.self) }
            guard try LibZMQ.receive(handle, into: frame) else { return nil }
            return String(decoding: LibZMQ.contents(of: frame).assumingMemoryBound(to: UInt8.self), as: UTF8.self)
        }
    }

    /// Receives the next frame as `Data` (a copy of its bytes). Waits and handles cancellation like
    /// ``recv(timeout:)``; to avoid the copy, receive a ``Message``.
    ///
    /// The corresponding C function is `zmq_msg_recv` with `ZMQ_DONTWAIT`.
    /// - Throws: as ``recv(timeout:)``.
    public func recv(as type: Data.Type, timeout: Duration? = nil) async throws -> Data {
        let frame = self.frame
        return try await perform(.receive, timeout: timeout) { handle, _ in
            if let unread = unread.takeFrame() { return Data(unread) }
            guard try LibZMQ.receive(handle, into: frame) else { return nil }
            let bytes = LibZMQ.contents(of: frame)
            return Data(bytes: bytes.baseAddress!, count: bytes.count)
        }
    }

    /// Receives the next message whole, as its list of frames, without copying their bytes.
    ///
    /// The corresponding C function is `zmq_msg_recv`, repeated while `zmq_msg_more` is set.
    /// - Throws: as ``recv(timeout:)``.
    public func recvMultipart(as type: Message.Type, timeout: Duration? = nil) async throws -> [Message] {
        let frame = self.frame
        var parts: [Message] = []
        return try await perform(.receive, timeout: timeout) { (handle, committed) -> [Message]? in
            while let part = try unread.takeFrame() ?? (LibZMQ.receive(handle, into: frame) ? Message(moving: frame) : nil) {
                committed = true
                parts.append(part)
                if !part.hasMore { return parts }
            }
            return nil
        }
    }
}
