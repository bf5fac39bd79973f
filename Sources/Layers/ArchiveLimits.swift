import Synchronization

/// How far the walk into archives found in a layer goes. Each limit makes a bomb harmless: what it stops is
/// reported as an `ArchiveNote` of kind `.limit`, never dropped in silence, and the rest of the image is scanned.
public struct ArchiveLimits: Sendable, Equatable {
    /// Archive levels opened below a file of the layer: with 4, `/a.jar` (level 1) holds `b.jar` (2) holds
    /// `c.zip` (3) holds `d.tgz` (4), whose members are scanned; an archive among them is scanned as bytes only.
    public var maxDepth = 4
    /// Uncompressed bytes read from the members of one file of the layer, at every level together.
    public var maxBytesPerFile: Int64 = 1 << 30
    /// Uncompressed bytes read from archive members in one layer, every file together.
    public var maxBytesPerLayer: Int64 = 4 << 30
    /// Members of one file of the layer, at every level together.
    public var maxMembersPerFile = 100_000
    /// An archive whose members give more than this many bytes for each of its own (once past
    /// `ratioGrace`) is a bomb: the rest of it is left. 0 turns the check off.
    public var maxRatio = 200
    /// Bytes an archive may give before its ratio is judged: small, very compressible files are ordinary.
    public static let ratioGrace: Int64 = 16 << 20
    /// Memory one xz decoder may take (its dictionary, mostly): a header can ask for 1 GiB, xz -9 needs 65 MiB.
    public var maxDecoderMemory: UInt64 = 128 << 20
    /// Uncompressed bytes read from archive members in all the layers of one scan together (`scan`, not the
    /// per-layer results a sweep stores).
    public var maxBytesPerImage: Int64 = 8 << 30

    /// The defaults above.
    public init() {}

    /// A stable text of the limits, for cache keys: results made under other limits are not reused.
    public var fingerprint: String {
        "depth=\(maxDepth),file=\(maxBytesPerFile),layer=\(maxBytesPerLayer),members=\(maxMembersPerFile),ratio=\(maxRatio),xzmem=\(maxDecoderMemory)"
    }
}

/// The bytes archive members may still give in one scan, shared by the walkers of its layers (which run in parallel):
/// `ArchiveLimits.maxBytesPerImage`, counted down.
public final class ArchiveBudget: Sendable {
    private let left: Mutex<Int64>
    public let limit: Int64

    /// A budget of `limit` bytes.
    public init(limit: Int64) {
        self.limit = limit
        left = Mutex(limit)
    }

    /// Takes `n` bytes; false once the budget is spent (and for every call after).
    func take(_ n: Int64) -> Bool {
        left.withLock { left in
            left -= n
            return left >= 0
        }
    }
}

/// Something the archive walk could not do in full: a limit it reached, or an archive it could not read.
/// Neither is an error of the scan: the layer itself was read completely.
public struct ArchiveNote: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// A limit of `ArchiveLimits` stopped the walk into this archive.
        case limit
        /// The archive (or one of its members) is corrupt, truncated or encrypted.
        case unreadable
    }

    public var kind: Kind
    /// The archive's chain path (`/app/app.jar!/BOOT-INF/lib/inner.jar`).
    public var path: String
    public var reason: String

    /// A note about the archive at `path`.
    public init(kind: Kind, path: String, reason: String) {
        self.kind = kind
        self.path = path
        self.reason = reason
    }
}

/// What the archive walk tells its user, in order, on the walking thread. `begin` and `end` come in pairs
/// per file (a file of the layer at depth 0, an archive member deeper); between them come its bytes, then
/// (if it is an archive) its members, one level deeper. A file's `bytesEnded` comes before its members
/// when it had to be read whole first (zip), after them when it is read as it streams (tar): then its bytes
/// keep coming, at its own depth, while its members are open deeper.
public protocol ArchiveVisitor: AnyObject {
    /// A file starts: `path` is its chain path, `outer` the file of the layer that holds it.
    func begin(path: String, outer: String, depth: Int, size: Int64) throws
    /// The next bytes of the file open at `depth`, exactly as stored (an archive's own bytes, compressed).
    func bytes(_ chunk: UnsafeRawBufferPointer, depth: Int) throws
    /// The bytes of the file at `depth` ended.
    func bytesEnded(depth: Int) throws
    /// The file at `depth`, and every member inside it, is done.
    func end(depth: Int) throws
    /// A limit reached or an archive that could not be read.
    func note(_ note: ArchiveNote)
}
