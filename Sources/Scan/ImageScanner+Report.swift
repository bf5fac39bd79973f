import Foundation
import Layers
import OCI
import Reports
import Secrets

/// Report building, the one assembler of `scan` and of a sweep: an image's findings from its config and its
/// layers' results, statuses, caps, baseline, redaction.
extension ImageScanner {
    /// What an image report is assembled for.
    enum ReportUse {
        /// `scan`'s report: the options' baseline, per-image cap and `showSecrets`, warnings, layers and fixes.
        case scan
        /// A sweep's ledger: every finding with its status, redacted whatever the options say, nothing added.
        case ledger
    }

    /// The report of `image` from its config's findings (`config`) and its layers' results (`layers`, in the
    /// image's layer order; straight from `scanLayer`, or stored).
    func imageReport(_ image: Image, _ layers: [LayerScanResult], config: ConfigResult, for use: ReportUse = .scan) -> Report.ImageReport {
        var findings: [Finding] = []
        var errors: [Report.ScanError] = []
        var suppressed = 0
        var baselined = 0
        var truncated = 0
        let historyForLayer = image.config.historyIndexForLayer

        findings += config.findings[..<config.beforeHistory]
        truncated += config.truncated
        if let e = config.error { errors.append(.init(layerIndex: nil, message: "config: \(e)")) }
        do {
            findings += try annotationFindings(image)
        } catch {
            errors.append(.init(layerIndex: nil, message: "annotations: \(error)"))
        }
        findings += config.findings[config.beforeHistory...]

        let fates = Self.fates(of: layers)
        for (i, result) in layers.enumerated() {
            if let e = result.error { errors.append(.init(layerIndex: i, message: e.description)) }
            suppressed += result.suppressed
            truncated += result.truncated
            for (hit, fate) in zip(result.hits, fates[i]) {
                let place = Finding.Place.File(path: hit.path, layerIndex: i,
                                               layerDigest: i < image.layers.count ? image.layers[i].digest?.description : nil,
                                               historyIndex: i < historyForLayer.count ? historyForLayer[i] : nil, line: hit.line,
                                               key: hit.key, outerPath: hit.archive, status: FileStatus(fate?.fate), removedInLayer: fate?.layer)
                findings.append(Finding(ruleID: hit.ruleID, severity: hit.severity, description: hit.description, place: .file(place),
                                        secretSHA256: hit.secretSHA256, redacted: hit.redacted, secret: hit.secret,
                                        details: hit.details, confidence: hit.confidence))
            }
        }
        let showSecrets = use == .scan && options.showSecrets

        var accepted: [Finding] = []
        if use == .scan, let baseline = options.baseline {
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
        if use == .scan && findings.count > options.maxFindingsPerImage {
            // The most severe are kept, so a cut never hides what decides the exit code.
            let order = findings.indices.sorted { (findings[$0].severity, $1) > (findings[$1].severity, $0) }
            let keep = Set(order.prefix(options.maxFindingsPerImage))
            truncated += findings.count - keep.count
            findings = findings.indices.filter { keep.contains($0) }.map { findings[$0] }
        }
        let findingSecrets = (findings + accepted).compactMap(\.secret)

        if !showSecrets {
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
        guard use == .scan else {
            return Report.ImageReport(reference: image.reference, manifestDigest: image.manifestDigest?.description,
                                      configDigest: image.configDigest?.description, platform: image.platform?.description,
                                      layers: [], findings: findings, errors: errors, suppressed: suppressed, baselined: 0,
                                      truncated: truncated, warnings: [])
        }
        // An archive's path is redacted with every secret of the image: it can hold one found inside it.
        let warningRedactor = showSecrets ? nil : Redactor(Set(findingSecrets))
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
                showSecrets ? $0 : Redactor(config.historySecrets[h ?? -1] ?? []).redact($0)
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

    /// What a later layer did to each hit's file, by layer and hit: each place (layer and file) decided once,
    /// however many hits it holds, by `Overlay`'s rules over the layers' path events.
    static func fates(of layers: [LayerScanResult]) -> [[(fate: Overlay.Fate, layer: Int)?]] {
        struct Place: Hashable {
            var layer: Int
            var path: PathKey
        }
        var index: [Place: Int] = [:]
        var places: [(path: PathKey, ancestors: [PathKey], layer: Int)] = []
        let placeOf = layers.enumerated().map { i, layer in
            layer.hits.map { hit -> Int in
                let place = Place(layer: i, path: hit.pathKey)
                if let k = index[place] { return k }
                index[place] = places.count
                places.append((hit.pathKey, hit.ancestorKeys, i))
                return places.count - 1
            }
        }
        let fates = Overlay.fates(of: places, under: layers.map(PathEvents.init))
        return placeOf.map { $0.map { fates[$0] } }
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
