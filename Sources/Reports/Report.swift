import Core
import OCI
import Secrets

/// The JSON report (`schemaVersion` 1), exactly as DESIGN.md's contract.
public struct Report: Codable, Sendable {
    public struct Tool: Codable, Sendable {
        public var name = "stowaway"
        public var version = Stowaway.version
        public var rulesetFingerprint: String

        package init(rulesetFingerprint: String) {
            self.rulesetFingerprint = rulesetFingerprint
        }
    }

    public struct LayerInfo: Codable, Sendable {
        public var index: Int
        @Nullable public var digest: String?
        @Nullable public var diffID: String?
        public var size: Int64
        @Nullable public var createdBy: String?

        package init(index: Int, digest: String?, diffID: String?, size: Int64, createdBy: String?) {
            self.index = index
            self.digest = digest
            self.diffID = diffID
            self.size = size
            self.createdBy = createdBy
        }
    }

    /// Something that could not be read; any makes the scan incomplete (exit 2).
    public struct ScanError: Codable, Sendable, Equatable {
        @Nullable public var layerIndex: Int?
        public var message: String

        /// What could not be read: in layer `layerIndex`, or (nil) the image itself.
        public init(layerIndex: Int?, message: String) {
            self.layerIndex = layerIndex
            self.message = message
        }
    }

    /// Something the scan did not do in full that leaves it complete: an archive inside a layer that could not be
    /// read (`archive-unreadable`), or a limit of the archive walk reached (`archive-limit`). Never changes the exit code.
    public struct Warning: Codable, Sendable, Equatable {
        @Nullable public var layerIndex: Int?
        public var kind: String
        /// The archive's chain path.
        @Nullable public var path: String?
        public var message: String

        /// The kind of a `dir:PATH` build file's note: a build argument named like a secret.
        public static let buildSecretArg = "build-secret-arg"

        public init(layerIndex: Int?, kind: String, path: String?, message: String) {
            self.layerIndex = layerIndex
            self.kind = kind
            self.path = path
            self.message = message
        }
    }

    public struct ImageReport: Codable, Sendable {
        public var reference: String
        @Nullable public var manifestDigest: String?
        @Nullable public var configDigest: String?
        @Nullable public var platform: String?
        public var layers: [LayerInfo]
        public var findings: [Finding]
        public var errors: [ScanError]
        /// File findings dropped by the path allowlist.
        public var suppressed = 0
        /// Findings dropped because the baseline or the ignore file already lists them.
        public var baselined = 0
        /// Findings left out by the caps (per file, per image): the most severe are reported, these only counted.
        public var truncated = 0
        /// With `--show-suppressed`: the findings counted in `baselined`, each with its `acceptance` (JSON key
        /// `accepted`, absent otherwise).
        @OmitIfEmpty public var accepted: [Finding] = []
        /// Archives in layers that could not be read, and limits the archive walk reached.
        public var warnings: [Warning] = []

        enum CodingKeys: String, CodingKey {
            case reference, manifestDigest, configDigest, platform, layers, findings, errors, suppressed, baselined, truncated, warnings
            case accepted
        }

        /// An image's report; the counts default to none.
        public init(reference: String, manifestDigest: String?, configDigest: String?, platform: String?, layers: [LayerInfo],
                    findings: [Finding], errors: [ScanError], suppressed: Int = 0, baselined: Int = 0, truncated: Int = 0,
                    warnings: [Warning] = []) {
            self.reference = reference
            self.manifestDigest = manifestDigest
            self.configDigest = configDigest
            self.platform = platform
            self.layers = layers
            self.findings = findings
            self.errors = errors
            self.suppressed = suppressed
            self.baselined = baselined
            self.truncated = truncated
            self.warnings = warnings
        }

        /// Reads a report written by this or an earlier version (counts it lacks are zero).
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            reference = try c.decode(String.self, forKey: .reference)
            manifestDigest = try c.decodeIfPresent(String.self, forKey: .manifestDigest)
            configDigest = try c.decodeIfPresent(String.self, forKey: .configDigest)
            platform = try c.decodeIfPresent(String.self, forKey: .platform)
            layers = try c.decode([LayerInfo].self, forKey: .layers)
            findings = try c.decode([Finding].self, forKey: .findings)
            errors = try c.decode([ScanError].self, forKey: .errors)
            suppressed = try c.decodeIfPresent(Int.self, forKey: .suppressed) ?? 0
            baselined = try c.decodeIfPresent(Int.self, forKey: .baselined) ?? 0
            truncated = try c.decodeIfPresent(Int.self, forKey: .truncated) ?? 0
            warnings = try c.decodeIfPresent([Warning].self, forKey: .warnings) ?? []
            accepted = try c.decodeIfPresent([Finding].self, forKey: .accepted) ?? []
        }
    }

    public struct Summary: Codable, Sendable {
        public var critical = 0, high = 0, medium = 0, low = 0
        public var layers = 0, files = 0
        /// Findings in allowlisted paths (known public test material), not reported.
        public var suppressed = 0
        /// Findings already in the baseline or the ignore file, not reported.
        public var baselined = 0
        /// Findings beyond the caps (per file, per image): counted, not reported. The most severe are reported.
        public var truncated = 0
        /// Limits of the archive walk reached (each is also a warning naming the archive): what they stopped was not scanned.
        public var archiveLimits = 0
        /// Findings of severities `--severity` left out of the report: counted, not reported.
        public var filtered = 0
        /// Findings less sure than `--confidence` asks for: counted, not reported (`--confidence low` shows them).
        public var belowConfidence = 0
        public var bytes: Int64 = 0
        public var seconds = 0.0

        package init() {}

        /// Counts `findings` in the severity counts; `by: -1` takes them out. The one tally of the report.
        package mutating func count<S: Sequence>(_ findings: S, by step: Int = 1) where S.Element == Finding {
            for f in findings {
                switch f.severity {
                case .critical: critical += step
                case .high: high += step
                case .medium: medium += step
                case .low: low += step
                }
            }
        }
    }

    public var schemaVersion = 1
    public var tool: Tool
    public var images: [ImageReport]
    public var summary: Summary

    package init(tool: Tool, images: [ImageReport], summary: Summary) {
        self.tool = tool
        self.images = images
        self.summary = summary
    }

    /// Whether anything could not be read.
    public var isIncomplete: Bool { images.contains { !$0.errors.isEmpty } }

    /// Only the findings of `levels`; the others are counted in `summary.filtered` and out of the severity counts.
    public func keeping(_ levels: Set<Severity>) -> Report {
        var r = self
        for i in r.images.indices {
            let before = r.images[i].findings.count
            r.images[i].findings.removeAll { !levels.contains($0.severity) }
            r.summary.filtered += before - r.images[i].findings.count
        }
        if !levels.contains(.critical) { r.summary.critical = 0 }
        if !levels.contains(.high) { r.summary.high = 0 }
        if !levels.contains(.medium) { r.summary.medium = 0 }
        if !levels.contains(.low) { r.summary.low = 0 }
        return r
    }

    /// Only the findings at least as sure as `threshold` (a finding without a confidence, from an older report, is
    /// kept); the others are counted in `summary.belowConfidence` and out of the severity counts.
    public func keeping(confidence threshold: Confidence) -> Report {
        var r = self
        for i in r.images.indices {
            let below = r.images[i].findings.filter { !$0.isReported(atConfidence: threshold) }
            r.summary.belowConfidence += below.count
            r.summary.count(below, by: -1)
            r.images[i].findings.removeAll { !$0.isReported(atConfidence: threshold) }
        }
        return r
    }

    /// Findings at or above `threshold`.
    public func count(atLeast threshold: Severity) -> Int {
        images.reduce(0) { $0 + $1.findings.filter { $0.severity >= threshold }.count }
    }
}

/// Version and names shared by every output.
public enum Stowaway {
    public static let version = "0.1.0"
}

extension Report {
    /// A report assembled from findings kept elsewhere (a sweep's store), for the formats that render a
    /// `Report` (SARIF); the summary counts the findings by severity.
    public init(rulesetFingerprint: String, images: [ImageReport]) {
        var summary = Summary()
        summary.count(images.flatMap(\.findings))
        self.init(tool: Tool(rulesetFingerprint: rulesetFingerprint), images: images, summary: summary)
    }
}

extension Report.ImageReport {
    /// An image's entry from its findings and errors alone (no layer table).
    public init(reference: String, manifestDigest: String?, findings: [Finding], errors: [Report.ScanError]) {
        self.init(reference: reference, manifestDigest: manifestDigest, configDigest: nil, platform: nil, layers: [],
                  findings: findings, errors: errors)
    }
}

extension Report.ScanError {
    /// Something that could not be read, at a layer or (nil) elsewhere.
    public init(message: String, layerIndex: Int? = nil) {
        self.init(layerIndex: layerIndex, message: message)
    }
}
