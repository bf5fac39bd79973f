import Foundation

/// libFuzzer entry point for the image documents: the input decoded as each JSON model (index, manifest,
/// config), then loaded as an image tarball (docker save or OCI layout in a tar) through ImageLoader.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    _ = try? JSONDecoder().decode(Index.self, from: bytes)
    _ = try? JSONDecoder().decode(Manifest.self, from: bytes)
    if let config = try? ImageConfig(data: bytes, name: "fuzz") {
        precondition(config.historyIndexForLayer.count == config.diffIDs.count)
    }
    let path = FuzzInput.write(data, size)
    for input in [path, "oci-archive:" + path] {
        guard let images = try? ImageLoader.load(input, platform: .all) else { continue }
        for image in images {
            precondition(image.layers.count == image.config.diffIDs.count)
        }
    }
    return 0
}
