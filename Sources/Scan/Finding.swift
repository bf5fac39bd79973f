import Forensics
import OCI
import Secrets

/// Where a finding was seen.
public enum FindingSource: String, Codable, Sendable {
    case file, env, label, history, cmd, entrypoint, healthcheck, annotation, config
}

/// Whether a file finding is still in the final filesystem.
public enum FileStatus: String, Codable, Sendable {
    case present, deleted, overwritten
}

/// One secret at one place, as the JSON report contract spells it.
public struct Finding: Codable, Sendable, Equatable {
    public var ruleID: String
    public var severity: Severity
    public var description: String
    public var source: FindingSource
    public var layerIndex: Int?
    public var layerDigest: String?
    public var historyIndex: Int?
    public var path: String?
    public var line: Int?
    public var key: String?
    public var status: FileStatus?
    public var removedInLayer: Int?
    public var secretSHA256: String
    public var redacted: String
    public var secret: String?
    /// What the secret can do, read offline from it (Fly token scope, JWT claims, ...); only when there is something.
    public var details: FindingDetails? = nil
    /// For a member of an archive: the file of the layer that holds it (not in the JSON, whose `path` names the
    /// whole chain); the text report groups members under it.
    public var outerPath: String? = nil

    enum CodingKeys: String, CodingKey {
        case ruleID, severity, description, source, layerIndex, layerDigest, historyIndex, path, line, key, status,
             removedInLayer, secretSHA256, redacted, secret, details
    }

    // The contract prints absent values as null rather than leaving keys out.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ruleID, forKey: .ruleID)
        try c.encode(severity, forKey: .severity)
        try c.encode(description, forKey: .description)
        try c.encode(source, forKey: .source)
        try c.encode(layerIndex, forKey: .layerIndex)
        try c.encode(layerDigest, forKey: .layerDigest)
        try c.encode(historyIndex, forKey: .historyIndex)
        try c.encode(path, forKey: .path)
        try c.encode(line, forKey: .line)
        try c.encode(key, forKey: .key)
        try c.encode(status, forKey: .status)
        try c.encode(removedInLayer, forKey: .removedInLayer)
        try c.encode(secretSHA256, forKey: .secretSHA256)
        try c.encode(redacted, forKey: .redacted)
        try c.encode(secret, forKey: .secret)
        try c.encodeIfPresent(details, forKey: .details)
    }

    /// The place, for baselines and SARIF: `layer-N/path` or `config/env/KEY`.
    public var location: String {
        switch source {
        case .file: return "layer-\(layerIndex ?? -1)\(path ?? "")"
        case .history: return "history/\(historyIndex ?? -1)" + (key.map { "/\($0)" } ?? "")
        default: return "config/\(source.rawValue)" + (key.map { "/\($0)" } ?? "")
        }
    }
}
