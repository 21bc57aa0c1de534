internal import CZMQ
import Synchronization  // Atomic

/// The buffers of large outgoing frames, recycled from one message to the next.
///
/// `zmq_send` copies a frame into memory it allocates with `malloc` and frees once the frame has
/// gone (on the receiving thread for inproc, on an I/O thread for tcp and ipc). For frames of
/// kilobytes, glibc then often gives the freed memory back to the system (its heap top shrinks past
/// `M_TRIM_THRESHOLD`) and faults it in again, page by page, for the next messages: measured with
/// `perf stat -e page-faults` on 200,000 messages of 64 KiB over inproc, 150,000 to 360,000 faults
/// a run, and from one run to the next 2 to 7 times slower than with none. So a frame of at
/// least ``threshold`` bytes is copied into a buffer of this pool instead and handed to libzmq
/// (`zmq_msg_init_data`), whose free function gives the buffer back here, from whichever thread
/// closes the frame. The copy is the one `zmq_send` makes; what is saved is the allocation and the
/// page faults.
///
/// Buffers come in size classes, four per power of two (a buffer is at most a quarter larger than
/// its frame), from ``threshold`` to ``largest`` bytes; larger frames go through `zmq_send`, where
/// glibc maps each one on its own. The pool keeps at most ``retainedLimit`` bytes of free buffers in
/// all; a buffer given back beyond that is freed.
enum SendBuffers {
    /// Frames from this size on are sent from the pool; smaller ones cost `malloc` little (glibc
    /// serves them from its per-thread caches), and `zmq_send` copies them.
    static let threshold = 8192
    /// The largest frame sent from the pool.
    static let largest = 1 << 22
    /// At most this many bytes of free buffers are kept.
    static let retainedLimit = 32 << 20

    /// The smallest power of two a class's sizes fall under, as an exponent: classes run from
    /// 2^(minimumExponent-1) (exclusive) to 2^maximumExponent.
    private static let minimumExponent = 13
    private static let maximumExponent = 22
    private static let classCount = (maximumExponent - minimumExponent + 1) * 4

    private static let free: [Locked<[UnsafeMutableRawPointer]>] = (0..<classCount).map { _ in Locked([]) }
    private static let retained = Atomic<Int>(0)

    /// The size class of a frame of `count` bytes (`threshold ... largest`), and its buffers' capacity.
    static func sizeClass(of count: Int) -> (index: Int, capacity: Int) {
        // count is in (2^(exponent-1), 2^exponent]; the classes of that range are 5, 6, 7 and 8 eighths
        // of 2^exponent.
        let exponent = max(Int.bitWidth - (count - 1).leadingZeroBitCount, minimumExponent)
        let step = 1 << (exponent - 3)
        let steps = max((count + step - 1) / step, 5)
        return ((exponent - minimumExponent) * 4 + steps - 5, steps * step)
    }

    private static func capacity(ofClass index: Int) -> Int {
        (index % 4 + 5) << (index / 4 + minimumExponent - 3)
    }

    /// A buffer for a frame of `count` bytes, and the class to give it back to.
    static func take(_ count: Int) -> (buffer: UnsafeMutableRawPointer, sizeClass: Int) {
        let (index, capacity) = sizeClass(of: count)
        if let buffer = free[index].withLock({ $0.popLast() }) {
            retained.subtract(capacity, ordering: .relaxed)
            return (buffer, index)
        }
        return (UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16), index)
    }

    /// Takes back a buffer of class `index`: kept for the next frame, or freed when the pool is full.
    static func giveBack(_ buffer: UnsafeMutableRawPointer, sizeClass index: Int) {
        let capacity = capacity(ofClass: index)
        var current = retained.load(ordering: .relaxed)
        while true {
            guard current + capacity <= retainedLimit else {
                buffer.deallocate()
                return
            }
            let (exchanged, original) = retained.compareExchange(expected: current, desired: current + capacity, ordering: .relaxed)
            if exchanged { break }
            current = original
        }
        free[index].withLock { $0.append(buffer) }
    }

    /// How many bytes of free buffers the pool keeps now (for tests).
    static var retainedBytes: Int { retained.load(ordering: .relaxed) }

    /// How many free buffers of `count`-byte frames' class the pool keeps now (for tests).
    static func freeBuffers(forFrameOf count: Int) -> Int {
        free[sizeClass(of: count).index].withLock { $0.count }
    }

    /// Sends `bytes` (``threshold`` to ``largest`` of them) without blocking, from a buffer of the
    /// pool; `false` means libzmq would block (EAGAIN), and the buffer is back in the pool.
    static func send(_ handle: LibZMQ.Handle, _ bytes: UnsafeRawBufferPointer, more: Bool) throws(ZMQError) -> Bool {
        let (buffer, index) = take(bytes.count)
        buffer.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        return try withUnsafeTemporaryAllocation(of: zmq_msg_t.self, capacity: 1) { frames throws(ZMQError) -> Bool in
            let frame = frames.baseAddress!
            let hint = UnsafeMutableRawPointer(bitPattern: index + 1)
            guard zmq_msg_init_data(frame, buffer, bytes.count, { data, hint in
                SendBuffers.giveBack(data!, sizeClass: Int(bitPattern: hint) - 1)
            }, hint) == 0 else {
                // It fails only when it cannot allocate, and has then not taken the buffer.
                let error = ZMQError.last("share a \(bytes.count)-byte message")
                giveBack(buffer, sizeClass: index)
                throw error
            }
            // Not sent (EAGAIN or an error): closing the frame gives the buffer back.
            do throws(ZMQError) {
                if try LibZMQ.send(handle, frame: frame, more: more) { return true }
                zmq_msg_close(frame)
                return false
            } catch {
                zmq_msg_close(frame)
                throw error
            }
        }
    }
}
