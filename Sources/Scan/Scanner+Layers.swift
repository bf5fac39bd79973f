import Dispatch
import Foundation
import Layers
import OCI
import Secrets
import Synchronization

/// The layer pipeline: layers in parallel, each decompressed (and hashed) ahead on threads of its own
/// inside `LayerReader` while the tar is walked and matched on the worker's thread.
extension Scanner {
    func scanLayers(_ layers: [LayerRef]) -> [LayerResult] {
        // Each worker pulls the next index and stores its result under the lock; no unsafe buffer, nothing leaked.
        let results = Mutex<[LayerResult?]>(Array(repeating: nil, count: layers.count))
        let next = Counter()
        let workers = min(options.parallelism, layers.count)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let i = next.take(below: layers.count) {
                let r = scanLayer(layers[i])
                results.withLock { $0[i] = r }
                options.progress?.layerDone()
            }
        }
        return results.withLock { $0.map { $0 ?? LayerResult() } }
    }

    /// File data is read and matched in chunks of this size.
    static let chunkSize = 256 * 1024

    func scanLayer(_ layer: LayerRef) -> LayerResult {
        var result = LayerResult()
        // The tar walk and matching share this thread: a hand-off per file cost more than it overlapped
        // (layers of small files ping-ponged two threads). Decompression and both hashes run ahead on
        // threads of their own inside LayerReader, so one layer still keeps two cores busy.
        // Unsafe buffer: allocated here, freed on return, lent only to the reader and the matcher below.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var matching: LayerMatcher?
        // A file begun whose matcher has not failed: cut short by the layer, it is still ended.
        var open = false
        do {
            if options.matchContent { matching = try LayerMatcher(scanner: self) }
            var onBytes: (@Sendable (Int) -> Void)?
            if let progress = options.progress { onBytes = { progress.add($0) } }
            let source = try layer.blob.open(progress: onBytes)
            let reader = try LayerReader(source: source, name: layer.blob.displayName,
                                         expectedDigest: layer.expectedBlobDigest, expectedDiffID: layer.expectedDiffID,
                                         expectedSize: layer.expectedSize)
            while let entry = try reader.next() {
                if let w = Whiteout.classify(entry.path) {
                    switch w {
                    case .delete(let target): result.deletions.insert(target)
                    case .opaque(let dir): result.opaques.insert(dir)
                    case .metadata: break
                    }
                    // A whiteout's body is never extracted: data hidden there is scanned under the whiteout's name.
                    guard entry.size > 0 else { continue }
                } else if entry.kind != .trailingData {
                    result.entries[entry.path] = entry.kind == .directory
                }
                // Hard links with a body and the bytes after the end-of-archive marker are scanned like files.
                guard entry.hasData else { continue }
                if entry.kind == .file { result.files += 1 }
                try matching?.file.begin(entry)
                open = true
                while true {
                    let n = try reader.read(into: buffer)
                    if n == 0 { break }
                    result.bytes += Int64(n)
                    do { try matching?.file.feed(UnsafeRawBufferPointer(rebasing: buffer[..<n])) } catch {
                        open = false
                        throw error
                    }
                }
                open = false
                try matching?.collect()
            }
            result.digests = try reader.finish()
        } catch {
            result.error = "\(error)"
            // A layer cut short mid-file (not a matcher failure): what was read of the file still counts.
            if open { try? matching?.collect() }
        }
        if let matching {
            result.hits = matching.hits.items
            result.truncated = matching.hits.truncated
            result.suppressed = matching.suppressed
        }
        return result
    }

    /// A layer's matching: hits of its files, the path allowlist applied and the layer's share of the
    /// per-image cap kept (no image reports more than that of one layer).
    final class LayerMatcher {
        let scanner: Scanner
        let file: FileScan
        private(set) var hits: SeverityCap<LayerHit>
        private(set) var suppressed = 0

        init(scanner: Scanner) throws {
            self.scanner = scanner
            file = try FileScan(scanner: scanner)
            hits = SeverityCap(limit: scanner.options.maxFindingsPerImage)
        }

        /// Ends the current file and keeps its hits.
        func collect() throws {
            let found = try file.end()
            hits.truncated += file.truncated
            for h in found {
                if let allow = scanner.options.pathAllowlist, allow.contains(h.path) {
                    suppressed += 1
                    continue
                }
                hits.add(h, rank: scanner.engine.severityRanks[h.ruleIndex])
            }
        }
    }
}

/// What one layer held: hits, and the path events that decide later statuses.
struct LayerResult {
    var hits: [LayerHit] = []
    /// Hits left out by the per-file and per-layer caps.
    var truncated = 0
    /// Hits in allowlisted paths.
    var suppressed = 0
    /// Every non-whiteout path, true when a directory.
    var entries: [String: Bool] = [:]
    var deletions: Set<String> = []
    var opaques: Set<String> = []
    var files = 0
    var bytes: Int64 = 0
    var error: String?
    var digests: LayerReader.Digests?
}
