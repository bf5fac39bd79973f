import Foundation

/// A `--db postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=…&sslrootcert=FILE]` value, parsed. `shown` is
/// the URL with its password replaced by `***`: the one form any message, log or report may carry.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// How the connection is secured, as libpq's `sslmode` names it (the modes that mean something here).
    public enum SSLMode: String, Sendable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, without checking its certificate (libpq's default).
        case prefer
        /// TLS or no connection, without checking the certificate.
        case require
        /// TLS with the certificate checked against the trust roots (or `sslrootcert`) and the host name.
        case verifyFull = "verify-full"
    }

    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    public var sslMode: SSLMode
    /// A CA file for `verify-full` instead of the system's trust roots.
    public var sslRootCert: String?
    /// The URL without its password.
    public var shown: String

    /// Interpolating the value shows the redacted URL, never the password.
    public var description: String { shown }
    public var debugDescription: String { shown }

    /// Whether a `--db` value is meant as a PostgreSQL URL (anything else is an SQLite path).
    public static func looksLike(_ s: String) -> Bool {
        s.hasPrefix("postgres://") || s.hasPrefix("postgresql://")
    }

    /// Parses the URL; throws `SweepError.databaseURL` (naming the URL without its password) when a part is
    /// missing or wrong.
    public init(_ text: String) throws {
        let shown = Self.redact(text)
        func fail(_ reason: String) -> SweepError { .databaseURL(url: shown, reason: reason) }
        guard let c = URLComponents(string: text), let scheme = c.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw fail("not a URL of the form postgres://USER[:PASSWORD]@HOST[:PORT]/DB")
        }
        guard let user = c.user, !user.isEmpty else { throw fail("no user (postgres://USER@HOST/DB)") }
        guard let host = c.host, !host.isEmpty else { throw fail("no host") }
        let db = String(c.path.drop(while: { $0 == "/" }))
        guard !db.isEmpty, !db.contains("/") else { throw fail("no database name (postgres://USER@HOST/DB)") }
        self.user = user.removingPercentEncoding ?? user
        password = c.password.map { $0.removingPercentEncoding ?? $0 }
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        port = c.port ?? 5432
        guard (1...65535).contains(port) else { throw fail("port \(port) out of range") }
        database = db.removingPercentEncoding ?? db
        sslMode = .prefer
        for q in c.queryItems ?? [] {
            switch q.name {
            case "sslmode":
                guard let v = q.value, let mode = SSLMode(rawValue: v) else {
                    throw fail("sslmode=\(q.value ?? "") (expected disable, prefer, require or verify-full)")
                }
                sslMode = mode
            case "sslrootcert":
                sslRootCert = q.value
            default:
                throw fail("unknown parameter \(q.name) (expected sslmode or sslrootcert)")
            }
        }
        self.shown = shown
    }

    /// The URL with everything between the user name and the last `@` replaced by `***`. Works on text that
    /// does not even parse, and errs on the side of hiding: a password holding `/`, `#` or `?` (unencoded) is
    /// still hidden, and an `@` later in the URL only hides more.
    public static func redact(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://") else { return text }
        let rest = text[schemeEnd.upperBound...]
        guard let at = rest.lastIndex(of: "@") else { return text }
        let userinfo = rest[..<at]
        guard let colon = userinfo.firstIndex(of: ":") else { return text }
        return String(text[..<schemeEnd.upperBound]) + userinfo[..<colon] + ":***" + String(rest[at...])
    }
}
