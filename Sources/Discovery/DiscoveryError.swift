import Foundation

/// What target discovery refuses, each case carrying the offending value so the one-line message names it.
/// The wording is the sweep's and `scan --fly-app`'s, unchanged since discovery was part of the sweep.
public enum DiscoveryError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The Fly Machines API refused or failed: `what` is the org or app, `url` the request.
    case fly(what: String, url: String, status: Int?, message: String)
    /// A token or password the caller needs is not in the environment (a Fly organisation's token, a swept
    /// registry's password): `variables` are the ones looked at, in order.
    case missingToken(what: String, variables: [String])

    public var description: String {
        switch self {
        case .fly(let w, let u, let s, let m):
            return "Fly.io \(w): \(u) " + (s.map { "answered \($0)" } ?? "failed") + (m.isEmpty ? "" : ": \(m)")
        case .missingToken(let w, let v):
            return "\(w): no token in the environment (set \(v.joined(separator: " or ")))"
        }
    }
}
