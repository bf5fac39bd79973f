// Foundation-free on purpose: Fuzz/msgpack/build.sh compiles this file with the macaroon decoder.

/// One caveat of a Fly macaroon, read for what it says about the token's power. Caveat type codes and bodies
/// follow superfly/macaroon (`caveat.go`, `flyio/caveats.go`, `resset/`); see shared/notes/fly-tokens.md.
enum FlyCaveat: Sendable, Equatable {
    /// An organization's resources, with an action mask (r=1 w=2 c=4 d=8 C=16).
    case organization(id: UInt64, mask: UInt64)
    /// Only these apps (id 0 is Fly's wildcard: every app), each with an action mask.
    case apps([Grant])
    /// Unix seconds.
    case validityWindow(notBefore: Int64, notAfter: Int64)
    /// Needs a discharge from `location`; the discharge's key ID equals `ticket`.
    case thirdParty(location: String, ticket: [UInt8])
    /// In a discharge: the first 16 bytes of SHA-256 of the permission token's tail it belongs to.
    case bindToParent([UInt8])
    /// `ifs` apply to requests naming their resources; every other request is held to `elseMask`.
    case ifPresent(ifs: [FlyCaveat], elseMask: UInt64)
    /// Organization features (`wg`, `builder`, ...) with action masks.
    case featureSet([Feature])
    /// Only these GraphQL mutations.
    case mutations([String])
    /// Only these commands on machines (flyctl's machine-exec tokens).
    case commands
    /// An action mask for every request.
    case action(UInt64)
    /// A documented caveat that narrows the token without changing what kind of token it is.
    case restriction(type: UInt64)
    /// A documented type whose body is not in the documented shape.
    case malformed(type: UInt64)
    /// A type Fly does not document (or reserves): its effect cannot be read offline.
    case unknown(type: UInt64)

    /// An app and its action mask.
    struct Grant: Sendable, Equatable {
        var id: UInt64
        var mask: UInt64
    }

    /// A named feature and its action mask.
    struct Feature: Sendable, Equatable {
        var name: String
        var mask: UInt64
    }

    static let organizationType: UInt64 = 0, appsType: UInt64 = 3, validityWindowType: UInt64 = 4, featureSetType: UInt64 = 5
    static let mutationsType: UInt64 = 6, thirdPartyType: UInt64 = 11, bindToParentType: UInt64 = 12, ifPresentType: UInt64 = 13
    static let actionType: UInt64 = 26, commandsType: UInt64 = 27
    /// Documented types that only narrow: deprecated 1, Volumes, Machines, ConfineUser, ConfineOrganization, IsUser,
    /// MachineFeatureSet, FromMachineSource, Clusters, ConfineGoogleHD, ConfineGitHubOrg, MaxValidity, IsMember,
    /// the three user-ID attestations, AppFeatureSet, StorageObjects, AllowedRoles, FlySrc.
    static let restrictionTypes: Set<UInt64> = [1, 2, 7, 8, 9, 10, 14, 15, 16, 19, 20, 21, 22, 23, 24, 25, 28, 29, 30, 31]

    /// The caveat a `type` and `body` encode.
    static func parse(type: UInt64, body: MsgPackValue) -> FlyCaveat {
        switch type {
        case organizationType:
            guard let a = body.array, a.count >= 2, let id = a[0].uint64, let mask = a[1].uint64 else { return .malformed(type: type) }
            return .organization(id: id, mask: mask)
        case appsType:
            guard let pairs = body.array?.first?.map else { return .malformed(type: type) }
            var grants: [Grant] = []
            for p in pairs {
                guard let id = p.key.uint64, let mask = p.value.uint64 else { return .malformed(type: type) }
                grants.append(Grant(id: id, mask: mask))
            }
            return .apps(grants)
        case validityWindowType:
            guard let a = body.array, a.count >= 2, let nb = a[0].int64, let na = a[1].int64 else { return .malformed(type: type) }
            return .validityWindow(notBefore: nb, notAfter: na)
        case featureSetType:
            guard let pairs = body.array?.first?.map else { return .malformed(type: type) }
            var features: [Feature] = []
            for p in pairs {
                guard let name = p.key.string, let mask = p.value.uint64 else { return .malformed(type: type) }
                features.append(Feature(name: name, mask: mask))
            }
            return .featureSet(features)
        case mutationsType:
            guard let list = body.array?.first?.array else { return .malformed(type: type) }
            let names = list.compactMap(\.string)
            guard names.count == list.count else { return .malformed(type: type) }
            return .mutations(names)
        case thirdPartyType:
            guard let a = body.array, a.count >= 3, let loc = a[0].string, let ticket = a[2].bytes else { return .malformed(type: type) }
            return .thirdParty(location: loc, ticket: ticket)
        case bindToParentType:
            guard let b = body.bytes else { return .malformed(type: type) }
            return .bindToParent(b)
        case ifPresentType:
            guard let a = body.array, a.count >= 2, let set = a[0].array, let ifs = parseSet(set), let mask = a[1].uint64 else {
                return .malformed(type: type)
            }
            return .ifPresent(ifs: ifs, elseMask: mask)
        case actionType:
            guard let mask = body.uint64 ?? body.array?.first?.uint64 else { return .malformed(type: type) }
            return .action(mask)
        case commandsType:
            return .commands
        default:
            return restrictionTypes.contains(type) ? .restriction(type: type) : .unknown(type: type)
        }
    }

    /// A caveat set (`type, body, type, body…`); nil when it is not one.
    static func parseSet(_ items: [MsgPackValue]) -> [FlyCaveat]? {
        guard items.count % 2 == 0 else { return nil }
        var out: [FlyCaveat] = []
        var i = 0
        while i < items.count {
            guard let type = items[i].uint64 else { return nil }
            out.append(parse(type: type, body: items[i + 1]))
            i += 2
        }
        return out
    }

    /// The type of a caveat whose effect cannot be read offline (undocumented or malformed), else nil.
    var unreadableType: UInt64? {
        switch self {
        case .unknown(let t), .malformed(let t): return t
        default: return nil
        }
    }

    /// This caveat and every caveat nested in it (IfPresent).
    var flattened: [FlyCaveat] {
        if case .ifPresent(let ifs, _) = self { return [self] + ifs.flatMap(\.flattened) }
        return [self]
    }
}
