import Core

/// What a found secret can do, read offline from the secret itself: the `details` of a finding in the JSON
/// report and SARIF properties. Only the members that apply are present.
public struct FindingDetails: Codable, Sendable, Equatable {
    /// One phrase for people ("org-wide write token for org 48213, no expiry").
    public var summary: String
    public var fly: FlyDetails?
    public var jwt: JWTDetails?
    public var aws: AWSDetails?
    /// GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) and npm tokens end in a CRC-32 of their body.
    public var checksumValid: Bool?
    public var stripe: StripeDetails?
    /// The severity the decoded power calls for, nil to keep the rule's. Not in the JSON: the finding's own
    /// severity carries it.
    public var rating: Rating?

    /// Details with the members that apply; `rating` nil keeps the rule's severity.
    public init(summary: String, fly: FlyDetails? = nil, jwt: JWTDetails? = nil, aws: AWSDetails? = nil,
                checksumValid: Bool? = nil, stripe: StripeDetails? = nil, rating: Rating? = nil) {
        self.summary = summary
        self.fly = fly
        self.jwt = jwt
        self.aws = aws
        self.checksumValid = checksumValid
        self.stripe = stripe
        self.rating = rating
    }

    enum CodingKeys: String, CodingKey {
        case summary, fly, jwt, aws, checksumValid, stripe
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(summary, forKey: .summary)
        try c.encodeIfPresent(fly, forKey: .fly)
        try c.encodeIfPresent(jwt, forKey: .jwt)
        try c.encodeIfPresent(aws, forKey: .aws)
        try c.encodeIfPresent(checksumValid, forKey: .checksumValid)
        try c.encodeIfPresent(stripe, forKey: .stripe)
    }

    // Reports of other versions (a baseline) may hold members of another shape: those are dropped, never fatal.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        summary = (try? c.decodeIfPresent(String.self, forKey: .summary)) ?? ""
        fly = try? c.decodeIfPresent(FlyDetails.self, forKey: .fly)
        jwt = try? c.decodeIfPresent(JWTDetails.self, forKey: .jwt)
        aws = try? c.decodeIfPresent(AWSDetails.self, forKey: .aws)
        checksumValid = try? c.decodeIfPresent(Bool.self, forKey: .checksumValid)
        stripe = try? c.decodeIfPresent(StripeDetails.self, forKey: .stripe)
    }
}

/// A severity as this module rates it (the scanner maps it onto its own).
public enum Rating: String, Codable, Sendable, Comparable, CaseIterable {
    case low, medium, high, critical

    /// One step down, never below low.
    public var lowered: Rating {
        switch self {
        case .low, .medium: return .low
        case .high: return .medium
        case .critical: return .high
        }
    }

    private var rank: Int { Rating.allCases.firstIndex(of: self) ?? 0 }

    /// low < medium < high < critical.
    public static func < (a: Rating, b: Rating) -> Bool { a.rank < b.rank }
}

/// What a Fly.io token allows, from its caveats. Every key is always present (null when unknown).
public struct FlyDetails: Codable, Sendable, Equatable {
    /// The kind of token, by its caveats.
    public enum Scope: String, Codable, Sendable {
        /// Read and write on the organization's resources.
        case organization
        /// Limited to the apps listed in `apps` (a deploy token).
        case app
        /// Read-only on the organization.
        case readonly
        /// Runs commands on an app's machines (`fly tokens create machine-exec`).
        case machineExec = "machine-exec"
        /// Issues SSH certificates for an app (`fly tokens create ssh`).
        case ssh
        /// Adds WireGuard peers to the organization's private network.
        case wireguard
        /// An `fo1_` user (OAuth) token: opaque, acts as its user in every organization.
        case user
        /// Undecodable, cut short, or carrying caveats whose effect cannot be read offline.
        case unknown
    }

    /// One app and the actions the token allows on it.
    public struct App: Codable, Sendable, Equatable {
        /// Fly's internal app ID; 0 is Fly's wildcard (every app).
        public var id: UInt64
        /// Letters in the order r w c d C.
        public var access: String

        /// An app ID and its access letters.
        public init(id: UInt64, access: String) {
            self.id = id
            self.access = access
        }
    }

    /// Apps listed in `apps` at most; `appCount` counts them all.
    public static let maxApps = 100

    public var scope: Scope
    /// Fly's internal organization ID.
    @Nullable public var organization: UInt64?
    /// The first `maxApps` apps the token names, by ID.
    public var apps: [App]
    /// How many apps the token names in all.
    public var appCount: Int
    /// The actions allowed on the organization's resources outside `apps`, letters in the order r w c d C.
    @Nullable public var access: String?
    /// The earliest end of validity over the token and its discharges (ISO 8601, UTC); null: none.
    @Nullable public var expires: String?
    public var expired: Bool
    /// The token's ID as Fly shows it (a UUID derived from the nonce): safe to share, names the token to revoke.
    @Nullable public var tokenID: String?
    /// Whether every third-party caveat has its discharge in the bundle: false means an attacker also needs a
    /// Fly login to use it. Null for user tokens and tokens that could not be decoded.
    @Nullable public var discharged: Bool?

    /// Fly details; absent values encode as null.
    public init(scope: Scope, organization: UInt64? = nil, apps: [App] = [], appCount: Int? = nil, access: String? = nil,
                expires: String? = nil, expired: Bool = false, tokenID: String? = nil, discharged: Bool? = nil) {
        self.scope = scope
        self.organization = organization
        self.apps = apps
        self.appCount = appCount ?? apps.count
        self.access = access
        self.expires = expires
        self.expired = expired
        self.tokenID = tokenID
        self.discharged = discharged
    }

    enum CodingKeys: String, CodingKey {
        case scope, organization, apps, appCount, access, expires, expired, tokenID, discharged
    }

    // Reports written before `appCount` existed lack it: it is then the length of `apps`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        scope = try c.decode(Scope.self, forKey: .scope)
        organization = try c.decodeIfPresent(UInt64.self, forKey: .organization)
        apps = try c.decode([App].self, forKey: .apps)
        appCount = try c.decodeIfPresent(Int.self, forKey: .appCount) ?? apps.count
        access = try c.decodeIfPresent(String.self, forKey: .access)
        expires = try c.decodeIfPresent(String.self, forKey: .expires)
        expired = try c.decode(Bool.self, forKey: .expired)
        tokenID = try c.decodeIfPresent(String.self, forKey: .tokenID)
        discharged = try c.decodeIfPresent(Bool.self, forKey: .discharged)
    }
}

/// The readable claims of a JSON Web Token (its signature is not checked). Every key is always present.
public struct JWTDetails: Codable, Sendable, Equatable {
    @Nullable public var alg: String?
    @Nullable public var iss: String?
    @Nullable public var sub: String?
    /// The audience, always as a list (a JWT may hold one string or several).
    @Nullable public var aud: [String]?
    /// ISO 8601, UTC.
    @Nullable public var exp: String?
    public var expired: Bool

    /// JWT details; absent claims encode as null.
    public init(alg: String?, iss: String?, sub: String?, aud: [String]?, exp: String?, expired: Bool) {
        self.alg = alg
        self.iss = iss
        self.sub = sub
        self.aud = aud
        self.exp = exp
        self.expired = expired
    }
}

/// What an AWS access key ID says without asking AWS.
public struct AWSDetails: Codable, Sendable, Equatable {
    /// The 12-digit account the key belongs to, decoded from the key ID.
    public var account: String

    /// The details of a key ID of `account`.
    public init(account: String) {
        self.account = account
    }
}

/// Which kind of Stripe key.
public struct StripeDetails: Codable, Sendable, Equatable {
    /// `live` or `test`.
    public var mode: String
    /// `secret` (`sk_`) or `restricted` (`rk_`).
    public var kind: String

    /// A key of `mode` (`live`, `test`) and `kind` (`secret`, `restricted`).
    public init(mode: String, kind: String) {
        self.mode = mode
        self.kind = kind
    }
}
