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

/// A listing that failed: the registry's catalog, a repository's tags, or a Fly organisation. Reported in
/// `images.failed` under `what`.
public struct ListingFailure: Sendable, Equatable {
    public var what: String
    public var error: String
}

/// Turns the config's targets into items: catalog and tag listings filtered by globs or a regex and cut to the
/// newest N, single images as they are, Fly organisations through the Machines API. One failing listing is a
/// failure of its own; the others still expand.
public struct TargetExpander: Sendable {
    public let config: SweepConfig
    /// `n=` for catalog and tag listings (the registry decides when nil).
    public var pageSize: Int?

    public init(config: SweepConfig, pageSize: Int? = nil) {
        self.config = config
        self.pageSize = pageSize
    }

    /// The Fly.io images of every `[[fly]]` organisation (discovered first: their registry hosts need clients),
    /// and the token of each organisation for the Fly registry hosts only.
    public func flyItems(environment: [String: String] = ProcessInfo.processInfo.environment) async -> (items: [SweepItem], failures: [ListingFailure], tokens: [String: String]) {
        var items: [SweepItem] = []
        var failures: [ListingFailure] = []
        var tokens: [String: String] = [:]
        for org in config.fly {
            do {
                let token = try FlyMachines.token(env: org.tokenEnv, what: "\(config.path): fly org \(org.org)", environment: environment)
                let api = FlyMachines(apiURL: org.apiURL, token: token)
                for d in try await api.deployed(org: org.org) {
                    // Fly's registry takes the same token, as user x; no other host ever gets it. Anyone who can
                    // start a machine in the org chooses its image's registry, so that name is the attacker's.
                    if Self.isFlyRegistry(d.reference.registry, environment: environment) { tokens[d.reference.registry] = token }
                    items.append(SweepItem(reference: d.reference, input: d.input, platforms: org.platforms, apps: d.apps, machines: d.machines))
                }
            } catch {
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

    /// The items of every `[[target]]`, listing registries through `client(registry)`.
    public func targetItems(client: (String) -> RegistryClient) async -> (items: [SweepItem], failures: [ListingFailure]) {
        var items: [SweepItem] = []
        var failures: [ListingFailure] = []
        for target in config.targets {
            switch target {
            case .image(let t):
                items.append(SweepItem(reference: t.reference, input: t.input, platforms: t.platforms))
            case .repositories(let t):
                let c = client(t.registry)
                let repositories: [String]
                do {
                    let all = try await c.catalog(registry: t.registry, pageSize: t.pageSize ?? pageSize)
                    repositories = all.filter { name in t.repositories.map { $0.contains { $0.matches(name) } } ?? true }
                } catch {
                    failures.append(ListingFailure(what: "\(t.registry) catalog", error: "\(error)"))
                    continue
                }
                let matches = t.tags.matcher()
                for repository in repositories {
                    do {
                        let tags = try await c.tags(registry: t.registry, repository: repository, pageSize: t.pageSize ?? pageSize)
                        var chosen = tags.filter(matches).sorted(by: >)
                        if let n = t.newest { chosen = Array(chosen.prefix(n)) }
                        for tag in chosen.sorted() {
                            let input = "\(t.registry)/\(repository):\(tag)"
                            do {
                                items.append(SweepItem(reference: try Reference(input), input: input, platforms: t.platforms))
                            } catch {
                                failures.append(ListingFailure(what: input, error: "\(error)"))
                            }
                        }
                    } catch {
                        failures.append(ListingFailure(what: "\(t.registry)/\(repository)", error: "\(error)"))
                    }
                }
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
