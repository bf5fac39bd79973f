#if !STOWAWAY_FUZZING
import Core
#endif
import Foundation

/// Where images come from: a docker save tarball, an OCI layout (directory or tar) or a registry.
///
/// This is the one seam between what the user named and the images that `scan`, the sweep and the inspector
/// work on. A source only hands out documents and blobs; `ImageResolver` walks indexes, chooses platforms
/// and builds every image's layer list, the same way for every source.
public protocol ImageSource: Sendable {
    /// How reports and errors name the source: the path or reference the user gave.
    var displayName: String { get }
    /// Where resolving starts: the entries of a layout's `index.json`, the manifest or index a registry
    /// reference names, or the images of a docker save's `manifest.json`.
    func roots() async throws -> [ImageRoot]
    /// An index, manifest or config named by a descriptor, checked against its digest and size.
    func document(_ descriptor: Descriptor, kind: DocumentKind) async throws -> Data
    /// The blob of a layer, ready to be opened as a stream.
    func layerBlob(_ descriptor: Descriptor) throws -> LayerBlob
}

/// What a fetched document is expected to be, for the request (a registry's `Accept`) and for errors.
public enum DocumentKind: String, Sendable {
    case manifest, config
}

/// A starting point for resolving, and the name its images are reported under.
public struct ImageRoot: Sendable {
    public enum Content: Sendable {
        /// A document already in hand: the manifest or index a registry reference names.
        case document(Data, mediaType: String?, digest: Digest?)
        /// A document to fetch by descriptor: an entry of a layout's `index.json`.
        case descriptor(Descriptor)
        /// One image of a docker save's `manifest.json`, named by file paths rather than descriptors.
        case saved(SavedImage)
    }

    public var content: Content
    public var name: String

    public init(_ content: Content, name: String) {
        self.content = content
        self.name = name
    }
}

/// A docker save image: its config, read and checked, and its layer files.
public struct SavedImage: Sendable {
    public struct Layer: Sendable {
        public var blob: LayerBlob
        /// The blob digest when the file name carries it (Docker 25+: `blobs/sha256/<hex>`); the legacy
        /// layout names layers by chain id, so only their diffID is checked.
        public var namedDigest: Digest?
        public var size: Int64
    }

    public var config: Data
    public var configDigest: Digest
    public var layers: [Layer]
    /// False when the config's diff_ids only name the layers (a directory read as a layer has no real one).
    public var verifiesDiffIDs = true
}
