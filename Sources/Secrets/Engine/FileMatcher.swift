import CVectorscan

/// A secret found in one document (a file, a config value, a history entry).
public struct RawHit: Sendable, Equatable {
    public var ruleIndex: Int
    public var secret: [UInt8]
    /// Byte offset of the secret in the document.
    public var start: Int64
    /// 1-based line of the secret's first byte.
    public var line: Int
    /// Whether the document is binary (a NUL in its first kilobyte; see `Rule.binaryCap`).
    public var binary: Bool = false
    /// Whether the secret stands on a comment line (`#`, `//`, `/*`, `*`, `--`, `;`, `<!--`, `REM`): documentation
    /// or a disabled setting, which lowers the finding's confidence one step (`Confidence.lowered`).
    public var comment: Bool = false

    public var end: Int64 { start + Int64(secret.count) }
}

/// Scans one document at a time as a stream of chunks: Vectorscan finds candidate match ends across chunk
/// boundaries, and PCRE2 confirms each candidate and extracts the secret from a bounded window of recent
/// bytes. Memory is bounded by the buffer, whatever the document size. Not thread-safe: one per thread.
///
/// Limits, so that hostile documents cost time linear in their size and bounded memory:
/// - a secret is at most `maxSecretLength` bytes: a candidate still open that far past its start (an endless
///   token, a line of megabytes) is not extracted rather than reported cut short;
/// - at most `maxHits` secrets are kept per document, the most severe first; the others are counted in
///   `truncated`.
public final class FileMatcher {
    public let engine: MatchEngine
    private let scratch: VectorscanScratch
    private let matchData = PCRE2MatchData()
    /// One stream per database: the engine's, and its binary documents' (see `MatchEngine.binaryDatabase`).
    private var streams: [OpaquePointer?] = [nil, nil]
    /// Per stream: whether it has seen bytes since it was opened or reset.
    private var streamUsed = [false, false]
    /// The stream of the current document, chosen once its first `binaryProbe` bytes are in (or it ends shorter):
    /// nil until then.
    private var active: Int?

    /// Bytes kept before the newest data so a secret that straddles chunks can be extracted.
    static let keep = 64 * 1024
    /// Bytes after a candidate's last match end that PCRE2 may look at (trailing context).
    static let lookAhead = 64
    /// A candidate region longer than this is confirmed early rather than kept growing.
    static let maxRegion = 48 * 1024
    /// Bytes before a window that lookbehinds may see (never part of a secret).
    static let context = 256
    /// The longest secret the matcher extracts (the per-line limit of the window logic).
    public static let maxSecretLength = 64 * 1024
    /// Candidates longer than `maxSecretLength` one region may give up on before the rest of it is skipped.
    static let maxOverlongCandidates = 16
    /// Granularity of the line index.
    static let lineBlock = 1024
    /// Preferred chunk size for callers that fill the buffer directly.
    public static let chunkSize = 256 * 1024
    /// Bytes at the start of a document in which a NUL makes it binary.
    static let binaryProbe = 1024
    /// Whether the current document is binary (see `binaryProbe`).
    private var binaryDocument = false
    /// Secrets kept per document unless `maxHits` says otherwise.
    public static let defaultMaxHits = 1000

    /// Secrets kept per document; more are counted in `truncated`.
    public var maxHits = FileMatcher.defaultMaxHits
    /// Secrets of the last document left out because of `maxHits`.
    public private(set) var truncated = 0

    /// Work done since the matcher was made, for the benchmark: what PCRE2 was asked to confirm.
    public struct Counters: Sendable {
        /// Candidate regions confirmed with PCRE2.
        public var regions = 0
        /// Bytes of the windows those regions gave PCRE2.
        public var windowBytes = 0
    }
    public private(set) var counters = Counters()

    private let capacity = FileMatcher.keep + 4 * FileMatcher.chunkSize
    private let buffer: UnsafeMutableRawPointer
    /// Absolute document offset of `buffer[0]`; always a multiple of `lineBlock`.
    private var bufferStart: Int64 = 0
    private var count = 0
    /// Newlines in the document before `bufferStart + count`.
    private var newlines = 0
    /// `blockLines[k]`: newlines in the document before `bufferStart + k * lineBlock`.
    private var blockLines: [Int] = [0]

    private struct Region {
        var rule: Int
        var first: Int64
        var last: Int64
        /// Where to search again: a possible secret started here but reached the end of the data so far.
        var resume: Int64?
    }
    private var regions: [Region] = []
    /// Per rule: the index in `regions` of its newest region, or -1.
    private var openRegion: [Int]
    /// Per rule: the end of the last secret reported, so overlapping windows report it once.
    private var lastEmittedEnd: [Int64]
    /// The rules whose `lastEmittedEnd` is set in this document.
    private var emittedRules: [Int] = []
    /// Confirmed secrets that a later, longer secret may still contain.
    private var pending: [RawHit] = []
    /// Secrets settled for good (at most `maxHits`).
    private var settled: [RawHit] = []
    /// How many of `settled` are at each severity rank.
    private var settledPerRank = [0, 0, 0, 0]
    /// The furthest end of a settled secret: a later secret ending at or before it lies inside it.
    private var settledMaxEnd: Int64 = -1
    private var failure: Error?
    /// Per rule: its compiled regex once this matcher (or the engine) compiled it.
    private var regexes: [PCRE2Regex?]
    /// Per rule: whether `regexes` is final (compiled, or the rule has no regex).
    private var regexTried: [Bool]

    init(engine: MatchEngine) throws {
        self.engine = engine
        scratch = try VectorscanScratch(database: engine.database)
        if let binary = engine.binaryDatabase { try scratch.fit(binary) }
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        openRegion = Array(repeating: -1, count: engine.rules.count)
        lastEmittedEnd = Array(repeating: -1, count: engine.rules.count)
        regexes = engine.regexes
        regexTried = engine.regexes.map { $0 != nil }
    }

    /// Rule `rule`'s regex: the engine's, or compiled by this matcher the first time the rule has a candidate.
    private func regex(for rule: Int) throws -> PCRE2Regex? {
        if let r = regexes[rule] { return r }
        if regexTried[rule] { return nil }
        regexTried[rule] = true
        regexes[rule] = try engine.makeRegex(rule)
        return regexes[rule]
    }

    deinit {
        for case let s? in streams { hs_close_stream(s, scratch.handle, nil, nil) }
        buffer.deallocate()
    }

    private var documentEnd: Int64 { bufferStart + Int64(count) }

    /// Starts a new document.
    public func begin() throws {
        for i in streams.indices where streamUsed[i] {
            // Reused rather than reopened: a layer of a million empty files costs no allocation per file.
            let rc = hs_reset_stream(streams[i], 0, scratch.handle, nil, nil)
            guard rc == HS_SUCCESS else { throw SecretsError.vectorscan(call: "hs_reset_stream", code: rc) }
            streamUsed[i] = false
        }
        active = nil
        bufferStart = 0
        count = 0
        newlines = 0
        blockLines.removeAll(keepingCapacity: true)
        blockLines.append(0)
        for r in regions { openRegion[r.rule] = -1 }
        regions.removeAll(keepingCapacity: true)
        // Only the rules that emitted: a document costs nothing per rule of the catalogue.
        for i in emittedRules { lastEmittedEnd[i] = -1 }
        emittedRules.removeAll(keepingCapacity: true)
        pending.removeAll(keepingCapacity: true)
        settled.removeAll(keepingCapacity: true)
        settledPerRank = [0, 0, 0, 0]
        settledMaxEnd = -1
        truncated = 0
        failure = nil
        binaryDocument = false
    }

    /// Space at the end of the buffer for up to `chunkSize` new bytes; fill it and call `commit`.
    public func writableSpace() throws -> UnsafeMutableRawBufferPointer {
        if capacity - count < FileMatcher.chunkSize { try compact() }
        return UnsafeMutableRawBufferPointer(start: buffer + count, count: min(FileMatcher.chunkSize, capacity - count))
    }

    /// Scans `n` bytes just written into `writableSpace()`.
    public func commit(_ n: Int) throws {
        guard n > 0 else { return }
        if bufferStart == 0 && count < FileMatcher.binaryProbe {
            // A NUL in the first kilobyte: executables, bytecode, archives, images (see `Rule.textOnly`).
            let probe = UnsafeRawBufferPointer(start: buffer + count, count: min(n, FileMatcher.binaryProbe - count))
            if probe.contains(0) { binaryDocument = true }
        }
        indexLines(from: count, to: count + n)
        count += n
        if active == nil {
            // Which database reads the document is known once its first kilobyte is in (or at its end).
            guard count >= FileMatcher.binaryProbe else { return }
            try startStream()
        } else {
            try scanStream(from: count - n)
        }
    }

    /// Chooses the current document's stream (its database: binary or not) and scans what the buffer holds.
    private func startStream() throws {
        let i = binaryDocument && engine.binaryDatabase != nil ? 1 : 0
        if streams[i] == nil {
            var s: OpaquePointer?
            let rc = hs_open_stream((i == 1 ? engine.binaryDatabase! : engine.database).handle, 0, &s)
            guard rc == HS_SUCCESS else { throw SecretsError.vectorscan(call: "hs_open_stream", code: rc) }
            streams[i] = s
        }
        active = i
        // Nothing was scanned yet, so nothing was dropped from the buffer: it starts at the document's start.
        try scanStream(from: 0)
    }

    /// Scans buffer bytes `from..<count` into the current document's stream, then confirms what is settled.
    private func scanStream(from: Int) throws {
        guard let i = active, count > from else { return }
        streamUsed[i] = true
        let ctx = Unmanaged.passUnretained(self).toOpaque()
        // Safe: `from..<count` are bytes written into the buffer, read by Vectorscan during this call only.
        let rc = hs_scan_stream(streams[i], (buffer + from).assumingMemoryBound(to: CChar.self), UInt32(count - from), 0,
                                scratch.handle, onMatch, ctx)
        guard rc == HS_SUCCESS else { throw SecretsError.vectorscan(call: "hs_scan_stream", code: rc) }
        if let failure { throw failure }
        try confirmSettled(final: false)
    }

    /// Copies and scans `bytes`.
    public func feed(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let space = try writableSpace()
            let n = min(space.count, bytes.count - offset)
            space.baseAddress!.copyMemory(from: bytes.baseAddress! + offset, byteCount: n)
            try commit(n)
            offset += n
        }
    }

    /// Ends the document and returns its secrets in document order, a secret inside a longer one of another
    /// rule dropped, at most `maxHits` of them (the most severe kept; see `truncated`).
    public func end() throws -> [RawHit] {
        if active == nil && count > 0 { try startStream() }
        if let i = active, let s = streams[i], streamUsed[i] {
            let ctx = Unmanaged.passUnretained(self).toOpaque()
            // Reports end-of-data matches and leaves the stream ready for the next document.
            let rc = hs_reset_stream(s, 0, scratch.handle, onMatch, ctx)
            streamUsed[i] = false
            guard rc == HS_SUCCESS else {
                hs_close_stream(s, scratch.handle, nil, nil)
                streams[i] = nil
                throw SecretsError.vectorscan(call: "hs_reset_stream", code: rc)
            }
        }
        if let failure { throw failure }
        try confirmSettled(final: true)
        settle(all: true)
        settled.sort { $0.start != $1.start ? $0.start < $1.start : $0.ruleIndex < $1.ruleIndex }
        return settled
    }

    /// Scans one small document held in memory.
    public func scan(_ text: String) throws -> [RawHit] {
        try begin()
        var bytes = Array(text.utf8)
        try bytes.withUnsafeMutableBytes { try feed(UnsafeRawBufferPointer($0)) }
        return try end()
    }

    fileprivate func record(rule: Int, end: Int64) {
        guard rule < openRegion.count else { return }
        let i = openRegion[rule]
        if i >= 0, end - regions[i].last <= engine.lookBehinds[rule] {
            regions[i].last = max(regions[i].last, end)
            return
        }
        openRegion[rule] = regions.count
        regions.append(Region(rule: rule, first: end, last: end))
    }

    private func confirmSettled(final: Bool) throws {
        guard !regions.isEmpty else { return }
        var remaining: [Region] = []
        for r in regions {
            openRegion[r.rule] = -1
            if final || r.resume != nil || r.last + Int64(FileMatcher.lookAhead) <= documentEnd
                || r.last - r.first > Int64(FileMatcher.maxRegion) {
                if let open = try confirm(r, final: final) { remaining.append(open) }
            } else {
                remaining.append(r)
            }
        }
        regions = remaining
        for (i, r) in regions.enumerated() { openRegion[r.rule] = i }
    }

    /// Runs the rule's regex over the region's window. Returns the region again, to resume where a possible
    /// secret reaches the end of the data so far, or nil when it is done.
    private func confirm(_ r: Region, final: Bool) throws -> Region? {
        guard let regex = try regex(for: r.rule) else { return nil }
        let group = engine.secretGroups[r.rule]
        let ruleID = engine.rules[r.rule].id
        var from = max(bufferStart, r.resume ?? (r.first - engine.lookBehinds[r.rule]))
        if r.resume == nil, let span = engine.lineSpans[r.rule] { from = lineStart(above: r.first, lines: span, floor: from) }
        let windowEnd = min(documentEnd, r.last + Int64(FileMatcher.lookAhead))
        guard windowEnd > from else { return nil }
        counters.regions += 1
        counters.windowBytes += Int(windowEnd - from)
        let base = max(bufferStart, from - Int64(FileMatcher.context))
        func subject(to end: Int64) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: buffer + Int(base - bufferStart), count: Int(end - base))
        }
        var pos = from
        var overlong = 0
        while pos <= windowEnd {
            let outcome = try regex.next(in: subject(to: windowEnd), from: Int(pos - base), group: group,
                                         partial: !(final && windowEnd == documentEnd), data: matchData, ruleID: ruleID)
            switch outcome {
            case .none:
                return nil
            case .match(let whole, let secret):
                pos = take(r.rule, whole: whole, secret: secret, base: base, windowEnd: windowEnd)
            case .partial(let p):
                // Whether a secret starts at `start` is decided on more bytes, never on a window cut short.
                let start = base + Int64(p)
                var end = windowEnd
                var decided = false
                while !decided {
                    let limit = start + Int64(FileMatcher.maxSecretLength)
                    if end >= documentEnd && !final {
                        if documentEnd < limit {
                            return Region(rule: r.rule, first: r.first, last: max(r.last, windowEnd), resume: start)
                        }
                    }
                    if end >= limit || (end >= documentEnd && !final) {
                        // Longer than any secret: not one. A run of such candidates ends the region's search.
                        overlong += 1
                        if overlong >= FileMatcher.maxOverlongCandidates { return nil }
                        pos = start + 1
                        break
                    }
                    end = min(documentEnd, limit, end + max(end - start, Int64(FileMatcher.lookAhead)))
                    let retry = try regex.next(in: subject(to: end), from: Int(start - base), group: group,
                                               partial: !(final && end == documentEnd), anchored: true, data: matchData, ruleID: ruleID)
                    switch retry {
                    case .partial:
                        continue
                    case .none:
                        pos = start + 1
                    case .match(let whole, let secret):
                        pos = take(r.rule, whole: whole, secret: secret, base: base, windowEnd: end)
                    }
                    decided = true
                }
            }
        }
        return nil
    }

    /// Takes rule `rule`'s match (offsets from `base`): emits its secret unless the rule's `nameLead` refuses it, and
    /// returns where the search goes on.
    private func take(_ rule: Int, whole: Range<Int>, secret: Range<Int>?, base: Int64, windowEnd: Int64) -> Int64 {
        guard leadAllows(rule, at: base + Int64(whole.lowerBound), windowEnd: windowEnd) else {
            // A later name of the same identifier is judged by the same lead; another identifier may pass.
            return base + Int64(whole.lowerBound) + 1
        }
        if let secret { emit(rule: rule, from: base + Int64(secret.lowerBound), to: base + Int64(secret.upperBound)) }
        return base + Int64(whole.isEmpty ? whole.lowerBound + 1 : whole.upperBound)
    }

    /// Whether rule `rule`'s match starting at document offset `start` has an allowed lead (see `NameLead`); true
    /// for a rule without one.
    private func leadAllows(_ rule: Int, at start: Int64, windowEnd: Int64) -> Bool {
        guard let lead = engine.nameLeads[rule] else { return true }
        // Safe: `bufferStart..<windowEnd` are written bytes of the buffer (`windowEnd` is not past `documentEnd`),
        // and the view does not outlive this call.
        let bytes = UnsafeRawBufferPointer(start: buffer, count: Int(windowEnd - bufferStart))
        return lead.allows(bytes, name: Int(start - bufferStart))
    }

    /// The start of the line `lines` lines holding more than blanks above the line of the byte before `end` (a
    /// match's end), or `floor` if that line starts before it. Reads only `floor..<end`, bytes of the buffer.
    private func lineStart(above end: Int64, lines: Int, floor: Int64) -> Int64 {
        // Safe: every offset read lies in `floor..<end`, and `floor` is not before `bufferStart` nor `end` past
        // `documentEnd`: written bytes of the buffer.
        func byte(_ at: Int64) -> UInt8 { buffer.load(fromByteOffset: Int(at - bufferStart), as: UInt8.self) }
        var p = end - 1
        guard p > floor else { return floor }
        while p > floor && byte(p - 1) != 0x0A { p -= 1 }
        var found = 0
        while found < lines {
            guard p > floor else { return floor }
            // `p` starts a line and `p - 1` is its newline: walk the line above back to its start.
            var q = p - 1
            var content = false
            while q > floor && byte(q - 1) != 0x0A {
                q -= 1
                let b = byte(q)
                if b != 0x20 && b != 0x09 && b != 0x0D { content = true }
            }
            p = q
            if content { found += 1 }
        }
        return p
    }

    private func emit(rule: Int, from start: Int64, to end: Int64) {
        if start < lastEmittedEnd[rule] { return }
        if binaryDocument && engine.textOnly[rule] { return }
        if lastEmittedEnd[rule] < 0 { emittedRules.append(rule) }
        lastEmittedEnd[rule] = end
        let secret = Array(UnsafeRawBufferPointer(start: buffer + Int(start - bufferStart), count: Int(end - start)))
        if engine.isAllowed(secret, rule: rule, data: matchData) { return }
        var reported = rule
        if engine.judgesValue[rule] {
            // A value the generic rules judge that opens a quote must end at it (or at a `\` of escaped JSON), blanks
            // aside: one cut short by a character outside the token alphabet (`"ab12&cd$"`, `"ab12- cd"`) is no token.
            // Safe: every offset read lies in `bufferStart..<documentEnd`, the buffer's written bytes.
            if start > bufferStart && end < documentEnd {
                let open = buffer.load(fromByteOffset: Int(start - 1 - bufferStart), as: UInt8.self)
                if open == 0x22 || open == 0x27 || open == 0x60 {
                    // Blanks before the closing quote are a copy-paste slip, not another word.
                    var at = end
                    var close = buffer.load(fromByteOffset: Int(at - bufferStart), as: UInt8.self)
                    while (close == 0x20 || close == 0x09 || close == 0x0D) && at < documentEnd - 1 && at < end + 4 {
                        at += 1
                        close = buffer.load(fromByteOffset: Int(at - bufferStart), as: UInt8.self)
                    }
                    if close != open && close != 0x5C { return }
                }
            }
            // Safe: `from..<start` lies inside the buffer's written bytes (`start` is the secret just read from it,
            // `from` not before `bufferStart`), and the bytes are copied out before the view goes away.
            let from = max(bufferStart, start - Int64(FileMatcher.context))
            let before = Array(UnsafeRawBufferPointer(start: buffer + Int(from - bufferStart), count: Int(start - from)))
            // A value that repeats the name given it, or a badge image's query token: code or published, not a secret.
            if ValueContext.rulesOut(secret, line: before[((before.lastIndex(of: 0x0A) ?? -1) + 1)...]) { return }
            // A provider named there whose token shape the value fits reports it, as its own rule would had name and
            // value shared a line, unless that rule's filters turn it away. Then the generic rule judges it, but not a
            // number: digits alone in a format that also has letters (32 hex characters) are a number or fill, and a
            // long number counts as drawn digits (`SecretScore.drawnNumberLength`) only where no format says otherwise.
            // One whose token the value is, a character short or long (a test value cut short or padded), weakens
            // the finding, as does a value that starts with a provider's token prefix (`NRAK-…`) but is not its
            // token: that provider's rule reports its real tokens.
            switch engine.providerContext(of: secret, context: before) {
            case .provider(let p):
                if !engine.isAllowed(secret, rule: p, data: matchData) {
                    reported = p
                } else if secret.allSatisfy(SecretScore.isDigit) {
                    return
                }
            case .nearMiss:
                reported = engine.weakerRules[rule] ?? rule
            case .none:
                if engine.carriesTokenPrefix(secret) { reported = engine.weakerRules[rule] ?? rule }
            }
        }
        pending.append(RawHit(ruleIndex: reported, secret: secret, start: start, line: line(at: start), binary: binaryDocument,
                              comment: !binaryDocument && onCommentLine(start)))
    }

    /// The 1-based line of document offset `offset` (inside the buffer), from the block index: at most
    /// `lineBlock` bytes counted per secret.
    /// Whether the line holding the byte at `offset` starts, after blanks, with a comment marker. Looks back at most
    /// `FileMatcher.context` bytes (and not before the buffer): a line longer than that is not judged a comment.
    private func onCommentLine(_ offset: Int64) -> Bool {
        let rel = Int(offset - bufferStart)
        // Safe: `offset` is the start of a secret just extracted from the buffer, so `0...rel` lies within its
        // `count` written bytes, and the view does not outlive this call.
        let bytes = UnsafeRawBufferPointer(start: buffer, count: rel)
        var i = rel
        while i > 0 && rel - i < FileMatcher.context && bytes[i - 1] != 0x0A { i -= 1 }
        guard i == 0 ? bufferStart == 0 : bytes[i - 1] == 0x0A else { return false }
        return FileMatcher.isCommentStart(UnsafeRawBufferPointer(rebasing: bytes[i..<rel]))
    }

    /// The C preprocessor directive that gives a value, after `#` and before a blank: code (`#define API_KEY "…"` in
    /// an Arduino sketch or a header), not a comment. With a blank between (`# define …`) it is a comment's prose.
    private static let preprocessorDirectives: [[UInt8]] =
        ["define ", "define\t"].map { Array($0.utf8) }

    /// Whether `line` (the text of a line before a secret) starts, after blanks, with a comment marker.
    static func isCommentStart(_ line: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        while i < line.count && (line[i] == 0x20 || line[i] == 0x09) { i += 1 }
        let rest = line[i...]
        guard let first = rest.first else { return false }
        if first == 0x23 || first == 0x3B {  // `#`, `;`: shell, Python, YAML, TOML, INI
            // `#!` is a shebang, `#{` Ruby interpolation: code, not a comment.
            let next = rest.dropFirst().first
            if first == 0x23 && FileMatcher.preprocessorDirectives.contains(where: { rest.dropFirst().starts(with: $0) }) {
                return false
            }
            return next != 0x21 && next != 0x7B
        }
        if first == 0x2A { return rest.dropFirst().first == 0x20 || rest.count == 1 }  // ` * ` inside a block comment
        for marker in ["//", "/*", "-- ", "<!--", "REM ", "rem "] where rest.starts(with: marker.utf8) { return true }
        return false
    }

    private func line(at offset: Int64) -> Int {
        let rel = Int(offset - bufferStart)
        let block = rel / FileMatcher.lineBlock
        let from = block * FileMatcher.lineBlock
        return blockLines[block] + countNewlines(UnsafeRawBufferPointer(start: buffer + from, count: rel - from)) + 1
    }

    /// Counts the newlines of buffer bytes `from..<to` (just written) into `newlines` and the block index.
    private func indexLines(from: Int, to: Int) {
        var i = from
        while true {
            let boundary = (i / FileMatcher.lineBlock + 1) * FileMatcher.lineBlock
            if boundary > to {
                newlines += countNewlines(UnsafeRawBufferPointer(start: buffer + i, count: to - i))
                return
            }
            newlines += countNewlines(UnsafeRawBufferPointer(start: buffer + i, count: boundary - i))
            blockLines.append(newlines)
            i = boundary
        }
    }

    /// Keeps the bytes a pending candidate may still need (at least `keep`) and moves them to the front.
    private func compact() throws {
        var keepFrom = documentEnd - Int64(FileMatcher.keep)
        for r in regions {
            let need = r.resume ?? (r.first - engine.lookBehinds[r.rule])
            keepFrom = min(keepFrom, need - Int64(FileMatcher.context))
        }
        keepFrom = max(keepFrom, bufferStart)
        if documentEnd - keepFrom > Int64(capacity - FileMatcher.chunkSize) {
            // A candidate needs more history than fits: settle every candidate now.
            for r in regions {
                openRegion[r.rule] = -1
                _ = try confirm(r, final: false)
            }
            regions.removeAll()
            keepFrom = max(bufferStart, documentEnd - Int64(FileMatcher.keep))
        }
        let drop = Int(keepFrom - bufferStart) / FileMatcher.lineBlock * FileMatcher.lineBlock
        guard drop > 0 else { return }
        let kept = count - drop
        buffer.copyMemory(from: buffer + drop, byteCount: kept)
        bufferStart += Int64(drop)
        count = kept
        blockLines.removeFirst(drop / FileMatcher.lineBlock)
        settle(all: false)
    }

    /// Moves pending secrets that no later secret can contain (they start before the buffer, and every later
    /// secret starts inside it) to `settled`, dropping those inside a longer one.
    private func settle(all: Bool) {
        guard !pending.isEmpty else { return }
        let survivors = Self.dropContained(pending, ranks: engine.spanRanks, coveredUpTo: settledMaxEnd)
        pending.removeAll(keepingCapacity: true)
        for h in survivors {
            if all || h.start < bufferStart {
                settledMaxEnd = max(settledMaxEnd, h.end)
                keep(h)
            } else {
                pending.append(h)
            }
        }
    }

    /// Keeps `h` within `maxHits`, evicting a less severe secret when full.
    private func keep(_ h: RawHit) {
        let rank = engine.severityRanks[h.ruleIndex]
        if settled.count < maxHits {
            settled.append(h)
            settledPerRank[rank] += 1
            return
        }
        truncated += 1
        guard let lowest = settledPerRank.firstIndex(where: { $0 > 0 }), lowest < rank,
              let i = settled.lastIndex(where: { engine.severityRanks[$0.ruleIndex] == lowest }) else { return }
        settled[i] = h
        settledPerRank[lowest] -= 1
        settledPerRank[rank] += 1
    }

    /// The hits not inside another: a hit is dropped when another spans it and is longer, or spans exactly
    /// the same bytes and ranks higher (`MatchEngine.spanRanks`: more severe, a generic rule below any other;
    /// then the earlier rule, then the earlier hit), or when it ends at or
    /// before `coveredUpTo` (a settled secret that starts before it). O(n log n); survivors in document order.
    static func dropContained(_ hits: [RawHit], ranks: [Int], coveredUpTo: Int64 = -1) -> [RawHit] {
        let order = hits.indices.sorted { a, b in
            let x = hits[a], y = hits[b]
            if x.start != y.start { return x.start < y.start }
            if x.end != y.end { return x.end > y.end }
            let (rx, ry) = (ranks[x.ruleIndex], ranks[y.ruleIndex])
            if rx != ry { return rx > ry }
            if x.ruleIndex != y.ruleIndex { return x.ruleIndex < y.ruleIndex }
            return a < b
        }
        var keep: [RawHit] = []
        var maxEnd = coveredUpTo
        var i = 0
        while i < order.count {
            let h = hits[order[i]]
            var j = i + 1
            while j < order.count && hits[order[j]].start == h.start && hits[order[j]].end == h.end { j += 1 }
            // Every earlier group starts before h or at h's start and ends later: one reaching h's end spans it.
            if maxEnd < h.end { keep.append(h) }
            maxEnd = max(maxEnd, h.end)
            i = j
        }
        return keep
    }

    static func dropContained(_ hits: [RawHit], rules: [Rule]) -> [RawHit] {
        dropContained(hits, ranks: rules.map { $0.minimumScore == nil ? $0.severity.rank : -1 })
    }
}

private func onMatch(id: UInt32, from: UInt64, to: UInt64, flags: UInt32, ctx: UnsafeMutableRawPointer?) -> Int32 {
    let matcher = Unmanaged<FileMatcher>.fromOpaque(ctx!).takeUnretainedValue()
    matcher.record(rule: Int(id), end: Int64(to))
    return 0
}

/// Counts `\n` bytes. Every byte a scan reads passes here.
func countNewlines(_ p: UnsafeRawBufferPointer) -> Int {
    // Blocks of 255 bytes into a UInt8 count: LLVM vectorises the inner loop (3.5 to 10 times the 8-byte SWAR it
    // replaces, measured on 1 GB), and 255 newlines cannot overflow it.
    guard let base = p.baseAddress else { return 0 }
    var n = 0
    var i = 0
    let count = p.count
    while i < count {
        let end = min(i + 255, count)
        var block: UInt8 = 0
        var j = i
        while j < end {
            block &+= base.load(fromByteOffset: j, as: UInt8.self) == 0x0A ? 1 : 0
            j += 1
        }
        n += Int(block)
        i = end
    }
    return n
}
