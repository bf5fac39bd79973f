import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OCI

/// The two read endpoints of the Fly Machines API a sweep needs: an organisation's apps
/// (`GET /v1/apps?org_slug=ORG`) and an app's machines (`GET /v1/apps/{name}/machines`), whose `image_ref`
/// names the image each machine runs, by digest.
public struct FlyMachines: Sendable {
    /// An image some machines run: scanned once however many machines run it.
    public struct Deployed: Sendable, Equatable {
        public var reference: Reference
        /// How the report names it: `registry/repository:tag@digest`.
        public var input: String
        public var apps: [String]
        public var machines: [String]
    }

    public let apiURL: String
    private let authorization: String

    /// Answers larger than this are refused rather than read into memory.
    static let maxAnswerBytes = 32 << 20

    /// A client for `apiURL` with `token` (a `FlyV1 …` macaroon bundle is sent as is, anything else as Bearer).
    public init(apiURL: String = SweepConfig.defaultFlyAPI, token: String) {
        self.apiURL = apiURL.hasSuffix("/") ? String(apiURL.dropLast()) : apiURL
        let t = token.trimmingCharacters(in: .whitespacesAndNewlines)
        authorization = t.hasPrefix("FlyV1 ") || t.hasPrefix("Bearer ") ? t : "Bearer \(t)"
    }

    /// The token for an organisation: `tokenEnv`, then FLY_ACCESS_TOKEN; throws naming both when neither is set.
    public static func token(env tokenEnv: String, what: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let names = tokenEnv == "FLY_ACCESS_TOKEN" ? [tokenEnv] : [tokenEnv, "FLY_ACCESS_TOKEN"]
        for name in names {
            if let t = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !t.isEmpty { return t }
        }
        throw SweepError.missingCredential(what: what, variables: names)
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

    /// Every image the app's machines run, one entry per distinct image.
    public func deployed(app: String) async throws -> [Deployed] {
        guard Self.isAppName(app) else {
            throw SweepError.fly(what: "app \(app.prefix(80))", url: apiURL, status: nil, message: "not a Fly app name")
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
                throw SweepError.fly(what: "app \(app)", url: "\(apiURL)/v1/apps/\(app)/machines", status: 200,
                                     message: "machine \(m.id.prefix(40)) runs an image with an invalid reference: \(error)")
            }
            // The same image by digest is one entry, whichever tag each machine names it by.
            if let i = out.firstIndex(where: { Self.identity($0.reference) == Self.identity(ref) }) {
                if !out[i].machines.contains(m.id) { out[i].machines.append(m.id) }
            } else {
                out.append(Deployed(reference: ref, input: input, apps: [app], machines: [m.id]))
            }
        }
        return out
    }

    /// Every image an organisation runs: its apps' machines, images run by several apps merged into one entry.
    public func deployed(org: String) async throws -> [Deployed] {
        var out: [Deployed] = []
        for app in try await apps(org: org) {
            for d in try await deployed(app: app) {
                if let i = out.firstIndex(where: { Self.identity($0.reference) == Self.identity(d.reference) }) {
                    out[i].apps += d.apps.filter { !out[i].apps.contains($0) }
                    out[i].machines += d.machines.filter { !out[i].machines.contains($0) }
                } else {
                    out.append(d)
                }
            }
        }
        return out
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
            let resp: HTTPClientResponse
            do {
                resp = try await HTTPClient.shared.execute(req, timeout: .seconds(60))
            } catch {
                if attempt < 4 {
                    try await Task.sleep(nanoseconds: UInt64(attempt) * 500_000_000)
                    attempt += 1
                    continue
                }
                throw SweepError.fly(what: what, url: url, status: nil, message: "\(error)")
            }
            let code = Int(resp.status.code)
            let body: ByteBuffer
            do {
                body = try await resp.body.collect(upTo: Self.maxAnswerBytes)
            } catch {
                throw SweepError.fly(what: what, url: url, status: code, message: "answer unreadable or larger than \(Self.maxAnswerBytes) bytes")
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
                throw SweepError.fly(what: what, url: url, status: code, message: message)
            }
            do {
                return try JSONDecoder().decode(T.self, from: data)
            } catch {
                throw SweepError.fly(what: what, url: url, status: code, message: "unexpected answer (\(error))")
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
    /// `FLY_API_HOSTNAME` (Fly's own variable for it), else the public one. Throws `SweepError` naming the app.
    public static func images(app: String, environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> [(Reference, String)] {
        let token = try token(env: "FLY_API_TOKEN", what: "--fly-app \(app)", environment: environment)
        let api = environment["FLY_API_HOSTNAME"].flatMap { $0.isEmpty ? nil : $0 } ?? SweepConfig.defaultFlyAPI
        let deployed = try await FlyMachines(apiURL: api, token: token).deployed(app: app)
        guard !deployed.isEmpty else {
            throw SweepError.fly(what: "app \(app)", url: "\(api)/v1/apps/\(app)/machines", status: 200, message: "no machine runs an image")
        }
        return deployed.map { ($0.reference, $0.input) }
    }
}
