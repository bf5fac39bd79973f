import Crypto
import Foundation
import Reports
import Scan
import Secrets

/// The morning page: one self-contained HTML file (inline CSS, script and SVG charts, a Content-Security-Policy
/// that forbids every network source) showing a run, the trend of open findings and every finding grouped by
/// app or repository, image and layer. The tables are plain HTML; the script only adds filters and sorting.
/// Every string from an image or a registry is escaped for HTML text or a quoted attribute; secrets appear
/// only as the report's redacted previews.
public enum SweepHTML {
    /// The page for `page`, as UTF-8.
    public static func render(_ page: SweepPage) -> Data {
        var out = ""
        out.reserveCapacity(256 + 160 * (page.report.findings.new.count + page.report.findings.open.count + page.report.findings.resolved.count))
        let r = page.report
        let title = "Stowaway sweep, run \(r.run.id)" + (r.run.name.map { " (\($0))" } ?? "")
        out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        out += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src '\(hash(css))'; "
            + "script-src '\(hash(script))'; img-src 'none'; connect-src 'none'; font-src 'none'; form-action 'none'; base-uri 'none'\">\n"
        out += "<meta name=\"referrer\" content=\"no-referrer\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        out += "<title>\(h(title))</title>\n<style>\(css)</style>\n</head><body>\n"
        out += "<header><h1>\(h(title))</h1><p class=\"sub\">\(r.run.status.rawValue) · page written \(iso(page.generatedAt))</p></header>\n<main>\n"
        summary(r, &out)
        trends(page, &out)
        findings(page, &out)
        out += "</main>\n<footer>Written by stowaway from the sweep store. Secrets are shown redacted only.</footer>\n"
        out += "<script>\(script)</script>\n</body></html>\n"
        return Data(out.utf8)
    }

    // MARK: the run

    static func summary(_ r: SweepReport, _ out: inout String) {
        let seconds = max(0, r.run.finishedAt.timeIntervalSince(r.run.startedAt))
        out += "<section id=\"run\"><h2>The run</h2><div class=\"cards\">\n"
        func card(_ label: String, _ value: String, _ note: String = "", cls: String = "") {
            out += "<div class=\"card\(cls.isEmpty ? "" : " " + cls)\"><div class=\"v\">\(value)</div><div class=\"l\">\(label)</div>"
                + (note.isEmpty ? "" : "<div class=\"n\">\(note)</div>") + "</div>\n"
        }
        card("started (UTC)", h(iso(r.run.startedAt)), "took \(duration(seconds))", cls: "wide")
        card("images scanned", "\(r.images.scanned)", "\(r.images.cached) unchanged, from the store")
        card("images failed", "\(r.images.failed.count)", "", cls: r.images.failed.isEmpty ? "" : "bad")
        card("layers scanned", "\(r.layers.scanned)", "\(r.layers.cached) from the store, \(h(SweepReport.bytes(r.layers.bytesFetched))) fetched")
        card("new findings", "\(r.findings.new.count)", "", cls: r.findings.new.isEmpty ? "" : "bad")
        card("still open", "\(r.findings.open.count)")
        card("resolved", "\(r.findings.resolved.count)", "", cls: r.findings.resolved.isEmpty ? "" : "good")
        out += "</div>\n"
        if let name = r.run.name {
            out += "<p>Shared run <code>\(h(name))</code>" + (r.run.itemsTotal.map { ", \(r.run.itemsDone ?? 0) of \($0) items done" } ?? "") + ".</p>\n"
        }
        if !r.images.failed.isEmpty {
            out += "<h3>Could not be scanned</h3>\n<table class=\"failed\"><thead><tr><th>Image<th>Reason</tr></thead><tbody>\n"
            for f in r.images.failed { out += "<tr><td><code>\(h(f.image))</code><td>\(h(f.error))\n" }
            out += "</tbody></table>\n"
        }
        out += "</section>\n"
    }

    // MARK: trends

    static let palette = 8

    static func trends(_ page: SweepPage, _ out: inout String) {
        out += "<section id=\"trends\"><h2>Open findings over the last \(page.trend.count) run\(page.trend.count == 1 ? "" : "s")</h2><div class=\"charts\">\n"
        let dates = page.trend.map(\.date)
        var series: [(name: String, cls: String, values: [Int], points: Bool)] = [
            ("all", "total", page.trend.map(\.total), true),
        ]
        for s in Severity.allCases.reversed() {
            series.append((s.rawValue, "s-\(s.rawValue)", page.trend.map { $0.bySeverity[s] ?? 0 }, false))
        }
        chart(id: "trend-open", title: "by severity", dates: dates, runs: page.trend.map(\.runID), series: series, &out)
        let latest = page.trend.last?.byGroup ?? [:]
        let everGroups = Set(page.trend.flatMap { $0.byGroup.keys })
        let top = everGroups.sorted { (latest[$0] ?? 0, $1) > (latest[$1] ?? 0, $0) }.prefix(palette)
        let groupSeries = top.enumerated().map { i, g in
            (name: g, cls: "c\(i)", values: page.trend.map { $0.byGroup[g] ?? 0 }, points: false)
        }
        let more = everGroups.count > palette ? " (the \(palette) with most open findings)" : ""
        chart(id: "trend-groups", title: "by registry or Fly app\(more)", dates: dates, runs: page.trend.map(\.runID), series: groupSeries, &out)
        out += "</div></section>\n"
    }

    /// A line chart with the run dates on the x axis; the first series gets a point (with a tooltip) per run.
    static func chart(id: String, title: String, dates: [Date], runs: [Int64],
                      series: [(name: String, cls: String, values: [Int], points: Bool)], _ out: inout String) {
        let w = 560.0, hgt = 200.0, left = 40.0, right = 12.0, top = 12.0, bottom = 28.0
        let n = dates.count
        let maxV = max(1, series.flatMap(\.values).max() ?? 1)
        let step = niceStep(maxV)
        let yMax = Double(((maxV + step - 1) / step) * step)
        func x(_ i: Int) -> Double { n <= 1 ? left + (w - left - right) / 2 : left + Double(i) * (w - left - right) / Double(n - 1) }
        func y(_ v: Int) -> Double { top + (hgt - top - bottom) * (1 - Double(v) / yMax) }
        out += "<figure class=\"chart\"><figcaption>\(h(title))</figcaption>\n"
        out += "<svg id=\"\(id)\" viewBox=\"0 0 \(Int(w)) \(Int(hgt))\" role=\"img\" aria-label=\"\(h(title))\">\n"
        var v = 0
        while Double(v) <= yMax {
            out += "<line class=\"grid\" x1=\"\(f(left))\" x2=\"\(f(w - right))\" y1=\"\(f(y(v)))\" y2=\"\(f(y(v)))\"/>"
                + "<text class=\"ya\" x=\"\(f(left - 6))\" y=\"\(f(y(v) + 4))\">\(v)</text>\n"
            v += step
        }
        let labels = n <= 1 ? [0] : Array(Set((0..<6).map { $0 * (n - 1) / 5 })).sorted()
        for i in labels where i < n {
            let anchor = n > 1 && i == n - 1 ? " end" : n > 1 && i == 0 ? " start" : ""
            out += "<text class=\"xa\(anchor)\" x=\"\(f(x(i)))\" y=\"\(f(hgt - 8))\">\(shortDate(dates[i]))</text>\n"
        }
        for s in series.reversed() {
            let pts = s.values.enumerated().map { "\(f(x($0.offset))),\(f(y($0.element)))" }.joined(separator: " ")
            out += "<polyline class=\"line \(s.cls)\" points=\"\(pts)\"><title>\(h(s.name))</title></polyline>\n"
            if s.points {
                for (i, value) in s.values.enumerated() {
                    out += "<circle class=\"pt \(s.cls)\" data-run=\"\(runs[i])\" cx=\"\(f(x(i)))\" cy=\"\(f(y(value)))\" r=\"3.5\">"
                        + "<title>run \(runs[i]), \(iso(dates[i])): \(value) open</title></circle>\n"
                }
            }
        }
        out += "</svg>\n<ul class=\"legend\">"
        for s in series { out += "<li><span class=\"key \(s.cls)\"></span>\(h(s.name)) <strong>\(s.values.last ?? 0)</strong></li>" }
        out += "</ul></figure>\n"
    }

    static func niceStep(_ maxV: Int) -> Int {
        for s in [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000] where maxV / s <= 5 { return s }
        return max(1, maxV / 5)
    }

    // MARK: findings

    struct Row {
        var f: SweepFinding
        var status: String
    }

    static func findings(_ page: SweepPage, _ out: inout String) {
        let r = page.report
        let rows = r.findings.new.map { Row(f: $0, status: "new") } + r.findings.open.map { Row(f: $0, status: "open") }
            + r.findings.resolved.map { Row(f: $0, status: "resolved") }
        let groups = Dictionary(grouping: rows) { $0.f.app.map { "app \($0)" } ?? $0.f.repository }
        // Worst groups first: by their most severe finding, then by how many they hold.
        let order = groups.keys.sorted {
            let a = groups[$0] ?? [], b = groups[$1] ?? []
            let ra = a.map { $0.f.finding.severity.rank }.max() ?? 0, rb = b.map { $0.f.finding.severity.rank }.max() ?? 0
            return (ra, a.count, $1) > (rb, b.count, $0)
        }
        out += "<section id=\"findings\"><h2>Findings</h2>\n"
        let rules = Set(rows.map(\.f.finding.ruleID)).sorted()
        out += "<form id=\"filters\" hidden><fieldset><legend>Severity</legend>"
        for s in Severity.allCases.reversed() {
            out += "<label><input type=\"checkbox\" name=\"sev\" id=\"f-sev-\(s.rawValue)\" value=\"\(s.rawValue)\" checked> \(s.rawValue)</label>"
        }
        out += "</fieldset><fieldset><legend>Status</legend>"
        for s in ["new", "open", "resolved"] {
            out += "<label><input type=\"checkbox\" name=\"st\" id=\"f-st-\(s)\" value=\"\(s)\" checked> \(s)</label>"
        }
        out += "</fieldset><label>App or repository <select id=\"f-group\"><option value=\"\">all</option>"
        // An option's value is its text; the end tag is implied by the next option.
        for g in order { out += "<option>\(h(g))" }
        out += "</select></label><label>Rule <select id=\"f-rule\"><option value=\"\">all</option>"
        for rule in rules { out += "<option>\(h(rule))" }
        out += "</select></label><output id=\"f-count\">\(rows.count) findings</output></form>\n"
        if rows.isEmpty { out += "<p class=\"none\">No findings in this run.</p>\n" }
        for g in order {
            let list = groups[g] ?? []
            let counts = Severity.allCases.reversed().compactMap { s -> String? in
                let c = list.filter { $0.f.finding.severity == s }.count
                return c == 0 ? nil : "<span class=\"sv \(s.rawValue)\">\(c) \(s.rawValue)</span>"
            }.joined(separator: " ")
            out += "<section class=\"grp\" data-g=\"\(h(g))\"><h3>\(h(g)) \(counts)</h3>\n"
            out += "<table class=\"fnd\"><thead><tr>"
            // Plain headers: the script makes them sort buttons.
            for c in ["Severity", "Status", "Rule", "Layer", "Where", "First seen", "Secret (redacted)", "What it can do"] { out += "<th>\(c)" }
            out += "</tr></thead>\n"
            let images = Dictionary(grouping: list) { $0.f.image }
            for image in images.keys.sorted() {
                let items = (images[image] ?? []).sorted {
                    ($0.f.finding.layerIndex ?? -1, $1.f.finding.severity.rank, SweepReport.place($0.f.finding))
                        < ($1.f.finding.layerIndex ?? -1, $0.f.finding.severity.rank, SweepReport.place($1.f.finding))
                }
                let digest = items.first?.f.manifestDigest.map { " <small>@\(h(String($0.dropFirst(7).prefix(12))))</small>" } ?? ""
                var machines = ""
                if let m = items.first?.f.machines, !m.isEmpty { machines = " <small>machines \(h(m.joined(separator: ", ")))</small>" }
                out += "<tbody><tr class=img><th colspan=8>\(h(image))\(digest)\(machines)\n"
                for row in items { findingRow(row, page, &out) }
                out += "</tbody>\n"
            }
            out += "</table></section>\n"
        }
        out += "</section>\n"
    }

    static func findingRow(_ row: Row, _ page: SweepPage, _ out: inout String) {
        let f = row.f.finding
        let sev = f.severity.rawValue
        // Kept short (10,000 rows stay under 2 MB): fixed keywords unquoted, cells and rows closed by the parser.
        out += "<tr class=\"f \(sev.prefix(1)) \(row.status.prefix(1))\"><td>\(sev)<td>\(row.status)<td>\(h(f.ruleID))<td>\(f.layerIndex.map(String.init) ?? "")<td>" + h(where_(f))
        out += "<td>\(page.firstSeen[row.f.key].map(dateOnly) ?? "")<td>\(h(f.redacted))<td>"
        if let d = f.details { out += h(d.summary) }
        out += "\n"
    }

    /// Where, for people: the path with its line and whether a later layer deleted it, or the config entry.
    static func where_(_ f: Finding) -> String {
        switch f.source {
        case .file:
            var s = (f.path ?? "?") + (f.line.map { ":\($0)" } ?? "")
            if let st = f.status, st != .present { s += " (\(st.rawValue))" }
            return s
        default:
            return f.source.rawValue + (f.key.map { " \($0)" } ?? "") + (f.historyIndex.map { " (history \($0))" } ?? "")
        }
    }

    // MARK: escaping and formatting

    /// `s` for HTML text or a double-quoted attribute: markup characters as references, and control characters
    /// (which HTML cannot carry and a terminal would obey if the page were `cat`) as visible escapes.
    public static func h(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in TerminalText.escape(s).unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    static func hash(_ s: String) -> String {
        "sha256-" + Data(SHA256.hash(data: Data(s.utf8))).base64EncodedString()
    }

    static func f(_ d: Double) -> String { String(format: "%.1f", d) }

    static func iso(_ d: Date) -> String { d.formatted(Date.ISO8601FormatStyle()) }

    static func dateOnly(_ d: Date) -> String { String(iso(d).prefix(10)) }

    static func shortDate(_ d: Date) -> String {
        let day = dateOnly(d)
        return String(day.dropFirst(5))
    }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        if t < 60 { return "\(t) s" }
        if t < 3600 { return "\(t / 60) min \(t % 60) s" }
        return "\(t / 3600) h \(t / 60 % 60) min"
    }
}
