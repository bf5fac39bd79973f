/// Errors of the Secrets module, each carrying what caused it.
public enum SecretsError: Error, CustomStringConvertible, Equatable {
    case vectorscanCompile(rule: String, message: String)
    case vectorscan(call: String, code: Int32)
    case pcre2Compile(rule: String, offset: Int, message: String)
    case pcre2Match(rule: String, message: String)
    /// A rule file (gitleaks format) that cannot be used; the message names the rule or key.
    case config(String)
    /// A rule's regex uses syntax we cannot match faithfully (e.g. Unicode classes on bytes).
    case unsupportedRegex(rule: String, message: String)

    public var description: String {
        switch self {
        case .vectorscanCompile(let r, let m): return "rule \(r): Vectorscan cannot compile its pattern: \(m)"
        case .vectorscan(let c, let code): return "Vectorscan \(c) failed with code \(code)"
        case .pcre2Compile(let r, let o, let m): return "rule \(r): invalid regex at offset \(o): \(m)"
        case .pcre2Match(let r, let m): return "rule \(r): PCRE2 match failed: \(m)"
        case .config(let m): return "rule file: \(m)"
        case .unsupportedRegex(let r, let m): return "rule \(r): unsupported regex: \(m)"
        }
    }
}
