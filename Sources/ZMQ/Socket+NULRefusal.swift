extension Socket {
    /// Refuses a string that holds a NUL byte before it reaches libzmq, which takes C strings and
    /// would cut it there (`bind("inproc://a\0b")` would bind `inproc://a`).
    nonisolated func refuseNUL(_ value: String, _ operation: String) throws(ZMQError) {
        guard value.utf8.contains(0) else { return }
        throw ZMQError.invalidArgument.with("the string holds a NUL byte, where libzmq would cut it").on(type, "\(operation) \(value)")
    }
}
