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
    /// A path named by the image (manifest.json, a symbolic link) that would leave the image or is not a plain file.
    case unsafePath(image: String, path: String, reason: String)
    case invalidReference(String, reason: String)
    case badCredentials(source: String, reason: String)
    /// The registry refused the credentials (or their absence); names the source, never the secret.
    case authenticationFailed(registry: String, source: String, status: Int, message: String)
    case tls(registry: String, reason: String)
    /// A registry operation (`ping`, `manifest of team/app:v1`, `blob sha256:…`, `token from https://…`) gave up.
    case registryFailed(registry: String, operation: String, failure: RegistryFailure)
    /// The local Docker or Podman engine could not give the image (`source` is what the user typed).
    case engine(source: String, reason: String)

    /// TLS was tried and a plain HTTP server answered.
    public var isPlainHTTPOverTLS: Bool {
        if case .tls(_, let reason) = self { return reason.hasPrefix(Self.plainHTTPReason) }
        return false
    }

    /// How `tls` begins when a plain HTTP server answered the TLS handshake.
    static let plainHTTPReason = "the registry answered in plain HTTP, not TLS"

    /// A registry operation ran out of time.
    public var isTimeout: Bool {
        if case .registryFailed(_, _, let f) = self { return f.isTimeout }
        return false
    }

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
        case .unsafePath(let i, let p, let r): return "\(i): refusing \"\(p)\": \(r)"
        case .invalidReference(let r, let why): return "\(r): not a file, directory or valid image reference (\(why))"
        case .badCredentials(let s, let r): return "credentials from \(s): \(r)"
        case .authenticationFailed(let reg, let s, let st, let m):
            return "\(reg): authentication failed (\(st)) with credentials from \(s)" + (m.isEmpty ? "" : ": \(m)")
        case .tls(let reg, let r): return "\(reg): TLS: \(r)"
        case .registryFailed(let reg, let op, let f): return "\(reg): \(op): \(f)"
        case .engine(let s, let r): return "\(s): \(r)"
        }
    }
}

/// Why a registry operation gave up, in words a person can act on.
public enum RegistryFailure: Sendable, Equatable, CustomStringConvertible {
    /// A final answer that is not the one wanted (404, 400…), with the registry's own message (redacted).
    case answered(status: Int, message: String)
    /// Retrying stopped: out of attempts, or (`deadline` set) the next wait would pass the operation's deadline.
    /// `status` is the last answer's, nil when the connection was lost; `detail` says more (redacted).
    case gaveUp(status: Int?, detail: String, attempts: Int, deadline: Double?)
    case connectTimeout(seconds: Double)
    /// Nothing came back within the bound.
    case noAnswer(seconds: Double)
    /// A small document kept coming but was not whole within the bound.
    case notWhole(seconds: Double)
    /// A body stopped arriving for the bound.
    case stalled(seconds: Double)
    case tooLarge(limit: Int)
    case redirectLoop(url: String)
    case tooManyRedirects(limit: Int)
    case redirectWithoutLocation(status: Int)
    /// The registry sent more bytes than the descriptor's size; reading stopped at size + 1.
    case longerThanDescriptor(size: Int64)
    case badContentRange(expectedStart: Int64)
    /// Credentials would have gone over plain HTTP to a token realm announced by an HTTPS registry.
    case plainHTTPRealm(realm: String, source: String)
    case badChallenge(reason: String)
    case notARegistry(status: Int)
    case network(reason: String)
    /// Not tried: an earlier request to the same registry gave up this way (`earlier` names it), so this one
    /// would most likely only wait out the same bounds.
    case skipped(earlier: String)

    public var description: String {
        switch self {
        case .answered(let st, let m): return "answered \(st)" + (m.isEmpty ? "" : ": \(m)")
        case .gaveUp(let st, let d, let n, let deadline):
            let what = st.map { "\($0)" } ?? "connection lost"
            let limit = deadline.map { ", and retrying stops after \(Self.seconds($0))" } ?? ""
            return "\(what) after \(n) attempt\(n == 1 ? "" : "s")\(limit)" + (d.isEmpty ? "" : ": \(d)")
        case .connectTimeout(let s): return "could not connect within \(Self.seconds(s))"
        case .noAnswer(let s): return "no answer within \(Self.seconds(s))"
        case .notWhole(let s): return "not received whole within \(Self.seconds(s)) (the registry sends too slowly)"
        case .stalled(let s): return "stalled: no data for \(Self.seconds(s))"
        case .tooLarge(let n): return "larger than the limit of \(n) bytes"
        case .redirectLoop(let u): return "redirect loop (back to \(u))"
        case .tooManyRedirects(let n): return "more than \(n) redirects"
        case .redirectWithoutLocation(let st): return "redirect (\(st)) without a usable Location"
        case .longerThanDescriptor(let n): return "longer than its descriptor's \(n) bytes (stopped reading at byte \(n + 1))"
        case .badContentRange(let n): return "resumed answer's Content-Range does not start at byte \(n)"
        case .plainHTTPRealm(_, let source):
            return "refusing to send the credentials from \(source) over plain HTTP: an HTTPS registry announced this realm"
        case .badChallenge(let r): return "unusable authentication challenge: \(r)"
        case .notARegistry(let st): return "not an OCI distribution (v2) registry (/v2/ answered \(st))"
        case .network(let r): return "network error: \(r)"
        case .skipped(let e): return "not fetched: this registry already failed (\(e))"
        }
    }

    /// A bound on time ran out (rather than the registry answering something).
    public var isTimeout: Bool {
        switch self {
        case .connectTimeout, .noAnswer, .notWhole, .stalled: return true
        default: return false
        }
    }

    /// Says the registry as a whole is unwell (out of retries, out of time, unreachable), not just one blob.
    var registryIsUnwell: Bool {
        switch self {
        case .gaveUp, .connectTimeout, .noAnswer, .notWhole, .stalled, .network: return true
        default: return false
        }
    }

    /// `30 s`, `0.5 s`.
    static func seconds(_ s: Double) -> String {
        s == s.rounded() && s < 1e9 ? "\(Int(s)) s" : String(format: "%.3g s", s)
    }
}
