// Rows and rules for recall by mechanism (issue 19, round five): formats whose known shape was narrower than the
// provider's (a Telegram bot id of more than ten digits), keys that a short provider name stands next to (Lob), and
// credentials passed on a curl command line. Written from the providers' and curl's own documentation.

extension BuiltinRules {
    static let catalogMechanisms: [CatalogEntry] = [
        // Telegram: the bot id is a number that has grown past ten digits, then `:` and a 35-character body (BotFather
        // issues `AA…` bodies; next to the provider's name any body starting `A` is taken).
        CatalogEntry(id: "telegram-bot-token-keyed", description: "Telegram bot token (next to a keyword)", severity: .high,
                     shape: TokenShape.digits(5...16) + TokenShape.lit(":A") + TokenShape.url(34), context: .keyed(["telegram", "tg_bot"]),
                     revoke: "https://t.me/BotFather (/revoke)"),
        // Lob: secret keys `live_`/`test_` + 35 hex, publishable keys `live_pub_`/`test_pub_` + 31 hex.
        CatalogEntry(id: "lob-live-publishable-key", description: "Lob live publishable API key", severity: .low,
                     shape: TokenShape.lit("live_pub_") + TokenShape.hex(31), context: .keyed(["lob"]),
                     revoke: "https://dashboard.lob.com/settings/api-keys"),
        CatalogEntry(id: "lob-test-publishable-key", description: "Lob test publishable API key", severity: .low,
                     shape: TokenShape.lit("test_pub_") + TokenShape.hex(31), context: .keyed(["lob"]),
                     revoke: "https://dashboard.lob.com/settings/api-keys"),
        // Deno Deploy's other token prefix (`ddp_` and `ddo_` are rows of their own).
        CatalogEntry(id: "deno-deploy-webhook-token", description: "Deno Deploy token (ddw_)", severity: .high,
                     shape: TokenShape.lit("ddw_") + TokenShape.alnum(36), context: .prefixed,
                     revoke: "https://dash.deno.com/account#access-tokens"),
    ]

    /// What follows `curl` up to one of its options: the rest of the line, or of the command continued by `\`.
    static let curlCommand = #"\b(?:curl|wget)\b(?:[^\r\n]|\\\r?\n){0,400}?\s"#

    /// `curl -u user:password` (also `--user`, quoted, an empty user) and `curl -u key:` (an API key as the user).
    static let curlUser = curlCommand
        + #"(?:-u|--user)[ =]{1,3}(?|["']?[^:\s"']{0,64}["']?:["']?([^\s"']{6,128})|["']?([^:\s"']{12,128}):["']?(?=\s|\z))"#

    static let providerMechanisms: [Rule] = [
        // `curl -H 'Token: …'`, `--header "X-Api-Key: …"`, `-H "Authorization: <credential>"` without a scheme (a
        // scheme is `authorization-scheme-token`'s, `Basic` and `Bearer` have rules of their own): a header that
        // names a token, key or secret carries one.
        Rule(id: "curl-header-credential", description: "Credential in a header passed to curl -H / --header", severity: .medium,
             regex: curlCommand + #"(?:-H|--header)[ =]{1,3}["'](?:(?i:(?:proxy-)?authorization)[ \t]{0,4}:[ \t]{0,4}|(?i:(?:x-)?(?:[a-z0-9]{1,20}-)?(?:api-?token|api-?key|apikey|auth-?token|access-?token|private-?token|token|secret|api-?secret))[ \t]{0,4}:[ \t]{0,4}(?:(?i:bearer|token)[ \t]{1,4})?)([A-Za-z0-9._~+/=:@!#%*-]{8,512})["']"#,
             allowlist: pvPasswordPlaceholders, confidence: .medium, keywords: ["curl", "wget"], minimumScore: SecretScore.weak),
        // Microsoft Entra ID refresh tokens: `0.A` or `1.A`, the client part, an optional `.<digit>`, then `.Ag` and the
        // encrypted body, hundreds of characters long (what `az login` and MSAL caches keep).
        Rule(id: "azure-entra-refresh-token", description: "Microsoft Entra ID (Azure AD) refresh token", severity: .high,
             regex: #"(?<![A-Za-z0-9_.-])([01]\.A[A-Za-z0-9_-]{40,90}(?:\.\d)?\.Ag[A-Za-z0-9_-]{300,})(?![A-Za-z0-9_-])"#,
             entropy: 4.5, keywords: [".Ag"], revoke: "https://portal.azure.com/#view/Microsoft_AAD_UsersAndTenants (Revoke sessions)"),
        // Azure Container Registry passwords and tokens carry the registry's signature: 42 base64 characters, `+ACR`,
        // six more.
        Rule(id: "azure-acr-signed-password", description: "Azure Container Registry password or token (+ACR signature)", severity: .high,
             regex: #"(?<![A-Za-z0-9+/])([A-Za-z0-9+/]{42}\+ACR[A-Za-z0-9]{6})(?![A-Za-z0-9+/=])"#,
             entropy: 4.0, keywords: ["+ACR"], mixedCharacters: true,
             revoke: "az acr credential renew (https://portal.azure.com/#browse/Microsoft.ContainerRegistry%2Fregistries)"),
    ]
}
