import Crypto
import Foundation

/// MessagePack values for building test tokens, written the way vmihailenco/msgpack (compact ints) writes them.
/// Independent of the reader under test.
public indirect enum Pack: Sendable {
    case uint(UInt64)
    case int(Int64)
    case str(String)
    case bin([UInt8])
    case bool(Bool)
    case arr([Pack])
    case map([(Pack, Pack)])
    case null

    /// The encoded bytes.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        write(into: &out)
        return out
    }

    private static func be(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).reversed().map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }

    private func write(into out: inout [UInt8]) {
        switch self {
        case .uint(let v):
            if v < 0x80 { out.append(UInt8(v)) } else if v <= 0xff { out += [0xcc] + Self.be(v, 1) } else if v <= 0xffff {
                out += [0xcd] + Self.be(v, 2)
            } else if v <= 0xffff_ffff { out += [0xce] + Self.be(v, 4) } else { out += [0xcf] + Self.be(v, 8) }
        case .int(let v):
            if v >= 0 { Pack.uint(UInt64(v)).write(into: &out) } else if v >= -32 { out.append(UInt8(bitPattern: Int8(v))) } else if v >= -128 {
                out += [0xd0, UInt8(bitPattern: Int8(v))]
            } else if v >= -32768 { out += [0xd1] + Self.be(UInt64(bitPattern: v), 2) } else if v >= -2_147_483_648 {
                out += [0xd2] + Self.be(UInt64(bitPattern: v), 4)
            } else { out += [0xd3] + Self.be(UInt64(bitPattern: v), 8) }
        case .str(let s):
            let b = Array(s.utf8)
            if b.count < 32 { out.append(0xa0 | UInt8(b.count)) } else if b.count <= 0xff { out += [0xd9, UInt8(b.count)] } else {
                out += [0xda] + Self.be(UInt64(b.count), 2)
            }
            out += b
        case .bin(let b):
            if b.count <= 0xff { out += [0xc4, UInt8(b.count)] } else { out += [0xc5] + Self.be(UInt64(b.count), 2) }
            out += b
        case .bool(let v): out.append(v ? 0xc3 : 0xc2)
        case .null: out.append(0xc0)
        case .arr(let items):
            if items.count < 16 { out.append(0x90 | UInt8(items.count)) } else { out += [0xdc] + Self.be(UInt64(items.count), 2) }
            for i in items { i.write(into: &out) }
        case .map(let pairs):
            if pairs.count < 16 { out.append(0x80 | UInt8(pairs.count)) } else { out += [0xde] + Self.be(UInt64(pairs.count), 2) }
            for (k, v) in pairs {
                k.write(into: &out)
                v.write(into: &out)
            }
        }
    }
}

/// Fly.io macaroons minted at test time with fresh random keys and the real signature chain
/// (superfly/macaroon): tail₀ = HMAC-SHA256(key, msgpack(nonce)), each caveat tailᵢ = HMAC(tailᵢ₋₁,
/// msgpack([type, body])), proofs finalized with HMAC("proof-signature-finalization", tail); third-party caveats
/// carry a ChaCha20-Poly1305-sealed verifier key and ticket, and the discharge is keyed by the sealed key.
public struct FakeFly {
    public static let permissionLocation = "https://api.fly.io/v1"
    public static let authLocation = "https://api.fly.io/aaa/v1"

    public var kid: [UInt8]
    public var rnd: [UInt8]
    public var proof: Bool
    public var location: String
    public var caveats: [(type: UInt64, body: Pack)] = []
    public private(set) var tail: [UInt8]

    /// `n` fresh random bytes.
    public static func randomBytes(_ n: Int) -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        return (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }
    }

    /// A new token signed with `key` (fresh random when not given); permission tokens have an 8-byte key ID like Fly's.
    public init(location: String = FakeFly.permissionLocation, kid: [UInt8] = FakeFly.randomBytes(8), key: [UInt8] = FakeFly.randomBytes(32),
                proof: Bool = false) {
        self.kid = kid
        self.rnd = Self.randomBytes(16)
        self.proof = proof
        self.location = location
        tail = []
        tail = Self.hmac(key, nonce.bytes)
    }

    /// The nonce as encoded: `[kid, rnd, proof]`.
    public var nonce: Pack { .arr([.bin(kid), .bin(rnd), .bool(proof)]) }

    /// Attenuates: appends a caveat and moves the tail along the chain.
    public mutating func add(_ caveat: (type: UInt64, body: Pack)) {
        caveats.append(caveat)
        tail = Self.hmac(tail, Pack.arr([.uint(caveat.type), caveat.body]).bytes)
    }

    /// Adds a third-party caveat for `location` and returns the discharge that satisfies it, bound to this token's
    /// tail at the end (call `bind` after the permission token's last caveat).
    public mutating func addThirdParty(location: String = FakeFly.authLocation) throws -> FakeFly {
        let dischargeKey = Self.randomBytes(32)
        let thirdPartyKey = SymmetricKey(size: .bits256)
        let verifierKey = try Self.seal(dischargeKey, key: SymmetricKey(data: tail))
        let ticket = try Self.seal(Pack.arr([.bin(dischargeKey), .arr([])]).bytes, key: thirdPartyKey)
        add((11, .arr([.str(location), .bin(verifierKey), .bin(ticket)])))
        return FakeFly(location: location, kid: ticket, key: dischargeKey, proof: true)
    }

    /// Adds BindToParentToken for `parent`'s current tail.
    public mutating func bind(to parent: FakeFly) {
        add((12, .bin(Array(SHA256.hash(data: parent.tail).prefix(16)))))
    }

    /// The token's bytes: `[nonce, location, caveats, tail]`, the tail finalized for proofs.
    public var encoded: [UInt8] {
        let finalTail = proof ? Self.hmac(Array("proof-signature-finalization".utf8), tail) : tail
        return Pack.arr([nonce, .str(location), .arr(caveats.flatMap { [Pack.uint($0.type), $0.body] }), .bin(finalTail)]).bytes
    }

    /// `fm2_` + standard base64.
    public func token(label: String = "fm2") -> String { label + "_" + Data(encoded).base64EncodedString() }

    /// The token ID Fly shows: UUIDv5(UUIDv5(968fc2c6-…, kid), rnd), computed here independently of the decoder.
    public var tokenID: String {
        let ns = UUID(uuidString: "968fc2c6-a94f-4988-a544-2ad72b02f222").map { withUnsafeBytes(of: $0.uuid) { Array($0) } } ?? []
        func v5(_ space: [UInt8], _ name: [UInt8]) -> [UInt8] {
            var h = Array(Insecure.SHA1.hash(data: space + name).prefix(16))
            h[6] = h[6] & 0x0f | 0x50
            h[8] = h[8] & 0x3f | 0x80
            return h
        }
        let u = v5(v5(ns, kid), rnd)
        let uuid = UUID(uuid: (u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]))
        return uuid.uuidString.lowercased()
    }

    private static func hmac(_ key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: key)))
    }

    private static func seal(_ plain: [UInt8], key: SymmetricKey) throws -> [UInt8] {
        let box = try ChaChaPoly.seal(plain, using: key)
        return Array(box.combined)
    }

    // MARK: caveats (type codes and bodies of superfly/macaroon)

    /// Organization{id, mask}.
    public static func organization(_ id: UInt64, mask: UInt64) -> (type: UInt64, body: Pack) { (0, .arr([.uint(id), .uint(mask)])) }
    /// Apps{appID: mask} (id 0: every app).
    public static func apps(_ grants: [UInt64: UInt64]) -> (type: UInt64, body: Pack) {
        (3, .arr([.map(grants.sorted { $0.key < $1.key }.map { (.uint($0.key), .uint($0.value)) })]))
    }
    /// ValidityWindow in Unix seconds.
    public static func validity(notBefore: Int64, notAfter: Int64) -> (type: UInt64, body: Pack) { (4, .arr([.int(notBefore), .int(notAfter)])) }
    /// FeatureSet{name: mask}.
    public static func features(_ f: [String: UInt64]) -> (type: UInt64, body: Pack) {
        (5, .arr([.map(f.sorted { $0.key < $1.key }.map { (.str($0.key), .uint($0.value)) })]))
    }
    /// Mutations: only these GraphQL mutations.
    public static func mutations(_ names: [String]) -> (type: UInt64, body: Pack) { (6, .arr([.arr(names.map { .str($0) })])) }
    /// IsUser (a discharge's minting user).
    public static func isUser(_ id: UInt64) -> (type: UInt64, body: Pack) { (10, .arr([.uint(id)])) }
    /// IfPresent{ifs, else mask}.
    public static func ifPresent(_ ifs: [(type: UInt64, body: Pack)], else mask: UInt64) -> (type: UInt64, body: Pack) {
        (13, .arr([.arr(ifs.flatMap { [Pack.uint($0.type), $0.body] }), .uint(mask)]))
    }
    /// Action mask for every request.
    public static func action(_ mask: UInt64) -> (type: UInt64, body: Pack) { (26, .uint(mask)) }
    /// Commands (machine-exec): argument lists, not exact.
    public static func commands(_ args: [[String]]) -> (type: UInt64, body: Pack) {
        (27, .arr(args.map { .arr([.arr($0.map { .str($0) }), .bool(false)]) }))
    }

    // MARK: the tokens flyctl makes

    /// `fly tokens create org`: Organization{org, mask}, optionally with a validity window.
    public static func orgToken(org: UInt64, mask: UInt64 = 31, notAfter: Int64? = nil) -> FakeFly {
        var t = FakeFly()
        t.add(organization(org, mask: mask))
        if let notAfter { t.add(validity(notBefore: notAfter - 3600, notAfter: notAfter)) }
        return t
    }

    /// `fly tokens create deploy`: the layout of a real deploy token (Organization, 3P to the auth service,
    /// IfPresent{Apps, FeatureSet builder/wg, else r}) and its discharge (ValidityWindow, IsUser, BindToParentToken).
    public static func deployBundle(org: UInt64, app: UInt64, notAfter: Int64, user: UInt64 = 4242) throws -> (permission: FakeFly, discharge: FakeFly) {
        var p = FakeFly()
        p.add(organization(org, mask: 31))
        var d = try p.addThirdParty()
        p.add(ifPresent([apps([app: 31]), features(["builder": 31, "wg": 31])], else: 1))
        d.add(validity(notBefore: notAfter - 3600, notAfter: notAfter))
        d.add(isUser(user))
        d.bind(to: p)
        return (p, d)
    }
}
