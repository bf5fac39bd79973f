import Foundation
import OCI
import Reports
import Secrets

/// The image config and history: environment, labels, commands, history lines, annotations and the rest.
extension ImageScanner {
    /// Findings of an image config, shared by the images that name it (a sweep keeps one per config digest
    /// for its run: `configResult(of:)`, then `findings(of:layers:config:)`).
    public struct ConfigResult: Sendable {
        var findings: [Finding] = []
        /// How many of `findings` come before the history (where an image's annotations go, in report order).
        var beforeHistory = 0
        var truncated = 0
        var error: String?
        /// Every secret found in a history line that `layers[].createdBy` shows, whether or not its finding is
        /// reported (cap, baseline), so the line is always shown redacted.
        var historySecrets: [Int: Set<String>] = [:]
    }

    /// Config findings by config digest.
    struct ConfigCache {
        private var byDigest: [String: ConfigResult] = [:]

        mutating func findings(for image: Image, _ compute: () -> ConfigResult) -> ConfigResult {
            guard let digest = image.configDigest?.description else { return compute() }
            if let known = byDigest[digest] { return known }
            let r = compute()
            byDigest[digest] = r
            return r
        }
    }

    /// What an image's config holds, as `findings(of:layers:)` reports it.
    public func configResult(of image: Image) -> ConfigResult { configFindings(image.config, shownHistory: []) }

    func configFindings(_ config: ImageConfig, shownHistory: Set<Int>) -> ConfigResult {
        var result = ConfigResult()
        do {
            let matcher = try engine.makeMatcher()
            var out = SeverityCap<Finding>(limit: options.maxFindingsPerImage)
            var decodedSeen: Set<String> = []
            let base64Env = engine.rule(for: .base64Env)
            func findings(_ text: String, _ place: Finding.Place, keyAt: ((Int64) -> String?)? = nil,
                          decodedBy: Int? = nil) throws -> [Finding] {
                var found: [Finding] = []
                let hits = try matcher.scan(text)
                out.truncated += matcher.truncated
                for hit in hits where engine.ruleApplies(hit.ruleIndex, toPath: nil) {
                    let secret = String(decoding: hit.secret, as: UTF8.self)
                    var f = finding(hit.ruleIndex, secret: secret, place: place)
                    if f.key == nil { f.key = keyAt?(hit.start) }
                    if case .history(let history, _) = place, shownHistory.contains(history) {
                        result.historySecrets[history, default: []].insert(secret)
                    }
                    if let decoder = decodedBy {
                        if engine.suppresses(secret, rule: decoder) { continue }
                        if !decodedSeen.insert("\(f.secretSHA256)|\(f.source.rawValue)|\(f.key ?? "")").inserted { continue }
                        f.description += " (base64-decoded)"
                    }
                    found.append(f)
                }
                return found
            }
            func scan(_ text: String, _ place: Finding.Place, keyAt: ((Int64) -> String?)? = nil) throws {
                for f in try findings(text, place, keyAt: keyAt) { out.add(f, rank: f.severity.rank) }
            }
            let c = config.container
            for entry in c.Env ?? [] {
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                var found = try findings(entry, .config(.env, key: parts.first))
                // A value that is base64 of text is decoded once and scanned as well. What the decoded text holds
                // supersedes a generic finding of the blob itself (base64 of a drawn key), as in files.
                if let base64Env, parts.count == 2, let decoded = Decoders.base64Value(parts[1]) {
                    let inner = try findings(parts[0] + "=" + decoded, .config(.env, key: parts[0]), decodedBy: base64Env)
                    if !inner.isEmpty { found.removeAll { engine.givesWay(ruleID: $0.ruleID, secret: $0.secret ?? "", to: base64Env, blobs: [parts[1]]) } }
                    found += inner
                }
                for f in found { out.add(f, rank: f.severity.rank) }
            }
            for (k, v) in (c.Labels ?? [:]).sorted(by: { $0.key < $1.key }) { try scan("\(k)=\(v)", .config(.label, key: k)) }
            if let cmd = c.Cmd { try scan(cmd.joined(separator: " "), .config(.cmd, key: nil)) }
            if let ep = c.Entrypoint { try scan(ep.joined(separator: " "), .config(.entrypoint, key: nil)) }
            if let test = c.Healthcheck?.Test { try scan(test.joined(separator: " "), .config(.healthcheck, key: nil)) }
            let beforeHistory = out.items.count
            for (i, h) in config.history.enumerated() {
                if let line = h.created_by {
                    let args = BuildArgs.parse(line)
                    try scan(line, .history(index: i, key: nil), keyAt: { offset in
                        args.first { $0.range.contains(Int(offset)) }?.key
                    })
                }
                if let comment = h.comment { try scan(comment, .history(index: i, key: nil)) }
            }
            let walk = ConfigWalk.otherStrings(config.raw)
            for (path, value) in walk.strings {
                try scan(value, .config(.other, key: path))
            }
            result.error = walk.error
            result.findings = out.items
            result.beforeHistory = min(beforeHistory, out.items.count)
            result.truncated = out.truncated
        } catch {
            result.error = "\(error)"
        }
        return result
    }

    func annotationFindings(_ image: Image) throws -> [Finding] {
        guard !image.annotations.isEmpty else { return [] }
        let matcher = try engine.makeMatcher()
        var out: [Finding] = []
        for (k, v) in image.annotations.sorted(by: { $0.key < $1.key }) {
            for hit in try matcher.scan("\(k)=\(v)") where engine.ruleApplies(hit.ruleIndex, toPath: nil) {
                out.append(finding(hit.ruleIndex, secret: String(decoding: hit.secret, as: UTF8.self), place: .annotation(key: k)))
            }
        }
        return out
    }
}
