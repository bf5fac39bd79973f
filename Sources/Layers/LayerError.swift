/// What can go wrong reading a layer; each case names the layer (its display name).
public enum LayerError: Error, Equatable, CustomStringConvertible {
    case corrupt(layer: String, reason: String)
    case digestMismatch(layer: String, what: String, expected: String, actual: String)
    case sizeMismatch(layer: String, expected: Int64, actual: Int64)
    case archive(call: String, reason: String)

    public var description: String {
        switch self {
        case .corrupt(let l, let r): return "\(l): unreadable layer: \(r)"
        case .digestMismatch(let l, let w, let e, let a): return "\(l): \(w) mismatch: expected \(e), content hashes to \(a)"
        case .sizeMismatch(let l, let e, let a): return "\(l): size mismatch: expected \(e) bytes, read \(a)"
        case .archive(let c, let r): return "libarchive \(c): \(r)"
        }
    }
}
