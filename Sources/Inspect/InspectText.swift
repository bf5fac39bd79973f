import Foundation
import Reports
import Scan

/// The human output of `layers`, `files` and `trace`: aligned columns, sizes in human units, colour only when
/// asked for (the CLI asks on a terminal without `NO_COLOR`), and every string that came from the image
/// escaped, so a path or a history line cannot write an escape sequence to the terminal or break a row.
public struct InspectText {
    public var colour: Bool

    /// A renderer; `colour` adds ANSI colours (only for a terminal that wants them).
    public init(colour: Bool) {
        self.colour = colour
    }

    // MARK: layers

    /// The layer table with the history entries that made no layer between its rows, then the wasted space.
    public func render(_ r: LayersReport) -> String {
        let header = [safe(r.reference), r.manifestDigest.map { "manifest \(short($0))" }, r.platform.map(safe),
                      "\(r.layers.count) layer\(r.layers.count == 1 ? "" : "s")"].compactMap { $0 }.joined(separator: "  ")
        var out = paint(header, "1") + "\n\n"
        let withFindings = r.layers.contains { $0.findings != nil }
        var table = Table(["LAYER", "DIGEST", "CREATED", "SIZE", "CONTENT", "FILES"] + (withFindings ? ["FINDINGS"] : []) + ["CREATED BY"],
                          right: [0, 3, 4, 5] + (withFindings ? [6] : []))
        var pending = r.emptyLayers[...]
        func emptyRows(before index: Int?) {
            while let h = pending.first, index.map({ h.historyIndex < $0 }) ?? true {
                pending = pending.dropFirst()
                let blank = Array(repeating: Cell(""), count: table.header.count - 1)
                table.rows.append(Row(cells: blank + [Cell(line(h.createdBy))], paint: "2"))
            }
        }
        for l in r.layers {
            if let h = l.historyIndex { emptyRows(before: h) }
            var cells = [Cell("\(l.index)"), Cell(l.digest.map(short) ?? ""), Cell(Self.created(l.created)), Cell(byteCount(l.size)),
                         Cell(byteCount(l.contentSize)), Cell("\(l.files)")]
            if let n = l.findings { cells.append(Cell("\(n)", paint: n > 0 ? "1;31" : nil)) } else if withFindings { cells.append(Cell("")) }
            cells.append(Cell(line(l.createdBy)))
            table.rows.append(Row(cells: cells))
        }
        emptyRows(before: nil)
        out += table.render(self)

        let content = r.layers.reduce(Int64(0)) { $0 + $1.contentSize }
        let shipped = r.layers.reduce(Int64(0)) { $0 + $1.size }
        out += "\nContent: \(byteCount(content)) of files in \(r.layers.count) layer\(r.layers.count == 1 ? "" : "s") "
            + "(\(byteCount(shipped)) as shipped); the scan summary counts the same bytes.\n"
        let e = r.efficiency
        out += paint("Efficiency: " + String(format: "%.1f%%", e.score * 100), "1") + " (dive's score); "
            + "wasted as dive counts it: \(byteCount(e.wastedBytes))"
            + (e.userBytes > 0 ? String(format: ", %.1f%% of the %@ above the base layer", e.userWastedPercent * 100, byteCount(e.userBytes)) : "")
            + (e.pathCount > 0 ? ", in \(e.pathCount) path\(e.pathCount == 1 ? "" : "s") more than one layer holds or removes" : "") + ".\n"
        if let ci = r.ci { out += render(ci) }
        guard r.wasted.bytes > 0 else {
            return out + paint("Wasted: none.", "1") + " No layer deletes or replaces a file of a layer below.\n"
        }
        let share = content > 0 ? String(format: " (%.1f%% of %@ of files)", Double(r.wasted.bytes) * 100 / Double(content), byteCount(content)) : ""
        let count = r.wasted.files.count
        out += paint("Wasted: \(byteCount(r.wasted.bytes))", "1;33") + share + " in \(count) file\(count == 1 ? "" : "s") that a later layer "
            + "deletes or replaces; the bytes still ship in the lower blobs.\n"
        var wasted = Table(["SIZE", "LAYER", "REMOVED IN", "PATH"], right: [0, 1, 2])
        for f in r.wasted.files.prefix(Self.wastedShown) {
            wasted.rows.append(Row(cells: [Cell(byteCount(f.size)), Cell("\(f.layer)"), Cell("\(f.removedInLayer)"), Cell(safe(f.path))]))
        }
        out += wasted.render(self, indent: "  ")
        if count > Self.wastedShown { out += "  … and \(count - Self.wastedShown) more (--format json lists every one)\n" }
        return out
    }

    static let wastedShown = 10

    /// dive's CI verdict: a line per rule, then the result.
    func render(_ ci: LayersReport.CIResult) -> String {
        var out = "\n" + paint("CI rules (dive's):", "1") + "\n"
        var table = Table(["", "RULE", "THRESHOLD", "ACTUAL"], right: [])
        for rule in ci.rules {
            let (word, colour) = rule.status == .passed ? ("PASS", "1;32") : rule.status == .failed ? ("FAIL", "1;31") : ("SKIP", "2")
            table.rows.append(Row(cells: [Cell(word, paint: colour), Cell("--" + rule.rule), Cell(rule.threshold ?? "disabled"), Cell(rule.actual)]))
        }
        out += table.render(self, indent: "  ")
        let failed = ci.rules.filter { $0.status == .failed }.count
        out += (ci.passed ? paint("Result: PASS", "1;32") : paint("Result: FAIL", "1;31"))
            + " (\(failed) of \(ci.rules.count) rules failed, \(ci.rules.filter { $0.status == .skipped }.count) disabled)\n\n"
        return out
    }

    /// A history `created` time as `2024-05-01 12:00` (UTC as the config writes it); anything else as written, cut short.
    static func created(_ text: String?) -> String {
        guard let t = text, !t.isEmpty else { return "" }
        let u = Array(t.utf8)
        if u.count >= 16, u[4] == UInt8(ascii: "-"), u[10] == UInt8(ascii: "T"), u[13] == UInt8(ascii: ":"),
           u.prefix(16).allSatisfy({ $0 < 0x80 }) {
            return String(decoding: u[0..<10], as: UTF8.self) + " " + String(decoding: u[11..<16], as: UTF8.self)
        }
        return String(t.unicodeScalars.filter { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7f }.prefix(16).map(Character.init))
    }

    // MARK: files

    /// The entries with their change, mode, size and layer, and a count by change.
    public func render(_ r: FilesReport) -> String {
        var out = ""
        render(r) { out += $0 }
        return out
    }

    /// The same, a piece at a time: a listing of a million files is never one string.
    public func render(_ r: FilesReport, to emit: (String) throws -> Void) rethrows {
        try emit(paint(safe(r.reference), "1") + "  " + (r.layer.map { "layer \($0)" } ?? "merged filesystem")
            + (r.glob.map { "  paths matching \(safe($0))" } ?? "") + "\n\n")
        let hidden = r.hiddenDeleted ?? 0
        let hiddenNote = hidden == 0 ? "" : "\(hidden) deleted file\(hidden == 1 ? "" : "s")\(r.glob == nil ? "" : " matching") not shown: "
            + "a later layer removed \(hidden == 1 ? "it" : "them") but the bytes still ship in a lower layer's blob (--deleted lists them).\n"
        guard !r.entries.isEmpty else { return try emit("No entries.\n" + hiddenNote) }
        func cells(_ e: FilesReport.Entry) -> [Cell] {
            var path = safe(e.path)
            if let t = e.linkTarget { path += e.type == .hardlink ? "  (hard link to \(safe(t)))" : " -> \(safe(t))" }
            if let gone = e.removedInLayer { path += "  (removed in layer \(gone))" }
            let size = e.type == .file || e.type == .hardlink ? byteCount(e.size) : "-"
            return [Cell(e.change.rawValue, paint: Self.changePaint(e.change)), Cell(Self.lsMode(e.type, UInt32(e.mode, radix: 8) ?? 0)),
                    Cell("\(e.uid):\(e.gid)"), Cell(size), Cell("\(e.layer)"), Cell(path)]
        }
        var table = Table(["CHANGE", "MODE", "UID:GID", "SIZE", "LAYER", "PATH"], right: [3, 4])
        // Widths first (the path, last, pads nothing), then a row at a time.
        for e in r.entries { table.widen(Array(cells(e).dropLast())) }
        try emit(table.line(table.header.map { Cell($0) }, rowPaint: "1", text: self))
        var counts: [Change: Int] = [:]
        for e in r.entries {
            counts[e.change, default: 0] += 1
            try emit(table.line(cells(e), rowPaint: nil, text: self))
        }
        let said = [Change.added, .modified, .deleted].compactMap { c in counts[c].map { "\($0) \(c.rawValue)" } }
        try emit("\n\(r.entries.count) entr\(r.entries.count == 1 ? "y" : "ies"): \(said.joined(separator: ", ")).\n" + hiddenNote)
    }

    // MARK: trace

    /// One row per event, then where the path stands now and which blobs still hold its bytes.
    public func render(_ r: TraceReport) -> String {
        var out = paint(safe(r.path), "1") + " in " + safe(r.reference) + "\n\n"
        let links = r.events.contains { $0.linkTarget != nil }
        let vias = r.events.contains { $0.via != nil }
        var table = Table(["LAYER", "CHANGE", "TYPE", "SIZE"] + (links ? ["TARGET"] : []) + (vias ? ["VIA"] : []) + ["CREATED BY"], right: [0, 3])
        for e in r.events {
            var cells = [Cell("\(e.layer)"), Cell(e.change.rawValue, paint: Self.changePaint(e.change)), Cell(e.type.rawValue),
                         Cell(e.size.map { e.type == .file || e.type == .hardlink ? byteCount($0) : "-" } ?? "")]
            if links { cells.append(Cell(e.linkTarget.map(safe) ?? "")) }
            if vias { cells.append(Cell(e.via.map(safe) ?? "")) }
            cells.append(Cell(line(e.createdBy)))
            table.rows.append(Row(cells: cells))
        }
        out += table.render(self) + "\n"
        guard let last = r.events.last else { return out }
        // Layers whose blob holds bytes of this path that the final filesystem does not show.
        let copies = r.events.filter { $0.type == .file && $0.change != .deleted }.map(\.layer)
        if last.change == .deleted {
            out += paint("Deleted in layer \(last.layer).", "1;35")
            if let holder = copies.last {
                out += " Its bytes are still in the blob of layer\(copies.count == 1 ? "" : "s") \(list(copies)): "
                    + "stowaway cat \(safe(ShellWord.quote(r.image))) \(safe(ShellWord.quote(r.path))) --layer \(holder)\n"
            } else {
                out += "\n"
            }
        } else {
            out += paint("Present", "1") + ", from layer \(last.layer)."
            let earlier = last.type == .file ? copies.dropLast() : copies[...]
            out += earlier.isEmpty ? "\n" : " Earlier versions are still in the blob of layer\(earlier.count == 1 ? "" : "s") \(list(Array(earlier))).\n"
        }
        return out
    }

    // MARK: pieces

    private func paint(_ s: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }

    /// Everything that came from the image goes through here.
    private func safe(_ s: String) -> String { TerminalText.escape(s) }

    /// A history line on one row: escaped (so a newline cannot start another) and cut to a readable length.
    private func line(_ s: String?) -> String {
        let text = safe(s ?? "")
        return text.count <= Self.commandWidth ? text : String(text.prefix(Self.commandWidth - 1)) + "…"
    }

    static let commandWidth = 100

    private func short(_ digest: String) -> String {
        guard let colon = digest.firstIndex(of: ":") else { return safe(digest) }
        return safe(String(digest[..<colon]) + ":" + digest[digest.index(after: colon)...].prefix(12))
    }

    private func list(_ layers: [Int]) -> String { layers.map(String.init).joined(separator: ", ") }

    static func changePaint(_ c: Change) -> String {
        switch c {
        case .added, .reAdded: return "32"
        case .modified: return "33"
        case .deleted: return "31"
        }
    }

    /// `ls -l` style: type, then rwx for owner, group and others with setuid, setgid and sticky.
    static func lsMode(_ type: EntryType, _ mode: UInt32) -> String {
        let kind: Character
        switch type {
        case .dir: kind = "d"
        case .symlink: kind = "l"
        case .file, .hardlink: kind = "-"
        case .other: kind = "?"
        }
        var s = [kind]
        for (shift, special, lower, upper) in [(6, UInt32(0o4000), "s", "S"), (3, UInt32(0o2000), "s", "S"), (0, UInt32(0o1000), "t", "T")] {
            let bits = (mode >> UInt32(shift)) & 7
            s.append(bits & 4 != 0 ? "r" : "-")
            s.append(bits & 2 != 0 ? "w" : "-")
            let x = bits & 1 != 0
            if mode & special != 0 { s.append(Character(x ? lower : upper)) } else { s.append(x ? "x" : "-") }
        }
        return String(s)
    }

    struct Cell {
        var text: String
        var paint: String?

        init(_ text: String, paint: String? = nil) {
            self.text = text
            self.paint = paint
        }
    }

    struct Row {
        var cells: [Cell]
        /// For the whole row (dimmed history entries).
        var paint: String?
    }

    /// Columns sized to their widest cell, two spaces apart; the last column is never padded.
    struct Table {
        var header: [String]
        var right: Set<Int>
        var rows: [Row] = []

        init(_ header: [String], right: [Int]) {
            self.header = header
            self.right = Set(right)
        }

        /// Widths grown to hold `cells` (a row not kept in `rows`).
        mutating func widen(_ cells: [Cell]) {
            if widths.isEmpty { widths = header.map(\.count) }
            for (i, c) in cells.enumerated() where i < widths.count { widths[i] = max(widths[i], c.text.count) }
        }

        private var widths: [Int] = []

        /// One line at the widths seen so far.
        func line(_ all: [Cell], rowPaint: String?, text: InspectText, indent: String = "") -> String {
            let widths = self.widths.isEmpty ? header.map(\.count) : self.widths
            // Empty cells at the end would only be padding.
            var cells = all[...]
            while cells.count > 1, cells.last?.text.isEmpty == true { cells = cells.dropLast() }
            var parts: [String] = []
            for (i, c) in cells.enumerated() {
                let last = i == cells.count - 1
                let pad = String(repeating: " ", count: max(0, (i < widths.count ? widths[i] : 0) - c.text.count))
                let body = c.paint.map { text.paint(c.text, $0) } ?? c.text
                parts.append(right.contains(i) ? pad + body : last ? body : body + pad)
            }
            let line = parts.joined(separator: "  ")
            return indent + (rowPaint.map { text.paint(line, $0) } ?? line) + "\n"
        }

        func render(_ text: InspectText, indent: String = "") -> String {
            var sized = self
            for row in rows { sized.widen(row.cells) }
            return sized.line(header.map { Cell($0) }, rowPaint: "1", text: text, indent: indent)
                + rows.map { sized.line($0.cells, rowPaint: $0.paint, text: text, indent: indent) }.joined()
        }
    }
}
