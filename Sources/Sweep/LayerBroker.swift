import Foundation
import OCI
import Scan

/// Hands out layer results for one run: each distinct layer is looked up in the store, or scanned, exactly once
/// however many images of the run share it (the others wait for that answer). Scans run on threads of their
/// own, at most `slots` at once, and each result is stored as soon as it exists, so a run killed halfway
/// leaves every finished layer for the next one.
///
/// This is the seam for a fleet of workers (issue 10): the store lookup becomes a claim under a lease, and
/// "being scanned elsewhere" one more way to wait.
actor LayerBroker {
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

    private let store: any SweepStore
    private let scanner: Scan.Scanner
    private let run: Int64
    private let gate: Gate
    private let stop: StopRequest
    private let cacheKey: String
    private var states: [String: State] = [:]
    private(set) var counts = Counts()

    init(store: any SweepStore, scanner: Scan.Scanner, run: Int64, slots: Int, stop: StopRequest) {
        self.store = store
        self.scanner = scanner
        self.run = run
        self.stop = stop
        gate = Gate(max(1, slots))
        cacheKey = scanner.layerCacheKey
    }

    /// The layer's result, from this run, the store, or a scan.
    func result(for layer: LayerRef) async -> Answer {
        let key = layer.digest?.description ?? layer.blob.key
        switch states[key] {
        case .done(let a)?:
            return a
        case .stored?:
            if let r = try? await store.layer(digest: key, cacheKey: cacheKey) { return .result(r) }
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
        let (answer, stored) = await produce(layer, key: key)
        if case .pending(let waiting)? = states[key] {
            for c in waiting { c.resume(returning: answer) }
        }
        states[key] = stored ? .stored : .done(answer)
        return answer
    }

    /// The layer's answer, and whether it is in the store now.
    private func produce(_ layer: LayerRef, key: String) async -> (Answer, Bool) {
        // A store that cannot be read is a cache miss: the layer is scanned again, never skipped.
        if let stored = try? await store.layer(digest: key, cacheKey: cacheKey) {
            counts.cached += 1
            return (.result(stored), true)
        }
        if stop.requested { return (.interrupted, false) }
        await gate.enter()
        if stop.requested {
            await gate.leave()
            return (.interrupted, false)
        }
        let scanner = self.scanner
        let result = await withCheckedContinuation { (c: CheckedContinuation<LayerScanResult, Never>) in
            // The scan blocks on the blob stream, whose producer is an async task: it must not hold a thread of
            // the async pool, or a few layers at once would starve the tasks feeding them.
            Thread { c.resume(returning: scanner.scanLayerForStore(layer)) }.start()
        }
        await gate.leave()
        counts.scanned += 1
        counts.bytes += layer.size
        var stored = false
        if result.error == nil {
            // Not storing only costs a rescan next time (the result stays in memory for this run instead).
            stored = (try? await store.saveLayer(digest: key, cacheKey: cacheKey, result: result, run: run)) != nil
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
