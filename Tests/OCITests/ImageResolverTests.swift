import Core
import Foundation
import Synchronization
import Testing
@testable import OCI

/// The one resolver's rules, on an in-memory source: what a layout, a docker save and a registry now all do.
@Suite struct ImageResolverTests {
    /// Documents by digest; every layer blob is an empty slice (the resolver never opens one).
    struct MemorySource: ImageSource {
        var documents: [Digest: Data] = [:]
        var rootDocument: Data = Data()
        var rootMediaType: String?
        var displayName: String { "memory" }
        /// How many configs were fetched.
        let configFetches = Counter()

        final class Counter: Sendable {
            let value = Mutex(0)
        }

        func roots() async throws -> [ImageRoot] {
            [ImageRoot(.document(rootDocument, mediaType: rootMediaType, digest: Digest.sha256(of: rootDocument)), name: "memory:tag")]
        }

        func document(_ d: Descriptor, kind: DocumentKind) async throws -> Data {
            guard let data = documents[d.digest] else { throw OCIError.missingBlob(image: displayName, name: "\(kind) \(d.digest)") }
            if kind == .config { configFetches.value.withLock { $0 += 1 } }
            return data
        }

        func layerBlob(_ d: Descriptor) throws -> LayerBlob {
            .file(FileSlice(hostPath: "/dev/null", offset: 0, length: d.size, displayName: d.digest.description))
        }

        /// Stores a document and returns its descriptor.
        mutating func put(_ object: [String: Any], mediaType: String, platform: Platform? = nil,
                          annotations: [String: String]? = nil) throws -> Descriptor {
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            let digest = Digest.sha256(of: data)
            documents[digest] = data
            return Descriptor(mediaType: mediaType, digest: digest, size: Int64(data.count), annotations: annotations, platform: platform)
        }

        /// An image manifest of `layers` layers whose config says `os/arch`.
        mutating func image(_ platform: Platform, layers: Int = 1, diffIDs: Int? = nil) throws -> [String: Any] {
            let ids = (0..<(diffIDs ?? layers)).map { Digest.sha256(of: Data("\(platform)\($0)".utf8)).description }
            let config = try put(["os": platform.os, "architecture": platform.architecture,
                                  "rootfs": ["type": "layers", "diff_ids": ids], "config": [String: Any]()],
                                 mediaType: MediaType.ociConfig)
            let layerList: [[String: Any]] = (0..<layers).map { i in
                ["mediaType": MediaType.ociLayerGzip, "digest": Digest.sha256(of: Data("\(platform) layer \(i)".utf8)).description, "size": 10]
            }
            return ["schemaVersion": 2, "mediaType": MediaType.ociManifest,
                    "config": ["mediaType": MediaType.ociConfig, "digest": config.digest.description, "size": config.size],
                    "layers": layerList]
        }

        mutating func index(_ entries: [Descriptor]) -> [String: Any] {
            ["schemaVersion": 2, "mediaType": MediaType.ociIndex, "manifests": entries.map { e -> [String: Any] in
                var o: [String: Any] = ["mediaType": e.mediaType, "digest": e.digest.description, "size": e.size]
                if let p = e.platform { o["platform"] = ["os": p.os, "architecture": p.architecture] }
                if let a = e.annotations { o["annotations"] = a }
                return o
            }]
        }

        mutating func setRoot(_ object: [String: Any], mediaType: String) throws {  // "" = no Content-Type
            rootDocument = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            rootMediaType = mediaType.isEmpty ? nil : mediaType
        }
    }

    let amd64 = Platform(os: "linux", architecture: "amd64")
    let arm64 = Platform(os: "linux", architecture: "arm64")
    let riscv = Platform(os: "linux", architecture: "riscv64")

    func multiPlatform() throws -> MemorySource {
        var s = MemorySource()
        let a = try s.put(try s.image(amd64, layers: 2), mediaType: MediaType.ociManifest, platform: amd64)
        let b = try s.put(try s.image(arm64, layers: 3), mediaType: MediaType.ociManifest, platform: arm64)
        let attestation = try s.put(try s.image(Platform(os: "unknown", architecture: "unknown")), mediaType: MediaType.ociManifest,
                                    platform: Platform(os: "unknown", architecture: "unknown"),
                                    annotations: [AnnotationKey.referenceType: "attestation-manifest"])
        try s.setRoot(s.index([a, b, attestation]), mediaType: MediaType.ociIndex)
        return s
    }

    @Test func aMultiPlatformIndexGivesOneImageUnlessAllAreAskedFor() async throws {
        let s = try multiPlatform()
        let host = try await ImageResolver(platform: .specific(arm64)).images(of: s)
        #expect(host.map(\.layers.count) == [3])
        #expect(host.first?.platform == arm64)
        #expect(host.first?.reference == "memory:tag")
        let all = try await ImageResolver(platform: .all).images(of: s)
        #expect(all.map { $0.platform?.description } == ["linux/amd64", "linux/arm64"], "attestations are never images")
    }

    @Test func anUnknownPlatformListsWhatTheIndexHas() async throws {
        let s = try multiPlatform()
        await #expect {
            _ = try await ImageResolver(platform: .specific(riscv)).images(of: s)
        } throws: { error in
            "\(error)" == "memory: no image for platform linux/riscv64 (has: linux/amd64, linux/arm64); use --platform"
        }
    }

    @Test func anEntryWithoutAPlatformIsWalkedAndItsConfigDecides() async throws {
        // Registries used to drop such entries while layouts walked them; both now walk them.
        var s = MemorySource()
        let untagged = try s.put(try s.image(arm64), mediaType: MediaType.ociManifest)
        try s.setRoot(s.index([untagged]), mediaType: MediaType.ociIndex)
        let any = try await ImageResolver(platform: .host).images(of: s)
        #expect(any.first?.platform == arm64, "the host default takes a single-platform image as it is")
        let wanted = try await ImageResolver(platform: .specific(arm64)).images(of: s)
        #expect(wanted.count == 1)
        await #expect(throws: OCIError.self) { _ = try await ImageResolver(platform: .specific(amd64)).images(of: s) }
    }

    @Test func nestedIndexesAreWalkedToABound() async throws {
        var s = MemorySource()
        var d = try s.put(try s.image(amd64), mediaType: MediaType.ociManifest, platform: amd64)
        for _ in 0..<3 { d = try s.put(s.index([d]), mediaType: MediaType.ociIndex) }
        try s.setRoot(s.index([d]), mediaType: MediaType.ociIndex)
        #expect(try await ImageResolver(platform: .all).images(of: s).count == 1)

        for _ in 0..<ImageResolver.maxDepth { d = try s.put(s.index([d]), mediaType: MediaType.ociIndex) }
        try s.setRoot(s.index([d]), mediaType: MediaType.ociIndex)
        await #expect {
            _ = try await ImageResolver(platform: .all).images(of: s)
        } throws: { error in
            "\(error)".contains("nested more than \(ImageResolver.maxDepth) deep")
        }
    }

    @Test func imagesSharingAConfigFetchAndParseItOnce() async throws {
        // 40 manifests naming one config (as 40 tags of one build do) used to hold 40 parsed copies of it.
        var s = MemorySource()
        let manifest = try s.image(amd64)
        let entries = try (0..<40).map { i -> Descriptor in
            var m = manifest
            m["annotations"] = ["tag": "v\(i)"]
            return try s.put(m, mediaType: MediaType.ociManifest)
        }
        try s.setRoot(s.index(entries), mediaType: MediaType.ociIndex)
        let images = try await ImageResolver(platform: .all).images(of: s)
        #expect(images.count == 40)
        #expect(s.configFetches.value.withLock { $0 } == 1)
    }

    @Test func layersMustMatchTheConfigsDiffIDs() async throws {
        var s = MemorySource()
        try s.setRoot(try s.image(amd64, layers: 2, diffIDs: 3), mediaType: MediaType.ociManifest)
        await #expect {
            _ = try await ImageResolver().images(of: s)
        } throws: { error in
            "\(error)".contains("lists 2 layers but its config has 3 diff_ids")
        }
    }

    @Test func aManifestWithoutAMediaTypeIsToldFromAnIndexByItsShape() async throws {
        var s = MemorySource()
        let m = try s.put(try s.image(amd64), mediaType: MediaType.ociManifest, platform: amd64)
        var index = s.index([m])
        index["mediaType"] = nil
        try s.setRoot(index, mediaType: "")
        #expect(try await ImageResolver(platform: .all).images(of: s).count == 1)
    }
}
