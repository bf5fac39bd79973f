// The long tail of SaaS APIs: data, weather, travel, media, sales and developer services whose keys carry no
// prefix. Rows of the provider catalogue (see CatalogEntry), from each provider's documented key format (length and
// alphabet); each names the provider's page where keys are managed.

extension BuiltinRules {
    /// A keyword row of the long tail, with where its keys are revoked (also ProviderCatalog+TailB).
    static func tail(_ id: String, _ description: String, _ keywords: [String], _ shape: TokenShape,
                     revoke: String) -> CatalogEntry {
        CatalogEntry(id: id, description: description, severity: .medium, shape: shape, context: .keyed(keywords), revoke: revoke)
    }

    /// A prefixed token of the long tail, with where it is revoked.
    static func tailToken(_ id: String, _ description: String, _ shape: TokenShape, revoke: String) -> CatalogEntry {
        CatalogEntry(id: id, description: description, severity: .high, shape: shape, context: .prefixed, revoke: revoke)
    }

    static let catalogLongTail: [CatalogEntry] = [
        // Data, search, geo and weather APIs
        tail("adzuna-api-key", "Adzuna API key", ["adzuna"], .lower(32), revoke: "https://developer.adzuna.com/admin/applications"),
        tail("aletheia-api-key", "Aletheia API key", ["aletheia"], .upper(32), revoke: "https://aletheiaapi.com/"),
        tail("allsports-api-key", "AllSportsAPI key", ["allsports"], .lower(64), revoke: "https://allsportsapi.com/"),
        tail("ambee-api-key", "Ambee API key", ["ambee"], .hex(64), revoke: "https://api-dashboard.getambee.com/"),
        tail("aviationstack-access-key", "aviationstack access key", ["aviationstack"], .lower(32), revoke: "https://aviationstack.com/dashboard"),
        tail("aylien-api-key", "AYLIEN API key", ["aylien"], .lower(32), revoke: "https://developer.aylien.com/"),
        tail("cicero-api-key", "Cicero API key", ["cicero"], .lower(40), revoke: "https://www.cicerodata.com/"),
        tail("coinlayer-access-key", "coinlayer access key", ["coinlayer"], .lower(32), revoke: "https://coinlayer.com/dashboard"),
        tail("coinlib-api-key", "Coinlib API key", ["coinlib"], .lower(16), revoke: "https://coinlib.io/"),
        tail("timezoneapi-key", "TimezoneAPI key", ["timezoneapi"], .alnum(20), revoke: "https://timezoneapi.io/"),
        tail("apilayer-api-key", "APILayer API key", ["apilayer"], .alnum(32), revoke: "https://apilayer.com/account"),
        tail("alienvault-otx-key", "AlienVault OTX API key", ["alienvault"], .lower(64), revoke: "https://otx.alienvault.com/settings"),
        tail("redhat-pyxis-key", "Red Hat Pyxis (container catalog) API key", ["pyxis"], .lower(32), revoke: "https://connect.redhat.com/account/api-keys"),
        // Media, rendering, screenshots
        tail("abyssale-api-key", "Abyssale API key", ["abyssale"], .alnum(40), revoke: "https://app.abyssale.com/"),
        tail("bannerbear-api-key", "Bannerbear API key", ["bannerbear"], .alnum(24), revoke: "https://app.bannerbear.com/"),
        tail("apiflash-access-key", "ApiFlash access key", ["apiflash"], .lower(32), revoke: "https://apiflash.com/dashboard"),
        tail("apitemplate-api-key", "APITemplate.io API key", ["apitemplate", "api_template"], .alnum(39), revoke: "https://app.apitemplate.io/"),
        tail("browshot-api-key", "Browshot API key", ["browshot"], .alnum(28), revoke: "https://browshot.com/"),
        tail("artsy-client-secret", "Artsy API client secret", ["artsy"], .alnum(32), revoke: "https://developers.artsy.net/"),
        tail("audd-api-token", "AudD API token", ["audd"], .lower(32), revoke: "https://dashboard.audd.io/"),
        // Sales, marketing, support, business tools
        tail("airship-api-key", "Airship (Urban Airship) access token", ["airship", "urbanairship"], .alnum(91), revoke: "https://go.airship.com/"),
        tail("alconost-api-key", "Alconost API key", ["alconost"], .alnum(32), revoke: "https://alconost.com/"),
        tail("autoklose-api-key", "Autoklose API key", ["autoklose"], .url(32), revoke: "https://autoklose.com/"),
        tail("autopilot-api-key", "Autopilot (Ortto) API key", ["autopilot"], .hex(32), revoke: "https://www.autopilothq.com/"),
        tail("axonaut-api-key", "Axonaut API key", ["axonaut"], .lower(32), revoke: "https://axonaut.com/"),
        tail("ayrshare-api-key", "Ayrshare API key", ["ayrshare"],
             TokenShape.upper(8) + TokenShape.lit("-") + TokenShape.upper(8) + TokenShape.lit("-") + TokenShape.upper(8) + TokenShape.lit("-") + TokenShape.upper(8), revoke: "https://app.ayrshare.com/"),
        tail("beebole-api-token", "Beebole API token", ["beebole"], .lower(40), revoke: "https://beebole.com/"),
        tail("besnappy-api-key", "BeSnappy API key", ["besnappy"], .hex(64), revoke: "https://www.besnappy.com/"),
        tail("billomat-api-key", "Billomat API key", ["billomat"], .hex(32), revoke: "https://www.billomat.com/"),
        tail("clickhelp-api-key", "ClickHelp API key", ["clickhelp"], .alnum(24), revoke: "https://clickhelp.com/"),
        tail("easyinsight-api-key", "Easy Insight API key", ["easyinsight", "easy_insight"], .alnum(20), revoke: "https://www.easy-insight.com/"),
        tail("satismeter-project-key", "SatisMeter project or write key", ["satismeter"], .alnum(32), revoke: "https://app.satismeter.com/"),
        tail("streak-api-key", "Streak CRM API key", ["streak"], .alnum(32), revoke: "https://www.streak.com/"),
        tail("vbout-api-key", "VBOUT API key", ["vbout"], .hex(25), revoke: "https://app.vbout.com/"),
        tail("zoho-oauth-token", "Zoho OAuth access or refresh token", ["zoho"],
             TokenShape.lit("1000.") + TokenShape.hex(32) + TokenShape.lit(".") + TokenShape.hex(32), revoke: "https://accounts.zoho.com/home#sessions/userauthtoken"),
        // Developer services, monitoring, hosting
        tail("airbrake-user-key", "Airbrake user API key", ["airbrake"], .alnum(40), revoke: "https://airbrake.io/users/edit"),
        tail("apimetrics-api-key", "APImetrics API key", ["apimetrics", "api_metrics"], .alnum(32), revoke: "https://client.apimetrics.io/"),
        tail("appsynergy-api-key", "AppSynergy API key", ["appsynergy"], .lower(64), revoke: "https://www.appsynergy.com/"),
        tail("aha-api-key", "Aha! API key", ["aha_io"], .hex(64), revoke: "https://www.aha.io/settings/api_keys"),
        tail("bitbar-api-key", "BitBar (SmartBear) API key", ["bitbar"], .alnum(32), revoke: "https://cloud.bitbar.com/"),
        tail("buddyns-api-key", "BuddyNS API key", ["buddyns"], .lower(40), revoke: "https://www.buddyns.com/"),
        tail("bugherd-api-key", "BugHerd API key", ["bugherd"], .lower(22), revoke: "https://www.bugherd.com/"),
        tailToken("spectralops-api-token", "SpectralOps API token", TokenShape.lit("spu-") + TokenShape.hex(32), revoke: "https://get.spectralops.io/"),
        tailToken("voiceflow-dm-api-key", "Voiceflow Dialog Manager API key", TokenShape.lit("VF.DM.") + TokenShape.hex(24) + TokenShape.lit(".") + TokenShape.alnum(16),
                  revoke: "https://creator.voiceflow.com/"),
        tailToken("voiceflow-workspace-api-key", "Voiceflow workspace API key", TokenShape.lit("VF.WS.") + TokenShape.hex(24) + TokenShape.lit(".") + TokenShape.alnum(16),
                  revoke: "https://creator.voiceflow.com/"),
        tailToken("intra42-client-secret", "42 intranet OAuth client secret", TokenShape.lit("s-s4t2ud-") + TokenShape.hex(64), revoke: "https://profile.intra.42.fr/oauth/applications"),
        tailToken("intra42-client-secret-af", "42 intranet OAuth client secret (alternate format)", TokenShape.lit("s-s4t2af-") + TokenShape.hex(64),
                  revoke: "https://profile.intra.42.fr/oauth/applications"),
    ]
}
