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

    /// `kind: Secret` documents: every `data:` value is base64 of the real value.
    static func kubernetesSecrets(_ content: [UInt8]) -> [Decoded] {
        let text = String(decoding: content, as: UTF8.self)
        guard text.contains("kind: Secret") || text.contains("kind: \"Secret\"") else { return [] }
        var out: [Decoded] = []
        var inSecret = false, inData = false
        var dataIndent = -1
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            if line.hasPrefix("---") { inSecret = false; inData = false; continue }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let indent = line.prefix(while: { $0 == " " }).count
            if indent == 0 && trimmed.hasPrefix("kind:") { inSecret = trimmed.contains("Secret") }
            if indent == 0 && !trimmed.isEmpty && !trimmed.hasPrefix("#") { inData = trimmed == "data:" }
            if inData && inSecret && indent > 0 {
                if dataIndent < 0 { dataIndent = indent }
                guard indent == dataIndent, let colon = trimmed.firstIndex(of: ":") else { continue }
                let key = String(trimmed[..<colon])
                var value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                value = value.trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
                if let decoded = base64Text(value) {
                    out.append(Decoded(text: decoded, key: key, line: i + 1, credential: nil))
                }
            } else if !inData {
                dataIndent = -1
            }
        }
        return out
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
