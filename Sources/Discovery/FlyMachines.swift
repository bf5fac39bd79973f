import AsyncHTTPClient
import Core
import Foundation
import NIOCore
import NIOHTTP1
import OCI

/// The two read endpoints of the Fly Machines API a sweep needs: an organisation's apps
/// (`GET /v1/apps?org_slug=ORG`) and an app's machines (`GET /v1/apps/{name}/machines`), whose `image_ref`
/// names the image each machine runs, by digest. `scan --fly-app` and the sweep's `[[fly]]` targets both read it.
public struct FlyMachines: Sendable {
    /// An image some machines run: scanned once however many machines run it.
    public struct Deployed: Sendable, Equatable {
        public var reference: Reference
        /// How the report names it: `registry/repository:tag@digest`.
        public var input: String
        public var apps: [String]
        public var machines: [String]
    }

    /// The Machines API Fly documents; tests point a sweep's `api_url` (or `FLY_API_HOSTNAME`) at a local server.
    public static let defaultAPI = "https://api.machines.dev"

    public let apiURL: String
    private let authorization: String

    /// Answers larger than this are refused rather than read into memory.
    static let maxAnswerBytes = 32 << 20
    /// Seconds one answer may take, from the request sent to its last byte; an answer not whole by then is not
    /// asked for again (a server that drips once drips again).
    static let answerSeconds = 30.0

    /// A client for `apiURL` with `token` (a `FlyV1 …` macaroon bundle is sent as is, anything else as Bearer).
    public init(apiURL: String = FlyMachines.defaultAPI, token: String) {
        self.apiURL = apiURL.hasSuffix("/") ? String(apiURL.dropLast()) : apiURL
        let t = token.trimmingCharacters(in: .whitespacesAndNewlines)
        authorization = t.hasPrefix("FlyV1 ") || t.hasPrefix("Bearer ") ? t : "Bearer \(t)"
    }

    /// The token for an organisation: `tokenEnv`, then FLY_ACCESS_TOKEN; throws `DiscoveryError.missingToken` naming
    /// both when neither is set.
    public static func token(env tokenEnv: String, what: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let names = tokenEnv == "FLY_ACCESS_TOKEN" ? [tokenEnv] : [tokenEnv, "FLY_ACCESS_TOKEN"]
        for name in names {
            if let t = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !t.isEmpty { return t }
        }
        throw DiscoveryError.missingToken(what: what, variables: names)
    }

    /// The names of the organisation's apps.
    public func apps(org: String) async throws -> [String] {
        struct Answer: Decodable {
            struct App: Decodable { var name: String }
            var apps: [App]?
        }
        var q = URLComponents()
        q.queryItems = [URLQueryItem(name: "org_slug", value: org)]
        let answer: Answer = try await get("/v1/apps?\(q.percentEncodedQuery ?? "")", what: "org \(org)")
        return (answer.apps ?? []).map(\.name)
    }

    /// A machine or an app that could not be read: one failure of its own, the others are still swept.
    public struct Failure: Sendable, Equatable {
        /// `app NAME` or `app NAME machine ID`.
        public var what: String
        public var error: String
    }

    /// Every image the app's machines run, one entry per distinct image; throws on the first machine whose
    /// image cannot be named (`scan --fly-app`, which scans one app and fails as a whole).
    public func deployed(app: String) async throws -> [Deployed] {
        let (out, failures) = try await discover(app: app)
        if let f = failures.first {
            throw DiscoveryError.fly(what: "app \(app)", url: "\(apiURL)/v1/apps/\(app)/machines", status: 200, message: f.error)
        }
        return out
    }

    /// Every image the app's machines run, one entry per distinct image, and the machines whose image could not be
    /// named, each a failure of its own; throws when the app's machines cannot be listed at all.
    public func discover(app: String) async throws -> (deployed: [Deployed], failures: [Failure]) {
        guard Self.isAppName(app) else {
            throw DiscoveryError.fly(what: "app \(app.prefix(80))", url: apiURL, status: nil, message: "not a Fly app name")
        }
        struct Machine: Decodable {
            struct ImageRef: Decodable { var registry: String?; var repository: String?; var tag: String?; var digest: String? }
            struct Config: Decodable { var image: String? }
            var id: String
            var image_ref: ImageRef?
            var config: Config?
        }
        let machines: [Machine] = try await get("/v1/apps/\(app)/machines", what: "app \(app)")
        var out: [Deployed] = []
        var failures: [Failure] = []
        for m in machines {
            let input: String
            if let r = m.image_ref, let repo = r.repository, !repo.isEmpty {
                input = "\(r.registry.flatMap { $0.isEmpty ? nil : $0 } ?? "registry.fly.io")/\(repo)"
                    + (r.tag.flatMap { $0.isEmpty ? nil : ":\($0)" } ?? "") + (r.digest.flatMap { $0.isEmpty ? nil : "@\($0)" } ?? "")
            } else if let image = m.config?.image, !image.isEmpty {
                input = image
            } else {
                continue
            }
            let ref: Reference
            do { ref = try Reference(input) } catch {
                failures.append(Failure(what: "app \(app) machine \(m.id.prefix(40))",
                                        error: "machine \(m.id.prefix(40)) runs an image with an invalid reference: \(error)"))
                continue
            }
            // The same image by digest is one entry, whichever tag each machine names it by.
            if let i = out.firstIndex(where: { Self.identity($0.reference) == Self.identity(ref) }) {
                if !out[i].machines.contains(m.id) { out[i].machines.append(m.id) }
            } else {
                out.append(Deployed(reference: ref, input: input, apps: [app], machines: [m.id]))
            }
        }
        return (out, failures)
    }

    /// Every image an organisation runs: its apps' machines, images run by several apps merged into one entry.
    /// An app that cannot be read (a bad name, an error listing its machines) or a machine whose image cannot be
    /// named is a failure of its own; throws only when the organisation's apps cannot be listed. Stops early,
    /// with what it has, when the task is cancelled (a stop request).
    public func deployed(org: String) async throws -> (deployed: [Deployed], failures: [Failure]) {
        var out: [Deployed] = []
        var failures: [Failure] = []
        for app in try await apps(org: org) {
            if Task.isCancelled { break }
            let found: [Deployed]
            do {
                let d = try await discover(app: app)
                found = d.deployed
                failures += d.failures
            } catch {
                if Task.isCancelled { break }
                failures.append(Failure(what: "app \(app.prefix(80))", error: "\(error)"))
                continue
            }
            for d in found {
                if let i = out.firstIndex(where: { Self.identity($0.reference) == Self.identity(d.reference) }) {
                    out[i].apps += d.apps.filter { !out[i].apps.contains($0) }
                    out[i].machines += d.machines.filter { !out[i].machines.contains($0) }
                } else {
                    out.append(d)
                }
            }
        }
        return (out, failures)
    }

    /// An image by digest when there is one, whichever tag names it.
    static func identity(_ ref: Reference) -> String {
        ref.digest.map { "\(ref.registry)/\(ref.repository)@\($0)" } ?? ref.description
    }

    /// Fly app names: lower-case letters, digits and dashes (what can safely go into a URL path).
    static func isAppName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 63 && s.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
    }

    /// GET `path` with the token, retrying 429 and 5xx a few times, and decode the JSON answer.
    private func get<T: Decodable>(_ path: String, what: String) async throws -> T {
        let url = apiURL + path
        var attempt = 1
        while true {
            var req = HTTPClientRequest(url: url)
            req.method = .GET
            req.headers.add(name: "Authorization", value: authorization)
            req.headers.add(name: "Accept", value: "application/json")
            let answer: (code: Int, body: ByteBuffer?)?
            do {
                let request = req
                answer = try await Deadline.within(seconds: Self.answerSeconds) {
                    let resp = try await HTTPClient.shared.execute(request, timeout: .seconds(Int64(Self.answerSeconds)))
                    // An answer too large is nil: its status still says whether a retry may help.
                    return (Int(resp.status.code), try? await resp.body.collect(upTo: Self.maxAnswerBytes))
                }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if Task.isCancelled { throw CancellationError() }
                if attempt < 4 {
                    try await Task.sleep(nanoseconds: UInt64(attempt) * 500_000_000)
                    attempt += 1
                    continue
                }
                throw DiscoveryError.fly(what: what, url: url, status: nil, message: "\(error)")
            }
            guard let answer else {
                throw DiscoveryError.fly(what: what, url: url, status: nil, message: "no whole answer within \(Int(Self.answerSeconds)) s")
            }
            let code = answer.code
            guard let body = answer.body else {
                if Task.isCancelled { throw CancellationError() }
                throw DiscoveryError.fly(what: what, url: url, status: code, message: "answer unreadable or larger than \(Self.maxAnswerBytes) bytes")
            }
            if [429, 500, 502, 503, 504].contains(code), attempt < 4 {
                try await Task.sleep(nanoseconds: UInt64(attempt) * 500_000_000)
                attempt += 1
                continue
            }
            let data = Data(body.readableBytesView)
            guard code == 200 else {
                let message = (try? JSONDecoder().decode(APIError.self, from: data))?.error
                    ?? String(decoding: data.prefix(200), as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
                throw DiscoveryError.fly(what: what, url: url, status: code, message: message)
            }
            do {
                return try JSONDecoder().decode(T.self, from: data)
            } catch {
                throw DiscoveryError.fly(what: what, url: url, status: code, message: "unexpected answer (\(error))")
            }
        }
    }
}

/// The Machines API's error body.
private struct APIError: Decodable {
    var error: String?
}

extension FlyMachines {
    /// What `scan --fly-app NAME` scans: every distinct image the app's machines run, by digest, as references
    /// and the names to report them under. The token is `FLY_API_TOKEN`, else `FLY_ACCESS_TOKEN`; the API is
    /// `FLY_API_HOSTNAME` (Fly's own variable for it), else the public one. Throws `DiscoveryError` naming the app.
    /// `failures` are the machines whose image could not be named: each is the caller's error to report, while
    /// the others are scanned. Throws when the machines cannot be listed, or when none names a usable image.
    public static func images(app: String, environment: [String: String] = ProcessInfo.processInfo.environment) async throws
        -> (images: [(Reference, String)], failures: [Failure]) {
        let token = try token(env: "FLY_API_TOKEN", what: "--fly-app \(app)", environment: environment)
        let api = environment["FLY_API_HOSTNAME"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultAPI
        let (deployed, failures) = try await FlyMachines(apiURL: api, token: token).discover(app: app)
        guard !deployed.isEmpty else {
            throw DiscoveryError.fly(what: "app \(app)", url: "\(api)/v1/apps/\(app)/machines", status: 200,
                                 message: failures.first?.error ?? "no machine runs an image")
        }
        return (deployed.map { ($0.reference, $0.input) }, failures)
    }
}
