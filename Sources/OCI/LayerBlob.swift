import Core
/// Where a layer's bytes come from: a file slice (save tarball, layout) or a registry blob.
public enum LayerBlob: Sendable {
    case file(FileSlice)
    case remote(RemoteBlob)

    /// Identity for scanning each blob once per run.
    public var key: String {
        switch self {
        case .file(let s): return "\(s.hostPath)@\(s.offset)"
        case .remote(let r): return r.descriptor.digest.description
        }
    }

    /// How errors name it.
    public var displayName: String {
        switch self {
        case .file(let s): return s.displayName
        case .remote(let r): return "\(r.reference.registry)/\(r.reference.repository)@\(r.descriptor.digest)"
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
        }
    }
}

/// A blob in a registry repository.
public struct RemoteBlob: Sendable {
    public let client: RegistryClient
    public let reference: Reference
    public let descriptor: Descriptor
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
