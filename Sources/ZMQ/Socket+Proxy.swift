internal import CZMQ

extension Socket {
    /// Hands the libzmq socket to a proxy, which uses it from its own thread until ``giveBack(_:)``.
    ///
    /// From here on every call through the actor throws ``ZMQError/inUseByProxy`` (`usableHandle()`
    /// says so) and `schedule()` leaves the socket alone, so no two threads ever touch it. Tasks
    /// already waiting in `send`/`recv` would otherwise wait for the whole life of the proxy on a
    /// socket they can no longer use: they throw ``ZMQError/inUseByProxy`` now.
    /// - Throws: ``ZMQError/socketClosed`` for a closed socket, ``ZMQError/inUseByProxy`` for a
    ///   socket another proxy owns, ``ZMQError/invalidState`` while a task is halfway through a
    ///   multipart message on it; the socket is then left as it was.
    func lend(to link: ProxyLink) throws(ZMQError) -> SendablePointer {
        // A task halfway through a multipart message must finish it: handing the socket over now
        // would lose the frames it took, or splice the proxy's frames into its message.
        if waiters.hasCommittedWaiter {
            throw ZMQError.invalidState.with("a task is in the middle of a multipart message; try the proxy again").on(type, "proxy")
        }
        let handle = try exclusive.withLock { state throws(ZMQError) -> LibZMQ.Handle in
            do throws(ZMQError) {
                let handle = try usable(state)
                state.lentToProxy = true
                state.endWaitHere()
                return handle
            } catch {
                throw error.on(type, "proxy")
            }
        }
        proxyLink = link
        waiters.failAll(with: ZMQError.inUseByProxy.with("taken over by a proxy"))
        return SendablePointer(handle)
    }

    /// Takes the libzmq socket back from a proxy whose loop has ended, so the actor may use it again.
    ///
    /// If ``close()`` was called while the proxy owned the socket, the actor no longer holds a handle,
    /// and this is where the socket is finally closed: only now is no other thread using it.
    func giveBack(_ lent: SendablePointer) {
        proxyLink = nil
        var monitorReceiver: Socket?
        defer { _ = monitorReceiver }  // released (and closed) after the lock
        let closed = exclusive.withLock { state -> Bool in
            state.lentToProxy = false
            // A monitor stop asked for while the proxy ran, or a close: stop monitoring now, with the
            // receiving end still open, before anything else.
            if let monitor = state.monitor, monitor.stopRequested || state.handle == nil {
                monitorReceiver = Self.stopMonitoringLocked(&state, handle: lent.pointer)
            }
            return state.handle == nil
        }
        if closed {
            closeLibZMQ(lent.pointer)
        } else {
            // Nobody can be waiting (they were refused while the proxy ran), but the proxy's calls
            // consumed `ZMQ_FD` edges: let whatever comes next start from a fresh reading, and the
            // pollers holding the socket look at it again.
            var wake = Wake()
            exclusive.withLock { state in noteCallLocked(state.watched, &wake) }
            deliver(wake)
            schedule()
        }
    }
}
