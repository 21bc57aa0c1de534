internal import CZMQ

extension Socket {
    /// Sets `option` to `value` and returns the socket, for chaining.
    ///
    /// ```swift
    /// let push = try await Socket.push().set(.linger, .zero).set(.sendHighWaterMark, 10).connect(endpoint)
    /// ```
    /// Most options apply to later `bind`s and `connect`s only, so set them first.
    /// The corresponding C function is `zmq_setsockopt`.
    /// - Throws: ``ZMQError/invalidArgument`` for a `Duration` that is negative or does not fit libzmq's
    ///   `int` of milliseconds, or the libzmq error (usually ``ZMQError/invalidValue``) for a value or
    ///   socket type libzmq refuses; either names the option and the value, as in
    ///   `ZMQ_SNDHWM (sendHighWaterMark) = -1: Invalid argument`.
    @discardableResult
    public func set<Value>(_ option: SocketOption<Value>, _ value: Value) throws -> Socket {
        try setOption(option.key, value)
        return self
    }

    /// Sets the write-only `option` to `value` and returns the socket, for chaining.
    ///
    /// The corresponding C function is `zmq_setsockopt`.
    /// - Throws: as ``set(_:_:)-(SocketOption<Value>,_)``; libzmq refuses an option that does not apply
    ///   to the socket type (for example ``WriteOnlySocketOption/routerMandatory`` on a DEALER) with
    ///   ``ZMQError/invalidValue``.
    @discardableResult
    public func set<Value>(_ option: WriteOnlySocketOption<Value>, _ value: Value) throws -> Socket {
        try setOption(option.key, value)
        return self
    }

    /// The current value of `option`.
    ///
    /// The corresponding C function is `zmq_getsockopt`.
    /// - Throws: ``ZMQError/socketClosed`` once the socket is closed, or the libzmq error naming the option.
    public func get<Value>(_ option: SocketOption<Value>) throws -> Value {
        try getOption(option.key)
    }

    /// The current value of the read-only `option`.
    ///
    /// The corresponding C function is `zmq_getsockopt`.
    /// - Throws: ``ZMQError/socketClosed`` once the socket is closed, or the libzmq error naming the option.
    public func get<Value>(_ option: ReadOnlySocketOption<Value>) throws -> Value {
        try getOption(option.key)
    }

    private func setOption<Value>(_ key: OptionKey<Value>, _ value: Value) throws {
        let encoded: OptionValue
        do {
            encoded = try key.encode(value)
        } catch {
            throw error.on(type, key.setting(value))
        }
        // String options reach libzmq as C strings somewhere (a device name, a proxy address, a ZAP
        // request): one with a NUL byte would be cut there.
        if case .string = key.codec.layout, case .bytes(let bytes) = encoded, bytes.contains(0) {
            throw nulRefusal(key.setting(value))
        }
        try withHandle(key.setting(value)) { handle in try LibZMQ.setOption(handle, key.code, encoded, key.setting(value)) }
        // Every send and receive here uses ZMQ_DONTWAIT, so libzmq never applies its own timeouts:
        // the wait mechanism enforces them, and needs to know them.
        if case .int32(let milliseconds) = encoded {
            let timeout: Duration? = milliseconds < 0 ? nil : .milliseconds(milliseconds)
            exclusive.withLock { state in
                if key.code == ZMQ_RCVTIMEO { state.timeout.receive = timeout }
                if key.code == ZMQ_SNDTIMEO { state.timeout.send = timeout }
            }
        }
    }

    private func getOption<Value>(_ key: OptionKey<Value>) throws -> Value {
        let raw = try withHandle(key.getting) { handle in
            // Frames a stream took from libzmq and handed back are not delivered yet: libzmq's flag
            // is about the last of them, the caller's about the frame before the oldest.
            if key.code == ZMQ_RCVMORE, let more = unread.oldestPrecededByMore { return OptionValue.int32(more ? 1 : 0) }
            return try LibZMQ.option(handle, key.code, key.codec.layout, key.getting)
        }
        return key.codec.decode(raw)
    }
}
