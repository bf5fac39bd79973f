import Core
import Foundation

/// `stowaway layers`: one row per layer, the history entries that made no layer, and the wasted space.
public struct LayersReport: Codable, Sendable {
    /// One layer: what was shipped and what made it.
    public struct Layer: Codable, Sendable, Equatable {
        public var index: Int
        public var digest: String?
        public var diffID: String?
        /// The blob as shipped (compressed).
        public var size: Int64
        /// The tar inside it, headers and padding included.
        public var uncompressedSize: Int64
        /// The bytes of the files in the tar: what `files` lists and the scan summary counts.
        public var contentSize: Int64
        /// Regular files and hard links.
        public var files: Int
        public var createdBy: String?
        /// When the history entry that made the layer says it was made (RFC 3339, as the config has it).
        public var created: String?
        public var historyIndex: Int?
        /// File findings in this layer's blob (with `--scan`).
        public var findings: Int?
    }

    /// A path more than one layer holds or removes (dive's "inefficiency").
    public struct InefficientPath: Codable, Sendable, Equatable {
        public var path: String
        /// Layers that hold a copy of it or remove it.
        public var copies: Int
        /// Every copy's bytes.
        public var bytes: Int64
    }

    /// dive's efficiency score and wasted bytes (docs/inspector.md says how they are counted).
    public struct Efficiency: Codable, Sendable, Equatable {
        /// Between 0 and 1; 1 when no path is held twice.
        public var score: Double
        /// Every copy of every path more than one layer holds or removes, the surviving copy included.
        public var wastedBytes: Int64
        /// The content of every layer but the first.
        public var userBytes: Int64
        /// `wastedBytes / userBytes` (0 without user layers).
        public var userWastedPercent: Double
        /// The largest, at most 100.
        public var paths: [InefficientPath]
        /// How many paths in all.
        public var pathCount: Int
    }

    /// One `--ci` rule's verdict.
    public struct CIRule: Codable, Sendable, Equatable {
        public enum Status: String, Codable, Sendable {
            case passed, failed, skipped
        }
        public var rule: String
        /// Nil when the rule is disabled.
        public var threshold: String?
        public var actual: String
        public var status: Status
    }

    /// `layers --ci`: every rule, and whether the image passed them all.
    public struct CIResult: Codable, Sendable, Equatable {
        public var passed: Bool
        public var rules: [CIRule]
    }

    /// A history entry that made no layer (`ENV`, `CMD`, `LABEL`, …).
    public struct HistoryRow: Codable, Sendable, Equatable {
        public var historyIndex: Int
        public var createdBy: String?
    }

    /// A file a later layer deletes or replaces: its bytes still ship in `layer`'s blob.
    public struct WastedFile: Codable, Sendable, Equatable {
        public var path: String
        public var size: Int64
        public var layer: Int
        public var removedInLayer: Int
    }

    /// Bytes that ship in blobs and that no container sees.
    public struct Wasted: Codable, Sendable, Equatable {
        public var bytes: Int64
        /// Largest first.
        public var files: [WastedFile]
    }

    public var schemaVersion = 1
    /// What the user typed.
    public var image: String
    /// The image's name as `scan` reports it: the reference, the tag a docker save records, or the input.
    public var reference: String
    public var manifestDigest: String?
    public var platform: String?
    public var layers: [Layer]
    public var emptyLayers: [HistoryRow]
    public var wasted: Wasted
    public var efficiency: Efficiency
    /// With `--ci`.
    public var ci: CIResult?
}

/// `stowaway files`: the entries of one layer with how it changed them, or of the merged filesystem.
public struct FilesReport: Codable, Sendable {
    /// One entry with the layer it comes from and how that layer changed it.
    public struct Entry: Codable, Sendable, Equatable {
        public var path: String
        public var type: EntryType
        public var size: Int64
        /// Octal permission bits with setuid, setgid and sticky (`"0644"`, `"4755"`).
        public var mode: String
        public var uid: UInt32
        public var gid: UInt32
        /// The layer the entry comes from (for a deletion in one layer's listing, the layer that deletes it; in
        /// the merged view with `--deleted`, the layer whose blob still holds it).
        public var layer: Int
        /// Relative to the layers below that layer.
        public var change: Change
        public var linkTarget: String?
        /// In the merged view with `--deleted`: the layer that removed it.
        public var removedInLayer: Int?
    }

    public var schemaVersion = 1
    /// What the user typed.
    public var image: String
    /// The image's name as `scan` reports it.
    public var reference: String
    /// The layer listed; nil (always written, as `null`) for the merged filesystem.
    @Nullable public var layer: Int?
    /// The pattern the paths were filtered by.
    public var glob: String?
    /// The merged view: files (matching the pattern) that a layer removed and that are not listed; 0 with
    /// `--deleted`, which lists them. Nil for one layer's listing.
    public var hiddenDeleted: Int?
    public var entries: [Entry]

    enum CodingKeys: String, CodingKey {
        case schemaVersion, image, reference, layer, glob, hiddenDeleted, entries
    }
}

extension FilesReport {
    /// The report as pretty-printed JSON with sorted keys, byte for byte what `JSONEncoder` writes for it, a piece
    /// at a time: the entries are encoded one by one, so a listing of a million files is never one document in
    /// memory.
    public func writeJSON(to emit: (String) throws -> Void) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var shell = self
        shell.entries = []
        let skeleton = String(decoding: try enc.encode(shell), as: UTF8.self)
        let empty = "\"entries\" : [\n\n  ]"
        guard !entries.isEmpty, let hole = skeleton.range(of: empty) else { return try emit(skeleton + "\n") }
        try emit(String(skeleton[..<hole.lowerBound]) + "\"entries\" : [\n")
        for (i, e) in entries.enumerated() {
            // An entry sits two levels deep: every line of its own document is indented by four spaces.
            let own = String(decoding: try enc.encode(e), as: UTF8.self)
            let indented = own.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
            try emit(indented + (i == entries.count - 1 ? "\n" : ",\n"))
        }
        try emit("  ]" + String(skeleton[hole.upperBound...]) + "\n")
    }
}

/// `stowaway trace`: one path across the layers.
public struct TraceReport: Codable, Sendable {
    /// One step of the path's life: what a layer did to it.
    public struct Event: Codable, Sendable, Equatable {
        public var layer: Int
        public var change: Change
        public var type: EntryType
        /// Absent for a deletion.
        public var size: Int64?
        public var linkTarget: String?
        public var createdBy: String?
        public var historyIndex: Int?
        /// For a deletion: the entry of the layer that removed the path (its whiteout, an opaque marker, or
        /// what replaced an ancestor directory).
        public var via: String?
    }

    public var schemaVersion = 1
    /// What the user typed (the `cat` command it suggests uses it).
    public var image: String
    /// The image's name as `scan` reports it.
    public var reference: String
    public var path: String
    public var events: [Event]
}

/// What `cat` wrote.
public struct CatResult: Sendable, Equatable {
    /// The layer whose blob the bytes came from.
    public var layer: Int
    /// The entry read, after following links.
    public var path: String
    public var bytes: Int64
}

/// `0644`-style octal text of permission bits.
func octal(_ mode: UInt32) -> String {
    let s = String(mode & 0o7777, radix: 8)
    return String(repeating: "0", count: max(0, 4 - s.count)) + s
}
