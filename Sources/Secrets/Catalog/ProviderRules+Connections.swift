// Credentials inside connection strings, URLs and webhook addresses, and token encodings that need more than a
// catalogue row (a JWT in base64, Slack's legacy workspace tokens).

extension BuiltinRules {
    /// Values that stand for a password rather than being one: templates, variables, masks.
    static let pvPasswordPlaceholders = [
        #"^(?i)(?:pass(?:word)?\d*|passwd|secret|pwd|test(?:ing)?|guest|admin|root|user(?:name)?|sa|hunter2|foobar)$"#,
        #"^[$%<{\[(*]"#, #"[}>)\]]$"#, pvSelfNamedPassword,
    ]
    /// A password that names itself (`ClearTextPassword1`, `my_secret_password`, `dbPassword`): documentation's.
    /// Alone, or after the `user:` of a Basic-auth pair (`pvBasicPlaceholders`).
    static let pvSelfNamedPassword = "^" + selfNamedPassword + "$"
    static let selfNamedPassword = #"(?i:[a-z_-]{0,12}(?:password|passwd|secret)[a-z0-9_-]{0,10})"#

    static let providerConnections: [Rule] = [
        // SQL Server, ADO.NET, ODBC and OLE DB: `Server=…;User ID=…;Password=…;` (the keys in any order and case).
        Rule(id: "adonet-connection-string-password", description: "Password in an ADO.NET / ODBC / SQL Server connection string",
             severity: .high,
             regex: #"(?i)(?:server|data source|address|addr|network address|host|dsn)\s{0,2}=\s{0,2}[^;=\r\n"'<>]{1,200};(?:[^;\r\n"'<>]{0,200};){0,12}?\s{0,2}(?:password|pwd)\s{0,2}=\s{0,2}((?!\s)[^;\r\n"'<>]{4,128}?)\s{0,2}(?=;|["'<]|\r|\n|\z)"#,
             entropy: 2.5, allowlist: pvPasswordPlaceholders, confidence: .medium, keywords: ["password", "pwd"]),
        // `jdbc:…?user=…&password=…` and `;password=…` (SQL Server's JDBC syntax).
        Rule(id: "jdbc-url-password", description: "Password in a JDBC URL", severity: .high,
             regex: #"(?i)jdbc:[a-z0-9:+]{2,40}:[^\s"'<>]{0,300}?[?&;]password=([^&;\s"'<>]{4,128})"#,
             entropy: 2.5, allowlist: pvPasswordPlaceholders, confidence: .medium, keywords: ["jdbc:"]),
        // OpenLDAP clients, nslcd, SSSD, pam_ldap: the bind password in a config file.
        Rule(id: "ldap-bind-password", description: "LDAP bind password in a client configuration", severity: .high,
             regex: #"(?im)^[ \t]*(?:bindpw|ldap_default_authtok|ldap_bind_pw|bind_pw)[ \t]*[=: \t][ \t]*["']?([^\s"']{6,128})["']?[ \t]*$"#,
             entropy: 2.5, allowlist: pvPasswordPlaceholders, confidence: .medium, keywords: ["bindpw", "authtok", "bind_pw"]),
        // Sidekiq Pro / Enterprise gem sources carry the license as URL credentials.
        Rule(id: "sidekiq-license-url", description: "Sidekiq Pro / Enterprise license in a gem source URL", severity: .high,
             regex: #"https?://([a-f0-9]{8}:[a-f0-9]{8})@(?:gems|enterprise)\.contribsys\.com"#, keywords: ["contribsys.com"]),
        // Self-hosted chat servers' incoming webhooks: any host, the path is the credential. Mattermost's hook id is
        // 26 lower-case letters and digits; Rocket.Chat's is an integration id then a 48-character token.
        Rule(id: "mattermost-webhook-url", description: "Mattermost incoming webhook URL", severity: .high,
             regex: #"(https?://[A-Za-z0-9.-]{1,253}(?::\d{1,5})?/hooks/[a-z0-9]{26})(?![A-Za-z0-9_-])"#, entropy: 3.5,
             confidence: .medium, keywords: ["/hooks/"]),
        Rule(id: "rocketchat-webhook-url", description: "Rocket.Chat incoming webhook URL", severity: .high,
             regex: #"(https?://[A-Za-z0-9.-]{1,253}(?::\d{1,5})?/hooks/[A-Za-z0-9]{17}/[A-Za-z0-9]{48})(?![A-Za-z0-9_-])"#, entropy: 3.5,
             confidence: .medium, keywords: ["/hooks/"]),
        Rule(id: "zapier-webhook-url", description: "Zapier catch hook URL", severity: .high,
             regex: #"(https://hooks\.zapier\.com/hooks/catch/\d{4,12}/[a-z0-9]{5,12})(?![a-z0-9])"#, keywords: ["hooks.zapier.com"]),
        Rule(id: "slack-workflow-trigger-url", description: "Slack workflow trigger URL", severity: .high,
             // `T…/id/secret`, or any 40 or more path characters: the URL alone starts the workflow.
             regex: #"(https://hooks\.slack\.com/triggers/(?:T[A-Z0-9]{6,12}/\d{8,16}/[a-f0-9]{32}(?![a-f0-9])|[A-Za-z0-9_/-]{39,160}[A-Za-z0-9]))"#,
             keywords: ["hooks.slack.com/triggers"]),
        Rule(id: "slack-legacy-workspace-token", description: "Slack legacy workspace or refresh token", severity: .high,
             regex: #"(?<![A-Za-z0-9_-])(xox[ar]-(?:\d-)?[A-Za-z0-9]{8,48})(?![A-Za-z0-9_-])"#, entropy: 3.0,
             keywords: ["xoxa-", "xoxr-"], mixedCharacters: true),
        Rule(id: "microsoft-teams-legacy-webhook-url", description: "Microsoft Teams (Office 365 connector) webhook URL", severity: .high,
             regex: #"(https://outlook\.office(?:365)?\.com/webhook/[a-f0-9-]{36}@[a-f0-9-]{36}/IncomingWebhook/[A-Za-z0-9]{32}/[a-f0-9-]{36})"#,
             keywords: ["/IncomingWebhook/"]),
        // Teams "Workflows" (Power Automate) webhooks: the `sig` is the credential, so the URL is reported whole. Logic
        // Apps serve them, and since 2025 the Power Platform's environment hosts
        // (`….environment.api.powerplatform.com/powerautomate/automations/direct/workflows/…`).
        Rule(id: "power-automate-webhook-url", description: "Microsoft Teams workflow / Power Automate HTTP trigger URL", severity: .high,
             regex: #"(https://(?:[a-z0-9-]{1,40}\.[a-z0-9-]{1,40}\.logic\.azure\.com(?::443)?|[a-z0-9-]{1,64}\.[a-z0-9-]{1,10}\.environment\.api\.powerplatform\.com(?::443)?/powerautomate/automations/direct)/workflows/[a-f0-9]{32}/triggers/[A-Za-z0-9_-]{1,64}/paths/invoke\?[A-Za-z0-9=&%._-]{0,200}?sig=[A-Za-z0-9_%-]{43,60})"#,
             keywords: ["logic.azure.com", "powerplatform.com"]),
        Rule(id: "azure-function-key-url", description: "Azure Functions key in a URL (?code=)", severity: .medium,
             regex: #"https://[a-z0-9-]{1,60}\.azurewebsites\.net/api/[^\s"'?]{1,200}\?(?:[^\s"'#]{0,200}&)?code=([A-Za-z0-9_-]{40,60}={0,2})(?![A-Za-z0-9_=-])"#,
             entropy: 4.0, confidence: .medium, keywords: ["azurewebsites.net"]),
        // A JWT stored base64-encoded (Kubernetes secrets, CI variables): `eyJ` becomes `ZXlK`, and the dot after its
        // header one of three strings depending on its position.
        Rule(id: "jwt-base64", description: "Base64-encoded JSON Web Token", severity: .medium,
             regex: #"(?<![A-Za-z0-9+/])(ZXlK[A-Za-z0-9+/]{16,2000}?(?:LmV5S|5leU|uZXlK)[A-Za-z0-9+/]{40,4000}={0,2})(?![A-Za-z0-9+/=])"#,
             entropy: 4.5, confidence: .medium, keywords: ["ZXlK"]),
        Rule(id: "ftp-url-password", description: "Password in an FTP URL", severity: .high,
             regex: #"(?i)\bftps?://[^:/\s"'@]{1,64}:([^@\s"'/]{4,128})@[A-Za-z0-9.-]{1,253}"#,
             entropy: 2.5, allowlist: pvPasswordPlaceholders + [#"^(?i)anonymous|guest|ftp$"#], confidence: .medium, keywords: ["ftp://", "ftps://"]),
        Rule(id: "ldap-url-password", description: "Password in an LDAP URL", severity: .high,
             regex: #"(?i)\bldaps?://[^:/\s"'@]{1,128}:([^@\s"'/]{4,128})@[A-Za-z0-9.-]{1,253}"#,
             entropy: 2.5, allowlist: pvPasswordPlaceholders, confidence: .medium, keywords: ["ldap://", "ldaps://"]),
        // An Authorization header with any scheme (`Token`, `Bot`, `SSWS`, `ApiKey`, `GenieKey`…; `Bearer` and `Basic`
        // have rules of their own), as a header line, a JSON or YAML key, or a code argument.
        Rule(id: "authorization-scheme-token", description: "Credential in an Authorization header (any scheme)", severity: .medium,
             regex: #"(?i:(?:proxy-)?authorization)["']?\s{0,4}[:=,]\s{0,4}["']?(?i:(?!bearer|basic)[A-Za-z][A-Za-z-]{1,24})\s{1,4}([A-Za-z0-9._~+/:-]{16,512}={0,2})(?![A-Za-z0-9._~+/=:-])"#,
             entropy: 3.0, confidence: .medium, keywords: ["authorization"], minimumScore: SecretScore.weak),
        // A credential in a query string (`?access_token=…`, `&api_key=…`): the value must look random.
        Rule(id: "query-string-token", description: "Token or key in a URL query string", severity: .medium,
             regex: #"[?&](?i:access[_-]?token|auth[_-]?token|api[_-]?key|apikey|token|secret|client[_-]?secret|password|private[_-]?token)=([A-Za-z0-9._~%+/-]{16,256})(?![A-Za-z0-9._~%+/=-])"#,
             entropy: 3.0, confidence: .low, keywords: ["token=", "key=", "secret=", "password="], minimumScore: SecretScore.strong),
        // Password hashes outside a shadow or htpasswd file (SQL seeds, YAML users, application configs): bcrypt,
        // MD5-, SHA-256- and SHA-512-crypt, Argon2. Low: a hash has to be cracked before it is a password.
        Rule(id: "password-hash", description: "Password hash (bcrypt, sha-crypt, md5-crypt, Argon2)", severity: .low,
             regex: #"(?<![A-Za-z0-9./$])(\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53}|\$[156]\$(?:rounds=\d{1,9}\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{22,86}|\$argon2(?:id|i|d)\$v=\d{1,3}\$m=\d{1,9},t=\d{1,4},p=\d{1,3}\$[A-Za-z0-9+/]{11,64}\$[A-Za-z0-9+/]{16,128})(?![./A-Za-z0-9$])"#,
             entropy: 3.0, keywords: ["$2a$", "$2b$", "$2y$", "$1$", "$5$", "$6$", "$argon2"]),
        // An Azure storage account key given to a name rather than inside a connection string.
        Rule(id: "azure-storage-key-assigned", description: "Azure storage account key (assigned in code or config)", severity: .critical,
             regex: pvAssigned(#"(?<![A-Za-z_])account_?key|storage_?(?:account_?)?key|azure_?storage|SharedKeyCredential"#, #"[A-Za-z0-9+/]{86}=="#,
                               end: #"(?![A-Za-z0-9+/=])"#),
             entropy: 4.5, confidence: .medium, keywords: ["accountkey", "storagekey", "azure_storage", "SharedKeyCredential"]),
        Rule(id: "mongodb-connection-string", description: "Password in a MongoDB connection string", severity: .high,
             regex: #"(?i)\bmongodb(?:\+srv)?://[^:/\s"'@]{1,64}:([^@\s"'/]{4,128})@[A-Za-z0-9.,:-]{1,400}"#,
             entropy: 2.5, allowlist: pvPasswordPlaceholders, confidence: .medium, keywords: ["mongodb://", "mongodb+srv://"]),
    ]
}
