// Provider formats that were hand-written keyword rules (`pvAssigned`), now rows like the rest of the catalogue: a
// provider's keywords and its token's shape. The entropy floors are the ones the hand-written rules had.

extension BuiltinRules {
    static let catalogAssigned: [CatalogEntry] = [
        .keyed("cohere-api-key", "Cohere API key", ["cohere", "co_api_key"], TokenShape.alnum(40), entropy: 4.0),
        .keyed("mistral-api-key", "Mistral AI API key", ["mistral"], TokenShape.alnum(32), entropy: 4.0),
        .keyed("deepseek-api-key", "DeepSeek API key", ["deepseek"], TokenShape.lit("sk-") + TokenShape.hex(32), entropy: 3.0),
        .keyed("wandb-api-key", "Weights & Biases API key", ["wandb", "weights_and_biases"], TokenShape.hex(40), entropy: 3.0),
        .keyed("postmark-server-token", "Postmark server or account token", ["postmark"], TokenShape.uuid, entropy: 3.0),
        .keyed("mandrill-api-key", "Mailchimp Transactional (Mandrill) API key", ["mandrill"], TokenShape.url(22), entropy: 3.5),
        .keyed("messagebird-api-key", "MessageBird (Bird) API key", ["message_bird"], TokenShape.alnum(25), entropy: 3.5),
        .keyed("mattermost-token", "Mattermost access token", ["mattermost"], TokenShape.lower(26), entropy: 3.5),
        .keyed("zendesk-api-token", "Zendesk API token", ["zendesk"], TokenShape.alnum(40), entropy: 4.0),
        .keyed("twitch-token", "Twitch API token or client secret", ["twitch"], TokenShape.lower(30), entropy: 3.5),
        .keyed("rollbar-token", "Rollbar access token", ["rollbar"], TokenShape.hex(32), entropy: 3.0),
        .keyed("okta-api-token", "Okta API token", ["okta"], TokenShape.lit("00") + TokenShape.url(40), entropy: 3.5),
        .keyed("airtable-api-key", "Airtable API key (legacy key… format)", ["airtable"], TokenShape.lit("key") + TokenShape.alnum(14), entropy: 3.0),
        .token("adafruit-io-key", "Adafruit IO key", TokenShape.lit("aio_") + TokenShape.alnum(28), entropy: 3.5),
        .keyed("linode-token", "Linode (Akamai) API token", ["linode"], TokenShape.hex(64), entropy: 3.0),
        .keyed("vultr-api-key", "Vultr API key", ["vultr"], TokenShape.upper(36), entropy: 3.5),
        .keyed("hetzner-cloud-token", "Hetzner Cloud API token", ["hcloud", "hetzner"], TokenShape.alnum(64), entropy: 4.0),
        .keyed("scaleway-secret-key", "Scaleway secret key", ["scw_secret", "scaleway"], TokenShape.uuid, entropy: 3.0),
        .keyed("heroku-api-key", "Heroku API key", ["heroku"], TokenShape.uuid, entropy: 3.0),
        .keyed("cloudflare-api-token", "Cloudflare API token", ["cloudflare", "cf_api_token", "cf_token"], TokenShape.url(40), entropy: 3.5),
        .keyed("cloudflare-global-api-key", "Cloudflare global API key", ["cloudflare", "cf_api_key", "cf_key"], TokenShape.hex(37), entropy: 3.0),
        .keyed("vercel-token", "Vercel access token", ["vercel"], TokenShape.alnum(24), entropy: 3.5),
        .keyed("netlify-token", "Netlify access token", ["netlify"], TokenShape.url(40...46), entropy: 3.5),
        .keyed("atlassian-legacy-token", "Atlassian / Jira / Confluence API token (legacy format next to a keyword)", ["atlassian", "confluence", "jira"], TokenShape.alnum(24), entropy: 3.5),
        .keyed("alibaba-access-key-secret", "Alibaba Cloud AccessKey secret", ["alibaba", "aliyun", "alicloud"], TokenShape.alnum(30), entropy: 3.5),
        .keyed("ibm-cloud-api-key", "IBM Cloud API key", ["ibm_cloud", "ibmcloud", "ibm_api_key"], TokenShape.url(44), entropy: 4.0),
        .keyed("azure-openai-key", "Azure OpenAI / Cognitive Services key", ["azure_openai", "azure_cognitive", "ocp_apim_subscription_key"], TokenShape.hex(32), entropy: 3.0),
        .keyed("confluent-secret", "Confluent Cloud API secret", ["confluent"], TokenShape.b64(64), entropy: 4.0),
    ]
}
