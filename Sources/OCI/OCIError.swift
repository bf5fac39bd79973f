/// Everything that can go wrong while reading an image, each case carrying the offending value.
public enum OCIError: Error, Equatable, CustomStringConvertible {
    case notFound(path: String)
    case notAnImage(path: String, reason: String)
    case invalidJSON(what: String, reason: String)
    case missingBlob(image: String, name: String)
    case digestMismatch(blob: String, expected: String, actual: String)
    case sizeMismatch(blob: String, expected: Int64, actual: Int64)
    case unsupported(what: String, reason: String)
    case noMatchingImage(source: String, reason: String)
    case io(path: String, reason: String)
    case invalidReference(String, reason: String)
    case badCredentials(source: String, reason: String)
    /// The registry refused the credentials (or their absence); names the source, never the secret.
    case authenticationFailed(registry: String, source: String, status: Int, message: String)
    case registryError(registry: String, url: String, status: Int, message: String)
    case tls(registry: String, reason: String)
    case network(registry: String, reason: String)

    public var description: String {
        switch self {
        case .notFound(let p): return "\(p): no such file or directory"
        case .notAnImage(let p, let r): return "\(p): not a container image (\(r))"
        case .invalidJSON(let w, let r): return "\(w): invalid JSON (\(r))"
        case .missingBlob(let i, let n): return "\(i): \(n) is referenced but not present"
        case .digestMismatch(let b, let e, let a): return "\(b): digest mismatch: expected \(e), content hashes to \(a)"
        case .sizeMismatch(let b, let e, let a): return "\(b): size mismatch: expected \(e) bytes, found \(a)"
        case .unsupported(let w, let r): return "\(w): unsupported (\(r))"
        case .noMatchingImage(let s, let r): return "\(s): \(r)"
        case .io(let p, let r): return "\(p): \(r)"
        case .invalidReference(let r, let why): return "\(r): not a file, directory or valid image reference (\(why))"
        case .badCredentials(let s, let r): return "credentials from \(s): \(r)"
        case .authenticationFailed(let reg, let s, let st, let m):
            return "\(reg): authentication failed (\(st)) with credentials from \(s)" + (m.isEmpty ? "" : ": \(m)")
        case .registryError(let reg, let u, let st, let m): return "\(reg): \(u) answered \(st)" + (m.isEmpty ? "" : ": \(m)")
        case .tls(let reg, let r): return "\(reg): TLS: \(r)"
        case .network(let reg, let r): return "\(reg): network error: \(r)"
        }
    }
}
