// Monitor event decoding (ZMQ.SocketEvent): the two frames libzmq's socket monitor sends.
//
// The input is cut into frames (see `frames(_:)`). Invariants, for any frames:
// - decoding never crashes; it succeeds exactly for two frames of which the first is 6 bytes;
// - a decoded event encodes back to the same first frame (16-bit kind, 32-bit value, little-endian),
//   and its endpoint is the second frame read as UTF-8 (the same bytes when they are UTF-8);
// - its description never crashes.
import FuzzDriver
@_spi(Fuzzing) import ZMQ

/// Frames from fuzz bytes: each frame is a length byte, then that many bytes (cut at the end).
func frames(_ input: [UInt8]) -> [[UInt8]] {
    var frames: [[UInt8]] = []
    var index = 0
    while index < input.count {
        let count = Int(input[index])
        index += 1
        let end = min(index + count, input.count)
        frames.append(Array(input[index..<end]))
        index = end
    }
    return frames
}

func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let parts = frames(Array(UnsafeBufferPointer(start: data, count: size)))
    let event = SocketEvent(frames: parts)
    let decodable = parts.count == 2 && parts[0].count == 6
    guard (event != nil) == decodable else {
        fatalError("SocketEvent(frames: \(parts)) is \(String(describing: event)); decodable: \(decodable)")
    }
    guard let event else { return 0 }
    let kind = event.kind.rawValue
    let value = UInt32(bitPattern: event.value)
    let header: [UInt8] = [UInt8(kind & 0xFF), UInt8(kind >> 8 & 0xFF),
                           UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
    guard kind <= 0xFFFF, header == parts[0] else {
        fatalError("event \(event) from \(parts[0]) encodes back to \(header)")
    }
    guard event.endpoint == String(decoding: parts[1], as: UTF8.self) else {
        fatalError("endpoint \(event.endpoint) is not the frame \(parts[1])")
    }
    if String(validating: parts[1], as: UTF8.self) != nil, Array(event.endpoint.utf8) != parts[1] {
        fatalError("UTF-8 endpoint \(parts[1]) did not survive decoding")
    }
    _ = event.description
    return 0
}

runFuzzer(fuzz)
