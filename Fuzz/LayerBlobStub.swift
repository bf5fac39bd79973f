// The fuzz targets compile the parsing files of Sources/OCI without the registry client (see Fuzz/run.sh): this
// stands in for the one thing FileTree uses from it.

/// Where a layer's bytes come from; the loaders only ever make file slices.
public enum LayerBlob: Sendable {
    case file(FileSlice)
}
