import Foundation

/// Everything the sweep refuses, each case carrying the offending value so the one-line message names it.
public enum SweepError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The config file could not be read at all.
    case unreadableConfig(path: String, reason: String)
    /// A key of the config is wrong: `key` is its place (`target[2].newest`), `reason` what is wrong with it.
    case config(path: String, key: String, reason: String)
    /// The store could not be opened, migrated, read or written.
    case store(path: String, reason: String)
    /// A shared run (`--run NAME`) exists with another rule set or config than this worker's.
    case runMismatch(name: String, store: String, reason: String)
    /// A `--db` URL that cannot be used: `url` is shown without its password.
    case databaseURL(url: String, reason: String)
    /// The webhook could not be delivered (reported as a warning, never a failure of the run).
    case webhook(url: String, reason: String)

    public var description: String {
        switch self {
        case .unreadableConfig(let p, let r): return "\(p): cannot read the sweep config (\(r))"
        case .config(let p, let k, let r): return "\(p): \(k): \(r)"
        case .store(let p, let r): return "\(p): sweep store: \(r)"
        case .webhook(let u, let r): return "webhook \(u): \(r)"
        case .runMismatch(let n, let s, let r): return "\(s): run \(n): \(r)"
        case .databaseURL(let u, let r): return "--db \(u): \(r)"
        }
    }
}
