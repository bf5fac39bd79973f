import AsyncHTTPClient
import Foundation
import NIOCore

/// What the client knows per registry host: its base URL, its last challenge, its credential, tokens by scope.
actor AuthState {
    struct Token { var value: String; var expires: Date }
    private var bases: [String: URL] = [:]
    private var challenges: [String: [Challenge]] = [:]
    private var credentials: [String: Credential?] = [:]
    private var tokens: [String: Token] = [:]

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

    func credential(_ host: String, resolve: () throws -> Credential?) rethrows -> Credential? {
        if let c = credentials[host] { return c }
        let c = try resolve()
        credentials[host] = .some(c)
        return c
    }

    func token(_ key: String) -> String? {
        guard let t = tokens[key], t.expires > Date() else { return nil }
        return t.value
    }

    func store(_ key: String, _ token: Token) { tokens[key] = token }
}

extension RegistryClient {
    /// The credential for a registry host, resolved once.
    func credential(_ host: String) async throws -> Credential? {
        let registry = host == "registry-1.docker.io" ? "docker.io" : host
        return try await auth.credential(host) { try options.credentials.credential(for: registry) }
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
    private func fetchToken(host: String, challenge: Challenge, scope: String, credential: Credential?) async throws -> AuthState.Token {
        guard let realm = challenge.parameters["realm"], var components = URLComponents(string: realm),
              components.scheme == "https" || components.scheme == "http" else {
            throw OCIError.registryError(registry: host, url: "/v2/", status: 401, message: "Bearer challenge without a usable realm")
        }
        let service = challenge.parameters["service"]
        var req: HTTPClientRequest
        if case .identityToken(let refresh)? = credential?.kind {
            req = HTTPClientRequest(url: realm)
            req.method = .POST
            var form = URLComponents()
            form.queryItems = [URLQueryItem(name: "grant_type", value: "refresh_token"), URLQueryItem(name: "refresh_token", value: refresh),
                               URLQueryItem(name: "client_id", value: "stowaway")]
            if let service { form.queryItems!.append(URLQueryItem(name: "service", value: service)) }
            if !scope.isEmpty { form.queryItems!.append(URLQueryItem(name: "scope", value: scope)) }
            req.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            req.body = .bytes(ByteBuffer(string: form.percentEncodedQuery ?? ""))
        } else {
            var items = components.queryItems ?? []
            if let service { items.append(URLQueryItem(name: "service", value: service)) }
            if !scope.isEmpty { items.append(URLQueryItem(name: "scope", value: scope)) }
            components.queryItems = items
            req = HTTPClientRequest(url: components.url!.absoluteString)
            req.method = .GET
            if case .basic(let u, let p)? = credential?.kind {
                req.headers.add(name: "Authorization", value: "Basic " + Data("\(u):\(p)".utf8).base64EncodedString())
            }
        }
        let client = http(for: URL(string: realm)!)
        let resp: HTTPClientResponse
        do {
            resp = try await client.execute(req, timeout: .seconds(30))
        } catch {
            throw mapTransportError(error, host: URL(string: realm).map(Self.hostPort) ?? host)
        }
        guard resp.status == .ok else {
            let message = await Self.registryMessage(resp)
            if resp.status == .unauthorized || resp.status == .forbidden || resp.status == .badRequest {
                throw OCIError.authenticationFailed(registry: host, source: credential?.source ?? "none (anonymous)",
                                                    status: Int(resp.status.code), message: "token server refused: \(message)")
            }
            throw OCIError.registryError(registry: host, url: "token \(realm)", status: Int(resp.status.code), message: message)
        }
        struct Answer: Decodable {
            var token: String?
            var access_token: String?
            var expires_in: Int?
        }
        let body = try await resp.body.collect(upTo: 1 << 20)
        guard let a = try? JSONDecoder().decode(Answer.self, from: Data(body.readableBytesView)),
              let value = [a.access_token, a.token].compactMap({ $0 }).first(where: { !$0.isEmpty }) else {
            throw OCIError.registryError(registry: host, url: "token \(realm)", status: 200, message: "no token in the answer")
        }
        // Refresh a little early; never trust a lifetime under 60 s (the spec's default).
        let lifetime = Double(max(a.expires_in ?? 60, 60)) - 10
        return AuthState.Token(value: value, expires: Date().addingTimeInterval(lifetime))
    }
}
