import Foundation
import OCI

/// A whole registry or part of it walked into image references: repositories from the catalog, tags from each
/// repository's tag list, both filtered and the tags cut to the newest N. The listing requests themselves (pages,
/// `Link` headers, the per-registry budget) are `RegistryClient`'s; this is what to keep of them.
public struct RegistryWalk: Sendable {
    /// One image the walk found: its reference and how a report names it (`host/repository:tag`).
    public struct Found: Sendable, Equatable {
        public var reference: Reference
        public var input: String
    }

    /// The registry host as written in references (`host[:port]`).
    public var registry: String
    /// Which repositories of the catalog to walk; nil: every one.
    public var repositories: (@Sendable (String) -> Bool)?
    /// Which tags of a repository to keep.
    public var tags: @Sendable (String) -> Bool
    /// The N greatest tags by name (after filtering); nil: every tag kept.
    public var newest: Int?
    /// `n=` for the catalog and tag listings (the registry decides when nil).
    public var pageSize: Int?

    public init(registry: String, repositories: (@Sendable (String) -> Bool)? = nil, tags: @escaping @Sendable (String) -> Bool = { _ in true },
                newest: Int? = nil, pageSize: Int? = nil) {
        self.registry = registry
        self.repositories = repositories
        self.tags = tags
        self.newest = newest
        self.pageSize = pageSize
    }

    /// The images of the walk, in repository order and by tag name within a repository, listed through `client`
    /// within `budget` (which it spends; one budget is shared by every walk of a registry). A listing that fails
    /// or is cut short is a failure of its own, and the walk goes on with the names it got. Stops early, with
    /// what it has, when the task is cancelled (a stop request).
    public func images(client: RegistryClient, budget: inout RegistryClient.ListingBudget) async -> (images: [Found], failures: [ListingFailure]) {
        var images: [Found] = []
        var failures: [ListingFailure] = []
        let repositoryNames: [String]
        do {
            let listing = try await client.catalog(registry: registry, pageSize: pageSize, budget: &budget) { name in
                repositories?(name) ?? true
            }
            repositoryNames = listing.names
            if let reason = listing.cutShort {
                failures.append(ListingFailure(what: "\(registry) catalog", error: "listing cut short (\(reason)); "
                    + "sweeping the \(listing.names.count) matching repositories listed before it"))
            }
        } catch {
            if !Task.isCancelled { failures.append(ListingFailure(what: "\(registry) catalog", error: "\(error)")) }
            return (images, failures)
        }
        for repository in repositoryNames {
            if Task.isCancelled { break }
            let whole = "\(registry)/\(repository)"
            do {
                let listing = try await client.tags(registry: registry, repository: repository, pageSize: pageSize,
                                                    budget: &budget, keep: tags)
                if let reason = listing.cutShort {
                    failures.append(ListingFailure(what: whole, error: "tag listing cut short (\(reason)); "
                        + "sweeping the \(listing.names.count) matching tags listed before it", partial: whole))
                }
                var chosen = listing.names.sorted(by: >)
                if let n = newest { chosen = Array(chosen.prefix(n)) }
                for tag in chosen.sorted() {
                    let input = "\(whole):\(tag)"
                    do {
                        images.append(Found(reference: try Reference(input), input: input))
                    } catch {
                        failures.append(ListingFailure(what: input, error: "\(error)"))
                    }
                }
            } catch {
                if Task.isCancelled { break }
                failures.append(ListingFailure(what: whole, error: "\(error)"))
            }
        }
        return (images, failures)
    }
}
