extension Socket {
    /// The frames arriving on the socket, as an asynchronous sequence.
    ///
    /// ```swift
    /// for try await message in subscriber.messages {
    ///     print(String(decoding: message, as: UTF8.self))
    /// }
    /// ```
    ///
    /// Messages stay in libzmq's queue until the loop asks for them, so the receive high-water mark
    /// keeps applying. Frames that are already queued are taken in batches (at most 64 frames or
    /// about 1 MiB per batch), one actor call per batch rather than per message. Leaving the loop
    /// (`break`, `return`, a thrown error) or cancelling its task loses nothing: frames of a batch
    /// that were not delivered go back to the socket, and the next receive of any kind (`recv`,
    /// another loop) gets them first, in order.
    ///
    /// Each element is one frame; a multipart message arrives as consecutive frames with
    /// ``Message/hasMore`` set on all but the last (use ``multipartMessages`` to get them whole).
    /// The sequence ends when the socket is closed. Cancelling the task makes the next iteration throw
    /// `CancellationError`. Other tasks may keep using the socket, including other loops; each
    /// frame goes to exactly one of them.
    ///
    /// The corresponding C function is `zmq_msg_recv` with `ZMQ_DONTWAIT`.
    public nonisolated var messages: Messages { Messages(socket: self) }

    /// The messages arriving on the socket, each whole as its list of frames, as an asynchronous
    /// sequence. Behaves like ``messages`` in every other way (batches count whole messages).
    ///
    /// ```swift
    /// for try await parts in router.multipartMessages {
    ///     try await router.sendMultipart([parts[0], Message("ack")])
    /// }
    /// ```
    ///
    /// The corresponding C function is `zmq_msg_recv`, repeated while `zmq_msg_more` is set.
    public nonisolated var multipartMessages: MultipartMessages { MultipartMessages(socket: self) }

    /// The asynchronous sequence of frames arriving on a socket; see ``Socket/messages``.
    public struct Messages: AsyncSequence, Sendable {
        /// Each element is one frame.
        public typealias Element = Message
        /// Receive errors other than the socket closing, and `CancellationError`.
        public typealias Failure = any Error

        let socket: Socket

        /// Creates the iterator that receives the frames.
        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(reader: StreamReader(socket, wholeMessages: false))
        }

        /// Receives the frames of ``Socket/messages``; see there for batching and cancellation.
        public struct AsyncIterator: AsyncIteratorProtocol {
            let reader: StreamReader

            /// The next frame, or `nil` once the socket is closed.
            public mutating func next() async throws -> Message? {
                try await reader.nextFrame(isolation: nil)
            }

            /// The next frame, or `nil` once the socket is closed, staying on the caller's actor.
            public mutating func next(isolation actor: isolated (any Actor)?) async throws -> Message? {
                try await reader.nextFrame(isolation: actor)
            }
        }
    }

    /// The asynchronous sequence of whole messages arriving on a socket; see ``Socket/multipartMessages``.
    public struct MultipartMessages: AsyncSequence, Sendable {
        /// Each element is one whole message, as its frames.
        public typealias Element = [Message]
        /// Receive errors other than the socket closing, and `CancellationError`.
        public typealias Failure = any Error

        let socket: Socket

        /// Creates the iterator that receives the messages.
        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(reader: StreamReader(socket, wholeMessages: true))
        }

        /// Receives the messages of ``Socket/multipartMessages``; see ``Socket/messages`` for
        /// batching and cancellation.
        public struct AsyncIterator: AsyncIteratorProtocol {
            let reader: StreamReader

            /// The next message's frames, or `nil` once the socket is closed.
            public mutating func next() async throws -> [Message]? {
                try await reader.nextMessage(isolation: nil)
            }

            /// The next message's frames, or `nil` once the socket is closed, staying on the caller's actor.
            public mutating func next(isolation actor: isolated (any Actor)?) async throws -> [Message]? {
                try await reader.nextMessage(isolation: actor)
            }
        }
    }

    // MARK: - Batches

    /// A batch ends after this many frames (or whole messages), so that a stream never holds much
    /// more than libzmq's high-water mark allows...
    static let batchMessages = 64
    /// ...or once it holds this many bytes.
    static let batchBytes = 1 << 20

    /// Takes the frames that are ready, up to a batch, suspending until there is at least one.
    /// Frames handed back by a stream come first. With `wholeMessages` the batch ends at a message
    /// boundary, waiting for the rest of a message whose first frames came back unread.
    func receiveBatch(wholeMessages: Bool) async throws -> [UnreadFrames.Entry] {
        let frame = self.frame
        var batch: [UnreadFrames.Entry] = []
        var messages = 0
        var bytes = 0
        return try await perform(.receive) { (handle, committed) -> [UnreadFrames.Entry]? in
            // For `get(.more)` while frames are handed back: the flag of the frame before each one.
            var previousMore = try batch.last?.frame.hasMore ?? LibZMQ.hasMore(handle)
            while true {
                let atBoundary = !(batch.last?.frame.hasMore ?? false)
                if (atBoundary || !wholeMessages) && (messages >= Socket.batchMessages || bytes >= Socket.batchBytes) {
                    break
                }
                let entry: UnreadFrames.Entry
                if let unread = unread.take() {
                    entry = unread
                } else {
                    let received: Bool
                    do {
                        received = try LibZMQ.receive(handle, into: frame)
                    } catch {
                        // Deliver what was taken; the next call meets the error again.
                        if !batch.isEmpty && (atBoundary || !wholeMessages) { break }
                        throw error
                    }
                    guard received else { break }
                    entry = unread.stamp(Message(moving: frame), precededByMore: previousMore)
                }
                previousMore = entry.frame.hasMore
                batch.append(entry)
                bytes += entry.frame.count
                if !wholeMessages || !entry.frame.hasMore { messages += 1 }
            }
            guard let last = batch.last else { return nil }
            if wholeMessages && last.frame.hasMore {
                // libzmq queues a message's frames together, so the rest is on its way: wait for it
                // even if cancelled, rather than drop the frames already taken.
                committed = true
                return nil
            }
            return batch
        }
    }
}

/// The state of one stream loop: the batch it took from the socket and how far it has delivered it.
///
/// Undelivered frames go back to the socket (``UnreadFrames``) when the loop ends early: in `deinit`,
/// which runs when a `for try await` loop is left by `break`, `return` or an error from its body,
/// and before throwing `CancellationError`. A reader is used by one loop at a time (its iterator is
/// not `Sendable`).
final class StreamReader {
    private let socket: Socket
    private let wholeMessages: Bool
    private var buffer: [UnreadFrames.Entry] = []
    private var position = 0
    private var finished = false

    init(_ socket: Socket, wholeMessages: Bool) {
        self.socket = socket
        self.wholeMessages = wholeMessages
    }

    deinit {
        handBack()
    }

    func nextFrame(isolation actor: isolated (any Actor)?) async throws -> Message? {
        guard try await fill() else { return nil }
        defer { position += 1 }
        return buffer[position].frame
    }

    func nextMessage(isolation actor: isolated (any Actor)?) async throws -> [Message]? {
        guard try await fill() else { return nil }
        var parts: [Message] = []
        while position < buffer.count {
            let part = buffer[position].frame
            parts.append(part)
            position += 1
            if !part.hasMore { break }
        }
        return parts
    }

    /// Makes sure a frame is buffered; `false` once the stream has ended.
    private func fill(isolation actor: isolated (any Actor)? = #isolation) async throws -> Bool {
        if finished { return false }
        if position == buffer.count {
            buffer = []
            position = 0
            do {
                try Task.checkCancellation()
                buffer = try await socket.receiveBatch(wholeMessages: wholeMessages)
            } catch ZMQError.socketClosed {
                finished = true
                return false
            } catch {
                finished = true
                throw error
            }
        }
        // A task that is cancelled while frames keep arriving must still stop.
        if Task.isCancelled {
            finished = true
            handBack()
            throw CancellationError()
        }
        return true
    }

    /// Returns the undelivered rest of the batch to the socket and wakes a receiver waiting for it.
    private func handBack() {
        guard position < buffer.count else { return }
        socket.unread.putBack(buffer[position...])
        buffer = []
        position = 0
        socket.waiters.wakeFirst(.receive)
    }
}
