#if !STOWAWAY_FUZZING
import Core
#endif
import Foundation

/// Turns an `ImageSource` into images: walks indexes (nested ones too), chooses platforms, reads each
/// config and builds the layer list. Written once, so a layout, a docker save and a registry agree on
/// every rule:
///
/// - An index entry that is an attestation (BuildKit's `unknown/unknown`) is never an image.
/// - An entry that declares a platform the choice does not accept is skipped and listed in the error if
///   nothing else matches. Unless every platform was asked for, one index yields its first matching entry.
/// - An entry with no platform is walked, and the config's platform decides: a specific `--platform` that
///   it does not match skips it; the host default never does (a single-platform image is what it is).
/// - Indexes nest at most `maxDepth` deep; layers listed by the manifest must match the config's diff_ids.
public struct ImageResolver: Sendable {
    public var platform: PlatformChoice
    public static let maxDepth = 4
    /// Bounds on one walk, far above any real image (tags × platforms): an index naming one child many times
    /// at every level would otherwise multiply the documents read per level (1000 entries, 4 deep: 10^12).
    public static let maxEntries = 10_000
    public static let maxDocumentBytes = 512 << 20

    public init(platform: PlatformChoice = .host) {
        self.platform = platform
    }

    /// Every image of `source` the platform choice accepts; throws `OCIError` naming the source when none.
    public func images(of source: some ImageSource) async throws -> [Image] {
        var walk = Walk(resolver: self, source: source)
        for root in try await source.roots() {
            switch root.content {
            case .document(let data, let mediaType, let digest):
                try await walk.document(data, mediaType: mediaType, digest: digest, entry: nil, name: root.name, depth: 0)
            case .descriptor(let d):
                try await walk.entry(d, name: root.name, depth: 0)
            case .saved(let saved):
                let layers = saved.layers.map {
                    LayerInput(digest: $0.namedDigest, mediaType: nil, size: $0.size, blob: $0.blob, expectedSize: nil)
                }
                walk.add(try image(name: root.name, manifestDigest: nil, entryPlatform: nil, config: saved.config,
                                   configDigest: saved.configDigest, annotations: [:], layers: layers, source: source.displayName,
                                   parsed: &walk.configs, verifyDiffIDs: saved.verifiesDiffIDs))
            }
        }
        guard !walk.images.isEmpty else {
            let has = walk.skipped.isEmpty ? "" : " (has: \(walk.skipped.joined(separator: ", "))); use --platform"
            throw OCIError.noMatchingImage(source: source.displayName, reason: "no image for platform \(platform.label)\(has)")
        }
        return walk.images
    }

    /// The state of one resolution: images found and platforms passed over.
    private struct Walk<Source: ImageSource> {
        let resolver: ImageResolver
        let source: Source
        var images: [Image] = []
        var skipped: [String] = []
        var entries = 0
        var documentBytes = 0
        /// Configs parsed so far, by digest: images that share one (40 tags of one build) share its memory too.
        var configs: [Digest: ImageConfig] = [:]

        /// An index entry or layout root: skipped, or fetched and walked.
        mutating func entry(_ d: Descriptor, name: String, depth: Int) async throws {
            if d.isAttestation { return }
            if let p = d.platform, !resolver.platform.accepts(p) {
                skipped.append(p.description)
                return
            }
            entries += 1
            guard entries <= ImageResolver.maxEntries else {
                throw OCIError.unsupported(what: source.displayName, reason: "its indexes name more than \(ImageResolver.maxEntries) manifests")
            }
            let data = try counted(try await source.document(d, kind: .manifest))
            try await document(data, mediaType: d.mediaType, digest: d.digest, entry: d, name: name, depth: depth)
        }

        mutating func document(_ data: Data, mediaType: String?, digest: Digest?, entry: Descriptor?, name: String, depth: Int) async throws {
            guard depth <= ImageResolver.maxDepth else {
                throw OCIError.unsupported(what: source.displayName, reason: "indexes nested more than \(ImageResolver.maxDepth) deep")
            }
            let label = digest.map { " \($0.short)" } ?? ""
            if ImageResolver.isIndex(data, mediaType: mediaType) {
                let index = try decode(Index.self, data, what: "\(name) index\(label)")
                for child in index.manifests ?? [] {
                    let before = images.count
                    try await self.entry(child, name: name, depth: depth + 1)
                    // One image per multi-platform index, unless every platform was asked for.
                    if images.count > before, child.platform != nil, resolver.platform != .all { break }
                }
                return
            }
            let manifest = try decode(Manifest.self, data, what: "\(name) manifest\(label)")
            let config = configs[manifest.config.digest] != nil ? Data()
                : try counted(try await source.document(manifest.config, kind: .config))
            let layers = try manifest.layers.filter { !MediaType.isForeignLayer($0.mediaType) }.map { d in
                LayerInput(digest: d.digest, mediaType: d.mediaType, size: d.size, blob: try source.layerBlob(d), expectedSize: d.size)
            }
            add(try resolver.image(name: name, manifestDigest: digest, entryPlatform: entry?.platform, config: config,
                                   configDigest: manifest.config.digest, annotations: manifest.annotations ?? [:],
                                   layers: layers, source: source.displayName, parsed: &configs))
        }

        /// Counts a document towards the walk's bound on bytes read and decoded.
        mutating func counted(_ data: Data) throws -> Data {
            documentBytes += data.count
            guard documentBytes <= ImageResolver.maxDocumentBytes else {
                throw OCIError.unsupported(what: source.displayName,
                                           reason: "its manifests and configs add up to more than \(ImageResolver.maxDocumentBytes >> 20) MB")
            }
            return data
        }

        mutating func add(_ result: Result) {
            switch result {
            case .image(let i): images.append(i)
            case .skipped(let p): skipped.append(p)
            }
        }
    }

    /// A layer as a manifest or a save lists it, before its diffID is known.
    struct LayerInput {
        var digest: Digest?
        var mediaType: String?
        var size: Int64
        var blob: LayerBlob
        var expectedSize: Int64?
    }

    enum Result {
        case image(Image)
        case skipped(platform: String)
    }

    /// One image from its config and layers, or skipped when the config's platform is not the one asked for.
    func image(name: String, manifestDigest: Digest?, entryPlatform: Platform?, config configData: Data, configDigest: Digest,
               annotations: [String: String], layers: [LayerInput], source: String,
               parsed: inout [Digest: ImageConfig], verifyDiffIDs: Bool = true) throws -> Result {
        let config: ImageConfig
        if let known = parsed[configDigest] {
            config = known
        } else {
            config = try ImageConfig(data: configData, name: "\(name) config \(configDigest.short)")
            parsed[configDigest] = config
        }
        if entryPlatform == nil, case .specific = platform, let p = config.platform, !platform.accepts(p) {
            return .skipped(platform: p.description)
        }
        guard layers.count == config.diffIDs.count else {
            throw OCIError.notAnImage(path: source, reason: "\(manifestDigest.map { "manifest \($0.short)" } ?? "image \(name)") lists "
                                      + "\(layers.count) layers but its config has \(config.diffIDs.count) diff_ids")
        }
        let refs = layers.enumerated().map { i, l in
            LayerRef(index: i, digest: l.digest ?? config.diffIDs[i], diffID: config.diffIDs[i], mediaType: l.mediaType, size: l.size,
                     blob: l.blob, expectedBlobDigest: l.digest, expectedDiffID: verifyDiffIDs ? config.diffIDs[i] : nil,
                     expectedSize: l.expectedSize)
        }
        return .image(Image(reference: name, manifestDigest: manifestDigest, configDigest: configDigest,
                            platform: entryPlatform ?? config.platform, config: config, annotations: annotations, layers: refs))
    }

    /// Whether a document is an index: by its media type, or by its shape when the type says neither.
    static func isIndex(_ data: Data, mediaType: String?) -> Bool {
        let kind = mediaType ?? ""
        if MediaType.isIndex(kind) { return true }
        if MediaType.isManifest(kind) { return false }
        return (try? JSONSerialization.jsonObject(with: data)).flatMap { $0 as? [String: Any] }?["manifests"] != nil
    }
}

extension PlatformChoice {
    /// How errors name the choice.
    var label: String {
        switch self {
        case .all: return "all"
        case .host: return PlatformChoice.hostPlatform.description + " (this machine's)"
        case .specific(let p): return p.description
        }
    }
}
