import Foundation

/// libFuzzer entry point for the outer-tar indexer (docker save and OCI tarballs): any bytes either index
/// or throw, and every indexed entry reads back within the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzInput.write(data, size)
    guard let tree = try? TarTree(path: path) else { return 0 }
    for name in tree.paths {
        guard let slice = try? tree.slice(name) else { continue }
        precondition(slice.offset >= 512 && slice.length >= 0 && slice.offset + slice.length <= Int64(size),
                     "entry \(name) at \(slice.offset)+\(slice.length) outside a \(size)-byte file")
        _ = try? slice.readAll(limit: 1 << 20)
    }
    for name in ["manifest.json", "index.json", "oci-layout", "../index.json", "/index.json", "blobs/../index.json"] {
        _ = try? tree.slice(name)
    }
    return 0
}
