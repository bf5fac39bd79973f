#if canImport(Glibc)
import Glibc
#endif
import Core
import Foundation

/// A credential for one registry and where it came from (named in errors; the secret never is).
public struct Credential: Sendable {
    public enum Kind: Sendable {
        case basic(username: String, password: String)
        /// An OAuth2 refresh token (`identitytoken`): exchanged at the token endpoint with POST.
        case identityToken(String)
        /// A ready bearer token (`registrytoken`).
        case registryToken(String)
    }

    public var kind: Kind
    /// `--username/--password-stdin`, `FLY_API_TOKEN`, `~/.docker/config.json (auths)`, `docker-credential-pass`…
    public var source: String

    public init(kind: Kind, source: String) {
        self.kind = kind
        self.source = source
    }
}

/// Where credentials come from, first match wins: the command line; for Fly.io's registry the
/// `FLY_API_TOKEN`/`FLY_ACCESS_TOKEN` environment; then the Docker config (`auths`, `credHelpers`, `credsStore`).
public struct CredentialStore: Sendable {
    public var explicit: Credential?
    public var environment: [String: String]
    /// Seconds a `docker-credential-*` helper may take to answer.
    public var helperTimeout = 30.0

    public init(explicit: Credential? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.explicit = explicit
        self.environment = environment
    }

    /// Hosts that are Fly.io's registry: registry.fly.io and `FLY_REGISTRY_HOST` (flyctl's override).
    public func isFlyRegistry(_ host: String) -> Bool {
        host == "registry.fly.io" || (environment["FLY_REGISTRY_HOST"].map { $0 == host } ?? false)
    }

    /// The credential for `registry` (as in the reference, `docker.io` for Docker Hub), or nil for anonymous.
    public func credential(for registry: String) throws -> Credential? {
        if let explicit { return explicit }
        if isFlyRegistry(registry) {
            for name in ["FLY_ACCESS_TOKEN", "FLY_API_TOKEN"] {
                if let token = environment[name], !token.isEmpty {
                    return Credential(kind: .basic(username: "x", password: Self.stripScheme(token)), source: name)
                }
            }
        }
        return try dockerConfigCredential(for: registry)
    }

    /// `credential(for:)` on a thread of its own: a credential helper may block for `helperTimeout`, and that
    /// must hold up neither the async pool nor anyone else's authentication.
    public func resolve(for registry: String) async throws -> Credential? {
        try await BlockingWork.run { try self.credential(for: registry) }
    }

    /// `FlyV1 fm2_…` and `Bearer …` values carry an authorization scheme that is not part of the token.
    static func stripScheme(_ token: String) -> String {
        for prefix in ["Bearer ", "bearer "] where token.hasPrefix(prefix) { return String(token.dropFirst(prefix.count)) }
        return token.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    var dockerConfigPath: String {
        if let dir = environment["DOCKER_CONFIG"], !dir.isEmpty { return dir + "/config.json" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.docker/config.json"
    }

    private struct DockerConfig: Decodable {
        struct Auth: Decodable {
            var auth: String?
            var username: String?
            var password: String?
            var identitytoken: String?
            var registrytoken: String?
        }
        var auths: [String: Auth]?
        var credsStore: String?
        var credHelpers: [String: String]?
    }

    /// Keys the Docker CLI would use for a registry.
    static func configKeys(for registry: String) -> [String] {
        if registry == "docker.io" {
            return ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"]
        }
        return [registry]
    }

    static func hostname(ofKey key: String) -> String {
        var k = Substring(key)
        if let r = k.range(of: "://") { k = k[r.upperBound...] }
        return String(k.prefix(while: { $0 != "/" }))
    }

    private func dockerConfigCredential(for registry: String) throws -> Credential? {
        let path = dockerConfigPath
        var configs: [(DockerConfig, String)] = []
        if let inline = environment["DOCKER_AUTH_CONFIG"], let data = inline.data(using: .utf8) {
            configs.append((try decode(DockerConfig.self, data, what: "DOCKER_AUTH_CONFIG"), "DOCKER_AUTH_CONFIG"))
        }
        if let data = FileManager.default.contents(atPath: path) {
            configs.append((try decode(DockerConfig.self, data, what: path), path))
        }
        let keys = Self.configKeys(for: registry)
        for (config, name) in configs {
            if let helper = keys.lazy.compactMap({ config.credHelpers?[$0] }).first {
                return try CredentialHelper(name: helper, timeout: helperTimeout).get(serverURL: keys[0])
            }
            if let store = config.credsStore, !store.isEmpty,
               let c = try CredentialHelper(name: store, timeout: helperTimeout).get(serverURL: keys[0], missingIsNil: true) {
                return c
            }
            let auths = config.auths ?? [:]
            let entry = keys.lazy.compactMap { auths[$0] }.first
                ?? auths.first { keys.contains(Self.hostname(ofKey: $0.key)) }?.value
            guard let e = entry else { continue }
            let source = "\(name) (auths)"
            if let t = e.registrytoken, !t.isEmpty { return Credential(kind: .registryToken(t), source: source) }
            if let t = e.identitytoken, !t.isEmpty { return Credential(kind: .identityToken(t), source: source) }
            if let u = e.username, let p = e.password, !u.isEmpty { return Credential(kind: .basic(username: u, password: p), source: source) }
            if let a = e.auth, !a.isEmpty {
                guard let decoded = Self.decodeAuth(a), let colon = decoded.firstIndex(of: ":"), colon != decoded.startIndex else {
                    throw OCIError.badCredentials(source: source, reason: "the auth value for \(registry) is not base64 of user:password")
                }
                let password = String(decoded[decoded.index(after: colon)...]).trimmingCharacters(in: CharacterSet(charactersIn: "\0"))
                return Credential(kind: .basic(username: String(decoded[..<colon]), password: password), source: source)
            }
        }
        return nil
    }

    /// Standard or URL-safe base64, padded or not (flyctl writes URL-safe).
    static func decodeAuth(_ s: String) -> String? {
        Base64.decodeLenient(s.trimmingCharacters(in: .whitespaces)).flatMap { String(data: $0, encoding: .utf8) }
    }
}

/// The `docker-credential-<name>` protocol: `get` with the server URL on stdin, JSON on stdout.
///
/// Blocking: run it on a thread of its own (`CredentialStore.resolve`). Its output is read with a bound and
/// never shown: a helper's stdout holds the secret, and its error text may too.
struct CredentialHelper {
    let name: String
    var timeout: Double = 30
    /// Longer answers are refused (the JSON is a few hundred bytes).
    static let outputLimit = 64 << 10

    func get(serverURL: String, missingIsNil: Bool = false) throws -> Credential? {
        let program = "docker-credential-\(name)"
        let source = "\(program) (asked for \(serverURL))"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [program, "get"]
        let stdin = Pipe(), stdout = Pipe()
        p.standardInput = stdin
        p.standardOutput = stdout
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch {
            throw OCIError.badCredentials(source: source, reason: "cannot run it: \(error.localizedDescription)")
        }
        // A helper that exits without reading stdin must not kill us with SIGPIPE: the write then fails with
        // EPIPE. Blocked on this thread only, around the write only (the helper, started above, keeps the
        // default disposition).
        var block = sigset_t(), previous = sigset_t()
        sigemptyset(&block)
        sigaddset(&block, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &block, &previous)
        try? stdin.fileHandleForWriting.write(contentsOf: Data(serverURL.utf8))
        try? stdin.fileHandleForWriting.close()
        Self.discardPendingSIGPIPE()
        pthread_sigmask(SIG_SETMASK, &previous, nil)

        let deadline = Date().addingTimeInterval(timeout)
        let output: Data
        do {
            output = try Self.read(stdout.fileHandleForReading.fileDescriptor, until: deadline)
        } catch let reason as HelperFailure {
            Self.stop(p)
            throw OCIError.badCredentials(source: source, reason: reason.text(timeout: timeout))
        }
        while p.isRunning && Date() < deadline { usleep(5_000) }
        if p.isRunning {
            Self.stop(p)
            throw OCIError.badCredentials(source: source, reason: HelperFailure.timedOut.text(timeout: timeout))
        }
        let text = String(decoding: output, as: UTF8.self)
        if p.terminationStatus != 0 {
            if text.contains("credentials not found") || p.terminationStatus == 127 && missingIsNil { return nil }
            throw OCIError.badCredentials(source: source,
                                          reason: "exited with status \(p.terminationStatus) (its output is not shown: it may hold the secret)")
        }
        struct Answer: Decodable { var Username: String?; var Secret: String? }
        guard let a = try? JSONDecoder().decode(Answer.self, from: output), let secret = a.Secret else {
            throw OCIError.badCredentials(source: source, reason: "its answer is not the helper JSON")
        }
        if a.Username == "<token>" { return Credential(kind: .identityToken(secret), source: program) }
        return Credential(kind: .basic(username: a.Username ?? "", password: secret), source: program)
    }

    private enum HelperFailure: Error {
        case timedOut, tooLong, unreadable(Int32)

        func text(timeout: Double) -> String {
            switch self {
            case .timedOut: return "no answer within \(RegistryFailure.seconds(timeout))"
            case .tooLong: return "its answer is longer than \(CredentialHelper.outputLimit) bytes"
            case .unreadable(let e): return "reading its answer failed: \(String(cString: strerror(e)))"
            }
        }
    }

    /// Reads `fd` to its end, at most `outputLimit` bytes, giving up at `deadline`.
    private static func read(_ fd: Int32, until deadline: Date) throws -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw HelperFailure.timedOut }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(min(left * 1000, 60_000)) + 1)
            if ready < 0 {
                if errno == EINTR { continue }
                throw HelperFailure.unreadable(errno)
            }
            if ready == 0 { continue }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw HelperFailure.unreadable(errno)
            }
            if n == 0 { return data }
            data.append(contentsOf: buffer[..<n])
            if data.count > outputLimit { throw HelperFailure.tooLong }
        }
    }

    /// SIGTERM, then SIGKILL if it is still there a second later.
    private static func stop(_ p: Process) {
        p.terminate()
        let until = Date().addingTimeInterval(1)
        while p.isRunning && Date() < until { usleep(5_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
    }

    /// A SIGPIPE raised by our write while blocked stays pending on this thread: consume it before unblocking.
    private static func discardPendingSIGPIPE() {
        var pending = sigset_t()
        sigpending(&pending)
        guard sigismember(&pending, SIGPIPE) == 1 else { return }
        var only = sigset_t()
        sigemptyset(&only)
        sigaddset(&only, SIGPIPE)
        var none = timespec(tv_sec: 0, tv_nsec: 0)
        _ = sigtimedwait(&only, nil, &none)
    }
}
