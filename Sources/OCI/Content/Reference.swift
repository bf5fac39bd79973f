import Core
/// An image reference with Docker's grammar and defaults: `alpine` → `docker.io/library/alpine:latest`,
/// `host:5000/team/app:tag`, `repo@sha256:…`, `repo:tag@sha256:…` (the digest wins).
public struct Reference: Sendable, Equatable, CustomStringConvertible {
    /// Registry host as written (`docker.io`, `registry.fly.io`, `127.0.0.1:5000`).
    public var registry: String
    public var repository: String
    public var tag: String?
    public var digest: Digest?

    /// Parses a reference; throws `OCIError.invalidReference` naming what is wrong.
    public init(_ text: String) throws {
        guard !text.isEmpty, !text.contains(" "), text.count <= 512 else { throw OCIError.invalidReference(text, reason: "empty or malformed") }
        var rest = Substring(text)
        // skopeo's and containers-transports' spelling of a registry reference.
        if rest.hasPrefix("docker://") { rest = rest.dropFirst("docker://".count) }
        if let at = rest.firstIndex(of: "@") {
            let text = String(rest[rest.index(after: at)...])
            guard let d = try? Digest(text) else {
                throw OCIError.invalidReference(String(rest), reason: "\"\(text)\" is not a sha256 or sha512 digest")
            }
            digest = d
            rest = rest[..<at]
        }
        // A tag is a colon after the last slash.
        let lastSlash = rest.lastIndex(of: "/")
        if let colon = rest.lastIndex(of: ":"), lastSlash.map({ colon > $0 }) ?? true {
            let t = String(rest[rest.index(after: colon)...])
            guard Self.isValidTag(t) else { throw OCIError.invalidReference(text, reason: "invalid tag \"\(t)\"") }
            tag = t
            rest = rest[..<colon]
        }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.count > 1, parts[0] == "localhost" || parts[0].contains(".") || parts[0].contains(":") || parts[0] != parts[0].lowercased() {
            registry = parts[0]
            repository = parts.dropFirst().joined(separator: "/")
        } else {
            registry = "docker.io"
            repository = parts.joined(separator: "/")
        }
        if registry == "index.docker.io" || registry == "registry-1.docker.io" { registry = "docker.io" }
        if registry == "docker.io" && !repository.contains("/") { repository = "library/" + repository }
        guard Self.isValidRepository(repository) else {
            throw OCIError.invalidReference(text, reason: "invalid repository name \"\(repository)\"")
        }
        if digest != nil { tag = nil } else if tag == nil { tag = "latest" }
    }

    /// Host to talk to for the API.
    public var apiHost: String { registry == "docker.io" ? "registry-1.docker.io" : registry }

    /// Tag or digest, as used in `/v2/<name>/manifests/<ref>`.
    public var manifestReference: String { digest?.description ?? tag ?? "latest" }

    public var description: String {
        "\(registry)/\(repository)" + (digest.map { "@\($0)" } ?? ":\(tag ?? "latest")")
    }

    static func isValidTag(_ t: String) -> Bool {
        guard let first = t.first, t.count <= 128, first.isASCII, first.isLetter || first.isNumber || first == "_" else { return false }
        return t.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }
    }

    static func isValidRepository(_ r: String) -> Bool {
        guard !r.isEmpty else { return false }
        for component in r.split(separator: "/", omittingEmptySubsequences: false) {
            guard let f = component.first, let l = component.last, f.isLowercase || f.isNumber, l.isLowercase || l.isNumber,
                  component.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || "._-".contains($0)) }) else { return false }
        }
        return true
    }
}
