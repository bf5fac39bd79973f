import Foundation
import Secrets

/// `sweep report --format prometheus`: the node_exporter textfile-collector format (write it to a `.prom` file
/// in the collector's directory). Label values from a registry or an image are escaped as the format asks.
public enum SweepPrometheus {
    /// The metrics of `page`'s run: open findings by registry, Fly app and severity, images failed, the run's
    /// duration and the end of the last complete run.
    public static func render(_ page: SweepPage) -> Data {
        let r = page.report
        var out = ""
        out += "# HELP stowaway_sweep_open_findings Findings open after the run, by registry host, Fly app (empty for a registry) and severity.\n"
        out += "# TYPE stowaway_sweep_open_findings gauge\n"
        var open: [String: [Severity: Int]] = [:]
        for f in r.findings.new + r.findings.open {
            open[SweepPage.group(of: f), default: [:]][f.finding.severity, default: 0] += 1
        }
        // Open findings of repositories the run did not cover still count: take the trend's last point when it
        // is this run (it holds every finding not resolved).
        if let last = page.trend.last, last.runID == r.run.id {
            open = [:]
            for f in page.openFindings { open[SweepPage.group(of: f), default: [:]][f.finding.severity, default: 0] += 1 }
        }
        for g in open.keys.sorted() {
            let (registry, app) = g.hasPrefix("app ") ? ("registry.fly.io", String(g.dropFirst(4))) : (g, "")
            for s in Severity.allCases.reversed() {
                out += "stowaway_sweep_open_findings{registry=\"\(label(registry))\",app=\"\(label(app))\",severity=\"\(s.rawValue)\"} \(open[g]?[s] ?? 0)\n"
            }
        }
        out += "# HELP stowaway_sweep_findings_new Findings new in the run.\n# TYPE stowaway_sweep_findings_new gauge\n"
        out += "stowaway_sweep_findings_new \(r.findings.new.count)\n"
        out += "# HELP stowaway_sweep_findings_resolved Findings resolved in the run.\n# TYPE stowaway_sweep_findings_resolved gauge\n"
        out += "stowaway_sweep_findings_resolved \(r.findings.resolved.count)\n"
        out += "# HELP stowaway_sweep_findings_accepted Findings seen in the run that an acceptance in force covers (not open).\n"
            + "# TYPE stowaway_sweep_findings_accepted gauge\n"
        out += "stowaway_sweep_findings_accepted \(r.findings.accepted.count)\n"
        out += "# HELP stowaway_sweep_images_scanned Images the run covered, from the store or not.\n# TYPE stowaway_sweep_images_scanned gauge\n"
        out += "stowaway_sweep_images_scanned \(r.images.scanned)\n"
        out += "# HELP stowaway_sweep_images_failed Images (and listings) the run could not read.\n# TYPE stowaway_sweep_images_failed gauge\n"
        out += "stowaway_sweep_images_failed \(r.images.failed.count)\n"
        out += "# HELP stowaway_sweep_run_duration_seconds How long the run took.\n# TYPE stowaway_sweep_run_duration_seconds gauge\n"
        out += "stowaway_sweep_run_duration_seconds \(String(format: "%.3f", max(0, r.run.finishedAt.timeIntervalSince(r.run.startedAt))))\n"
        out += "# HELP stowaway_sweep_run_id The run these metrics describe.\n# TYPE stowaway_sweep_run_id gauge\n"
        out += "stowaway_sweep_run_id \(r.run.id)\n"
        if let t = page.lastSuccess {
            out += "# HELP stowaway_sweep_last_success_timestamp_seconds When the last complete run ended (Unix time).\n"
            out += "# TYPE stowaway_sweep_last_success_timestamp_seconds gauge\n"
            out += "stowaway_sweep_last_success_timestamp_seconds \(String(format: "%.3f", t.timeIntervalSince1970))\n"
        }
        return Data(out.utf8)
    }

    /// A label value: backslash, double quote and newline escaped; other control characters made visible.
    static func label(_ s: String) -> String {
        var out = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default:
                if ch.value < 0x20 || ch.value == 0x7f { out += "\\\\x" + String(ch.value, radix: 16) } else { out.unicodeScalars.append(ch) }
            }
        }
        return out
    }
}
