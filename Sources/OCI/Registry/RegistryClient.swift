import AsyncHTTPClient
import Core
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// How to reach registries, and how long and how often to wait on them.
public struct RegistryOptions: Sendable {
    /// Hosts (`host[:port]`) that may use plain HTTP or unverified TLS.
    public var insecureHosts: Set<String> = []
    /// A PEM file of extra CA certificates to trust.
    public var caFile: String?
    public var credentials = CredentialStore()
    /// Attempts, backoff and the retrying deadline for 429, 5xx and dropped connections.
    public var retry = RetryPolicy()
    /// Connect, silence, whole-document and credential-helper bounds.
    public var timeouts = RegistryTimeouts()
    /// Size caps on documents and error bodies; the redirect limit.
    public var limits = RegistryLimits()

    public init() {}

    /// Scales every wait to `seconds` (the CLI's `--timeout`, default 30): connect, silence, whole documents and
    /// credential helpers get `seconds`; retrying an operation stops after 4 × `seconds`, with backoff from
    /// `seconds`/30 to `seconds`/3.
    public mutating func setTimeout(_ seconds: Double) {
        timeouts = RegistryTimeouts(all: seconds)
        retry = RetryPolicy(scaledTo: seconds)
        credentials.helperTimeout = seconds
    }
}

/// An OCI distribution client: ping, challenge-driven auth (Basic, Bearer tokens, refresh tokens), manifests and
/// streaming blobs, through one request executor (retries, timeouts, size caps, redirects that never carry
/// Authorization to another origin) with `Range` resume.
public final class RegistryClient: Sendable {
    let options: RegistryOptions
    private let secure: HTTPClient
    private let insecure: HTTPClient
    let auth: AuthState
    /// Registries that gave up on a blob (out of retries or time): host → that failure, for the blobs after it.
    let unwell = Mutex<[String: String]>([:])

    private init(options: RegistryOptions, secure: HTTPClient, insecure: HTTPClient) {
        self.options = options
        self.secure = secure
        self.insecure = insecure
        auth = AuthState(explicit: options.credentials.explicit)
    }

    /// Runs `body` with a client whose HTTP connections are shut down when it returns.
    public static func with<R>(_ options: RegistryOptions, _ body: (RegistryClient) async throws -> R) async throws -> R {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = options.caFile {
            guard FileManager.default.isReadableFile(atPath: ca) else { throw OCIError.notFound(path: ca) }
            do {
                tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(ca))]
            } catch {
                throw OCIError.tls(registry: ca, reason: "--ca-file is not a PEM certificate file (\(error))")
            }
        }
        // `read` is the silence bound: no byte for that long, before the answer or within it, ends the request.
        let silence = amount(options.timeouts.silence)
        let timeout = HTTPClient.Configuration.Timeout(connect: amount(options.timeouts.connect), read: silence, write: silence)
        func configuration(_ tls: TLSConfiguration) -> HTTPClient.Configuration {
            var c = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow, timeout: timeout)
            // A refused or failed connection comes back to our retry policy rather than being retried unseen
            // until the connect timeout.
            c.connectionPool.retryConnectionEstablishment = false
            return c
        }
        var insecureTLS = tls
        insecureTLS.certificateVerification = .none
        return try await HTTPClient.withHTTPClient(configuration: configuration(tls)) { secure in
            try await HTTPClient.withHTTPClient(configuration: configuration(insecureTLS)) { insecure in
                try await body(RegistryClient(options: options, secure: secure, insecure: insecure))
            }
        }
    }

    func isInsecure(_ host: String) -> Bool {
        options.insecureHosts.contains(host) || options.insecureHosts.contains(String(host.split(separator: ":").first ?? ""))
    }

    func http(for url: URL) -> HTTPClient {
        isInsecure(Self.hostPort(url)) ? insecure : secure
    }

    static func hostPort(_ url: URL) -> String {
        (url.host ?? "") + (url.port.map { ":\($0)" } ?? "")
    }

    static func origin(_ url: URL) -> String {
        "\(url.scheme ?? "")://\(hostPort(url))"
    }

    // MARK: base URL

    /// `https://host`, or for an `--insecure-registry` host whichever of `http://host` and (unverified)
    /// `https://host` answers the v2 ping; learned once per host. Plain HTTP is tried first there: a TLS
    /// server answers a plaintext request at once, while a plaintext server would sit on a TLS hello. A plain
    /// HTTP probe that times out is final: a TLS attempt would only double the wait. A loopback host
    /// (`isLoopback`) is probed the same way without the flag, with TLS verified.
    func baseURL(_ host: String) async throws -> URL {
        if let known = await auth.base(host) { return known }
        let op = Operation(registry: host, name: "ping")
        var first: OCIError?
        if isInsecure(host) {
            do {
                return try await ping("http://\(host)", op, probe: true)
            } catch let e as OCIError where !e.isTimeout {
                first = e
            }
        } else if Self.isLoopback(host) {
            // Docker's rule: localhost and 127.0.0.0/8 may speak plain HTTP without being named insecure. Probed in
            // the same order as an insecure host (a plain HTTP answer can only come from a plain HTTP server, and
            // only answers 200/401 count), but TLS, when that is what answers, is verified as for any host.
            do {
                return try await ping("http://\(host)", op, probe: true)
            } catch let e as OCIError where !e.isTimeout {
                do {
                    return try await ping("https://\(host)", op, probe: false)
                } catch let tls as OCIError {
                    // Both failed: the plain HTTP answer says more unless it was TLS that answered there.
                    throw tls.isPlainHTTPOverTLS ? e : tls
                }
            }
        }
        do {
            return try await ping("https://\(host)", op, probe: false)
        } catch {
            throw first ?? error
        }
    }

    /// Whether a registry host (`host[:port]`) is on the loopback interface by its spelling: `localhost`, an IPv4
    /// literal in 127.0.0.0/8, or `[::1]`. Names are not resolved (Docker resolves them; a name resolving to
    /// 127.0.0.1 here needs `--insecure-registry` for plain HTTP).
    public static func isLoopback(_ hostPort: String) -> Bool {
        var host = Substring(hostPort)
        if host.hasPrefix("[") {
            guard let end = host.firstIndex(of: "]") else { return false }
            return host[host.index(after: host.startIndex)..<end] == "::1"
        }
        if let colon = host.firstIndex(of: ":") { host = host[..<colon] }
        if host.lowercased() == "localhost" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              octets.allSatisfy({ (Int($0) ?? 256) <= 255 }) else { return false }
        return octets[0] == "127"
    }

    /// `GET /v2/`: the base URL when it answers 200 or 401 (learning the challenge).
    private func ping(_ base: String, _ op: Operation, probe: Bool) async throws -> URL {
        guard let url = URL(string: base + "/v2/"), let baseURL = URL(string: base) else {
            throw OCIError.invalidReference(base, reason: "not a usable registry host")
        }
        let answer = try await fetch(RequestSpec(url: url), op, limit: 64 << 10, ok: [200, 401], probe: probe)
        guard answer.status == 200 || answer.status == 401 else {
            throw OCIError.registryFailed(registry: op.registry, operation: op.name, failure: .notARegistry(status: answer.status))
        }
        await auth.learned(host: op.registry, base: baseURL, challenges: Challenge.parse(answer.headers["WWW-Authenticate"]))
        return baseURL
    }

    // MARK: documents

    static let manifestAccept = [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest]

    /// A request to the registry `host` for `path`, authorized for `repository`.
    func registryRequest(host: String, path: String, repository: String?, headers: [(String, String)] = []) async throws -> RequestSpec {
        guard let url = URL(string: try await baseURL(host).absoluteString + path) else {
            throw OCIError.invalidReference(host + path, reason: "not a usable URL")
        }
        return RequestSpec(url: url, headers: headers, authorization: .registry(host: host, repository: repository))
    }

    /// The error for a final answer that is not the one wanted: a 401/403 names where the credential came from.
    func refusal(_ answer: (status: Int, message: String), _ op: Operation, host: String) async throws -> OCIError {
        if answer.status == 401 || answer.status == 403 {
            let source = try await credential(host)?.source ?? "none (anonymous)"
            return .authenticationFailed(registry: op.registry, source: source, status: answer.status,
                                         message: "\(op.name)" + (answer.message.isEmpty ? "" : ": \(answer.message)"))
        }
        return .registryFailed(registry: op.registry, operation: op.name, failure: .answered(status: answer.status, message: answer.message))
    }

    /// Fetches a manifest or index (at most `limits.manifest` bytes) and checks its digest (against the
    /// reference when pulling by digest).
    func manifest(_ ref: Reference, reference: String) async throws -> (data: Data, mediaType: String?, digest: Digest) {
        let separator = reference.hasPrefix("sha256:") || reference.contains(":") ? "@" : ":"
        let op = Operation(registry: ref.registry, name: "manifest of \(ref.repository)\(separator)\(reference)")
        let spec = try await registryRequest(host: ref.apiHost, path: "/v2/\(ref.repository)/manifests/\(reference)",
                                             repository: ref.repository, headers: Self.manifestAccept.map { ("Accept", $0) })
        let answer = try await fetch(spec, op, limit: options.limits.manifest, ok: [200])
        guard answer.status == 200 else { throw try await refusal((answer.status, answer.message), op, host: ref.apiHost) }
        let data = answer.body
        let actual = Digest.sha256(of: data)
        let expected = (try? Digest(reference)) ?? answer.headers.first(name: "Docker-Content-Digest").flatMap { try? Digest($0) }
        if let expected, expected.algorithm == "sha256", expected != actual {
            throw OCIError.digestMismatch(blob: "\(ref.registry)/\(ref.repository) manifest", expected: expected.description,
                                          actual: actual.description)
        }
        let type = answer.headers.first(name: "Content-Type")?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) }
        return (data, type, actual)
    }

    /// Fetches a small blob (a config, at most `limits.config` bytes) whole and verifies its digest.
    func smallBlob(_ ref: Reference, _ d: Descriptor) async throws -> Data {
        let op = Operation(registry: ref.registry, name: "config blob \(d.digest)")
        guard d.size <= Int64(options.limits.config) else {
            throw OCIError.registryFailed(registry: op.registry, operation: op.name, failure: .tooLarge(limit: options.limits.config))
        }
        let spec = try await registryRequest(host: ref.apiHost, path: "/v2/\(ref.repository)/blobs/\(d.digest)", repository: ref.repository)
        let answer = try await fetch(spec, op, limit: options.limits.config, ok: [200])
        guard answer.status == 200 else { throw try await refusal((answer.status, answer.message), op, host: ref.apiHost) }
        let actual = Digest.sha256(of: answer.body)
        if actual != d.digest {
            throw OCIError.digestMismatch(blob: "\(ref.registry)/\(ref.repository)@\(d.digest)", expected: d.digest.description,
                                          actual: actual.description)
        }
        return answer.body
    }
}
