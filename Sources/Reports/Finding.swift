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
    /// Set when an acceptance covers it: in force (the finding is in a report's suppressed list) or expired
    /// (it counts again, and reports say since when). JSON key `acceptance`, absent when nil.
    public var acceptance: Acceptance? = nil
    public var secretSHA256: String
    public var redacted: String
    public var secret: String?
    /// What the secret can do, read offline from it (Fly token scope, JWT claims, ...); only when there is something.
    public var details: FindingDetails? = nil
    /// How sure the finding is to be a real credential: the rule's, raised to high by a valid checksum and
    /// lowered by an invalid one. nil only in reports of versions before it (a baseline).
    public var confidence: Confidence? = nil
    /// For a member of an archive: the file of the layer that holds it (not in the JSON, whose `path` names the
    /// whole chain); the text report groups members under it.
    public var outerPath: String? = nil
    /// What to do about it: where the secret is revoked and how to take it out of the image. nil only in reports
    /// of versions before it (a baseline) and before the report is assembled.
    public var remediation: Remediation? = nil

    /// Every member, as the scanner and the sweep's store assemble a finding.
    package init(ruleID: String, severity: Severity, description: String, source: FindingSource, layerIndex: Int?,
                 layerDigest: String?, historyIndex: Int?, path: String?, line: Int?, key: String?, status: FileStatus?,
                 removedInLayer: Int?, acceptance: Acceptance? = nil, secretSHA256: String, redacted: String, secret: String?,
                 details: FindingDetails? = nil, confidence: Confidence? = nil, outerPath: String? = nil,
                 remediation: Remediation? = nil) {
        self.ruleID = ruleID
        self.severity = severity
        self.description = description
        self.source = source
        self.layerIndex = layerIndex
        self.layerDigest = layerDigest
        self.historyIndex = historyIndex
        self.path = path
        self.line = line
        self.key = key
        self.status = status
        self.removedInLayer = removedInLayer
        self.acceptance = acceptance
        self.secretSHA256 = secretSHA256
        self.redacted = redacted
        self.secret = secret
        self.details = details
        self.confidence = confidence
        self.outerPath = outerPath
        self.remediation = remediation
    }

    enum CodingKeys: String, CodingKey {
        case ruleID, severity, description, source, layerIndex, layerDigest, historyIndex, path, line, key, status,
             removedInLayer, secretSHA256, redacted, secret, details, confidence, remediation
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
        try encodeAcceptance(to: encoder)
        try c.encode(secretSHA256, forKey: .secretSHA256)
        try c.encode(redacted, forKey: .redacted)
        try c.encode(secret, forKey: .secret)
        try c.encodeIfPresent(details, forKey: .details)
        try c.encodeIfPresent(confidence, forKey: .confidence)
        try c.encode(remediation, forKey: .remediation)
    }

    /// The place without what a rebuild changes (layer index, history position): `file:/app/.env`, `config/env/KEY`,
    /// `history/KEY`. The sweep tracks a finding across runs by it, and SARIF fingerprints it.
    public var stablePlace: String {
        switch source {
        case .file: return "file:\(path ?? "")"
        case .history: return "history" + (key.map { "/\($0)" } ?? "")
        default: return location
        }
    }

    /// The place, for baselines: `layer-N/path` or `config/env/KEY`.
    public var location: String {
        switch source {
        case .file: return "layer-\(layerIndex ?? -1)\(path ?? "")"
        case .history: return "history/\(historyIndex ?? -1)" + (key.map { "/\($0)" } ?? "")
        default: return "config/\(source.rawValue)" + (key.map { "/\($0)" } ?? "")
        }
    }
}

extension PathContext {
    /// Caps `finding`'s severity by what its path says, and by its rule's `binaryCap` when the file is binary;
    /// test data, documentation and a comment line each lower its confidence one step.
    package static func apply(to finding: inout Finding, path: String, binary: Bool = false, rule: Rule? = nil, comment: Bool = false) {
        if binary, let cap = rule?.binaryCap { finding.severity = min(finding.severity, cap) }
        if comment { finding.confidence = (finding.confidence ?? .medium).lowered }
        guard let context = PathContext.of(path) else { return }
        finding.severity = context.cap(finding.severity, confidence: finding.confidence ?? .medium)
        if context == .testData { finding.confidence = (finding.confidence ?? .medium).lowered }
    }
}
