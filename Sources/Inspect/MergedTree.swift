import Layers

/// How an entry changed the filesystem of the layers below.
public enum Change: String, Sendable, Codable {
    case added, modified, deleted
    /// Added again after a lower layer deleted it (in `trace` only).
    case reAdded = "re-added"
}

/// An entry a layer removed from the filesystem of the layers below, or replaced (`Overlay` decides which).
public typealias Removal = Overlay.Removal<ListedEntry>

/// What applying one layer did: its own entries (added or modified) and what it removed below.
typealias LayerChanges = Overlay.Changes<ListedEntry>

extension Overlay.Applied where E == ListedEntry {
    var change: Change { existedBelow ? .modified : .added }
}

extension ListedEntry: Overlay.Entry {
    public var isDirectory: Bool { type == .dir }
}

/// The filesystem the layers make, built by `Overlay.Tree` one listing at a time, and resolved through its
/// links as a container would see it.
typealias MergedTree = Overlay.Tree<ListedEntry>

extension Overlay.Tree where E == ListedEntry {
    /// Linux's PATH_MAX: a link target longer than this resolves nowhere.
    static var maxPath: Int { 4096 }
    /// Linux's limit on symlinks followed while resolving one path.
    static var maxHops: Int { 40 }

    /// Applies one layer's listing (see `Overlay.Tree.apply`).
    @discardableResult
    mutating func apply(_ listing: LayerListing, listingEntries: Bool = true) -> LayerChanges {
        apply(layer: listing.index, opaques: listing.opaques, whiteouts: listing.whiteouts, entries: listing.entries,
              listingEntries: listingEntries)
    }

    /// Every entry of the filesystem with the layer it comes from and how that layer changed it.
    func entries() -> [(entry: ListedEntry, layer: Int, change: Change)] {
        var out: [(entry: ListedEntry, layer: Int, change: Change)] = []
        forEachEntry { e, node in out.append((e, node.layer, node.existedBelow ? .modified : .added)) }
        return out
    }

    enum Resolution: Equatable {
        case found(Int)
        case missing
        case tooManyLinks
    }

    /// Resolves a path the way the kernel would in a container of this filesystem: symlinks followed
    /// wherever they are (relative to their directory, absolute from the image's root, never the host's),
    /// `..` taken from the directory reached, at most `maxHops` links.
    func resolve(_ path: String) -> Resolution {
        guard path.utf8.count <= Self.maxPath else { return .missing }
        var pending = Array(path.split(separator: "/").reversed())
        var cur = 0
        var hops = 0
        while let comp = pending.popLast() {
            if comp == "." { continue }
            if comp == ".." {
                cur = nodes[cur].parent
                continue
            }
            if let e = nodes[cur].entry, e.type != .dir { return .missing }
            guard let child = nodes[cur].children[String(comp)] else { return .missing }
            guard let link = nodes[child].entry, link.type == .symlink else {
                cur = child
                continue
            }
            hops += 1
            let target = link.linkTarget ?? ""
            guard hops <= Self.maxHops else { return .tooManyLinks }
            guard !target.isEmpty, target.utf8.count <= Self.maxPath else { return .missing }
            if target.hasPrefix("/") { cur = 0 }
            pending.append(contentsOf: target.split(separator: "/").reversed())
        }
        return .found(cur)
    }
}
