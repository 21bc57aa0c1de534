extension Socket {
    /// Refuses a string that holds a NUL byte before it reaches libzmq, which takes C strings and
    /// would cut it there (`bind("inproc://a\0b")` would bind `inproc://a`).
    nonisolated func refuseNUL(_ value: String, _ operation: String) throws(ZMQError) {
        guard value.utf8.contains(0) else { return }
        throw nulRefusal("\(operation) \(value)")
    }

    /// The error that refuses `operation` for a string holding a NUL byte (here, and for a string
    /// option, whose value `set` has encoded).
    nonisolated func nulRefusal(_ operation: String) -> ZMQError {
        ZMQError.invalidArgument.with("the string holds a NUL byte, where libzmq would cut it").on(type, operation)
    }
}
