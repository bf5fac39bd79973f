import OCI
import Foundation

/// What image to build: layers of files, config, history, and the on-disk format.
public struct ImageSpec: Codable, Sendable {
    public enum Format: String, Codable, Sendable, CaseIterable {
        /// `docker save` from Docker 24 and older: `<id>/layer.tar`, `<config>.json`, `manifest.json`.
        case dockerLegacy = "docker-legacy"
        /// `docker save` from Docker 25+: an OCI layout with `manifest.json` beside it.
        case docker25
        /// OCI image layout directory.
        case oci
        /// OCI image layout in a tar.
        case ociTar = "oci-tar"
    }

    public struct File: Codable, Sendable {
        public var path: String
        public var content: String?
        /// file (default), dir, symlink, hardlink
        public var type: String?
        public var target: String?
        /// Repeat `content` this many times (large files without large specs).
        public var repeatCount: Int?
        /// Instead of `content`: this many bytes from /dev/urandom.
        public var randomBytes: Int64?
        /// Instead of `content`: these exact bytes (base64 in a JSON spec), for binary files a test compares.
        public var bytes: Data?
        /// Permission bits of a regular file, in octal (`"0600"`); default `0644`.
        public var mode: String?

        public init(path: String, content: String? = nil, type: String? = nil, target: String? = nil, repeatCount: Int? = nil,
                    randomBytes: Int64? = nil, bytes: Data? = nil, mode: String? = nil) {
            self.randomBytes = randomBytes
            self.bytes = bytes
            self.mode = mode
            self.path = path
            self.content = content
            self.type = type
            self.target = target
            self.repeatCount = repeatCount
        }
    }

    public struct HostDirectory: Codable, Sendable {
        /// Directory on this machine whose regular files and symlinks go into the layer.
        public var source: String
        /// Where they go inside the layer (`usr/share`).
        public var prefix: String

        public init(source: String, prefix: String) {
            self.source = source
            self.prefix = prefix
        }
    }

    public struct Layer: Codable, Sendable {
        public var files: [File]?
        public var hostDirectories: [HostDirectory]?
        public var compression: String?

        public init(files: [File]? = nil, hostDirectories: [HostDirectory]? = nil, compression: String? = nil) {
            self.files = files
            self.hostDirectories = hostDirectories
            self.compression = compression
        }
    }

    public struct History: Codable, Sendable {
        public var created_by: String
        public var empty_layer: Bool?
        public var comment: String?

        public init(_ createdBy: String, empty: Bool = false, comment: String? = nil) {
            created_by = createdBy
            empty_layer = empty ? true : nil
            self.comment = comment
        }
    }

    /// The container config (`Env`, `Labels`, `Cmd`, …): the scanner's own model of it.
    public typealias Config = ImageConfig.Container

    public var format: Format
    public var compression: String?
    public var tag: String?
    public var config: Config?
    public var history: [History]?
    public var layers: [Layer]
    public var annotations: [String: String]?
    /// More string fields of the container config (`WorkingDir`, `User`, …), beside the modelled ones.
    public var containerExtras: [String: String]?
    /// Platform of the config (default linux/amd64).
    public var os: String?
    public var architecture: String?
    public var variant: String?

    public init(format: Format, compression: String? = nil, tag: String? = nil, config: Config? = nil,
                history: [History]? = nil, layers: [Layer], annotations: [String: String]? = nil,
                containerExtras: [String: String]? = nil) {
        self.containerExtras = containerExtras
        self.format = format
        self.compression = compression
        self.tag = tag
        self.config = config
        self.history = history
        self.layers = layers
        self.annotations = annotations
    }
}
