import Foundation

/// Takes credentials out of text a registry or token server sent back before it reaches an error message:
/// servers echo what they were given (one echoed the Basic credential in its error body).
struct Redactor: Sendable {
    private(set) var secrets: Set<String> = []

    /// Secrets shorter than this are not searched for piecewise: a message containing one is dropped whole,
    /// since redacting every "ab" would mangle the text and still might not hide the credential.
    static let shortest = 6
    /// Longest message kept, in characters.
    static let longest = 300

    /// Adds a secret and the forms it travels in: itself, percent-encoded (form bodies, query strings).
    mutating func add(_ secret: String) {
        guard !secret.isEmpty else { return }
        secrets.insert(secret)
        if let encoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics), encoded != secret {
            secrets.insert(encoded)
        }
    }

    /// Adds a credential in every form it is sent: the password or token, `user:password` and its base64.
    mutating func add(_ credential: Credential) {
        switch credential.kind {
        case .basic(let user, let password):
            add(password)
            add("\(user):\(password)")
            add(Data("\(user):\(password)".utf8).base64EncodedString())
        case .identityToken(let t), .registryToken(let t):
            add(t)
        }
    }

    /// Adds an `Authorization` value: the whole header and its credentials part.
    mutating func add(authorization value: String) {
        add(value)
        if let space = value.firstIndex(of: " ") { add(String(value[value.index(after: space)...])) }
    }

    /// `text` as one line of at most `longest` characters with every known secret replaced by `[redacted]`;
    /// empty when a short secret occurs in it.
    func clean(_ text: String) -> String {
        var s = text
        // Longest first, so a secret containing another is replaced whole.
        for secret in secrets.sorted(by: { $0.count > $1.count }) where s.contains(secret) {
            if secret.count < Self.shortest { return "" }
            s = s.replacingOccurrences(of: secret, with: "[redacted]")
        }
        let words = s.split(whereSeparator: { $0.isWhitespace || $0.isNewline })
        s = words.joined(separator: " ")
        if s.count > Self.longest { s = String(s.prefix(Self.longest - 1)) + "…" }
        return s
    }
}
