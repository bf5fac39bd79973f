import Foundation

/// Listing what a registry holds, for sweeps: the catalog (`GET /v2/_catalog`) and a repository's tags
/// (`GET /v2/NAME/tags/list`), both following `Link: <…>; rel="next"` pagination (relative links too), and
/// the manifest of a reference without any blob.
extension RegistryClient {
    /// Pages followed at most per listing: a registry that keeps answering `next` cannot hold a sweep forever.
    public static let maxListPages = 10_000
    /// Bytes read at most from one page of a listing.
    static let maxListPageBytes = 16 << 20

    /// Every repository name of the registry at `registry` (`host[:port]`, `docker.io` for Docker Hub), in the
    /// order the registry lists them. `pageSize` sends `n=` on the first request (the registry's links carry
    /// it on). Throws `OCIError` naming the registry and the URL that failed.
    public func catalog(registry: String, pageSize: Int? = nil) async throws -> [String] {
        struct Page: Decodable { var repositories: [String]? }
        // A token registry grants the catalog only to this scope, which no repository name can spell.
        let pages: [Page] = try await listPages(registry: registry, path: "/v2/_catalog", pageSize: pageSize,
                                                scope: "registry:catalog:*")
        return pages.flatMap { $0.repositories ?? [] }
    }

    /// Every tag of `repository` at `registry`, in the order the registry lists them (an unknown repository
    /// throws its 404; a repository with no tags returns none).
    public func tags(registry: String, repository: String, pageSize: Int? = nil) async throws -> [String] {
        struct Page: Decodable { var tags: [String]? }
        let pages: [Page] = try await listPages(registry: registry, path: "/v2/\(repository)/tags/list", pageSize: pageSize,
                                                scope: repository)
        return pages.flatMap { $0.tags ?? [] }
    }

    /// The manifest or index `ref` names, with its media type and digest (checked against the reference's
    /// digest when there is one). Fetches no blob: this is what tells a sweep whether an image changed.
    public func fetchManifest(_ ref: Reference) async throws -> (data: Data, mediaType: String?, digest: Digest) {
        try await manifest(ref, reference: ref.manifestReference)
    }

    /// Follows `Link` pagination from `path`, decoding each page; a `next` link to another origin is refused
    /// (credentials go only to the registry), and so is a link already followed (a loop).
    private func listPages<Page: Decodable>(registry: String, path: String, pageSize: Int?, scope: String) async throws -> [Page] {
        let host = registry == "docker.io" ? "registry-1.docker.io" : registry
        let what = scope.contains(":") ? "catalog" : "tags of \(scope)"
        var next: String? = path + (pageSize.map { "?n=\($0)" } ?? "")
        var seen = Set<String>()
        var pages: [Page] = []
        while let current = next {
            let op = Operation(registry: registry, name: "\(what) (\(current.prefix(200)))")
            guard seen.insert(current).inserted, pages.count < Self.maxListPages else {
                throw OCIError.registryFailed(registry: registry, operation: op.name,
                                              failure: .answered(status: 200, message: "pagination loops or exceeds \(Self.maxListPages) pages"))
            }
            let spec = try await registryRequest(host: host, path: current, repository: scope)
            let answer = try await fetch(spec, op, limit: Self.maxListPageBytes, ok: [200])
            guard answer.status == 200 else { throw try await refusal((answer.status, answer.message), op, host: host) }
            do {
                pages.append(try JSONDecoder().decode(Page.self, from: answer.body))
            } catch {
                throw OCIError.invalidJSON(what: "\(registry) \(op.name)", reason: "\(error)")
            }
            next = try Self.nextPage(answer.headers["Link"], after: current, base: try await baseURL(host), registry: registry, op: op)
        }
        return pages
    }

    /// The path and query of the `rel="next"` link among `Link` header values, resolved against the page it came
    /// with; nil when there is none. Throws when the link leaves the registry's origin.
    static func nextPage(_ values: [String], after current: String, base: URL, registry: String, op: Operation) throws -> String? {
        for value in values {
            for part in Self.splitLinks(value) {
                guard let open = part.firstIndex(of: "<"), let close = part[open...].firstIndex(of: ">") else { continue }
                let target = String(part[part.index(after: open)..<close])
                let params = part[part.index(after: close)...].lowercased()
                guard params.contains("rel=\"next\"") || params.contains("rel=next") else { continue }
                guard let url = URL(string: target, relativeTo: URL(string: current, relativeTo: base))?.absoluteURL,
                      origin(url) == origin(base) else {
                    throw OCIError.registryFailed(registry: registry, operation: op.name, failure: .answered(
                        status: 200, message: "pagination link \"\(target.prefix(200))\" leaves the registry"))
                }
                let parts = URLComponents(url: url, resolvingAgainstBaseURL: false)
                return (parts?.percentEncodedPath ?? url.path) + (parts?.percentEncodedQuery.map { "?\($0)" } ?? "")
            }
        }
        return nil
    }

    /// One header value can hold several links separated by commas outside the angle brackets.
    private static func splitLinks(_ value: String) -> [Substring] {
        var parts: [Substring] = []
        var depth = 0
        var start = value.startIndex
        for i in value.indices {
            switch value[i] {
            case "<": depth += 1
            case ">": depth = max(0, depth - 1)
            case "," where depth == 0:
                parts.append(value[start..<i])
                start = value.index(after: i)
            default: break
            }
        }
        parts.append(value[start...])
        return parts
    }
}
