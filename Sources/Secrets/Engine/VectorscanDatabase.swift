#if canImport(Glibc)
import Glibc
#endif
import CVectorscan

/// A compiled Vectorscan streaming database; owns the `hs_database_t`.
final class VectorscanDatabase: @unchecked Sendable {
    private(set) var handle: OpaquePointer?

    /// Compiles `patterns` (expression, flags, the id matches report); throws naming the rule (`ruleIDs`, one per
    /// pattern) that failed.
    init(patterns: [(expression: String, flags: UInt32, id: UInt32)], ruleIDs: [String]) throws {
        var db: OpaquePointer?
        var compileError: UnsafeMutablePointer<hs_compile_error_t>?
        let cExpressions = patterns.map { strdup($0.expression) }
        defer { cExpressions.forEach { free($0) } }
        var exprPointers: [UnsafePointer<CChar>?] = cExpressions.map { UnsafePointer($0) }
        var flags: [UInt32] = patterns.map { $0.flags }
        var ids: [UInt32] = patterns.map { $0.id }
        let rc = exprPointers.withUnsafeMutableBufferPointer { ep in
            hs_compile_multi(ep.baseAddress, &flags, &ids, UInt32(patterns.count), UInt32(HS_MODE_STREAM), nil, &db, &compileError)
        }
        if rc != HS_SUCCESS {
            var message = "code \(rc)"
            var rule = "?"
            if let e = compileError {
                message = e.pointee.message.map { String(cString: $0) } ?? message
                let idx = Int(e.pointee.expression)
                if idx >= 0 && idx < ruleIDs.count { rule = ruleIDs[idx] }
                hs_free_compile_error(e)
            }
            throw SecretsError.vectorscanCompile(rule: rule, message: message)
        }
        handle = db
    }

    /// Takes ownership of an already built database.
    private init(handle: OpaquePointer) {
        self.handle = handle
    }

    /// A database from `hs_serialize_database` bytes; nil if Vectorscan rejects them (other version or
    /// platform, damaged) or they are not a streaming database.
    static func deserialize(_ bytes: UnsafeRawBufferPointer) -> VectorscanDatabase? {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return nil }
        let p = base.assumingMemoryBound(to: CChar.self)
        var size = 0
        guard hs_serialized_database_size(p, bytes.count, &size) == HS_SUCCESS, size > 0 else { return nil }
        var db: OpaquePointer?
        guard hs_deserialize_database(p, bytes.count, &db) == HS_SUCCESS, let db else { return nil }
        let result = VectorscanDatabase(handle: db)
        var streamSize = 0
        guard hs_stream_size(db, &streamSize) == HS_SUCCESS else { return nil }
        return result
    }

    /// The database as `hs_serialize_database` bytes, or nil if Vectorscan cannot serialize it.
    func serialized() -> [UInt8]? {
        var bytes: UnsafeMutablePointer<CChar>?
        var length = 0
        guard hs_serialize_database(handle, &bytes, &length) == HS_SUCCESS, let bytes else { return nil }
        defer { free(bytes) }
        return Array(UnsafeRawBufferPointer(start: bytes, count: length))
    }

    /// `hs_version()`, e.g. "5.4.9 2023-04-19".
    static var version: String { String(cString: hs_version()) }

    /// The host as Vectorscan tunes for it: CPU architecture, tuning family and feature bits.
    static var platform: String {
        #if arch(x86_64)
        var arch = "x86_64"
        #elseif arch(arm64)
        var arch = "arm64"
        #else
        var arch = "other"
        #endif
        var p = hs_platform_info_t()
        if hs_populate_platform(&p) == HS_SUCCESS {
            arch += "-tune\(p.tune)-features\(p.cpu_features)"
        }
        #if os(Linux)
        return "linux-" + arch
        #else
        return "darwin-" + arch
        #endif
    }

    deinit {
        if let h = handle { hs_free_database(h) }
    }
}

/// Per-thread Vectorscan scratch space.
final class VectorscanScratch {
    private(set) var handle: OpaquePointer?

    init(database: VectorscanDatabase) throws {
        var s: OpaquePointer?
        let rc = hs_alloc_scratch(database.handle, &s)
        guard rc == HS_SUCCESS else { throw SecretsError.vectorscan(call: "hs_alloc_scratch", code: rc) }
        handle = s
    }

    /// Grows the scratch so that it also serves `database`.
    func fit(_ database: VectorscanDatabase) throws {
        var s = handle
        let rc = hs_alloc_scratch(database.handle, &s)
        guard rc == HS_SUCCESS else { throw SecretsError.vectorscan(call: "hs_alloc_scratch", code: rc) }
        handle = s
    }

    deinit {
        if let h = handle { hs_free_scratch(h) }
    }
}
