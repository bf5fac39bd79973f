#if !STOWAWAY_FUZZING
import Core
#endif
import Foundation

/// An OCI content descriptor.
public struct Descriptor: Codable, Sendable, Equatable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var annotations: [String: String]?
    public var platform: Platform?
    public var urls: [String]?

    public init(mediaType: String, digest: Digest, size: Int64, annotations: [String: String]? = nil, platform: Platform? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
        self.platform = platform
    }
}

extension Descriptor {
    /// An index entry that is not an image to scan: BuildKit's attestation manifests (platform unknown/unknown).
    public var isAttestation: Bool {
        annotations?[AnnotationKey.referenceType] == "attestation-manifest" || platform?.os == "unknown"
    }
}

/// The platform of an index entry or a config.
public struct Platform: Codable, Sendable, Equatable, CustomStringConvertible {
    public var architecture: String
    public var os: String
    public var variant: String?

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    public var description: String {
        [os, architecture, variant].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "/")
    }
}

/// An image manifest (OCI or Docker schema 2).
public struct Manifest: Codable, Sendable {
    public var schemaVersion: Int?
    public var mediaType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var annotations: [String: String]?
}

/// An image index or Docker manifest list.
public struct Index: Codable, Sendable {
    public var schemaVersion: Int?
    public var mediaType: String?
    public var manifests: [Descriptor]?
    public var annotations: [String: String]?
}

/// The parts of an image config the scanner reasons about; the raw JSON is kept for the rest.
public struct ImageConfig: Sendable {
    public struct History: Codable, Sendable {
        public var created: String?
        public var created_by: String?
        public var comment: String?
        public var empty_layer: Bool?
    }

    public struct Container: Codable, Sendable {
        public var Env: [String]?
        public var Labels: [String: String]?
        public var Cmd: [String]?
        public var Entrypoint: [String]?
        public var Healthcheck: Healthcheck?

        public init(Env: [String]? = nil, Labels: [String: String]? = nil, Cmd: [String]? = nil, Entrypoint: [String]? = nil,
                    Healthcheck: Healthcheck? = nil) {
            self.Env = Env
            self.Labels = Labels
            self.Cmd = Cmd
            self.Entrypoint = Entrypoint
            self.Healthcheck = Healthcheck
        }
    }

    public struct Healthcheck: Codable, Sendable {
        public var Test: [String]?

        public init(_ test: [String]?) { Test = test }
    }

    struct RootFS: Codable, Sendable {
        var type: String?
        var diff_ids: [Digest]?
    }

    struct Shape: Codable, Sendable {
        var architecture: String?
        var os: String?
        var variant: String?
        var config: Container?
        var rootfs: RootFS?
        var history: [History]?
    }

    public var platform: Platform?
    public var container: Container
    public var diffIDs: [Digest]
    public var history: [History]
    /// The config exactly as stored, for scanning the fields not modelled above.
    public var raw: Data

    /// Decodes a config blob; `name` names it in errors.
    public init(data: Data, name: String) throws {
        let shape: Shape
        do {
            shape = try JSONDecoder().decode(Shape.self, from: data)
        } catch {
            throw OCIError.invalidJSON(what: name, reason: describe(error))
        }
        guard let rootfs = shape.rootfs, let ids = rootfs.diff_ids else {
            throw OCIError.notAnImage(path: name, reason: "image config has no rootfs.diff_ids")
        }
        if let os = shape.os, let arch = shape.architecture {
            platform = Platform(os: os, architecture: arch, variant: shape.variant)
        }
        container = shape.config ?? Container()
        diffIDs = ids
        history = shape.history ?? []
        raw = data
    }

    /// For each layer index, the index of the history entry that made it (nil when history does not say).
    public var historyIndexForLayer: [Int?] {
        var result: [Int?] = []
        for (i, h) in history.enumerated() where h.empty_layer != true {
            result.append(i)
        }
        if result.count != diffIDs.count {
            // Squashed or hand-made images: history no longer lines up with layers. Align from the
            // top if there are more non-empty entries, otherwise leave the unexplained layers unnamed.
            if result.count > diffIDs.count {
                return Array(result.suffix(diffIDs.count))
            }
            return Array(repeating: nil, count: diffIDs.count - result.count) + result
        }
        return result
    }
}

/// A short description of a decoding error, without the decoder's nested noise.
public func describe(_ error: Error) -> String {
    switch error {
    case DecodingError.dataCorrupted(let c):
        return (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String ?? c.debugDescription
    case DecodingError.keyNotFound(let key, let c):
        return "missing \"\(key.stringValue)\"" + path(c)
    case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
        return c.debugDescription + path(c)
    default:
        return "\(error)"
    }
}

private func path(_ c: DecodingError.Context) -> String {
    c.codingPath.isEmpty ? "" : " at " + c.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
}
