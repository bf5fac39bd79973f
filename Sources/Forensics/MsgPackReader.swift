// Foundation-free on purpose: Fuzz/msgpack/build.sh compiles this file with a libFuzzer harness.

/// Reads MessagePack from hostile bytes: every length is checked against the bytes that remain before anything
/// is allocated, nesting and the number of values are bounded, and no input traps (no force unwrap, no
/// unchecked arithmetic on lengths). A caller can read a whole value or walk an array element by element, so a
/// truncated structure still yields the elements before the damage.
public struct MsgPackReader: Sendable {
    /// Deepest nesting of arrays and maps accepted (Fly tokens nest five deep at most).
    public static let maxDepth = 32
    /// Most values one reader produces: a 64 KiB token holds far fewer, a hostile one cannot make us build more.
    public static let maxValues = 1 << 16

    private let bytes: [UInt8]
    /// Where the next value starts.
    public private(set) var offset = 0
    private var values = 0

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Whether every byte has been read.
    public var isAtEnd: Bool { offset >= bytes.count }

    /// Bytes not read yet.
    public var remaining: Int { bytes.count - offset }

    /// The next whole value.
    public mutating func read() throws(ForensicsError) -> MsgPackValue {
        try value(depth: 0)
    }

    /// The next value's array header: its element count, checked against the bytes that remain. Throws
    /// `unexpected` (without consuming anything) when the next value is not an array.
    public mutating func readArrayHeader() throws(ForensicsError) -> Int {
        let start = offset
        let b = try byte()
        let n: Int
        switch b {
        case 0x90...0x9f: n = Int(b & 0x0f)
        case 0xdc: n = Int(clamping: try bigEndian(2))
        case 0xdd: n = Int(clamping: try bigEndian(4))
        default:
            offset = start
            throw .unexpected(expected: "an array", offset: start)
        }
        // Every element takes at least one byte.
        guard n <= remaining else { throw .truncated(offset: start) }
        return n
    }

    private mutating func value(depth: Int) throws(ForensicsError) -> MsgPackValue {
        let start = offset
        values += 1
        guard values <= Self.maxValues else { throw .tooManyValues(offset: start) }
        let b = try byte()
        switch b {
        case 0x00...0x7f: return .uint(UInt64(b))
        case 0x80...0x8f: return try map(count: Int(b & 0x0f), depth: depth, start: start)
        case 0x90...0x9f: return try array(count: Int(b & 0x0f), depth: depth, start: start)
        case 0xa0...0xbf: return .string(try text(Int(b & 0x1f), start: start))
        case 0xc0: return .null
        case 0xc1: throw .invalidByte(b, offset: start)
        case 0xc2: return .bool(false)
        case 0xc3: return .bool(true)
        case 0xc4: return .binary(try take(Int(clamping: try bigEndian(1)), start: start))
        case 0xc5: return .binary(try take(Int(clamping: try bigEndian(2)), start: start))
        case 0xc6: return .binary(try take(Int(clamping: try bigEndian(4)), start: start))
        case 0xc7: return try ext(length: Int(clamping: try bigEndian(1)), start: start)
        case 0xc8: return try ext(length: Int(clamping: try bigEndian(2)), start: start)
        case 0xc9: return try ext(length: Int(clamping: try bigEndian(4)), start: start)
        case 0xca: return .float(Double(Float(bitPattern: UInt32(truncatingIfNeeded: try bigEndian(4)))))
        case 0xcb: return .float(Double(bitPattern: try bigEndian(8)))
        case 0xcc: return .uint(try bigEndian(1))
        case 0xcd: return .uint(try bigEndian(2))
        case 0xce: return .uint(try bigEndian(4))
        case 0xcf: return .uint(try bigEndian(8))
        case 0xd0: return .int(Int64(Int8(truncatingIfNeeded: try bigEndian(1))))
        case 0xd1: return .int(Int64(Int16(truncatingIfNeeded: try bigEndian(2))))
        case 0xd2: return .int(Int64(Int32(truncatingIfNeeded: try bigEndian(4))))
        case 0xd3: return .int(Int64(bitPattern: try bigEndian(8)))
        case 0xd4: return try ext(length: 1, start: start)
        case 0xd5: return try ext(length: 2, start: start)
        case 0xd6: return try ext(length: 4, start: start)
        case 0xd7: return try ext(length: 8, start: start)
        case 0xd8: return try ext(length: 16, start: start)
        case 0xd9: return .string(try text(Int(clamping: try bigEndian(1)), start: start))
        case 0xda: return .string(try text(Int(clamping: try bigEndian(2)), start: start))
        case 0xdb: return .string(try text(Int(clamping: try bigEndian(4)), start: start))
        case 0xdc: return try array(count: Int(clamping: try bigEndian(2)), depth: depth, start: start)
        case 0xdd: return try array(count: Int(clamping: try bigEndian(4)), depth: depth, start: start)
        case 0xde: return try map(count: Int(clamping: try bigEndian(2)), depth: depth, start: start)
        case 0xdf: return try map(count: Int(clamping: try bigEndian(4)), depth: depth, start: start)
        default: return .int(Int64(Int8(bitPattern: b)))  // 0xe0...0xff: negative fixint
        }
    }

    private mutating func array(count: Int, depth: Int, start: Int) throws(ForensicsError) -> MsgPackValue {
        guard depth < Self.maxDepth else { throw .tooDeep(offset: start) }
        // A count larger than the bytes left cannot be real; checked before reserving anything.
        guard count <= remaining else { throw .truncated(offset: start) }
        var items: [MsgPackValue] = []
        items.reserveCapacity(count)
        for _ in 0..<count { items.append(try value(depth: depth + 1)) }
        return .array(items)
    }

    private mutating func map(count: Int, depth: Int, start: Int) throws(ForensicsError) -> MsgPackValue {
        guard depth < Self.maxDepth else { throw .tooDeep(offset: start) }
        // Every pair takes at least two bytes.
        guard count <= remaining / 2 else { throw .truncated(offset: start) }
        var pairs: [MsgPackPair] = []
        pairs.reserveCapacity(count)
        for _ in 0..<count {
            let k = try value(depth: depth + 1)
            let v = try value(depth: depth + 1)
            pairs.append(MsgPackPair(key: k, value: v))
        }
        return .map(pairs)
    }

    private mutating func ext(length: Int, start: Int) throws(ForensicsError) -> MsgPackValue {
        let type = Int8(bitPattern: try byte())
        return .ext(type: type, data: try take(length, start: start))
    }

    /// Strings are kept even when their bytes are not UTF-8 (invalid sequences become U+FFFD): a damaged
    /// location still says what it can.
    private mutating func text(_ length: Int, start: Int) throws(ForensicsError) -> String {
        String(decoding: try take(length, start: start), as: UTF8.self)
    }

    private mutating func byte() throws(ForensicsError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    private mutating func take(_ n: Int, start: Int) throws(ForensicsError) -> [UInt8] {
        guard n >= 0, n <= remaining else { throw .truncated(offset: start) }
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }

    /// An unsigned big-endian integer of `n` (1...8) bytes. Always read right after a value's type byte, so a
    /// shortfall is reported at that byte.
    private mutating func bigEndian(_ n: Int) throws(ForensicsError) -> UInt64 {
        guard n <= remaining else { throw .truncated(offset: offset - 1) }
        var v: UInt64 = 0
        for i in 0..<n { v = v << 8 | UInt64(bytes[offset + i]) }
        offset += n
        return v
    }
}
