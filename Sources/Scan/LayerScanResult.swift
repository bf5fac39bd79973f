import Crypto
import Forensics
import Foundation
import Layers
import OCI
import Reports
import Secrets

/// What one layer held, the one per-layer result of `scan` and of a sweep: its hits as findings without a layer,
/// the counts, the archive notes, and the layer's path events as 128-bit hashes of the paths, enough to decide
/// whether a finding of a lower layer was deleted or overwritten by this one (`PathEvents`).
///
/// Straight from `ImageScanner.scanLayer` a hit still holds its `secret` and its places (path, key, archive) as
/// found, so that `scan` can show them (`--show-secrets`) or redact them with every secret of the image. What is
/// kept goes through `stored()`, which redacts the places with the layer's secrets and drops the secrets; encoding
/// goes through it too, so an encoded result can never hold a secret.
///
/// A result depends only on the layer's bytes and on `ImageScanner.layerCacheKey`, so it can be reused by every
/// image that shares the layer, in this run or a later one.
public struct LayerScanResult: Codable, Sendable, Equatable {
    /// A secret in a file of the layer: the finding `ImageScanner.fileFinding` makes of it, without its layer.
    public struct Hit: Codable, Sendable, Equatable {
        public var ruleID: String
        public var severity: Severity
        public var description: String
        /// The path in the layer (stored: with any secret of the layer in it redacted).
        public var path: String
        public var line: Int?
        public var key: String?
        public var secretSHA256: String
        public var redacted: String
        /// What the secret can do, read offline when it was found (no secret in it).
        public var details: FindingDetails?
        public var confidence: Confidence?
        /// For a member of an archive: the file of the layer that holds it (redacted like `path`).
        public var archive: String?
        /// The secret itself, in memory only: never encoded, nil once `stored()` (and for a credential file
        /// reported by its name).
        public var secret: String? = nil
        /// Hashes of the raw path (of the file of the layer, for an archive member) and of each of its ancestors, for statuses.
        var pathKey: PathKey
        var ancestorKeys: [PathKey]

        enum CodingKeys: String, CodingKey {
            case ruleID, severity, description, path, line, key, secretSHA256, redacted, details, confidence, archive,
                 pathKey, ancestorKeys
        }
    }

    public var hits: [Hit] = []
    /// Hits left out by the per-file and per-layer caps.
    public var truncated = 0
    /// Hits dropped by the path allowlist.
    public var suppressed = 0
    public var files = 0
    /// Uncompressed bytes of the files read.
    public var bytes: Int64 = 0
    /// Why the layer could not be read to its end, as thrown; such a result is never stored (encoding it throws).
    public var error: Failure?
    /// Archives in the layer that could not be read, and limits of the archive walk reached (stored: redacted).
    public var notes: [ArchiveNote] = []
    /// Hashes of every path the layer holds (non-directories and directories), of whiteout targets, of
    /// opaque directories, and of the ancestors of the paths it holds (which it makes directories).
    var nonDirectories = PathKeySet()
    var directories = PathKeySet()
    var deletions = PathKeySet()
    var opaques = PathKeySet()
    var impliedDirectories = PathKeySet()

    /// The result as it may be kept: each place (path, key, archive) redacted with the secrets found at it, each
    /// note with every secret of the layer, and no secret. A stored result is its own `stored()`.
    public func stored() -> LayerScanResult {
        let found = hits.compactMap { h in h.secret.map { (path: Optional(h.path), key: h.key, secret: $0) } }
        guard !found.isEmpty else { return self }
        // A secret can sit in the place too (a file named after a token, a decoded key): each distinct place is
        // redacted once, so thousands of hits stay linear.
        let redact = PlaceRedactor(found)
        var s = self
        for i in s.hits.indices {
            let h = hits[i]
            s.hits[i].path = redact.path(h.path)
            s.hits[i].key = h.key.map(redact.key)
            s.hits[i].archive = h.archive.map { redact.path($0, within: h.path) }
            s.hits[i].secret = nil
        }
        // An archive's path (or a reason quoting it) can hold a secret found inside it.
        let redactor = Redactor(Set(found.map(\.secret)))
        s.notes = notes.map { ArchiveNote(kind: $0.kind, path: redactor.redact($0.path), reason: redactor.redact($0.reason)) }
        return s
    }

    /// What stopped the layer: a `LayerError`, the blob source's error, a matcher's; the report says its text.
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var underlying: any Error
        public var description: String { "\(underlying)" }
        public static func == (a: Failure, b: Failure) -> Bool { a.description == b.description }
    }

    enum CodingKeys: String, CodingKey {
        case hits, truncated, suppressed, files, bytes, notes, nonDirectories, directories, deletions, opaques,
             impliedDirectories
    }

    /// Writes `stored()`: whatever the caller holds, what is written holds no secret. Throws for a layer that
    /// could not be read to its end: kept, it would pass for a clean one.
    public func encode(to encoder: Encoder) throws {
        if let error {
            throw EncodingError.invalidValue(error, .init(codingPath: encoder.codingPath, debugDescription: "a layer that failed is not kept: \(error)"))
        }
        let s = stored()
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(s.hits, forKey: .hits)
        try c.encode(s.truncated, forKey: .truncated)
        try c.encode(s.suppressed, forKey: .suppressed)
        try c.encode(s.files, forKey: .files)
        try c.encode(s.bytes, forKey: .bytes)
        try c.encode(s.notes, forKey: .notes)
        try c.encode(s.nonDirectories, forKey: .nonDirectories)
        try c.encode(s.directories, forKey: .directories)
        try c.encode(s.deletions, forKey: .deletions)
        try c.encode(s.opaques, forKey: .opaques)
        try c.encode(s.impliedDirectories, forKey: .impliedDirectories)
    }
}

/// A layer's path events, as `Overlay` reads them: by the hashes of the paths (a hit has those of its file and
/// of each ancestor), the one adapter by which `scan` and a sweep decide statuses.
struct PathEvents: Overlay.ListedEvents {
    let result: LayerScanResult

    func whitesOut(_ path: PathKey) -> Bool { result.deletions.contains(path) }
    func isOpaque(_ directory: PathKey) -> Bool { result.opaques.contains(directory) }
    func entryIsDirectory(_ path: PathKey) -> Bool? {
        result.directories.contains(path) ? true : result.nonDirectories.contains(path) ? false : nil
    }
    func holdsEntries(under path: PathKey) -> Bool { result.impliedDirectories.contains(path) }
    var pathCount: Int { sets.reduce(0) { $0 + $1.keys.count } }
    func forEachPath(_ body: (PathKey) -> Void) {
        for set in sets { set.keys.forEach(body) }
    }
    private var sets: [PathKeySet] {
        [result.nonDirectories, result.directories, result.deletions, result.opaques, result.impliedDirectories]
    }
}

/// A path's identity without the path: the first 128 bits of its SHA-256 (no collision to fear even from an
/// image built to make one, unlike a 64-bit or non-cryptographic hash).
struct PathKey: Codable, Sendable, Hashable, Comparable {
    var high: UInt64
    var low: UInt64

    init<S: StringProtocol>(_ path: S) {
        var hasher = SHA256()
        var text = String(path)
        // The pointer lives only inside the closure, which reads the string's own UTF-8 bytes.
        text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        var h: UInt64 = 0, l: UInt64 = 0
        for (i, b) in hasher.finalize().prefix(16).enumerated() {
            if i < 8 { h = h << 8 | UInt64(b) } else { l = l << 8 | UInt64(b) }
        }
        high = h
        low = l
    }

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    static func < (a: PathKey, b: PathKey) -> Bool { (a.high, a.low) < (b.high, b.low) }
}

/// A sorted set of path keys, stored as one run of 16-byte big-endian records (compact in JSON as base64).
struct PathKeySet: Codable, Sendable, Equatable {
    private(set) var keys: [PathKey] = []

    init() {}

    init<S: Sequence>(keys: S) where S.Element == PathKey {
        self.keys = Array(Set(keys)).sorted()
    }

    init<S: Sequence>(_ paths: S) where S.Element == String {
        self.init(keys: paths.map(PathKey.init))
    }

    func contains(_ k: PathKey) -> Bool {
        var lo = 0, hi = keys.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if keys[mid] == k { return true }
            if keys[mid] < k { lo = mid + 1 } else { hi = mid }
        }
        return false
    }

    init(from decoder: Decoder) throws {
        let data = try decoder.singleValueContainer().decode(Data.self)
        guard data.count % 16 == 0 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "path keys are not 16-byte records"))
        }
        let bytes = [UInt8](data)
        var out: [PathKey] = []
        out.reserveCapacity(bytes.count / 16)
        var i = 0
        while i < bytes.count {
            var h: UInt64 = 0, l: UInt64 = 0
            for j in 0..<8 { h = h << 8 | UInt64(bytes[i + j]) }
            for j in 8..<16 { l = l << 8 | UInt64(bytes[i + j]) }
            out.append(PathKey(high: h, low: l))
            i += 16
        }
        // Sorted on the way in: binary search must not trust a damaged or foreign store.
        keys = out.sorted()
    }

    func encode(to encoder: Encoder) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(keys.count * 16)
        for k in keys {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: k.high >> UInt64(shift))) }
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: k.low >> UInt64(shift))) }
        }
        var c = encoder.singleValueContainer()
        try c.encode(Data(bytes))
    }
}
