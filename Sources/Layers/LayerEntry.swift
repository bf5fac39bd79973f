/// One entry of a layer tar, its path normalised to an absolute path (`/app/.env`).
///
/// Data can hide outside regular files, and `LayerReader` hands all of it over: a whiteout's body, a hard
/// link's body (pax allows one), and whatever follows the end-of-archive marker, as a `.trailingData`
/// pseudo-entry at `LayerEntry.trailingDataPath`. `hasData` says which entries to read.
public struct LayerEntry: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case file, directory, symlink, hardlink, other
        /// Not a tar entry: the bytes after the end-of-archive marker (past the zero padding), which no
        /// extractor writes anywhere but the blob still carries.
        case trailingData
    }

    /// Where findings in the bytes after the end-of-archive marker are reported. No tar entry can have this
    /// path: normalised entry paths never hold an empty component.
    public static let trailingDataPath = "//(after-end-of-archive)"

    public var path: String
    public var kind: Kind
    /// The file's size as the archive declares it: for a sparse file, its full length, holes included
    /// (only the data stored in the archive is read). 0 for `.trailingData`, whose length is unknown until read.
    public var size: Int64
    /// Target of a symlink or hardlink.
    public var linkTarget: String?

    /// Whether reading the entry can return bytes: every regular file, the trailing data, and any other
    /// entry that declares a body (a hard link with data).
    public var hasData: Bool { kind == .file || kind == .trailingData || size > 0 }

    public init(path: String, kind: Kind, size: Int64, linkTarget: String? = nil) {
        self.path = path
        self.kind = kind
        self.size = size
        self.linkTarget = linkTarget
    }

    /// Permission bits with setuid, setgid and sticky (`0o4755`); 0 where the reader does not say (hard links
    /// share their target's).
    public var mode: UInt32 = 0
    /// Owner and group ids as the archive records them (0 where it does not say).
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0

    /// An entry with its permission bits.
    public init(path: String, kind: Kind, size: Int64, linkTarget: String? = nil, mode: UInt32) {
        self.init(path: path, kind: kind, size: size, linkTarget: linkTarget)
        self.mode = mode
    }
}

/// Path rules of layer tars.
public enum LayerPath {
    /// `./app//x/` → `/app/x`; `..` never climbs above the root.
    public static func normalize(_ raw: String) -> String {
        if let plain = alreadyPlain(raw) { return plain }
        var parts: [Substring] = []
        for c in raw.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(c)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The normalised form of a path with no empty, `.` or `..` component (nearly every tar entry), without
    /// splitting it: the walk normalises every entry's name, and splitting cost 3 % of a scan's CPU.
    private static func alreadyPlain(_ raw: String) -> String? {
        var utf8 = raw.utf8[...]
        if utf8.first == UInt8(ascii: "/") { utf8 = utf8.dropFirst() }
        if utf8.last == UInt8(ascii: "/") { utf8 = utf8.dropLast() }
        if utf8.isEmpty { return raw.utf8.isEmpty || raw.utf8.allSatisfy({ $0 == UInt8(ascii: "/") }) ? "/" : nil }
        var componentLength = 0, dots = 0
        for b in utf8 {
            if b == UInt8(ascii: "/") {
                if componentLength == 0 || componentLength == dots && dots <= 2 { return nil }
                componentLength = 0
                dots = 0
            } else {
                componentLength += 1
                if b == UInt8(ascii: ".") { dots += 1 }
            }
        }
        if componentLength == dots && dots <= 2 { return nil }
        return "/" + String(Substring(utf8))
    }

    /// Every proper ancestor directory of an absolute path, nearest first (`/a/b/c` → `/a/b`, `/a`, `/`).
    public static func ancestors(_ path: String) -> [String] {
        var result: [String] = []
        var p = Substring(path)
        while let slash = p.lastIndex(of: "/") {
            p = p[..<slash]
            result.append(p.isEmpty ? "/" : String(p))
            if p.isEmpty { break }
        }
        return result
    }
}

/// The OCI whiteout conventions: `.wh.NAME` deletes NAME below; `.wh..wh..opq` empties its directory below.
public enum Whiteout: Equatable, Sendable {
    case delete(String)
    case opaque(String)
    /// Other `.wh..wh.` names (AUFS metadata): not content, not a deletion.
    case metadata

    /// Classifies a normalised path; nil when it is an ordinary entry.
    public static func classify(_ path: String) -> Whiteout? {
        // Bytes, not characters: every entry of every layer passes here, and a `Character` search costs grapheme
        // breaking (1 % of a scan's CPU). `/` is ASCII, so its byte index is a valid index of the string too.
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return nil }
        let name = path[path.utf8.index(after: slash)...]
        guard name.utf8.starts(with: ".wh.".utf8) else { return nil }
        let dir = slash == path.startIndex ? "/" : String(path[..<slash])
        if name == ".wh..wh..opq" { return .opaque(dir) }
        if name.hasPrefix(".wh..wh.") { return .metadata }
        let target = String(name.dropFirst(4))
        if target.isEmpty { return .metadata }
        return .delete(dir == "/" ? "/" + target : dir + "/" + target)
    }
}
