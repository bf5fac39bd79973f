/// How an entry changed the filesystem of the layers below.
public enum Change: String, Sendable, Codable {
    case added, modified, deleted
    /// Added again after a lower layer deleted it (in `trace` only).
    case reAdded = "re-added"
}

/// An entry a layer removed from the filesystem of the layers below, or replaced.
public struct Removal: Sendable, Equatable {
    /// What was there.
    public var entry: ListedEntry
    /// The layer whose blob still holds it.
    public var layer: Int
    public var removedIn: Int
    /// The entry of `removedIn` that removed it: a whiteout marker, an opaque marker, or an entry that put
    /// something other than a directory at an ancestor. Nil when an entry at the same path replaced it.
    public var via: String?
}

/// What applying one layer did: its own entries (added or modified) and what it removed below.
struct LayerChanges {
    var entries: [(entry: ListedEntry, change: Change)] = []
    var removals: [Removal] = []
}

/// The filesystem the layers make, built one layer at a time by the OCI rules: a layer's whiteouts and
/// opaque markers remove from the layers below, then its entries are put in place (a non-directory over a
/// directory removes what was under it).
///
/// Nodes live in one array and refer to each other by index, so a hostile path thousands of components deep
/// costs memory in proportion to its length and nothing recursive (no deep `deinit`, no deep call stack).
struct MergedTree {
    struct Node {
        var name: String
        var parent: Int
        var children: [String: Int] = [:]
        /// Nil for a directory no tar names (implied by the paths under it).
        var entry: ListedEntry?
        /// The layer of the entry, or the layer that implied the directory.
        var layer: Int
        var change: Change
        /// The layer that created the node: a node created by the layer being applied did not exist below.
        var born: Int
    }

    /// Linux's PATH_MAX: a link target longer than this resolves nowhere.
    static let maxPath = 4096
    /// Linux's limit on symlinks followed while resolving one path.
    static let maxHops = 40

    private(set) var nodes: [Node] = [Node(name: "", parent: 0, layer: -1, change: .added, born: -1)]

    /// The node at a path, without following links.
    func lookup(_ path: String) -> Int? {
        var cur = 0
        for comp in path.split(separator: "/") {
            guard let child = nodes[cur].children[String(comp)] else { return nil }
            cur = child
        }
        return cur
    }

    func exists(_ path: String) -> Bool { lookup(path) != nil }

    /// Applies one layer; returns its entries' changes (unless `listingEntries` is false: a layer of a million
    /// files need not be copied when only the result counts) and everything it removed or replaced below.
    @discardableResult
    mutating func apply(_ listing: LayerListing, listingEntries: Bool = true) -> LayerChanges {
        let layer = listing.index
        var changes = LayerChanges()
        var removedPaths = Set<String>()

        func removeSubtree(_ start: Int, via: String) {
            var stack = [start]
            while let i = stack.popLast() {
                if let e = nodes[i].entry {
                    changes.removals.append(Removal(entry: e, layer: nodes[i].layer, removedIn: layer, via: via))
                    removedPaths.insert(e.path)
                }
                stack.append(contentsOf: nodes[i].children.values)
            }
        }
        func clearChildren(_ i: Int, via: String) {
            for child in nodes[i].children.values { removeSubtree(child, via: via) }
            nodes[i].children = [:]
        }

        for opaque in listing.opaques {
            guard let n = lookup(opaque.path), (nodes[n].entry?.type ?? .dir) == .dir else { continue }
            clearChildren(n, via: opaque.marker)
        }
        for whiteout in listing.whiteouts where whiteout.path != "/" {
            guard let n = lookup(whiteout.path) else { continue }
            removeSubtree(n, via: whiteout.marker)
            nodes[nodes[n].parent].children[nodes[n].name] = nil
        }
        for e in listing.entries {
            let comps = e.path.split(separator: "/")
            var cur = 0
            for (k, comp) in comps.enumerated() {
                let name = String(comp)
                if let child = nodes[cur].children[name] {
                    if k < comps.count - 1, let old = nodes[child].entry, old.type != .dir {
                        // A non-directory on the way becomes the directory this entry needs: what it was is gone.
                        changes.removals.append(Removal(entry: old, layer: nodes[child].layer, removedIn: layer, via: e.path))
                        removedPaths.insert(old.path)
                        nodes[child].entry = nil
                        nodes[child].layer = layer
                    }
                    cur = child
                } else {
                    nodes.append(Node(name: name, parent: cur, layer: layer, change: .added, born: layer))
                    nodes[cur].children[name] = nodes.count - 1
                    cur = nodes.count - 1
                }
            }
            let existedBelow = nodes[cur].born < layer || removedPaths.contains(e.path)
            if e.type != .dir {
                clearChildren(cur, via: e.path)
            }
            if let old = nodes[cur].entry, old.type != .dir {
                changes.removals.append(Removal(entry: old, layer: nodes[cur].layer, removedIn: layer, via: nil))
            }
            let change: Change = existedBelow ? .modified : .added
            nodes[cur].entry = e
            nodes[cur].layer = layer
            nodes[cur].change = change
            if listingEntries { changes.entries.append((e, change)) }
        }
        return changes
    }

    /// Every entry of the filesystem with the layer it comes from and how that layer changed it.
    func entries() -> [(entry: ListedEntry, layer: Int, change: Change)] {
        var out: [(entry: ListedEntry, layer: Int, change: Change)] = []
        forEachEntry { out.append(($0, $1, $2)) }
        return out
    }

    /// The same, one at a time, in path order (`ImageInspector.pathOrder`: a directory right before what it
    /// holds, names by their bytes), so a listing needs no sort of its own.
    func forEachEntryInPathOrder(_ body: (ListedEntry, Int, Change) throws -> Void) rethrows {
        var stack = [0]
        while let i = stack.popLast() {
            if let e = nodes[i].entry { try body(e, nodes[i].layer, nodes[i].change) }
            // Pushed last-first, so the smallest name comes off the stack next.
            let sorted = nodes[i].children.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            stack.append(contentsOf: sorted.reversed().map(\.value))
        }
    }

    /// The same, one at a time, in no particular order.
    func forEachEntry(_ body: (ListedEntry, Int, Change) throws -> Void) rethrows {
        var stack = [0]
        while let i = stack.popLast() {
            if let e = nodes[i].entry { try body(e, nodes[i].layer, nodes[i].change) }
            stack.append(contentsOf: nodes[i].children.values)
        }
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
