import Foundation

/// An OCI image layout, as a directory or a tar: `oci-layout`, `index.json`, `blobs/<alg>/<hex>`.
struct OCILayout {
    let tree: FileTree
    let tag: String?
    let platform: PlatformChoice

    func images() throws -> [Image] {
        if let layoutData = try tree.slice("oci-layout")?.readAll() {
            struct Header: Decodable { var imageLayoutVersion: String }
            _ = try decode(Header.self, layoutData, what: "\(tree.displayName)/oci-layout")
        }
        let index = try decode(Index.self, try tree.read("index.json"), what: "\(tree.displayName)/index.json")
        var entries = index.manifests ?? []
        if let tag {
            entries = entries.filter { $0.annotations?[AnnotationKey.refName] == tag
                || $0.annotations?[AnnotationKey.containerdName]?.hasSuffix(":" + tag) == true }
            guard !entries.isEmpty else {
                throw OCIError.noMatchingImage(source: tree.displayName, reason: "no image tagged \"\(tag)\" in index.json")
            }
        }
        guard !entries.isEmpty else { throw OCIError.notAnImage(path: tree.displayName, reason: "index.json lists no manifest") }
        var walk = Walk()
        for entry in entries {
            let name = entry.annotations?[AnnotationKey.refName].map(printable) ?? tree.displayName
            try collect(entry, name: name, into: &walk, depth: 0)
        }
        let images = walk.images
        let skippedPlatforms = walk.skipped
        if images.isEmpty {
            throw OCIError.noMatchingImage(source: tree.displayName,
                reason: "no image for the requested platform (has: \(skippedPlatforms.joined(separator: ", "))); use --platform")
        }
        return images
    }

    /// What the walk of the index tree has found so far.
    private struct Walk {
        var images: [Image] = []
        var skipped: [String] = []
        /// Each manifest or index blob is read and parsed once: an index may name one child many times, or
        /// nest one index under itself at every level, which would otherwise multiply the work per level.
        var parsed: [Digest: Node] = [:]
        var visits = 0
    }

    private enum Node {
        case index([Descriptor])
        case image(Image)
    }

    /// Far more index entries than any real layout has (tags × platforms); bounds the walk.
    static let maxVisits = 10_000

    private func collect(_ d: Descriptor, name: String, into walk: inout Walk, depth: Int) throws {
        guard depth < 4 else { throw OCIError.unsupported(what: tree.displayName, reason: "indexes nested too deep") }
        if d.isAttestation { return }
        if let p = d.platform, !platform.accepts(p) {
            walk.skipped.append(p.description)
            return
        }
        walk.visits += 1
        guard walk.visits <= Self.maxVisits else {
            throw OCIError.unsupported(what: tree.displayName, reason: "the index tree names more than \(Self.maxVisits) manifests")
        }
        let node: Node
        if let known = walk.parsed[d.digest] { node = known } else {
            node = try parse(d)
            walk.parsed[d.digest] = node
        }
        switch node {
        case .index(let children):
            for child in children {
                try collect(child, name: name, into: &walk, depth: depth + 1)
            }
        case .image(var image):
            if d.platform == nil, let p = image.config.platform, !platform.accepts(p), platform != .host {
                walk.skipped.append(p.description)
                return
            }
            image.reference = name
            image.platform = d.platform ?? image.config.platform
            walk.images.append(image)
        }
    }

    /// Reads and checks one manifest or index blob (and a manifest's config and layer blobs).
    private func parse(_ d: Descriptor) throws -> Node {
        let data = try blob(d, what: "manifest")
        if MediaType.isIndex(d.mediaType) || (d.mediaType != MediaType.ociManifest && d.mediaType != MediaType.dockerManifest && looksLikeIndex(data)) {
            return .index(try decode(Index.self, data, what: "index \(d.digest)").manifests ?? [])
        }
        let manifest = try decode(Manifest.self, data, what: "manifest \(d.digest)")
        let configData = try blob(manifest.config, what: "config")
        let config = try ImageConfig(data: configData, name: "config \(manifest.config.digest)")
        let content = manifest.layers.filter { !MediaType.isForeignLayer($0.mediaType) }
        guard content.count == config.diffIDs.count else {
            throw OCIError.notAnImage(path: tree.displayName,
                reason: "manifest \(d.digest.short) has \(content.count) layers but its config has \(config.diffIDs.count) diff_ids")
        }
        var layers: [LayerRef] = []
        for (i, l) in content.enumerated() {
            let path = "blobs/\(l.digest.algorithm)/\(l.digest.encoded)"
            guard let slice = try tree.slice(path) else {
                throw OCIError.missingBlob(image: tree.displayName, name: "layer blob \(l.digest)")
            }
            layers.append(LayerRef(index: i, digest: l.digest, diffID: config.diffIDs[i], mediaType: l.mediaType, size: l.size,
                                   blob: .file(slice), expectedBlobDigest: l.digest, expectedDiffID: config.diffIDs[i], expectedSize: l.size))
        }
        return .image(Image(reference: tree.displayName, manifestDigest: d.digest, configDigest: manifest.config.digest,
                            platform: config.platform, config: config, annotations: manifest.annotations ?? [:], layers: layers))
    }

    private func looksLikeIndex(_ data: Data) -> Bool {
        (try? JSONSerialization.jsonObject(with: data)).flatMap { $0 as? [String: Any] }?["manifests"] != nil
    }

    /// Reads a small blob and checks it against its descriptor.
    private func blob(_ d: Descriptor, what: String) throws -> Data {
        let path = "blobs/\(d.digest.algorithm)/\(d.digest.encoded)"
        guard let slice = try tree.slice(path) else { throw OCIError.missingBlob(image: tree.displayName, name: "\(what) blob \(d.digest)") }
        if slice.length != d.size {
            throw OCIError.sizeMismatch(blob: slice.displayName, expected: d.size, actual: slice.length)
        }
        let data = try slice.readAll()
        let actual = Digest.sha256(of: data)
        if d.digest.algorithm == "sha256", actual != d.digest {
            throw OCIError.digestMismatch(blob: slice.displayName, expected: d.digest.description, actual: actual.description)
        }
        if Int64(data.count) != d.size {
            throw OCIError.sizeMismatch(blob: slice.displayName, expected: d.size, actual: Int64(data.count))
        }
        return data
    }
}
