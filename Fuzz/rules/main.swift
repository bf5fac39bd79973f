// libFuzzer harness for the regexes of rule files: the Go RE2 → PCRE2 translator (our own parser of what a
// user's gitleaks-format rule file says), then PCRE2 and Vectorscan compiling what it wrote, then a match of
// the pattern over the input itself. Built by build.sh; no input may trap, hang or grow memory without bound.
// (The TOML around the regexes is read by toml++ through TOMLKit, a parser fuzzed upstream.)
import CPCRE2
import CVectorscan

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let pattern = String(decoding: bytes, as: UTF8.self)
    guard let (translated, groups) = try? GoRegex.translation(pattern, ruleID: "fuzz") else { return 0 }
    precondition(groups >= 0)

    // PCRE2 as the matcher confirms: compile, then look for the pattern in the input, partial matching on.
    if let regex = try? PCRE2Regex(translated, ruleID: "fuzz") {
        let data = PCRE2MatchData()
        bytes.withUnsafeBytes { subject in
            _ = try? regex.next(in: subject, from: 0, group: min(groups, 1), partial: true, data: data, ruleID: "fuzz")
        }
    }

    // Vectorscan as the engine compiles a rule (a prefilter, dot-all, streaming); errors are expected, crashes not.
    var db: OpaquePointer?
    var err: UnsafeMutablePointer<hs_compile_error_t>?
    let rc = translated.withCString { hs_compile($0, UInt32(HS_FLAG_PREFILTER | HS_FLAG_DOTALL), UInt32(HS_MODE_STREAM), nil, &db, &err) }
    if rc == HS_SUCCESS { hs_free_database(db) } else if let err { hs_free_compile_error(err) }
    return 0
}
