import Foundation

/// Named files of an image container: a directory (OCI layout, extracted save) or an uncompressed tarball.
public protocol FileTree: Sendable {
    /// The path the user gave.
    var displayName: String { get }
    /// The file at a relative `/`-separated path, if present.
    func slice(_ path: String) -> FileSlice?
}

extension FileTree {
    /// Reads a small file, or throws `missingBlob` naming it.
    public func read(_ path: String, what: String? = nil) throws -> Data {
        guard let s = slice(path) else { throw OCIError.missingBlob(image: displayName, name: what ?? path) }
        return try s.readAll()
    }

    public func contains(_ path: String) -> Bool { slice(path) != nil }
}

/// A directory on disk.
public struct DirectoryTree: FileTree {
    public let root: String
    public var displayName: String { root }

    public init(root: String) { self.root = root }

    public func slice(_ path: String) -> FileSlice? {
        let full = (root as NSString).appendingPathComponent(path)
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: full),
              attrs[.type] as? FileAttributeType == .typeRegular,
              let size = attrs[.size] as? NSNumber else { return nil }
        return FileSlice(hostPath: full, offset: 0, length: size.int64Value, displayName: full)
    }
}

/// An uncompressed tarball, indexed once so every entry can be read in place.
public struct TarTree: FileTree {
    public let displayName: String
    let entries: [String: FileSlice]

    /// Indexes `path`; throws `OCIError.notAnImage` when it is not a tar, `io` when truncated.
    public init(path: String) throws {
        displayName = path
        entries = try TarIndexer(path: path).index()
    }

    public func slice(_ path: String) -> FileSlice? {
        entries[TarIndexer.normalize(path)]
    }

    public var paths: [String] { Array(entries.keys) }
}
