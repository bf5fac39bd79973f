// Tokens whose prefix names them, and a few keyword rows that complete a prefixed family.
// Rows of the provider catalogue (see CatalogEntry): written from each provider's public documentation of its
// credential formats. A row is a prefixed token or a keyword next to a body of the provider's shape.

extension BuiltinRules {
    static let catalogPrefixed: [CatalogEntry] = [
        // AI and machine learning
        .token("openrouter-api-key", "OpenRouter API key", TokenShape.lit("sk-or-v1-") + TokenShape.hex(64)),
        .token("nvidia-api-key", "NVIDIA API Catalog key", TokenShape.lit("nvapi-") + TokenShape.url(64)),
        .token("tavily-api-key", "Tavily API key", TokenShape.lit("tvly-") + TokenShape.alnum(32)),
        .token("firecrawl-api-key", "Firecrawl API key", TokenShape.lit("fc-") + TokenShape.hex(32)),
        .token("jina-api-key", "Jina AI API key", TokenShape.lit("jina_") + TokenShape.alnum(56...64)),
        .token("elevenlabs-api-key", "ElevenLabs API key", TokenShape.lit("sk_") + TokenShape.hex(48)),
        .token("cerebras-api-key", "Cerebras API key", TokenShape.lit("csk-") + TokenShape.lower(48)),
        .token("posthog-personal-api-key", "PostHog personal API key", TokenShape.lit("phx_") + TokenShape.alnum(43...47)),
        .token("langfuse-public-key", "Langfuse public key (pairs with the secret key)", TokenShape.lit("pk-lf-") + TokenShape.uuid, .low),
        .token("deepinfra-api-key", "DeepInfra API key", TokenShape.lit("di_") + TokenShape.alnum(32), .medium),
        .token("assemblyai-token", "AssemblyAI temporary token", TokenShape.lit("aai_") + TokenShape.alnum(32), .medium),
        // Messaging, e-mail
        .token("resend-api-key", "Resend API key", TokenShape.lit("re_") + TokenShape.alnum(8) + TokenShape.lit("_") + TokenShape.alnum(24)),
        .token("mailersend-api-token", "MailerSend API token", TokenShape.lit("mlsn.") + TokenShape.hex(64)),
        .token("slack-client-token", "Slack client (browser session) token", TokenShape.lit("xoxc-") + TokenShape.digits(10...13) + TokenShape.lit("-") + TokenShape.digits(10...13) + TokenShape.lit("-") + TokenShape.digits(10...13) + TokenShape.lit("-") + TokenShape.hex(64)),
        .token("slack-cookie-token", "Slack session cookie token (xoxd)", TokenShape.lit("xoxd-") + TokenShape.url(80...200), .medium),
        .token("sendbird-api-token", "Sendbird API token", TokenShape.lit("sb_api_") + TokenShape.hex(40), .medium),
        // Source hosting, CI, packages
        .token("linear-oauth-token", "Linear OAuth access token", TokenShape.lit("lin_oauth_") + TokenShape.hex(64)),
        .token("postman-collection-token", "Postman collection access token", TokenShape.lit("PMAT-") + TokenShape.upper(26)),
        .token("deno-deploy-token", "Deno Deploy access token", TokenShape.lit("ddp_") + TokenShape.alnum(36)),
        .token("deno-deploy-org-token", "Deno Deploy organization token", TokenShape.lit("ddo_") + TokenShape.alnum(36)),
        .token("cratesio-api-token", "crates.io API token", TokenShape.lit("cio") + TokenShape.alnum(32)),
        // Standard base64 of the token's numeric id, `:` and random bytes, as Atlassian's Data Center tokens are.
        .token("bitbucket-data-center-token", "Bitbucket Data Center HTTP access token", TokenShape.lit("BBDC-") + TokenShape.b64(44)),
        .token("databricks-oauth-secret", "Databricks service principal OAuth secret", TokenShape.lit("dose") + TokenShape.hex(32)),
        .token("dynatrace-platform-token", "Dynatrace platform token", TokenShape.lit("dt0s0") + TokenShape.digits(1) + TokenShape.lit(".") + TokenShape.upper(24) + TokenShape.lit(".") + TokenShape.upper(64)),
        .keyed("gitea-token", "Gitea access token (next to a keyword)", ["gitea", "forgejo", "codeberg"], TokenShape.hex(40)),
        .keyed("buildkite-agent-token", "Buildkite agent token (next to a keyword)", ["buildkite_agent"], TokenShape.lower(50)),
        .keyed("github-app-client-secret", "GitHub App or OAuth app client secret", ["gh_app", "github_app", "gh_client_secret", "gh_oauth", "github_oauth", "github_client"], TokenShape.hex(40)),
        .keyed("github-webhook-secret", "GitHub webhook secret", ["github_webhook", "gh_webhook"], TokenShape.url(20...64), .medium),
        .keyed("harness-api-key", "Harness API key (next to a keyword)", ["harness_api", "harness_platform"], TokenShape.url(20...64), .medium),
        .keyed("jfrog-access-token", "JFrog access token (next to a keyword)", ["jfrog", "artifactory"], TokenShape.url(64...1024)),
        // Cloud
        // DataStax Astra DB application tokens: `AstraCS:`, the client id, then its secret in hex.
        .token("datastax-astra-token", "DataStax Astra DB application token", TokenShape.lit("AstraCS:") + TokenShape.alnum(24) + TokenShape.lit(":") + TokenShape.hex(64)),
        .token("akamai-edgegrid-token", "Akamai EdgeGrid client or access token", TokenShape.lit("akab-") + TokenShape.lower(16) + TokenShape.lit("-") + TokenShape.lower(16)),
        .token("tencent-cloud-secret-id", "Tencent Cloud SecretId", TokenShape.lit("AKID") + TokenShape.alnum(32)),
        .token("volcengine-access-key-id", "Volcengine access key ID", TokenShape.lit("AKLT") + TokenShape.url(40...50), .medium),
        .token("flagsmith-server-key", "Flagsmith server-side environment key", TokenShape.lit("ser.") + TokenShape.alnum(22)),
        .token("mapbox-temporary-token", "Mapbox temporary token", TokenShape.lit("tk.eyJ1Ijoi") + TokenShape.url(20...200) + TokenShape.lit(".") + TokenShape.url(22), .medium),
        .token("instagram-access-token", "Instagram access token", TokenShape.lit("IGQV") + TokenShape.url(150...300), .medium),
        .keyed("sanity-token", "Sanity API token (next to a keyword)", ["sanity"], TokenShape.alnum(150...200)),
        .token("woocommerce-consumer-secret", "WooCommerce REST consumer secret", TokenShape.lit("cs_") + TokenShape.hex(40)),
        .token("woocommerce-consumer-key", "WooCommerce REST consumer key", TokenShape.lit("ck_") + TokenShape.hex(40), .medium),
        .token("razorpay-live-key-id", "Razorpay live key ID", TokenShape.lit("rzp_live_") + TokenShape.alnum(14), .medium),
        .token("razorpay-test-key-id", "Razorpay test key ID", TokenShape.lit("rzp_test_") + TokenShape.alnum(14), .low),
        // Payments and commerce, prefixed
        .token("stripe-live-publishable-key", "Stripe live publishable key (public, identifies the account)", TokenShape.lit("pk_live_") + TokenShape.alnum(24...99), .low),
        .token("checkout-secret-key", "Checkout.com secret key", TokenShape.lit("sk_") + TokenShape.uuid, .medium),
        .token("checkout-sandbox-secret-key", "Checkout.com sandbox secret key", TokenShape.lit("sk_sbox_") + TokenShape.url(26...40), .low),
        .keyed("lemonsqueezy-api-key", "Lemon Squeezy API key (next to a keyword)", ["lemon_squeezy", "lemonsqueezy"], TokenShape.url(500...1200)),
        .keyed("mollie-live-api-key", "Mollie live API key (next to a keyword)", ["mollie"], TokenShape.lit("live_") + TokenShape.alnum(30)),
        .keyed("mollie-test-api-key", "Mollie test API key", ["mollie"], TokenShape.lit("test_") + TokenShape.alnum(30), .low),
        .token("mollie-access-token", "Mollie organization access token", TokenShape.lit("access_") + TokenShape.alnum(40)),
        .keyed("coinbase-commerce-key", "Coinbase Commerce API key", ["coinbase_commerce"], TokenShape.uuid),
        // Hosting, data
        .token("neon-api-key-v2", "Neon API key (napi_ format)", TokenShape.lit("napi_") + TokenShape.lower(64)),
        .keyed("turso-token", "Turso database token (next to a keyword)", ["turso", "libsql"], TokenShape.url(100...600) + TokenShape.lit(".") + TokenShape.url(20...200) + TokenShape.lit(".") + TokenShape.url(40...90)),
        .keyed("upstash-redis-token", "Upstash Redis REST token", ["upstash"], TokenShape.lit("A") + TokenShape.url(60...100)),
        .token("xata-api-key", "Xata API key", TokenShape.lit("xau_") + TokenShape.alnum(32...40)),
        .keyed("convex-deploy-key", "Convex deploy key", ["convex_deploy"], TokenShape.url(4...40) + TokenShape.lit("|") + TokenShape.url(40...200)),
        .token("fauna-secret", "Fauna secret key", TokenShape.lit("fnA") + TokenShape.url(37)),
        .token("clickhouse-cloud-secret", "ClickHouse Cloud API key secret", TokenShape.lit("4b1d") + TokenShape.alnum(38)),
        .token("mongodb-atlas-service-account-secret", "MongoDB Atlas service account secret", TokenShape.lit("mdb_sa_sk_") + TokenShape.url(40...60)),
        .keyed("pinecone-legacy-key", "Pinecone API key (legacy UUID next to a keyword)", ["pinecone"], TokenShape.uuid),
        .keyed("hashicorp-cloud-service-secret", "HashiCorp Cloud Platform service principal secret", ["hcp_client_secret", "hcp_secret"], TokenShape.url(64)),
        .keyed("railway-token", "Railway API or project token", ["railway"], TokenShape.uuid),
        .keyed("koyeb-token", "Koyeb API token", ["koyeb"], TokenShape.lower(64)),
        .keyed("northflank-token", "Northflank API token", ["northflank"], TokenShape.lit("nf-") + TokenShape.url(40...60)),
        // Families named in issue 12 without a row yet
        .token("settlemint-personal-access-token", "SettleMint personal access token", TokenShape.lit("sm_pat_") + TokenShape.alnum(16)),
        .token("settlemint-application-access-token", "SettleMint application access token", TokenShape.lit("sm_aat_") + TokenShape.alnum(16)),
        .token("settlemint-service-access-token", "SettleMint service access token", TokenShape.lit("sm_sat_") + TokenShape.alnum(16)),
        .keyed("rapidapi-key", "RapidAPI key", ["rapidapi", "rapid_api"], TokenShape.url(50)),
        .keyed("razorpay-key-secret", "Razorpay key secret", ["razorpay"], TokenShape.alnum(24)),
        .keyed("sidekiq-license", "Sidekiq Pro / Enterprise license credentials (Bundler source)", ["bundle_enterprise__contribsys__com", "bundle_gems__contribsys__com", "contribsys"], TokenShape.hex(8) + TokenShape.lit(":") + TokenShape.hex(8)),
        .keyed("lob-test-api-key", "Lob test API key", ["lob"], TokenShape.lit("test_") + TokenShape.hex(35), .low),
    ]
}
