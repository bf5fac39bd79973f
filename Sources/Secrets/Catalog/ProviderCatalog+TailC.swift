// A third part of the long tail: SaaS APIs that a peer's detectors know and the catalogue did not, each checked
// against that provider's key format as other scanners and the provider's documentation give it. Keyword rows are
// keyed by the provider's own name (never a word of English that a clean image prints beside random text: `host`,
// `swell`, `harvest`, `envoy` are left out); prefixed rows stand alone. Tokens that are JSON Web Tokens are the `jwt`
// rule's and get no row here.

extension BuiltinRules {
    /// Recharge's API tokens: `sk_`, `test_` for a test store, the token's scope tier (`1x1` … `10x3`), then 64 hex.
    private static let rechargePrefixes = ["", "test_"].flatMap { test in
        ["1", "2", "3", "5", "10"].flatMap { a in ["1", "2", "3"].map { b in "sk_\(test)\(a)x\(b)_" } }
    }

    /// The nil UUID (all zeros), documentation's stand-in; a URL's literal parts would carry it over the floor.
    private static let nilUUID = #"0{8}-0{4}-0{4}-0{4}-0{12}"#

    /// A URL whose key is a UUID: `tailToken`, with the nil UUID left out.
    private static func keyURL(_ id: String, _ description: String, _ shape: TokenShape, revoke: String) -> CatalogEntry {
        CatalogEntry(id: id, description: description, severity: .high, shape: shape, context: .prefixed,
                     allowlist: [nilUUID], revoke: revoke)
    }

    static let catalogTailC: [CatalogEntry] = [
        // Prefixed: the prefix names the provider.
        tailToken("pagarme-api-key", "Pagar.me live API key", TokenShape.lit("ak_live_") + TokenShape.alnum(30),
                  revoke: "https://dashboard.pagar.me/"),
        tailToken("flexport-api-key", "Flexport API key", TokenShape.lit("shltm_") + TokenShape.url(40),
                  revoke: "https://developers.flexport.com/"),
        tailToken("robinhood-crypto-api-key", "Robinhood Crypto trading API key", TokenShape.lit("rh-api-") + TokenShape.uuidAnyCase,
                  revoke: "https://robinhood.com/account/crypto"),
        tailToken("saladcloud-api-key", "SaladCloud API key",
                  TokenShape.lit("salad_cloud_") + TokenShape.alnum(1...7) + TokenShape.lit("_") + TokenShape.alnum(7...235),
                  revoke: "https://portal.salad.com/api-key"),
        tailToken("recharge-api-token", "Recharge Payments API token", TokenShape.oneOf(rechargePrefixes) + TokenShape.hexAnyCase(64),
                  revoke: "https://admin.rechargeapps.com/"),
        tailToken("tines-webhook-url", "Tines webhook URL",
                  TokenShape.lit("https://") + TokenShape.url(1...40) + TokenShape.lit(".tines.com/webhook/") + TokenShape.lower(32)
                      + TokenShape.lit("/") + TokenShape.lower(32),
                  revoke: "https://www.tines.com/docs/actions/types/webhook"),
        tailToken("stackhawk-api-key", "StackHawk API key", TokenShape.lit("hawk.") + TokenShape.url(20) + TokenShape.lit(".") + TokenShape.url(20),
                  revoke: "https://app.stackhawk.com/settings/apikeys"),
        tailToken("dependency-track-api-key", "Dependency-Track API key", TokenShape.lit("odt_") + TokenShape.alnum(32),
                  revoke: "Dependency-Track: Administration, Access Management, Teams: the team's API keys"),
        // Webhook URLs whose path is the credential: whoever has the URL posts as the integration.
        tailToken("ifttt-webhook-url", "IFTTT Webhooks URL (its key)",
                  TokenShape.lit("https://maker.ifttt.com/trigger/") + TokenShape.url(1...64) + TokenShape.lit("/with/key/") + TokenShape.url(22),
                  revoke: "https://ifttt.com/maker_webhooks/settings"),
        tailToken("pagerduty-events-url", "PagerDuty Events integration URL (its integration key)",
                  TokenShape.lit("https://events.pagerduty.com/integration/") + TokenShape.alnum(32),
                  revoke: "PagerDuty: the service's Integrations tab: delete the integration and create a new one"),
        keyURL("lark-bot-webhook-url", "Lark (Feishu) bot webhook URL",
               TokenShape.lit("https://open.") + TokenShape.oneOf(["feishu.cn", "larksuite.com"]) + TokenShape.lit("/open-apis/bot/v2/hook/") + .uuid,
               revoke: "the group's settings: Bots: the custom bot: reset its webhook address"),
        tailToken("dingtalk-robot-webhook-url", "DingTalk robot webhook URL",
                  TokenShape.lit("https://oapi.dingtalk.com/robot/send?access_token=") + TokenShape.hex(64),
                  revoke: "the group's settings: Robots: the custom robot: reset its webhook"),
        keyURL("wecom-bot-webhook-url", "WeCom (WeChat Work) group bot webhook URL",
               TokenShape.lit("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=") + .uuid,
               revoke: "the group chat's bot: remove it and add a new one"),
        keyURL("loggly-input-url", "Loggly HTTP input URL (its customer token)",
               TokenShape.lit("https://logs-01.loggly.com/") + TokenShape.oneOf(["inputs/", "bulk/"]) + .uuid,
               revoke: "https://documentation.solarwinds.com/en/success_center/loggly/content/admin/customer-token-authentication-token.htm"),
        // Keyword rows with a literal of their own.
        tail("finage-api-key", "Finage API key", ["finage"], TokenShape.lit("API_KEY") + TokenShape.upper(32), revoke: "https://finage.co.uk/"),
        tail("salesblink-api-key", "SalesBlink API key", ["salesblink"], TokenShape.lit("key-") + TokenShape.alnum(64), revoke: "https://run.salesblink.io/"),
        tail("ecostruxure-it-api-key", "EcoStruxure IT API key", ["ecostruxure"], TokenShape.lit("AK1") + TokenShape.run(.alnum, 50...55),
             revoke: "https://ecostruxureit.com/"),
        tail("larksuite-access-token", "Lark (Feishu) access token", ["larksuite", "feishu"],
             TokenShape.oneOf(["t-", "u-", "a-"]) + TokenShape.urlDotted(14...50), revoke: "https://open.larksuite.com/app"),
        tail("requestfinance-api-key", "Request Finance API key", ["requestfinance", "request_finance"],
             TokenShape.upper(7) + TokenShape.lit("-") + TokenShape.upper(7) + TokenShape.lit("-") + TokenShape.upper(7) + TokenShape.lit("-") + TokenShape.upper(7),
             revoke: "https://app.request.finance/"),
        tail("apifonica-api-key", "Apifonica API key", ["apifonica"],
             TokenShape.lower(11) + TokenShape.lit("-") + TokenShape.lower(4) + TokenShape.lit("-") + TokenShape.lower(4) + TokenShape.lit("-")
                 + TokenShape.lower(4) + TokenShape.lit("-") + TokenShape.lower(12),
             revoke: "https://www.apifonica.com/"),
        tail("exportsdk-api-key", "ExportSDK API key", ["exportsdk"], TokenShape.lower(5...15) + TokenShape.lit("_") + TokenShape.uuid,
             revoke: "https://exportsdk.com/"),
        tail("truenas-api-key", "TrueNAS API key", ["truenas"], TokenShape.digits(1...4) + TokenShape.lit("-") + TokenShape.alnum(64),
             revoke: "TrueNAS web interface: Credentials, API Keys"),
        tail("blynk-auth-token", "Blynk device auth token", ["blynk"], .url(32), revoke: "https://blynk.cloud/dashboard"),
        // UUID keys.
        tail("anypoint-token", "MuleSoft Anypoint token", ["anypoint", "mulesoft"], .uuid, revoke: "https://anypoint.mulesoft.com/accounts"),
        tail("apacta-api-key", "Apacta API key", ["apacta"], .uuid, revoke: "https://app.apacta.com/"),
        tail("appcues-api-key", "Appcues API key", ["appcues"], .uuid, revoke: "https://studio.appcues.com/settings/keys"),
        tail("apptivo-api-key", "Apptivo API key", ["apptivo"], .uuid, revoke: "https://www.apptivo.com/"),
        tail("cliengo-api-key", "Cliengo API key", ["cliengo"], .uuid, revoke: "https://www.cliengo.com/"),
        tail("collect2-api-key", "Collect2 API key", ["collect2"], .uuid, revoke: "https://collect2.com/"),
        tail("findl-api-key", "Findl API key", ["findl"], .uuid, revoke: "https://findl.com/"),
        tail("vouchery-api-key", "Vouchery API key", ["vouchery"], .uuid, revoke: "https://www.vouchery.io/"),
        // Hex keys.
        tail("meraki-api-key", "Cisco Meraki Dashboard API key", ["meraki"], .hex(40), revoke: "https://dashboard.meraki.com/"),
        tail("klipfolio-api-key", "Klipfolio API key", ["klipfolio"], .hex(40), revoke: "https://app.klipfolio.com/"),
        tail("parseur-api-key", "Parseur API key", ["parseur"], .hex(40), revoke: "https://app.parseur.com/account/api-keys"),
        tail("lunchmoney-api-token", "Lunch Money API token", ["lunchmoney", "lunch_money"], .hex(50), revoke: "https://my.lunchmoney.app/developers"),
        tail("speechtext-api-key", "SpeechText.AI API key", ["speechtext"], .hex(32), revoke: "https://speechtext.ai/"),
        tail("theoddsapi-api-key", "The Odds API key", ["theoddsapi", "the_odds_api", "oddsapi"], .hex(32), revoke: "https://the-odds-api.com/"),
        // Letters and digits (a key documented as hex is matched as lower-case letters and digits, which hold it).
        tail("tyntec-api-key", "tyntec API key", ["tyntec"], .alnum(32), revoke: "https://my.tyntec.com/"),
        tail("bitly-access-token", "Bitly access token", ["bitly"], .alnum(40), revoke: "https://app.bitly.com/settings/api/"),
        tail("brandfetch-api-key", "Brandfetch API key (v1)", ["brandfetch"], .alnum(40), revoke: "https://developers.brandfetch.com/dashboard"),
        tail("bulbul-api-key", "Bulbul API key", ["bulbul"], .lower(32), revoke: "https://bulbul.io/"),
        tail("calorieninjas-api-key", "CalorieNinjas API key", ["calorieninja"], .alnum(40), revoke: "https://calorieninjas.com/"),
        tail("caspio-client-secret", "Caspio client secret", ["caspio"], .lower(50), revoke: "https://www.caspio.com/"),
        tail("chatfuel-api-key", "Chatfuel API key", ["chatfuel", "chatfule"], .alnum(128), revoke: "https://dashboard.chatfuel.com/"),
        tail("clockworksms-api-key", "Clockwork SMS API key", ["clockworksms", "clockwork_sms"], .alnum(24), revoke: "https://www.clockworksms.com/"),
        tail("currentsapi-api-key", "Currents API key", ["currentsapi", "currents_api"], .url(48), revoke: "https://currentsapi.services/"),
        tail("customerguru-api-key", "Customer Guru API key", ["customerguru", "customer_guru"], .alnum(30), revoke: "https://customerguru.in/"),
        tail("databox-token", "Databox token", ["databox"], .lower(21), revoke: "https://app.databox.com/"),
        tail("detectify-api-key", "Detectify API key", ["detectify"], .lower(32), revoke: "https://detectify.com/dashboard"),
        tail("fulcrum-api-token", "Fulcrum API token", ["fulcrumapp", "fulcrum_api", "fulcrum_token"], .lower(80), revoke: "https://web.fulcrumapp.com/settings/api"),
        tail("getsandbox-api-key", "Sandbox (getsandbox) API key", ["getsandbox"], .url(40), revoke: "https://getsandbox.com/"),
        tail("gocanvas-api-key", "GoCanvas API key", ["gocanvas"], TokenShape.b64(43) + TokenShape.lit("="), revoke: "https://www.gocanvas.com/"),
        tail("godaddy-api-key", "GoDaddy API key", ["godaddy"], .url(35...37), revoke: "https://developer.godaddy.com/keys"),
        tail("helpcrunch-api-key", "HelpCrunch API key", ["helpcrunch"], TokenShape.run(.base64Padded, 328), revoke: "https://helpcrunch.com/"),
        tail("ip2location-api-key", "IP2Location API key", ["ip2location"], .upper(32), revoke: "https://www.ip2location.io/dashboard"),
        tail("jupiterone-api-key", "JupiterOne API key", ["jupiterone"], .alnum(76), revoke: "https://apps.us.jupiterone.io/settings/account-management"),
        tail("lessannoyingcrm-api-key", "Less Annoying CRM API key", ["lessannoyingcrm", "less_annoying_crm"], .url(57),
             revoke: "https://account.lessannoyingcrm.com/"),
        tail("luno-api-secret", "Luno API secret", ["luno"], .url(43), revoke: "https://www.luno.com/wallet/security/api_keys"),
        tail("magicbell-api-key", "MagicBell API key", ["magicbell"], .url(40), revoke: "https://app.magicbell.com/"),
        tail("netsuite-token-secret", "Oracle NetSuite token or consumer secret", ["netsuite"], .alnum(64), revoke: "https://system.netsuite.com/"),
        tail("onfleet-api-key", "Onfleet API key", ["onfleet"], .lower(32), revoke: "https://onfleet.com/dashboard#/manage"),
        tail("overloop-api-key", "Overloop API key", ["overloop"], .url(50), revoke: "https://app.overloop.com/"),
        tail("pandascore-token", "PandaScore API token", ["pandascore"], .url(51), revoke: "https://app.pandascore.co/dashboard"),
        tail("paralleldots-api-key", "ParallelDots API key", ["paralleldots"], .alnum(43), revoke: "https://user.apis.paralleldots.com/"),
        tail("partnerstack-api-key", "PartnerStack API key", ["partnerstack"], .alnum(64), revoke: "https://dash.partnerstack.com/"),
        tail("pastebin-api-key", "Pastebin API developer key", ["pastebin"], .url(32), revoke: "https://pastebin.com/doc_api"),
        tail("paydirt-api-key", "Paydirt API key", ["paydirtapp", "paydirt"], .lower(32), revoke: "https://paydirtapp.com/"),
        tail("planyo-api-key", "Planyo API key", ["planyo"], .lower(62), revoke: "https://www.planyo.com/"),
        tail("prospectcrm-api-key", "Prospect CRM API key", ["prospectcrm", "prospect_crm"], .lower(32), revoke: "https://www.prospect-crm.com/"),
        tail("reachmail-api-key", "ReachMail API key", ["reachmail"], .url(64), revoke: "https://services.reachmail.net/"),
        tail("repairshopr-api-key", "RepairShopr API key", ["repairshopr"], .url(51), revoke: "https://www.repairshopr.com/"),
        tail("replyio-api-key", "Reply.io API key", ["replyio", "reply_io"], .alnum(24), revoke: "https://run.reply.io/"),
        tail("roninapp-api-token", "Ronin API token", ["roninapp"], .alnum(26), revoke: "https://www.roninapp.com/"),
        tail("salescookie-api-key", "Sales Cookie API key", ["salescookie"], .alnum(32), revoke: "https://salescookie.com/"),
        tail("scrutinizer-api-token", "Scrutinizer CI API token", ["scrutinizer"], .lower(64), revoke: "https://scrutinizer-ci.com/profile/applications"),
        tail("simfin-api-key", "SimFin API key", ["simfin"], .alnum(32), revoke: "https://app.simfin.com/"),
        tail("strava-client-secret", "Strava client secret", ["strava"], .lower(40), revoke: "https://www.strava.com/settings/api"),
        tail("thousandeyes-api-token", "ThousandEyes API token", ["thousandeyes"], .alnum(32), revoke: "https://app.thousandeyes.com/account-settings/users-roles/profile"),
        tail("zerotier-api-token", "ZeroTier API token", ["zerotier"], .alnum(32), revoke: "https://my.zerotier.com/account"),
    ]
}
