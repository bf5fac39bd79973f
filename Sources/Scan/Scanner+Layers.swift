import Dispatch
import Foundation
import Layers
import OCI
import Secrets
import Synchronization

/// The layer pipeline: layers in parallel, each decompressed on one thread and matched on another.
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

    func scanLayer(_ layer: LayerRef) -> LayerResult {
        var result = LayerResult()
        // Matching runs on a thread of its own, fed through a bounded pipe, so it overlaps with decompression.
        let pipe = ChunkPipe()
        let consumer = options.matchContent ? LayerMatchThread(scanner: self, pipe: pipe) : nil
        consumer?.start()
        do {
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
                if consumer != nil { pipe.send(.begin(entry)) }
                while true {
                    guard let index = pipe.takeBuffer() else { throw consumer?.failure ?? CancellationError() }
                    let n = try reader.read(into: pipe.buffers[index])
                    result.bytes += Int64(n)
                    if n == 0 || consumer == nil {
                        pipe.giveBack(index)
                        if n == 0 { break } else { continue }
                    }
                    pipe.send(.data(index: index, count: n))
                }
                if consumer != nil { pipe.send(.end) }
            }
            pipe.close()
            result.digests = try reader.finish()
        } catch {
            result.error = "\(error)"
        }
        pipe.close()
        if let consumer {
            consumer.join()
            result.hits = consumer.hits.items
            result.truncated = consumer.hits.truncated
            result.suppressed = consumer.suppressed
            if result.error == nil, let f = consumer.failure { result.error = "\(f)" }
        }
        return result
    }

    /// The matching side of a layer's pipe: hits of the layer's files, the path allowlist applied and the
    /// layer's share of the per-image cap kept (no image reports more than that of one layer).
    final class LayerMatchThread: @unchecked Sendable {
        // Unchecked: `hits`, `suppressed` and `failure` are written by the matching thread only and read
        // only after `join()`, whose semaphore orders the accesses.
        let scanner: Scanner
        let pipe: ChunkPipe
        private(set) var hits: SeverityCap<LayerHit>
        private(set) var suppressed = 0
        private(set) var failure: Error?
        private let done = DispatchSemaphore(value: 0)

        init(scanner: Scanner, pipe: ChunkPipe) {
            self.scanner = scanner
            self.pipe = pipe
            hits = SeverityCap(limit: scanner.options.maxFindingsPerImage)
        }

        func start() {
            let t = Thread { [self] in
                run()
                done.signal()
            }
            t.stackSize = 1 << 20
            t.start()
        }

        func join() { done.wait() }

        func collect(_ file: FileScan) throws {
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

        func run() {
            do {
                let file = try FileScan(scanner: scanner)
                var open = false
                while let m = pipe.receive() {
                    switch m {
                    case .begin(let e):
                        try file.begin(e)
                        open = true
                    case .data(let index, let count):
                        defer { pipe.giveBack(index) }
                        try file.feed(UnsafeRawBufferPointer(rebasing: pipe.buffers[index][..<count]))
                    case .end:
                        try collect(file)
                        open = false
                    }
                }
                // A layer cut short mid-file: what was read of the file still counts.
                if open { try collect(file) }
            } catch {
                failure = error
                pipe.abort()
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
