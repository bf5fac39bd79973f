/// Live or test, secret or restricted: what a Stripe key's prefix says.
enum StripeKey {
    static func details(_ text: String) -> FindingDetails? {
        let parts = text.split(separator: "_", maxSplits: 2)
        guard parts.count == 3, parts[2].count >= 16 else { return nil }
        let kind: String
        switch parts[0] {
        case "sk": kind = "secret"
        case "rk": kind = "restricted"
        default: return nil
        }
        guard parts[1] == "live" || parts[1] == "test" else { return nil }
        let mode = String(parts[1])
        let summary = mode == "live" ? "Stripe live \(kind) key: real charges and customer data" : "Stripe test-mode \(kind) key: no real money"
        return FindingDetails(summary: summary, stripe: StripeDetails(mode: mode, kind: kind))
    }
}
