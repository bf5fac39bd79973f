import Core
/// Where a layer's bytes come from: a file slice (save tarball, layout) or a registry blob.
public enum LayerBlob: Sendable {
    case file(FileSlice)
    case remote(RemoteBlob)
    /// An entry of a stream that is read again from its start for each open (an engine's image save).
    case stream(StreamedBlob)

    /// Identity for scanning each blob once per run.
    public var key: String {
        switch self {
        case .file(let s): return "\(s.hostPath)@\(s.offset)"
        case .remote(let r): return r.descriptor.digest.description
        case .stream(let s): return s.displayName
        }
    }

    /// How errors name it.
    public var displayName: String {
        switch self {
        case .file(let s): return s.displayName
        case .remote(let r): return "\(r.reference.registry)/\(r.reference.repository)@\(r.descriptor.digest)"
        case .stream(let s): return s.displayName
        }
    }

    /// Opens the bytes for streaming; `progress` hears of every chunk read.
    public func open(progress: (@Sendable (Int) -> Void)? = nil) throws -> ByteSource {
        switch self {
        case .file(let s):
            let source = try s.open()
            guard let progress else { return source }
            return CountingSource(source, progress)
        case .remote(let r):
            return r.client.openBlob(r.reference, r.descriptor, progress: progress)
        case .stream(let s):
            let source = try s.open()
            guard let progress else { return source }
            return CountingSource(source, progress)
        }
    }
}

/// A blob in a registry repository.
public struct RemoteBlob: Sendable {
    public let client: RegistryClient
    public let reference: Reference
    public let descriptor: Descriptor
}

/// A file inside a stream that can be opened again from the start (each open is a new stream).
public struct StreamedBlob: Sendable {
    public let displayName: String
    public let length: Int64
    let open: @Sendable () throws -> ByteSource
}

/// Reports how many bytes pass through a source.
final class CountingSource: ByteSource {
    let inner: ByteSource
    let progress: @Sendable (Int) -> Void

    init(_ inner: ByteSource, _ progress: @escaping @Sendable (Int) -> Void) {
        self.inner = inner
        self.progress = progress
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try inner.read(into: buffer)
        progress(n)
        return n
    }

    func close() { inner.close() }
}
