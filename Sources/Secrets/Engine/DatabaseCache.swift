import Core
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto

/// An on-disk cache of compiled Vectorscan databases, so a large rule set is compiled once per machine
/// rather than once per run.
///
/// One file per database key (rule-set fingerprint + a digest of the exact patterns and flags handed to
/// Vectorscan + Vectorscan version + platform). File layout, integers little-endian:
///
///     "STOWHSDB"            8 bytes magic
///     format version        UInt32 (currently 1)
///     key length            UInt32, then the key's UTF-8 bytes
///     payload length        UInt64
///     SHA-256 of payload    32 bytes
///     payload               `hs_serialize_database` output
///
/// Anything that does not check out (magic, version, key, length, checksum, `hs_deserialize_database`)
/// makes the file ignored; the caller recompiles and overwrites it. A cache that cannot be written is
/// not an error: the database is simply compiled each run. Files are written to a temporary name and
/// renamed into place, so concurrent runs never see a half-written file.
public struct DatabaseCache: Sendable, Equatable {
    public let directory: String

    static let magic = Array("STOWHSDB".utf8)
    static let formatVersion: UInt32 = 1
    /// Larger files are not read (no rule set comes close).
    static let maxFileSize = 1 << 30

    public init(directory: String) {
        self.directory = directory
    }

    /// `$STOWAWAY_CACHE_DIR`, else `$XDG_CACHE_HOME/stowaway`, else `~/.cache/stowaway`; nil without any.
    public static var `default`: DatabaseCache? {
        defaultDirectory(environment: { key in getenv(key).map { String(cString: $0) } }).map(DatabaseCache.init)
    }

    static func defaultDirectory(environment: (String) -> String?) -> String? {
        if let d = environment("STOWAWAY_CACHE_DIR"), !d.isEmpty { return d }
        if let d = environment("XDG_CACHE_HOME"), !d.isEmpty { return d + "/stowaway" }
        if let h = environment("HOME"), !h.isEmpty { return h + "/.cache/stowaway" }
        return nil
    }

    /// The file holding the database for `key`.
    func path(forKey key: String) -> String {
        let digest = SHA256.hash(data: Array(key.utf8)).hexString
        return directory + "/vectorscan-" + digest.prefix(32) + ".hsdb"
    }

    /// The cached database for `key`, or nil when there is none or it is not exactly right.
    func load(key: String) -> VectorscanDatabase? {
        guard let file = DatabaseCache.readFile(path(forKey: key)) else { return nil }
        return file.withUnsafeBytes { raw -> VectorscanDatabase? in
            guard let payload = DatabaseCache.payload(of: raw, key: key) else { return nil }
            return VectorscanDatabase.deserialize(payload)
        }
    }

    /// The payload of a cache file's bytes if its header matches `key` and the checksum holds.
    static func payload(of raw: UnsafeRawBufferPointer, key: String) -> UnsafeRawBufferPointer? {
        var r = ByteReader(raw)
        guard let m = r.bytes(magic.count), m.elementsEqual(magic),
              r.uint32() == formatVersion,
              let keyLength = r.uint32(), let k = r.bytes(Int(keyLength)), k.elementsEqual(key.utf8),
              let length = r.uint64(), let sum = r.bytes(32),
              UInt64(r.remaining) == length,
              let payload = r.bytes(Int(length)) else { return nil }
        guard SHA256.hash(data: payload).elementsEqual(sum) else { return nil }
        return payload
    }

    /// The complete file for `payload` under `key`.
    static func encode(payload: [UInt8], key: String) -> [UInt8] {
        var out = magic
        out.reserveCapacity(64 + key.utf8.count + payload.count)
        func append<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        append(formatVersion)
        append(UInt32(key.utf8.count))
        out.append(contentsOf: key.utf8)
        append(UInt64(payload.count))
        out.append(contentsOf: SHA256.hash(data: payload))
        out.append(contentsOf: payload)
        return out
    }

    /// Writes `database` for `key`; returns whether it was stored. Failures are silent by design.
    @discardableResult
    func store(_ database: VectorscanDatabase, key: String) -> Bool {
        guard let payload = database.serialized() else { return false }
        guard DatabaseCache.makeDirectories(directory) else { return false }
        return DatabaseCache.writeAtomically(DatabaseCache.encode(payload: payload, key: key), to: path(forKey: key))
    }

    // MARK: - Files

    static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size >= 0, Int(st.st_size) <= maxFileSize else { return nil }
        let size = Int(st.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        let ok = bytes.withUnsafeMutableBytes { b -> Bool in
            while done < size {
                let n = read(fd, b.baseAddress! + done, size - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                done += n
            }
            return true
        }
        return ok ? bytes : nil
    }

    /// `mkdir -p` with mode 0700 for created directories.
    static func makeDirectories(_ path: String) -> Bool {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            current += "/" + part
            if mkdir(current, 0o700) != 0 && errno != EEXIST { return false }
        }
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Writes to a unique temporary file next to `path`, then renames it over `path`.
    static func writeAtomically(_ bytes: [UInt8], to path: String) -> Bool {
        var g = SystemRandomNumberGenerator()
        let temp = path + ".tmp-\(getpid())-\(String(g.next(), radix: 16))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        var done = 0
        let ok = bytes.withUnsafeBytes { b -> Bool in
            while done < b.count {
                let n = write(fd, b.baseAddress! + done, b.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                done += n
            }
            return true
        }
        if close(fd) != 0 || !ok || rename(temp, path) != 0 {
            unlink(temp)
            return false
        }
        return true
    }

    // MARK: - Measurement

    /// Seconds to build a `MatchEngine` for `rules` without a usable cache entry (compile + write) and then
    /// with one (load), using the cache in `cacheDir`.
    public static func measureStartup(rules: [Rule], cacheDir: String) throws -> (cold: Double, warm: Double) {
        let cache = DatabaseCache(directory: cacheDir)
        for key in MatchEngine.databaseKeys(rules: rules) { unlink(cache.path(forKey: key)) }
        let clock = ContinuousClock()
        var engine: MatchEngine?
        let coldTime = try clock.measure { engine = try MatchEngine(rules: rules, cache: cache) }
        guard engine?.databaseWasCached == false else { throw SecretsError.config("cache entry in \(cacheDir) could not be removed") }
        let warmTime = try clock.measure { engine = try MatchEngine(rules: rules, cache: cache) }
        guard engine?.databaseWasCached == true else {
            throw SecretsError.config("database cache in \(cacheDir) is not writable; warm start not measured")
        }
        return (seconds(coldTime), seconds(warmTime))
    }

    static func seconds(_ d: Duration) -> Double {
        let c = d.components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}

/// Sequential little-endian reads over a byte buffer; nil past the end.
struct ByteReader {
    let raw: UnsafeRawBufferPointer
    var offset = 0

    init(_ raw: UnsafeRawBufferPointer) { self.raw = raw }

    var remaining: Int { raw.count - offset }

    mutating func bytes(_ n: Int) -> UnsafeRawBufferPointer? {
        guard n >= 0, n <= remaining else { return nil }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + n)])
    }

    mutating func uint32() -> UInt32? {
        guard let b = bytes(4) else { return nil }
        return b.enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
    }

    mutating func uint64() -> UInt64? {
        guard let b = bytes(8) else { return nil }
        return b.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }
}
