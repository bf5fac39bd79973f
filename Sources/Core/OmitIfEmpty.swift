/// A list member that JSON leaves out while it is empty, and reads as empty when it is missing: for a list only
/// some runs write (the scan report's `accepted`, with `--show-suppressed`), so that a report without it stays as
/// it was. The counterpart of `@Nullable`, whose absent values are written; with either, the synthesized coding
/// does the work and the type needs no `encode(to:)` of its own.
@propertyWrapper
public struct OmitIfEmpty<Element: Codable>: Codable {
    public var wrappedValue: [Element]

    public init(wrappedValue: [Element]) {
        self.wrappedValue = wrappedValue
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(wrappedValue)
    }

    public init(from decoder: Decoder) throws {
        wrappedValue = try decoder.singleValueContainer().decode([Element].self)
    }
}

extension OmitIfEmpty: Sendable where Element: Sendable {}
extension OmitIfEmpty: Equatable where Element: Equatable {}

extension KeyedEncodingContainer {
    /// An `@OmitIfEmpty` member: its key only when the list has something.
    public mutating func encode<Element>(_ value: OmitIfEmpty<Element>, forKey key: Key) throws {
        if !value.wrappedValue.isEmpty { try encode(value.wrappedValue, forKey: key) }
    }
}

extension KeyedDecodingContainer {
    /// An `@OmitIfEmpty` member whose key is missing is empty, not an error.
    public func decode<Element>(_ type: OmitIfEmpty<Element>.Type, forKey key: Key) throws -> OmitIfEmpty<Element> {
        OmitIfEmpty(wrappedValue: try decodeIfPresent([Element].self, forKey: key) ?? [])
    }
}
