import CVectorscan

/// A secret found in one document (a file, a config value, a history entry).
public struct RawHit: Sendable, Equatable {
    public var ruleIndex: Int
    public var secret: [UInt8]
    /// Byte offset of the secret in the document.
    public var start: Int64
    /// 1-based line of the secret's first byte.
    public var line: Int

    public var end: Int64 { start + Int64(secret.count) }
}

/// Scans one document at a time as a stream of chunks: Vectorscan finds candidate match ends across chunk
/// boundaries, and PCRE2 confirms each candidate and extracts the secret from a bounded window of recent
/// bytes. Memory is bounded by the buffer, whatever the document size. Not thread-safe: one per thread.
public final class FileMatcher {
    public let engine: MatchEngine
    private let scratch: VectorscanScratch
    private let matchData = PCRE2MatchData()
    private var stream: OpaquePointer?

    /// Bytes kept before the newest data so a secret that straddles chunks can be extracted.
    static let keep = 64 * 1024
    /// Bytes after a candidate's last match end that PCRE2 may look at (trailing context).
    static let lookAhead = 64
    /// A candidate region longer than this is confirmed early rather than kept growing.
    static let maxRegion = 48 * 1024
    /// Preferred chunk size for callers that fill the buffer directly.
    public static let chunkSize = 256 * 1024

    private let capacity = FileMatcher.keep + 4 * FileMatcher.chunkSize
    private let buffer: UnsafeMutableRawPointer
    /// Absolute document offset of `buffer[0]`.
    private var bufferStart: Int64 = 0
    private var count = 0
    /// Newlines in the document before `bufferStart + count`.
    private var newlines = 0

    private struct Region { var rule: Int; var first: Int64; var last: Int64 }
    private var regions: [Region] = []
    private var lastEmittedEnd: [Int: Int64] = [:]
    private var hits: [RawHit] = []
    private var failure: Error?

    init(engine: MatchEngine) throws {
        self.engine = engine
        scratch = try VectorscanScratch(database: engine.database)
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit {
        if let s = stream { hs_close_stream(s, scratch.handle, nil, nil) }
        buffer.deallocate()
    }

    private var documentEnd: Int64 { bufferStart + Int64(count) }

    /// Starts a new document.
    public func begin() throws {
        if let s = stream { hs_close_stream(s, scratch.handle, nil, nil); stream = nil }
        var s: OpaquePointer?
        let rc = hs_open_stream(engine.database.handle, 0, &s)
        guard rc == HS_SUCCESS else { throw SecretsError.vectorscan(call: "hs_open_stream", code: rc) }
        stream = s
        bufferStart = 0
        count = 0
        newlines = 0
        regions.removeAll(keepingCapacity: true)
        lastEmittedEnd.removeAll(keepingCapacity: true)
        hits.removeAll(keepingCapacity: true)
        failure = nil
    }

    /// Space at the end of the buffer for up to `chunkSize` new bytes; fill it and call `commit`.
    public func writableSpace() throws -> UnsafeMutableRawBufferPointer {
        if capacity - count < FileMatcher.chunkSize { try compact() }
        return UnsafeMutableRawBufferPointer(start: buffer + count, count: min(FileMatcher.chunkSize, capacity - count))
    }

    /// Scans `n` bytes just written into `writableSpace()`.
    public func commit(_ n: Int) throws {
        guard n > 0 else { return }
        let chunk = UnsafeRawBufferPointer(start: buffer + count, count: n)
        newlines += countNewlines(chunk)
        count += n
        let ctx = Unmanaged.passUnretained(self).toOpaque()
        let rc = hs_scan_stream(stream, chunk.baseAddress!.assumingMemoryBound(to: CChar.self), UInt32(n), 0, scratch.handle, onMatch, ctx)
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

    /// Ends the document and returns its secrets, a secret inside a longer one of another rule dropped.
    public func end() throws -> [RawHit] {
        if let s = stream {
            let ctx = Unmanaged.passUnretained(self).toOpaque()
            let rc = hs_close_stream(s, scratch.handle, onMatch, ctx)
            stream = nil
            guard rc == HS_SUCCESS else { throw SecretsError.vectorscan(call: "hs_close_stream", code: rc) }
        }
        if let failure { throw failure }
        try confirmSettled(final: true)
        return Self.dropContained(hits, rules: engine.rules)
    }

    /// Scans one small document held in memory.
    public func scan(_ text: String) throws -> [RawHit] {
        try begin()
        var bytes = Array(text.utf8)
        try bytes.withUnsafeMutableBytes { try feed(UnsafeRawBufferPointer($0)) }
        return try end()
    }

    fileprivate func record(rule: Int, end: Int64) {
        if let i = regions.lastIndex(where: { $0.rule == rule }),
           end - regions[i].last <= Int64(engine.rules[rule].lookBehind) {
            regions[i].last = max(regions[i].last, end)
            return
        }
        regions.append(Region(rule: rule, first: end, last: end))
    }

    private func confirmSettled(final: Bool) throws {
        guard !regions.isEmpty else { return }
        var remaining: [Region] = []
        for r in regions {
            if final || r.last + Int64(FileMatcher.lookAhead) <= documentEnd || r.last - r.first > Int64(FileMatcher.maxRegion) {
                try confirm(r)
            } else {
                remaining.append(r)
            }
        }
        regions = remaining
    }

    private func confirm(_ r: Region) throws {
        let rule = engine.rules[r.rule]
        let from = max(bufferStart, r.first - Int64(rule.lookBehind))
        let to = min(documentEnd, r.last + Int64(FileMatcher.lookAhead))
        guard to > from else { return }
        let window = UnsafeRawBufferPointer(start: buffer + Int(from - bufferStart), count: Int(to - from))
        let ranges = try engine.regexes[r.rule].matches(in: window, group: rule.secretGroup, data: matchData, ruleID: rule.id)
        for range in ranges {
            let start = from + Int64(range.lowerBound)
            let end = from + Int64(range.upperBound)
            if let last = lastEmittedEnd[r.rule], start < last { continue }
            let secret = Array(window[range])
            lastEmittedEnd[r.rule] = end
            if engine.isAllowed(secret, rule: r.rule, data: matchData) { continue }
            let after = UnsafeRawBufferPointer(start: buffer + Int(start - bufferStart), count: Int(documentEnd - start))
            hits.append(RawHit(ruleIndex: r.rule, secret: secret, start: start, line: newlines - countNewlines(after) + 1))
        }
    }

    /// Keeps the bytes a pending candidate may still need (at least `keep`) and moves them to the front.
    private func compact() throws {
        var keepFrom = documentEnd - Int64(FileMatcher.keep)
        for r in regions {
            keepFrom = min(keepFrom, r.first - Int64(engine.rules[r.rule].lookBehind))
        }
        keepFrom = max(keepFrom, bufferStart)
        if documentEnd - keepFrom > Int64(capacity - FileMatcher.chunkSize) {
            // A candidate needs more history than fits: settle every candidate now.
            for r in regions { try confirm(r) }
            regions.removeAll()
            keepFrom = max(bufferStart, documentEnd - Int64(FileMatcher.keep))
        }
        let drop = Int(keepFrom - bufferStart)
        guard drop > 0 else { return }
        let kept = count - drop
        buffer.copyMemory(from: buffer + drop, byteCount: kept)
        bufferStart = keepFrom
        count = kept
    }

    static func dropContained(_ hits: [RawHit], rules: [Rule]) -> [RawHit] {
        guard hits.count > 1 else { return hits }
        var keep: [RawHit] = []
        for (i, h) in hits.enumerated() {
            let covered = hits.enumerated().contains { j, o in
                guard j != i, o.start <= h.start, h.end <= o.end else { return false }
                if o.end - o.start != h.end - h.start { return true }
                // Same span from two rules: keep the more severe one, then the earlier rule (specific before generic).
                let (rh, ro) = (rules[h.ruleIndex].severity, rules[o.ruleIndex].severity)
                return ro > rh || (ro == rh && (o.ruleIndex < h.ruleIndex || (o.ruleIndex == h.ruleIndex && j < i)))
            }
            if !covered { keep.append(h) }
        }
        return keep
    }
}

private func onMatch(id: UInt32, from: UInt64, to: UInt64, flags: UInt32, ctx: UnsafeMutableRawPointer?) -> Int32 {
    let matcher = Unmanaged<FileMatcher>.fromOpaque(ctx!).takeUnretainedValue()
    matcher.record(rule: Int(id), end: Int64(to))
    return 0
}

/// Counts `\n` bytes eight at a time.
func countNewlines(_ p: UnsafeRawBufferPointer) -> Int {
    guard let base = p.baseAddress else { return 0 }
    var n = 0
    var i = 0
    let c = p.count
    while i + 8 <= c {
        let w = base.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ 0x0A0A_0A0A_0A0A_0A0A
        let t = (w & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F
        n += (~(t | w | 0x7F7F_7F7F_7F7F_7F7F)).nonzeroBitCount
        i += 8
    }
    while i < c {
        if base.load(fromByteOffset: i, as: UInt8.self) == 0x0A { n += 1 }
        i += 1
    }
    return n
}
