#if !STOWAWAY_FUZZING
import Core
#endif
import Foundation

/// An OCI image layout, as a directory or a tar: `oci-layout`, `index.json`, `blobs/<alg>/<hex>`.
struct OCILayout: ImageSource {
    let tree: FileTree
    /// `oci:DIR:TAG`: only the entries of `index.json` named by this tag.
    let tag: String?
    /// What the user typed, which names the images when they asked for a tag.
    let input: String

    var displayName: String { tree.displayName }

    func roots() async throws -> [ImageRoot] {
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
        return entries.map { ImageRoot(.descriptor($0), name: name(of: $0)) }
    }

    /// The input as typed when it named a tag; else the entry's own name: a full reference as is
    /// (`docker.io/library/alpine:3.20`), a bare tag after the layout's path (`./layout:app`).
    private func name(of entry: Descriptor) -> String {
        if tag != nil { return input }
        guard let ref = entry.annotations?[AnnotationKey.refName] ?? entry.annotations?[AnnotationKey.containerdName] else {
            return tree.displayName
        }
        return ref.contains("/") || ref.contains(":") ? ref : "\(tree.displayName):\(ref)"
    }

    func document(_ d: Descriptor, kind: DocumentKind) async throws -> Data {
        try tree.blob(d, what: kind.rawValue)
    }

    func layerBlob(_ d: Descriptor) throws -> LayerBlob {
        .file(try tree.blobSlice(d, what: "layer"))
    }
}

extension FileTree {
    /// The file holding a blob in `blobs/<alg>/<hex>`, or `missingBlob` naming it.
    func blobSlice(_ d: Descriptor, what: String) throws -> FileSlice {
        guard let slice = try slice("blobs/\(d.digest.algorithm)/\(d.digest.encoded)") else {
            throw OCIError.missingBlob(image: displayName, name: "\(what) blob \(d.digest)")
        }
        return slice
    }

    /// A small blob, read and checked against its descriptor's digest and size.
    func blob(_ d: Descriptor, what: String) throws -> Data {
        let slice = try blobSlice(d, what: what)
        if slice.length != d.size {
            throw OCIError.sizeMismatch(blob: slice.displayName, expected: d.size, actual: slice.length)
        }
        let data = try slice.readAll()
        let actual = Digest.sha256(of: data)
        if d.digest.algorithm == "sha256", actual != d.digest {
            throw OCIError.digestMismatch(blob: slice.displayName, expected: d.digest.description, actual: actual.description)
        }
        return data
    }
}
