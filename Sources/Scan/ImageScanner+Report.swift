import Foundation
import Layers
import OCI
import Secrets

/// Report building: an image's findings from its config and layers, caps, baseline, statuses, redaction.
extension ImageScanner {
    func imageReport(_ image: Image, _ layers: [LayerResult], configs: inout ConfigCache) -> Report.ImageReport {
        var findings: [Finding] = []
        var errors: [Report.ScanError] = []
        var suppressed = 0
        var baselined = 0
        var truncated = 0
        let historyForLayer = image.config.historyIndexForLayer

        let config = configs.findings(for: image) { configFindings(image.config, shownHistory: Set(historyForLayer.compactMap { $0 })) }
        findings += config.findings[..<config.beforeHistory]
        truncated += config.truncated
        if let e = config.error { errors.append(.init(layerIndex: nil, message: "config: \(e)")) }
        do {
            findings += try annotationFindings(image)
        } catch {
            errors.append(.init(layerIndex: nil, message: "annotations: \(error)"))
        }
        findings += config.findings[config.beforeHistory...]

        let credentialRule = engine.rule(for: .credentialFile)
        for (i, result) in layers.enumerated() {
            if let e = result.error { errors.append(.init(layerIndex: i, message: e)) }
            suppressed += result.suppressed
            truncated += result.truncated
            for hit in result.hits {
                var f = finding(hit.ruleIndex, secret: hit.secret, source: .file)
                if let d = hit.description { f.description = d }
                if let digest = hit.fileDigest {
                    f.secretSHA256 = digest
                    f.redacted = "(whole file, \(hit.fileSize ?? 0) bytes)"
                    f.secret = nil
                } else if let credentialRule, engine.ruleApplies(credentialRule, toPath: hit.path),
                          CredentialPaths.kind(of: hit.path) != nil, f.details?.rating == nil {
                    f.severity = f.severity.raised
                }
                PathContext.apply(to: &f, path: hit.path, binary: hit.binary, rule: engine.rules[hit.ruleIndex], comment: hit.comment)
                f.layerIndex = i
                f.layerDigest = image.layers[i].digest?.description
                f.historyIndex = i < historyForLayer.count ? historyForLayer[i] : nil
                f.path = hit.path
                f.outerPath = hit.outer
                f.line = hit.line
                f.key = hit.key
                findings.append(f)
            }
        }

        var accepted: [Finding] = []
        if let baseline = options.baseline {
            var kept: [Finding] = []
            for var f in findings {
                switch baseline.verdict(f, image: image.reference) {
                case .accepted(let a):
                    baselined += 1
                    f.acceptance = a
                    // Bounded like the report itself: a hostile image may repeat an accepted secret without end.
                    if options.showSuppressed && accepted.count < options.maxFindingsPerImage { accepted.append(f) }
                case .expired(let a):
                    f.acceptance = a
                    kept.append(f)
                case .none:
                    kept.append(f)
                }
            }
            findings = kept
        }
        if findings.count > options.maxFindingsPerImage {
            // The most severe are kept, so a cut never hides what decides the exit code.
            let order = findings.indices.sorted { (findings[$0].severity, $1) > (findings[$1].severity, $0) }
            let keep = Set(order.prefix(options.maxFindingsPerImage))
            truncated += findings.count - keep.count
            findings = findings.indices.filter { keep.contains($0) }.map { findings[$0] }
        }
        PathFates.assign(&findings, layers: layers)
        PathFates.assign(&accepted, layers: layers)
        let findingSecrets = (findings + accepted).compactMap(\.secret)

        if !options.showSecrets {
            // A secret can also be where a finding says it is: an env entry without `=` is its own key, a label
            // key or a file name can be the token. Each is redacted with the secrets found at that place (a secret
            // in a key is found in the entry it names).
            let redact = PlaceRedactor((findings + accepted).compactMap { f in f.secret.map { (f.path, f.key, $0) } })
            func hide(_ list: inout [Finding]) {
                for i in list.indices {
                    list[i].secret = nil
                    list[i].key = list[i].key.map(redact.key)
                    if let outer = list[i].outerPath, let p = list[i].path { list[i].outerPath = redact.path(outer, within: p) }
                    list[i].path = list[i].path.map(redact.path)
                }
            }
            hide(&findings)
            hide(&accepted)
        }
        // An archive's path is redacted with every secret of the image: it can hold one found inside it.
        let warningRedactor = options.showSecrets ? nil : Redactor(Set(findingSecrets))
        var warnings: [Report.Warning] = []
        for (i, result) in layers.enumerated() {
            for n in result.notes {
                warnings.append(Report.Warning(layerIndex: i, kind: "archive-\(n.kind.rawValue)",
                                               path: warningRedactor?.redact(n.path) ?? n.path,
                                               message: warningRedactor?.redact(n.reason) ?? n.reason))
            }
        }
        let layerInfos = image.layers.enumerated().map { i, l -> Report.LayerInfo in
            let h = i < historyForLayer.count ? historyForLayer[i] : nil
            let createdBy = h.flatMap { image.config.history[$0].created_by }.map {
                options.showSecrets ? $0 : Redactor(config.historySecrets[h ?? -1] ?? []).redact($0)
            }
            return Report.LayerInfo(index: i, digest: l.digest?.description, diffID: l.diffID?.description, size: l.size, createdBy: createdBy)
        }
        var report = Report.ImageReport(reference: image.reference, manifestDigest: image.manifestDigest?.description,
                                        configDigest: image.configDigest?.description, platform: image.platform?.description,
                                        layers: layerInfos, findings: findings, errors: errors, suppressed: suppressed, baselined: baselined,
                                        truncated: truncated, warnings: warnings)
        report.accepted = accepted
        // After redaction: a fix names the place by its redacted path or key.
        report.remediate(rules: Dictionary(engine.rules.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a }))
        return report
    }

}

/// Replaces every known secret in a text by its redacted form, longest first so that a secret containing
/// another is redacted whole. `redact` costs one substring search per secret.
struct Redactor {
    private let secrets: [String]

    init(_ secrets: Set<String>) {
        self.secrets = secrets.filter { !$0.isEmpty }.sorted { $0.count > $1.count }
    }

    func redact(_ text: String) -> String {
        var t = text
        for s in secrets where t.contains(s) {
            t = t.replacingOccurrences(of: s, with: Redaction.redact(s))
        }
        return t
    }
}

/// Redacts place strings (paths, keys) with the secrets found at each place, every distinct place once: linear
/// in findings even when thousands share one key.
struct PlaceRedactor {
    private var paths: [String: String] = [:]
    private var keys: [String: String] = [:]
    private var secretsAt: [String: Set<String>] = [:]

    init(_ found: [(path: String?, key: String?, secret: String)]) {
        var atPath: [String: Set<String>] = [:], atKey: [String: Set<String>] = [:]
        for f in found {
            if let p = f.path { atPath[p, default: []].insert(f.secret) }
            if let k = f.key { atKey[k, default: []].insert(f.secret) }
        }
        for (p, s) in atPath { paths[p] = Redactor(s).redact(p) }
        secretsAt = atPath
        for (k, s) in atKey { keys[k] = Redactor(s).redact(k) }
    }

    func path(_ p: String) -> String { paths[p] ?? p }
    /// A part of the place `chain` (an archive's outer file), redacted with the secrets found at `chain`.
    func path(_ p: String, within chain: String) -> String { secretsAt[chain].map { Redactor($0).redact(p) } ?? p }
    func key(_ k: String) -> String { keys[k] ?? k }
}

/// Decides each file finding's status from the later layers' whiteouts and entries in one pass down the
/// layers, looking only at the paths (and their ancestors) that have findings: O(findings × depth + events).
enum PathFates {
    static func assign(_ findings: inout [Finding], layers: [LayerResult]) {
        var byLayer: [Int: [Int]] = [:]
        var relevant: Set<String> = []
        for (i, f) in findings.enumerated() where f.source == .file {
            guard let layer = f.layerIndex, let path = f.outerPath ?? f.path else { continue }
            byLayer[layer, default: []].append(i)
            relevant.insert(path)
            for a in LayerPath.ancestors(path) { relevant.insert(a) }
        }
        guard !byLayer.isEmpty else { return }
        // Earliest layer above the one being answered for, per path: deleted, opaque, any entry, a non-directory entry.
        var deletedAt: [String: Int] = [:], opaqueAt: [String: Int] = [:], entryAt: [String: Int] = [:], fileAt: [String: Int] = [:]
        for j in stride(from: layers.count - 1, through: 0, by: -1) {
            for i in byLayer[j] ?? [] {
                let path = findings[i].outerPath ?? findings[i].path!
                let ancestors = LayerPath.ancestors(path)
                let deleted = ([deletedAt[path]] + ancestors.flatMap { [deletedAt[$0], opaqueAt[$0]] }).compactMap { $0 }.min()
                let overwritten = entryAt[path]
                let parentReplaced = ancestors.compactMap { fileAt[$0] }.min()
                let first = [deleted, overwritten, parentReplaced].compactMap { $0 }.min()
                if let first {
                    findings[i].status = first == deleted ? .deleted : first == overwritten ? .overwritten : .deleted
                    findings[i].removedInLayer = first
                } else {
                    findings[i].status = .present
                }
            }
            let l = layers[j]
            if relevant.count < l.entries.count + l.deletions.count + l.opaques.count {
                for p in relevant {
                    if l.deletions.contains(p) { deletedAt[p] = j }
                    if l.opaques.contains(p) { opaqueAt[p] = j }
                    if let isDir = l.entries[p] {
                        entryAt[p] = j
                        if !isDir { fileAt[p] = j }
                    }
                }
            } else {
                for p in l.deletions where relevant.contains(p) { deletedAt[p] = j }
                for p in l.opaques where relevant.contains(p) { opaqueAt[p] = j }
                for (p, isDir) in l.entries where relevant.contains(p) {
                    entryAt[p] = j
                    if !isDir { fileAt[p] = j }
                }
            }
        }
    }
}
