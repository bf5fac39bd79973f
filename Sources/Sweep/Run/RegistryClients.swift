import Discovery
import Foundation
import OCI

/// One registry client per configured host (its own transport, CA and credential), one per Fly.io registry
/// host (the organisation's token as user `x`), and one for every other host with the same credential sources
/// as `scan`. All are shut down when `with` returns.
struct RegistryClients: Sendable {
    let byHost: [String: RegistryClient]
    let fallback: RegistryClient

    /// The client for a registry host as written in references.
    func client(_ registry: String) -> RegistryClient {
        byHost[registry] ?? fallback
    }

    /// The options of every host that needs its own client; throws `DiscoveryError.missingToken` (one case for every
    /// token missing from the environment, a registry's or a Fly organisation's) when a
    /// configured password variable is unset (before the run starts, so it fails as a whole with one line).
    static func options(config: SweepConfig, flyTokens: [String: String], environment: [String: String]) throws -> [(String, RegistryOptions)] {
        var out: [(String, RegistryOptions)] = []
        var hosts = config.registries.map(\.host)
        hosts += flyTokens.keys.sorted().filter { !hosts.contains($0) && TargetExpander.isFlyRegistry($0, environment: environment) }
        for host in hosts {
            var o = RegistryOptions()
            o.credentials = CredentialStore(environment: environment)
            let reg = config.registry(host)
            if reg?.insecure == true { o.insecureHosts = [host] }
            o.caFile = reg?.caFile
            if let user = reg?.username, let variable = reg?.passwordEnv {
                guard let password = environment[variable], !password.isEmpty else {
                    throw DiscoveryError.missingToken(what: "\(config.path): registry \(host)", variables: [variable])
                }
                o.credentials.explicit = Credential(kind: .basic(username: user, password: password), source: "\(variable) (\(config.path))")
            } else if let token = flyTokens[host], TargetExpander.isFlyRegistry(host, environment: environment) {
                // Checked here too: a shared run's hosts come from the store, written by whichever worker expanded it.
                o.credentials.explicit = Credential(kind: .basic(username: "x", password: token), source: "the Fly.io org token")
            }
            out.append((host, o))
        }
        return out
    }

    /// Runs `body` with the clients open.
    static func with<R>(config: SweepConfig, flyTokens: [String: String], environment: [String: String],
                        _ body: (RegistryClients) async throws -> R) async throws -> R {
        let specs = try options(config: config, flyTokens: flyTokens, environment: environment)
        var fallback = RegistryOptions()
        fallback.credentials = CredentialStore(environment: environment)
        func open(_ i: Int, _ acc: [String: RegistryClient]) async throws -> R {
            guard i < specs.count else {
                return try await RegistryClient.with(fallback) { try await body(RegistryClients(byHost: acc, fallback: $0)) }
            }
            return try await RegistryClient.with(specs[i].1) { c in
                var next = acc
                next[specs[i].0] = c
                return try await open(i + 1, next)
            }
        }
        return try await open(0, [:])
    }
}
