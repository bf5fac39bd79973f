import Foundation

/// Turns what the user typed for a local image (`docker-archive:PATH`, `oci:DIR[:TAG]`, a tar or directory
/// path) into the `ImageSource` that reads it.
public enum ImageLoader {
    /// The prefixes that name a local source rather than a registry reference.
    static let localPrefixes = ["docker-archive:", "oci:", "oci-archive:", "docker-daemon:", "podman:", "dir:"]

    /// Whether `input` names something local (a file, a directory, an engine's image) rather than a registry
    /// reference.
    public static func isLocal(_ input: String) -> Bool {
        for prefix in localPrefixes where input.hasPrefix(prefix) { return true }
        if FileManager.default.fileExists(atPath: input) { return true }
        return input.hasPrefix("/") || input.hasPrefix("./") || input.hasPrefix("../") || input.hasSuffix(".tar")
    }

    /// The source for a local input; throws `OCIError` naming the input when it is not an image.
    /// `timeout` bounds each wait on a local engine's socket.
    public static func source(_ input: String, timeout: Double = 30,
                              environment: [String: String] = ProcessInfo.processInfo.environment) throws -> any ImageSource {
        // The fuzz targets compile the file loaders alone (Fuzz/run.sh): engines and trees are not theirs to read.
        #if !STOWAWAY_FUZZING
        for (prefix, engine) in [("docker-daemon:", EngineSocket.Engine.docker), ("podman:", .podman)] where input.hasPrefix(prefix) {
            let name = String(input.dropFirst(prefix.count))
            guard !name.isEmpty else {
                throw OCIError.invalidReference(input, reason: "no image named after \(prefix)")
            }
            let socket = try EngineSocket.locate(engine, source: input, timeout: timeout, environment: environment)
            return EngineImageSource(socket: socket, image: name, input: input)
        }
        if input.hasPrefix("dir:") {
            let path = String(input.dropFirst("dir:".count))
            guard !path.isEmpty else { throw OCIError.notFound(path: input) }
            return DirectorySource(root: path, input: input)
        }
        #endif
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
