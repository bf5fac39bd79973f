import Discovery
import Foundation
import OCI

/// One image to sweep: what the targets expanded to.
public struct SweepItem: Sendable, Equatable {
    public var reference: Reference
    /// How the report names it (`host/repo:tag`, or `registry.fly.io/app:tag@sha256:…` for Fly).
    public var input: String
    public var platforms: [PlatformChoice]
    /// For images found through Fly.io: the apps and machines that run it.
    public var apps: [String] = []
    public var machines: [String] = []

    public init(reference: Reference, input: String, platforms: [PlatformChoice], apps: [String] = [], machines: [String] = []) {
        self.reference = reference
        self.input = input
        self.platforms = platforms
        self.apps = apps
        self.machines = machines
    }

    /// The scope of finding identity: `registry/repository`.
    public var repository: String { "\(reference.registry)/\(reference.repository)" }

    /// The platform choice as a key of the image cache (`all`, `linux/amd64,linux/arm64`).
    public var platformKey: String { Self.platformKey(platforms) }

    static func platformKey(_ platforms: [PlatformChoice]) -> String {
        platforms.map { p in
            switch p {
            case .all: return "all"
            case .host: return "host"
            case .specific(let s): return s.description
            }
        }.sorted().joined(separator: ",")
    }
}

/// Turns the config's targets into items: registries walked by `RegistryWalk` (catalog and tag listings filtered
/// by globs or a regex and cut to the newest N), single images as they are, Fly organisations through
/// `FlyMachines`. One failing listing is a failure of its own; the others still expand.
public struct TargetExpander: Sendable {
    public let config: SweepConfig
    /// `n=` for catalog and tag listings (the registry decides when nil).
    public var pageSize: Int?

    public init(config: SweepConfig, pageSize: Int? = nil) {
        self.config = config
        self.pageSize = pageSize
    }

    /// The Fly.io images of every `[[fly]]` organisation (discovered first: their registry hosts need clients),
    /// and the token of each organisation for the Fly registry hosts only. Stops early when cancelled.
    public func flyItems(environment: [String: String] = ProcessInfo.processInfo.environment) async -> (items: [SweepItem], failures: [ListingFailure], tokens: [String: String]) {
        var items: [SweepItem] = []
        var failures: [ListingFailure] = []
        var tokens: [String: String] = [:]
        for org in config.fly {
            if Task.isCancelled { break }
            do {
                let token = try FlyMachines.token(env: org.tokenEnv, what: "\(config.path): fly org \(org.org)", environment: environment)
                let api = FlyMachines(apiURL: org.apiURL, token: token)
                let discovered = try await api.deployed(org: org.org)
                failures += discovered.failures.map { ListingFailure(what: "fly org \(org.org) \($0.what)", error: $0.error) }
                for d in discovered.deployed {
                    // Fly's registry takes the same token, as user x; no other host ever gets it. Anyone who can
                    // start a machine in the org chooses its image's registry, so that name is the attacker's.
                    if Self.isFlyRegistry(d.reference.registry, environment: environment) { tokens[d.reference.registry] = token }
                    items.append(SweepItem(reference: d.reference, input: d.input, platforms: org.platforms, apps: d.apps, machines: d.machines))
                }
            } catch {
                if Task.isCancelled { break }
                failures.append(ListingFailure(what: "fly org \(org.org)", error: "\(error)"))
            }
        }
        return (items, failures, tokens)
    }

    /// Whether a Fly org's token may go to `host`: registry.fly.io, or the host `FLY_REGISTRY_HOST` names (as for
    /// `scan`).
    static func isFlyRegistry(_ host: String, environment: [String: String]) -> Bool {
        CredentialStore(environment: environment).isFlyRegistry(host)
    }

    /// The items of every `[[target]]`, listing registries through `client(registry)`. Listings are read page by
    /// page and bounded per registry (`RegistryClient.ListingBudget`); one cut short is a failure naming the
    /// limit, and the sweep goes on with the names it got. Stops early, with what it has, when the task is
    /// cancelled (a stop request).
    public func targetItems(client: (String) -> RegistryClient) async -> (items: [SweepItem], failures: [ListingFailure]) {
        var items: [SweepItem] = []
        var failures: [ListingFailure] = []
        var budgets: [String: RegistryClient.ListingBudget] = [:]
        for target in config.targets {
            if Task.isCancelled { break }
            switch target {
            case .image(let t):
                items.append(SweepItem(reference: t.reference, input: t.input, platforms: t.platforms))
            case .repositories(let t):
                var budget = budgets[t.registry] ?? .perRegistry
                defer { budgets[t.registry] = budget }
                var walk = RegistryWalk(registry: t.registry, tags: t.tags.matcher(), newest: t.newest, pageSize: t.pageSize ?? pageSize)
                if let globs = t.repositories { walk.repositories = { name in globs.contains { $0.matches(name) } } }
                let found = await walk.images(client: client(t.registry), budget: &budget)
                items += found.images.map { SweepItem(reference: $0.reference, input: $0.input, platforms: t.platforms) }
                failures += found.failures
            }
        }
        return (items, failures)
    }

    /// Items in first-seen order with duplicates (the same image named by two targets) dropped.
    public static func unique(_ items: [SweepItem]) -> [SweepItem] {
        var seen = Set<String>()
        return items.filter { seen.insert($0.input).inserted }
    }
}
