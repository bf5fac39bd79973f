import Core
import Foundation

/// Listing what a registry holds, for sweeps: the catalog (`GET /v2/_catalog`) and a repository's tags
/// (`GET /v2/NAME/tags/list`), both following `Link: <…>; rel="next"` pagination (relative links too), and
/// the manifest of a reference without any blob.
extension RegistryClient {
    /// Pages followed at most per listing: a registry that keeps answering `next` cannot hold a sweep forever.
    public static let maxListPages = 10_000
    /// Bytes read at most from one page of a listing (a registry's own page of 1000 names of 255 characters is a
    /// quarter of a MiB).
    public static let maxListPageBytes = 8 << 20

    /// What one registry's listings (its catalog and every repository's tags) may take in one sweep, together:
    /// pages fetched, names read, and names kept (only those are held past their page).
    public struct ListingBudget: Sendable {
        /// Pages a registry's listings may still fetch.
        public var pages: Int
        /// Names they may still read.
        public var read: Int
        /// Names they may still keep.
        public var names: Int

        /// The defaults: 100,000 pages, 1,000,000 names read and 100,000 kept per registry.
        public static let perRegistry = ListingBudget(pages: 100_000, read: 1_000_000, names: 100_000)

        public init(pages: Int, read: Int, names: Int) {
            self.pages = pages
            self.read = read
            self.names = names
        }
    }

    /// A listing read page by page: the names kept, and why it stopped before the registry's last page (a limit
    /// reached, or an error after the first page), nil when it read every page.
    public struct Listing: Sendable {
        public var names: [String] = []
        public var pages = 0
        public var cutShort: String?
    }

    /// Every repository name of the registry at `registry` (`host[:port]`, `docker.io` for Docker Hub) that `keep`
    /// accepts, in the order the registry lists them, read one page at a time within `budget` (which it spends).
    /// `pageSize` sends `n=` on the first request (the registry's links carry it on). Throws `OCIError` naming
    /// the registry and the URL when the first page cannot be read, or `CancellationError`.
    public func catalog(registry: String, pageSize: Int? = nil, budget: inout ListingBudget,
                        keep: (String) -> Bool = { _ in true }) async throws -> Listing {
        struct Page: Decodable { var repositories: [String]? }
        // A token registry grants the catalog only to this scope, which no repository name can spell.
        return try await listPages(registry: registry, path: "/v2/_catalog", pageSize: pageSize, scope: "registry:catalog:*",
                                   budget: &budget, keep: keep) { (page: Page) in page.repositories ?? [] }
    }

    /// Every tag of `repository` at `registry` that `keep` accepts, in the order the registry lists them, within
    /// `budget` (an unknown repository throws its 404; a repository with no tags returns none).
    public func tags(registry: String, repository: String, pageSize: Int? = nil, budget: inout ListingBudget,
                     keep: (String) -> Bool = { _ in true }) async throws -> Listing {
        struct Page: Decodable { var tags: [String]? }
        return try await listPages(registry: registry, path: "/v2/\(repository)/tags/list", pageSize: pageSize, scope: repository,
                                   budget: &budget, keep: keep) { (page: Page) in page.tags ?? [] }
    }

    /// Every repository name of the registry (within the default per-registry budget); throws when the listing
    /// was cut short, so a caller that wants all of it never gets part of it unknowingly.
    public func catalog(registry: String, pageSize: Int? = nil) async throws -> [String] {
        var budget = ListingBudget.perRegistry
        let listing = try await catalog(registry: registry, pageSize: pageSize, budget: &budget)
        if let reason = listing.cutShort {
            throw OCIError.registryFailed(registry: registry, operation: "catalog", failure: .answered(status: 200, message: reason))
        }
        return listing.names
    }

    /// Every tag of `repository` (within the default per-registry budget); throws when the listing was cut short.
    public func tags(registry: String, repository: String, pageSize: Int? = nil) async throws -> [String] {
        var budget = ListingBudget.perRegistry
        let listing = try await tags(registry: registry, repository: repository, pageSize: pageSize, budget: &budget)
        if let reason = listing.cutShort {
            throw OCIError.registryFailed(registry: registry, operation: "tags of \(repository)", failure: .answered(status: 200, message: reason))
        }
        return listing.names
    }

    /// The manifest or index `ref` names, with its media type and digest (checked against the reference's
    /// digest when there is one). Fetches no blob: this is what tells a sweep whether an image changed.
    public func fetchManifest(_ ref: Reference) async throws -> (data: Data, mediaType: String?, digest: Digest) {
        try await manifest(ref, reference: ref.manifestReference)
    }

    /// Follows `Link` pagination from `path`, one page at a time: each page is decoded, its names offered to
    /// `keep`, and dropped before the next is fetched, so only the names kept are held. A `next` link to another
    /// origin is refused (credentials go only to the registry), and so is a link already followed (a loop). A
    /// limit reached, or a failure after the first page, ends the listing with what it has and says why.
    private func listPages<Page: Decodable>(registry: String, path: String, pageSize: Int?, scope: String, budget: inout ListingBudget,
                                            keep: (String) -> Bool, names: (Page) -> [String]) async throws -> Listing {
        let host = registry == "docker.io" ? "registry-1.docker.io" : registry
        let what = scope.contains(":") ? "catalog" : "tags of \(scope)"
        var next: String? = path + (pageSize.map { "?n=\($0)" } ?? "")
        var seen = Set<String>()
        var listing = Listing()
        while let current = next {
            try Task.checkCancellation()
            guard seen.insert(current).inserted else {
                listing.cutShort = "the registry's pagination loops back to a page already read"
                break
            }
            guard listing.pages < Self.maxListPages else {
                listing.cutShort = "stopped after \(listing.pages) pages: the limit of \(Self.maxListPages) pages per listing"
                break
            }
            guard budget.pages > 0 else {
                listing.cutShort = "stopped after \(listing.pages) pages: the registry's listings reached the limit of "
                    + "\(ListingBudget.perRegistry.pages) pages per registry"
                break
            }
            budget.pages -= 1
            let op = Operation(registry: registry, name: "\(what) (\(current.prefix(200)))")
            let page: Page
            let link: [String]
            do {
                let spec = try await registryRequest(host: host, path: current, repository: scope)
                let answer = try await fetch(spec, op, limit: Self.maxListPageBytes, ok: [200])
                guard answer.status == 200 else { throw try await refusal((answer.status, answer.message), op, host: host) }
                do {
                    page = try JSONDecoder().decode(Page.self, from: answer.body)
                } catch {
                    throw OCIError.invalidJSON(what: "\(registry) \(op.name)", reason: "\(error)")
                }
                link = answer.headers["Link"]
            } catch let e as OCIError where listing.pages > 0 {
                if case .registryFailed(_, _, .tooLarge) = e {
                    listing.cutShort = "page \(listing.pages + 1) is larger than the limit of \(Self.maxListPageBytes >> 20) MiB per page"
                } else {
                    listing.cutShort = "page \(listing.pages + 1) could not be read: \(e)"
                }
                break
            } catch let e as OCIError {
                if case .registryFailed(_, _, .tooLarge) = e {
                    throw OCIError.registryFailed(registry: registry, operation: op.name, failure: .answered(
                        status: 200, message: "the first page is larger than the limit of \(Self.maxListPageBytes >> 20) MiB per page"))
                }
                throw e
            }
            listing.pages += 1
            for name in names(page) {
                guard budget.read > 0 else {
                    listing.cutShort = "stopped after \(listing.pages) pages: the registry's listings reached the limit of "
                        + "\(ListingBudget.perRegistry.read) names read per registry"
                    return listing
                }
                budget.read -= 1
                guard keep(name) else { continue }
                guard budget.names > 0 else {
                    listing.cutShort = "stopped at \(listing.names.count) names: the registry's listings reached the limit of "
                        + "\(ListingBudget.perRegistry.names) names per registry"
                    return listing
                }
                budget.names -= 1
                listing.names.append(name)
            }
            do {
                next = try Self.nextPage(link, after: current, base: try await baseURL(host), registry: registry, op: op)
            } catch {
                listing.cutShort = "\(error)"
                break
            }
        }
        return listing
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
