import Core
import Foundation

/// An image in a registry, by tag or digest: the manifest or index the reference names, then documents and
/// blobs by digest from the same repository.
public struct RegistrySource: ImageSource {
    public let client: RegistryClient
    public let reference: Reference
    /// What the user typed: how the images are named in reports.
    public let input: String

    public init(_ reference: Reference, input: String, client: RegistryClient) {
        self.reference = reference
        self.input = input
        self.client = client
    }

    public var displayName: String { input }

    public func roots() async throws -> [ImageRoot] {
        let (data, mediaType, digest) = try await client.manifest(reference, reference: reference.manifestReference)
        return [ImageRoot(.document(data, mediaType: mediaType, digest: digest), name: input)]
    }

    public func document(_ d: Descriptor, kind: DocumentKind) async throws -> Data {
        switch kind {
        case .manifest: return try await client.manifest(reference, reference: d.digest.description).data
        case .config: return try await client.smallBlob(reference, d)
        }
    }

    public func layerBlob(_ d: Descriptor) throws -> LayerBlob {
        .remote(RemoteBlob(client: client, reference: reference, descriptor: d))
    }
}
