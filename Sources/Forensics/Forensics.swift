import Foundation

/// Reads, offline, what a found secret can do: the caveats of a Fly.io token, the claims of a JWT, the AWS account
/// of an access key ID, the checksum of a GitHub or npm token, the mode of a Stripe key. No network, no key.
public enum Forensics {
    /// Secrets longer than this are not examined (no structured secret we read comes near it).
    public static let maxSecretLength = 64 * 1024

    /// The details of `secret`, or nil when it has no structure we read; `now` decides what has expired.
    /// The secret's shape decides, not the rule that found it: a Fly token caught by a generic rule is still one.
    public static func details(for secret: String, now: Date = Date()) -> FindingDetails? {
        guard !secret.isEmpty, secret.utf8.count <= maxSecretLength else { return nil }
        let t = Int64(clamping: Int(now.timeIntervalSince1970.rounded(.down)))
        if let fly = FlyBundle(secret) { return fly.details(now: t) }
        if secret.hasPrefix("eyJ"), let jwt = JWT.details(secret, now: t) { return jwt }
        if let aws = AWSKeyID.details(secret) { return aws }
        if let checksum = TokenChecksum.details(secret) { return checksum }
        return StripeKey.details(secret)
    }
}
