import CPCRE2

/// A compiled PCRE2 pattern (JIT when available); shared read-only across threads.
final class PCRE2Regex: @unchecked Sendable {
    private var code: OpaquePointer?

    /// Compiles `pattern`; throws `SecretsError.pcre2Compile` naming `ruleID`.
    init(_ pattern: String, ruleID: String, caseless: Bool = false) throws {
        var errorCode: Int32 = 0
        var errorOffset: Int = 0
        let options: UInt32 = caseless ? UInt32(PCRE2_CASELESS) : 0
        let compiled = pattern.withCString { p in
            p.withMemoryRebound(to: UInt8.self, capacity: pattern.utf8.count) { up in
                pcre2_compile_8(up, pattern.utf8.count, options, &errorCode, &errorOffset, nil)
            }
        }
        guard let compiled else {
            throw SecretsError.pcre2Compile(rule: ruleID, offset: errorOffset, message: PCRE2Regex.message(errorCode))
        }
        code = compiled
        // JIT is an optimisation: a pattern it cannot handle still matches through the interpreter.
        _ = pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE | PCRE2_JIT_PARTIAL_HARD))
    }

    deinit {
        if let code { pcre2_code_free_8(code) }
    }

    static func message(_ code: Int32) -> String {
        var buf = [UInt8](repeating: 0, count: 256)
        let n = pcre2_get_error_message_8(code, &buf, buf.count)
        return n > 0 ? String(decoding: buf.prefix(Int(n)), as: UTF8.self) : "error \(code)"
    }

    /// What one match attempt found.
    enum Outcome: Equatable {
        case none
        /// A complete match: the whole match and the secret (the capture `group`, see `matches`), if non-empty.
        case match(whole: Range<Int>, secret: Range<Int>?)
        /// The subject ended inside a possible match starting at `start`: more bytes are needed to decide.
        case partial(start: Int)
    }

    /// The first match in `subject` starting at or after `start` (exactly at `start` when `anchored`). With
    /// `partial`, the end of `subject` is not the end of the document: a match that reaches it (including a
    /// lookahead, `\z` or `$` tested there) is reported as `.partial` rather than cut short. Bytes before
    /// `start` are context for lookbehinds only.
    func next(in subject: UnsafeRawBufferPointer, from start: Int, group: Int, partial: Bool, anchored: Bool = false,
              data: PCRE2MatchData, ruleID: String) throws -> Outcome {
        guard let base = subject.baseAddress?.assumingMemoryBound(to: UInt8.self), start <= subject.count else { return .none }
        var options: UInt32 = 0
        if partial { options |= UInt32(PCRE2_PARTIAL_HARD) }
        if anchored { options |= UInt32(PCRE2_ANCHORED) }
        let rc = pcre2_match_8(code, base, subject.count, start, options, data.handle, nil)
        if rc == PCRE2_ERROR_NOMATCH { return .none }
        let ov = pcre2_get_ovector_pointer_8(data.handle)!
        if rc == PCRE2_ERROR_PARTIAL { return .partial(start: Int(ov[0])) }
        if rc < 0 { throw SecretsError.pcre2Match(rule: ruleID, message: PCRE2Regex.message(rc)) }
        let m0 = Int(ov[0]), m1 = Int(ov[1])
        var s = m0, e = m1
        if group > 0 && group < Int(rc) {
            let gs = ov[2 * group], ge = ov[2 * group + 1]
            if gs != Int(bitPattern: UInt.max) { s = Int(gs); e = Int(ge) }
        } else if group < 0 {
            // The first capture group that matched a non-empty string (gitleaks without secretGroup).
            for g in 1..<max(1, Int(rc)) {
                let gs = ov[2 * g], ge = ov[2 * g + 1]
                if gs != Int(bitPattern: UInt.max) && ge > gs { s = Int(gs); e = Int(ge); break }
            }
        }
        return .match(whole: m0..<m1, secret: e > s ? s..<e : nil)
    }

    /// Every non-overlapping match in a complete `subject`, as the byte range of `group` (whole match if the group
    /// did not take part; a negative `group`: the first non-empty capture group).
    func matches(in subject: UnsafeRawBufferPointer, group: Int, data: PCRE2MatchData, ruleID: String) throws -> [Range<Int>] {
        var results: [Range<Int>] = []
        var start = 0
        while start <= subject.count {
            guard case .match(let whole, let secret) = try next(in: subject, from: start, group: group, partial: false,
                                                                 data: data, ruleID: ruleID) else { break }
            if let secret { results.append(secret) }
            start = whole.isEmpty ? whole.lowerBound + 1 : whole.upperBound
        }
        return results
    }

    /// Whether the pattern matches anywhere in `text`.
    func matches(_ text: String, data: PCRE2MatchData) -> Bool {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { b in
            pcre2_match_8(code, b.baseAddress, b.count, 0, 0, data.handle, nil) >= 0
        }
    }
}

/// A PCRE2 match-data block; one per thread.
final class PCRE2MatchData {
    let handle: OpaquePointer

    init() {
        handle = pcre2_match_data_create_8(32, nil)
    }

    deinit { pcre2_match_data_free_8(handle) }
}
