import Core
import Foundation
import OCI
import Reports
import Scan

/// Hands out layer results for one run: each distinct layer is looked up in the store, or scanned, exactly once
/// however many images of the run share it (the others wait for that answer). Scans run on threads of their
/// own, at most `slots` at once, and each result is stored as soon as it exists, so a run killed halfway
/// leaves every finished layer for the next one.
///
/// In a shared run (`fleet` set) the store look-up is a claim under the worker's lease: a layer another worker
/// is scanning is waited for (polling its stored result with a growing pause) instead of scanned again; when
/// that worker dies its lease runs out and the next one to ask scans the layer.
actor LayerBroker {
    /// The worker's identity and lease in a shared run.
    struct Fleet: Sendable {
        var worker: String
        var lease: TimeInterval
    }

    enum Answer: Sendable {
        case result(LayerScanResult)
        /// The run was asked to stop before this layer started.
        case interrupted
    }

    private enum State {
        case done(Answer)
        /// Done and in the store: read back when another image asks, so a sweep of many thousands of layers
        /// holds only the layers in flight in memory, not every result of the run.
        case stored
        case pending([CheckedContinuation<Answer, Never>])
    }

    struct Counts: Sendable {
        var scanned = 0
        var cached = 0
        /// Compressed bytes of the layers scanned.
        var bytes: Int64 = 0
    }

    private let store: any LayerCache & FleetQueue
    private let scanner: ImageScanner
    private let run: Int64
    private let gate: Gate
    private let stop: StopRequest
    private let cacheKey: String
    private let fleet: Fleet?
    private var states: [String: State] = [:]
    private(set) var counts = Counts()

    init(store: any LayerCache & FleetQueue, scanner: ImageScanner, run: Int64, slots: Int, stop: StopRequest, fleet: Fleet? = nil) {
        self.store = store
        self.fleet = fleet
        self.scanner = scanner
        self.run = run
        self.stop = stop
        gate = Gate(max(1, slots))
        cacheKey = scanner.layerCacheKey
    }

    /// The layer's result, from this run, the store, or a scan. The store keeps layers by digest; a layer without
    /// one (never a registry's, whose descriptors name theirs) is scanned once and kept for this run only.
    func result(for layer: LayerRef) async -> Answer {
        let key = layer.digest?.description ?? layer.blob.key
        switch states[key] {
        case .done(let a)?:
            return a
        case .stored?:
            if let digest = layer.digest, let r = try? await store.layer(digest: digest, cacheKey: cacheKey) { return .result(r) }
        case .pending?:
            return await withCheckedContinuation { c in
                // Still pending: no suspension happened between the check above and this closure.
                if case .pending(var waiting)? = states[key] {
                    waiting.append(c)
                    states[key] = .pending(waiting)
                } else if case .done(let a)? = states[key] {
                    c.resume(returning: a)
                }
            }
        case nil:
            break
        }
        states[key] = .pending([])
        let (answer, stored) = await produce(layer)
        if case .pending(let waiting)? = states[key] {
            for c in waiting { c.resume(returning: answer) }
        }
        states[key] = stored ? .stored : .done(answer)
        return answer
    }

    /// The layer's answer, and whether it is in the store now.
    private func produce(_ layer: LayerRef) async -> (Answer, Bool) {
        guard let digest = layer.digest else { return await scan(layer, digest: nil) }
        if let fleet { return await produceShared(layer, digest: digest, fleet: fleet) }
        // A store that cannot be read is a cache miss: the layer is scanned again, never skipped.
        if let stored = try? await store.layer(digest: digest, cacheKey: cacheKey) {
            counts.cached += 1
            return (.result(stored), true)
        }
        return await scan(layer, digest: digest)
    }

    /// A shared run's layer: stored, ours to scan, or scanned elsewhere (wait and ask again). The pause grows
    /// from 0.1 s to a tenth of the lease (at most 5 s), so a dead holder's layer is taken over soon after its
    /// lease ends while a live one's is not asked about in a tight loop.
    private func produceShared(_ layer: LayerRef, digest: Digest, fleet: Fleet) async -> (Answer, Bool) {
        var pause = 0.1
        while true {
            let claim: LayerClaim
            do {
                claim = try await store.claimLayer(digest: digest, cacheKey: cacheKey, worker: fleet.worker, lease: fleet.lease)
            } catch {
                // A store that cannot be asked is a cache miss: the layer is scanned here, never skipped.
                return await scan(layer, digest: digest)
            }
            switch claim {
            case .stored(let r):
                counts.cached += 1
                return (.result(r), true)
            case .yours:
                let (answer, stored) = await scan(layer, digest: digest)
                if !stored { try? await store.releaseLayer(digest: digest, cacheKey: cacheKey, worker: fleet.worker) }
                return (answer, stored)
            case .busy:
                if stop.requested { return (.interrupted, false) }
                try? await Task.sleep(for: .seconds(pause))
                pause = min(pause * 2, max(0.1, min(5, fleet.lease / 10)))
            }
        }
    }

    /// Scans the layer on a thread of its own (at most `slots` at once) and stores a result without an error
    /// under `digest` (none: kept for this run only).
    private func scan(_ layer: LayerRef, digest: Digest?) async -> (Answer, Bool) {
        if stop.requested { return (.interrupted, false) }
        await gate.enter()
        if stop.requested {
            await gate.leave()
            return (.interrupted, false)
        }
        let scanner = self.scanner
        // The scan blocks on the blob stream, whose producer is an async task: it must not hold a thread of the
        // async pool, or a few layers at once would starve the tasks feeding them.
        // Kept as stored from the start: the secrets found leave memory with the scan.
        let result = await BlockingWork.run { scanner.scanLayer(layer).stored() }
        await gate.leave()
        counts.scanned += 1
        counts.bytes += layer.size
        var stored = false
        if result.error == nil, let digest {
            // Not storing only costs a rescan next time (the result stays in memory for this run instead).
            stored = (try? await store.saveLayer(digest: digest, cacheKey: cacheKey, result: result, run: run)) != nil
        }
        return (.result(result), stored)
    }
}

/// A counting semaphore for tasks: at most `n` holders at once, the others wait in order.
actor Gate {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ n: Int) { free = n }

    func enter() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}
