internal import CZMQ
import Dispatch
import Logging

/// The ZAP handler of one context (`inproc://zeromq.zap.01`), bound when the first ``Authenticator``
/// starts there and kept until the context ends, so that authentication fails closed.
///
/// libzmq accepts CURVE connections (and NULL ones with a ZAP domain) when no handler is bound in
/// their context. So the gate does not go away with an authenticator: it answers every request
/// itself, with the decision of the authenticator attached to it, or with status 400 ("no
/// authenticator is running") while none is. At most one authenticator is attached at a time.
///
/// The gate's REP socket is served by a thread of its own (a Dispatch serial queue, as a proxy's loop
/// is) in blocking `zmq_msg_recv`, never on Swift's cooperative pool; decisions are short and made
/// under the attached policy's lock. The thread holds the raw context handle only, never the
/// ``Context``, so a context with a gate is still released when its last user drops it: its
/// `zmq_ctx_term` (or ``Context/shutdown()``) makes the blocking receive fail with `ETERM`, and the
/// thread then closes the socket, which lets the termination finish.
final class ZAPGate: Sendable {
    /// An authenticator's policy, and whom to tell about its decisions.
    struct Attachment: Sendable {
        let owner: ObjectIdentifier
        let policy: Locked<ZAPPolicy>
        let logger: Logger
    }

    private struct State {
        /// The gate's libzmq socket has been bound and its thread started.
        var serving = false
        /// The thread has ended (the context was shut down or terminated).
        var ended = false
        var attached: Attachment?
    }

    private let state = Locked(State())
    /// The context's logger, for refusals while no authenticator is attached.
    private let contextLogger: Locked<Logger>

    init(contextLogger: Locked<Logger>) {
        self.contextLogger = contextLogger
    }

    /// Whether an authenticator is attached now.
    var hasAttachment: Bool { state.withLock { $0.attached != nil } }

    /// Makes `attachment` decide every request from now on; binds the gate first if this is the first.
    ///
    /// - Throws: ``ZMQError/addressInUse`` when another authenticator is attached, or (the first
    ///   time) when something else is bound at the ZAP endpoint; ``ZMQError/contextTerminated``
    ///   after the context was shut down; another libzmq error from creating or binding the socket.
    func attach(_ attachment: Attachment, context: UnsafeMutableRawPointer) throws(ZMQError) {
        try state.withLock { state throws(ZMQError) in
            if state.ended {
                throw ZMQError.contextTerminated.with("starting an Authenticator: the context was shut down")
            }
            if state.attached != nil {
                throw ZMQError.addressInUse.with("starting an Authenticator: another one is running on this context")
            }
            if !state.serving {
                try start(context)
                state.serving = true
            }
            state.attached = attachment
        }
    }

    /// Stops `owner`'s policy from deciding; requests are refused until another one attaches.
    /// Returns whether `owner` was attached.
    @discardableResult
    func detach(_ owner: ObjectIdentifier) -> Bool {
        state.withLock { state in
            guard state.attached?.owner == owner else { return false }
            state.attached = nil
            return true
        }
    }

    /// Creates and binds the REP socket and starts the thread that serves it. Called under the lock.
    private func start(_ context: UnsafeMutableRawPointer) throws(ZMQError) {
        guard let handle = zmq_socket(context, ZMQ_REP) else {
            throw ZMQError.last("starting an Authenticator: creating its REP socket")
        }
        do {
            try LibZMQ.setOption(handle, ZMQ_LINGER, Int32(0), "ZMQ_LINGER (linger)")
            try LibZMQ.bind(handle, Authenticator.endpoint)
        } catch {
            LibZMQ.close(handle)
            throw error
        }
        let socket = SendablePointer(handle)
        DispatchQueue(label: "swift-zmq.zap", qos: .userInitiated).async { [self] in
            serve(socket.pointer)
        }
    }

    /// Answers requests until the context ends, then closes the socket.
    private func serve(_ socket: UnsafeMutableRawPointer) {
        let frame = LibZMQ.newFrame()
        defer {
            LibZMQ.freeFrame(frame)
            LibZMQ.close(socket)
            state.withLock { $0.ended = true; $0.attached = nil }
        }
        while let request = Self.receiveMessage(socket, frame) {
            let attached = state.withLock { $0.attached }
            let decision: ZAPDecision
            let logger: Logger
            if let attached {
                decision = attached.policy.withLock { $0.decide(request) }
                logger = attached.logger
            } else {
                decision = ZAPDecision(request: request, status: "400", text: "No authenticator is running", userID: "")
                logger = contextLogger.withLock { $0 }
            }
            decision.log(to: logger, authenticatorRunning: attached != nil)
            guard Self.sendMessage(socket, decision.reply) else { return }
        }
    }

    /// A whole message, blocking until it arrives; `nil` once the context ends (or on another error).
    private static func receiveMessage(_ socket: UnsafeMutableRawPointer, _ frame: UnsafeMutablePointer<zmq_msg_t>) -> [[UInt8]]? {
        var frames: [[UInt8]] = []
        repeat {
            guard (try? LibZMQ.check { zmq_msg_recv(frame, socket, 0) }) != nil else { return nil }
            frames.append(LibZMQ.bytes(of: frame))
        } while LibZMQ.more(frame)
        return frames
    }

    /// Sends a whole message, blocking; `false` once the context ends (or on another error).
    private static func sendMessage(_ socket: UnsafeMutableRawPointer, _ frames: [[UInt8]]) -> Bool {
        for (index, frame) in frames.enumerated() {
            let flags = index < frames.count - 1 ? ZMQ_SNDMORE : 0
            guard (try? LibZMQ.check { frame.withUnsafeBytes { zmq_send(socket, $0.baseAddress, $0.count, flags) } }) != nil else {
                return false
            }
        }
        return true
    }
}
