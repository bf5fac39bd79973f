import Dispatch
import Foundation
import Layers
import OCI
import Reports
import Secrets
import Synchronization

/// The layer pipeline: layers in parallel, each decompressed (and hashed) ahead on threads of its own
/// inside `LayerReader` while the tar is walked and matched on the worker's thread.
extension ImageScanner {
    func scanLayers(_ layers: [LayerRef]) -> [LayerScanResult] {
        // Each worker pulls the next index and stores its result under the lock; no unsafe buffer, nothing leaked.
        let results = Mutex<[LayerScanResult?]>(Array(repeating: nil, count: layers.count))
        let next = Counter()
        let workers = min(options.parallelism, layers.count)
        // Largest blob first: the longest pipeline starts at once and the small layers fill the cores beside it,
        // rather than a big top layer starting last and running alone at the end. Results keep the image's order.
        let order = layers.indices.sorted { (layers[$0].size, $1) > (layers[$1].size, $0) }
        // Archive bytes are bounded per scan too: many small layers of bombs each under the per-layer limit add up.
        let budget = ArchiveBudget(limit: options.archiveLimits.maxBytesPerImage)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let k = next.take(below: layers.count) {
                let i = order[k]
                let r = scanLayer(layers[i], archiveBudget: budget)
                results.withLock { $0[i] = r }
                options.progress?.layerDone()
            }
        }
        return results.withLock { $0.map { $0 ?? LayerScanResult() } }
    }

    /// Whether an archive is worth opening: not when the path allowlist would suppress whatever is found inside it
    /// (`/usr/share/doc/*/changelog.gz`, man pages: hundreds of megabytes in a Debian image). A member path like no
    /// other stands for every member: a pattern that tells members apart keeps the archive opened.
    func archiveWorthOpening(_ path: String) -> Bool {
        guard let allow = options.pathAllowlist else { return true }
        return !allow.contains(path + "!/stowaway-member/.env")
    }

    /// File data is read and matched in chunks of this size.
    static let chunkSize = 256 * 1024

    /// Scans one layer into its result, the one way `scan` and a sweep do: hits still hold their secrets (a sweep
    /// keeps `stored()`). Blocks on the layer's stream: call it from a thread of its own, not from the async pool.
    /// Never throws: a layer that cannot be read carries its `error`, with what was read before it.
    ///
    /// `archiveBudget`: the scan's archive bytes shared with its other layers (none for a result a sweep stores,
    /// which must depend on the layer alone).
    public func scanLayer(_ layer: LayerRef, archiveBudget: ArchiveBudget? = nil) -> LayerScanResult {
        var result = LayerScanResult()
        var paths = LayerPaths()
        // The tar walk and matching share this thread: a hand-off per file cost more than it overlapped
        // (layers of small files ping-ponged two threads). Decompression and both hashes run ahead on
        // threads of their own inside LayerReader, so one layer still keeps two cores busy.
        var matching: LayerMatcher?
        let walker = ArchiveWalker(limits: options.archiveLimits, enabled: options.archives, budget: archiveBudget,
                                   worthOpening: archiveWorthOpening)
        var visitor: LayerVisitor?
        do {
            if options.matchContent { matching = try LayerMatcher(scanner: self) }
            let files = LayerVisitor(matching: matching)
            visitor = files
            var onBytes: (@Sendable (Int) -> Void)?
            if let progress = options.progress { onBytes = { progress.add($0) } }
            let source = try layer.blob.open(progress: onBytes)
            let reader = try LayerReader(source: source, name: layer.blob.displayName,
                                         expectedDigest: layer.expectedBlobDigest, expectedDiffID: layer.expectedDiffID,
                                         expectedSize: layer.expectedSize)
            while let entry = try reader.next() {
                if let w = Whiteout.classify(entry.path) {
                    switch w {
                    case .delete(let target): paths.deletions.insert(PathKey(target))
                    case .opaque(let dir): paths.opaques.insert(PathKey(dir))
                    case .metadata: break
                    }
                    // A whiteout's body is never extracted: data hidden there is scanned under the whiteout's name.
                    guard entry.size > 0 else { continue }
                } else if entry.kind != .trailingData {
                    paths.add(entry.path, isDirectory: entry.kind == .directory)
                }
                // Hard links with a body and the bytes after the end-of-archive marker are scanned like files.
                guard entry.hasData else { continue }
                if entry.kind == .file { result.files += 1 }
                files.entry = entry
                // The file's bytes, and those of every archive it is or holds (`path!/member`), reach the matcher.
                try walker.walk(path: entry.path, size: entry.size, visitor: files) { try reader.read(into: $0) }
            }
            _ = try reader.finish()
        } catch {
            result.error = LayerScanResult.Failure(underlying: error)
            // A layer cut short mid-file (not a matcher failure): what was read of the file still counts.
            visitor?.endOpen()
        }
        if let visitor {
            result.bytes = visitor.bytes
            result.notes = visitor.notes
        }
        if let matching {
            result.hits = matching.hits.items.map(hit)
            result.truncated = matching.hits.truncated
            result.suppressed = matching.suppressed
        }
        paths.finish(into: &result)
        return result
    }

    /// A hit of a layer as its result keeps it: the finding `fileFinding` makes of it, and the hashes of its file's
    /// path and ancestors for its status.
    private func hit(_ hit: LayerHit) -> LayerScanResult.Hit {
        let f = fileFinding(hit)
        let place = hit.outer ?? hit.path
        return LayerScanResult.Hit(ruleID: f.ruleID, severity: f.severity, description: f.description, path: hit.path,
                                   line: hit.line, key: hit.key, secretSHA256: f.secretSHA256, redacted: f.redacted,
                                   details: f.details, confidence: f.confidence, archive: hit.outer, secret: f.secret,
                                   pathKey: PathKey(place), ancestorKeys: LayerPath.ancestors(place).map(PathKey.init))
    }

    /// A layer's matching: hits of its files and of the archive members inside them, the path allowlist applied
    /// and the layer's share of the per-image cap kept (no image reports more than that of one layer).
    ///
    /// One `FileScan` per archive depth: an archive's own bytes are still being matched while its members are. A
    /// secret found in a member is reported there, not again in the archive's bytes (a stored zip, a plain tar).
    final class LayerMatcher {
        let scanner: ImageScanner
        private var files: [FileScan] = []
        /// The archive file at each depth: its own hits, held until its members are done.
        private var held: [[LayerHit]] = []
        /// Secrets found inside the file at each depth (its members, at any depth below).
        private var inside: [Set<String>] = []
        private var outers: [String?] = []
        private(set) var hits: SeverityCap<LayerHit>
        private(set) var suppressed = 0

        init(scanner: ImageScanner) throws {
            self.scanner = scanner
            hits = SeverityCap(limit: scanner.options.maxFindingsPerImage)
        }

        /// Starts the file at `depth`; `outer` is the file of the layer that holds it, when it is an archive member.
        func begin(_ entry: LayerEntry, depth: Int, outer: String?) throws {
            while files.count <= depth {
                files.append(try FileScan(scanner: scanner))
                held.append([])
                inside.append([])
                outers.append(nil)
            }
            held[depth] = []
            inside[depth] = []
            outers[depth] = outer
            try files[depth].begin(entry)
        }

        func feed(_ chunk: UnsafeRawBufferPointer, depth: Int) throws { try files[depth].feed(chunk) }

        /// Ends the bytes of the file at `depth`; its hits wait for its members.
        func bytesEnded(depth: Int) throws {
            let found = try files[depth].end()
            hits.truncated += files[depth].truncated
            held[depth] = found.map { h in
                var h = h
                h.outer = outers[depth]
                return h
            }
        }

        /// Keeps the hits of the file at `depth` that its members did not already report.
        func end(depth: Int) {
            let found = inside[depth]
            let own = held[depth].filter { $0.secret.isEmpty || !found.contains($0.secret) }
            held[depth] = []
            if depth > 0 {
                inside[depth - 1].formUnion(found)
                inside[depth - 1].formUnion(own.map(\.secret))
            }
            for h in own {
                if let allow = scanner.options.pathAllowlist, allow.contains(h.path) {
                    suppressed += 1
                    continue
                }
                hits.add(h, rank: scanner.engine.severityRanks[h.ruleIndex])
            }
        }
    }

    /// Hands the archive walk's files to the matcher, counts the layer's bytes and keeps the walk's notes.
    final class LayerVisitor: ArchiveVisitor {
        let matching: LayerMatcher?
        /// The layer entry being walked (depth 0).
        var entry = LayerEntry(path: "/", kind: .file, size: 0)
        private(set) var bytes: Int64 = 0
        private(set) var notes: [ArchiveNote] = []
        /// Per open depth: whether its bytes ended. A matcher that failed is not asked again.
        private var open: [Bool] = []
        private var failed = false

        init(matching: LayerMatcher?) { self.matching = matching }

        func begin(path: String, outer: String, depth: Int, size: Int64) throws {
            let e = depth == 0 ? entry : LayerEntry(path: path, kind: .file, size: size)
            open.append(false)
            try guarded { try matching?.begin(e, depth: depth, outer: depth == 0 ? nil : outer) }
        }

        func bytes(_ chunk: UnsafeRawBufferPointer, depth: Int) throws {
            if depth == 0 { bytes += Int64(chunk.count) }
            try guarded { try matching?.feed(chunk, depth: depth) }
        }

        func bytesEnded(depth: Int) throws {
            open[depth] = true
            try guarded { try matching?.bytesEnded(depth: depth) }
        }

        func end(depth: Int) throws {
            open.removeLast()
            matching?.end(depth: depth)
        }

        func note(_ note: ArchiveNote) { notes.append(note) }

        private func guarded(_ f: () throws -> Void) throws {
            do { try f() } catch {
                failed = true
                throw error
            }
        }

        /// After the layer failed mid-file: the files open at that moment end with what was read of them.
        func endOpen() {
            guard !failed else { return }
            while let ended = open.last {
                let depth = open.count - 1
                if !ended { try? matching?.bytesEnded(depth: depth) }
                try? end(depth: depth)
            }
        }
    }
}

/// A layer's path events, gathered as its entries stream (each path hashed once), for the result's key sets.
struct LayerPaths {
    /// Every non-whiteout path, true when a directory (the last entry at a path decides).
    var entries: [PathKey: Bool] = [:]
    var deletions: Set<PathKey> = []
    var opaques: Set<PathKey> = []
    /// Every proper ancestor of the entries' paths but the root: what the layer makes a directory, named or not.
    private var implied: Set<String> = []

    /// Notes an entry and its ancestors; each directory is inserted once, so an entry costs about one set lookup
    /// beside its path's hash whatever its depth.
    mutating func add(_ path: String, isDirectory: Bool) {
        entries[PathKey(path)] = isDirectory
        var p = Substring(path)
        // A byte search: a `Character` one costs grapheme breaking on every entry of the layer.
        while let slash = p.utf8.lastIndex(of: UInt8(ascii: "/")), slash != p.startIndex {
            p = p[..<slash]
            if !implied.insert(String(p)).inserted { break }
        }
    }

    func finish(into result: inout LayerScanResult) {
        result.nonDirectories = PathKeySet(keys: entries.lazy.filter { !$0.value }.map(\.key))
        result.directories = PathKeySet(keys: entries.lazy.filter { $0.value }.map(\.key))
        result.deletions = PathKeySet(keys: deletions)
        result.opaques = PathKeySet(keys: opaques)
        result.impliedDirectories = PathKeySet(implied)
    }
}
