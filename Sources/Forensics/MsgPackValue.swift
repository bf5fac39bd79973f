// Foundation-free on purpose: Fuzz/msgpack/build.sh compiles this file with the reader alone.

/// One MessagePack value, as read from bytes we do not trust.
public indirect enum MsgPackValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case float(Double)
    case string(String)
    case binary([UInt8])
    case array([MsgPackValue])
    /// Pairs in the order they were written (keys may repeat in hostile input).
    case map([MsgPackPair])
    case ext(type: Int8, data: [UInt8])

    /// A non-negative integer, whichever width or signedness the encoder chose.
    public var uint64: UInt64? {
        switch self {
        case .uint(let v): return v
        case .int(let v) where v >= 0: return UInt64(v)
        default: return nil
        }
    }

    /// A signed integer, whichever width or signedness the encoder chose.
    public var int64: Int64? {
        switch self {
        case .int(let v): return v
        case .uint(let v) where v <= UInt64(Int64.max): return Int64(v)
        default: return nil
        }
    }

    /// Text; binary that is valid UTF-8 counts too (Go encoders write some strings as bin).
    public var string: String? {
        switch self {
        case .string(let s): return s
        case .binary(let b): return String(validating: b, as: UTF8.self)
        default: return nil
        }
    }

    /// Bytes; a string counts too (Go decodes `[]byte` from either).
    public var bytes: [UInt8]? {
        switch self {
        case .binary(let b): return b
        case .string(let s): return Array(s.utf8)
        default: return nil
        }
    }

    /// The elements, when this is an array.
    public var array: [MsgPackValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The pairs, when this is a map.
    public var map: [MsgPackPair]? {
        if case .map(let m) = self { return m }
        return nil
    }
}

/// One key and value of a MessagePack map.
public struct MsgPackPair: Sendable, Equatable {
    public var key: MsgPackValue
    public var value: MsgPackValue

    /// A pair as read.
    public init(key: MsgPackValue, value: MsgPackValue) {
        self.key = key
        self.value = value
    }
}
