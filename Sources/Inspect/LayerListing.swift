import Layers

/// What an entry is, as the inspector reports it.
public enum EntryType: String, Sendable, Codable {
    case file, dir, symlink, hardlink, other

    init(_ kind: LayerEntry.Kind) {
        // Not a switch: kinds the reader may add later (pseudo-entries) are `other` here, not a build break.
        if kind == .file {
            self = .file
        } else if kind == .directory {
            self = .dir
        } else if kind == .symlink {
            self = .symlink
        } else if kind == .hardlink {
            self = .hardlink
        } else {
            self = .other
        }
    }
}

/// One path of a layer: the last tar entry that names it, as an extractor would leave it.
public struct ListedEntry: Sendable, Equatable {
    public var path: String
    public var type: EntryType
    /// The declared size; for a hard link, its target's when the target is in the same layer.
    public var size: Int64
    /// Permission bits (`0o644`); for a hard link, its target's.
    public var mode: UInt32
    /// A symlink's target as written, or a hard link's target path.
    public var linkTarget: String?
    /// Position among the layer's tar entries (whiteouts included): how a second pass finds this one.
    public var ordinal: Int
    /// Owner and group ids.
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
}

/// A whiteout in a layer: what it removes from the layers below, and the marker entry that says so.
public typealias WhiteoutMarker = Overlay.Marker

/// The entries of one layer, its whiteouts, and what reading it measured: paths and sizes, never file data.
public struct LayerListing: Sendable {
    public let index: Int
    /// One per path, in tar order.
    public private(set) var entries: [ListedEntry] = []
    public private(set) var whiteouts: [WhiteoutMarker] = []
    public private(set) var opaques: [WhiteoutMarker] = []
    /// Earlier entries of a path the same tar names again: shipped in the blob, never extracted.
    public private(set) var shadowed: [ListedEntry] = []
    /// Sizes and digests, checked against the manifest and config while reading.
    public internal(set) var digests: LayerReader.Digests?
    /// The bytes of the entries' data as the tar declares them (files, hard links and whiteouts with a body):
    /// the size `layers`, `files` and the scan summary all count.
    public private(set) var contentBytes: Int64 = 0
    private var positions: [String: Int] = [:]

    init(index: Int) { self.index = index }

    /// Lets go of the index by path once reading is done, for a caller that never asks `entry(_:)` (a million
    /// paths are tens of MB): `entry(_:)` then finds nothing.
    mutating func dropPathIndex() { positions = [:] }

    /// The same layer with nothing listed: what a caller keeps once it has applied this one.
    func emptied() -> LayerListing {
        var l = LayerListing(index: index)
        l.contentBytes = contentBytes
        l.digests = digests
        return l
    }

    /// The entry at a path, if this layer has one.
    public func entry(_ path: String) -> ListedEntry? { positions[path].map { entries[$0] } }

    /// Regular files and hard links.
    public var fileCount: Int { entries.reduce(0) { $0 + ($1.type == .file || $1.type == .hardlink ? 1 : 0) } }

    mutating func add(_ e: LayerEntry, ordinal: Int) {
        if e.hasData { contentBytes += max(0, e.size) }
        if let w = Whiteout.classify(e.path) {
            switch w {
            case .delete(let target): whiteouts.append(WhiteoutMarker(path: target, marker: e.path))
            case .opaque(let dir): opaques.append(WhiteoutMarker(path: dir, marker: e.path))
            case .metadata: break
            }
            return
        }
        let entry = ListedEntry(path: e.path, type: EntryType(e.kind), size: max(0, e.size), mode: e.mode, linkTarget: e.linkTarget,
                                ordinal: ordinal, uid: e.uid, gid: e.gid)
        if let i = positions[e.path] {
            shadowed.append(entries[i])
            entries[i] = entry
        } else {
            positions[e.path] = entries.count
            entries.append(entry)
        }
    }

    /// A hard link shows its target's size and mode: what the path holds once extracted.
    mutating func resolveHardLinks() {
        for i in entries.indices where entries[i].type == .hardlink {
            guard let t = entries[i].linkTarget, let target = entry(t), target.type == .file else { continue }
            entries[i].size = target.size
            entries[i].mode = target.mode
        }
    }

    /// Whether this layer removes `path` from the layers below: `Overlay`'s deletion (a whiteout of it or of an
    /// ancestor, an opaque ancestor, an ancestor this layer makes something other than a directory, or entries
    /// under it that make it a directory).
    func removesFromBelow(_ path: String) -> Bool {
        Overlay.fate(of: path, ancestors: LayerPath.ancestors(path), in: self) == .deleted
    }
}

extension LayerListing: Overlay.Events {
    public func whitesOut(_ path: String) -> Bool { whiteouts.contains { $0.path == path } }
    public func isOpaque(_ directory: String) -> Bool { opaques.contains { $0.path == directory } }
    public func entryIsDirectory(_ path: String) -> Bool? { entry(path).map(\.isDirectory) }
    /// One pass over the entries: asked once per layer, for the path `cat` looks for.
    public func holdsEntries(under path: String) -> Bool {
        let prefix = path == "/" ? "/" : path + "/"
        return entries.contains { $0.path.hasPrefix(prefix) && $0.path != path }
    }
}
