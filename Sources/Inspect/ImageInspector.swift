import Dispatch
import Foundation
import Layers
import OCI
import Reports
import Scan
import Synchronization

/// Looks inside one image layer by layer with the scanner's streaming machinery: nothing is extracted, no
/// file is held in memory, and only the blobs a question needs are read.
///
/// Every call blocks on layer streams (a registry blob is fed by the async client): call it from a thread
/// of its own, off the async pool.
public struct ImageInspector: Sendable {
    public let image: Image
    /// How reports and errors name the image: what the user typed.
    public let name: String
    /// History `created_by` lines as they are shown, by history index (secrets in them redacted by the caller).
    public var history: [String?]
    /// Draws a progress line while layers are read.
    public var progress: ScanProgress?
    /// Layers read at once when a question needs several.
    public var parallelism = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// An inspector of `image`; `history` defaults to the config's own lines.
    public init(image: Image, name: String, history: [String?]? = nil, progress: ScanProgress? = nil) {
        self.image = image
        self.name = name
        self.history = history ?? image.config.history.map(\.created_by)
        self.progress = progress
    }

    var layerCount: Int { image.layers.count }

    func checkLayer(_ n: Int) throws {
        guard n >= 0, n < layerCount else { throw InspectError.layerOutOfRange(image: name, layer: n, count: layerCount) }
    }

    /// The history entry that made each layer, and how it reads.
    func createdBy(layer: Int) -> (index: Int?, text: String?) {
        let map = image.config.historyIndexForLayer
        guard layer < map.count, let h = map[layer] else { return (nil, nil) }
        return (h, h < history.count ? history[h] : nil)
    }

    // MARK: layers

    /// One row per layer, the history entries that made no layer, and the bytes later layers delete or
    /// replace. Reads every layer. `findings` (layer → count) comes from a scan when asked for.
    public func layers(findings: [Int: Int]? = nil) throws -> LayersReport {
        var all = try listings(Array(0..<layerCount))
        let rows = all.map { l -> LayersReport.Layer in
            let ref = image.layers[l.index]
            let made = createdBy(layer: l.index)
            let created = made.index.flatMap { $0 < image.config.history.count ? image.config.history[$0].created : nil }
            return .init(index: l.index, digest: ref.digest?.description, diffID: ref.diffID?.description, size: ref.size,
                         uncompressedSize: l.digests?.uncompressedSize ?? 0, contentSize: l.contentBytes, files: l.fileCount,
                         createdBy: made.text, created: created, historyIndex: made.index, findings: findings.map { $0[l.index] ?? 0 })
        }
        var wasted: [LayersReport.WastedFile] = []
        var efficiency = EfficiencyCounter()
        // Only removals count here: listings are applied without copying their entries and let go once applied.
        do {
            var tree = MergedTree()
            for i in all.indices {
                all[i].dropPathIndex()
                let changes = tree.apply(all[i], listingEntries: false)
                efficiency.count(all[i], changes)
                for r in changes.removals where r.entry.type == .file && r.entry.size > 0 {
                    wasted.append(.init(path: r.entry.path, size: r.entry.size, layer: r.layer, removedInLayer: r.removedIn))
                }
                for s in all[i].shadowed where s.type == .file && s.size > 0 {
                    wasted.append(.init(path: s.path, size: s.size, layer: all[i].index, removedInLayer: all[i].index))
                }
                all[i] = all[i].emptied()
            }
        }
        // Largest first; then bottom layer first, then by path.
        wasted.sort { a, b in
            a.size != b.size ? a.size > b.size : a.layer != b.layer ? a.layer < b.layer : Self.pathOrder(a.path, b.path)
        }
        let madeLayers = Set(image.config.historyIndexForLayer.compactMap { $0 })
        let empty = history.indices.filter { !madeLayers.contains($0) }.map { LayersReport.HistoryRow(historyIndex: $0, createdBy: history[$0]) }
        return LayersReport(image: name, reference: image.reference, manifestDigest: image.manifestDigest?.description,
                            platform: image.platform?.description, layers: rows, emptyLayers: empty,
                            wasted: .init(bytes: wasted.reduce(0) { $0 + $1.size }, files: wasted),
                            efficiency: efficiency.result(userBytes: rows.dropFirst().reduce(0) { $0 + $1.contentSize }))
    }

    // MARK: files

    /// The entries of layer `layer` with how it changed the layers below (whiteouts and opaque directories
    /// expanded into the entries they delete), or with `layer` nil the merged filesystem with the layer each
    /// entry comes from. Reads layers 0 to `layer` (all for the merged view).
    public func files(layer: Int?, glob: PathGlob? = nil, deleted: Bool = false) throws -> FilesReport {
        if let layer { try checkLayer(layer) }
        let top = layer ?? layerCount - 1
        var all = try listings(Array(0..<(top + 1)))
        for i in all.indices { all[i].dropPathIndex() }
        var entries: [FilesReport.Entry] = []
        // The merged view: what layers removed (not directories), last removal of a path wins; what is present
        // at the end is not deleted.
        var removed: [String: Removal] = [:]
        func noteRemovals(_ changes: LayerChanges) {
            guard layer == nil else { return }
            for r in changes.removals where r.via != nil && r.entry.type != .dir && (glob?.matches(r.entry.path) ?? true) {
                removed[r.entry.path] = r
            }
        }
        // Each listing is let go once applied, and rows are made straight from the tree, which goes before
        // sorting: a listing of a million files is held about twice, not four times.
        do {
            var tree = MergedTree()
            for i in all.indices.dropLast() {
                noteRemovals(tree.apply(all[i], listingEntries: false))
                all[i] = all[i].emptied()
            }
            var last: LayerListing? = all.removeLast()
            if let layer, let top = last {
                let changes = tree.apply(top)
                last = nil
                let kept = Set(changes.entries.map(\.entry.path))
                entries = changes.entries.map { Self.row($0.entry, layer: layer, change: $0.change) }
                for r in changes.removals where r.via != nil && !kept.contains(r.entry.path) {
                    entries.append(Self.row(r.entry, layer: layer, change: .deleted))
                }
            } else {
                if let top = last { noteRemovals(tree.apply(top, listingEntries: false)) }
                last = nil
                for path in removed.keys where tree.exists(path) { removed[path] = nil }
                tree.forEachEntryInPathOrder { e, node in
                    if glob?.matches(e.path) ?? true { entries.append(Self.row(e, layer: node.layer, change: node.existedBelow ? .modified : .added)) }
                }
            }
        }
        if layer != nil {
            if let glob { entries.removeAll { !glob.matches($0.path) } }
            entries.sort { Self.pathOrder($0.path, $1.path) }
        }
        var hidden: Int?
        if layer == nil {
            hidden = deleted ? 0 : removed.count
            if deleted && !removed.isEmpty {
                for r in removed.values {
                    var row = Self.row(r.entry, layer: r.layer, change: .deleted)
                    row.removedInLayer = r.removedIn
                    entries.append(row)
                }
                entries.sort { Self.pathOrder($0.path, $1.path) }
            }
        }
        return FilesReport(image: name, reference: image.reference, layer: layer, glob: glob?.pattern, hiddenDeleted: hidden, entries: entries)
    }

    static func row(_ e: ListedEntry, layer: Int, change: Change) -> FilesReport.Entry {
        .init(path: e.path, type: e.type, size: e.size, mode: octal(e.mode), uid: e.uid, gid: e.gid, layer: layer, change: change,
              linkTarget: e.linkTarget, removedInLayer: nil)
    }

    /// Byte order: stable whatever the locale, and a directory sorts right before what it holds.
    static func pathOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8) { x, y in
            // "/" sorts before every other byte so that /a/b comes before /a-b.
            (x == 0x2F ? 0 : Int(x) + 1) < (y == 0x2F ? 0 : Int(y) + 1)
        }
    }

    // MARK: trace

    /// The life of one path across the layers: added, modified, deleted (and by what), re-added. Reads every
    /// layer; throws `pathNeverPresent` when no layer ever has it.
    public func trace(_ rawPath: String) throws -> TraceReport {
        let path = LayerPath.normalize(rawPath)
        let all = try listings(Array(0..<layerCount))
        var tree = MergedTree()
        var events: [TraceReport.Event] = []
        var deletedBefore = false
        for listing in all {
            let i = listing.index
            let before = tree.exists(path)
            let changes = tree.apply(listing)
            let after = tree.exists(path)
            let made = createdBy(layer: i)
            func event(_ change: Change, _ type: EntryType, size: Int64?, link: String? = nil, via: String? = nil) {
                events.append(.init(layer: i, change: change, type: type, size: size, linkTarget: link, createdBy: made.text,
                                    historyIndex: made.index, via: via))
            }
            if let e = listing.entry(path) {
                event(before ? .modified : deletedBefore ? .reAdded : .added, e.type, size: e.size, link: e.linkTarget)
            } else if let r = changes.removals.first(where: { $0.entry.path == path && $0.via != nil }) {
                event(.deleted, r.entry.type, size: nil, via: r.via)
                deletedBefore = true
            } else if before && !after {
                // A directory no tar named, removed with what it held.
                event(.deleted, .dir, size: nil)
                deletedBefore = true
            } else if !before && after {
                // A directory no tar names, implied by the paths this layer put under it.
                event(deletedBefore ? .reAdded : .added, .dir, size: 0)
            }
        }
        guard !events.isEmpty else { throw InspectError.pathNeverPresent(image: name, path: path) }
        return TraceReport(image: name, reference: image.reference, path: path, events: events)
    }

    // MARK: reading

    /// The listings of the given layers (in that order), read in parallel; throws the first failure.
    /// `announce`: start and end the progress line (not when the caller already did).
    func listings(_ indexes: [Int], announce: Bool = true) throws -> [LayerListing] {
        guard !indexes.isEmpty else { return [] }
        if announce { progress?.begin(layers: indexes.count, bytes: indexes.reduce(0) { $0 + image.layers[$1].size }) }
        defer { if announce { progress?.end() } }
        let results = Mutex<[LayerListing?]>(Array(repeating: nil, count: indexes.count))
        let failure = Mutex<InspectError?>(nil)
        let next = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: min(parallelism, indexes.count)) { _ in
            while failure.withLock({ $0 == nil }) {
                let k: Int? = next.withLock { v in
                    guard v < indexes.count else { return nil }
                    v += 1
                    return v - 1
                }
                guard let k else { return }
                do {
                    let (listing, _) = try LayerListing.read(image.layers[indexes[k]], image: name, progress: progress)
                    results.withLock { $0[k] = listing }
                } catch {
                    let e = error as? InspectError ?? .unreadableLayer(image: name, layer: indexes[k], reason: "\(error)")
                    failure.withLock { if $0 == nil { $0 = e } }
                }
            }
        }
        if let e = failure.withLock({ $0 }) { throw e }
        return results.withLock { $0.compactMap { $0 } }
    }
}
