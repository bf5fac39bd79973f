// Foundation-free on purpose: Fuzz/msgpack/build.sh compiles this file with the msgpack reader.

/// One Fly.io macaroon, decoded from its text form as far as the bytes allow.
///
/// Layout (superfly/macaroon, vmihailenco msgpack with array-encoded structs): `[nonce, location, caveats,
/// tail]`, the nonce `[kid bin, rnd bin, proof bool]` (two fields in v0), the caveats one flat array
/// `type, body, type, body…`, the tail the 32-byte HMAC. Nothing here needs Fly's key.
struct Macaroon: Sendable, Equatable {
    /// Where Fly's own API expects permission tokens; any other location makes a discharge.
    static let permissionLocation = "https://api.fly.io/v1"
    /// Text forms longer than this are not read (real bundles are a few KiB).
    static let maxTextLength = 64 * 1024

    /// The key ID and randomness that identify the token (Fly's token ID is derived from them).
    struct Nonce: Sendable, Equatable {
        var kid: [UInt8]
        var rnd: [UInt8]
        var proof: Bool?
    }

    /// `fm1r`, `fm1a` or `fm2` (they all decode the same way).
    var label: String
    var nonce: Nonce?
    var location: String?
    var caveats: [FlyCaveat] = []
    var tail: [UInt8]?
    /// Why decoding stopped before the end, nil when the whole token was read.
    var problem: ForensicsError?

    var isPermission: Bool { location == Self.permissionLocation }

    /// The labels of macaroon tokens.
    static let labels: Set<String> = ["fm1r", "fm1a", "fm2"]

    /// Decodes one `label_base64` token; nil when the label is not a macaroon's.
    static func decode(token: Substring) -> Macaroon? {
        guard let underscore = token.firstIndex(of: "_") else { return nil }
        let label = String(token[..<underscore])
        guard labels.contains(label) else { return nil }
        var m = Macaroon(label: label)
        let payload = token[token.index(after: underscore)...]
        guard payload.utf8.count <= maxTextLength else {
            m.problem = .tooManyValues(offset: 0)
            return m
        }
        do throws(ForensicsError) {
            m.read(try Base64.decode(payload))
        } catch {
            m.problem = error
        }
        return m
    }

    /// Fills in every field the bytes allow, stopping at the first damage.
    mutating func read(_ bytes: [UInt8]) {
        var r = MsgPackReader(bytes)
        do throws(ForensicsError) {
            let fields = try r.readArrayHeader()
            guard fields >= 4 else { throw ForensicsError.unexpected(expected: "a 4-field macaroon", offset: 0) }
            let nonceStart = r.offset
            guard let n = Self.nonce(try r.read()) else { throw ForensicsError.unexpected(expected: "a nonce", offset: nonceStart) }
            nonce = n
            let locationStart = r.offset
            guard let loc = try r.read().string else { throw ForensicsError.unexpected(expected: "a location", offset: locationStart) }
            location = loc
            let count = try r.readArrayHeader()
            var i = 0
            while i < count {
                let typeStart = r.offset
                guard let type = try r.read().uint64 else { throw ForensicsError.unexpected(expected: "a caveat type", offset: typeStart) }
                guard i + 1 < count else { throw ForensicsError.unexpected(expected: "a caveat body", offset: r.offset) }
                caveats.append(FlyCaveat.parse(type: type, body: try r.read()))
                i += 2
            }
            let tailStart = r.offset
            guard let t = try r.read().bytes, t.count == 32 else { throw ForensicsError.unexpected(expected: "a 32-byte tail", offset: tailStart) }
            tail = t
        } catch {
            problem = error
        }
    }

    private static func nonce(_ v: MsgPackValue) -> Nonce? {
        guard let a = v.array, a.count == 2 || a.count == 3, let kid = a[0].bytes, let rnd = a[1].bytes else { return nil }
        var proof: Bool?
        if a.count == 3 {
            guard case .bool(let p) = a[2] else { return nil }
            proof = p
        }
        return Nonce(kid: kid, rnd: rnd, proof: proof)
    }
}
