import ArgumentParser
import Core
import Foundation
import OCI

/// The image a command reads and how to reach it: the argument and the registry and platform flags, the
/// same for every command that reads one image.
struct ImageOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("The image.", discussion: """
        A registry reference (registry.fly.io/app:tag, host:5000/repo@sha256:…, alpine), a docker save tarball \
        (docker-archive:PATH or a .tar path), an OCI layout (oci:DIR[:TAG], a directory, or a tar of one), or an image in \
        the local engine (docker-daemon:REF, podman:REF).
        """))
    var image: String
    @Option(help: "os/arch[/variant] of a multi-platform image.") var platform: String?
    @Option(help: "Registry username (with --password-stdin).") var username: String?
    @Flag(help: "Read the registry password or token from standard input.") var passwordStdin = false
    @Option(help: "Allow plain HTTP or unverified TLS for this registry HOST[:PORT] (repeatable).") var insecureRegistry: [String] = []
    @Option(help: "PEM file of CA certificates to trust for registries.") var caFile: String?
    @Option(help: ArgumentHelp("""
        How long a registry may take to connect, to answer, to send a manifest, config or token whole, or sit \
        silent mid-blob; retrying 429s, 5xx and dropped connections (at most 5 attempts) stops after 4 × this.
        """, valueName: "SECONDS")) var timeout: Double = 30

    func validate() throws {
        if passwordStdin && username == nil { throw ValidationError("--password-stdin needs --username") }
        if username != nil && !passwordStdin { throw ValidationError("--username needs --password-stdin") }
        if !(timeout > 0 && timeout <= 86_400) { throw ValidationError("--timeout must be a number of seconds above 0 (at most 86400)") }
    }

    /// Whether IMAGE names something on disk rather than a registry reference.
    var isLocal: Bool { ImageLoader.isLocal(image) }

    /// Resolves IMAGE and runs `body` on its images on a thread of its own (layer reads block), with the
    /// registry client open until it returns. Throws `OCIError` when IMAGE holds no image for the platform.
    func withImages<T: Sendable>(_ body: @escaping @Sendable ([Image]) throws -> T) async throws -> T {
        let resolver = ImageResolver(platform: try platform.map(PlatformChoice.init) ?? .host)
        let name = image
        if isLocal {
            let images = try await resolver.images(of: ImageLoader.source(name, timeout: timeout))
            return try await offThePool { try body(images) }
        }
        let ref = try Reference(name)
        var registry = RegistryOptions()
        registry.insecureHosts = Set(insecureRegistry)
        registry.caFile = caFile
        registry.setTimeout(timeout)
        if let username {
            let password = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .newlines)
            registry.credentials.explicit = Credential(kind: .basic(username: username, password: password), source: "--username/--password-stdin")
        }
        return try await RegistryClient.with(registry) { client in
            let images = try await resolver.images(of: RegistrySource(ref, input: name, client: client))
            return try await offThePool { try body(images) }
        }
    }
}

/// Runs blocking work on a thread of its own, off the async pool, so the registry client's tasks keep
/// running while layers stream.
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await BlockingWork.run(body)
}
