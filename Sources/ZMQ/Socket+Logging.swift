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
        ownLogger.withLock { own in
            own = logger
            ownLoggerLevel.store(logger.map { LevelRank.of($0.logLevel) } ?? LevelRank.none, ordering: .relaxed)
        }
        return self
    }

    /// Logs `message` at `debug` with the socket's type and, if given, the endpoint.
    ///
    /// Whether the logger takes `debug` is read from the levels kept beside the loggers (the levels
    /// they had when they were given), so that a call that logs nothing, such as each of thousands
    /// of receives timing out, takes no lock and copies no logger.
    nonisolated func logDebug(_ message: @autoclosure () -> Logger.Message, endpoint: String? = nil, error: (any Error)? = nil) {
        let own = ownLoggerLevel.load(ordering: .relaxed)
        let level = own != LevelRank.none ? own : context.loggerLevel.load(ordering: .relaxed)
        guard level <= LevelRank.of(.debug) else { return }
        let logger = self.logger
        var metadata: Logger.Metadata = ["zmq.socket": "\(type)"]
        if let endpoint { metadata["zmq.endpoint"] = "\(endpoint)" }
        if let error { metadata["zmq.error"] = "\(error)" }
        logger.debug(message(), metadata: metadata)
    }
}

/// A logger's level as a number that orders as the levels do (`trace` 0 to `critical` 6), to be kept
/// in an atomic beside the logger (``Socket/ownLoggerLevel``, ``Context/loggerLevel``).
enum LevelRank {
    static func of(_ level: Logger.Level) -> UInt8 { UInt8(Logger.Level.allCases.firstIndex(of: level) ?? 0) }

    /// The rank that stands for "no logger of its own".
    static let none = UInt8.max
}
