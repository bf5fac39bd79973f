import Foundation

/// Turns what the user typed for a local image (`docker-archive:PATH`, `oci:DIR[:TAG]`, a tar or directory
/// path) into the `ImageSource` that reads it.
public enum ImageLoader {
    /// The source for a local input; throws `OCIError` naming the input when it is not an image.
    public static func source(_ input: String) throws -> any ImageSource {
        var path = input
        var tag: String?
        var forcedOCI = false
        if input.hasPrefix("docker-archive:") {
            path = String(input.dropFirst("docker-archive:".count))
        } else if input.hasPrefix("oci-archive:") || input.hasPrefix("oci:") {
            forcedOCI = true
            path = String(input.drop(while: { $0 != ":" }).dropFirst())
            // oci:DIR:TAG — the tag is what follows the last colon, if DIR itself exists without it.
            if !FileManager.default.fileExists(atPath: path), let colon = path.lastIndex(of: ":") {
                tag = String(path[path.index(after: colon)...])
                path = String(path[..<colon])
            }
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw OCIError.notFound(path: path)
        }
        let tree: FileTree = isDir.boolValue ? DirectoryTree(root: path) : try TarTree(path: path)

        if !forcedOCI, try tree.contains("manifest.json") {
            return DockerArchive(tree: tree)
        }
        if try tree.contains("index.json") || tree.contains("oci-layout") {
            return OCILayout(tree: tree, tag: tag, input: input)
        }
        throw OCIError.notAnImage(path: path, reason: isDir.boolValue
            ? "directory has no oci-layout, index.json or manifest.json: not an OCI image layout or docker save"
            : "tar has no manifest.json or index.json: not a docker save tarball or OCI layout")
    }

    /// Every image a local input holds for `platform`.
    public static func load(_ input: String, platform: PlatformChoice = .host) async throws -> [Image] {
        try await ImageResolver(platform: platform).images(of: source(input))
    }
}

func decode<T: Decodable>(_ type: T.Type, _ data: Data, what: String) throws -> T {
    do {
        return try JSONDecoder().decode(T.self, from: data)
    } catch {
        throw OCIError.invalidJSON(what: what, reason: describe(error))
    }
}
