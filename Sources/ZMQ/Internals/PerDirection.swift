/// Which readiness a call needs: `ZMQ_POLLIN` (receive) or `ZMQ_POLLOUT` (send).
enum Direction: Sendable, CaseIterable {
    case receive
    case send

    /// The word error descriptions use for an operation in this direction.
    var operation: String { self == .receive ? "receive" : "send" }
}

/// One value per direction: the state a socket keeps for its receivers and, apart, for its senders.
struct PerDirection<Value> {
    var receive: Value
    var send: Value

    init(receive: Value, send: Value) {
        self.receive = receive
        self.send = send
    }

    init(repeating value: Value) {
        self.init(receive: value, send: value)
    }

    @inline(__always)
    subscript(direction: Direction) -> Value {
        get { direction == .receive ? receive : send }
        _modify {
            switch direction {
            case .receive: yield &receive
            case .send: yield &send
            }
        }
    }
}

extension PerDirection: Sendable where Value: Sendable {}
