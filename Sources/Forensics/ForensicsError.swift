// Foundation-free on purpose: Fuzz/msgpack/build.sh compiles this file with the msgpack reader alone.

/// Why bytes of a structured secret could not be read further. Decoders record it and report what they read
/// before it; nothing in this module throws it past its public API.
public enum ForensicsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes end inside a value that starts at `offset`.
    case truncated(offset: Int)
    /// Containers nest deeper than the reader allows at `offset`.
    case tooDeep(offset: Int)
    /// More values than the reader allows; the last one started at `offset`.
    case tooManyValues(offset: Int)
    /// A byte MessagePack never uses (0xc1) at `offset`.
    case invalidByte(UInt8, offset: Int)
    /// A value of the wrong kind for the format: `expected` names what should have been at `offset`.
    case unexpected(expected: String, offset: Int)
    /// Text that is not base64 (or decodes to nothing), at character `offset`.
    case notBase64(offset: Int)

    public var description: String {
        switch self {
        case .truncated(let o): return "the bytes end inside the value at byte \(o)"
        case .tooDeep(let o): return "values nest too deep at byte \(o)"
        case .tooManyValues(let o): return "too many values (at byte \(o))"
        case .invalidByte(let b, let o): return "byte 0x\(String(b, radix: 16)) at \(o) is not MessagePack"
        case .unexpected(let what, let o): return "expected \(what) at byte \(o)"
        case .notBase64(let o): return "not base64 at character \(o)"
        }
    }
}
