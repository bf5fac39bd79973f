/// Media types of the OCI image spec and Docker's distribution formats, in one place.
public enum MediaType {
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayerTar = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let ociLayerNondistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar"
    public static let ociLayoutHeader = "application/vnd.oci.layout.header.v1+json"

    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerTar = "application/vnd.docker.image.rootfs.diff.tar"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerLayerZstd = "application/vnd.docker.image.rootfs.diff.tar.zstd"
    public static let dockerLayerForeign = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

    public static func isIndex(_ type: String?) -> Bool {
        type == ociIndex || type == dockerManifestList
    }

    public static func isManifest(_ type: String?) -> Bool {
        type == ociManifest || type == dockerManifest
    }

    /// Foreign / non-distributable layers are usually absent from a save or layout.
    public static func isForeignLayer(_ type: String) -> Bool {
        type == dockerLayerForeign || type.hasPrefix(ociLayerNondistributable)
    }
}

/// Annotation keys we read.
public enum AnnotationKey {
    public static let refName = "org.opencontainers.image.ref.name"
    public static let containerdName = "io.containerd.image.name"
    public static let referenceType = "vnd.docker.reference.type"
}
