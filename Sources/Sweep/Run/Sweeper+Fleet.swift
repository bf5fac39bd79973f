import Crypto
import Discovery
import Foundation
import OCI
import Reports
import Scan

/// A shared run (`--run NAME`): this process is one worker of many on one run in one store. The first worker
/// to arrive expands the targets into work items; every worker claims items one at a time under a lease that
/// a background task renews every third of it, and gives up nothing but what it finished. A worker with
/// nothing left to claim waits (polling, with a growing pause) while other workers still hold items, so the
/// items of a worker that died are taken over once its lease runs out. The worker that finds every item done
/// closes the run, recording its findings once.
extension Sweeper {
    func runShared(_ name: String) async throws -> SweepReport {
        let started = Date()
        _ = try RegistryClients.options(config: config, flyTokens: [:], environment: options.environment)
        let fleet = LayerBroker.Fleet(worker: options.worker, lease: options.lease)
        let run = try await store.joinRun(name: name, ruleset: scanner.engine.fingerprint, configDigest: configDigest(), startedAt: started)
        let store = self.store
        let renewal = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(max(0.2, fleet.lease / 3)))
                if Task.isCancelled { break }
                // A renewal that fails is retried next time; a lease lost meanwhile only costs a rescan elsewhere.
                try? await store.renewLeases(run: run, worker: fleet.worker, lease: fleet.lease)
            }
        }
        defer { renewal.cancel() }

        let layers = LayerBroker(store: store, scanner: scanner, run: run, slots: options.jobs, stop: stop, fleet: fleet)
        let fetched = ByteCount()
        var mine: [ItemResult] = []
        var listingFailures: [SweepReport.Failed] = []
        if let (expansion, expandedHere) = try await expand(run: run, fleet: fleet) {
            if expandedHere { listingFailures = expansion.failures }
            mine = try await RegistryClients.with(config: config, flyTokens: flyTokens(expansion), environment: options.environment) { clients in
                try await processShared(run: run, clients: clients, layers: layers, fetched: fetched, fleet: fleet)
            }
        }
        let counts = await layers.counts
        var own = RunCounts()
        own.layersScanned = counts.scanned
        own.layersCached = counts.cached
        own.bytesFetched = counts.bytes + fetched.value
        try await store.saveWorker(run: run, worker: fleet.worker, counts: own)
        layerCounts.withLock { $0 = (own.layersScanned, own.layersCached, own.bytesFetched) }

        let closed = try await Self.closeIfDone(name: name, store: store)
        let state = closed.state
        var report = SweepReport(run: .init(id: run, startedAt: started, finishedAt: Date(), ruleset: scanner.engine.fingerprint,
                                            status: stop.requested ? .interrupted : .complete, name: name, worker: fleet.worker,
                                            itemsDone: state?.items.filter { $0.state == "done" }.count, itemsTotal: state?.items.count))
        let t = Self.tally(mine)
        report.images.failed = listingFailures + t.failed
        report.images.scanned = t.scanned
        report.images.cached = t.cached
        if let changes = closed.changes ?? state?.changes.map(Self.changes) {
            report.findings.new = t.ordered(changes.new)
            report.findings.open = t.ordered(changes.open)
            // The run's resolved findings are the closing worker's to report (and `sweep report`'s).
            if closed.changes != nil { report.findings.resolved = Self.ordered(changes.resolved.map(\.finding)) }
        } else {
            let c = try await store.classify(run: run, keys: t.keys)
            report.findings.new = t.ordered(c.new)
            report.findings.open = t.ordered(c.open)
        }
        report.apply(try await store.triage(with: options.ignore, now: options.now))
        report.layers = SweepReport.Layers(scanned: own.layersScanned, cached: own.layersCached, bytesFetched: own.bytesFetched)
        report.run.finishedAt = Date()
        return report
    }

    /// What identifies this run's work: the config's bytes and the rules' cache key. Workers started with a
    /// different config or rules refuse to join.
    func configDigest() -> String {
        var h = SHA256()
        h.update(data: FileManager.default.contents(atPath: config.path) ?? Data())
        h.update(data: Data("\n\(scanner.layerCacheKey)".utf8))
        return h.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Waits for the run's items to exist, expanding them when this worker wins the claim. nil when stopped
    /// while waiting; otherwise the expansion and whether this worker made it.
    private func expand(run: Int64, fleet: LayerBroker.Fleet) async throws -> (RunExpansion, Bool)? {
        var pause = 0.1
        var expandedHere = false
        while true {
            switch try await store.claimExpansion(run: run, worker: fleet.worker, lease: fleet.lease) {
            case .done(let expansion):
                return (expansion, expandedHere)
            case .yours:
                let expander = TargetExpander(config: config, pageSize: options.pageSize)
                let environment = options.environment
                let fly = await stoppable { await expander.flyItems(environment: environment) }
                let listed = try await RegistryClients.with(config: config, flyTokens: fly.tokens, environment: options.environment) { clients in
                    await stoppable { await expander.targetItems(client: { clients.client($0) }) }
                }
                // Stopped while listing: a part of the listing must not become the run's whole list of items.
                if stop.requested { return nil }
                let items = TargetExpander.unique(listed.items + fly.items)
                var flyHosts: [String: String] = [:]
                for (host, token) in fly.tokens {
                    let org = config.fly.last { (try? FlyMachines.token(env: $0.tokenEnv, what: "", environment: options.environment)) == token }
                    if let org { flyHosts[host] = org.org }
                }
                let failures = (fly.failures + listed.failures).map { SweepReport.Failed(image: $0.what, error: Self.oneLine($0.error)) }
                try await store.addItems(run: run, items: items.map(SharedItem.init), expansion: RunExpansion(failures: failures, flyHosts: flyHosts),
                                         worker: fleet.worker)
                expandedHere = true
            case .busy:
                if stop.requested { return nil }
                try? await Task.sleep(for: .seconds(pause))
                pause = min(pause * 2, 2)
            }
        }
    }

    /// The Fly.io registry hosts' tokens, each read from this worker's own environment.
    private func flyTokens(_ expansion: RunExpansion) -> [String: String] {
        var tokens: [String: String] = [:]
        for (host, org) in expansion.flyHosts {
            guard let o = config.fly.first(where: { $0.org == org }),
                  let t = try? FlyMachines.token(env: o.tokenEnv, what: "fly org \(org)", environment: options.environment) else { continue }
            tokens[host] = t
        }
        return tokens
    }

    /// Claims, sweeps and completes items until none is left anywhere (or a stop is asked for); returns the
    /// items this worker completed.
    private func processShared(run: Int64, clients: RegistryClients, layers: LayerBroker, fetched: ByteCount,
                               fleet: LayerBroker.Fleet) async throws -> [ItemResult] {
        var results: [ItemResult] = []
        let store = self.store
        try await withThrowingTaskGroup(of: ItemResult?.self) { group in
            var inFlight = 0
            func claim() async throws -> Bool {
                guard !stop.requested, let c = try await store.claimItem(run: run, worker: fleet.worker, lease: fleet.lease) else { return false }
                let item = try c.item.sweepItem(store: store.location)
                group.addTask { [self] in
                    let r = await sweep(item, run: run, client: clients.client(item.reference.registry), layers: layers, fetched: fetched)
                    guard let outcome = r.outcome else {
                        // Stopped before it was done: the next worker to ask takes it at once, not after the lease.
                        try? await store.releaseItem(run: run, id: c.id, worker: fleet.worker)
                        return nil
                    }
                    let record = ItemRecord(outcome: outcome, manifestDigest: r.manifestDigest, error: r.error, findings: r.findings)
                    // Lost (the lease ran out and another worker took it): that worker's result is the one kept.
                    guard try await store.completeItem(run: run, id: c.id, worker: fleet.worker, record: record) else { return nil }
                    try await store.recordImage(run: run, image: item.input, manifestDigest: r.manifestDigest, outcome: outcome, error: r.error)
                    let counts = await layers.counts
                    var own = RunCounts()
                    own.layersScanned = counts.scanned
                    own.layersCached = counts.cached
                    own.bytesFetched = counts.bytes + fetched.value
                    try? await store.saveWorker(run: run, worker: fleet.worker, counts: own)
                    return r
                }
                return true
            }
            var pause = 0.1
            while true {
                while inFlight < options.jobs, try await claim() { inFlight += 1 }
                if inFlight > 0 {
                    if let r = try await group.next() {
                        inFlight -= 1
                        if let r {
                            results.append(r)
                            options.progress?(results.count, 0)
                        }
                        pause = 0.1
                    }
                    continue
                }
                // Nothing in flight and nothing free: done, unless other workers still hold items (one of them
                // may die, and its items come free when its lease runs out).
                if stop.requested { break }
                if try await store.itemsLeft(run: run) == 0 { break }
                try? await Task.sleep(for: .seconds(pause))
                pause = min(pause * 2, max(0.5, min(10, fleet.lease / 4)))
            }
        }
        return results
    }

    // MARK: the whole run

    /// Reads the shared run and, when every item is done and nobody closed it yet, closes it (recording its
    /// findings once). `changes` is set only for the caller that closed it.
    static func closeIfDone(name: String, store: any SweepStore) async throws -> (state: SharedRunState?, changes: FindingChanges?) {
        guard var state = try await store.sharedRun(name: name) else { return (nil, nil) }
        guard state.record.status == .running, state.expansion != nil, state.items.allSatisfy({ $0.state == "done" }) else { return (state, nil) }
        let t = tally(try results(of: state, store: store))
        var counts = RunCounts()
        counts.imagesScanned = t.scanned
        counts.imagesCached = t.cached
        counts.imagesFailed = t.failed.count + (state.expansion?.failures.count ?? 0)
        counts.layersScanned = state.workerCounts.layersScanned
        counts.layersCached = state.workerCounts.layersCached
        counts.bytesFetched = state.workerCounts.bytesFetched
        let changes = try await store.completeSharedRun(run: state.record.id, seen: t.findings, covered: t.covered, counts: counts, finishedAt: Date())
        if changes != nil, let again = try await store.sharedRun(name: name) { state = again }
        return (state, changes)
    }

    private static func results(of state: SharedRunState, store: any SweepStore) throws -> [ItemResult] {
        try state.items.compactMap { stored in
            guard let rec = stored.record else { return nil }
            return ItemResult(item: try stored.item.sweepItem(store: store.location), manifestDigest: rec.manifestDigest, outcome: rec.outcome,
                              error: rec.error, findings: rec.findings)
        }
    }

    private static func changes(_ stored: StoredChanges) -> FindingChanges {
        var c = FindingChanges()
        c.new = Set(stored.new)
        c.open = Set(stored.open)
        c.resolved = stored.resolved.map { StoredFinding(key: $0.key, finding: $0, firstSeenRun: 0, lastSeenRun: 0, resolvedInRun: nil) }
        return c
    }

    /// The whole shared run's report (`sweep report`): every item done so far, `incomplete` until all are.
    /// Closes the run first when every item is done but no worker did (its last worker died at the very end).
    /// Throws `SweepError.store` when there is no run of that name.
    public static func sharedReport(name: String, store: any SweepStore) async throws -> SweepReport {
        guard let state = try await closeIfDone(name: name, store: store).state else {
            throw SweepError.store(path: store.location, reason: "no shared run named \(name)")
        }
        let done = try results(of: state, store: store)
        let complete = state.record.status == .complete
        var report = SweepReport(run: .init(id: state.record.id, startedAt: state.record.startedAt, finishedAt: state.record.finishedAt ?? Date(),
                                            ruleset: state.record.ruleset, status: complete ? .complete : .incomplete, name: name,
                                            itemsDone: done.count, itemsTotal: state.items.count))
        let t = tally(done)
        report.images.failed = (state.expansion?.failures ?? []) + t.failed
        report.images.scanned = t.scanned
        report.images.cached = t.cached
        if let stored = state.changes {
            report.findings.new = t.ordered(Set(stored.new))
            report.findings.open = t.ordered(Set(stored.open))
            report.findings.resolved = ordered(stored.resolved)
        } else {
            let c = try await store.classify(run: state.record.id, keys: t.keys)
            report.findings.new = t.ordered(c.new)
            report.findings.open = t.ordered(c.open)
        }
        report.layers = SweepReport.Layers(scanned: state.workerCounts.layersScanned, cached: state.workerCounts.layersCached,
                                           bytesFetched: state.workerCounts.bytesFetched)
        return report
    }
}
