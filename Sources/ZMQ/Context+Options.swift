internal import CZMQ

/// A context option that can be set and read, typed by its value.
///
/// ```swift
/// let context = try Context().set(.ioThreads, 2).set(.maxSockets, 4096)
/// let limit = try context.get(.socketLimit)
/// ```
/// Options marked "before the first socket" configure libzmq's threads, which start with the
/// context's first socket; setting one later throws instead of being silently ignored.
/// The corresponding C functions are `zmq_ctx_set` and `zmq_ctx_get`.
public struct ContextOption<Value: Sendable>: Sendable, CustomStringConvertible {
    let key: OptionKey<Value>
    let onlyBeforeFirstSocket: Bool

    init(_ code: Int32, _ cName: String, _ name: String, _ codec: OptionCodec<Value>, onlyBeforeFirstSocket: Bool = false) {
        key = OptionKey(code: code, cName: cName, name: name, codec: codec)
        self.onlyBeforeFirstSocket = onlyBeforeFirstSocket
    }

    /// The C and Swift names, such as `ZMQ_IO_THREADS (ioThreads)`.
    public var description: String { key.description }
}

/// A context option libzmq lets you read but not set.
///
/// The corresponding C function is `zmq_ctx_get`.
public struct ReadOnlyContextOption<Value: Sendable>: Sendable, CustomStringConvertible {
    let key: OptionKey<Value>

    init(_ code: Int32, _ cName: String, _ name: String, _ codec: OptionCodec<Value>) {
        key = OptionKey(code: code, cName: cName, name: name, codec: codec)
    }

    /// The C and Swift names, such as `ZMQ_SOCKET_LIMIT (socketLimit)`.
    public var description: String { key.description }
}

/// A context option libzmq lets you set but not read back.
///
/// The corresponding C function is `zmq_ctx_set`.
public struct WriteOnlyContextOption<Value: Sendable>: Sendable, CustomStringConvertible {
    let key: OptionKey<Value>

    init(_ code: Int32, _ cName: String, _ name: String, _ codec: OptionCodec<Value>) {
        key = OptionKey(code: code, cName: cName, name: name, codec: codec)
    }

    /// The C and Swift names, such as `ZMQ_THREAD_PRIORITY (threadPriority)`.
    public var description: String { key.description }
}

extension ContextOption where Value == Int32 {
    /// The number of I/O threads; before the first socket. Default 1.
    /// The corresponding C option is `ZMQ_IO_THREADS`.
    public static var ioThreads: ContextOption {
        .init(ZMQ_IO_THREADS, "ZMQ_IO_THREADS", "ioThreads", .int32, onlyBeforeFirstSocket: true)
    }
    /// The most sockets open at once; creating one more throws ``ZMQError/tooManyOpenFiles``. At
    /// most ``ReadOnlyContextOption/socketLimit``; before the first socket. Default 1023.
    /// The corresponding C option is `ZMQ_MAX_SOCKETS`.
    public static var maxSockets: ContextOption {
        .init(ZMQ_MAX_SOCKETS, "ZMQ_MAX_SOCKETS", "maxSockets", .int32, onlyBeforeFirstSocket: true)
    }
    /// The largest message size in bytes sockets of this context accept. Default `Int32.max`.
    /// The corresponding C option is `ZMQ_MAX_MSGSZ`.
    public static var maxMessageSize: ContextOption { .init(ZMQ_MAX_MSGSZ, "ZMQ_MAX_MSGSZ", "maxMessageSize", .int32) }
    /// A number libzmq puts in front of its threads' names (as seen in `top -H`); before the first
    /// socket. Default 0, no prefix. The corresponding C option is `ZMQ_THREAD_NAME_PREFIX`.
    public static var threadNamePrefix: ContextOption {
        .init(ZMQ_THREAD_NAME_PREFIX, "ZMQ_THREAD_NAME_PREFIX", "threadNamePrefix", .int32, onlyBeforeFirstSocket: true)
    }
}

extension ContextOption where Value == Int32? {
    /// The scheduling policy of libzmq's threads (`SCHED_OTHER`, `SCHED_FIFO`, ...); `nil` (the
    /// default) leaves the operating system's. Before the first socket. Beware: libzmq aborts the
    /// process when its threads start if the policy cannot be applied (a real-time policy without
    /// the privilege, for example).
    /// The corresponding C option is `ZMQ_THREAD_SCHED_POLICY`.
    public static var threadSchedulingPolicy: ContextOption {
        .init(ZMQ_THREAD_SCHED_POLICY, "ZMQ_THREAD_SCHED_POLICY", "threadSchedulingPolicy", .int32OrDefault,
              onlyBeforeFirstSocket: true)
    }
}

extension ContextOption where Value == Bool {
    /// Use IPv6 as well as IPv4 for the tcp endpoints of sockets created from now on. Default `false`.
    /// The corresponding C option is `ZMQ_IPV6`.
    public static var ipv6: ContextOption { .init(ZMQ_IPV6, "ZMQ_IPV6", "ipv6", .bool) }
    /// Whether terminating the context waits for each socket's linger period (libzmq's default,
    /// `true`); `false` gives sockets created from now on a linger of zero.
    /// The corresponding C option is `ZMQ_BLOCKY`.
    public static var blocky: ContextOption { .init(ZMQ_BLOCKY, "ZMQ_BLOCKY", "blocky", .bool) }
}

extension ReadOnlyContextOption where Value == Int32 {
    /// The largest value ``ContextOption/maxSockets`` accepts.
    /// The corresponding C option is `ZMQ_SOCKET_LIMIT`.
    public static var socketLimit: ReadOnlyContextOption { .init(ZMQ_SOCKET_LIMIT, "ZMQ_SOCKET_LIMIT", "socketLimit", .int32) }
}

extension WriteOnlyContextOption where Value == Int32 {
    /// The scheduling priority of libzmq's threads, for the ``ContextOption/threadSchedulingPolicy``;
    /// before the first socket. As with the policy, libzmq aborts the process if the priority cannot
    /// be applied. (It cannot be read: libzmq reads `ZMQ_SOCKET_LIMIT` under the same number.)
    /// The corresponding C option is `ZMQ_THREAD_PRIORITY`.
    public static var threadPriority: WriteOnlyContextOption {
        .init(ZMQ_THREAD_PRIORITY, "ZMQ_THREAD_PRIORITY", "threadPriority", .int32)
    }
    /// Adds a CPU (by number) to the set libzmq's threads may run on; before the first socket.
    /// The corresponding C option is `ZMQ_THREAD_AFFINITY_CPU_ADD`.
    public static var threadAffinityAddCPU: WriteOnlyContextOption {
        .init(ZMQ_THREAD_AFFINITY_CPU_ADD, "ZMQ_THREAD_AFFINITY_CPU_ADD", "threadAffinityAddCPU", .int32)
    }
    /// Removes a CPU (by number) from the set libzmq's threads may run on; before the first socket.
    /// The corresponding C option is `ZMQ_THREAD_AFFINITY_CPU_REMOVE`.
    public static var threadAffinityRemoveCPU: WriteOnlyContextOption {
        .init(ZMQ_THREAD_AFFINITY_CPU_REMOVE, "ZMQ_THREAD_AFFINITY_CPU_REMOVE", "threadAffinityRemoveCPU", .int32)
    }
}

/// The write-only context options that configure libzmq's threads.
private let threadConfiguration: Set<Int32> = [ZMQ_THREAD_PRIORITY, ZMQ_THREAD_AFFINITY_CPU_ADD, ZMQ_THREAD_AFFINITY_CPU_REMOVE]

extension Context {
    /// Sets `option` to `value` and returns the context, for chaining. Safe from any thread.
    ///
    /// The corresponding C function is `zmq_ctx_set`.
    /// - Throws: ``ZMQError/invalidArgument`` for an option that configures libzmq's threads once
    ///   the context has a socket; or the libzmq error (``ZMQError/invalidValue`` for a value it
    ///   refuses, such as 0 ``ContextOption/maxSockets``), naming the option and the value.
    @discardableResult
    public func set<Value>(_ option: ContextOption<Value>, _ value: Value) throws -> Context {
        try setOption(option.key, value, onlyBeforeFirstSocket: option.onlyBeforeFirstSocket)
        return self
    }

    /// Sets the write-only `option` to `value` and returns the context, for chaining.
    ///
    /// The corresponding C function is `zmq_ctx_set`.
    /// - Throws: as ``set(_:_:)-(ContextOption<Value>,_)``.
    @discardableResult
    public func set<Value>(_ option: WriteOnlyContextOption<Value>, _ value: Value) throws -> Context {
        try setOption(option.key, value, onlyBeforeFirstSocket: threadConfiguration.contains(option.key.code))
        return self
    }

    /// The current value of `option`. Safe from any thread.
    ///
    /// The corresponding C function is `zmq_ctx_get`.
    public func get<Value>(_ option: ContextOption<Value>) throws -> Value {
        try getOption(option.key)
    }

    /// The current value of the read-only `option`.
    ///
    /// The corresponding C function is `zmq_ctx_get`.
    public func get<Value>(_ option: ReadOnlyContextOption<Value>) throws -> Value {
        try getOption(option.key)
    }

    private func setOption<Value>(_ key: OptionKey<Value>, _ value: Value, onlyBeforeFirstSocket: Bool) throws {
        if onlyBeforeFirstSocket && hasStarted.load(ordering: .relaxed) {
            throw ZMQError.invalidArgument.with("only takes effect before the context's first socket").during(key.setting(value))
        }
        guard case .int32(let raw) = try key.encode(value) else { preconditionFailure("context options are ints") }
        try LibZMQ.setContextOption(handle, key.code, raw, key.setting(value))
    }

    private func getOption<Value>(_ key: OptionKey<Value>) throws -> Value {
        key.codec.decode(.int32(try LibZMQ.contextOption(handle, key.code, key.getting)))
    }
}
