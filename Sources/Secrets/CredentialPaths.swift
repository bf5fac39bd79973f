/// Files whose name alone says "credential". Such a file is reported at low severity when no content rule
/// fires in it, and content findings inside it are raised one severity level.
public enum CredentialPaths {
    /// What kind of credential file a path is, or nil.
    public static func kind(of path: String) -> String? {
        let lower = path.lowercased()
        let name = lower.split(separator: "/").last.map(String.init) ?? lower
        switch name {
        case "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk": return "SSH private key file"
        case ".npmrc": return "npm configuration (.npmrc)"
        case ".pypirc": return "PyPI configuration (.pypirc)"
        case ".netrc", "_netrc": return "netrc credentials"
        case ".git-credentials": return "git credential store"
        case ".htpasswd": return "htpasswd file"
        case "credentials.json", "service-account.json", "service_account.json": return "credentials JSON"
        case "kubeconfig": return "Kubernetes config"
        case ".dockercfg": return "Docker registry credentials"
        default: break
        }
        if name == ".env" || name.hasPrefix(".env.") {
            // Templates are documentation, not secrets.
            if [".env.example", ".env.sample", ".env.template", ".env.dist", ".env.defaults"].contains(name) { return nil }
            return "environment file (.env)"
        }
        for ext in [".p12", ".pfx", ".jks", ".keystore"] where name.hasSuffix(ext) { return "key store (\(ext))" }
        if lower.hasSuffix("/.aws/credentials") { return "AWS credentials file" }
        if lower.hasSuffix("/.fly/config.yml") { return "Fly.io config (access token)" }
        if lower.hasSuffix("/.kube/config") { return "Kubernetes config" }
        if lower.hasSuffix("/.docker/config.json") { return "Docker registry credentials" }
        return nil
    }
}

extension Severity {
    /// One level up, at most critical.
    public var raised: Severity {
        switch self {
        case .low: return .medium
        case .medium: return .high
        case .high, .critical: return .critical
        }
    }
}
