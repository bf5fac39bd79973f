import Core
import Secrets

/// What to do about one finding: where its secret is revoked or rotated (the rule's provider), and how to take it
/// out of the image (the kind of place it was found at). Every report format shows the same sentences.
///
/// The fix names the place with the finding's own (already redacted) path or key, so it never holds a secret;
/// the text report still escapes it, as everything that came from an image.
public struct Remediation: Codable, Sendable, Equatable {
    /// The kinds of place a secret can be at, each with its own fix.
    public enum Place: String, Codable, Sendable, CaseIterable {
        /// A file in the final filesystem.
        case layerFile = "layer-file"
        /// A file a later layer deleted or overwrote: still in the lower layer's blob.
        case removedFile = "removed-file"
        /// A member of an archive (jar, zip, tarball) that is a file of a layer.
        case archiveMember = "archive-member"
        /// An `ENV` of the image config.
        case environment
        /// A `LABEL` of the image config.
        case label
        /// `CMD`, `ENTRYPOINT` or `HEALTHCHECK`.
        case command
        /// An annotation of the manifest or index.
        case annotation
        /// Any other field of the image config.
        case config
        /// A history entry: a build argument or an instruction the builder recorded.
        case history
    }

    /// The kind of place, for grouping.
    public var place: Place
    /// Where the secret is revoked or rotated: the rule's URL or command (a Fly token's command names its ID);
    /// nil when the provider is not known (generic rules): then the secret is rotated wherever it was issued.
    @Nullable public var rotate: String?
    /// How to take the secret out of the image, naming the place.
    public var fix: String

    enum CodingKeys: String, CodingKey { case place, rotate, fix }

    /// The remediation of `finding`, found by `rule` (nil: a rule the run no longer has), in an image that is a
    /// Fly.io app's (`flyApp`: its runtime secrets are set with `fly secrets set`).
    public init(finding f: Finding, rule: Rule?, flyApp: Bool) {
        rotate = rule?.revoke.map { revoke in
            // Fly names each token by an ID it derives from the token; revoking by that ID needs no lookup.
            if revoke.hasPrefix("fly tokens revoke"), let id = f.details?.fly?.tokenID { return "fly tokens revoke \(id)" }
            return revoke
        }
        let key = f.key ?? "?"
        let runtime = flyApp ? "set it with `fly secrets set \(key)=…`" : "pass it at run time (the runtime's environment or a secret manager)"
        switch f.place {
        case .file(let file):
            let path = file.path
            let removed: String? = switch file.status {
            case .deleted?: "deleted in layer \(file.removedInLayer ?? -1)"
            case .overwritten?: "overwritten in layer \(file.removedInLayer ?? -1)"
            default: nil
            }
            let blob = removed.map { " (\($0), but still in layer \(file.layerIndex ?? -1)'s blob: a later layer never removes it)" } ?? ""
            if let outer = file.outerPath, path.hasPrefix(outer), path.count > outer.count {
                place = .archiveMember
                let member = path.dropFirst(outer.count)
                fix = "Rebuild \(outer)\(blob) without its member \(member.hasPrefix("!") ? member.dropFirst() : member): build the archive from "
                    + "sources that do not hold the secret, and keep secrets out of the build context (.dockerignore)."
            } else if removed != nil {
                place = .removedFile
                fix = "Rebuild so that no layer holds \(path)\(blob): keep it out of the build context (.dockerignore) or "
                    + "out of the last stage of a multi-stage build, and read the secret from the environment at run time."
            } else {
                place = .layerFile
                // The file may be the app's own code with the secret written into it, or a file of credentials only.
                fix = "Take the secret out of \(path) and read it from the environment at run time; a file of credentials "
                    + "stays out of the image (.dockerignore, or copy only what the app needs into the last stage of a "
                    + "multi-stage build). Then rebuild."
            }
        case .config(.env, _):
            place = .environment
            fix = "Remove ENV \(key) from the Dockerfile and \(runtime): the image config is readable by anyone who can pull the image."
        case .config(.label, _):
            place = .label
            fix = "Remove LABEL \(key): labels are public metadata of the image; if the app needs the value, \(runtime)."
        case .config(.cmd, _), .config(.entrypoint, _), .config(.healthcheck, _):
            place = .command
            let name = f.source.rawValue.uppercased()
            fix = "Take the secret out of \(name): read it from an environment variable set at run time"
                + (flyApp ? " (`fly secrets set`)." : " (the runtime's environment or a secret manager).")
        case .annotation:
            place = .annotation
            fix = "Remove the annotation \(key) where the image is built or pushed: annotations are public metadata of the manifest."
        case .config(.other, _):
            place = .config
            fix = "Remove \(key) from the image config where the image is built: the config is readable by anyone who can pull the image."
        case .history(let index, let k):
            place = .history
            if let k {
                fix = "Take \(k) out of the Dockerfile's ARG, ENV and LABEL instructions and --build-arg: the image history "
                    + "keeps the value even when a later step drops it; mount it as a BuildKit secret "
                    + "(RUN --mount=type=secret,id=\(k)) and rebuild."
            } else {
                fix = "Take the secret out of the Dockerfile instruction of history entry #\(index): mount it as "
                    + "a BuildKit secret (RUN --mount=type=secret) and rebuild."
            }
        }
    }

    /// The rotate line of the "What to do" block for `count` secrets of `rule` (its description and id).
    public static func rotateLine(description: String, ruleID: String, count: Int, rotate: String?) -> String {
        let what = "\(description), rule \(ruleID)\(count > 1 ? ", \(count) secrets" : "")"
        guard let rotate else { return "Rotate the \(what), where it was issued: the old value stays in every copy of the image." }
        return "Rotate the \(what): \(rotate)"
    }

    /// The closing advice once every fix is made.
    public static let rebuildLine = "Then push the rebuilt image and delete the old tags and manifests from the registry: "
        + "every copy of the old image still holds the secrets."

    /// A rule's help, for SARIF: where it is revoked, then the fix of each kind of place.
    public static func help(for rule: Rule) -> (text: String, markdown: String) {
        let rotate = rule.revoke.map { "Revoke or rotate it: \($0)." } ?? "Revoke or rotate it where it was issued."
        let places: [(String, String)] = [
            ("A file in a layer", "remove it from the build context (`.dockerignore`) or copy only what the app needs into "
                + "the last stage of a multi-stage build. A file deleted or overwritten by a later layer is still in the "
                + "lower layer's blob: rebuild without it."),
            ("A member of an archive in a layer", "rebuild the archive without it."),
            ("`ENV` or `LABEL`", "set it at run time (`fly secrets set` for a Fly.io app, else the runtime's environment or a secret manager)."),
            ("A build argument in the history", "mount it as a BuildKit secret (`RUN --mount=type=secret`), never `--build-arg`."),
        ]
        let text = "\(rule.description). A leaked secret stays valid until it is revoked. \(rotate) Then take it out of the image. "
            + places.map { "\($0.0.replacingOccurrences(of: "`", with: "")): \($0.1.replacingOccurrences(of: "`", with: ""))" }
                .joined(separator: " ")
            + " Push the rebuilt image and delete the old one from the registry."
        let markdown = "**\(rule.description)**\n\nA leaked secret stays valid until it is revoked. "
            + (rule.revoke.map { "Revoke or rotate it: " + ($0.hasPrefix("https://") ? "<\($0)>" : "`\($0)`") + "." }
                ?? "Revoke or rotate it where it was issued.")
            + "\n\nThen take it out of the image:\n\n" + places.map { "- \($0.0): \($0.1)" }.joined(separator: "\n")
            + "\n\nPush the rebuilt image and delete the old one from the registry."
        return (text, markdown)
    }
}

extension Report.ImageReport {
    /// Whether the image is a Fly.io app's (pulled from Fly's registry), whose secrets `fly secrets set` sets.
    public var isFlyApp: Bool { reference.hasPrefix("registry.fly.io/") }

    /// Sets the remediation of every finding (accepted ones too) that has none, from the rules of the run.
    public mutating func remediate(rules: [String: Rule]) {
        let fly = isFlyApp
        for i in findings.indices where findings[i].remediation == nil {
            findings[i].remediation = Remediation(finding: findings[i], rule: rules[findings[i].ruleID], flyApp: fly)
        }
        for i in accepted.indices where accepted[i].remediation == nil {
            accepted[i].remediation = Remediation(finding: accepted[i], rule: rules[accepted[i].ruleID], flyApp: fly)
        }
    }
}

extension Report {
    /// The report with every finding's remediation set from `rules`.
    public func remediated(rules: [Rule]) -> Report {
        let byID = Dictionary(rules.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var r = self
        for i in r.images.indices { r.images[i].remediate(rules: byID) }
        return r
    }
}
