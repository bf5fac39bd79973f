import Crypto
import Foundation
import Secrets

/// SARIF 2.1.0 as GitHub code scanning reads it: one result per finding, each rule with its help, locations that are
/// RFC 3986 URI references, and fingerprints that name the secret and its place but nothing a rebuild or a run changes.
///
/// Locations: `artifactLocation.uri` is a relative reference under `uriBaseId` `IMAGE` (`IMAGE2`, `IMAGE3`, ... for
/// further images of one log), whose `originalUriBaseIds` entry describes the image; its first segment is `files`
/// (then the file's path, an archive member's chain path with its `!`), `config` (then the source and key:
/// `config/env/KEY`, `config/label/KEY`, `config/cmd`, `config/annotation/KEY`) or `history` (then the build
/// argument, or the entry's index when none). Each segment is percent-encoded (RFC 3986 `pchar`), `.` and `..`
/// segments too.
public enum SARIFReport {
    /// What produced the log, for `automationDetails.id` (GitHub's category and run).
    public enum Run: Sendable {
        /// `stowaway scan`: `stowaway/scan/<image>/`, the image named without its tag or digest.
        case scan
        /// A sweep run: `stowaway/sweep/<run>`; results carry their `baselineState`.
        case sweep(run: Int64)
    }

    /// A sweep's view of a finding against the previous run.
    public enum BaselineState: String, Sendable {
        case new, unchanged, absent
    }

    /// Where the rule pages live when a rule has no revoke URL.
    static let docsURL = "https://github.com/stowaway/stowaway/blob/main/docs/remediation.md"

    /// The log of `report` (findings of rules missing from `rules` get no rule object). `states` gives the sweep's
    /// baseline state of a finding, by image and finding index. Throws when a finding's details cannot be encoded.
    public static func render(_ report: Report, rules: [Rule], run: Run = .scan,
                              states: [Int: [Int: BaselineState]] = [:]) throws -> Data {
        let report = report.remediated(rules: rules)
        var worst: [String: Severity] = [:]
        for f in report.images.flatMap(\.findings) { worst[f.ruleID] = max(worst[f.ruleID] ?? f.severity, f.severity) }
        let ruleObjects: [[String: Any]] = rules.filter { worst[$0.id] != nil }.map { r in
            let severity = worst[r.id] ?? r.severity
            let help = Remediation.help(for: r)
            let helpURI = r.revoke.flatMap { $0.hasPrefix("https://") ? $0 : nil } ?? docsURL + "#what-to-do"
            return [
                "id": r.id, "name": ruleName(r.id),
                "shortDescription": ["text": r.description],
                "fullDescription": ["text": "\(r.description): a secret found in a container image (its files, config or build history)."],
                "help": ["text": help.text, "markdown": help.markdown],
                "helpUri": helpURI,
                "defaultConfiguration": ["level": level(severity)],
                // A rule's results may be re-rated (a path, a checksum, what a token allows): it is rated as its worst.
                "properties": ["security-severity": securitySeverity(severity), "tags": ["security", "secret"]],
            ]
        }
        var results: [[String: Any]] = []
        var baseIDs: [String: [String: Any]] = [:]
        for (i, image) in report.images.enumerated() {
            let baseID = i == 0 ? "IMAGE" : "IMAGE\(i + 1)"
            baseIDs[baseID] = ["description": ["text": image.reference + (image.manifestDigest.map { " (\($0))" } ?? "")]]
            let scope: String
            switch run {
            case .scan: scope = ""
            // One sweep log covers a fleet: the repository tells two images' same secret at the same path apart.
            case .sweep: scope = imageName(image.reference)
            }
            for (j, f) in image.findings.enumerated() {
                var physical: [String: Any] = ["artifactLocation": ["uri": uri(for: f), "uriBaseId": baseID]]
                if let line = f.line, line > 0 { physical["region"] = ["startLine": line] }
                var message = "\(f.description) (\(f.redacted))"
                if case .sweep = run { message += " in \(image.reference)" }
                if f.status == .deleted || f.status == .overwritten {
                    message += ", \(f.status!.rawValue) in layer \(f.removedInLayer ?? -1) but still in layer \(f.layerIndex ?? -1)'s blob"
                }
                if let r = f.remediation {
                    message += ". " + (r.rotate.map { "Rotate it: \($0). " } ?? "Rotate it where it was issued. ") + r.fix
                }
                var properties: [String: Any] = ["severity": f.severity.rawValue, "source": f.source.rawValue,
                                                 "security-severity": securitySeverity(f.severity), "image": image.reference]
                if let c = f.confidence { properties["confidence"] = c.rawValue }
                if let l = f.layerIndex { properties["layerIndex"] = l }
                if let h = f.historyIndex { properties["historyIndex"] = h }
                if let d = f.details { properties["details"] = try JSONSerialization.jsonObject(with: JSONEncoder().encode(d)) }
                if let r = f.remediation {
                    properties["remediation"] = ["place": r.place.rawValue, "rotate": r.rotate.map { $0 as Any } ?? NSNull(), "fix": r.fix] as [String: Any]
                }
                var result: [String: Any] = [
                    "ruleId": f.ruleID,
                    "level": level(f.severity),
                    "message": ["text": message],
                    "locations": [["physicalLocation": physical]],
                    "partialFingerprints": ["secretAtPlace/v1": fingerprint(f, scope: scope)],
                    "properties": properties,
                ]
                if let state = states[i]?[j] { result["baselineState"] = state.rawValue }
                results.append(result)
            }
        }
        var invocation: [String: Any] = ["executionSuccessful": !report.isIncomplete]
        let notes = report.images.flatMap { $0.errors.map { ["message": ["text": $0.message], "level": "error"] } }
            + report.images.flatMap { $0.warnings.map { ["message": ["text": "\($0.path ?? ""): \($0.message)"], "level": "warning"] } }
        if !notes.isEmpty { invocation["toolExecutionNotifications"] = notes }
        let automation: String
        switch run {
        case .scan: automation = "stowaway/scan/\(report.images.first.map { imageName($0.reference) } ?? "none")/"
        case .sweep(let id): automation = "stowaway/sweep/\(id)"
        }
        var runObject: [String: Any] = [
            "tool": ["driver": ["name": "stowaway", "version": Stowaway.version,
                                "informationUri": "https://github.com/stowaway/stowaway", "rules": ruleObjects]],
            "automationDetails": ["id": automation],
            "invocations": [invocation],
            "results": results,
        ]
        if !baseIDs.isEmpty { runObject["originalUriBaseIds"] = baseIDs }
        let sarif: [String: Any] = [
            "version": "2.1.0",
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "runs": [runObject],
        ]
        return try JSONSerialization.data(withJSONObject: sarif, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    /// The location of a finding inside its image, as a relative URI reference (see the type's documentation).
    public static func uri(for f: Finding) -> String {
        var segments: [String]
        switch f.place {
        case .file(let file):
            // The path is absolute: its leading `/` is the one after `files`.
            let path = file.path
            segments = ["files"] + (path.hasPrefix("/") ? path.dropFirst() : Substring(path))
                .split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        case .history(let index, let key): segments = ["history", key ?? "\(index)"]
        case .config, .annotation: segments = ["config", f.source.rawValue] + (f.key.map { [$0] } ?? [])
        }
        return segments.map(encodeSegment).joined(separator: "/")
    }

    /// RFC 3986 `segment`: unreserved, sub-delims, `:` and `@` as they are, every other byte of the UTF-8 as `%XX`;
    /// a `.` or `..` segment, which a resolver would remove, encoded as well.
    static func encodeSegment(_ s: String) -> String {
        if s == "." || s == ".." { return String(repeating: "%2E", count: s.count) }
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@".utf8)
        var out = ""
        for byte in s.utf8 {
            if allowed.contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    /// The same secret at the same place gets the same value on every run and machine: the secret's SHA-256, the
    /// place without its layer index or history position (`Finding.Place.identity`), and `scope` (the image's name in
    /// a sweep, whose one log covers many).
    static func fingerprint(_ f: Finding, scope: String) -> String {
        let text = [scope, f.place.identity, f.secretSHA256].joined(separator: "\n")
        return SHA256.hash(data: Data(text.utf8)).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    /// An image's name without what changes from build to build: a reference as written without its tag or digest
    /// (`registry.fly.io/app`, `127.0.0.1:5005/eval/planted`), the file or directory name for an archive or layout
    /// (never its directory, which is often a temporary one).
    static func imageName(_ reference: String) -> String {
        var name = reference
        for prefix in ["docker-archive:", "oci-archive:", "oci:"] where name.hasPrefix(prefix) { name = String(name.dropFirst(prefix.count)) }
        let pathLike = name.hasPrefix("/") || name.hasPrefix(".") || name.hasPrefix("~") || name != reference
        if name.hasPrefix("docker://") { name = String(name.dropFirst("docker://".count)) }
        if pathLike { name = name.split(separator: "/").last.map(String.init) ?? name }
        if let at = name.firstIndex(of: "@") { name = String(name[..<at]) }
        // A tag follows the last `/`; a colon before it is a registry's port.
        if let colon = name.lastIndex(of: ":"), !name[colon...].contains("/") { name = String(name[..<colon]) }
        return name.isEmpty ? "image" : name
    }

    /// `flyio-access-token` → `FlyioAccessToken`: SARIF's `name` is an identifier-like form of the id.
    static func ruleName(_ id: String) -> String {
        id.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    static func level(_ s: Severity) -> String {
        switch s {
        case .critical, .high: return "error"
        case .medium: return "warning"
        case .low: return "note"
        }
    }

    /// GitHub's bands: critical above 9.0, high 7.0 to 8.9, medium 4.0 to 6.9, low below 4.0.
    static func securitySeverity(_ s: Severity) -> String {
        switch s {
        case .critical: return "9.5"
        case .high: return "8.0"
        case .medium: return "5.5"
        case .low: return "3.0"
        }
    }
}

extension String {
    fileprivate func leftPadded(to n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
