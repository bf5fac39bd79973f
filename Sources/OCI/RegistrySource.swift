import Foundation

/// Resolves a registry reference into images: the manifest or index, platform choice, configs, layer blobs.
public enum RegistrySource {
    /// Loads the images `ref` names for `platform`; throws `OCIError` naming the registry and what failed.
    public static func load(_ ref: Reference, input: String, platform: PlatformChoice, client: RegistryClient) async throws -> [Image] {
        let (data, mediaType, digest) = try await client.manifest(ref, reference: ref.manifestReference)
        let kind = mediaType ?? ""
        if MediaType.isIndex(kind) || (!MediaType.isManifest(kind) && shapeIsIndex(data)) {
            let index = try decode(Index.self, data, what: "\(ref) index")
            var images: [Image] = []
            var available: [String] = []
            for entry in index.manifests ?? [] {
                guard !entry.isAttestation, let p = entry.platform else { continue }
                available.append(p.description)
                guard platform.accepts(p) else { continue }
                let (m, _, d) = try await client.manifest(ref, reference: entry.digest.description)
                images.append(try await image(ref, input: input, manifestData: m, digest: d, platform: p, client: client))
                if case .all = platform { continue }
                break
            }
            guard !images.isEmpty else {
                throw OCIError.noMatchingImage(source: input,
                    reason: "no image for platform \(platform.label) (has: \(available.joined(separator: ", "))); use --platform")
            }
            return images
        }
        return [try await image(ref, input: input, manifestData: data, digest: digest, platform: nil, client: client)]
    }

    private static func shapeIsIndex(_ data: Data) -> Bool {
        (try? JSONSerialization.jsonObject(with: data)).flatMap { $0 as? [String: Any] }?["manifests"] != nil
    }

    private static func image(_ ref: Reference, input: String, manifestData: Data, digest: Digest, platform: Platform?,
                              client: RegistryClient) async throws -> Image {
        let manifest = try decode(Manifest.self, manifestData, what: "\(ref) manifest \(digest.short)")
        let configData = try await client.smallBlob(ref, manifest.config)
        let config = try ImageConfig(data: configData, name: "\(ref) config \(manifest.config.digest.short)")
        let content = manifest.layers.filter { !MediaType.isForeignLayer($0.mediaType) }
        guard content.count == config.diffIDs.count else {
            throw OCIError.notAnImage(path: input,
                reason: "manifest \(digest.short) has \(content.count) layers but its config has \(config.diffIDs.count) diff_ids")
        }
        let layers = content.enumerated().map { i, d in
            LayerRef(index: i, digest: d.digest, diffID: config.diffIDs[i], mediaType: d.mediaType, size: d.size,
                     blob: .remote(RemoteBlob(client: client, reference: ref, descriptor: d)),
                     expectedBlobDigest: d.digest, expectedDiffID: config.diffIDs[i], expectedSize: d.size)
        }
        return Image(reference: input, manifestDigest: digest, configDigest: manifest.config.digest,
                     platform: platform ?? config.platform, config: config, annotations: manifest.annotations ?? [:], layers: layers)
    }
}

extension PlatformChoice {
    var label: String {
        switch self {
        case .all: return "all"
        case .host: return PlatformChoice.hostPlatform.description + " (this machine's)"
        case .specific(let p): return p.description
        }
    }
}
