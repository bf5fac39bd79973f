import Foundation

/// A `docker save` tarball: the legacy layout (`<id>/layer.tar`) and Docker 25+ (`blobs/sha256/<diffID>`).
struct DockerArchive {
    let tree: FileTree

    private struct Item: Decodable {
        var Config: String
        var RepoTags: [String]?
        var Layers: [String]
    }

    func images() throws -> [Image] {
        let items = try decode([Item].self, try tree.read("manifest.json"), what: "\(tree.displayName)!manifest.json")
        guard !items.isEmpty else {
            throw OCIError.notAnImage(path: tree.displayName, reason: "manifest.json lists no image")
        }
        return try items.map(image)
    }

    private func image(_ item: Item) throws -> Image {
        let configName = "\(tree.displayName)!\(item.Config)"
        let configData = try tree.read(item.Config, what: "config \(item.Config)")
        let configDigest = Digest.sha256(of: configData)
        if let named = Self.digestNamed(by: item.Config), named != configDigest {
            throw OCIError.digestMismatch(blob: configName, expected: named.description, actual: configDigest.description)
        }
        let config = try ImageConfig(data: configData, name: configName)
        guard config.diffIDs.count == item.Layers.count else {
            throw OCIError.notAnImage(path: tree.displayName,
                reason: "manifest.json lists \(item.Layers.count) layers but the config has \(config.diffIDs.count) diff_ids")
        }
        var layers: [LayerRef] = []
        for (i, name) in item.Layers.enumerated() {
            guard let slice = try tree.slice(name) else {
                throw OCIError.missingBlob(image: tree.displayName, name: "layer \(name) (listed in manifest.json)")
            }
            let diffID = config.diffIDs[i]
            // Docker 25+ names each blob by its digest: check it; the legacy layout names layers by chain id.
            let blobDigest = Self.digestNamed(by: name)
            layers.append(LayerRef(index: i, digest: blobDigest ?? diffID, diffID: diffID, mediaType: nil, size: slice.length,
                                   blob: .file(slice), expectedBlobDigest: blobDigest, expectedDiffID: diffID, expectedSize: nil))
        }
        return Image(reference: item.RepoTags?.first.map(printable) ?? tree.displayName, manifestDigest: nil, configDigest: configDigest,
                     platform: config.platform, config: config, annotations: [:], layers: layers)
    }

    /// `blobs/sha256/<hex>` or `<hex>.json` names carry a digest.
    static func digestNamed(by path: String) -> Digest? {
        let parts = path.split(separator: "/")
        if parts.count >= 3, parts[parts.count - 3] == "blobs" {
            return try? Digest("\(parts[parts.count - 2]):\(parts[parts.count - 1])")
        }
        if parts.count == 1, path.hasSuffix(".json") {
            return try? Digest("sha256:" + path.dropLast(5))
        }
        return nil
    }
}
