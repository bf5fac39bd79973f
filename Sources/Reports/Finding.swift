import Core
import Forensics
import OCI
import Secrets

/// Where a finding was seen, as the JSON report's `source` names it.
public enum FindingSource: String, Codable, Sendable {
    case file, env, label, history, cmd, entrypoint, healthcheck, annotation, config
}

/// Whether a file finding is still in the final filesystem.
public enum FileStatus: String, Codable, Sendable {
    case present, deleted, overwritten
}

/// One secret at one place, as the JSON report contract spells it.
public struct Finding: Sendable, Equatable {
    public var ruleID: String
    public var severity: Severity
    public var description: String
    /// Where the secret is: a file of a layer, a field of the image config, a history entry or an annotation,
    /// each with only what that kind of place has. The flat members below (`path`, `layerIndex`, `key`, ...) read
    /// and write it.
    public var place: Place
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
    /// What to do about it: where the secret is revoked and how to take it out of the image. nil only in reports
    /// of versions before it (a baseline) and before the report is assembled.
    public var remediation: Remediation? = nil

    /// A finding at `place`, as the scanner and the sweep's store assemble one.
    package init(ruleID: String, severity: Severity, description: String, place: Place, secretSHA256: String, redacted: String,
                 secret: String?, details: FindingDetails? = nil, confidence: Confidence? = nil) {
        self.ruleID = ruleID
        self.severity = severity
        self.description = description
        self.place = place
        self.secretSHA256 = secretSHA256
        self.redacted = redacted
        self.secret = secret
        self.details = details
        self.confidence = confidence
    }
}

extension Finding {
    /// A place a secret can be found at. `identity` names it across runs and rebuilds (baselines, the sweep's
    /// ledger, SARIF fingerprints); `location` names it for people.
    public enum Place: Sendable, Equatable {
        /// A file of a layer's filesystem, or a member of an archive that is one.
        case file(File)
        /// A field of the image config: an environment variable or label (`key` is its name), the command,
        /// entrypoint or health check, or any other string of the config (`key` is its JSON path).
        case config(ConfigField, key: String?)
        /// An entry of the config's history (`index`), with the build argument that holds the secret, if one does.
        case history(index: Int, key: String?)
        /// An annotation of the manifest or index.
        case annotation(key: String?)

        /// A file of a layer and what became of it.
        public struct File: Sendable, Equatable {
            /// Absolute and normalised (`/app/.env`); for a member of an archive, the chain (`/app/lib.jar!/x.properties`).
            public var path: String
            public var layerIndex: Int?
            public var layerDigest: String?
            /// The history entry that made the layer.
            public var historyIndex: Int?
            /// 1-based.
            public var line: Int?
            /// The name the secret is under in the file (a variable, a JSON key), when the rule reads one.
            public var key: String?
            /// For a member of an archive: the file of the layer that holds it (not in the JSON, whose `path` names
            /// the whole chain); the text report groups members under it.
            public var outerPath: String?
            public var status: FileStatus?
            /// The layer that deleted or replaced it.
            public var removedInLayer: Int?

            public init(path: String, layerIndex: Int? = nil, layerDigest: String? = nil, historyIndex: Int? = nil, line: Int? = nil,
                        key: String? = nil, outerPath: String? = nil, status: FileStatus? = nil, removedInLayer: Int? = nil) {
                self.path = path
                self.layerIndex = layerIndex
                self.layerDigest = layerDigest
                self.historyIndex = historyIndex
                self.line = line
                self.key = key
                self.outerPath = outerPath
                self.status = status
                self.removedInLayer = removedInLayer
            }
        }

        /// The fields of the image config a finding can be in; the raw values are the report's `source`.
        public enum ConfigField: String, Sendable, CaseIterable {
            case env, label, cmd, entrypoint, healthcheck
            /// Any other string of the config (`source: config`).
            case other = "config"
        }

        /// The report's `source` for this place.
        public var source: FindingSource {
            switch self {
            case .file: return .file
            case .config(let field, _): return FindingSource(rawValue: field.rawValue) ?? .config
            case .history: return .history
            case .annotation: return .annotation
            }
        }

        /// The place without what a rebuild changes (layer index, history position): `file:/app/.env`,
        /// `config/env/KEY`, `config/annotation/KEY`, `history/KEY` (`history` for an entry without a build argument).
        /// Baselines match on it, the sweep's ledger keys its rows by it and SARIF fingerprints hash it, so it never
        /// changes: a stored identity that did would make an old finding new again.
        public var identity: String {
            switch self {
            case .file(let file): return "file:\(file.path)"
            case .history(_, let key): return "history" + (key.map { "/\($0)" } ?? "")
            case .config, .annotation: return location
            }
        }

        /// The place for people and for ignore-file globs: `layer-N/path`, `history/N/KEY`, `config/env/KEY`.
        public var location: String {
            switch self {
            case .file(let file): return "layer-\(file.layerIndex ?? -1)\(file.path)"
            case .history(let index, let key): return "history/\(index)" + (key.map { "/\($0)" } ?? "")
            case .config(let field, let key): return "config/\(field.rawValue)" + (key.map { "/\($0)" } ?? "")
            case .annotation(let key): return "config/annotation" + (key.map { "/\($0)" } ?? "")
            }
        }

        /// The file, for a file finding.
        public var file: File? {
            if case .file(let f) = self { return f }
            return nil
        }

        /// The variable, label, annotation, build argument or JSON path the secret is under.
        public var key: String? {
            get {
                switch self {
                case .file(let f): return f.key
                case .config(_, let key), .history(_, let key), .annotation(let key): return key
                }
            }
            set {
                switch self {
                case .file(var f):
                    f.key = newValue
                    self = .file(f)
                case .config(let field, _): self = .config(field, key: newValue)
                case .history(let index, _): self = .history(index: index, key: newValue)
                case .annotation: self = .annotation(key: newValue)
                }
            }
        }
    }
}

// The flat members the report contract has, over `place`. A setter of a member the place does not have (a path
// on a config finding) changes nothing.
extension Finding {
    public var source: FindingSource { place.source }

    /// The place without what a rebuild changes (`Place.identity`).
    public var stablePlace: String { place.identity }

    /// The place, for people: `layer-N/path`, `history/N/KEY`, `config/env/KEY` (`Place.location`).
    public var location: String { place.location }

    public var key: String? {
        get { place.key }
        set { place.key = newValue }
    }

    /// The layer's history entry for a file, the entry itself for a history finding.
    public var historyIndex: Int? {
        get {
            switch place {
            case .file(let f): return f.historyIndex
            case .history(let index, _): return index
            case .config, .annotation: return nil
            }
        }
        set {
            switch place {
            case .file(var f):
                f.historyIndex = newValue
                place = .file(f)
            case .history(_, let key):
                if let newValue { place = .history(index: newValue, key: key) }
            case .config, .annotation: break
            }
        }
    }

    public var path: String? {
        get { place.file?.path }
        set { if let newValue { file { $0.path = newValue } } }
    }

    public var layerIndex: Int? {
        get { place.file?.layerIndex }
        set { file { $0.layerIndex = newValue } }
    }

    public var layerDigest: String? {
        get { place.file?.layerDigest }
        set { file { $0.layerDigest = newValue } }
    }

    public var line: Int? {
        get { place.file?.line }
        set { file { $0.line = newValue } }
    }

    public var outerPath: String? {
        get { place.file?.outerPath }
        set { file { $0.outerPath = newValue } }
    }

    public var status: FileStatus? {
        get { place.file?.status }
        set { file { $0.status = newValue } }
    }

    public var removedInLayer: Int? {
        get { place.file?.removedInLayer }
        set { file { $0.removedInLayer = newValue } }
    }

    private mutating func file(_ change: (inout Place.File) -> Void) {
        guard case .file(var f) = place else { return }
        change(&f)
        place = .file(f)
    }
}

/// The JSON report's shape of a finding: every member of every kind of place side by side, absent ones as null
/// (`details`, `confidence` and `acceptance` are left out instead). This is the one mapping between the contract
/// and `Finding`; a sweep's rows and a baseline are read through it too.
extension Finding: Codable {
    private struct Flat: Codable {
        var ruleID: String
        var severity: Severity
        var description: String
        var source: FindingSource
        @Nullable var layerIndex: Int?
        @Nullable var layerDigest: String?
        @Nullable var historyIndex: Int?
        @Nullable var path: String?
        @Nullable var line: Int?
        @Nullable var key: String?
        @Nullable var status: FileStatus?
        @Nullable var removedInLayer: Int?
        var secretSHA256: String
        var redacted: String
        @Nullable var secret: String?
        var details: FindingDetails?
        var confidence: Confidence?
        @Nullable var remediation: Remediation?
    }

    // `acceptance` is written beside the contract's keys only when there is one (a report without triage is
    // unchanged), and never read back: it is one run's verdict, and a report read again (a baseline, a sweep's
    // row) is judged again.
    private enum AcceptanceKey: String, CodingKey { case acceptance }

    public init(from decoder: Decoder) throws {
        let flat = try Flat(from: decoder)
        switch flat.source {
        case .file:
            guard let path = flat.path else {
                throw DecodingError.valueNotFound(String.self, .init(codingPath: decoder.codingPath, debugDescription: "a file finding without a path"))
            }
            place = .file(Place.File(path: path, layerIndex: flat.layerIndex, layerDigest: flat.layerDigest, historyIndex: flat.historyIndex,
                                     line: flat.line, key: flat.key, status: flat.status, removedInLayer: flat.removedInLayer))
        case .history:
            guard let index = flat.historyIndex else {
                throw DecodingError.valueNotFound(Int.self, .init(codingPath: decoder.codingPath, debugDescription: "a history finding without a historyIndex"))
            }
            place = .history(index: index, key: flat.key)
        case .annotation:
            place = .annotation(key: flat.key)
        case .env, .label, .cmd, .entrypoint, .healthcheck, .config:
            place = .config(Place.ConfigField(rawValue: flat.source.rawValue) ?? .other, key: flat.key)
        }
        ruleID = flat.ruleID
        severity = flat.severity
        description = flat.description
        secretSHA256 = flat.secretSHA256
        redacted = flat.redacted
        secret = flat.secret
        details = flat.details
        confidence = flat.confidence
        remediation = flat.remediation
    }

    public func encode(to encoder: Encoder) throws {
        try Flat(ruleID: ruleID, severity: severity, description: description, source: source, layerIndex: layerIndex,
                 layerDigest: layerDigest, historyIndex: historyIndex, path: path, line: line, key: key, status: status,
                 removedInLayer: removedInLayer, secretSHA256: secretSHA256, redacted: redacted, secret: secret, details: details,
                 confidence: confidence, remediation: remediation).encode(to: encoder)
        if let acceptance {
            var c = encoder.container(keyedBy: AcceptanceKey.self)
            try c.encode(acceptance, forKey: .acceptance)
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

extension Finding {
    /// Whether this finding is reported at `--confidence threshold`: one without a confidence (from a report or a
    /// store written before confidences existed) always is. The one test `scan` and the sweep apply.
    public func isReported(atConfidence threshold: Confidence) -> Bool {
        (confidence ?? threshold) >= threshold
    }
}
