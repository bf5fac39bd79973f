// Provider rules for AI APIs, credential files and generic assignments.

extension BuiltinRules {
    static let providerAI: [Rule] = [
        // An admin key manages the organisation (keys, members, billing): its own rule, never taken for a project key.
        Rule(id: "openai-admin-key", description: "OpenAI admin key (organisation administration)", severity: .critical,
             regex: pvToken(#"sk-admin-[A-Za-z0-9_-]{20,300}"#), entropy: 4.0),
        Rule(id: "openai-api-key", description: "OpenAI API key (T3BlbkFJ signature)", severity: .critical,
             regex: pvToken(#"sk-(?:(?:proj|svcacct)-)?[A-Za-z0-9_-]{20,200}T3BlbkFJ[A-Za-z0-9_-]{20,200}"#), entropy: 4.0),
        Rule(id: "openai-project-key", description: "OpenAI project or service account key", severity: .high,
             regex: pvToken(#"sk-(?:proj|svcacct)-[A-Za-z0-9_-]{40,300}"#), entropy: 4.0),
        Rule(id: "anthropic-api-key", description: "Anthropic API key", severity: .critical,
             regex: pvToken(#"sk-ant-api03-[A-Za-z0-9_-]{93}AA"#), entropy: 4.0),
        Rule(id: "anthropic-admin-key", description: "Anthropic admin API key", severity: .critical,
             regex: pvToken(#"sk-ant-admin01-[A-Za-z0-9_-]{93}AA"#), entropy: 4.0),
        Rule(id: "huggingface-token", description: "Hugging Face access token", severity: .high,
             regex: pvToken(#"hf_[A-Za-z]{34}"#), entropy: 4.2),
        Rule(id: "huggingface-org-token", description: "Hugging Face organization API token", severity: .high,
             regex: pvToken(#"api_org_[A-Za-z]{34}"#), entropy: 4.2),
        Rule(id: "replicate-api-token", description: "Replicate API token", severity: .high,
             regex: pvToken(#"r8_[A-Za-z0-9]{37}"#), entropy: 3.5),
        Rule(id: "groq-api-key", description: "Groq API key", severity: .high,
             regex: pvToken(#"gsk_[A-Za-z0-9]{52}"#), entropy: 4.0),
        Rule(id: "xai-api-key", description: "xAI API key", severity: .high,
             regex: pvToken(#"xai-[A-Za-z0-9]{80}"#), entropy: 4.0),
        Rule(id: "perplexity-api-key", description: "Perplexity API key", severity: .high,
             regex: pvToken(#"pplx-[A-Za-z0-9]{48}"#), entropy: 4.0),
        Rule(id: "pinecone-api-key", description: "Pinecone API key", severity: .high,
             regex: pvToken(#"pcsk_[A-Za-z0-9]{4,10}_[A-Za-z0-9]{50,80}"#), entropy: 4.0),
        Rule(id: "langsmith-api-key", description: "LangSmith API key", severity: .high,
             regex: pvToken(#"lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}"#), entropy: 3.0),
        Rule(id: "langfuse-secret-key", description: "Langfuse secret key", severity: .high,
             regex: pvToken("sk-lf-" + pvUUID)),
        Rule(id: "cohere-api-key", description: "Cohere API key", severity: .high,
             regex: pvAssigned(#"cohere|(?<![A-Za-z])co[_-]api[_-]key"#, #"[A-Za-z0-9]{40}"#), entropy: 4.0, confidence: .medium),
        Rule(id: "mistral-api-key", description: "Mistral AI API key", severity: .high,
             regex: pvAssigned("mistral", #"[A-Za-z0-9]{32}"#), entropy: 4.0, confidence: .medium),
        Rule(id: "deepseek-api-key", description: "DeepSeek API key", severity: .high,
             regex: pvAssigned("deepseek", #"sk-[a-f0-9]{32}"#), entropy: 3.0, confidence: .medium),
        Rule(id: "wandb-api-key", description: "Weights & Biases API key", severity: .high,
             regex: pvAssigned(#"wandb|weights[_-]?and[_-]?biases"#, #"[a-f0-9]{40}"#), entropy: 3.0, confidence: .medium),
    ]

    static let providerFiles: [Rule] = [
        // Keys in other containers than PEM
        Rule(id: "private-key-base64", description: "Base64-encoded PEM private key (kubeconfig client-key-data, Kubernetes secrets)", severity: .critical,
             regex: #"(?<![A-Za-z0-9+/])(LS0tLS1CRUdJTi[A-Za-z0-9+/]{0,40}?(?:IFBSSVZBVEUgS0VZ|UklWQVRFIEtFWS0t|UFJJVkFURSBLRVkt)[A-Za-z0-9+/\n]{60,}={0,2})"#,
             entropy: 4.0),
        Rule(id: "putty-private-key", description: "PuTTY private key file", severity: .high,
             regex: #"(PuTTY-User-Key-File-\d: [\s\S]{20,16000}?Private-MAC: [a-f0-9]{40,64})"#,
             prefilter: #"Private-MAC: [a-f0-9]{40,64}"#, lookBehind: 16 * 1024),
        Rule(id: "openvpn-static-key", description: "OpenVPN static key", severity: .high,
             regex: #"(-----BEGIN OpenVPN Static key V1-----[\s\S]{100,2000}?-----END OpenVPN Static key V1-----)"#,
             prefilter: #"-----END OpenVPN Static key V1-----"#, lookBehind: 4096),
        Rule(id: "wireguard-private-key", description: "WireGuard private key", severity: .critical,
             regex: #"(?m)^[ \t]*PrivateKey[ \t]*=[ \t]*([A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=)"#,
             prefilter: #"PrivateKey[ \t]*=[ \t]*[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]="#, entropy: 4.0),
        Rule(id: "laravel-app-key", description: "Laravel APP_KEY", severity: .high,
             regex: #"APP_KEY\s{0,4}=\s{0,4}["']?(base64:[A-Za-z0-9+/]{43}=)"#, entropy: 4.0),
        Rule(id: "django-insecure-secret-key", description: "Django SECRET_KEY generated by startproject (django-insecure-)", severity: .medium,
             regex: #"(django-insecure-[A-Za-z0-9!@#$%^&*(=+)_-]{40,60})(?=["'\s]|\z)"#, entropy: 4.0),
        Rule(id: "docker-config-auth", description: "Registry credentials (base64 user:password) in a Docker config.json", severity: .high,
             regex: #""auth"\s{0,4}:\s{0,4}"([A-Za-z0-9+/]{16,}={0,2})""#, entropy: 3.5, confidence: .medium,
             base64Allowlist: pvBasicPlaceholders),

        // Password hashes
        Rule(id: "htpasswd-bcrypt", description: "bcrypt password hash in an htpasswd-style file", severity: .low,
             regex: #"(?m)^[A-Za-z0-9._@-]{1,64}:(\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53})(?![./A-Za-z0-9$])"#,
             prefilter: #":\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53}"#),
        Rule(id: "htpasswd-apr1", description: "Apache MD5 (apr1) password hash", severity: .medium,
             regex: #"(?m)^[A-Za-z0-9._@-]{1,64}:(\$apr1\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22})(?![./A-Za-z0-9$])"#,
             prefilter: #":\$apr1\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22}"#),
        Rule(id: "htpasswd-sha1", description: "Unsalted SHA-1 password hash in an htpasswd file", severity: .medium,
             regex: #"(?m)^[A-Za-z0-9._@-]{1,64}:(\{SHA\}[A-Za-z0-9+/]{27}=)"#, prefilter: #":\{SHA\}[A-Za-z0-9+/]{27}="#),
        Rule(id: "shadow-password-hash", description: "Password hash in a shadow file", severity: .medium,
             regex: #"(?m)^[a-z_][a-z0-9_.-]{0,31}:(\$(?:1|5|6|y|gy|7)\$[./A-Za-z0-9$=]{8,200}):\d*:"#,
             prefilter: #":\$(?:1|5|6|y|gy|7)\$[./A-Za-z0-9$=]{8,200}:"#),

        // Credentials in commands and URLs
        Rule(id: "url-basic-auth-password", description: "Password in a URL (user:password@host)", severity: .medium,
             regex: #"(?i)\b(?:https?|ftps?|sftp|smtps?|imaps?|ldaps?|ssh|svn|git)://[^:/\s"'@]{1,64}:([^@\s"'/:]{6,128})@[A-Za-z0-9.-]{1,253}"#,
             entropy: 3.0,
             allowlist: [#"^(?i)(?:password|passwd|secret|pass(?:word)?\d*|pwd|test(?:ing)?|guest|anonymous|admin|hunter2|foobar)$"#, #"^\$"#, #"^\{[A-Za-z_]+\}$"#], confidence: .medium),
        Rule(id: "authorization-bearer", description: "Bearer token in an Authorization header", severity: .medium,
             regex: #"(?i:authorization)["']?\s{0,4}[:=]\s{0,4}["']?(?i:bearer)\s{1,4}([A-Za-z0-9._~+/-]{20,}={0,2})(?![A-Za-z0-9._~+/=-])"#,
             entropy: 3.5, confidence: .medium),
        Rule(id: "authorization-basic", description: "Basic credentials in an Authorization header", severity: .medium,
             regex: #"(?i:authorization)["']?\s{0,4}[:=]\s{0,4}["']?(?i:basic)\s{1,4}([A-Za-z0-9+/]{12,}={0,2})(?![A-Za-z0-9+/=])"#,
             entropy: 3.0, confidence: .medium, base64Allowlist: pvBasicPlaceholders),
        Rule(id: "curl-user-password", description: "Password passed to curl -u / --user", severity: .medium,
             regex: #"\bcurl\s[^\n]{0,200}?\s(?:-u|--user)[ =]{1,3}["']?[^:\s"']{1,64}:([^\s"']{6,128})"#, entropy: 3.0,
             allowlist: [#"^\$"#], confidence: .medium),
        Rule(id: "sshpass-password", description: "Password passed to sshpass -p", severity: .medium,
             regex: #"\bsshpass\s{1,4}-p\s{0,4}["']?([^\s"'$]{6,128})"#, entropy: 3.0, confidence: .medium),
        Rule(id: "mysql-cli-password", description: "Password passed to mysql/mysqldump/mysqladmin -p", severity: .medium,
             regex: #"\bmysql(?:dump|admin)?\s[^\n]{0,120}?\s(?:-p|--password=)["']?([^\s"'$-][^\s"'$]{5,127})"#, entropy: 3.0, confidence: .medium),
        Rule(id: "netrc-password", description: "Password in a .netrc file", severity: .medium,
             regex: #"\bmachine\s{1,8}[A-Za-z0-9._-]{1,253}\s{1,8}(?:login\s{1,8}\S{1,64}\s{1,8})?password\s{1,8}(\S{6,128})"#,
             entropy: 3.0, allowlist: [#"^(?i)(?:password|passwd|secret)$"#, #"^[\[<({]"#], confidence: .medium),
        Rule(id: "xml-password", description: "Password element in an XML config (Maven settings.xml and similar)", severity: .medium,
             regex: #"<(?i:password|passwd)>([^<\s]{8,128})</(?i:password|passwd)>"#, entropy: 3.0,
             allowlist: [#"^\$"#, #"^\{[A-Za-z0-9+/=]{20,}\}$"#, #"^\{[A-Za-z_]+\}$"#], confidence: .medium),
        Rule(id: "jwt", description: "JSON Web Token", severity: .medium,
             regex: pvToken(#"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,}"#), entropy: 4.0, confidence: .medium,
             structure: .jwt),
    ]

    /// Decoded `user:password` pairs that documentation uses: a placeholder password, a placeholder user with a
    /// placeholder-ish password, RFC 6749's example client and RFC 7617's example.
    static let pvBasicPlaceholders = [
        #"^[^:]{0,64}:(?i:pass(?:word)?\d*|passwd|secret|pwd|test(?:ing)?|changeme|x+|\*+)?$"#,
        #"^(?i:user(?:name)?|admin|test|foo|demo|guest|example|client(?:_?id)?):(?i:[a-z]{0,12})$"#,
        #"^s6BhdRkqt3:|^Aladdin:open sesame$"#,
    ]

    /// Names that hold secrets. Matching is case-insensitive; `auth` does not match `author`/`authority`.
    /// Pagination and anti-forgery tokens (`NextToken`, `page_token`, `csrf_token`, Rails' `authenticity_token`) are
    /// not credentials, nor are tokens their provider calls public (`publicToken`, `publishable_token`).
    private static let pvSecretName =
        #"(?:secret|(?<!next|page|next_|page_|next-|page-|next |page |continuation|continuation_|sync|sync_|csrf|csrf_|csrf-|xsrf|xsrf_|xsrf-|resume|resume_|authenticity_|public|public_|public-|publishable_)token|passw(?:or)?d|pwd|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?secret|(?<![A-Za-z])auth(?!or|ority|enticity))"#
    /// Name suffixes whose values are not secrets (a file, URL, length, name...).
    private static let pvNotSecretSuffix =
        #"(?![\w.-]{0,20}?(?:name|url|uri|path|file|type|len|length|size|count|endpoint|expir|header|ttl|format|prefix|kind|method|mode|provider|label|version|dir|field|param|policy|hash|id(?![a-z])|_id|timeout|enabled|required|source|ref|arn))"#

    /// How a value is given to a secret-like name: `=`, `:`, `:=`, `::=`, `.=`, `?=`, `=>`, `<-`, after a type
    /// (`var apiToken string = …`), with quotes (JSON's escaped ones too); an XML element (`<apiToken>…`, the
    /// value on the next line too); `<add key="…" value="…"/>`; a call's next argument (`setProperty("API_TOKEN",
    /// "…")`); or a space (`--api-key …`, `TOKEN …`, `token - '…'`).
    private static let pvGenericSeparator =
        #"(?:(?:\\{0,2}["'])?(?:[ \t]{1,2}(?:string|String|str|&str|\[\]byte|const|final))?\s{0,3}(?:[:.?+]{0,3}=|=>|:|<-)\s{0,3}(?:\\{0,2}["'`])?|>\s{0,12}|["']\s{1,3}value\s{0,2}=\s{0,2}["']|["'],\s{0,3}["']|[ \t]{1,3}(?:-[ \t]{1,3})?["'`]?)"#
    /// The value of a generic finding and what may follow it.
    private static let pvGenericValue = #"([A-Za-z0-9!#%*+./:@^_|~=-]{12,128})(?=["'`\s,;})\]<\\&]|\z)"#
    /// The value of a generic finding given to a key, token or secret: a token alphabet (see the rule).
    private static let pvTokenValue = #"(?:(?:bearer|token|bot)[ \t]{1,2})?((?:[A-Za-z0-9+/_.:-]|%[0-9A-Fa-f]{2})(?:[A-Za-z0-9+/_.:=-]|%[0-9A-Fa-f]{2}){11,127})(?=["'`\s,;})\]<\\&]|\z)"#
    /// A name whose last word is `key` (`fastforexKey`, `STRIPE_KEY`, `acme-key`): a provider's key, unless the word
    /// before says it is a key of data (`primaryKey`, `cache_key`, `sortKey`) or public (`publicKey`). A bare `key`
    /// is the weak rule's.
    private static let pvKeyName =
        #"(?<=[A-Za-z0-9])(?<!public|primary|foreign|sort|partition|cache|hash|map|lookup|routing|object|row|group|shard|unique|message|translation|i18n|idempotency|dedup|cursor|index|bucket|range|composite|hot|short|keyboard|registry)(?:[_-]key|(?-i:Key))(?![A-Za-z])"#
    /// Names that hold passwords, whose values may use any character.
    private static let pvPasswordName = #"(?:passw(?:or)?d|pwd)"#
    /// What comes before the name: not inside a word, a doctest or REPL transcript (`>>> client_secret = '…'`)
    /// nor a commented-out setting (`# jetty.openid.clientSecret=…`): documentation by construction.
    private static let pvGenericStart = #"(?i)(?<![A-Za-z0-9_.-])(?<!>>> )(?<!\.\.\. )(?<!#)(?<!# )(?<!// )[A-Za-z0-9_.-]{0,40}?"#

    static let providerGeneric: [Rule] = [
        // A detector that scores rather than a regex: the regex only finds a secret-like name and a value; the
        // value must look random for its alphabet (`SecretScore`), and placeholders, code and published
        // examples score nothing.
        Rule(id: "generic-secret-assignment", description: "Secret-like value assigned to a secret-like name", severity: .medium,
             // A password may hold any character; a key, token or secret is written in a token alphabet (hex,
             // base64, URL-safe base64, `.`/`:`/`=` between parts, URL-encoded bytes): `!`, `@`, `#`, `^`, `|`, `$`
             // or `;` mark prose, templates or a password under another name.
             regex: pvGenericStart + "(?:" + pvPasswordName + pvNotSecretSuffix + #"[A-Za-z0-9_.-]{0,20}?"# + pvGenericSeparator
                 + pvGenericValue + "|" + pvSecretName + pvNotSecretSuffix + #"[A-Za-z0-9_.-]{0,20}?"# + pvGenericSeparator
                 + pvTokenValue + "|" + pvKeyName + pvNotSecretSuffix + #"[A-Za-z0-9_.-]{0,20}?"# + pvGenericSeparator + pvTokenValue + ")",
             secretGroup: Rule.firstNonEmptyGroup, entropy: 3.0,
             // Base64 of plain text is an encoding the decoders read (Docker `auth`, Kubernetes `data:`, base64 env
             // values) and report for what it holds, as the weak rule below: a placeholder pair (`user:pass`) is
             // documentation, and a real one is reported decoded.
             allowlist: pvGenericAllowlist, confidence: .medium, textOnly: true, base64Allowlist: [#"^[\x20-\x7e]+$"#],
             minimumScore: SecretScore.strong),
        // The same with weaker signals: a bare `key`, or a value less random than the strong floor. Low severity:
        // worth a look, not an alarm.
        Rule(id: "generic-secret-weak", description: "Possibly secret value assigned to a key-like name", severity: .low,
             regex: pvGenericStart + #"(?:"# + pvSecretName + #"|(?<![A-Za-z])key(?![a-z])|credential)"# + pvNotSecretSuffix
                 + #"[A-Za-z0-9_.-]{0,20}?"# + pvGenericSeparator + pvGenericValue,
             entropy: 3.0,
             // Base64 of plain text is an encoding the decoders read (Docker `auth`, Kubernetes `data:`, base64
             // env values) and report for what it holds, not a random value.
             allowlist: pvGenericAllowlist, confidence: .low, textOnly: true, base64Allowlist: [#"^[\x20-\x7e]+$"#],
             minimumScore: SecretScore.weak),
    ]

    private static let pvGenericAllowlist: [String] = [
        // identifiers, dotted references, paths, URLs, versions. A part is letters with at most two digits at its
        // end, or a number: random tokens cut at `.`, `:`, `_` or `-` (`s1k5frmd-hqx6-…`, `id.secret`) mix digits
        // into their parts and stay reportable.
        #"^[A-Za-z_][A-Za-z_]*[0-9]{0,2}(?:[.:][A-Za-z_][A-Za-z_]*[0-9]{0,2})+$"#,
        #"^[a-z]+[0-9]{0,2}(?:[_-](?:[a-z]+[0-9]{0,2}|[0-9]+))+$"#, #"^[A-Z]+[0-9]{0,2}(?:_(?:[A-Z]+[0-9]{0,2}|[0-9]+))+$"#,
        #"^(?:/|\./|\.\./|~/)"#, #"^[A-Za-z][A-Za-z0-9+.-]*://"#, #"^v?\d+(?:\.\d+)+"#,
        // test fixtures and placeholders the global filter does not know
        #"(?i)fake|mock|dummy|not[_-]?a[_-]?real|insecure|todo|fixme|replace[_-]?me|^test|test$|foobar|lorem"#,
        // keychain / secret manager references and hash-function names
        #"(?i)^(?:sha|md5|hmac|aes|rsa|hs|rs|es)[-_]?\d+$"#, #"^(?:arn|secret|vault|op|env|ssm):|^projects/"#,
        // URNs, Maven coordinates, URL-encoded URLs, format verbs, {name} templates
        #"(?i)^urn:|ietf:params:|^https?%3A|:\d+(?:\.\d+)+$|%[vdqxXTp]|^\{[A-Za-z_]+\}$"#,
        // CamelCase and CONSTANT-CASE identifiers (`V1ServiceAccountTokenProjection`, `OAUTH2-CLIENT-SECRET`)
        #"^[A-Z]{0,6}[a-z0-9]*(?:[A-Z][a-z]{2,}[0-9]*)+[.:]?$"#, #"^[A-Z]+[0-9]{0,2}(?:[_-](?:[A-Z]+[0-9]{0,2}|[0-9]+))+$"#,
        // a value that spells out what it stands for, base64 JSON without dots (a pagination cursor, not a JWT)
        #"(?i)passw(?:or)?d|secret|token"#, #"^eyJ[A-Za-z0-9+/=_-]*$"#,
        // a publishable key: public by design (Stripe's `pk_`, `pub_…`), shipped to browsers
        #"^(?:pk|pub|publishable)_"#,
    ]
}
