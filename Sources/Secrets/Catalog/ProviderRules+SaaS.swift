// Provider rules for SaaS APIs: payments, messaging, monitoring, productivity, AI.

extension BuiltinRules {
    static let providerSaaS: [Rule] = [
        // Payments

        // Messaging and e-mail
        Rule(id: "twilio-api-key", description: "Twilio API key SID", severity: .high,
             regex: #"(?<![A-Za-z0-9_-])(SK[0-9a-f]{32})(?![A-Za-z0-9_-])"#, entropy: 3.0, confidence: .medium),
        Rule(id: "twilio-credentials-pair", description: "Twilio account SID and auth token pair (SID:token)", severity: .high,
             regex: #"(?<![A-Za-z0-9])AC[a-f0-9]{32}:([a-f0-9]{32})(?![A-Za-z0-9])"#, entropy: 3.0),
        Rule(id: "mailgun-api-key", description: "Mailgun API or webhook signing key", severity: .high,
             regex: pvAssigned("mailgun", #"key-[a-f0-9]{32}|[a-f0-9]{32}-[a-f0-9]{8}-[a-f0-9]{8}"#), entropy: 3.0, confidence: .medium),
        Rule(id: "mailchimp-api-key", description: "Mailchimp API key", severity: .high,
             regex: #"(?<![A-Za-z0-9_-])([a-f0-9]{32}-us\d{1,2})(?![A-Za-z0-9_-])"#, entropy: 3.0, confidence: .medium),
        Rule(id: "telegram-bot-token", description: "Telegram bot token", severity: .high,
             regex: #"(?<![0-9:])(\d{8,16}:AA[A-Za-z0-9_-]{33})(?![A-Za-z0-9_-])"#, entropy: 3.5, confidence: .medium),
        Rule(id: "discord-bot-token", description: "Discord bot token", severity: .high,
             regex: #"(?:(?i:discord)[\w.-]{0,30}?["']?\s{0,4}(?:=|:=|=>|:)\s{0,4}["'`]?|Bot\s)([MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38})(?![A-Za-z0-9_-])"#,
             entropy: 3.5, confidence: .medium),
        Rule(id: "discord-webhook-url", description: "Discord webhook URL", severity: .high,
             regex: #"(https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{17,20}/[A-Za-z0-9_-]{60,68})(?![A-Za-z0-9_-])"#),
        Rule(id: "microsoft-teams-webhook-url", description: "Microsoft Teams incoming webhook URL", severity: .high,
             regex: #"(https://[a-z0-9-]{1,64}\.webhook\.office\.com/webhookb2/[a-f0-9-]{36}@[a-f0-9-]{36}/IncomingWebhook/[A-Za-z0-9]{32}/[a-f0-9-]{36}(?:/[A-Za-z0-9_-]{20,80})?)"#),
        Rule(id: "google-chat-webhook-url", description: "Google Chat incoming webhook URL", severity: .high,
             regex: #"(https://chat\.googleapis\.com/v1/spaces/[A-Za-z0-9_-]{8,20}/messages\?key=[A-Za-z0-9_-]{39}&token=[A-Za-z0-9_%=-]{40,80})"#),
        Rule(id: "twitter-bearer-token", description: "Twitter / X API bearer token", severity: .high,
             regex: pvAssigned(#"twitter|x[_-]bearer"#, #"A{22}[A-Za-z0-9%]{80,120}"#), entropy: 3.5, confidence: .medium),

        // Monitoring and observability
        Rule(id: "datadog-api-key", description: "Datadog API key", severity: .high,
             regex: pvAssigned(#"datadog[\w.-]{0,20}?api|(?<![A-Za-z])dd[_-]api"#, #"[a-f0-9]{32}"#), entropy: 3.0, confidence: .medium),
        Rule(id: "datadog-app-key", description: "Datadog application key", severity: .high,
             regex: pvAssigned(#"datadog[\w.-]{0,20}?app|(?<![A-Za-z])dd[_-]app"#, #"[a-f0-9]{40}"#), entropy: 3.0, confidence: .medium),
        Rule(id: "sentry-dsn", description: "Sentry DSN key", severity: .medium,
             regex: #"https?://([a-f0-9]{32})(?::[a-f0-9]{32})?@[A-Za-z0-9.-]{0,80}sentry[A-Za-z0-9.-]{0,80}(?::\d{1,5})?/\d{1,12}"#,
             entropy: 3.0, confidence: .medium),
        Rule(id: "sentry-org-token", description: "Sentry organization auth token", severity: .high,
             regex: #"(?<![A-Za-z0-9_-])(sntrys_eyJ[A-Za-z0-9+/=_-]{60,800}_[A-Za-z0-9+/]{43})(?![A-Za-z0-9+/=_-])"#, entropy: 4.0),
        // 40 characters ending `NRAL`; the four before it are `FFFF` in the keys New Relic issues today
        // (`…583FFFFNRAL`), and an EU account's key starts `eu01xx`.
        Rule(id: "newrelic-license-key", description: "New Relic ingest license key", severity: .high,
             regex: #"(?<![A-Za-z0-9_-])([a-z0-9]{32}(?:[a-z0-9]{4}|FFFF)NRAL)(?![A-Za-z0-9_-])"#, entropy: 3.0),
        Rule(id: "grafana-cloud-token", description: "Grafana Cloud access policy token", severity: .high,
             regex: pvBase64Token(#"glc_[A-Za-z0-9+/]{32,400}={0,2}"#), entropy: 4.0),
        Rule(id: "grafana-api-key", description: "Grafana API key (legacy)", severity: .high,
             regex: pvBase64Token(#"eyJrIjoi[A-Za-z0-9+/]{60,400}={0,2}"#), entropy: 4.0),
        Rule(id: "pagerduty-token", description: "PagerDuty API token", severity: .high,
             regex: pvAssigned(#"pager[_-]?duty"#, #"[A-Za-z0-9_+-]{20}"#), entropy: 3.5, confidence: .medium),

        // Identity
        Rule(id: "onepassword-service-account-token", description: "1Password service account token", severity: .critical,
             regex: pvBase64Token(#"ops_eyJ[A-Za-z0-9+/]{250,}={0,3}"#), entropy: 4.0),
        Rule(id: "onepassword-secret-key", description: "1Password account secret key", severity: .high,
             regex: pvToken(#"A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}"#),
             entropy: 3.5),
        Rule(id: "doppler-service-token", description: "Doppler service token", severity: .critical,
             regex: pvToken(#"dp\.st\.(?:[a-z0-9_-]{1,32}\.)?[A-Za-z0-9]{40,44}"#), entropy: 3.5),
        // No entropy floor: an all-`Q` key is the format's own example, and a row's shape floor would drop it.
        Rule(id: "age-secret-key", description: "age encryption secret key", severity: .critical,
             regex: pvToken(#"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}"#)),
        Rule(id: "salesforce-access-token", description: "Salesforce access token", severity: .high,
             regex: #"(?<![A-Za-z0-9_-])(00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{90,110})(?![A-Za-z0-9._-])"#, entropy: 4.0),

        // Productivity, content, data
        Rule(id: "asana-pat", description: "Asana personal access token", severity: .high,
             regex: pvAssigned("asana", #"[12]/\d{16}(?:/\d{16})?:[a-f0-9]{32}|0/[a-f0-9]{32}"#), entropy: 3.0, confidence: .medium),
        Rule(id: "firebase-fcm-server-key", description: "Firebase Cloud Messaging legacy server key", severity: .high,
             regex: pvToken(#"AAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{120,160}"#), entropy: 4.0),
        Rule(id: "databricks-token", description: "Databricks personal access token", severity: .high,
             regex: pvToken(#"dapi[a-f0-9]{32}(?:-\d)?"#), entropy: 3.0),
        Rule(id: "cloudinary-url", description: "Cloudinary URL with API secret", severity: .high,
             regex: #"cloudinary://\d{6,20}:([A-Za-z0-9_-]{20,40})@[A-Za-z0-9_-]{1,64}"#, entropy: 3.5, confidence: .medium),
        Rule(id: "dropbox-short-lived-token", description: "Dropbox short-lived access token", severity: .medium,
             regex: #"(?<![A-Za-z0-9_.-])(sl\.(?:u\.)?[A-Za-z0-9_-]{130,})(?![A-Za-z0-9_-])"#, entropy: 4.5),
        Rule(id: "yandex-iam-token", description: "Yandex Cloud IAM token", severity: .high,
             regex: pvAssigned(#"yandex|yc[_-]token|iam[_-]token"#, #"t1\.[A-Za-z0-9_-]{4,}={0,2}\.[A-Za-z0-9_-]{86}={0,2}"#,
                               end: #"(?![A-Za-z0-9_=-])"#),
             entropy: 4.0, confidence: .medium),
    ]
}
