/// An optional member that JSON always carries: `"key": null` when absent, never a missing key. The report
/// contracts (the scan report, the inspector's, the sweep's) print absent values as null so that a reader can
/// tell "nothing here" from "a member this version does not write"; Swift's synthesized `Encodable` leaves nil
/// optionals out, so each type used to write its own `encode(to:)` only to spell the nulls. With the wrapper the
/// synthesized coding does it:
///
///     public struct LayerInfo: Codable { public var index: Int; @Nullable public var digest: String? }
///
/// Decoding stays lenient: a missing key reads as nil, as a plain optional does (see the `KeyedDecodingContainer`
/// overload below, which the synthesized `init(from:)` picks).
@propertyWrapper
public struct Nullable<Value: Codable>: Codable {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let wrappedValue { try c.encode(wrappedValue) } else { try c.encodeNil() }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        wrappedValue = c.decodeNil() ? nil : try c.decode(Value.self)
    }
}

extension Nullable: Sendable where Value: Sendable {}
extension Nullable: Equatable where Value: Equatable {}
extension Nullable: Hashable where Value: Hashable {}

extension KeyedDecodingContainer {
    /// A `@Nullable` member whose key is missing (a report of an older version) is nil, not an error.
    public func decode<Value>(_ type: Nullable<Value>.Type, forKey key: Key) throws -> Nullable<Value> {
        Nullable(wrappedValue: try decodeIfPresent(Value.self, forKey: key))
    }
}
