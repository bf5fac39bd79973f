import Foundation
import Secrets

/// The human report: config and history findings, then file findings grouped by layer with the command that made it.
public struct TextReport {
    public var colour: Bool
    public var failOn: Severity

    public init(colour: Bool, failOn: Severity) {
        self.colour = colour
        self.failOn = failOn
    }

    private func paint(_ s: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }

    private func badge(_ s: Severity) -> String {
        let text = s.rawValue.uppercased().padding(toLength: 8, withPad: " ", startingAt: 0)
        switch s {
        case .critical: return paint(text, "1;31")
        case .high: return paint(text, "31")
        case .medium: return paint(text, "33")
        case .low: return paint(text, "36")
        }
    }

    private func secretText(_ f: Finding) -> String {
        safe(f.secret ?? f.redacted) + (f.details.map { "  " + paint("(\(safe($0.summary)))", "2") } ?? "")
            // Only what needs a second look is marked: a prefixed or checksummed token speaks for itself.
            + (f.confidence.flatMap { $0 < .high ? "  " + paint("[\($0.rawValue) confidence]", "2") : nil } ?? "")
            + (f.acceptance.map { "  " + paint("[\(safe($0.summary))]", $0.expired ? "1;33" : "2") } ?? "")
    }

    /// Every string that came from the image or a rules file goes through here: nothing it holds reaches the
    /// terminal as a control sequence.
    private func safe(_ s: String) -> String { TerminalText.escape(s) }

    public func render(_ report: Report) -> String {
        var out = ""
        for image in report.images {
            let width = max(20, image.findings.map { safe($0.ruleID).count }.max() ?? 0)
            let header = [safe(image.reference), image.manifestDigest.map { "manifest \(safe(short($0)))" }, image.platform.map(safe),
                          "\(image.layers.count) layers"].compactMap { $0 }.joined(separator: "  ")
            out += paint(header, "1") + "\n"
            let config = bySeverity(image.findings.filter { $0.source != .file })
            if !config.isEmpty {
                out += "\n" + paint("  config and history", "1") + "\n"
                for f in config {
                    var place = f.source.rawValue
                    if let h = f.historyIndex { place += " #\(h)" }
                    if let k = f.key { place += " \(safe(k))" }
                    out += "    \(badge(f.severity)) \(safe(f.ruleID).padding(toLength: width, withPad: " ", startingAt: 0)) \(place)  \(secretText(f))\n"
                }
            }
            for layer in image.layers {
                let files = bySeverity(image.findings.filter { $0.source == .file && $0.layerIndex == layer.index })
                if files.isEmpty { continue }
                out += "\n" + paint("  layer \(layer.index)", "1") + "  \(layer.digest.map { safe(short($0)) } ?? "")  \(byteCount(layer.size))\n"
                if let c = layer.createdBy { out += paint("    \(truncate(safe(c), 110))", "2") + "\n" }
                // Members of an archive come together under it (the file of the layer), each by its path inside.
                var order: [String] = []
                var members: [String: [Finding]] = [:]
                for f in files {
                    if let outer = f.outerPath, let p = f.path, p.hasPrefix(outer) {
                        if members[outer] == nil { order.append(outer) }
                        members[outer, default: []].append(f)
                    } else {
                        order.append("")
                        members["", default: []].append(f)
                    }
                }
                var loose = 0
                for key in order {
                    if key.isEmpty {
                        let f = members[""]![loose]
                        loose += 1
                        out += "    \(badge(f.severity)) \(safe(f.ruleID).padding(toLength: width, withPad: " ", startingAt: 0)) \(safe(f.path ?? ""))\(f.line.map { ":\($0)" } ?? "")\(fate(f))  \(secretText(f))\n"
                        continue
                    }
                    let group = members[key]!
                    out += "    \(safe(key))\(fate(group[0]))\n"
                    for f in group {
                        let inside = String((f.path ?? "").dropFirst(key.count))
                        out += "      \(badge(f.severity)) \(safe(f.ruleID).padding(toLength: width, withPad: " ", startingAt: 0)) \(safe(inside))\(f.line.map { ":\($0)" } ?? "")  \(secretText(f))\n"
                    }
                }
            }
            // Build-file notes (dir:PATH) have their own heading; every other warning is an archive limit.
            let buildNotes = image.warnings.filter { $0.kind == Report.Warning.buildSecretArg }
            let archiveWarnings = image.warnings.filter { $0.kind != Report.Warning.buildSecretArg }
            if !archiveWarnings.isEmpty {
                out += "\n" + paint("  archives not read in full", "1;33") + "\n"
                for w in archiveWarnings {
                    out += "    \(w.layerIndex.map { "layer \($0)  " } ?? "")\(safe(w.path ?? ""))  \(safe(w.message))\n"
                }
            }
            if !image.accepted.isEmpty {
                out += "\n" + paint("  accepted, not counted (--show-suppressed)", "1") + "\n"
                for f in image.accepted {
                    out += "    \(badge(f.severity)) \(safe(f.ruleID).padding(toLength: width, withPad: " ", startingAt: 0)) \(safe(f.path ?? f.location))  \(secretText(f))\n"
                }
            }
            if !buildNotes.isEmpty {
                out += "\n" + paint("  build arguments named like secrets", "1;33") + "\n"
                for w in buildNotes { out += "    \(safe(w.path ?? ""))  \(safe(w.message))\n" }
            }
            for e in image.errors {
                out += "\n" + paint("  could not read", "1;31") + (e.layerIndex.map { " layer \($0)" } ?? "") + ": \(safe(e.message))\n"
            }
            out += "\n"
        }
        out += whatToDo(report)
        let s = report.summary
        let total = s.critical + s.high + s.medium + s.low
        var stats = "\(s.layers) layers, \(s.files) files, \(byteCount(s.bytes)) in \(String(format: "%.2f", s.seconds)) s"
        if s.suppressed > 0 { stats += "; \(s.suppressed) in allowlisted paths not shown (--no-default-allowlist shows them)" }
        if s.archiveLimits > 0 { stats += "; \(s.archiveLimits) archive limits reached (see the warnings): what they stopped was not scanned" }
        if s.baselined > 0 {
            let shown = report.images.contains { !$0.accepted.isEmpty }
            stats += "; \(s.baselined) accepted (ignore file or baseline) " + (shown ? "listed above, not counted" : "not shown (--show-suppressed shows them)")
        }
        if s.truncated > 0 { stats += "; \(s.truncated) more beyond the per-file and per-image caps not shown (the most severe are)" }
        if s.filtered > 0 { stats += "; \(s.filtered) of other severities not shown (--severity)" }
        if s.belowConfidence > 0 { stats += "; \(s.belowConfidence) of lower confidence not shown (--confidence low shows them)" }
        if report.isIncomplete {
            out += paint("INCOMPLETE", "1;31") + ": the scan could not read everything (see above); \(total) findings so far. \(stats)\n"
        } else if total == 0 && (s.filtered > 0 || s.belowConfidence > 0) {
            out += paint("No findings of the severities asked for.", "1") + " \(stats)\n"
        } else if total == 0 {
            out += paint("No secrets found.", "1;32") + " \(stats)\n"
        } else {
            let parts = [("critical", s.critical), ("high", s.high), ("medium", s.medium), ("low", s.low)].filter { $0.1 > 0 }
                .map { "\($0.1) \($0.0)" }.joined(separator: ", ")
            out += paint("\(total) finding\(total == 1 ? "" : "s")", "1") + ": \(parts). \(stats)\n"
        }
        return out
    }

    /// Most severe first; findings of one severity keep the order of the scan (config order, line order).
    private func bySeverity(_ findings: [Finding]) -> [Finding] {
        findings.enumerated().sorted { ($0.element.severity, $1.offset) > ($1.element.severity, $0.offset) }.map(\.element)
    }

    /// One line per distinct action over every image: rotate each leaked kind of secret where its provider revokes
    /// it (most severe first), then take each place out of the image, then replace the image. Empty without findings.
    func whatToDo(_ report: Report) -> String {
        let findings = bySeverity(report.images.flatMap(\.findings))
        guard !findings.isEmpty else { return "" }
        struct Rotation { var description: String, ruleID: String, rotate: String?, secrets: Set<String> }
        var rotations: [Rotation] = []
        var fixes: [String] = []
        for f in findings {
            let rotate = f.remediation?.rotate
            if let i = rotations.firstIndex(where: { $0.ruleID == f.ruleID && $0.rotate == rotate }) {
                rotations[i].secrets.insert(f.secretSHA256)
            } else {
                rotations.append(Rotation(description: f.description, ruleID: f.ruleID, rotate: rotate, secrets: [f.secretSHA256]))
            }
            if let fix = f.remediation?.fix, !fixes.contains(fix) { fixes.append(fix) }
        }
        var out = paint("What to do", "1") + "\n"
        for r in rotations {
            out += "  " + safe(Remediation.rotateLine(description: r.description, ruleID: r.ruleID, count: r.secrets.count, rotate: r.rotate)) + "\n"
        }
        for fix in fixes { out += "  " + safe(fix) + "\n" }
        out += "  " + Remediation.rebuildLine + "\n\n"
        return out
    }

    /// The status of a file finding (an archive member's is its archive's), or nothing when present.
    private func fate(_ f: Finding) -> String {
        switch f.status {
        case .deleted?: return paint("  [deleted in layer \(f.removedInLayer ?? -1), still in this layer's blob]", "35")
        case .overwritten?: return paint("  [overwritten in layer \(f.removedInLayer ?? -1), still in this layer's blob]", "35")
        default: return ""
        }
    }

    private func short(_ digest: String) -> String {
        guard let colon = digest.firstIndex(of: ":") else { return digest }
        return String(digest[..<colon]) + ":" + digest[digest.index(after: colon)...].prefix(12)
    }

    private func truncate(_ s: String, _ n: Int) -> String {
        let one = s.replacingOccurrences(of: "\n", with: " ")
        return one.count <= n ? one : String(one.prefix(n - 1)) + "…"
    }
}

/// `1.2 MB` style sizes.
public func byteCount(_ n: Int64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"]
    var v = Double(n)
    var u = 0
    while v >= 1000 && u < units.count - 1 { v /= 1000; u += 1 }
    return u == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[u])
}
