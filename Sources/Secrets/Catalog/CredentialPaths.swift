/// Files whose name alone says "credential". Such a file is reported at low severity when no content rule
/// fires in it, and content findings inside it are raised one severity level.
public enum CredentialPaths {
    /// What kind of credential file a path is, or nil.
    public static func kind(of path: String) -> String? {
        // Called for every file of every layer: only the last component is lowercased, and the whole path only
        // for the four names that the suffix rules below can match.
        let name = lastComponent(path).lowercased()
        switch name {
        case "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk": return "SSH private key file"
        case ".npmrc": return "npm configuration (.npmrc)"
        case ".pypirc": return "PyPI configuration (.pypirc)"
        case ".netrc", "_netrc": return "netrc credentials"
        case ".git-credentials": return "git credential store"
        case ".pgpass", "pgpass.conf": return "PostgreSQL password file (.pgpass)"
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
        guard ["credentials", "config.yml", "config", "config.json"].contains(name) else { return nil }
        let lower = path.lowercased()
        if lower.hasSuffix("/.aws/credentials") { return "AWS credentials file" }
        if lower.hasSuffix("/.fly/config.yml") { return "Fly.io config (access token)" }
        if lower.hasSuffix("/.kube/config") { return "Kubernetes config" }
        if lower.hasSuffix("/.docker/config.json") { return "Docker registry credentials" }
        return nil
    }

    /// What follows the last `/` (the whole path when there is none), found on the UTF-8 bytes.
    public static func lastComponent(_ path: String) -> Substring {
        let utf8 = path.utf8
        guard let slash = utf8.lastIndex(of: UInt8(ascii: "/")) else { return Substring(path) }
        return Substring(path.utf8[utf8.index(after: slash)...])
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
