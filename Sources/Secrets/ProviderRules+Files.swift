// Provider rules for AI APIs, credential files and generic assignments.

extension BuiltinRules {
    static let providerAI: [Rule] = [
        Rule(id: "openai-api-key", description: "OpenAI API key (T3BlbkFJ signature)", severity: .critical,
             regex: pvToken(#"sk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_-]{20,200}T3BlbkFJ[A-Za-z0-9_-]{20,200}"#), entropy: 4.0,
             keywords: ["T3BlbkFJ"]),
        Rule(id: "openai-project-key", description: "OpenAI project, service account or admin key", severity: .high,
             regex: pvToken(#"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,300}"#), entropy: 4.0,
             keywords: ["sk-proj-", "sk-svcacct-", "sk-admin-"]),
        Rule(id: "anthropic-api-key", description: "Anthropic API key", severity: .critical,
             regex: pvToken(#"sk-ant-api03-[A-Za-z0-9_-]{93}AA"#), entropy: 4.0, keywords: ["sk-ant-api03-"]),
        Rule(id: "anthropic-admin-key", description: "Anthropic admin API key", severity: .critical,
             regex: pvToken(#"sk-ant-admin01-[A-Za-z0-9_-]{93}AA"#), entropy: 4.0, keywords: ["sk-ant-admin01-"]),
        Rule(id: "huggingface-token", description: "Hugging Face access token", severity: .high,
             regex: pvToken(#"hf_[A-Za-z]{34}"#), entropy: 4.2, keywords: ["hf_"]),
        Rule(id: "huggingface-org-token", description: "Hugging Face organization API token", severity: .high,
             regex: pvToken(#"api_org_[A-Za-z]{34}"#), entropy: 4.2, keywords: ["api_org_"]),
        Rule(id: "replicate-api-token", description: "Replicate API token", severity: .high,
             regex: pvToken(#"r8_[A-Za-z0-9]{37}"#), entropy: 3.5, keywords: ["r8_"]),
        Rule(id: "groq-api-key", description: "Groq API key", severity: .high,
             regex: pvToken(#"gsk_[A-Za-z0-9]{52}"#), entropy: 4.0, keywords: ["gsk_"]),
        Rule(id: "xai-api-key", description: "xAI API key", severity: .high,
             regex: pvToken(#"xai-[A-Za-z0-9]{80}"#), entropy: 4.0, keywords: ["xai-"]),
        Rule(id: "perplexity-api-key", description: "Perplexity API key", severity: .high,
             regex: pvToken(#"pplx-[A-Za-z0-9]{48}"#), entropy: 4.0, keywords: ["pplx-"]),
        Rule(id: "pinecone-api-key", description: "Pinecone API key", severity: .high,
             regex: pvToken(#"pcsk_[A-Za-z0-9]{4,10}_[A-Za-z0-9]{50,80}"#), entropy: 4.0, keywords: ["pcsk_"]),
        Rule(id: "langsmith-api-key", description: "LangSmith API key", severity: .high,
             regex: pvToken(#"lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}"#), entropy: 3.0, keywords: ["lsv2_"]),
        Rule(id: "langfuse-secret-key", description: "Langfuse secret key", severity: .high,
             regex: pvToken("sk-lf-" + pvUUID), keywords: ["sk-lf-"]),
        Rule(id: "cohere-api-key", description: "Cohere API key", severity: .high,
             regex: pvAssigned(#"cohere|(?<![A-Za-z])co[_-]api[_-]key"#, #"[A-Za-z0-9]{40}"#), entropy: 4.0,
             keywords: ["cohere", "co_api_key"]),
        Rule(id: "mistral-api-key", description: "Mistral AI API key", severity: .high,
             regex: pvAssigned("mistral", #"[A-Za-z0-9]{32}"#), entropy: 4.0, keywords: ["mistral"]),
        Rule(id: "deepseek-api-key", description: "DeepSeek API key", severity: .high,
             regex: pvAssigned("deepseek", #"sk-[a-f0-9]{32}"#), entropy: 3.0, keywords: ["deepseek"]),
        Rule(id: "wandb-api-key", description: "Weights & Biases API key", severity: .high,
             regex: pvAssigned(#"wandb|weights[_-]?and[_-]?biases"#, #"[a-f0-9]{40}"#), entropy: 3.0, keywords: ["wandb", "weights"]),
    ]

    static let providerFiles: [Rule] = [
        // Keys in other containers than PEM
        Rule(id: "private-key-base64", description: "Base64-encoded PEM private key (kubeconfig client-key-data, Kubernetes secrets)", severity: .critical,
             regex: #"(?<![A-Za-z0-9+/])(LS0tLS1CRUdJTi[A-Za-z0-9+/]{0,40}?(?:IFBSSVZBVEUgS0VZ|UklWQVRFIEtFWS0t|UFJJVkFURSBLRVkt)[A-Za-z0-9+/\n]{60,}={0,2})"#,
             entropy: 4.0, keywords: ["LS0tLS1CRUdJTi"]),
        Rule(id: "putty-private-key", description: "PuTTY private key file", severity: .high,
             regex: #"(PuTTY-User-Key-File-\d: [\s\S]{20,16000}?Private-MAC: [a-f0-9]{40,64})"#,
             prefilter: #"Private-MAC: [a-f0-9]{40,64}"#, lookBehind: 16 * 1024, keywords: ["PuTTY-User-Key-File-"]),
        Rule(id: "openvpn-static-key", description: "OpenVPN static key", severity: .high,
             regex: #"(-----BEGIN OpenVPN Static key V1-----[\s\S]{100,2000}?-----END OpenVPN Static key V1-----)"#,
             prefilter: #"-----END OpenVPN Static key V1-----"#, lookBehind: 4096, keywords: ["OpenVPN Static key"]),
        Rule(id: "wireguard-private-key", description: "WireGuard private key", severity: .critical,
             regex: #"(?m)^[ \t]*PrivateKey[ \t]*=[ \t]*([A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=)"#, entropy: 4.0, keywords: ["PrivateKey"]),
        Rule(id: "laravel-app-key", description: "Laravel APP_KEY", severity: .high,
             regex: #"APP_KEY\s{0,4}=\s{0,4}["']?(base64:[A-Za-z0-9+/]{43}=)"#, entropy: 4.0, keywords: ["APP_KEY"]),
        Rule(id: "django-insecure-secret-key", description: "Django SECRET_KEY generated by startproject (django-insecure-)", severity: .medium,
             regex: #"(django-insecure-[A-Za-z0-9!@#$%^&*(=+)_-]{40,60})(?=["'\s]|\z)"#, entropy: 4.0, keywords: ["django-insecure-"]),
        Rule(id: "docker-config-auth", description: "Registry credentials (base64 user:password) in a Docker config.json", severity: .high,
             regex: #""auth"\s{0,4}:\s{0,4}"([A-Za-z0-9+/]{16,}={0,2})""#, entropy: 3.5, keywords: ["\"auth\""]),

        // Password hashes
        Rule(id: "htpasswd-bcrypt", description: "bcrypt password hash in an htpasswd-style file", severity: .low,
             regex: #"(?m)^[A-Za-z0-9._@-]{1,64}:(\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53})(?![./A-Za-z0-9$])"#, keywords: ["$2y$", "$2a$", "$2b$"]),
        Rule(id: "htpasswd-apr1", description: "Apache MD5 (apr1) password hash", severity: .medium,
             regex: #"(?m)^[A-Za-z0-9._@-]{1,64}:(\$apr1\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22})(?![./A-Za-z0-9$])"#, keywords: ["$apr1$"]),
        Rule(id: "htpasswd-sha1", description: "Unsalted SHA-1 password hash in an htpasswd file", severity: .medium,
             regex: #"(?m)^[A-Za-z0-9._@-]{1,64}:(\{SHA\}[A-Za-z0-9+/]{27}=)"#, keywords: ["{SHA}"]),
        Rule(id: "shadow-password-hash", description: "Password hash in a shadow file", severity: .medium,
             regex: #"(?m)^[a-z_][a-z0-9_.-]{0,31}:(\$(?:1|5|6|y|gy|7)\$[./A-Za-z0-9$=]{8,200}):\d*:"#,
             keywords: ["$6$", "$5$", "$1$", "$y$", "$gy$", "$7$"]),

        // Credentials in commands and URLs
        Rule(id: "url-basic-auth-password", description: "Password in a URL (user:password@host)", severity: .medium,
             regex: #"(?i)\b(?:https?|ftps?|sftp|smtps?|imaps?|ldaps?|ssh|svn|git)://[^:/\s"'@]{1,64}:([^@\s"'/:]{6,128})@[A-Za-z0-9.-]{1,253}"#,
             entropy: 3.0,
             allowlist: [#"^(?i)(?:password|passwd|secret|pass(?:word)?\d*|pwd|test(?:ing)?|guest|anonymous|admin|hunter2|foobar)$"#, #"^\$"#, #"^\{[A-Za-z_]+\}$"#],
             keywords: ["://"]),
        Rule(id: "authorization-bearer", description: "Bearer token in an Authorization header", severity: .medium,
             regex: #"(?i:authorization)["']?\s{0,4}[:=]\s{0,4}["']?(?i:bearer)\s{1,4}([A-Za-z0-9._~+/-]{20,}={0,2})(?![A-Za-z0-9._~+/=-])"#,
             entropy: 3.5, keywords: ["bearer"]),
        Rule(id: "authorization-basic", description: "Basic credentials in an Authorization header", severity: .medium,
             regex: #"(?i:authorization)["']?\s{0,4}[:=]\s{0,4}["']?(?i:basic)\s{1,4}([A-Za-z0-9+/]{12,}={0,2})(?![A-Za-z0-9+/=])"#,
             entropy: 3.0, keywords: ["basic"]),
        Rule(id: "curl-user-password", description: "Password passed to curl -u / --user", severity: .medium,
             regex: #"\bcurl\s[^\n]{0,200}?\s(?:-u|--user)[ =]{1,3}["']?[^:\s"']{1,64}:([^\s"']{6,128})"#, entropy: 3.0,
             allowlist: [#"^\$"#], keywords: ["curl"]),
        Rule(id: "sshpass-password", description: "Password passed to sshpass -p", severity: .medium,
             regex: #"\bsshpass\s{1,4}-p\s{0,4}["']?([^\s"'$]{6,128})"#, entropy: 3.0, keywords: ["sshpass"]),
        Rule(id: "mysql-cli-password", description: "Password passed to mysql/mysqldump/mysqladmin -p", severity: .medium,
             regex: #"\bmysql(?:dump|admin)?\s[^\n]{0,120}?\s(?:-p|--password=)["']?([^\s"'$-][^\s"'$]{5,127})"#, entropy: 3.0,
             keywords: ["mysql"]),
        Rule(id: "netrc-password", description: "Password in a .netrc file", severity: .medium,
             regex: #"\bmachine\s{1,8}[A-Za-z0-9._-]{1,253}\s{1,8}(?:login\s{1,8}\S{1,64}\s{1,8})?password\s{1,8}(\S{6,128})"#,
             entropy: 3.0, allowlist: [#"^(?i)(?:password|passwd|secret)$"#, #"^[\[<({]"#], keywords: ["machine"]),
        Rule(id: "xml-password", description: "Password element in an XML config (Maven settings.xml and similar)", severity: .medium,
             regex: #"<(?i:password|passwd)>([^<\s]{8,128})</(?i:password|passwd)>"#, entropy: 3.0,
             allowlist: [#"^\$"#, #"^\{[A-Za-z0-9+/=]{20,}\}$"#, #"^\{[A-Za-z_]+\}$"#], keywords: ["password>", "passwd>"]),
        Rule(id: "jwt", description: "JSON Web Token", severity: .medium,
             regex: pvToken(#"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,}"#), entropy: 4.0, keywords: ["eyJ"]),
    ]

    /// Names that hold secrets. Matching is case-insensitive; `auth` does not match `author`/`authority`.
    private static let pvSecretName =
        #"(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?secret|(?<![A-Za-z])auth(?!or|ority))"#
    /// Name suffixes whose values are not secrets (a file, URL, length, name...).
    private static let pvNotSecretSuffix =
        #"(?![\w.-]{0,20}?(?:name|url|uri|path|file|type|len|length|size|count|endpoint|expir|header|ttl|format|prefix|kind|method|mode|provider|label|version|dir|field|param|policy|hash|id(?![a-z])|_id|timeout|enabled|required|source|ref|arn))"#

    static let providerGeneric: [Rule] = [
        Rule(id: "generic-secret-assignment", description: "Secret-like value assigned to a secret-like name", severity: .medium,
             regex: #"(?i)(?<![A-Za-z0-9_.-])[A-Za-z0-9_.-]{0,40}?"# + pvSecretName + pvNotSecretSuffix +
                 #"[A-Za-z0-9_.-]{0,20}?["']?\s{0,3}(?:=|:=|=>|:)\s{0,3}["'`]?"# +
                 #"(?=[^\s"'`]{0,127}[0-9])(?=[^\s"'`]{0,127}[A-Za-z])([A-Za-z0-9!#%*+./:@^_|~=-]{12,128})(?=["'`\s,;})\]]|\z)"#,
             entropy: 3.5,
             allowlist: [
                 // identifiers, dotted references, paths, URLs, versions
                 #"^[A-Za-z_][A-Za-z0-9_]*(?:[.:][A-Za-z_][A-Za-z0-9_]*)+$"#,
                 #"^[a-z][a-z0-9]*(?:[_-][a-z0-9]+)+$"#, #"^[A-Z][A-Z0-9]*(?:_[A-Z][A-Z0-9]*)+$"#,
                 #"^(?:/|\./|\.\./|~/)"#, #"^[A-Za-z][A-Za-z0-9+.-]*://"#, #"^v?\d+(?:\.\d+)+"#,
                 // test fixtures and placeholders the global filter does not know
                 #"(?i)fake|mock|dummy|not[_-]?a[_-]?real|insecure|todo|fixme|replace[_-]?me|^test|test$|foobar|lorem"#,
                 // keychain / secret manager references and hash-function names
                 #"(?i)^(?:sha|md5|hmac|aes|rsa|hs|rs|es)[-_]?\d+$"#, #"^(?:arn|secret|vault|op|env|ssm):|^projects/"#,
                 // URNs, Maven coordinates, URL-encoded URLs, format verbs, {name} templates
                 #"(?i)^urn:|ietf:params:|^https?%3A|:\d+(?:\.\d+)+$|%[vdqxXTp]|^\{[A-Za-z_]+\}$"#,
             ],
             keywords: ["secret", "token", "password", "passwd", "pwd", "api_key", "apikey", "access_key", "private_key", "auth"]),
    ]
}
