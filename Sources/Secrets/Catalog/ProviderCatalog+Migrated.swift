// Provider formats that were hand-written rules (`pvToken`, `pvAssigned`), now rows like the rest of the catalogue
// (issue 19, "One catalogue"): the same ids, descriptions, severities and entropy floors; revoke pages attach by id
// (ProviderCatalog+Revoke.swift). First in the catalogue, where the hand-written rules stood, so that ties between
// equal spans go as before.

extension BuiltinRules {
    private typealias S = TokenShape

    private static func token(_ id: String, _ description: String, _ severity: Severity, _ shape: TokenShape,
                              entropy: Double? = nil) -> CatalogEntry {
        CatalogEntry(id: id, description: description, severity: severity, shape: shape, context: .prefixed, entropy: entropy)
    }

    private static func keyed(_ id: String, _ description: String, _ severity: Severity, _ keywords: [String],
                              _ shape: TokenShape, entropy: Double? = nil) -> CatalogEntry {
        CatalogEntry(id: id, description: description, severity: severity, shape: shape, context: .keyed(keywords), entropy: entropy)
    }

    static let catalogMigrated: [CatalogEntry] = [
        // Cloud and infrastructure
        keyed("azure-devops-pat", "Azure DevOps personal access token", .high,
              ["azure_devops", "azdo", "vsts", "ado_pat", "ado_token"], S.run(.base32Lower, 52), entropy: 3.5),
        token("tailscale-key", "Tailscale auth, API or OAuth client key", .critical,
              S.lit("tskey-") + S.oneOf(["auth", "api", "client", "scim", "webhook"]) + S.lit("-") + S.alnum(6...24) + S.lit("-")
                + S.alnum(20...48), entropy: 3.5),
        keyed("ngrok-authtoken", "ngrok authtoken or API key", .high, ["ngrok"], S.alnum(20...30) + S.lit("_") + S.alnum(18...30), entropy: 4.0),
        token("vault-service-token", "HashiCorp Vault service or recovery token", .critical,
              S.lit("hv") + S.oneOf(["s", "r"]) + S.lit(".") + S.run(.urlSafe, atLeast: 24), entropy: 3.5),
        token("vault-batch-token", "HashiCorp Vault batch token", .high, S.lit("hvb.") + S.run(.urlSafe, atLeast: 100), entropy: 3.5),
        keyed("vault-legacy-token", "HashiCorp Vault token (legacy s. format)", .high, ["vault token"], S.lit("s.") + S.alnum(24), entropy: 3.5),
        token("openshift-user-token", "OpenShift user token", .high, S.lit("sha256~") + S.url(43), entropy: 3.5),
        token("docker-hub-token", "Docker Hub personal or organization access token", .critical,
              S.lit("dckr_") + S.oneOf(["pat", "oat"]) + S.lit("_") + S.run(.urlSafe, atLeast: 27), entropy: 3.5),
        token("google-oauth-access-token", "Google OAuth access token", .medium, S.lit("ya29.") + S.run(.urlSafe, atLeast: 30), entropy: 4.0),

        // Source hosting, CI, packages
        keyed("github-oauth-client-secret", "GitHub OAuth app client secret", .high, ["github secret"], S.hex(40), entropy: 3.0),
        keyed("github-legacy-token", "GitHub token (legacy 40-hex format next to a keyword)", .high, ["github token", "github pat"],
              S.hex(40), entropy: 3.0),
        keyed("bitbucket-client-secret", "Bitbucket OAuth client secret", .high, ["bitbucket secret"],
              S.url(32...64), entropy: 3.5),
        keyed("travis-ci-token", "Travis CI API token", .high, ["travis token"], S.url(22), entropy: 3.5),
        token("sonarqube-token", "SonarQube / SonarCloud token", .high, S.lit("sq") + S.oneOf(["u", "p", "a"]) + S.lit("_") + S.hex(40), entropy: 3.0),
        keyed("snyk-token", "Snyk API token", .high, ["snyk token", "snyk key"], S.uuid, entropy: 3.0),
        token("harness-token", "Harness personal or service account token", .high,
              S.oneOf(["pat", "sat"]) + S.lit(".") + S.url(22) + S.lit(".") + S.alnum(24) + S.lit(".") + S.alnum(20), entropy: 3.5),
        token("pypi-upload-token", "PyPI upload token", .critical, S.lit("pypi-AgEIcHlwaS5vcmc") + S.run(.urlSafe, atLeast: 50), entropy: 4.0),
        token("pypi-test-upload-token", "TestPyPI upload token", .medium,
              S.lit("pypi-AgENdGVzdC5weXBpLm9yZw") + S.run(.urlSafe, atLeast: 50), entropy: 4.0),

        // Payments
        token("stripe-webhook-secret", "Stripe (or Svix) webhook signing secret", .high, S.lit("whsec_") + S.run(.base64Padded, 32...88), entropy: 3.5),
        token("stripe-test-key", "Stripe test-mode secret or restricted key", .low,
              S.oneOf(["sk", "rk"]) + S.lit("_test_") + S.alnum(24...99), entropy: 3.0),
        keyed("paypal-client-secret", "PayPal REST client secret", .high, ["paypal secret"], S.url(80), entropy: 4.0),
        keyed("plaid-secret", "Plaid API secret", .high, ["plaid secret"], S.hex(30), entropy: 3.0),
        token("plaid-access-token", "Plaid access token", .high, S.lit("access-") + S.oneOf(["sandbox", "development", "production"]) + S.lit("-") + S.uuid),
        keyed("gocardless-token", "GoCardless live access token", .high, ["gocardless"], S.lit("live_") + S.urlPadded(40), entropy: 3.5),
        token("duffel-token", "Duffel API token", .high, S.lit("duffel_") + S.oneOf(["test", "live"]) + S.lit("_") + S.urlPadded(43), entropy: 3.5),
        keyed("lob-api-key", "Lob live API key", .high, ["lob key", "lob secret", "lob token"], S.lit("live_") + S.hex(35), entropy: 3.0),

        // Messaging and e-mail
        token("slack-app-token", "Slack app-level token", .high,
              S.lit("xapp-") + S.digits(1) + S.lit("-") + S.upper(8...14) + S.lit("-") + S.digits(8...16) + S.lit("-") + S.hex(32...80), entropy: 3.0),
        token("slack-config-access-token", "Slack configuration access token", .high,
              S.lit("xoxe.xox") + S.oneOf(["b", "p"]) + S.lit("-") + S.digits(1) + S.lit("-") + S.alnum(150...180), entropy: 4.0),
        token("slack-config-refresh-token", "Slack configuration refresh token", .high,
              S.lit("xoxe-") + S.digits(1) + S.lit("-") + S.alnum(140...160), entropy: 4.0),
        keyed("twilio-auth-token", "Twilio auth token or API key secret", .high, ["twilio auth", "twilio secret", "twilio token"],
              S.hex(32), entropy: 3.0),
        token("brevo-api-key", "Brevo (Sendinblue) API or SMTP key", .high,
              S.lit("x") + S.oneOf(["keysib", "smtpsib"]) + S.lit("-") + S.hex(64) + S.lit("-") + S.alnum(16), entropy: 3.0),
        keyed("intercom-token", "Intercom access token", .high, ["intercom"], S.urlPadded(60), entropy: 4.0),
        token("hubspot-private-app-token", "HubSpot private app access token", .high,
              S.lit("pat-") + S.oneOf(["na", "eu", "ap"]) + S.digits(1) + S.lit("-") + S.uuid),
        token("facebook-access-token", "Facebook / Meta Graph API access token", .medium,
              S.lit("EAA") + S.run(.upperLetters, 1) + S.run(.alnum, atLeast: 100), entropy: 4.5),
        keyed("facebook-app-secret", "Facebook / Meta app secret", .high, ["facebook secret", "fb_app_secret"], S.hex(32), entropy: 3.0),
        // An app access token is the app's id, `|`, and the app secret or a token the Graph API issued for the app:
        // it acts as the app itself.
        keyed("facebook-app-access-token", "Facebook / Meta app access token (app id|secret)", .high, ["facebook", "fb_app", "fb_access"],
              S.digits(13...17) + S.lit("|") + S.url(27...32), entropy: 3.5),

        // Monitoring and observability
        keyed("sentry-legacy-token", "Sentry auth token (legacy 64-hex next to a keyword)", .high, ["sentry auth", "sentry token"],
              S.hex(64), entropy: 3.0),
        keyed("sumologic-access-key", "Sumo Logic access key", .high, ["sumo key", "sumo secret"], S.alnum(64), entropy: 4.0),
        keyed("launchdarkly-token", "LaunchDarkly API access token or SDK key", .high, ["launch_darkly"],
              S.oneOf(["api", "sdk"]) + S.lit("-") + S.uuid),

        // Identity
        keyed("auth0-client-secret", "Auth0 client secret", .high, ["auth0 secret"], S.url(64), entropy: 4.0),
        token("doppler-token", "Doppler personal, CLI, service account, SCIM or audit token", .critical,
              S.lit("dp.") + S.oneOf(["pt", "ct", "sa", "scim", "audit"]) + S.lit(".") + S.alnum(40...44), entropy: 3.5),

        // Productivity, content, data
        keyed("linear-client-secret", "Linear OAuth client secret", .high, ["linear secret"], S.hex(32), entropy: 3.0),
        token("frameio-token", "Frame.io API token", .high, S.lit("fio-u-") + S.urlPadded(64), entropy: 4.0),
        token("typeform-token", "Typeform personal access token", .high, S.lit("tfp_") + S.urlDotted(59), entropy: 4.0),
        keyed("algolia-admin-key", "Algolia admin / write API key", .high, ["algolia admin", "algolia write", "algolia secret"],
              S.hex(32), entropy: 3.0),
        token("supabase-secret-key", "Supabase secret API key", .critical, S.lit("sb_secret_") + S.run(.urlSafe, atLeast: 20), entropy: 3.5),
        token("planetscale-token", "PlanetScale service token", .critical, S.lit("pscale_tkn_") + S.urlDotted(32...64), entropy: 3.5),
        token("planetscale-password", "PlanetScale database password", .critical, S.lit("pscale_pw_") + S.urlDotted(32...64), entropy: 3.5),
        token("planetscale-oauth-token", "PlanetScale OAuth token", .high, S.lit("pscale_oauth_") + S.urlDotted(32...64), entropy: 3.5),
        keyed("neon-api-key", "Neon API key", .high, ["neon api", "neon key", "neon token"], S.lower(64), entropy: 3.5),

        // AI (`openai-admin-key` stays a regex ahead of the `T3BlbkFJ` signature rule, which would otherwise take its bytes)
        token("openai-project-key", "OpenAI project or service account key", .high,
              S.lit("sk-") + S.oneOf(["proj", "svcacct"]) + S.lit("-") + S.url(40...300), entropy: 4.0),
        token("huggingface-token", "Hugging Face access token", .high, S.lit("hf_") + S.letters(34), entropy: 4.2),
        token("huggingface-org-token", "Hugging Face organization API token", .high, S.lit("api_org_") + S.letters(34), entropy: 4.2),
        token("langsmith-api-key", "LangSmith API key", .high,
              S.lit("lsv2_") + S.oneOf(["pt", "sk"]) + S.lit("_") + S.hex(32) + S.lit("_") + S.hex(10), entropy: 3.0),
    ]
}
