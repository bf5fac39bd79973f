import Core
import Foundation

/// An image in the local Docker or Podman engine (`docker-daemon:REF`, `podman:REF`), read from the engine's
/// image save endpoint without writing it to disk.
///
/// A save tarball names its layers in `manifest.json`, which the engine writes after the layers, so one pass
/// cannot know which entries are layers while they go by. Instead the first save stream is indexed (headers
/// read, data skipped, small files kept in memory), and each layer is read when the scanner opens it from a
/// fresh save stream, skipping to that layer's offset. Nothing is written to disk and memory stays bounded;
/// the cost is one save per layer more, over the local socket. A layer that came out differently the second
/// time (the tag moved mid-scan) fails its digest check instead of being scanned silently.
struct EngineImageSource: ImageSource {
    let socket: EngineSocket
    /// The engine's name for the image: what follows `docker-daemon:` or `podman:`.
    let image: String
    /// What the user typed.
    let input: String

    var displayName: String { input }

    func roots() async throws -> [ImageRoot] {
        let tree = try StreamedTarTree.index(displayName: input) { try socket.openSave(image, source: input) }
        // Named as the user typed it, as a registry reference is: the header of every report says what was asked for.
        return try await DockerArchive(tree: tree, name: input).roots()
    }

    func document(_ d: Descriptor, kind: DocumentKind) async throws -> Data {
        throw OCIError.missingBlob(image: input, name: "\(kind.rawValue) \(d.digest) (a docker save names documents by path)")
    }

    func layerBlob(_ d: Descriptor) throws -> LayerBlob {
        throw OCIError.missingBlob(image: input, name: "layer \(d.digest) (a docker save names layers by path)")
    }
}

/// The regular files of a tar stream, indexed in one forward pass: where each one's data lies, and the data
/// of the small ones (configs, `manifest.json`) kept in memory within a budget.
struct StreamedTarTree: FileTree {
    let displayName: String
    let entries: [String: TarIndexer.Entry]
    let kept: [String: [UInt8]]
    /// Opens the tar stream from its start, again.
    let reopen: @Sendable () throws -> EngineStream

    /// Files up to this size are kept while indexing (configs are a few KB; larger ones are read again).
    static let keepBelow: Int64 = 1 << 20
    /// At most this much is kept in all.
    static let keptBudget = 64 << 20

    static func index(displayName: String, open: @escaping @Sendable () throws -> EngineStream) throws -> StreamedTarTree {
        let stream = try open()
        defer { stream.close() }
        var kept: [String: [UInt8]] = [:]
        var keptBytes = 0
        let entries = try TarIndexer(path: displayName).index(stream) { entry in
            guard entry.length <= keepBelow, keptBytes + Int(entry.length) <= keptBudget else { return }
            var data = [UInt8](repeating: 0, count: Int(entry.length))
            try stream.readExactly(&data, at: entry.offset)
            kept[entry.name] = data
            keptBytes += data.count
        }
        return StreamedTarTree(displayName: displayName, entries: entries, kept: kept, reopen: open)
    }

    func slice(_ path: String) throws -> FileSlice? { nil }

    func layer(_ path: String) throws -> (blob: LayerBlob, length: Int64)? {
        guard let e = entries[try ImagePath.components(path, image: displayName).joined(separator: "/")] else { return nil }
        let data = kept[e.name]
        let reopen = reopen, name = "\(displayName)!\(e.name)"
        let blob = StreamedBlob(displayName: name, length: e.length) {
            if let data { return DataSource(data) }
            return try EngineEntrySource(try reopen(), offset: e.offset, length: e.length, source: name)
        }
        return (.stream(blob), e.length)
    }

    func readFile(_ path: String, what: String?) throws -> Data {
        guard let e = entries[try ImagePath.components(path, image: displayName).joined(separator: "/")] else {
            throw OCIError.missingBlob(image: displayName, name: what ?? path)
        }
        if let data = kept[e.name] { return Data(data) }
        guard e.length <= Int64(ImageResolver.maxDocumentBytes) else {
            throw OCIError.unsupported(what: "\(displayName)!\(e.name)", reason: "larger than \(ImageResolver.maxDocumentBytes >> 20) MB")
        }
        let source = try EngineEntrySource(try reopen(), offset: e.offset, length: e.length, source: displayName)
        defer { source.close() }
        var data = [UInt8](repeating: 0, count: Int(e.length))
        var filled = 0
        try data.withUnsafeMutableBytes { buf in
            while filled < buf.count {
                let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buf[filled...]))
                if n == 0 { break }
                filled += n
            }
        }
        return Data(data)
    }
}
