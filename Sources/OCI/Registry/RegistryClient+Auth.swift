import AsyncHTTPClient
import Foundation
import NIOCore

/// What the client knows per registry host: its base URL, its last challenge, its credential, tokens by scope,
/// and every secret it has handled (so no error message can echo one).
actor AuthState {
    struct Token { var value: String; var expires: Date }
    private var bases: [String: URL] = [:]
    private var challenges: [String: [Challenge]] = [:]
    /// One resolution per host, shared by everyone asking meanwhile; it runs off this actor, so a credential
    /// helper that blocks holds up only the requests that need its answer.
    private var credentials: [String: Task<Credential?, Error>] = [:]
    private var tokens: [String: Token] = [:]
    private(set) var redactor = Redactor()

    init(explicit: Credential?) {
        if let explicit { redactor.add(explicit) }
    }

    func base(_ host: String) -> URL? { bases[host] }

    func learned(host: String, base: URL, challenges c: [Challenge]) {
        bases[host] = base
        challenges[host] = c
    }

    func challenged(host: String, challenges c: [Challenge]) {
        challenges[host] = c
        tokens = tokens.filter { !$0.key.hasPrefix(host + " ") }
    }

    func challenge(_ host: String) -> [Challenge] { challenges[host] ?? [] }

    func credential(_ host: String, resolve: @escaping @Sendable () async throws -> Credential?) async throws -> Credential? {
        let task: Task<Credential?, Error>
        if let known = credentials[host] {
            task = known
        } else {
            task = Task { try await resolve() }
            credentials[host] = task
        }
        let c = try await task.value
        if let c { redactor.add(c) }
        return c
    }

    func token(_ key: String) -> String? {
        guard let t = tokens[key], t.expires > Date() else { return nil }
        return t.value
    }

    func store(_ key: String, _ token: Token) {
        tokens[key] = token
        redactor.add(token.value)
    }

    func remember(authorization value: String) { redactor.add(authorization: value) }
}

extension RegistryClient {
    /// The credential for a registry host, resolved once, off the actor.
    func credential(_ host: String) async throws -> Credential? {
        let registry = host == "registry-1.docker.io" ? "docker.io" : host
        let store = options.credentials
        return try await auth.credential(host) { try await store.resolve(for: registry) }
    }

    /// The Authorization header for a request to `host` in `repository`, following the host's last challenge.
    func authorization(host: String, repository: String?) async throws -> String? {
        let cred = try await credential(host)
        if case .registryToken(let t)? = cred?.kind { return "Bearer \(t)" }
        let challenges = await auth.challenge(host)
        if let bearer = challenges.first(where: { $0.scheme == "bearer" }) {
            // A value with a colon is a whole scope (`registry:catalog:*`): no repository name contains one.
            let scope = repository.map { $0.contains(":") ? $0 : "repository:\($0):pull" } ?? ""
            let key = "\(host) \(scope)"
            if let t = await auth.token(key) { return "Bearer \(t)" }
            let token = try await fetchToken(host: host, challenge: bearer, scope: scope, credential: cred)
            await auth.store(key, token)
            return "Bearer \(token.value)"
        }
        if challenges.contains(where: { $0.scheme == "basic" }), case .basic(let u, let p)? = cred?.kind {
            return "Basic " + Data("\(u):\(p)".utf8).base64EncodedString()
        }
        return nil
    }

    /// The token flow: GET the realm with Basic credentials (or none), or POST a refresh token (OAuth2).
    ///
    /// Where credentials go: to the realm the registry names, whatever its origin (Docker Hub's is
    /// auth.docker.io), as Docker does; but never over plain HTTP when the registry itself was reached over
    /// HTTPS, where the realm is the weak link an attacker on the path would pick. Anonymous token requests
    /// carry no secret and may go anywhere.
    private func fetchToken(host: String, challenge: Challenge, scope: String, credential: Credential?) async throws -> AuthState.Token {
        guard let realm = challenge.parameters["realm"], var components = URLComponents(string: realm),
              let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http", components.host != nil,
              let realmURL = components.url else {
            throw OCIError.registryFailed(registry: host, operation: "ping", failure: .badChallenge(reason: "Bearer without a usable realm"))
        }
        // Named without its query: a realm's parameters are the server's business and may be long.
        let realmName = "\(scheme)://\(Self.hostPort(realmURL))\(components.path)"
        let operation = Operation(registry: host, name: "token from \(realmName)")
        if let credential, scheme == "http", await auth.base(host)?.scheme == "https" {
            throw OCIError.registryFailed(registry: host, operation: operation.name,
                                          failure: .plainHTTPRealm(realm: realmName, source: credential.source))
        }
        let service = challenge.parameters["service"]
        var request: RequestSpec
        if case .identityToken(let refresh)? = credential?.kind {
            var form = URLComponents()
            var items = [URLQueryItem(name: "grant_type", value: "refresh_token"), URLQueryItem(name: "refresh_token", value: refresh),
                         URLQueryItem(name: "client_id", value: "stowaway")]
            if let service { items.append(URLQueryItem(name: "service", value: service)) }
            if !scope.isEmpty { items.append(URLQueryItem(name: "scope", value: scope)) }
            form.queryItems = items
            request = RequestSpec(url: realmURL, method: .POST,
                                  headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                  body: Data((form.percentEncodedQuery ?? "").utf8))
        } else {
            var items = components.queryItems ?? []
            if let service { items.append(URLQueryItem(name: "service", value: service)) }
            if !scope.isEmpty { items.append(URLQueryItem(name: "scope", value: scope)) }
            components.queryItems = items
            guard let url = components.url else {
                throw OCIError.registryFailed(registry: host, operation: operation.name, failure: .badChallenge(reason: "unusable realm"))
            }
            request = RequestSpec(url: url)
            if case .basic(let u, let p)? = credential?.kind {
                let value = "Basic " + Data("\(u):\(p)".utf8).base64EncodedString()
                request.authorization = .fixed(value, origin: Self.origin(url))
            }
        }
        let answer = try await fetch(request, operation, limit: options.limits.token, ok: [200])
        guard answer.status == 200 else {
            if [400, 401, 403].contains(answer.status) {
                throw OCIError.authenticationFailed(registry: host, source: credential?.source ?? "none (anonymous)", status: answer.status,
                                                    message: "\(operation.name) refused" + (answer.message.isEmpty ? "" : ": \(answer.message)"))
            }
            throw OCIError.registryFailed(registry: host, operation: operation.name,
                                          failure: .answered(status: answer.status, message: answer.message))
        }
        struct Answer: Decodable {
            var token: String?
            var access_token: String?
            var expires_in: Int?
        }
        guard let a = try? JSONDecoder().decode(Answer.self, from: answer.body),
              let value = [a.access_token, a.token].compactMap({ $0 }).first(where: { !$0.isEmpty }) else {
            throw OCIError.registryFailed(registry: host, operation: operation.name,
                                          failure: .answered(status: 200, message: "no token in the answer"))
        }
        // Refresh a little early; never trust a lifetime under 60 s (the spec's default).
        let lifetime = Double(max(a.expires_in ?? 60, 60)) - 10
        return AuthState.Token(value: value, expires: Date().addingTimeInterval(lifetime))
    }
}
