import Core
import Foundation

/// Secrets that are encoded before they are stored: Docker config `auths` (base64 `user:password`),
/// `identitytoken`/`registrytoken`, Kubernetes `Secret` `data:` values and base64 environment values.
/// Each decoded value is a small document of its own for the rules.
public enum Decoders {
    /// A decoded value and where it was.
    public struct Decoded: Equatable, Sendable {
        /// The text to run the rules over.
        public var text: String
        /// The name it had: the registry host, the Secret's data key.
        public var key: String
        /// 1-based line of the encoded value in its file, when known.
        public var line: Int?
        /// For Docker credentials: the password or token itself, reported even when no rule recognises it.
        public var credential: String?
        /// The encoded text as it stands in the file (a Docker `auth` value), which the decoded credential supersedes.
        public var encoded: String?
    }

    /// The decoder for a file at `path` (a Docker config or a YAML file that may hold Kubernetes Secrets), if any;
    /// the scanner keeps such a file's content (at most `maxSize` bytes) for it.
    public static func decoder(for path: String) -> Detector? {
        let name = CredentialPaths.lastComponent(path).lowercased()
        if name == "config.json" || name == ".dockercfg" { return .dockerConfig }
        if name.hasSuffix(".yaml") || name.hasSuffix(".yml") { return .kubernetesSecret }
        return nil
    }

    public static let maxSize = 1 << 20

    /// Decodes what `content` holds for `decoder`.
    public static func decode(_ decoder: Detector, content: [UInt8]) -> [Decoded] {
        switch decoder {
        case .dockerConfig: return dockerConfig(content)
        case .kubernetesSecret: return kubernetesSecrets(content)
        default: return []
        }
    }

    /// `{"auths": {"host": {"auth": base64(user:pass), "identitytoken": …, "registrytoken": …}}}` and the
    /// legacy `.dockercfg` shape (hosts at the top level).
    static func dockerConfig(_ content: [UInt8]) -> [Decoded] {
        guard let root = try? JSONSerialization.jsonObject(with: Data(content)) as? [String: Any] else { return [] }
        let auths = (root["auths"] as? [String: Any]) ?? root
        var out: [Decoded] = []
        var needles: Set<String> = []
        for host in auths.keys.sorted() {
            guard let entry = auths[host] as? [String: Any] else { continue }
            if let auth = entry["auth"] as? String, let decoded = base64Text(auth), let colon = decoded.firstIndex(of: ":") {
                let password = String(decoded[decoded.index(after: colon)...]).trimmingCharacters(in: CharacterSet(charactersIn: "\0"))
                if !password.isEmpty {
                    out.append(Decoded(text: password, key: host, line: nil, credential: password, encoded: auth))
                    needles.insert(auth)
                }
            }
            for field in ["identitytoken", "registrytoken", "password"] {
                if let token = entry[field] as? String, !token.isEmpty {
                    out.append(Decoded(text: token, key: host, line: nil, credential: token))
                    needles.insert(token)
                }
            }
        }
        // One pass over the file for every line, not one search per credential (thousands of auths stay linear).
        let lines = stringLiteralLines(needles, in: content)
        for i in out.indices { out[i].line = lines[out[i].encoded ?? out[i].text] }
        return out
    }

    /// `kind: Secret` documents (the `kind` before or after the data, quoted or not, any case): every `data:` value
    /// is base64 of the real value, every `stringData:` value the value itself; a value may be a `|` or `>` block.
    /// A value that looks drawn at random (a password, a key; binary key material) is also the `credential`, reported
    /// under the decoder's rule when no content rule recognises it; one that reads as a word, a template or fill
    /// (`admin`, `mypassword`, `{{ .Values.x }}`), a certificate, or a name's or place's value (`username`, `region`) is not.
    static func kubernetesSecrets(_ content: [UInt8]) -> [Decoded] {
        let text = String(decoding: content, as: UTF8.self)
        guard text.range(of: "kind:", options: .caseInsensitive) != nil,
              text.range(of: "secret", options: .caseInsensitive) != nil else { return [] }
        // Split on bytes: to Swift, `\r\n` is one character, not a `\n`.
        let lines = content.split(separator: 0x0A, omittingEmptySubsequences: false)
            .map { String(decoding: $0.last == 0x0D ? $0.dropLast() : $0, as: UTF8.self) }
        var out: [Decoded] = []
        var first = 0
        for i in 0...lines.count where i == lines.count || lines[i].hasPrefix("---") {
            out += kubernetesSecretDocument(lines, first..<i)
            first = i + 1
        }
        return out
    }

    /// One YAML document of `kubernetesSecrets`: lines `range` of `lines`.
    static func kubernetesSecretDocument(_ lines: [String], _ range: Range<Int>) -> [Decoded] {
        func indent(_ line: String) -> Int { line.prefix(while: { $0 == " " || $0 == "\t" }).count }
        func blank(_ line: String) -> Bool {
            let t = line.trimmingCharacters(in: .whitespaces)
            return t.isEmpty || t.hasPrefix("#")
        }
        func unquoted(_ s: Substring) -> String {
            s.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
        }
        let content = range.filter { !blank(lines[$0]) }
        guard let top = content.map({ indent(lines[$0]) }).min() else { return [] }
        let topLines = content.filter { indent(lines[$0]) == top }
        // The document's own kind, at its top level (a `kind: SecretStore` under `spec:` is another object's).
        guard topLines.contains(where: { i in
            let t = lines[i].trimmingCharacters(in: .whitespaces)
            return t.lowercased().hasPrefix("kind:") && unquoted(t.dropFirst(5)).lowercased() == "secret"
        }) else { return [] }
        var out: [Decoded] = []
        // Positions in `content`, so that every line is looked at a bounded number of times (a hostile file of
        // many `data:` keys or `|` blocks stays linear).
        let topPositions = content.indices.filter { indent(lines[content[$0]]) == top }
        for (n, p) in topPositions.enumerated() {
            let t = lines[content[p]].trimmingCharacters(in: .whitespaces)
            let encoded: Bool
            if t == "data:" { encoded = true } else if t == "stringData:" { encoded = false } else { continue }
            let endPosition = n + 1 < topPositions.count ? topPositions[n + 1] : content.count
            let children = content[(p + 1)..<endPosition]
            guard let entryIndent = children.first.map({ indent(lines[$0]) }) else { continue }
            for k in children.indices where indent(lines[content[k]]) == entryIndent {
                let j = content[k]
                let entry = lines[j].trimmingCharacters(in: .whitespaces)
                guard let colon = entry.firstIndex(of: ":") else { continue }
                let key = unquoted(entry[..<colon])
                var value = unquoted(entry[entry.index(after: colon)...])
                var line = j + 1
                if value.hasPrefix("|") || value.hasPrefix(">") {
                    // A block: the more-indented lines under the key.
                    let next = children[(k + 1)...].firstIndex { indent(lines[$0]) <= entryIndent } ?? endPosition
                    let block = content[(k + 1)..<next]
                    guard let firstLine = block.first else { continue }
                    line = firstLine + 1
                    let parts = block.map { lines[$0].trimmingCharacters(in: .whitespaces) }
                    value = parts.joined(separator: encoded ? "" : "\n")
                }
                guard !value.isEmpty else { continue }
                if encoded {
                    let compact = value.filter { !$0.isWhitespace }
                    if let decoded = base64Text(compact) {
                        out.append(Decoded(text: decoded, key: key, line: line,
                                           credential: kubernetesCredential(decoded, key: key) ? decoded : nil, encoded: compact))
                    } else if let bytes = Base64.decodeLenient(compact), bytes.count >= 16, shannonEntropy(Array(bytes)) >= 3.5,
                              compact.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+/=_-".contains($0)) }) {
                        // Binary: key material, reported as it is written.
                        out.append(Decoded(text: "", key: key, line: line, credential: compact))
                    }
                } else {
                    out.append(Decoded(text: value, key: key, line: line,
                                       credential: kubernetesCredential(value, key: key) ? value : nil))
                }
            }
        }
        return out
    }

    /// Data keys whose values name or place something rather than prove an identity.
    static let kubernetesPlainKeys: Set<String> = [
        "user", "username", "user-name", "user_name", "login", "email", "namespace", "host", "hostname", "port",
        "url", "uri", "endpoint", "region", "database", "db", "dbname", "name", "ca.crt", "tls.crt", "ca.pem",
    ]

    /// Whether a Secret's decoded value is a credential worth reporting by itself: as varied as a random value of
    /// its alphabet and length (`SecretScore.randomness`), not a template, fill, a placeholder word or code, not a
    /// certificate, and not the value of a key that names or places. Unlike a generic value, `$` inside it is a
    /// password's character, not a shell variable: the Secret says its values are secrets.
    public static func kubernetesCredential(_ value: String, key: String) -> Bool {
        if kubernetesPlainKeys.contains(key.lowercased()) || value.contains("-----BEGIN CERTIFICATE") { return false }
        let bytes = Array(value.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        guard bytes.count >= 8, !bytes.contains(0x0A) else { return false }
        let text = String(decoding: bytes, as: UTF8.self)
        if ["${", "{{", "<", "%s", "%(", "[["].contains(where: text.contains) { return false }
        if SecretScore.containsWrittenWord(bytes, SecretScore.placeholderWords) || SecretScore.isCountedFill(bytes)
            || SecretScore.longestRun(bytes, step: 0) >= 4 || SecretScore.looksLikeCode(bytes) || SecretScore.isPublishedExample(bytes) {
            return false
        }
        return SecretScore.randomness(bytes) >= SecretScore.weak
    }

    /// An environment value that is base64 of readable text (at least 16 characters), decoded once.
    public static func base64Value(_ value: String) -> String? {
        guard value.count >= 16 else { return nil }
        return base64Text(value)
    }

    /// Standard or URL-safe base64 of UTF-8 text that is mostly printable; nil otherwise.
    static func base64Text(_ s: String) -> String? {
        let trimmed = s.trimmingCharacters(in: .whitespaces)
        guard trimmed.count >= 4, trimmed.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+/=_-".contains($0)) }) else {
            return nil
        }
        guard let data = Base64.decodeLenient(trimmed), !data.isEmpty, let text = String(data: data, encoding: .utf8) else { return nil }
        let printable = text.unicodeScalars.filter { $0.value >= 0x20 || $0 == "\n" || $0 == "\t" || $0 == "\r" }.count
        return Double(printable) >= Double(text.unicodeScalars.count) * 0.95 ? text : nil
    }

    /// The 1-based line of the first JSON string literal equal (as written, escapes not undone) to each of `needles`.
    static func stringLiteralLines(_ needles: Set<String>, in content: [UInt8]) -> [String: Int] {
        var found: [String: Int] = [:]
        guard !needles.isEmpty else { return found }
        let lengths = Set(needles.map(\.utf8.count))
        var line = 1
        var i = 0
        while i < content.count {
            let c = content[i]
            if c == 0x0A { line += 1 }
            guard c == 0x22 else { i += 1; continue }
            var j = i + 1
            while j < content.count && content[j] != 0x22 && content[j] != 0x0A {
                j += content[j] == 0x5C ? 2 : 1
            }
            let end = min(j, content.count)
            if lengths.contains(end - i - 1) {
                let literal = String(decoding: content[(i + 1)..<end], as: UTF8.self)
                if needles.contains(literal) && found[literal] == nil { found[literal] = line }
            }
            i = end + 1
            if end < content.count && content[end] == 0x0A { line += 1 }
        }
        return found
    }
}
