import Core
import Foundation
import OCI
import Reports
import Scan
import Synchronization

/// The image configs a run's images hold at once, bounded in bytes, and each fetched once per digest while any
/// image holds it.
///
/// Without it, N images in flight (`--jobs`) that name the same large config each fetch and hold a copy of it,
/// raw and parsed, until their layers are done: 40 images over one 12 MB config came to more than a GB. An
/// image asks for its first config's size before fetching it and waits while the budget is spent; its further
/// configs (the other platforms of an index) are granted at once, so an image never waits on a budget it holds
/// part of (the resolver bounds what one image's documents add up to). A config larger than the whole budget
/// is granted when nothing else is held.
actor ConfigBudget {
    /// Config bytes the images in flight may hold at once: one config as large as the registry client takes
    /// (16 MiB), since an image holds its config several times over while it is parsed and scanned.
    static let defaultBytes = 16 << 20

    let total: Int
    private var free: Int
    private var waiting: [(bytes: Int, continuation: CheckedContinuation<Void, Never>)] = []
    private var shared: [Digest: (fetch: Task<Data, Error>, users: Int)] = [:]

    init(bytes: Int = ConfigBudget.defaultBytes) {
        total = bytes
        free = bytes
    }

    /// Takes `bytes` from the budget, waiting for other images to finish first when `wait` and it is spent.
    func acquire(_ bytes: Int, wait: Bool) async {
        if !wait || (waiting.isEmpty && fits(bytes)) {
            free -= bytes
            return
        }
        await withCheckedContinuation { waiting.append((bytes, $0)) }
    }

    private func fits(_ bytes: Int) -> Bool { free >= bytes || free == total }

    /// The config `digest`, fetched by `load` unless an image holding it already did.
    func data(_ digest: Digest, _ load: @escaping @Sendable () async throws -> Data) async throws -> Data {
        if let entry = shared[digest] {
            shared[digest] = (entry.fetch, entry.users + 1)
            return try await entry.fetch.value
        }
        let fetch = Task { try await load() }
        shared[digest] = (fetch, 1)
        return try await fetch.value
    }

    /// Gives back what an image held: `bytes` of the budget and its use of each of `digests`.
    func release(_ bytes: Int, digests: [Digest]) {
        for d in digests {
            guard let entry = shared[d] else { continue }
            shared[d] = entry.users > 1 ? (entry.fetch, entry.users - 1) : nil
        }
        free += bytes
        while let next = waiting.first, fits(next.bytes) {
            waiting.removeFirst()
            free -= next.bytes
            next.continuation.resume()
        }
    }
}

/// One image's hold on the run's `ConfigBudget`, given back by `release` when the image is done.
final class ConfigLease: Sendable {
    let budget: ConfigBudget
    private let held = Mutex<(bytes: Int, digests: [Digest])>((0, []))

    init(_ budget: ConfigBudget) { self.budget = budget }

    /// The config `d` names, within the budget: fetched by `load` once per digest among the images holding it.
    func config(_ d: Descriptor, _ load: @escaping @Sendable () async throws -> Data) async throws -> Data {
        let first = held.withLock { $0.bytes == 0 && $0.digests.isEmpty }
        let bytes = Int(clamping: max(1, d.size))
        await budget.acquire(bytes, wait: first)
        held.withLock {
            $0.bytes += bytes
            $0.digests.append(d.digest)
        }
        let data = try await budget.data(d.digest, load)
        // The descriptor's size is the registry's word; what counts is what arrived.
        if data.count > bytes {
            await budget.acquire(data.count - bytes, wait: false)
            held.withLock { $0.bytes += data.count - bytes }
        }
        return data
    }

    /// Gives back everything this image held.
    func release() async {
        let (bytes, digests) = held.withLock { h in
            defer { h = (0, []) }
            return (h.bytes, h.digests)
        }
        if bytes > 0 || !digests.isEmpty { await budget.release(bytes, digests: digests) }
    }
}

/// What each config digest of a run holds, worked out once: forty tags of one image name one config, and its
/// walk (every string, decoded and matched) is the costly part of a cached image. Bounded in entries; past
/// that it starts afresh, which costs only walking again.
actor ConfigFindingsMemo {
    static let maxEntries = 1024
    private var results: [Digest: Task<ImageScanner.ConfigResult, Never>] = [:]

    /// `image`'s config findings, from `scanner` unless an image naming the same config asked first.
    func result(for image: Image, scanner: ImageScanner) async -> ImageScanner.ConfigResult {
        guard let digest = image.configDigest else { return scanner.configResult(of: image) }
        if let known = results[digest] { return await known.value }
        if results.count >= Self.maxEntries { results = [:] }
        // Detached: the walk runs off this actor, which stays free to hand out results.
        let work = Task.detached { scanner.configResult(of: image) }
        results[digest] = work
        return await work.value
    }
}
