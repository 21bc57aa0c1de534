/// An option value as libzmq takes and returns it.
enum OptionValue: Sendable, Equatable {
    case int32(Int32)
    case int64(Int64)
    case uint64(UInt64)
    case bytes([UInt8])
}

/// How to read an option: its C type, and for binary and string options the buffer size to offer.
enum OptionLayout: Sendable {
    case int32
    case int64
    case uint64
    /// Binary data of at most `capacity` bytes (libzmq chooses binary or Z85 CURVE keys by this size).
    case bytes(capacity: Int)
    /// A NUL-terminated string of at most `capacity` bytes, NUL included.
    case string(capacity: Int)
}

/// Why a value was refused before it reached libzmq.
struct OptionRejection: Error {
    let reason: String
}

/// How an option's Swift value maps to its C value: the conversions, the checks libzmq cannot make
/// (a `Duration` that does not fit an `int` of milliseconds), and how to show a value in an error.
struct OptionCodec<Value: Sendable>: Sendable {
    let layout: OptionLayout
    let encode: @Sendable (Value) throws(OptionRejection) -> OptionValue
    let decode: @Sendable (OptionValue) -> Value
    let describe: @Sendable (Value) -> String
}

/// One libzmq option: its number, its C and Swift names, and its codec. The public key types
/// (``SocketOption``, ``ContextOption`` and their read-only and write-only kin) each wrap one, so
/// that what can be done with a key is decided by its type.
struct OptionKey<Value: Sendable>: Sendable, CustomStringConvertible {
    let code: Int32
    let cName: String
    let name: String
    let codec: OptionCodec<Value>

    /// `ZMQ_LINGER (linger)`: both names, so an error can be found from either side.
    var description: String { "\(cName) (\(name))" }

    /// The C value for `value`, or ``ZMQError/invalidArgument`` naming the option and the reason.
    func encode(_ value: Value) throws(ZMQError) -> OptionValue {
        do {
            return try codec.encode(value)
        } catch {
            throw ZMQError.invalidArgument.with(error.reason).during(setting(value))
        }
    }

    /// The operation an error about setting `value` names: `set ZMQ_LINGER (linger) = 5 ms`.
    func setting(_ value: Value) -> String {
        "set \(self) = \(codec.describe(value))"
    }

    /// The operation an error about reading the option names: `get ZMQ_LINGER (linger)`.
    var getting: String { "get \(self)" }
}

// MARK: - Codecs

extension OptionCodec {
    /// An `int` option whose Swift value maps to and from the C value (booleans, enumerations).
    static func int32(
        _ decode: @escaping @Sendable (Int32) -> Value,
        _ encode: @escaping @Sendable (Value) throws(OptionRejection) -> Int32,
        describe: @escaping @Sendable (Value) -> String = { "\($0)" }
    ) -> OptionCodec {
        OptionCodec(
            layout: .int32,
            encode: { (value: Value) throws(OptionRejection) -> OptionValue in .int32(try encode(value)) },
            decode: { raw in
                guard case .int32(let value) = raw else { preconditionFailure("option layout mismatch") }
                return decode(value)
            },
            describe: describe
        )
    }
}

extension OptionCodec where Value: RawRepresentable, Value.RawValue == Int32 {
    /// An `int` holding one of an enumeration's raw values.
    static var enumeration: OptionCodec {
        .int32({ Value(rawValue: $0)! }, { $0.rawValue })
    }
}

extension OptionCodec where Value == Int32 {
    /// A plain `int`; libzmq checks the range.
    static var int32: OptionCodec { .int32({ $0 }, { $0 }) }
}

extension OptionCodec where Value == Int32? {
    /// An `int` where -1 means "the default" (the operating system's, for buffer sizes).
    static var int32OrDefault: OptionCodec {
        .int32({ $0 == -1 ? nil : $0 }, { $0 ?? -1 }, describe: { $0.map { "\($0)" } ?? "nil" })
    }
}

extension OptionCodec where Value == Bool {
    /// An `int` used as a boolean (0 or 1).
    static var bool: OptionCodec { .int32({ $0 != 0 }, { $0 ? 1 : 0 }) }
}

extension OptionCodec where Value == Bool? {
    /// An `int` of -1 (the operating system's default), 0 or 1.
    static var boolOrDefault: OptionCodec {
        .int32({ $0 < 0 ? nil : $0 != 0 }, { $0.map { $0 ? 1 : 0 } ?? -1 }, describe: { $0.map { "\($0)" } ?? "nil" })
    }
}

extension OptionCodec where Value == Duration {
    /// An `int` of milliseconds.
    static var milliseconds: OptionCodec {
        .int32({ .milliseconds($0) }, { duration throws(OptionRejection) in try DurationUnits.milliseconds(duration) },
               describe: DurationUnits.describe)
    }
}

extension OptionCodec where Value == Duration? {
    /// An `int` of milliseconds where -1 (`nil`) means "forever" or "never", depending on the option.
    static var millisecondsOrNone: OptionCodec {
        .int32({ $0 < 0 ? nil : .milliseconds($0) },
               { duration throws(OptionRejection) in try duration.map(DurationUnits.milliseconds) ?? -1 },
               describe: { $0.map(DurationUnits.describe) ?? "nil" })
    }

    /// Like ``millisecondsOrNone`` for an option whose -1 can be read but not set.
    static var millisecondsReadingNone: OptionCodec {
        .int32({ $0 < 0 ? nil : .milliseconds($0) },
               { duration throws(OptionRejection) in
                   guard let duration else { throw OptionRejection(reason: "nil can be read but not set") }
                   return try DurationUnits.milliseconds(duration)
               },
               describe: { $0.map(DurationUnits.describe) ?? "nil" })
    }

    /// An `int` of whole seconds where -1 (`nil`) means the operating system's default.
    static var secondsOrDefault: OptionCodec {
        .int32({ $0 < 0 ? nil : .seconds($0) },
               { duration throws(OptionRejection) in try duration.map(DurationUnits.seconds) ?? -1 },
               describe: { $0.map { "\($0)" } ?? "nil" })
    }
}

extension OptionCodec where Value == Int64? {
    /// An `int64_t` where -1 (`nil`) means "no limit".
    static var int64OrUnlimited: OptionCodec {
        OptionCodec(
            layout: .int64,
            encode: { .int64($0 ?? -1) },
            decode: { raw in
                guard case .int64(let value) = raw else { preconditionFailure("option layout mismatch") }
                return value < 0 ? nil : value
            },
            describe: { $0.map { "\($0)" } ?? "nil" }
        )
    }
}

extension OptionCodec where Value == UInt64 {
    /// A `uint64_t` (a bitmap).
    static var uint64: OptionCodec {
        OptionCodec(
            layout: .uint64,
            encode: { .uint64($0) },
            decode: { raw in
                guard case .uint64(let value) = raw else { preconditionFailure("option layout mismatch") }
                return value
            },
            describe: { "\($0)" }
        )
    }
}

extension OptionCodec where Value == [UInt8] {
    /// Binary data of at most `capacity` bytes. `secret` keeps the bytes out of error messages.
    static func bytes(capacity: Int = 256, secret: Bool = false) -> OptionCodec {
        OptionCodec(
            layout: .bytes(capacity: capacity),
            encode: { .bytes($0) },
            decode: { raw in
                guard case .bytes(let value) = raw else { preconditionFailure("option layout mismatch") }
                return value
            },
            describe: { secret ? "<\($0.count) bytes>" : "\($0)" }
        )
    }
}

extension OptionCodec where Value == String {
    /// A character string; an empty string clears the option. `secret` keeps it out of error messages.
    static func string(capacity: Int = 256, secret: Bool = false) -> OptionCodec {
        OptionCodec(
            layout: .string(capacity: capacity),
            encode: { .bytes(Array($0.utf8)) },
            decode: { raw in
                guard case .bytes(let value) = raw else { preconditionFailure("option layout mismatch") }
                return String(decoding: value, as: UTF8.self)
            },
            describe: { secret ? "<\($0.utf8.count) bytes>" : "\"\($0)\"" }
        )
    }
}

/// Converts `Duration`s to the whole milliseconds or seconds libzmq takes.
enum DurationUnits {
    /// `duration` in milliseconds, rounded up so that a short timeout never turns into "do not wait".
    static func milliseconds(_ duration: Duration) throws(OptionRejection) -> Int32 {
        try whole(duration, unit: 1_000_000_000_000_000, unitName: "ms")
    }

    /// `duration` in seconds, rounded up.
    static func seconds(_ duration: Duration) throws(OptionRejection) -> Int32 {
        try whole(duration, unit: 1_000_000_000_000_000_000, unitName: "s")
    }

    private static func whole(_ duration: Duration, unit attosecondsPerUnit: Int64, unitName: String) throws(OptionRejection) -> Int32 {
        guard duration >= .zero else { throw OptionRejection(reason: "must not be negative") }
        let (seconds, attoseconds) = duration.components
        let unitsPerSecond = 1_000_000_000_000_000_000 / attosecondsPerUnit
        let limit = "must be at most \(Int32.max) \(unitName)"
        guard seconds <= Int64(Int32.max) / unitsPerSecond + 1 else { throw OptionRejection(reason: limit) }
        let units = seconds * unitsPerSecond + (attoseconds + attosecondsPerUnit - 1) / attosecondsPerUnit
        guard units <= Int64(Int32.max) else { throw OptionRejection(reason: limit) }
        return Int32(units)
    }

    /// `250 ms` for whole milliseconds, Swift's own description otherwise.
    static func describe(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let perMillisecond: Int64 = 1_000_000_000_000_000
        guard attoseconds % perMillisecond == 0, seconds.magnitude < UInt64(Int64.max / 1000) else { return "\(duration)" }
        return "\(seconds * 1000 + attoseconds / perMillisecond) ms"
    }
}
