// Provider-specific rules: token formats with a distinctive prefix, or a keyword next to a precise body.
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
        Rule(id: "google-oauth-access-token", description: "Google OAuth access token", severity: .medium,
             regex: pvToken(#"ya29\.[A-Za-z0-9_-]{30,}"#), entropy: 4.0),

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
        Rule(id: "azure-devops-pat", description: "Azure DevOps personal access token", severity: .high,
             regex: pvAssigned(#"azure[_-]?devops|azdo|vsts|ado[_-]?(?:pat|token)"#, #"[a-z2-7]{52}"#), entropy: 3.5, confidence: .medium),
        Rule(id: "azure-devops-pat-v2", description: "Azure DevOps personal access token (AZDO signature)", severity: .high,
             regex: #"(?<![A-Za-z0-9])([A-Za-z0-9]{76}AZDO[A-Za-z0-9]{4})(?![A-Za-z0-9])"#, entropy: 4.0),
        Rule(id: "azure-app-configuration-secret", description: "Azure App Configuration connection string secret", severity: .high,
             regex: #"Endpoint=https://[A-Za-z0-9-]{1,64}\.azconfig\.io;Id=[^;\s"']{1,64};Secret=([A-Za-z0-9+/]{40,64}={0,2})"#,
             entropy: 4.0),

        // Alibaba, IBM and smaller clouds
        Rule(id: "tailscale-key", description: "Tailscale auth, API or OAuth client key", severity: .critical,
             regex: pvToken(#"tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{6,24}-[A-Za-z0-9]{20,48}"#), entropy: 3.5),
        Rule(id: "ngrok-authtoken", description: "ngrok authtoken or API key", severity: .high,
             regex: pvAssigned("ngrok", #"[A-Za-z0-9]{20,30}_[A-Za-z0-9]{18,30}"#), entropy: 4.0, confidence: .medium),

        // HashiCorp, Kubernetes, OpenShift
        Rule(id: "vault-service-token", description: "HashiCorp Vault service or recovery token", severity: .critical,
             regex: pvToken(#"hv[sr]\.[A-Za-z0-9_-]{24,}"#), entropy: 3.5),
        Rule(id: "vault-batch-token", description: "HashiCorp Vault batch token", severity: .high,
             regex: pvToken(#"hvb\.[A-Za-z0-9_-]{100,}"#), entropy: 3.5),
        Rule(id: "vault-legacy-token", description: "HashiCorp Vault token (legacy s. format)", severity: .high,
             regex: pvAssigned(#"vault[\w.-]{0,20}?token"#, #"s\.[A-Za-z0-9]{24}"#), entropy: 3.5, confidence: .medium),
        Rule(id: "terraform-cloud-token", description: "Terraform Cloud / Enterprise API token", severity: .critical,
             regex: pvToken(#"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}"#), entropy: 3.5),
        Rule(id: "kubernetes-service-account-token", description: "Kubernetes service account token (legacy secret-based JWT)", severity: .high,
             regex: pvToken(#"eyJ[A-Za-z0-9_-]{10,}\.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{16,}"#)),
        Rule(id: "openshift-user-token", description: "OpenShift user token", severity: .high,
             regex: pvToken(#"sha256~[A-Za-z0-9_-]{43}"#), entropy: 3.5),
        Rule(id: "docker-hub-token", description: "Docker Hub personal or organization access token", severity: .critical,
             regex: pvToken(#"dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,}"#), entropy: 3.5),
    ]

    // MARK: Source hosting, CI, packages

    static let providerDevTools: [Rule] = [
        Rule(id: "github-oauth-client-secret", description: "GitHub OAuth app client secret", severity: .high,
             regex: pvAssigned(#"github[\w.-]{0,20}?secret"#, #"[a-f0-9]{40}"#), entropy: 3.0, confidence: .medium),
        Rule(id: "github-legacy-token", description: "GitHub token (legacy 40-hex format next to a keyword)", severity: .high,
             regex: pvAssigned(#"github[\w.-]{0,20}?(?:token|pat)"#, #"[a-f0-9]{40}"#), entropy: 3.0, confidence: .medium),
        Rule(id: "gitlab-runner-token", description: "GitLab runner authentication token", severity: .high,
             regex: pvToken(#"glrt-[A-Za-z0-9_-]{20,300}(?:\.[0-9a-z]{2}[0-9a-z]{7})?"#), entropy: 3.0),
        Rule(id: "gitlab-session-cookie", description: "GitLab session cookie", severity: .medium,
             regex: #"_gitlab_session=([0-9a-z]{32})(?![0-9a-z])"#, entropy: 3.0),
        Rule(id: "bitbucket-app-password", description: "Bitbucket app password", severity: .high,
             regex: pvToken(#"ATBB[A-Za-z0-9_=.-]{28,40}"#), entropy: 3.5),
        Rule(id: "bitbucket-client-secret", description: "Bitbucket OAuth client secret", severity: .high,
             regex: pvAssigned(#"bitbucket[\w.-]{0,20}?secret"#, #"[A-Za-z0-9_=-]{32,64}"#), entropy: 3.5, confidence: .medium),
        Rule(id: "git-credentials-url", description: "Password or token in a Git hosting URL", severity: .high,
             regex: #"(?i)https?://[^:/\s"'@]{1,64}:([^@\s"'/:]{8,128})@(?:github\.com|gitlab\.com|bitbucket\.org|dev\.azure\.com|[a-z0-9-]{1,64}\.visualstudio\.com|codeberg\.org|gitea\.com)(?![A-Za-z0-9.-])"#,
             entropy: 3.0, confidence: .medium),
        Rule(id: "atlassian-api-token", description: "Atlassian API token", severity: .high,
             regex: pvToken(#"ATATT3[A-Za-z0-9_=-]{150,250}"#), entropy: 4.0),
        Rule(id: "circleci-token", description: "CircleCI API token (next to a keyword)", severity: .high,
             regex: pvAssigned(#"(?<![?&])circle[\w.-]{0,20}?token"#, #"[a-f0-9]{40}"#), entropy: 3.0, confidence: .medium),
        Rule(id: "travis-ci-token", description: "Travis CI API token", severity: .high,
             regex: pvAssigned(#"travis[\w.-]{0,20}?token"#, #"[A-Za-z0-9_-]{22}"#), entropy: 3.5, confidence: .medium),
        Rule(id: "codecov-token", description: "Codecov upload token", severity: .high,
             regex: pvAssigned("codecov", pvUUID + "|[a-f0-9]{32}"), entropy: 3.0, confidence: .medium),
        Rule(id: "sonarqube-token", description: "SonarQube / SonarCloud token", severity: .high,
             regex: pvToken(#"sq[upa]_[a-f0-9]{40}"#), entropy: 3.0),
        Rule(id: "snyk-token", description: "Snyk API token", severity: .high,
             regex: pvAssigned(#"snyk[\w.-]{0,20}?(?:token|key)"#, pvUUID), entropy: 3.0, confidence: .medium),
        Rule(id: "sourcegraph-token", description: "Sourcegraph access token", severity: .high,
             regex: pvToken(#"sgp_(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40}"#), entropy: 3.0),
        Rule(id: "harness-token", description: "Harness personal or service account token", severity: .high,
             regex: pvToken(#"(?:pat|sat)\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}"#), entropy: 3.5),
        Rule(id: "octopus-deploy-api-key", description: "Octopus Deploy API key", severity: .medium,
             regex: #"(?<![A-Za-z0-9_-])(API-[A-Z0-9]{26})(?![A-Za-z0-9_-])"#, entropy: 3.8, confidence: .medium),

        // Package registries
        Rule(id: "npmrc-auth-token", description: "npm registry auth token in .npmrc", severity: .high,
             regex: #"(?<![A-Za-z0-9])_authToken\s{0,4}=\s{0,4}["']?([A-Za-z0-9._~+/=-]{20,})(?=["'\s]|\z)"#, entropy: 3.0, confidence: .medium),
        Rule(id: "npmrc-auth", description: "npm registry basic credentials (_auth / _password) in .npmrc", severity: .high,
             regex: #"(?m)^\s*(?://[^\s=]{1,200}:)?_(?:auth|password)\s{0,4}=\s{0,4}["']?([A-Za-z0-9+/]{12,}={0,2})(?=["'\s]|\z)"#,
             prefilter: #"_(?:auth|password)\s{0,4}=\s{0,4}["']?[A-Za-z0-9+/]{12,}={0,2}"#, entropy: 3.0, confidence: .medium),
        Rule(id: "pypi-upload-token", description: "PyPI upload token", severity: .critical,
             regex: pvToken(#"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}"#), entropy: 4.0),
        Rule(id: "pypi-test-upload-token", description: "TestPyPI upload token", severity: .medium,
             regex: pvToken(#"pypi-AgENdGVzdC5weXBpLm9yZw[A-Za-z0-9_-]{50,}"#), entropy: 4.0),
        Rule(id: "nuget-config-password", description: "Cleartext password in NuGet.config", severity: .high,
             regex: #"<add\s+key="(?:ClearText)?Password"\s+value="([^"\s]{8,128})""#, entropy: 3.0,
             allowlist: [#"^%[A-Za-z_]+%$"#], confidence: .medium),
    ]
}
