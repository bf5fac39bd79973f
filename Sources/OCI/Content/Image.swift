#if !STOWAWAY_FUZZING
import Core
#endif
import Foundation

/// One layer of an image, ready to be opened as a stream.
public struct LayerRef: Sendable {
    public var index: Int
    /// The blob digest (compressed) where the format says it, else the diffID.
    public var digest: Digest?
    public var diffID: Digest?
    public var mediaType: String?
    public var size: Int64
    public var blob: LayerBlob
    /// What to verify while streaming.
    public var expectedBlobDigest: Digest?
    public var expectedDiffID: Digest?
    public var expectedSize: Int64?
}

/// An image resolved from a source: its config and its layers, bottom first.
public struct Image: Sendable {
    public var reference: String
    public var manifestDigest: Digest?
    public var configDigest: Digest?
    public var platform: Platform?
    public var config: ImageConfig
    public var annotations: [String: String]
    public var layers: [LayerRef]
}

/// How the user asked for platforms of a multi-platform index.
public enum PlatformChoice: Sendable, Equatable {
    case host
    case all
    case specific(Platform)

    /// Parses `os/arch[/variant]` or `all`.
    public init(_ text: String) throws {
        if text == "all" { self = .all; return }
        let parts = text.split(separator: "/").map(String.init)
        guard parts.count == 2 || parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
            throw OCIError.unsupported(what: "--platform \(text)", reason: "expected os/arch[/variant] or all")
        }
        self = .specific(Platform(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil))
    }

    static var hostPlatform: Platform {
        #if arch(arm64)
        return Platform(os: "linux", architecture: "arm64", variant: "v8")
        #else
        return Platform(os: "linux", architecture: "amd64")
        #endif
    }

    func accepts(_ p: Platform) -> Bool {
        let want: Platform
        switch self {
        case .all: return true
        case .host: want = Self.hostPlatform
        case .specific(let s): want = s
        }
        guard p.os == want.os, p.architecture == want.architecture else { return false }
        // A variant left out on either side matches (arm64 images often omit v8).
        return want.variant == nil || p.variant == nil || p.variant == want.variant
    }
}
