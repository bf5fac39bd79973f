/// What can go wrong in the shared basics: a malformed digest, a file that cannot be read.
public enum CoreError: Error, Equatable, CustomStringConvertible {
    case invalidDigest(String)
    case io(path: String, reason: String)
    case tooLarge(what: String, size: Int64, limit: Int64)

    public var description: String {
        switch self {
        case .invalidDigest(let d): return "invalid digest \"\(d)\""
        case .io(let p, let r): return "\(p): \(r)"
        case .tooLarge(let w, let size, let limit): return "\(w): \(size) bytes is over the \(limit)-byte limit for a JSON document"
        }
    }
}
