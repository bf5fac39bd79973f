import Testing
@testable import Secrets

/// Examples generated from each catalogue row's shape, and hand-written ones for the connection-string rules.
extension CatalogExample {
    /// A random token of `shape`; `shortBy` takes characters off its main (longest) run, `flat` fills every run
    /// with one repeated character (no entropy).
    static func sample(_ shape: TokenShape, shortBy: Int = 0, flat: Bool = false) -> String {
        let main = mainRunIndex(shape)
        var out = ""
        for (i, segment) in shape.segments.enumerated() {
            switch segment {
            case .literal(let text):
                out += text
            case .oneOf(let texts):
                out += texts.randomElement() ?? ""
            case .run(let alphabet, let bounds):
                // A run without an upper bound is drawn as if it went on a third again beyond its least length.
                let lengths = bounds.upperBound == TokenShape.unbounded ? bounds.lowerBound...(bounds.lowerBound * 4 / 3) : bounds
                let cut = i == main ? shortBy : 0
                if alphabet == .uuid || alphabet == .uuidAnyCase {
                    let parts = [8, 4, 4, 4, 12 - cut].map { n in
                        flat ? String(repeating: "0", count: n) : Gen.rand(n, alphabet == .uuid ? Gen.hex : TokenShape.Alphabet.hexAnyCase.characters)
                    }
                    out += parts.joined(separator: "-")
                } else {
                    let n = lengths.lowerBound + (lengths.upperBound - lengths.lowerBound) / 3 - cut
                    let length = cut > 0 ? lengths.lowerBound - cut : n
                    out += flat ? String(repeating: alphabet.characters[0], count: length) : Gen.rand(length, alphabet.characters)
                }
            }
        }
        return out
    }

    static func mainRunIndex(_ shape: TokenShape) -> Int {
        var best = -1, bestLength = -1
        for (i, s) in shape.segments.enumerated() {
            if case .run(let a, let n) = s {
                let length = (a == .uuid || a == .uuidAnyCase) ? 32 : n.lowerBound
                if length > bestLength { best = i; bestLength = length }
            }
        }
        return best
    }

    /// The keyword as an environment variable name part: `new_relic` → `NEW_RELIC`.
    static func envName(_ keyword: String) -> String {
        String(keyword.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    /// The keyword as a camelCase identifier part: `new_relic` → `newRelic`.
    static func camelName(_ keyword: String) -> String {
        let parts = keyword.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber })
        return parts.enumerated().map { i, p in i == 0 ? String(p) : p.prefix(1).uppercased() + p.dropFirst() }.joined()
    }

    /// For every row: the token in two contexts, one character short, without entropy, and (keyed rows) without
    /// its keyword.
    static func catalogue(_ c: inout Catalogue) {
        // A token is drawn again (`Gen.judged`) while the row's own rule would leave it out (its entropy floor,
        // letters and digits, counted fill, a body of words: `MatchEngine.suppresses`) or, for a keyed row, while it
        // starts with a longer prefix of a prefixed row, which wins the bytes (fauna-secret's `fnA…` within
        // fauna-secret-keyword's `fn…`, one draw in 64): the policy rejects these by design, not by chance.
        let prefixes = BuiltinRules.catalog.flatMap { e -> [String] in
            guard case .prefixed = e.context else { return [] }
            return e.shape.prefixes
        }
        let engine = try? RuleCatalogTests.engine
        let index = engine.map { Dictionary($0.rules.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a }) } ?? [:]
        func draw(_ e: CatalogEntry) -> String {
            var own = ""
            if case .literal(let text)? = e.shape.segments.first { own = text }
            let keyed: Bool
            if case .keyed = e.context { keyed = true } else { keyed = false }
            // Each run of the token is already the scorer's (`Gen.rand`); the whole token, literals and all, is the
            // row's rule's to judge.
            return Gen.judged({ sample(e.shape) }, rejects: { token in
                if let engine, let i = index[e.id], engine.suppresses(token, rule: i) { return true }
                guard keyed else { return false }
                // Nor may another row's longer prefix start it, nor, for a row without a literal of its own, another
                // rule take the bare token (a Telegram body starting `AA` is the prefixed rule's). A row whose token
                // starts with its provider's literal (`ATATT3…` next to "confluence") is the prefixed rule's too, by design.
                return prefixes.contains { $0.count > own.count && token.hasPrefix($0) }
                    || (own.isEmpty && (try? BuiltinEngine.ruleIDs("found \(token) here\n"))?.isEmpty == false)
            })
        }
        for e in BuiltinRules.catalog {
            let token = draw(e)
            switch e.context {
            case .prefixed:
                c.tp(e.id, token, "found @S@ here\n")
                c.tp(e.id, token, "{\"value\": \"@S@\"}\n")
                c.fp(e.id, "found \(sample(e.shape, shortBy: 1)) here\n")
                c.fp(e.id, "found \(sample(e.shape, flat: true)) here\n")
            case .keyed(let keywords):
                // A keyword of two words (`github secret`) is written as one name here (`github_secret`), and once
                // with more of the name between them (`GITHUB_CLIENT_SECRET`).
                let words = keywords.map { $0.replacing(" ", with: "_") }
                if keywords[0].contains(" ") {
                    c.tp(e.id, token, "\(envName(keywords[0].replacing(" ", with: "_client_")))=@S@\n")
                }
                let name = envName(words[0])
                c.tp(e.id, token, "\(name)_CREDENTIAL=@S@\n")
                c.tp(e.id, token, "  \"\(words[words.count - 1].lowercased())_key\": \"@S@\",\n")
                c.tp(e.id, token, "<add key=\"\(name)_Setting\" value=\"@S@\" />\n")
                // Keyword proximity: the keyword inside identifiers of every casing and syntax, with the token a
                // few characters on (the same line, or the next for a YAML key).
                let camel = camelName(words[0]), snake = words[words.count - 1].lowercased()
                c.tp(e.id, token, "var \(camel)Value string = \"@S@\"\n")
                c.tp(e.id, token, "<\(camel)Value>@S@</\(camel)Value>\n")
                c.tp(e.id, token, "<\(camel)>\n    @S@\n</\(camel)>\n")
                c.tp(e.id, token, "{\\\"\(snake)\\\":\\\"@S@\\\"}\n")
                c.tp(e.id, token, "[DEBUG] \(words[0]) client ready, using API_KEY=@S@\n")
                c.tp(e.id, token, "cli --\(snake.replacing("_", with: "-")) @S@ --verbose\n")
                c.tp(e.id, token, "\(snake):\n  api_token: @S@\n")
                c.tp(e.id, token, "\(words[0]) SECRET @S@\n")
                c.fp(e.id, "\(name)_CREDENTIAL=\(sample(e.shape, shortBy: 1))\n")
                c.fp(e.id, "\(name)_CREDENTIAL=\(sample(e.shape, flat: true))\n")
                c.fp(e.id, "PLAIN_CREDENTIAL=\(token)\n", fix: ("PLAIN", name))
            }
        }
    }

    static func connections(_ c: inout Catalogue) {
        typealias G = Gen
        let pw = G.A(6) + "!" + G.A(6)
        c.tp("adonet-connection-string-password", pw, "Server=tcp:db.corp.test,1433;Database=app;User ID=app;Password=@S@;Encrypt=True;\n")
        c.tp("adonet-connection-string-password", pw, "\"Data Source=sql01;Initial Catalog=Orders;uid=svc;pwd=@S@\"\n")
        c.fp("adonet-connection-string-password", "Server=db;Database=app;User ID=app;Password={your_password};\n")
        c.fp("adonet-connection-string-password", "Server=db;Database=app;Integrated Security=true;Password=%DB_PASSWORD%;\n")
        // A password that names itself is documentation's.
        c.fp("adonet-connection-string-password", "Server=db;Database=app;User ID=app;Password=MyDbPassword1;\n")
        c.tp("jdbc-url-password", pw, "spring.datasource.url=jdbc:mysql://db:3306/app?user=app&password=@S@\n")
        c.tp("jdbc-url-password", pw, "jdbc:sqlserver://db:1433;databaseName=app;user=sa;password=@S@;\n")
        c.fp("jdbc-url-password", "jdbc:postgresql://db:5432/app?user=app&password=${DB_PASSWORD}\n")
        c.tp("ldap-bind-password", pw, "binddn cn=reader,dc=corp,dc=test\nbindpw @S@\n")
        c.tp("ldap-bind-password", pw, "[domain/corp]\nldap_default_authtok = @S@\n")
        c.fp("ldap-bind-password", "bindpw secret\n")
        c.tp("sidekiq-license-url", "\(G.H(8)):\(G.H(8))", "source \"https://@S@@enterprise.contribsys.com/\" do\n")
        c.fp("sidekiq-license-url", "source \"https://enterprise.contribsys.com/\" do\n")
        c.tp("zapier-webhook-url", "https://hooks.zapier.com/hooks/catch/\(G.D(7))/\(G.LD(7))", "ZAP=@S@/\n")
        c.fp("zapier-webhook-url", "https://hooks.zapier.com/hooks/catch/123/\n")
        c.tp("mattermost-webhook-url", "https://chat.acme-corp.net:8065/hooks/\(G.LD(26))", "curl -X POST -d @payload.json @S@\n")
        c.fp("mattermost-webhook-url", "https://chat.acme-corp.net/hooks/\(G.LD(25))\n", fix: ("\n", "q\n"))
        c.tp("rocketchat-webhook-url", "https://rocket.acme-corp.net/hooks/\(G.A(17))/\(G.A(48))", "WEBHOOK=@S@\n")
        c.fp("rocketchat-webhook-url", "https://rocket.acme-corp.net/hooks/\(G.A(17))/\(G.A(47))\n", fix: ("\n", "Q\n"))
        c.tp("slack-workflow-trigger-url", "https://hooks.slack.com/triggers/T\(G.UD(10))/\(G.D(13))/\(G.H(32))")
        c.fp("slack-workflow-trigger-url", "https://hooks.slack.com/triggers/T\(G.UD(10))/\(G.D(13))/short\n")
        c.tp("slack-workflow-trigger-url", "https://hooks.slack.com/triggers/\(G.LD(44))")
        // MaxMind's license keys end with their mark: found in `GeoIP.conf`, which need not name MaxMind.
        let mmk = G.W(6) + "_" + G.A(29) + "_mmk"
        c.tp("maxmind-license-key", mmk, "AccountID \(G.D(6))\nLicenseKey @S@\nEditionIDs GeoLite2-City\n")
        c.fp("maxmind-license-key", "LicenseKey \(G.W(6))_\(G.A(29))_mmkx\n")
        c.tp("slack-legacy-workspace-token", "xoxa-" + G.A(40))
        c.tp("slack-legacy-workspace-token", "xoxr-" + G.A(40))
        c.fp("slack-legacy-workspace-token", "xoxr-abcdefghijklmnop\n")
        let id1 = G.uuid(), id2 = G.uuid(), id3 = G.uuid()
        c.tp("microsoft-teams-legacy-webhook-url", "https://outlook.office.com/webhook/\(id1)@\(id2)/IncomingWebhook/\(G.A(32))/\(id3)")
        c.fp("microsoft-teams-legacy-webhook-url", "https://outlook.office.com/webhook/\(id1)@\(id2)/IncomingWebhook/\n")
        c.tp("power-automate-webhook-url",
             "https://prod-12.westus.logic.azure.com:443/workflows/\(G.H(32))/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=\(G.W(43))")
        c.fp("power-automate-webhook-url", "https://prod-12.westus.logic.azure.com:443/workflows/\(G.H(32))/triggers/manual/paths/invoke?api-version=2016-06-01\n")
        let environment = "https://default\(G.H(30)).\(G.D(2)).environment.api.powerplatform.com:443/powerautomate/automations/direct"
        c.tp("power-automate-webhook-url", "\(environment)/workflows/\(G.H(32))/triggers/manual/paths/invoke?sig=\(G.W(43))",
             "@S@&api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0\n")
        c.fp("power-automate-webhook-url", "\(environment)/workflows/\(G.H(32))/triggers/manual/paths/invoke?api-version=1&sv=1.0\n")
        c.tp("azure-function-key-url", G.W(54) + "==", "https://fn-orders.azurewebsites.net/api/HttpTrigger1?code=@S@\n")
        c.fp("azure-function-key-url", "https://fn-orders.azurewebsites.net/api/HttpTrigger1?code=<key>\n")
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJ\(G.W(60)).\(G.W(43))"
        c.tp("jwt-base64", G.base64(jwt), "token: @S@\n")
        c.fp("jwt-base64", "value: \(G.base64("eyJhbGciOiJIUzI1NiJ9 and then some plain words that are no token at all"))\n")
        c.tp("ftp-url-password", pw, "ftp://deploy:@S@@ftp.corp.test/uploads\n")
        c.fp("ftp-url-password", "ftp://anonymous:guest@ftp.debian.org/debian\n")
        c.tp("ldap-url-password", pw, "ldaps://cn=admin:@S@@ldap.corp.test:636\n")
        c.fp("ldap-url-password", "ldap://user:password@ldap.example\n")
        c.tp("authorization-scheme-token", G.A(40), "curl -H \"Authorization: Token @S@\" https://api.corp.test/\n")
        c.tp("authorization-scheme-token", G.W(20) + "." + G.W(6) + "." + G.W(27), "headers = {\"Authorization\": \"Bot @S@\"}\n")
        c.tp("authorization-scheme-token", "00" + G.W(40), "Authorization: SSWS @S@\n")
        c.tp("authorization-scheme-token", G.H(32), "req.Header.Set(\"Authorization\", \"GenieKey @S@\")\n")
        c.fp("authorization-scheme-token", "Authorization: Token %s\n")
        c.fp("authorization-scheme-token", "Authorization: Token {{ api_token_value_here }}\n")
        c.tp("query-string-token", G.A(32), "GET https://api.corp.test/v1/items?limit=5&access_token=@S@ HTTP/1.1\n")
        c.tp("query-string-token", G.H(40), "curl 'https://api.corp.test/search?api_key=@S@&q=1'\n")
        c.fp("query-string-token", "https://api.corp.test/v1/items?token=abcdefghijklmnopqrstuvwx\n")
        c.fp("query-string-token", "https://api.corp.test/v1/items?token=YOUR_TOKEN_HERE_12345\n")
        let salt = G.rand(16, Gen.alnum + Array("./"))
        c.tp("password-hash", "$2b$12$" + G.rand(53, Gen.alnum + Array("./")), "INSERT INTO users VALUES ('admin', '@S@');\n")
        c.tp("password-hash", "$6$" + salt + "$" + G.rand(86, Gen.alnum + Array("./")), "users:\n  - name: ops\n    passwd: \"@S@\"\n")
        c.tp("password-hash", "$argon2id$v=19$m=65536,t=3,p=4$" + G.B(22) + "$" + G.B(43), "hash = \"@S@\"\n")
        c.fp("password-hash", "format: $2b$12$ followed by the salt and hash\n")
        c.tp("jenkins-credential-secret", "AQAAABAAAA" + G.B(60) + "=", "  <secret>{@S@}</secret>\n")
        c.tp("jenkins-credential-secret", G.A(32), "  <password>{acme @S@}</password>\n")
        c.fp("jenkins-credential-secret", "  <secret>{{ jenkins_secret }}</secret>\n")
        c.fp("jenkins-credential-secret", "  <secret>{" + String(repeating: "A", count: 40) + "}</secret>\n")
        let storageKey = G.B(86) + "=="
        c.tp("azure-storage-key-assigned", storageKey, "AZURE_STORAGE_KEY=@S@\n")
        c.tp("azure-storage-key-assigned", storageKey, "cred = StorageSharedKeyCredential(\"acct\", \"@S@\")\n")
        c.fp("azure-storage-key-assigned", "AZURE_STORAGE_KEY=\(G.B(40))==\n")
        c.tp("mongodb-connection-string", G.A(8) + ":" + G.A(8), "MONGO_URL=mongodb+srv://app:@S@@cluster0.abcde.mongodb.net/app\n")
        c.tp("mongodb-connection-string", G.A(8) + ":" + G.A(8), "mongodb://app:@S@@h1.corp.test:27017,h2.corp.test:27018/db?replicaSet=rs0\n")
        c.fp("mongodb-connection-string", "mongodb://user:<password>@cluster0.mongodb.net/\n")
    }
}
