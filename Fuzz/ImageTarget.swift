import Dispatch
import Foundation

/// libFuzzer entry point for the image documents: the input decoded as each JSON model (index, manifest,
/// config), then loaded as an image tarball (docker save or OCI layout in a tar) through ImageLoader and
/// ImageResolver.
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
        guard let images = blocking({ try await ImageLoader.load(input, platform: .all) }) else { continue }
        for image in images {
            precondition(image.layers.count == image.config.diffIDs.count)
        }
    }
    return 0
}

/// Runs the (local, never suspending for long) async loader to completion from the synchronous callback.
private func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> T? {
    let box = Box<T>()
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        box.value = try? await body()
        done.signal()
    }
    done.wait()
    return box.value
}

/// The task's result. Written by the task before it signals, read after the wait: never accessed concurrently.
private final class Box<T>: @unchecked Sendable {
    var value: T?
}
