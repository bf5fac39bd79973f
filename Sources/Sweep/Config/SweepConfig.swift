import Discovery
import Foundation
import OCI
import Reports
import Scan
import TOMLKit

/// What a sweep covers and how to reach it, read from a TOML file (see docs/sweep.md). Every mistake is
/// reported as one line naming the file and the key (`sweep.toml: target[2].newest: must be …`); unknown
/// keys are mistakes too, since a misspelt filter would otherwise widen the sweep silently.
public struct SweepConfig: Sendable {
    /// Transport and credentials for one registry host.
    public struct Registry: Sendable, Equatable {
        public var host: String
        public var insecure = false
        public var caFile: String?
        public var username: String?
        /// The environment variable holding the password (never the password itself).
        public var passwordEnv: String?
    }

    /// Which tags of a repository to sweep.
    public enum TagFilter: Sendable, Equatable {
        case globs([Glob])
        /// An ICU regular expression that must match the whole tag (checked when the config is read).
        case regex(String)

        /// A predicate over tags, compiled once per listing.
        public func matcher() -> @Sendable (String) -> Bool {
            switch self {
            case .globs(let g): return { tag in g.contains { $0.matches(tag) } }
            case .regex(let pattern):
                // Anchored at both ends: `tag_regex = "v1"` selects the tag v1, not every tag containing it.
                let regex = try? NSRegularExpression(pattern: "^(?:\(pattern))$")
                let box = RegexBox(regex)
                return { tag in
                    guard let r = box.regex else { return false }
                    return r.firstMatch(in: tag, range: NSRange(tag.startIndex..., in: tag)) != nil
                }
            }
        }
    }

    /// A whole registry or part of it: repositories from the catalog, tags from each tag list.
    public struct RepositoryTarget: Sendable {
        public var registry: String
        /// nil: every repository of the catalog.
        public var repositories: [Glob]?
        public var tags: TagFilter
        /// The N greatest tags by name (after filtering).
        public var newest: Int?
        public var platforms: [PlatformChoice]
        /// `n=` for this registry's catalog and tag listings (`page_size`; the registry decides when nil).
        public var pageSize: Int?
    }

    /// One image by tag or digest.
    public struct ImageTarget: Sendable {
        public var reference: Reference
        /// As written in the config: how the image is named in the report.
        public var input: String
        public var platforms: [PlatformChoice]
    }

    /// One entry of `[[target]]`.
    public enum Target: Sendable {
        case repositories(RepositoryTarget)
        case image(ImageTarget)
    }

    /// A Fly.io organisation: every image its machines run.
    public struct FlyOrg: Sendable, Equatable {
        public var org: String
        public var apiURL: String
        public var tokenEnv: String
        public var platforms: [PlatformChoice]
    }

    public var path: String
    public var registries: [Registry] = []
    public var targets: [Target] = []
    public var fly: [FlyOrg] = []
    /// A gitleaks-format rules file (top-level `rules = "…"`), relative to the config's directory.
    public var rules: String?
    /// Whether the default path allowlist applies (top-level `default_allowlist`, default true).
    public var defaultAllowlist = true
    /// Where to write the HTML page after every run (top-level `html`, relative to the config's directory).
    public var html: String?
    /// The ignore file whose acceptances apply to the sweep as to `scan` (top-level `ignore_file`, relative to
    /// the config's directory); read when the sweep starts.
    public var ignoreFile: String?

    /// Reads and checks the file at `path`; throws `SweepError` naming the file and key.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "permission denied or not a file" : "no such file"
            throw SweepError.unreadableConfig(path: path, reason: reason)
        }
        guard data.count <= 4 << 20 else { throw SweepError.unreadableConfig(path: path, reason: "larger than 4 MiB") }
        try self.init(toml: String(decoding: data, as: UTF8.self), path: path)
    }

    /// Parses `toml` as if read from `path` (relative paths in it are relative to `path`'s directory).
    public init(toml: String, path: String) throws {
        self.path = path
        let root: TOMLTable
        do {
            root = try TOMLTable(string: toml)
        } catch let e as TOMLParseError {
            throw SweepError.config(path: path, key: "line \(e.source.begin.line)", reason: "invalid TOML: \(e.description)")
        }
        let r = Reader(path: path)
        try r.known(root, ["registry", "target", "fly", "rules", "default_allowlist", "html", "ignore_file"], in: nil)
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        rules = try r.string(root, "rules", in: nil).map { Self.resolve($0, in: dir) }
        defaultAllowlist = try r.bool(root, "default_allowlist", in: nil) ?? true
        html = try r.string(root, "html", in: nil).map { Self.resolve($0, in: dir) }
        ignoreFile = try r.string(root, "ignore_file", in: nil).map { Self.resolve($0, in: dir) }

        for (i, t) in try r.tables(root, "registry").enumerated() {
            let at = "registry[\(i + 1)]"
            try r.known(t, ["host", "insecure", "ca_file", "username", "password_env"], in: at)
            guard let host = try r.string(t, "host", in: at), Self.isHost(host) else {
                throw SweepError.config(path: path, key: "\(at).host", reason: "required: a registry host[:port]")
            }
            guard !registries.contains(where: { $0.host == host }) else {
                throw SweepError.config(path: path, key: "\(at).host", reason: "\(host) is configured twice")
            }
            var reg = Registry(host: host)
            reg.insecure = try r.bool(t, "insecure", in: at) ?? false
            reg.caFile = try r.string(t, "ca_file", in: at).map { Self.resolve($0, in: dir) }
            reg.username = try r.string(t, "username", in: at)
            reg.passwordEnv = try r.string(t, "password_env", in: at)
            if reg.username != nil && reg.passwordEnv == nil {
                throw SweepError.config(path: path, key: "\(at).password_env", reason: "required with username (the variable holding the password)")
            }
            if reg.username == nil && reg.passwordEnv != nil {
                throw SweepError.config(path: path, key: "\(at).username", reason: "required with password_env")
            }
            registries.append(reg)
        }

        for (i, t) in try r.tables(root, "target").enumerated() {
            let at = "target[\(i + 1)]"
            let platforms = try r.platforms(t, in: at)
            if let image = try r.string(t, "image", in: at) {
                try r.known(t, ["image", "platforms"], in: at)
                let ref: Reference
                do { ref = try Reference(image) } catch {
                    throw SweepError.config(path: path, key: "\(at).image", reason: "\(error)")
                }
                targets.append(.image(ImageTarget(reference: ref, input: image, platforms: platforms)))
                continue
            }
            try r.known(t, ["registry", "repositories", "tags", "tag_regex", "newest", "platforms", "page_size"], in: at)
            guard let registry = try r.string(t, "registry", in: at), Self.isHost(registry) else {
                throw SweepError.config(path: path, key: "\(at)", reason: "needs image = \"REFERENCE\" or registry = \"HOST[:PORT]\"")
            }
            let repositories = try r.strings(t, "repositories", in: at)?.map { try r.glob($0, key: "\(at).repositories") }
            let filter: TagFilter
            switch (try r.strings(t, "tags", in: at), try r.string(t, "tag_regex", in: at)) {
            case (.some, .some):
                throw SweepError.config(path: path, key: "\(at).tag_regex", reason: "give tags or tag_regex, not both")
            case (_, .some(let pattern)):
                guard (try? NSRegularExpression(pattern: "^(?:\(pattern))$")) != nil else {
                    throw SweepError.config(path: path, key: "\(at).tag_regex", reason: "not a regular expression: \(pattern)")
                }
                filter = .regex(pattern)
            case (let globs, nil):
                filter = .globs(try (globs ?? ["*"]).map { try r.glob($0, key: "\(at).tags") })
            }
            let newest = try r.int(t, "newest", in: at)
            if let n = newest, n < 1 { throw SweepError.config(path: path, key: "\(at).newest", reason: "must be a positive integer") }
            let pageSize = try r.int(t, "page_size", in: at)
            if let n = pageSize, n < 1 || n > 10_000 {
                throw SweepError.config(path: path, key: "\(at).page_size", reason: "must be between 1 and 10000")
            }
            targets.append(.repositories(RepositoryTarget(registry: registry, repositories: repositories, tags: filter, newest: newest,
                                                          platforms: platforms, pageSize: pageSize)))
        }

        for (i, t) in try r.tables(root, "fly").enumerated() {
            let at = "fly[\(i + 1)]"
            try r.known(t, ["org", "api_url", "token_env", "platforms"], in: at)
            guard let org = try r.string(t, "org", in: at), !org.isEmpty else {
                throw SweepError.config(path: path, key: "\(at).org", reason: "required: the organisation's slug")
            }
            let api = try r.string(t, "api_url", in: at) ?? FlyMachines.defaultAPI
            guard let url = URL(string: api), url.scheme == "https" || url.scheme == "http", url.host != nil else {
                throw SweepError.config(path: path, key: "\(at).api_url", reason: "not an http(s) URL: \(api)")
            }
            fly.append(FlyOrg(org: org, apiURL: api.hasSuffix("/") ? String(api.dropLast()) : api,
                              tokenEnv: try r.string(t, "token_env", in: at) ?? "FLY_API_TOKEN", platforms: try r.platforms(t, in: at)))
        }
        if targets.isEmpty && fly.isEmpty {
            throw SweepError.config(path: path, key: "target", reason: "nothing to sweep: add a [[target]] or a [[fly]] table")
        }
    }

    /// The settings for a registry host, when the config has some.
    public func registry(_ host: String) -> Registry? {
        registries.first { $0.host == host }
    }

    static func resolve(_ file: String, in dir: String) -> String {
        file.hasPrefix("/") ? file : URL(fileURLWithPath: dir).appendingPathComponent(file).path
    }

    static func isHost(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 255 && !s.contains("/") && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".-:[]".contains($0)) }
    }

    /// Typed reads of TOML values, each failure naming the file and key.
    private struct Reader {
        let path: String

        func key(_ k: String, _ context: String?) -> String { context.map { "\($0).\(k)" } ?? k }

        func known(_ t: TOMLTable, _ keys: Set<String>, in context: String?) throws {
            for k in t.keys.sorted() where !keys.contains(k) {
                throw SweepError.config(path: path, key: key(k, context), reason: "unknown key (expected one of \(keys.sorted().joined(separator: ", ")))")
            }
        }

        func tables(_ t: TOMLTable, _ k: String) throws -> [TOMLTable] {
            guard let v = t[k] else { return [] }
            guard let a = v.array else { throw SweepError.config(path: path, key: k, reason: "must be tables: write [[\(k)]]") }
            return try a.enumerated().map { i, e in
                guard let t = e.table else { throw SweepError.config(path: path, key: "\(k)[\(i + 1)]", reason: "must be a table") }
                return t
            }
        }

        func string(_ t: TOMLTable, _ k: String, in c: String?) throws -> String? {
            guard let v = t[k] else { return nil }
            guard let s = v.string else { throw SweepError.config(path: path, key: key(k, c), reason: "must be a string") }
            return s
        }

        func bool(_ t: TOMLTable, _ k: String, in c: String?) throws -> Bool? {
            guard let v = t[k] else { return nil }
            guard let b = v.bool else { throw SweepError.config(path: path, key: key(k, c), reason: "must be true or false") }
            return b
        }

        func int(_ t: TOMLTable, _ k: String, in c: String?) throws -> Int? {
            guard let v = t[k] else { return nil }
            guard let i = v.int else { throw SweepError.config(path: path, key: key(k, c), reason: "must be an integer") }
            return i
        }

        func strings(_ t: TOMLTable, _ k: String, in c: String?) throws -> [String]? {
            guard let v = t[k] else { return nil }
            guard let a = v.array else { throw SweepError.config(path: path, key: key(k, c), reason: "must be an array of strings") }
            return try a.map { e in
                guard let s = e.string else { throw SweepError.config(path: path, key: key(k, c), reason: "must be an array of strings") }
                return s
            }
        }

        func glob(_ pattern: String, key k: String) throws -> Glob {
            do { return try Glob(pattern) } catch {
                throw SweepError.config(path: path, key: k, reason: "\(error)")
            }
        }

        /// `platforms = ["linux/amd64"]` or `"all"`; left out: every platform.
        func platforms(_ t: TOMLTable, in c: String?) throws -> [PlatformChoice] {
            guard let v = t["platforms"] else { return [.all] }
            let list: [String]
            if let s = v.string { list = [s] } else { list = try strings(t, "platforms", in: c) ?? [] }
            guard !list.isEmpty else { throw SweepError.config(path: path, key: key("platforms", c), reason: "empty: leave it out for every platform") }
            if list.contains("all") { return [.all] }
            return try list.map { p in
                do { return try PlatformChoice(p) } catch {
                    throw SweepError.config(path: path, key: key("platforms", c), reason: "\(p): expected os/arch[/variant] or all")
                }
            }
        }
    }
}

/// A compiled expression shared by the closures of one listing. NSRegularExpression is immutable once built and
/// documented as safe to use from several threads at once, which is why the box may cross tasks.
private final class RegexBox: @unchecked Sendable {
    let regex: NSRegularExpression?
    init(_ regex: NSRegularExpression?) { self.regex = regex }
}
