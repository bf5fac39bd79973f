#if !STOWAWAY_FUZZING
import Core
#endif
import Foundation

/// A `docker save` tarball: the legacy layout (`<id>/layer.tar`) and Docker 25+ (`blobs/sha256/<diffID>`).
/// Its `manifest.json` names each image's config and layers by path; Docker 25+ saves are also a blob store.
struct DockerArchive: ImageSource {
    let tree: FileTree
    /// The name every image is reported under when the user named one (an engine's image), else each
    /// image's first tag.
    var name: String?

    init(tree: FileTree, name: String? = nil) {
        self.tree = tree
        self.name = name
    }

    var displayName: String { tree.displayName }

    private struct Item: Decodable {
        var Config: String
        var RepoTags: [String]?
        var Layers: [String]
    }

    func roots() async throws -> [ImageRoot] {
        let items = try decode([Item].self, try tree.read("manifest.json"), what: "\(tree.displayName)!manifest.json")
        guard !items.isEmpty else {
            throw OCIError.notAnImage(path: tree.displayName, reason: "manifest.json lists no image")
        }
        // The same bounds as an index walk: manifest.json can name one large config for a million images.
        guard items.count <= ImageResolver.maxEntries else {
            throw OCIError.unsupported(what: tree.displayName, reason: "manifest.json lists more than \(ImageResolver.maxEntries) images")
        }
        var configBytes = 0
        // Images naming the same config file share one read of it (and, in the resolver, one parse).
        var configs: [String: (data: Data, digest: Digest)] = [:]
        return try items.map { item in
            let known = configs[item.Config]
            let saved = try saved(item, config: known)
            if known == nil {
                configs[item.Config] = (saved.config, saved.configDigest)
                configBytes += saved.config.count
            }
            guard configBytes <= ImageResolver.maxDocumentBytes else {
                throw OCIError.unsupported(what: tree.displayName,
                                           reason: "the configs manifest.json names add up to more than \(ImageResolver.maxDocumentBytes >> 20) MB")
            }
            return ImageRoot(.saved(saved), name: name ?? item.RepoTags?.first ?? tree.displayName)
        }
    }

    private func saved(_ item: Item, config known: (data: Data, digest: Digest)?) throws -> SavedImage {
        let configData = try known?.data ?? tree.read(item.Config, what: "config \(item.Config)")
        let configDigest = known?.digest ?? Digest.sha256(of: configData)
        if known == nil, let named = Self.digestNamed(by: item.Config), named != configDigest {
            throw OCIError.digestMismatch(blob: "\(tree.displayName)!\(item.Config)", expected: named.description,
                                          actual: configDigest.description)
        }
        let layers = try item.Layers.map { name in
            guard let layer = try tree.layer(name) else {
                throw OCIError.missingBlob(image: tree.displayName, name: "layer \(name) (listed in manifest.json)")
            }
            return SavedImage.Layer(blob: layer.blob, namedDigest: Self.digestNamed(by: name), size: layer.length)
        }
        return SavedImage(config: configData, configDigest: configDigest, layers: layers)
    }

    func document(_ d: Descriptor, kind: DocumentKind) async throws -> Data {
        try tree.blob(d, what: kind.rawValue)
    }

    func layerBlob(_ d: Descriptor) throws -> LayerBlob {
        .file(try tree.blobSlice(d, what: "layer"))
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
