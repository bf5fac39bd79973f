/// The rules Stowaway ships with. Each regex's group 1 is the secret.
public enum BuiltinRules {
    /// Base64 body of a Fly.io macaroon.
    private static let macaroon = #"fm(?:1[ar]|2)_[A-Za-z0-9+/_-]{20,}={0,3}"#
    private static let endOfToken = #"(?![A-Za-z0-9_-])"#

    /// Every built-in rule: the core set below, then the provider catalogue (the generic assignment rule last),
    /// then the detectors that are not a regex. Each names where its secrets are revoked when its provider is known.
    public static let all: [Rule] = (core + providers + detectors).map(withRevoke)

    /// `all` without the provider catalogue's rows: the hand-written rules, for measuring what the catalogue costs.
    public static let withoutCatalog: [Rule] = {
        let catalogued = Set(catalog.map(\.id))
        return all.filter { !catalogued.contains($0.id) }
    }()

    /// Credential files and decoders: rules like any other for `disabledRules`, allowlists and reports.
    static let detectors: [Rule] = [
        Rule(id: "credential-file", description: "Credential file", severity: .low, regex: "", detector: .credentialFile),
        // A decoded credential supersedes the blob it came from: the `auth` value is not reported beside it, by its
        // own rule or by a generic one (which takes base64 of a drawn key: `MatchEngine.wrapsDrawnValue`).
        Rule(id: "docker-registry-credential", description: "Docker registry credential (decoded from a Docker config)",
             severity: .high, regex: "", detector: .dockerConfig, supersedes: ["docker-config-auth"] + genericRuleIDs),
        Rule(id: "kubernetes-secret-data", description: "Kubernetes Secret data value (base64-decoded for the content rules)",
             severity: .high, regex: "", detector: .kubernetesSecret, supersedes: genericRuleIDs),
        Rule(id: "base64-env-value", description: "Base64-encoded environment value (decoded for the content rules)",
             severity: .high, regex: "", detector: .base64Env, supersedes: genericRuleIDs),
    ]

    /// The rules that judge a value alone (`providerGeneric`): a decoder's finding supersedes theirs on the blob.
    static let genericRuleIDs = ["generic-secret-assignment", "generic-secret-weak"]

    static let core: [Rule] = [
        // Fly.io (https://fly.io/docs/security/tokens/; formats from a Fly.io engineer in trufflehog PR #2381).
        Rule(id: "flyio-macaroon-bundle", description: "Fly.io token (FlyV1 macaroon bundle)", severity: .critical,
             regex: #"(FlyV1 "# + macaroon + "(?:," + macaroon + ")*)", revoke: "fly tokens revoke"),
        Rule(id: "flyio-macaroon", description: "Fly.io token (macaroon)", severity: .critical,
             // Comma-joined tokens (`~/.fly/config.yml` keeps them so) are one secret: a discharge belongs with its token.
             regex: #"(?<![A-Za-z0-9_])(fm(?:1[ar]|2)_[A-Za-z0-9+/_-]{100,}={0,3}(?:,fm(?:1[ar]|2)_[A-Za-z0-9+/_-]{20,}={0,3})*)"#,
             entropy: 4.0, revoke: "fly tokens revoke"),
        Rule(id: "flyio-access-token", description: "Fly.io access token", severity: .critical,
             regex: #"(?<![A-Za-z0-9_])(fo1_[A-Za-z0-9_-]{43})"# + endOfToken, entropy: 3.5, revoke: "fly tokens revoke"),

        // AWS
        Rule(id: "aws-access-key-id", description: "AWS access key ID", severity: .high,
             regex: #"(?<![A-Z0-9])((?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16})(?![A-Z0-9])"#, entropy: 3.0,
             revoke: "https://console.aws.amazon.com/iam/home#/security_credentials"),
        Rule(id: "aws-secret-access-key", description: "AWS secret access key", severity: .critical,
             regex: #"(?i)(?:aws_?secret_?access_?key|aws_?secret_?key|secret_?access_?key)["']?\s*(?:[:=]|=>)\s*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"#,
             entropy: 4.0, revoke: "https://console.aws.amazon.com/iam/home#/security_credentials"),

        // GitHub / GitLab
        Rule(id: "github-token", description: "GitHub token", severity: .critical,
             regex: #"(?<![A-Za-z0-9_])((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36})(?![A-Za-z0-9_])"#, entropy: 3.0,
             revoke: "https://github.com/settings/tokens"),
        Rule(id: "github-fine-grained-pat", description: "GitHub fine-grained personal access token", severity: .critical,
             regex: #"(?<![A-Za-z0-9_])(github_pat_[A-Za-z0-9_]{82})(?![A-Za-z0-9_])"#, entropy: 3.0,
             revoke: "https://github.com/settings/personal-access-tokens"),
        Rule(id: "gitlab-pat", description: "GitLab personal access token", severity: .critical,
             regex: #"(?<![A-Za-z0-9_-])(glpat-[A-Za-z0-9_-]{20,50})(?![A-Za-z0-9_-])"#, entropy: 3.0,
             revoke: "https://gitlab.com/-/user_settings/personal_access_tokens"),

        // Payments, messaging, packages
        Rule(id: "stripe-live-key", description: "Stripe live secret or restricted key", severity: .critical,
             regex: #"(?<![A-Za-z0-9_])((?:sk|rk)_live_[A-Za-z0-9]{24,99})(?![A-Za-z0-9_])"#, entropy: 3.0,
             revoke: "https://dashboard.stripe.com/apikeys"),
        Rule(id: "slack-token", description: "Slack token", severity: .high,
             // A token ends in a letter or digit: one ending in `-` was cut at a mask (`…-####`).
             // Legacy workspace tokens (`xoxa-2-…`) repeat digits in their ids: the random last part is judged alone.
             regex: #"(?<![A-Za-z0-9_-])(xox[abposre]-(?:\d+-)+[A-Za-z0-9-]{9,63}[A-Za-z0-9])(?![A-Za-z0-9_-])"#,
             structure: .numberedTail),
        // Incoming webhooks (`services/T…/B…/secret`), and workflow URLs, whose paths vary (`workflows/T…/A…/id/secret`)
        // and are read as any 40 or more path characters after the kind. Trigger URLs have a rule of their own.
        Rule(id: "slack-webhook-url", description: "Slack incoming webhook URL", severity: .high,
             regex: #"((?:https?://)?hooks\.slack\.com/(?:services|workflows)/(?:T[A-Z0-9]{6,12}/[AB][A-Z0-9]{6,12}/(?:\d{8,20}/)?[A-Za-z0-9]{20,32}|[A-Za-z0-9_/-]{39,160}[A-Za-z0-9]))"#),
        Rule(id: "npm-access-token", description: "npm access token", severity: .critical,
             regex: #"(?<![A-Za-z0-9_])(npm_[A-Za-z0-9]{36})(?![A-Za-z0-9_])"#, entropy: 3.0,
             revoke: "npm token revoke"),
        Rule(id: "sendgrid-api-key", description: "SendGrid API key", severity: .high,
             regex: #"(?<![A-Za-z0-9_])(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])"#, entropy: 3.5),

        // Keys
        // A real key has a base64 body (PEM/PGP header lines allowed, newlines possibly JSON-escaped as \n);
        // binaries that merely contain the armour strings (libgnutls, libssl) do not.
        Rule(id: "private-key", description: "Private key", severity: .critical,
             // Lines (headers, base64, an armour checksum), or the body as one run, as an environment variable holds a
             // key whose newlines were taken out (`-----BEGIN PRIVATE KEY-----MIIE…-----END PRIVATE KEY-----`).
             regex: #"(-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:(?:\\[rn]|\s)+(?:[A-Za-z-]{2,30}: [^\r\n\\]{1,200}(?:\\[rn]|\s)+)*(?:[A-Za-z0-9+/=]{16,}(?:\\[rn]|\s)+){2,}(?:[A-Za-z0-9+/=]{1,80}(?:\\[rn]|\s)+)?|(?:\\[rn]|\s)*[A-Za-z0-9+/]{64,}={0,2}(?:(?:\\[rn]|\s)+=[A-Za-z0-9+/]{4})?(?:\\[rn]|\s)*)-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----)"#,
             prefilter: #"-----END[ A-Z0-9]{0,40}PRIVATE KEY( BLOCK)?-----"#, lookBehind: 32 * 1024, binaryCap: .medium),

        // Connection strings with a password (the password is the secret). The scheme may name a driver after a `+`
        // (SQLAlchemy's `postgresql+psycopg2://`, `mysql+pymysql://`, `mssql+pyodbc://`), and the user may be empty:
        // Redis and its clients take a password alone (`redis://:pass@host`).
        Rule(id: "database-url-password", description: "Database URL with a password", severity: .high,
             regex: #"(?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|oracle|cockroachdb|clickhouse|cassandra|couchdb|influxdb|neo4j(?:\+s)?|bolt|nats|kafka|memcached?|elasticsearch|opensearch|redshift|snowflake|db2|trino|presto|vertica)(?:\+[a-z0-9_]{1,24})?://[^:/\s"'@]{0,64}:([^@\s"'/:]{4,128})@[A-Za-z0-9.-]{1,253}"#,
             // A password is often short and chosen, not drawn: six letters with one twice (`risima`) reach 2.25 bits
             // a character; the floor turns away only fill (`abab`, `xxxxx`).
             entropy: 2.0, allowlist: [#"^(?i)(?:pass(?:word)?|secret|pwd|root|admin|user|guest|test|mysecretpassword|postgres)$"#], confidence: .medium),
    ]
}
