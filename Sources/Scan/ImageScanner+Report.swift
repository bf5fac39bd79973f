import Foundation
import Layers
import OCI
import Reports
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

        for (i, result) in layers.enumerated() {
            if let e = result.error { errors.append(.init(layerIndex: i, message: e)) }
            suppressed += result.suppressed
            truncated += result.truncated
            for hit in result.hits {
                var f = fileFinding(hit)
                f.layerIndex = i
                f.layerDigest = image.layers[i].digest?.description
                f.historyIndex = i < historyForLayer.count ? historyForLayer[i] : nil
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
        let fates = PathFates(layers, above: (findings + accepted).compactMap { $0.source == .file ? $0.layerIndex : nil }.min())
        fates.assign(&findings)
        fates.assign(&accepted)
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

extension ImageScanner {
    /// The finding of a hit in a file of a layer, the one way `scan` and a sweep's stored layer results make it:
    /// the rule's severity (or what the token allows), raised for a secret in a credential file, capped by the
    /// path's context; a credential file reported by its name carries the file's hash and no secret. Its place
    /// is set; its layer, status and redaction are not.
    func fileFinding(_ hit: LayerHit) -> Finding {
        var f = finding(hit.ruleIndex, secret: hit.secret, place: .file(.init(path: hit.path, line: hit.line, key: hit.key, outerPath: hit.outer)))
        if let d = hit.description { f.description = d }
        if let digest = hit.fileDigest {
            f.secretSHA256 = digest
            f.redacted = "(whole file, \(hit.fileSize ?? 0) bytes)"
            f.secret = nil
        } else if let credentialRule = engine.rule(for: .credentialFile), engine.ruleApplies(credentialRule, toPath: hit.path),
                  CredentialPaths.kind(of: hit.path) != nil, f.details?.rating == nil {
            f.severity = f.severity.raised
        }
        PathContext.apply(to: &f, path: hit.path, binary: hit.binary, rule: engine.rules[hit.ruleIndex], comment: hit.comment)
        return f
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

/// Decides each file finding's status by `Overlay`'s rules: the first later layer that deletes or overwrites
/// the file of the layer that holds it. Each place (layer and path) is decided once, however many findings it has.
struct PathFates {
    /// A scanned layer's path events, as `Overlay` reads them.
    struct Events: Overlay.ListedEvents {
        let layer: LayerResult
        /// Worked out here, for the layers a status can depend on, rather than while the layer streamed.
        let impliedDirectories: Set<String>

        func whitesOut(_ path: String) -> Bool { layer.deletions.contains(path) }
        func isOpaque(_ directory: String) -> Bool { layer.opaques.contains(directory) }
        func entryIsDirectory(_ path: String) -> Bool? { layer.entries[path] }
        func holdsEntries(under path: String) -> Bool { impliedDirectories.contains(path) }
        var pathCount: Int { layer.entries.count + layer.deletions.count + layer.opaques.count + impliedDirectories.count }
        func forEachPath(_ body: (String) -> Void) {
            layer.entries.keys.forEach(body)
            layer.deletions.forEach(body)
            layer.opaques.forEach(body)
            impliedDirectories.forEach(body)
        }
    }

    private let layers: [Events]

    /// `lowest`: the lowest layer holding a file finding (nil: none); only the layers above it are looked at.
    init(_ layers: [LayerResult], above lowest: Int?) {
        self.layers = layers.enumerated().map { j, l in
            let above = lowest.map { j > $0 } ?? false
            return Events(layer: l, impliedDirectories: above ? l.impliedDirectories() : [])
        }
    }

    func assign(_ findings: inout [Finding]) {
        struct Place: Hashable {
            var layer: Int
            var path: String
        }
        var index: [Place: Int] = [:]
        var places: [(path: String, ancestors: [String], layer: Int)] = []
        var placeOf: [Int: Int] = [:]
        for i in findings.indices where findings[i].source == .file {
            guard let layer = findings[i].layerIndex, let path = findings[i].outerPath ?? findings[i].path else { continue }
            let place = Place(layer: layer, path: path)
            if let k = index[place] {
                placeOf[i] = k
            } else {
                index[place] = places.count
                placeOf[i] = places.count
                places.append((path, LayerPath.ancestors(path), layer))
            }
        }
        let fates = Overlay.fates(of: places, under: layers)
        for (i, k) in placeOf {
            findings[i].status = FileStatus(fates[k]?.fate)
            findings[i].removedInLayer = fates[k]?.layer
        }
    }
}

extension FileStatus {
    /// A file finding's status from what a later layer did to its file (nil: nothing).
    init(_ fate: Overlay.Fate?) {
        switch fate {
        case .deleted: self = .deleted
        case .overwritten: self = .overwritten
        case nil: self = .present
        }
    }
}
