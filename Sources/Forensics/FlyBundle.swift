import Crypto
import Foundation

/// A Fly.io token as found in an image: one token or a bundle of them, comma-separated, perhaps behind the
/// `FlyV1 ` or `Bearer ` scheme. Reads what it allows from the caveats alone (see shared/notes/fly-tokens.md):
/// no key, no network.
struct FlyBundle {
    var macaroons: [Macaroon] = []
    /// `fo1_` user tokens in the bundle.
    var userTokens = 0

    /// nil when `text` holds no Fly token.
    init?(_ text: String) {
        guard text.utf8.count <= Macaroon.maxTextLength else { return nil }
        var body = Substring(text)
        // Schemes are stripped repeatedly and case-insensitively, as flyctl does.
        while true {
            body = body.drop(while: { $0 == " " || $0 == "\t" })
            let lower = body.prefix(7).lowercased()
            if lower.hasPrefix("flyv1 ") { body = body.dropFirst(6) } else if lower.hasPrefix("bearer ") { body = body.dropFirst(7) } else { break }
        }
        // Every part must be a Fly token: a Fly-looking piece of some other secret is not one.
        for part in body.split(separator: ",") {
            let token = part.trimmingCharacters(in: .whitespaces)
            if token.isEmpty { continue }
            if token.hasPrefix("fo1_") {
                userTokens += 1
            } else if let m = Macaroon.decode(token: Substring(token)) {
                macaroons.append(m)
            } else {
                return nil
            }
        }
        guard !macaroons.isEmpty || userTokens > 0 else { return nil }
    }

    /// What the bundle allows at `now` (Unix seconds).
    func details(now: Int64) -> FindingDetails {
        let permissions = macaroons.filter(\.isPermission)
        let discharges = macaroons.filter { !$0.isPermission && $0.location != nil }
        if !permissions.isEmpty {
            let verdicts = permissions.map { Verdict(permission: $0, discharges: discharges, now: now) }
            // The most powerful permission token speaks for the bundle; a fully read one before a damaged one.
            let best = verdicts.enumerated().max { a, b in
                let ka = (a.element.readable ? 1 : 0, a.element.rating ?? .critical, -a.offset)
                let kb = (b.element.readable ? 1 : 0, b.element.rating ?? .critical, -b.offset)
                return ka < kb
            }
            if let best { return best.element.findingDetails }
        }
        if let first = macaroons.first {
            if first.location != nil, first.problem == nil {
                return FindingDetails(
                    summary: "Fly discharge token without its permission token: not usable on its own",
                    fly: FlyDetails(scope: .unknown, tokenID: first.nonce.map(Self.tokenID), discharged: nil), rating: .low)
            }
            // The parser's own words (a byte offset, a MessagePack type) tell a user nothing: say what it means.
            let summary = first.problem == nil
                ? "Fly token without a permission token that could be read: rated as a full-power token"
                : "Fly token that is damaged or cut short, so what it allows cannot be read: rated as a full-power token"
            return FindingDetails(summary: summary,
                                  fly: FlyDetails(scope: .unknown, tokenID: first.nonce.map(Self.tokenID)))
        }
        return FindingDetails(summary: "Fly user token (fo1_): acts as its user in every organization; expiry not readable offline",
                              fly: FlyDetails(scope: .user))
    }

    /// Fly's own token ID: UUIDv5(UUIDv5(namespace, kid), rnd), as superfly/macaroon's `Nonce.UUID()`.
    static func tokenID(_ nonce: Macaroon.Nonce) -> String {
        let namespace: [UInt8] = [0x96, 0x8f, 0xc2, 0xc6, 0xa9, 0x4f, 0x49, 0x88, 0xa5, 0x44, 0x2a, 0xd7, 0x2b, 0x02, 0xf2, 0x22]
        return uuidString(uuid5(uuid5(namespace, nonce.kid), nonce.rnd))
    }

    private static func uuid5(_ namespace: [UInt8], _ name: [UInt8]) -> [UInt8] {
        var u = Array(Insecure.SHA1.hash(data: namespace + name).prefix(16))
        u[6] = (u[6] & 0x0f) | 0x50
        u[8] = (u[8] & 0x3f) | 0x80
        return u
    }

    private static func uuidString(_ u: [UInt8]) -> String {
        let hex = u.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(separator: "-")
    }
}

/// Action masks: r=1 w=2 c=4 d=8 C=16.
enum Access {
    static let all: UInt64 = 31
    static let read: UInt64 = 1
    static let write: UInt64 = 30

    /// `rwcdC` order.
    static func letters(_ mask: UInt64) -> String {
        zip([1, 2, 4, 8, 16] as [UInt64], ["r", "w", "c", "d", "C"]).filter { mask & $0.0 != 0 }.map(\.1).joined()
    }
}

/// The power of one permission token together with the discharges that belong to it.
struct Verdict {
    var scope: FlyDetails.Scope
    /// What the token would be if its unreadable parts restrict nothing more (caveats only ever narrow).
    var boundScope: FlyDetails.Scope
    var organization: UInt64?
    var apps: [FlyDetails.App] = []
    /// Every app the token names, of which `apps` holds the first `FlyDetails.maxApps`.
    var appCount = 0
    var access: String?
    var expiresAt: Int64?
    var expired = false
    var tokenID: String?
    var discharged: Bool
    var rating: Rating?
    /// Why the scope is unknown, when it is: the start of the phrase.
    var reason: String?

    /// Whether the whole token was read and understood.
    var readable: Bool { scope != .unknown }

    init(permission p: Macaroon, discharges: [Macaroon], now: Int64) {
        tokenID = p.nonce.map(FlyBundle.tokenID)

        // A discharge belongs to the 3P caveat whose ticket is its key ID. One bound to this very tail is
        // preferred; one bound elsewhere may be bound to an earlier stage of this token (Fly accepts any).
        var matched: [Macaroon] = []
        var allDischarged = true
        let binding = p.tail.map { Array(SHA256.hash(data: $0).prefix(16)) }
        for case .thirdParty(_, let ticket) in p.caveats {
            let candidates = discharges.filter { $0.nonce?.kid == ticket }
            let bound = candidates.first { d in binding.map { d.caveats.contains(.bindToParent($0)) } ?? false }
            if let d = bound ?? candidates.first { matched.append(d) } else { allDischarged = false }
        }
        discharged = allDischarged

        var orgs: [UInt64] = []
        var orgMask = Access.all, actionMask = Access.all, elseMask = Access.all
        var topApps: [UInt64: UInt64]?
        var ifApps: [UInt64: UInt64]?
        var commands = false, wireguardFeature = false
        var mutations: [String] = []
        var unreadable: [UInt64] = []
        var notAfter: Int64?

        func nested(_ c: FlyCaveat) {
            switch c {
            case .apps(let grants): ifApps = Self.intersect(ifApps, grants)
            case .commands: commands = true
            case .featureSet(let features):
                if features.contains(where: { $0.name == "wg" && $0.mask & Access.write != 0 }) { wireguardFeature = true }
            case .unknown(let t), .malformed(let t): unreadable.append(t)
            default: break
            }
        }
        for c in p.caveats + matched.flatMap(\.caveats) {
            // An IfPresent holding a caveat that cannot be read may grant anything on the resources it names:
            // it is left out, so the token is rated as if it allowed all that the readable caveats allow.
            if case .ifPresent(let ifs, _) = c {
                let blind = ifs.flatMap(\.flattened).compactMap(\.unreadableType)
                if !blind.isEmpty {
                    unreadable += blind
                    continue
                }
            }
            switch c {
            case .organization(let id, let mask):
                if !orgs.contains(id) { orgs.append(id) }
                orgMask &= mask
            case .action(let mask): actionMask &= mask
            case .apps(let grants): topApps = Self.intersect(topApps, grants)
            case .validityWindow(_, let end): notAfter = min(notAfter ?? end, end)
            case .ifPresent(let ifs, let mask):
                elseMask &= mask
                for inner in ifs.flatMap(\.flattened) { nested(inner) }
            case .commands: commands = true
            case .mutations(let names): mutations += names
            case .unknown(let t), .malformed(let t): unreadable.append(t)
            default: break
            }
        }

        organization = orgs.first
        let base = orgMask & actionMask
        var appMasks: [UInt64: UInt64]?
        switch (topApps, ifApps) {
        case let (t?, i?): appMasks = Self.intersect(t, i.map { FlyCaveat.Grant(id: $0.key, mask: $0.value) })
        case let (t?, nil): appMasks = t
        case let (nil, i?): appMasks = i
        case (nil, nil): appMasks = nil
        }
        let allApps = (appMasks ?? [:]).sorted { $0.key < $1.key }
        appCount = allApps.count
        // A token may list thousands of apps: a finding carries the first few and the count.
        apps = allApps.prefix(FlyDetails.maxApps).map { FlyDetails.App(id: $0.key, access: Access.letters($0.value & base)) }
        // With a top-level Apps caveat every request must name one of those apps: nothing else in the org.
        let outside = topApps != nil ? 0 : base & elseMask
        access = Access.letters(outside)
        if let end = notAfter {
            expiresAt = end
            expired = end < now
        }

        let anyAppWrite = (appMasks ?? [:]).values.contains { $0 & base & Access.write != 0 }
        if commands {
            boundScope = .machineExec
        } else if mutations.contains("issueCertificate") {
            boundScope = .ssh
        } else if mutations.contains("addWireGuardPeer") || (wireguardFeature && appCount == 0) {
            boundScope = .wireguard
        } else if !apps.isEmpty {
            boundScope = .app
        } else if outside & Access.write == 0 {
            boundScope = .readonly
        } else {
            boundScope = .organization
        }
        switch boundScope {
        case .organization: rating = .critical
        case .app: rating = anyAppWrite ? .high : .medium
        case .machineExec, .ssh, .wireguard: rating = .high
        case .readonly: rating = outside & Access.read != 0 ? .medium : .low
        case .user, .unknown: rating = nil
        }
        scope = boundScope

        if p.problem != nil {
            // Cut short or damaged: the tail (the MAC) is missing or wrong, but the rest may be elsewhere.
            scope = .unknown
            reason = "Fly token cut short or damaged; as far as read, at most: "
            rating = nil
            return
        }
        if orgs.count > 1 {
            scope = .unknown
            reason = "Fly token no request can use (its caveats name \(orgs.count) different organizations); otherwise: "
            rating = .low
            return
        }
        if !unreadable.isEmpty {
            scope = .unknown
            let types = unreadable.map(String.init).joined(separator: ", ")
            reason = "Fly token with caveat type\(unreadable.count == 1 ? "" : "s") \(types) that cannot be read offline; at most: "
        }
        if !discharged { rating = rating?.lowered }
        if expired { rating = .low }
    }

    /// Apps allowed by both sets (id 0 is the wildcard), with the actions both allow.
    static func intersect(_ a: [UInt64: UInt64]?, _ grants: [FlyCaveat.Grant]) -> [UInt64: UInt64] {
        var b: [UInt64: UInt64] = [:]
        for g in grants { b[g.id] = (b[g.id] ?? Access.all) & g.mask }
        guard let a else { return b }
        var out: [UInt64: UInt64] = [:]
        for (id, m) in a { if let m2 = b[id] ?? b[0] { out[id] = m & m2 } }
        if let wildcard = a[0] { for (id, m2) in b where a[id] == nil { out[id] = wildcard & m2 } }
        return out
    }

    var findingDetails: FindingDetails {
        let fly = FlyDetails(scope: scope, organization: organization, apps: apps, appCount: appCount, access: access,
                             expires: expiresAt.map(UnixTime.iso8601), expired: expired, tokenID: tokenID, discharged: discharged)
        return FindingDetails(summary: summary, fly: fly, rating: rating)
    }

    /// Apps named in the summary at most; the rest are counted.
    static let appsInSummary = 10

    /// "org-wide write token for org 48213, no expiry".
    var summary: String {
        let org = organization.map { "org \($0)" } ?? "an unnamed org"
        let outside = access ?? ""
        func appList() -> String {
            let named = apps.prefix(Self.appsInSummary)
                .map { ($0.id == 0 ? "every app" : "app \($0.id)") + " (\($0.access.isEmpty ? "no access" : $0.access))" }
            let more = appCount - named.count
            return (named + (more > 0 ? ["\(more) more app\(more == 1 ? "" : "s")"] : [])).joined(separator: ", ")
        }
        let rest: String
        switch outside {
        case "": rest = "nothing else"
        case "r": rest = "rest of the org read-only"
        default: rest = "rest of the org \(outside)"
        }
        var s: String
        switch boundScope {
        case .organization: s = "org-wide write token for \(org)" + (outside == "rwcdC" ? "" : " (\(outside))")
        case .readonly: s = outside.isEmpty ? "token for \(org) that allows nothing" : "read-only token for \(org)"
        case .app: s = "app token for \(org): \(appList()), \(rest)"
        case .machineExec: s = "machine-exec token for \(org): runs commands on machines" + (apps.isEmpty ? "" : " of \(appList())")
        case .ssh: s = "SSH token for \(org): issues SSH certificates" + (apps.isEmpty ? "" : " for \(appList())")
        case .wireguard: s = "WireGuard token for \(org): joins the org's private network, \(rest)"
        case .user, .unknown: s = "token for \(org)"
        }
        if let end = expiresAt {
            s += expired ? ", expired \(UnixTime.day(end))" : ", expires \(UnixTime.day(end))"
        } else {
            s += ", no expiry"
        }
        if !discharged { s += "; its discharge is not here, so using it also takes a Fly login" }
        if let reason { s = reason + s }
        return s
    }
}
