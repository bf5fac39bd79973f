/// The overlay rules of a layered image, decided here and nowhere else: what a layer's whiteouts (`.wh.NAME`),
/// opaque directories (`.wh..wh..opq`) and entries do to the filesystem of the layers below it.
///
/// - A whiteout removes its path and everything under it, from the layers below only: the same layer may put
///   the path back. A whiteout and an entry of one layer never cancel each other whatever their tar order.
/// - An opaque marker empties its directory, below only; the directory itself stays.
/// - An entry at a path that holds something below replaces it (a directory over a directory merges with it).
/// - An entry that is not a directory removes what was under its path; an entry under a path that held
///   something other than a directory makes that path a directory, and what was there is gone.
/// - Nothing follows links: a hard link or a symlink is an entry like a file, and a symlink to a directory is
///   not a directory.
///
/// Two forms of the same rules, for two kinds of caller, checked against each other in `OverlayTests`:
/// `fate(of:ancestors:in:)` answers for one path of a lower layer (the scanner, which follows only the paths
/// that hold findings, by their text or by a hash of it), and `Tree` builds the whole filesystem one layer
/// at a time, generic over what it keeps per path (the inspector keeps listed entries).
public enum Overlay {
    /// What a later layer did to a path of a lower layer that is not a directory.
    public enum Fate: Sendable, Equatable {
        /// A whiteout of it or of a directory above it, an opaque directory above it, or a directory above it
        /// made something other than a directory.
        case deleted
        /// An entry at the same path (of any kind, a directory too).
        case overwritten
    }

    /// One layer's whiteouts, opaque markers and entries, looked up by a path's identity: the path itself, or a
    /// hash of it where only hashes are kept.
    public protocol Events {
        associatedtype Key
        /// Whether the layer has a whiteout (`.wh.NAME`) of this path.
        func whitesOut(_ path: Key) -> Bool
        /// Whether the layer has an opaque marker (`.wh..wh..opq`) in this directory.
        func isOpaque(_ directory: Key) -> Bool
        /// The layer's own entry at this path: nil when it has none, else whether it is a directory.
        func entryIsDirectory(_ path: Key) -> Bool?
        /// Whether an entry of the layer lies under this path, which the layer so makes a directory.
        func holdsEntries(under path: Key) -> Bool
    }

    /// What `layer` does to something other than a directory that a lower layer has at a path; `ancestors` are
    /// the path's proper ancestors (`LayerPath.ancestors`), in any order. Nil when the layer leaves it alone.
    /// A whiteout or opaque marker outranks an entry at the path, which outranks an entry that needs the path or
    /// an ancestor to be a directory, whatever the tar order (`Tree` reports the first in tar order).
    public static func fate<L: Events>(of path: L.Key, ancestors: [L.Key], in layer: L) -> Fate? {
        if layer.whitesOut(path) || ancestors.contains(where: { layer.whitesOut($0) || layer.isOpaque($0) }) { return .deleted }
        if layer.entryIsDirectory(path) != nil { return .overwritten }
        if layer.holdsEntries(under: path) || ancestors.contains(where: { layer.entryIsDirectory($0) == false }) { return .deleted }
        return nil
    }

    /// The first layer of `layers` (after `below`, in order) that deletes or overwrites what layer `below` has at
    /// a path, with what it did; nil when the path is still there at the top.
    public static func fate<L: Events>(of path: L.Key, ancestors: [L.Key], in layer: Int, under layers: [L]) -> (fate: Fate, layer: Int)? {
        for j in (layer + 1)..<max(layer + 1, layers.count) {
            if let f = fate(of: path, ancestors: ancestors, in: layers[j]) { return (f, j) }
        }
        return nil
    }

    /// A layer's events that can also be listed, so that many paths can be decided in one pass (`fates`).
    public protocol ListedEvents: Events where Key: Hashable {
        /// How many paths the layer names (entries, whiteouts, opaque markers, directories its entries need).
        var pathCount: Int { get }
        /// Each path the layer names, in any order, repeats allowed.
        func forEachPath(_ body: (Key) -> Void)
    }

    /// Whether `layer` does something to what a lower layer has at `path` by naming the path itself (a whiteout
    /// of it, an entry at it, an entry under it); with `deletesBelow` for the ancestors, this is exactly when
    /// `fate` is not nil (`OverlayTests` checks it), which lets `fates` look only at the layers that do.
    static func touches<L: Events>(_ path: L.Key, in layer: L) -> Bool {
        layer.whitesOut(path) || layer.entryIsDirectory(path) != nil || layer.holdsEntries(under: path)
    }

    /// Whether `layer` removes everything under `directory` from the layers below.
    static func deletesBelow<L: Events>(_ directory: L.Key, in layer: L) -> Bool {
        layer.whitesOut(directory) || layer.isOpaque(directory) || layer.entryIsDirectory(directory) == false
    }

    /// `fate(of:ancestors:in:under:)` for many paths at once, each in its own layer, in one pass down the layers:
    /// each layer is asked only about the paths it names or the paths asked about, whichever are fewer, so the
    /// cost is that of the layers' events and of the paths' depth, not of their product (an image of thousands of
    /// layers with thousands of findings).
    public static func fates<L: ListedEvents>(of places: [(path: L.Key, ancestors: [L.Key], layer: Int)],
                                              under layers: [L]) -> [(fate: Fate, layer: Int)?] {
        var out = [(fate: Fate, layer: Int)?](repeating: nil, count: places.count)
        var relevant = Set<L.Key>()
        var byLayer: [Int: [Int]] = [:]
        for (i, p) in places.enumerated() where p.layer >= 0 && p.layer < layers.count {
            byLayer[p.layer, default: []].append(i)
            relevant.insert(p.path)
            relevant.formUnion(p.ancestors)
        }
        guard !byLayer.isEmpty else { return out }
        // The lowest layer above the one being answered for that touches each path, or deletes below it.
        var touchedAt: [L.Key: Int] = [:], deletesAt: [L.Key: Int] = [:]
        for j in stride(from: layers.count - 1, through: 0, by: -1) {
            for i in byLayer[j] ?? [] {
                let p = places[i]
                let first = ([touchedAt[p.path]] + p.ancestors.map { deletesAt[$0] }).compactMap { $0 }.min()
                if let first, let f = fate(of: p.path, ancestors: p.ancestors, in: layers[first]) { out[i] = (f, first) }
            }
            let layer = layers[j]
            func note(_ k: L.Key) {
                if touches(k, in: layer) { touchedAt[k] = j }
                if deletesBelow(k, in: layer) { deletesAt[k] = j }
            }
            if relevant.count <= layer.pathCount {
                relevant.forEach(note)
            } else {
                layer.forEachPath { if relevant.contains($0) { note($0) } }
            }
        }
        return out
    }

    /// A whiteout in a layer: the path it removes from the layers below (`.wh.NAME`), or the directory it empties
    /// (`.wh..wh..opq`), and the marker entry that says so.
    public struct Marker: Sendable, Equatable {
        public var path: String
        public var marker: String

        public init(path: String, marker: String) {
            self.path = path
            self.marker = marker
        }
    }

    /// What a `Tree` keeps per path: anything that knows its path and whether it is a directory.
    public protocol Entry {
        var path: String { get }
        var isDirectory: Bool { get }
    }

    /// Something a layer removed from the filesystem of the layers below, or replaced.
    public struct Removal<E>: CustomStringConvertible {
        /// What was there.
        public var entry: E
        /// The layer whose blob still holds it.
        public var layer: Int
        public var removedIn: Int
        /// The entry of `removedIn` that removed it: a whiteout marker, an opaque marker, or an entry that needed a
        /// directory where it was (at it, or above it). Nil when an entry at the same path replaced it.
        public var via: String?

        public var description: String { "\(entry) of layer \(layer) removed in \(removedIn) via \(via ?? "-")" }
    }

    /// One entry of the layer being applied, and whether its path held something below (implied directories
    /// count; so does a path this layer's whiteouts had just removed).
    public struct Applied<E> {
        public var entry: E
        public var existedBelow: Bool
    }

    /// What applying one layer did: its own entries (unless not asked for) and what it removed below.
    public struct Changes<E> {
        public var entries: [Applied<E>] = []
        public var removals: [Removal<E>] = []
    }

    /// The filesystem the layers make, built one layer at a time: a layer's opaque markers and whiteouts remove
    /// from the layers below, then its entries are put in place in tar order.
    ///
    /// Nodes live in one array and refer to each other by index, so a hostile path thousands of components deep
    /// costs memory in proportion to its length and nothing recursive (no deep `deinit`, no deep call stack).
    public struct Tree<E: Entry> {
        public struct Node {
            public var name: String
            public var parent: Int
            public var children: [String: Int] = [:]
            /// Nil for a directory no tar names (implied by the paths under it).
            public var entry: E?
            /// The layer of the entry, or the layer that implied the directory.
            public var layer: Int
            /// Whether the layer of the entry found something at its path.
            public var existedBelow = false
            /// The layer that created the node: a node created by the layer being applied did not exist below.
            var born: Int
        }

        public private(set) var nodes: [Node] = [Node(name: "", parent: 0, layer: -1, born: -1)]

        public init() {}

        /// The node at a path, without following links.
        public func lookup(_ path: String) -> Int? {
            var cur = 0
            for comp in path.split(separator: "/") {
                guard let child = nodes[cur].children[String(comp)] else { return nil }
                cur = child
            }
            return cur
        }

        public func exists(_ path: String) -> Bool { lookup(path) != nil }

        private func isDirectory(_ i: Int) -> Bool { nodes[i].entry?.isDirectory ?? true }

        /// Applies layer `layer`; returns its entries and whether each existed below (unless `listingEntries` is
        /// false: a layer of a million files need not be copied when only the result counts), and everything it
        /// removed or replaced below.
        @discardableResult
        public mutating func apply<C: Collection>(layer: Int, opaques: [Marker], whiteouts: [Marker], entries: C,
                                                  listingEntries: Bool = true) -> Changes<E> where C.Element == E {
            var changes = Changes<E>()
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

            for opaque in opaques {
                guard let n = lookup(opaque.path), isDirectory(n) else { continue }
                clearChildren(n, via: opaque.marker)
            }
            for whiteout in whiteouts where whiteout.path != "/" {
                guard let n = lookup(whiteout.path) else { continue }
                removeSubtree(n, via: whiteout.marker)
                nodes[nodes[n].parent].children[nodes[n].name] = nil
            }
            for e in entries {
                let comps = e.path.split(separator: "/")
                var cur = 0
                for (k, comp) in comps.enumerated() {
                    let name = String(comp)
                    if let child = nodes[cur].children[name] {
                        if k < comps.count - 1, let old = nodes[child].entry, !old.isDirectory {
                            // A non-directory on the way becomes the directory this entry needs: what it was is gone.
                            changes.removals.append(Removal(entry: old, layer: nodes[child].layer, removedIn: layer, via: e.path))
                            removedPaths.insert(old.path)
                            nodes[child].entry = nil
                            nodes[child].layer = layer
                        }
                        cur = child
                    } else {
                        nodes.append(Node(name: name, parent: cur, layer: layer, born: layer))
                        nodes[cur].children[name] = nodes.count - 1
                        cur = nodes.count - 1
                    }
                }
                let existedBelow = nodes[cur].born < layer || removedPaths.contains(e.path)
                if !e.isDirectory {
                    clearChildren(cur, via: e.path)
                }
                if let old = nodes[cur].entry, !old.isDirectory {
                    changes.removals.append(Removal(entry: old, layer: nodes[cur].layer, removedIn: layer, via: nil))
                }
                nodes[cur].entry = e
                nodes[cur].layer = layer
                nodes[cur].existedBelow = existedBelow
                if listingEntries { changes.entries.append(Applied(entry: e, existedBelow: existedBelow)) }
            }
            return changes
        }

        /// Every entry of the filesystem, one at a time, in path order (a directory right before what it holds,
        /// names by their bytes), so a listing needs no sort of its own.
        public func forEachEntryInPathOrder(_ body: (E, Node) throws -> Void) rethrows {
            var stack = [0]
            while let i = stack.popLast() {
                if let e = nodes[i].entry { try body(e, nodes[i]) }
                // Pushed last-first, so the smallest name comes off the stack next.
                let sorted = nodes[i].children.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                stack.append(contentsOf: sorted.reversed().map(\.value))
            }
        }

        /// The same, in no particular order.
        public func forEachEntry(_ body: (E, Node) throws -> Void) rethrows {
            var stack = [0]
            while let i = stack.popLast() {
                if let e = nodes[i].entry { try body(e, nodes[i]) }
                stack.append(contentsOf: nodes[i].children.values)
            }
        }
    }
}
