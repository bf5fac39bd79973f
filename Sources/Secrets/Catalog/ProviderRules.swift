// Provider rules that are mechanisms rather than catalogue rows. A provider format that is a prefix and runs, or a
// keyword next to a shape, is a row of the catalogue (ProviderCatalog+*.swift; the ones that were written here are in
// ProviderCatalog+Migrated.swift). What stays here is what a row cannot say:
// - a value inside a structure: connection strings and URLs (`AccountKey=`, `sig=` of a SAS URL, `user:pass@host`,
//   webhook URLs with ids, Sentry DSNs, Cloudinary URLs), `private_key_id` in a JSON key file, `.npmrc` and
//   NuGet.config entries, a GitLab session cookie;
// - pairs and multi-part tokens: Twilio's SID:token, Telegram's bot id:body, Discord's three parts, Salesforce's
//   org id!body, Slack's legacy workspace tokens, Azure AD client secrets (`Q~` inside), Terraform's `.atlasv1.`,
//   a Kubernetes service-account JWT, a base64 JWT, New Relic's and Azure DevOps' trailing signatures;
// - a looser or different boundary or alphabet than a row builds: base64 with `={0,2}` padding (Bedrock, Grafana,
//   1Password, AWS session tokens), `%`, `~` or `!` in the body (Twitter, Yandex, bedrock short-term), Google's
//   API key and refresh token (`+`, `/` around them), Dropbox's `sl.`, PagerDuty (`+`), Octopus and Twilio SIDs
//   (medium confidence without a keyword);
// - a token that starts with its random part (Mailchimp's `-us1` suffix) or whose only literal before it is
//   `AAAA` (Firebase's server key: a row's prefix, looked for in every base64 blob);
// - optional parts and alternative shapes (GitLab runner, Sourcegraph, Doppler service, Databricks, Codecov,
//   Mailgun, Asana, 1Password secret key), and keywords a row cannot spell (`(?<![?&])circle`, Datadog's
//   `(?<![A-Za-z])dd_api`);
// - files and commands (PEM in base64, PuTTY, OpenVPN, WireGuard, htpasswd, shadow, curl, sshpass, mysql, netrc,
//   Jenkins), Fly.io macaroons (BuiltinRules.swift), the generic assignment rules and the detectors;
// - an order a row cannot keep: `openai-admin-key` must come before the `T3BlbkFJ` signature rule;
// - no entropy floor, which every row has: `age-secret-key` and `langfuse-secret-key` report the formats' own
//   all-`Q` and all-zero examples, as the peers' tests expect.
// Written from public format documentation; every rule has table-driven examples in RuleCatalogTests.

extension BuiltinRules {
    /// Every provider rule, specific ones first and the generic fallbacks last (an equal span goes to the
    /// more severe rule, then to the earlier one).
    static let providers: [Rule] =
        providerCloud + providerDevTools + providerSaaS + providerAI + providerFiles + providerConnections + providerMechanisms
        + catalog.map(\.rule) + providerGeneric

    // MARK: Pattern helpers

    /// `body` as a whole token: not preceded or followed by another token character, nor after a `.` (a prefix
    /// there is part of a file or dotted name: `box.ico-<hash>.png`).
    static func pvToken(_ body: String) -> String {
        #"(?<![.A-Za-z0-9_-])("# + body + #")(?![A-Za-z0-9_-])"#
    }

    /// `body` as a base64 token (standard alphabet, `=` padding).
    static func pvBase64Token(_ body: String) -> String {
        #"(?<![A-Za-z0-9+/_-])("# + body + #")(?![A-Za-z0-9+/=])"#
    }

    /// A token near a name containing `keyword` (case-insensitive): env files, YAML, JSON (escaped too), XML
    /// elements, shell, CLI flags, log lines, properties, Ruby/PHP hashes (see `CatalogEntry.proximity`).
    /// `keyword` is a regex fragment; the token must be whole (no token character, `.` or `/` before it).
    static func pvAssigned(_ keyword: String, _ body: String, end: String = #"(?![A-Za-z0-9_-])"#) -> String {
        "(?i:" + keyword + ")" + CatalogEntry.notSecretName + CatalogEntry.proximity + #"(?<![A-Za-z0-9_./+-])("# + body + ")" + end + CatalogEntry.notAName
    }

    static let pvUUID = #"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"#
    static let pvUUIDAnyCase = #"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"#

    // MARK: Cloud and infrastructure

    static let providerCloud: [Rule] = [
        // AWS
        Rule(id: "aws-session-token", description: "AWS session token (temporary credentials)", severity: .high,
             regex: pvAssigned(#"aws_?session_?token|aws_?security_?token|x-amz-security-token"#, #"[A-Za-z0-9/+]{100,}={0,2}"#,
                               end: #"(?![A-Za-z0-9/+=])"#),
             entropy: 4.0, confidence: .medium),
        Rule(id: "aws-bedrock-api-key", description: "Amazon Bedrock long-term API key", severity: .high,
             regex: pvBase64Token(#"ABSKQmVkcm9ja0FQSUtleS[A-Za-z0-9+/]{80,}={0,2}"#), entropy: 4.0),
        Rule(id: "aws-bedrock-short-term-key", description: "Amazon Bedrock short-term API key", severity: .medium,
             regex: #"(?<![A-Za-z0-9_-])(bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/=%_-]{40,})(?![A-Za-z0-9+/=%_-])"#),

        // Google Cloud
        // Medium: Google documents API keys as identifiers that browser and mobile apps embed, restricted by
        // referrer, app or API (its own SDKs ship several); a base64 blob that happens to hold `AIza` is none.
        Rule(id: "gcp-api-key", description: "Google API key", severity: .medium,
             regex: #"(?<![A-Za-z0-9_+/-])(AIza[A-Za-z0-9_-]{35})(?![A-Za-z0-9_+/=-])"#, entropy: 3.5, mixedCharacters: true),
        Rule(id: "gcp-service-account-key-id", description: "Google service account key (private_key_id)", severity: .high,
             regex: #""private_key_id"\s{0,4}:\s{0,4}"([a-f0-9]{40})""#, entropy: 3.0, confidence: .medium),
        Rule(id: "google-oauth-refresh-token", description: "Google OAuth refresh token", severity: .high,
             regex: #"(?<![A-Za-z0-9_/-])(1//0[A-Za-z0-9_-]{60,})(?![A-Za-z0-9_-])"#, entropy: 4.0),

        // Azure
        Rule(id: "azure-storage-account-key", description: "Azure storage account key (connection string AccountKey)", severity: .critical,
             regex: #"(?i:AccountKey)\s{0,2}=\s{0,2}([A-Za-z0-9+/]{86}==)"#, entropy: 4.5),
        Rule(id: "azure-shared-access-key", description: "Azure Service Bus / Event Hubs / IoT Hub shared access key", severity: .high,
             regex: #"(?i:SharedAccessKey)\s{0,2}=\s{0,2}([A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=)"#, entropy: 4.0),
        Rule(id: "azure-sas-token", description: "Azure shared access signature (sig= of a SAS URL)", severity: .high,
             regex: #"[?&=]sv=\d{4}-\d{2}-\d{2}&[^\s"'<>]{0,300}?&sig=([A-Za-z0-9%+/=]{40,120})(?![A-Za-z0-9%+/=])"#,
             entropy: 4.0),
        Rule(id: "azure-ad-client-secret", description: "Azure AD (Entra ID) application client secret", severity: .high,
             regex: #"(?<![A-Za-z0-9_~.-])([A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~.-])"#, entropy: 3.5),
        Rule(id: "azure-devops-pat-v2", description: "Azure DevOps personal access token (AZDO signature)", severity: .high,
             regex: #"(?<![A-Za-z0-9])([A-Za-z0-9]{76}AZDO[A-Za-z0-9]{4})(?![A-Za-z0-9])"#, entropy: 4.0),
        Rule(id: "azure-app-configuration-secret", description: "Azure App Configuration connection string secret", severity: .high,
             regex: #"Endpoint=https://[A-Za-z0-9-]{1,64}\.azconfig\.io;Id=[^;\s"']{1,64};Secret=([A-Za-z0-9+/]{40,64}={0,2})"#,
             entropy: 4.0),

        // HashiCorp, Kubernetes
        Rule(id: "terraform-cloud-token", description: "Terraform Cloud / Enterprise API token", severity: .critical,
             regex: pvToken(#"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}"#), entropy: 3.5),
        Rule(id: "kubernetes-service-account-token", description: "Kubernetes service account token (legacy secret-based JWT)", severity: .high,
             regex: pvToken(#"eyJ[A-Za-z0-9_-]{10,}\.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{16,}"#)),
    ]

    // MARK: Source hosting, CI, packages

    static let providerDevTools: [Rule] = [
        Rule(id: "gitlab-runner-token", description: "GitLab runner authentication token", severity: .high,
             regex: pvToken(#"glrt-[A-Za-z0-9_-]{20,300}(?:\.[0-9a-z]{2}[0-9a-z]{7})?"#), entropy: 3.0),
        Rule(id: "gitlab-session-cookie", description: "GitLab session cookie", severity: .medium,
             regex: #"_gitlab_session=([0-9a-z]{32})(?![0-9a-z])"#, entropy: 3.0),
        Rule(id: "bitbucket-app-password", description: "Bitbucket app password", severity: .high,
             regex: pvToken(#"ATBB[A-Za-z0-9_=.-]{28,40}"#), entropy: 3.5),
        Rule(id: "git-credentials-url", description: "Password or token in a Git hosting URL", severity: .high,
             regex: #"(?i)https?://[^:/\s"'@]{1,64}:([^@\s"'/:]{8,128})@(?:github\.com|gitlab\.com|bitbucket\.org|dev\.azure\.com|[a-z0-9-]{1,64}\.visualstudio\.com|codeberg\.org|gitea\.com)(?![A-Za-z0-9.-])"#,
             entropy: 3.0, confidence: .medium),
        Rule(id: "atlassian-api-token", description: "Atlassian API token", severity: .high,
             regex: pvToken(#"ATATT3[A-Za-z0-9_=-]{150,250}"#), entropy: 4.0),
        Rule(id: "circleci-token", description: "CircleCI API token (next to a keyword)", severity: .high,
             regex: pvAssigned(#"(?<![?&])circle[\w.-]{0,20}?token"#, #"[a-f0-9]{40}"#), entropy: 3.0, confidence: .medium),
        Rule(id: "codecov-token", description: "Codecov upload token", severity: .high,
             regex: pvAssigned("codecov", pvUUID + "|[a-f0-9]{32}"), entropy: 3.0, confidence: .medium),
        Rule(id: "sourcegraph-token", description: "Sourcegraph access token", severity: .high,
             regex: pvToken(#"sgp_(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40}"#), entropy: 3.0),
        Rule(id: "octopus-deploy-api-key", description: "Octopus Deploy API key", severity: .medium,
             regex: #"(?<![A-Za-z0-9_-])(API-[A-Z0-9]{26})(?![A-Za-z0-9_-])"#, entropy: 3.8, confidence: .medium),

        // Package registries
        Rule(id: "npmrc-auth-token", description: "npm registry auth token in .npmrc", severity: .high,
             regex: #"(?<![A-Za-z0-9])_authToken\s{0,4}=\s{0,4}["']?([A-Za-z0-9._~+/=-]{20,})(?=["'\s]|\z)"#, entropy: 3.0, confidence: .medium),
        Rule(id: "npmrc-auth", description: "npm registry basic credentials (_auth / _password) in .npmrc", severity: .high,
             regex: #"(?m)^\s*(?://[^\s=]{1,200}:)?_(?:auth|password)\s{0,4}=\s{0,4}["']?([A-Za-z0-9+/]{12,}={0,2})(?=["'\s]|\z)"#,
             prefilter: #"_(?:auth|password)\s{0,4}=\s{0,4}["']?[A-Za-z0-9+/]{12,}={0,2}"#, entropy: 3.0, confidence: .medium),
        Rule(id: "nuget-config-password", description: "Cleartext password in NuGet.config", severity: .high,
             regex: #"<add\s+key="(?:ClearText)?Password"\s+value="([^"\s]{8,128})""#, entropy: 3.0,
             allowlist: [#"^%[A-Za-z_]+%$"#, pvSelfNamedPassword], confidence: .medium),
    ]
}
