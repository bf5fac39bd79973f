import Foundation

/// A `.stowawayignore` file: one accepted secret a line, edited by hand or by `stowaway ignore add`.
///
///     # comments start with #, outside quotes
///     3f2a…c9
///     3f2a…c9  until=2027-01-31  image="registry.example.com/team/*"  path="/app/tests/*"  reason="test fixture, revoked"
///
/// A line is the fingerprint (the finding's `secretSHA256`, 64 hex digits, `sha256:` prefix allowed) then
/// `key=value` fields in any order: `reason`, `until` (a UTC day, the last one the entry holds), `image` and
/// `path` (globs: `*` any run of characters, slashes included; `?` one character). A value is a bare word or
/// double-quoted with `\"` and `\\` escapes. The hash alone (the first form of the file) accepts the secret
/// everywhere, for good, without a reason. Any other line is an error naming `FILE:LINE`.
public struct IgnoreFile: Sendable {
    /// The largest file read (an ignore file lists accepted secrets, not data).
    public static let maxBytes = 1 << 20
    /// The longest reason (a sentence, not a document).
    public static let maxReason = 500
    /// How the default file is named in the working directory.
    public static let defaultName = ".stowawayignore"

    public var path: String
    public var entries: [TriageEntry]

    /// Reads and checks the file; throws `BaselineError` naming `PATH:LINE` and what is wrong there.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BaselineError(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot read it" : "no such file")
        }
        guard data.count <= Self.maxBytes else { throw BaselineError(path: path, reason: "larger than 1 MiB: not an ignore file") }
        guard let text = String(data: data, encoding: .utf8) else { throw BaselineError(path: path, reason: "not UTF-8 text") }
        try self.init(text: text, path: path)
    }

    /// Parses `text` as if read from `path`.
    public init(text: String, path: String) throws {
        self.path = path
        entries = []
        // `\r\n` is one Character in Swift: splitting on newlines (not on "\n") reads files written on Windows too.
        for (n, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            do {
                if let e = try Self.entry(String(raw), origin: "\(path):\(n + 1)") { entries.append(e) }
            } catch let reason as LineError {
                throw BaselineError(path: "\(path):\(n + 1)", reason: reason.text)
            }
        }
    }

    /// What is wrong with one line or value (the caller names the file and line).
    public struct LineError: Error, CustomStringConvertible {
        public var text: String
        public var description: String { text }
    }

    /// The entry of one line, nil for a blank or comment line.
    static func entry(_ raw: String, origin: String) throws -> TriageEntry? {
        let words = try tokens(raw)
        guard let first = words.first else { return nil }
        guard let fingerprint = TriageEntry.fingerprint(first) else {
            throw LineError(text: "expected a fingerprint (the finding's secretSHA256, 64 hex digits) first, not '\(Self.show(first))'")
        }
        var e = TriageEntry(fingerprint: fingerprint, reason: "", origin: origin)
        var seen = Set<String>()
        for word in words.dropFirst() {
            guard let eq = word.firstIndex(of: "=") else {
                throw LineError(text: "expected key=value (reason, until, image, path), not '\(Self.show(word))'")
            }
            let key = String(word[..<eq]), value = String(word[word.index(after: eq)...])
            guard seen.insert(key).inserted else { throw LineError(text: "\(Self.show(key)) given twice") }
            switch key {
            case "reason":
                e.reason = try checkedReason(value)
            case "until":
                guard let d = Day(value) else { throw LineError(text: "until=\(Self.show(value)) is not a day as YYYY-MM-DD") }
                e.until = d
            case "image", "path":
                guard let g = try? Glob(value) else { throw LineError(text: "\(key)= must be a glob of 1 to 512 characters") }
                if key == "image" { e.image = g } else { e.path = g }
            default:
                throw LineError(text: "unknown key '\(Self.show(key))' (expected reason, until, image or path)")
            }
        }
        return e
    }

    /// A reason as it may be stored: one line of printable text, at most `maxReason` characters.
    public static func checkedReason(_ text: String) throws -> String {
        let r = text.trimmingCharacters(in: .whitespaces)
        guard r.count <= maxReason else { throw LineError(text: "the reason is longer than \(maxReason) characters") }
        guard !r.unicodeScalars.contains(where: TerminalText.needsEscape) else {
            throw LineError(text: "the reason holds a control character")
        }
        return r
    }

    /// The line's words: whitespace separates, `"…"` quotes (inside a word: `reason="a b"`), `#` outside quotes
    /// ends the line.
    static func tokens(_ line: String) throws -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quoted = false
        var escaped = false
        for c in line {
            if quoted {
                if escaped {
                    guard c == "\"" || c == "\\" else { throw LineError(text: "only \\\" and \\\\ may be escaped inside quotes") }
                    word.append(c)
                    escaped = false
                } else if c == "\\" {
                    escaped = true
                } else if c == "\"" {
                    quoted = false
                } else {
                    word.append(c)
                }
                continue
            }
            if c == "#" { break }
            if c == " " || c == "\t" {
                if inWord { words.append(word) }
                word = ""
                inWord = false
            } else if c == "\"" {
                quoted = true
                inWord = true
            } else {
                guard !c.unicodeScalars.contains(where: TerminalText.needsEscape) else { throw LineError(text: "a control character") }
                word.append(c)
                inWord = true
            }
        }
        if quoted { throw LineError(text: "a quote is not closed") }
        if inWord { words.append(word) }
        return words
    }

    /// The line `ignore add` appends for an entry (every string quoted, so any reason reads back as written).
    public static func line(_ e: TriageEntry) -> String {
        func quote(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        var fields = [e.fingerprint]
        if let u = e.until { fields.append("until=\(u)") }
        if let i = e.image { fields.append("image=\(quote(i.pattern))") }
        if let p = e.path { fields.append("path=\(quote(p.pattern))") }
        fields.append("reason=\(quote(e.reason))")
        return fields.joined(separator: "  ")
    }

    /// Appends `entry` to the file at `path` (created when missing) after checking that what is there reads;
    /// throws `BaselineError` naming the file.
    public static func append(_ entry: TriageEntry, to path: String) throws {
        var existing = ""
        if FileManager.default.fileExists(atPath: path) {
            _ = try IgnoreFile(path: path)
            existing = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        }
        let text = (existing.isEmpty || existing.hasSuffix("\n") ? "" : "\n") + line(entry) + "\n"
        do {
            if existing.isEmpty && !FileManager.default.fileExists(atPath: path) {
                try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            } else {
                let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                defer { try? h.close() }
                try h.seekToEnd()
                try h.write(contentsOf: Data(text.utf8))
            }
        } catch {
            throw BaselineError(path: path, reason: "cannot write it (\((error as NSError).localizedDescription))")
        }
    }

    /// At most 80 characters of what was there, escaped for a terminal.
    static func show(_ s: String) -> String {
        let e = TerminalText.escape(s)
        return e.count <= 80 ? e : String(e.prefix(79)) + "…"
    }
}
