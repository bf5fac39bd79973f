import Layers
import OCI

extension ImageInspector {
    /// Streams a file's bytes to `sink`, never holding the file whole.
    ///
    /// Which bytes: with `layer`, the entry at `path` in that layer; without, the entry in the last layer that
    /// has one, even when a later layer deletes it. A symlink is followed in the filesystem as of its layer
    /// (relative to its directory, absolute from the image's root: never the host's), a hard link to its
    /// target in the same layer (or below); a path that no layer names literally is resolved through
    /// symlinked directories (`/lib` → `usr/lib`) in the final filesystem.
    ///
    /// Which blobs are read, each once: `layer` alone when it holds a regular file at `path`; without
    /// `layer`, the layers from the top down to the first that has `path`. The file's bytes stream in that
    /// same pass. Following a link reads the layers from the link's down to its target's, and the target's
    /// layer once more if it was read already; a path no layer names literally reads every layer.
    ///
    /// Bytes are written as they are read; the blob's digests are checked when it has been read to its end,
    /// so a corrupt blob throws after its bytes were written.
    public func cat(_ rawPath: String, layer: Int?, to sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws -> CatResult {
        if let layer { try checkLayer(layer) }
        let path = LayerPath.normalize(rawPath)
        progress?.begin(layers: layer == nil ? layerCount : 1, bytes: layer.map { image.layers[$0].size } ?? image.layers.reduce(0) { $0 + $1.size })
        defer { progress?.end() }
        return try CatWalk(inspector: self, requested: path, sink: sink).run(layer: layer)
    }
}

/// The state of one `cat`: listings read so far (each layer's blob read once for them) and the bytes written.
private final class CatWalk {
    let inspector: ImageInspector
    let requested: String
    let sink: (UnsafeRawBufferPointer) throws -> Void
    var listings: [Int: LayerListing] = [:]
    var written: Int64 = 0
    var hops = 0

    init(inspector: ImageInspector, requested: String, sink: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.inspector = inspector
        self.requested = requested
        self.sink = sink
    }

    var name: String { inspector.name }

    func run(layer: Int?) throws -> CatResult {
        if let layer {
            let (listing, streamed) = try load(layer, capture: requested)
            guard let e = listing.entry(requested) else {
                throw InspectError.notInLayer(image: name, path: requested, layer: layer)
            }
            return try follow(e, in: layer, streamed: streamed)
        }
        for i in (0..<inspector.layerCount).reversed() {
            let (listing, streamed) = try load(i, capture: requested)
            if let e = listing.entry(requested) { return try follow(e, in: i, streamed: streamed) }
        }
        if inspector.layerCount > 0, let (i, e) = try resolveThroughLinks(requested, asOf: inspector.layerCount - 1) {
            return try follow(e, in: i, streamed: nil)
        }
        throw InspectError.pathNeverPresent(image: name, path: requested)
    }

    /// Follows links from `start` until a regular file, and makes sure its bytes were written: already, in
    /// the pass that found it (`streamed`), or by one more pass over its layer.
    private func follow(_ start: ListedEntry, in startLayer: Int, streamed startStreamed: Int?) throws -> CatResult {
        var e = start
        var layer = startLayer
        var streamed = startStreamed
        while true {
            // Bytes written from another copy than the one the tar keeps: nothing can take them back.
            if let s = streamed, s != e.ordinal || e.type != .file {
                throw InspectError.duplicateEntry(image: name, path: e.path, layer: layer)
            }
            switch e.type {
            case .file:
                if streamed == nil {
                    guard written == 0 else { throw InspectError.duplicateEntry(image: name, path: e.path, layer: layer) }
                    _ = try LayerListing.read(inspector.image.layers[layer], image: name, capture: .ordinal(e.ordinal), sink: write,
                                              progress: inspector.progress)
                }
                return CatResult(layer: layer, path: e.path, bytes: written)
            case .dir:
                throw InspectError.isDirectory(image: name, path: e.path, layer: layer)
            case .other:
                throw InspectError.notARegularFile(image: name, path: e.path, layer: layer, type: "a device, FIFO or socket")
            case .symlink:
                try hop()
                let raw = e.linkTarget ?? ""
                let target = raw.hasPrefix("/") ? LayerPath.normalize(raw) : LayerPath.normalize(Self.directory(of: e.path) + "/" + raw)
                guard !raw.isEmpty, let found = try lookup(target, asOf: layer) else {
                    throw InspectError.danglingLink(image: name, path: e.path, target: raw, layer: layer)
                }
                (layer, e, streamed) = found
            case .hardlink:
                try hop()
                let target = e.linkTarget ?? ""
                // A tar's hard link names an entry earlier in the same tar; an extractor that finds none links
                // to what the layers below left at that path.
                if let t = listings[layer]?.entry(target), t.ordinal < e.ordinal {
                    e = t
                    streamed = nil
                    continue
                }
                guard layer > 0, let found = try lookup(target, asOf: layer - 1) else {
                    throw InspectError.danglingLink(image: name, path: e.path, target: target, layer: layer)
                }
                (layer, e, streamed) = found
            }
        }
    }

    private func hop() throws {
        hops += 1
        guard hops <= MergedTree.maxHops else { throw InspectError.tooManyLinks(image: name, path: requested, limit: MergedTree.maxHops) }
    }

    /// The entry at `path` in the filesystem as of layer `top`: the first layer from `top` down that has it,
    /// unless a layer in between removes it; then through symlinked directories.
    private func lookup(_ path: String, asOf top: Int) throws -> (Int, ListedEntry, Int?)? {
        guard path.utf8.count <= MergedTree.maxPath else { return nil }
        for j in stride(from: top, through: 0, by: -1) {
            let (listing, streamed) = try load(j, capture: path)
            if let e = listing.entry(path) { return (j, e, streamed) }
            if listing.removesFromBelow(path) { break }
        }
        return try resolveThroughLinks(path, asOf: top).map { ($0.0, $0.1, nil) }
    }

    /// Resolves `path` through every symlink on the way in the filesystem as of layer `top`; needs the
    /// listings of every layer up to `top` (those not read yet are read in parallel).
    private func resolveThroughLinks(_ path: String, asOf top: Int) throws -> (Int, ListedEntry)? {
        let missing = (0...top).filter { listings[$0] == nil }
        for l in try inspector.listings(missing, announce: false) { listings[l.index] = l }
        var tree = MergedTree()
        for j in 0...top {
            guard let l = listings[j] else { continue }
            _ = tree.apply(l)
        }
        switch tree.resolve(path) {
        case .missing:
            return nil
        case .tooManyLinks:
            throw InspectError.tooManyLinks(image: name, path: requested, limit: MergedTree.maxHops)
        case .found(let n):
            let node = tree.nodes[n]
            // A directory no tar names has no entry of its own.
            let entry = node.entry ?? ListedEntry(path: path, type: .dir, size: 0, mode: 0o755, linkTarget: nil, ordinal: -1)
            return (node.layer, entry)
        }
    }

    /// A layer's listing, reading its blob the first time; on that pass the first regular file at `capture`
    /// streams to the sink (its ordinal is returned).
    private func load(_ i: Int, capture: String) throws -> (LayerListing, Int?) {
        if let l = listings[i] { return (l, nil) }
        let (listing, streamed) = try LayerListing.read(inspector.image.layers[i], image: name, capture: .path(capture), sink: write,
                                                         progress: inspector.progress)
        listings[i] = listing
        return (listing, streamed)
    }

    private func write(_ chunk: UnsafeRawBufferPointer) throws {
        try sink(chunk)
        written += Int64(chunk.count)
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}
