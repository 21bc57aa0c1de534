import Logging

extension Socket {
    /// Where the socket logs (see <doc:Logging>): its own logger if it was given one with
    /// ``setLogger(_:)``, otherwise its context's ``Context/logger``.
    ///
    /// The socket logs `bind`, `connect`, `unbind`, `disconnect` and ``close()`` at `debug`, with the
    /// socket type and endpoint as metadata (`zmq.socket`, `zmq.endpoint`), and errors thrown by calls
    /// that had to wait. A send or receive that completes at once never touches the logger.
    public nonisolated var logger: Logger {
        ownLogger.withLock { $0 } ?? context.logger
    }

    /// Gives the socket a logger of its own (or, with `nil`, goes back to its context's) and returns
    /// the socket, for chaining.
    @discardableResult
    public func setLogger(_ logger: Logger?) -> Socket {
        ownLogger.withLock { $0 = logger }
        return self
    }

    /// Logs `message` at `debug` with the socket's type and, if given, the endpoint.
    nonisolated func logDebug(_ message: @autoclosure () -> Logger.Message, endpoint: String? = nil, error: (any Error)? = nil) {
        let logger = self.logger
        guard logger.logLevel <= .debug else { return }
        var metadata: Logger.Metadata = ["zmq.socket": "\(type)"]
        if let endpoint { metadata["zmq.endpoint"] = "\(endpoint)" }
        if let error { metadata["zmq.error"] = "\(error)" }
        logger.debug(message(), metadata: metadata)
    }
}
