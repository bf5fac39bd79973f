import Layers
import OCI
import Reports
import Scan

/// What a pass over a layer streams while listing it.
public enum Capture: Sendable, Equatable {
    /// The data of the first regular-file entry at this path.
    case path(String)
    /// The data of the entry at this position (a regular file).
    case ordinal(Int)
}

extension LayerListing {
    /// Lists a layer in one pass over its blob, streaming the data of the captured entry (if any) to `sink`
    /// on the way; checks digests and sizes at the end. Returns the listing and the ordinal of the entry
    /// streamed. Throws `InspectError.unreadableLayer` naming the layer, or whatever `sink` throws.
    static func read(_ layer: LayerRef, image: String, capture: Capture? = nil, sink: ((UnsafeRawBufferPointer) throws -> Void)? = nil,
                     progress: ScanProgress? = nil) throws -> (listing: LayerListing, streamed: Int?) {
        var listing = LayerListing(index: layer.index)
        var streamed: Int?
        do {
            var onBytes: (@Sendable (Int) -> Void)?
            if let progress { onBytes = { progress.add($0) } }
            let reader = try LayerReader(source: try layer.blob.open(progress: onBytes), name: layer.blob.displayName,
                                         expectedDigest: layer.expectedBlobDigest, expectedDiffID: layer.expectedDiffID,
                                         expectedSize: layer.expectedSize)
            // Owned by this pass alone and freed when it ends; every read stays within its bounds.
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
            defer { buffer.deallocate() }
            var ordinal = 0
            while let e = try reader.next() {
                defer { ordinal += 1 }
                // Pseudo-entries (the bytes after the end-of-archive marker or after the compressed stream) are
                // no part of the filesystem.
                if e.kind == .trailingData { continue }
                listing.add(e, ordinal: ordinal)
                guard let sink, streamed == nil, e.kind == .file else { continue }
                switch capture {
                case .path(let p) where p == e.path: break
                case .ordinal(let o) where o == ordinal: break
                default: continue
                }
                streamed = ordinal
                while true {
                    let n = try reader.read(into: buffer)
                    if n == 0 { break }
                    try sink(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
                }
            }
            listing.digests = try reader.finish()
            listing.resolveHardLinks()
        } catch let e as InspectError {
            throw e
        } catch {
            throw InspectError.unreadableLayer(image: image, layer: layer.index, reason: "\(error)")
        }
        progress?.layerDone()
        return (listing, streamed)
    }
}
