#if canImport(Glibc)
import Glibc
#endif
import CVectorscan

/// A compiled Vectorscan streaming database; owns the `hs_database_t`.
final class VectorscanDatabase: @unchecked Sendable {
    private(set) var handle: OpaquePointer?

    /// Compiles `patterns` (expression, flags) with ids 0..<n; throws naming the rule that failed.
    init(patterns: [(expression: String, flags: UInt32)], ruleIDs: [String]) throws {
        var db: OpaquePointer?
        var compileError: UnsafeMutablePointer<hs_compile_error_t>?
        let cExpressions = patterns.map { strdup($0.expression) }
        defer { cExpressions.forEach { free($0) } }
        var exprPointers: [UnsafePointer<CChar>?] = cExpressions.map { UnsafePointer($0) }
        var flags: [UInt32] = patterns.map { $0.flags }
        var ids: [UInt32] = (0..<patterns.count).map(UInt32.init)
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

    deinit {
        if let h = handle { hs_free_scratch(h) }
    }
}
