import Core
import Discovery
import Foundation
import OCI
import Reports
import Scan
import Secrets
import Synchronization

/// Runs one sweep: expands the targets into images, skips every image whose manifest digest is unchanged
/// (no blob fetched, not even the config), scans the layers the store does not have (each once per run
/// however many images share it), and works out what is new, still open and resolved since the last run.
///
/// One image failing never stops the others. A stop request (SIGINT/SIGTERM) lets the work in flight finish
/// and store its results, starts nothing new, and closes the run as `interrupted` without resolving anything.
public final class Sweeper: Sendable {
    /// How a sweep runs.
    public struct Options: Sendable {
        /// Images, and layers, in flight at once.
        public var jobs = max(1, ProcessInfo.processInfo.activeProcessorCount)
        /// `n=` for listings without a `page_size` of their own.
        public var pageSize: Int?
        /// Where credentials and Fly tokens are read from.
        public var environment = ProcessInfo.processInfo.environment
        /// Hears of each image finished (done, total) for a progress line (total 0: not known, a shared run).
        public var progress: (@Sendable (Int, Int) -> Void)?
        /// `--run NAME`: join the shared run of that name instead of running one of our own.
        public var runName: String?
        /// How long a claim on an item or a layer lives without being renewed (renewed every third of it).
        public var lease: TimeInterval = 300
        /// This worker's name in the store's claims: host, process id and a random part.
        public var worker = "\(ProcessInfo.processInfo.hostName)/\(getpid())/\(UUID().uuidString.prefix(8).lowercased())"
        /// The config's ignore file's entries; the store's acceptances are added to them.
        public var ignore: [TriageEntry] = []
        /// The day expiries are judged on (the triage clock).
        public var now = TriageClock.now()

        public init() {}
    }

    public let config: SweepConfig
    public let store: any SweepStore
    public let scanner: ImageScanner
    public let options: Options
    /// Set from a signal handler; checked before anything new starts.
    public let stop = StopRequest()
    /// The configs this run's images hold.
    let configs = ConfigBudget()
    /// Their findings, once per config digest.
    let configFindings = ConfigFindingsMemo()

    /// A sweep of `config` into `store` with `scanner`'s rules (its own `showSecrets` is ignored: nothing a
    /// sweep reports or stores carries a secret).
    public init(config: SweepConfig, store: any SweepStore, scanner: ImageScanner, options: Options = Options()) {
        self.config = config
        self.store = store
        self.scanner = scanner
        self.options = options
    }

    /// Runs the sweep; throws only when the store fails (everything about images is in the report).
    public func run() async throws -> SweepReport {
        if let name = options.runName { return try await runShared(name) }
        let started = Date()
        // A configured password that is not in the environment fails the whole sweep before a run is opened.
        _ = try RegistryClients.options(config: config, flyTokens: [:], environment: options.environment)
        let runID = try await store.beginRun(ruleset: scanner.engine.fingerprint, startedAt: started)
        let expander = TargetExpander(config: config, pageSize: options.pageSize)
        let environment = options.environment
        let fly = await stoppable { await expander.flyItems(environment: environment) }
        let outcome = try await RegistryClients.with(config: config, flyTokens: fly.tokens, environment: options.environment) { clients in
            let listed = await stoppable { await expander.targetItems(client: { clients.client($0) }) }
            // Stopped while listing: nothing starts (`sweep` checks too), and the run is closed as interrupted.
            let items = stop.requested ? [] : TargetExpander.unique(listed.items + fly.items)
            let results = try await process(items, run: runID, clients: clients)
            return (results, fly.failures + listed.failures)
        }
        return try await finish(run: runID, started: started, results: outcome.0, listingFailures: outcome.1)
    }

    /// Runs `body` (a listing, a discovery) in a task of its own that a stop request cancels at once: a signal
    /// must not wait for an endless catalog or a slow Machines API. What it had found by then is returned.
    func stoppable<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> T {
        let task = Task { await body() }
        let handler = stop.onRequest { task.cancel() }
        defer { stop.remove(handler) }
        return await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
    }

    // MARK: images

    /// What became of one item.
    struct ItemResult: Sendable {
        var item: SweepItem
        var manifestDigest: Digest?
        /// nil: not done (the run was stopped first).
        var outcome: ImageOutcome?
        var error: String?
        var findings: [Finding] = []
    }

    private func process(_ items: [SweepItem], run: Int64, clients: RegistryClients) async throws -> [ItemResult] {
        let layers = LayerBroker(store: store, scanner: scanner, run: run, slots: options.jobs, stop: stop)
        let fetched = ByteCount()
        var results: [ItemResult] = []
        try await withThrowingTaskGroup(of: ItemResult.self) { group in
            var next = 0
            func start() {
                let item = items[next]
                next += 1
                group.addTask { [self] in
                    let r = await sweep(item, run: run, client: clients.client(item.reference.registry), layers: layers, fetched: fetched)
                    if let outcome = r.outcome {
                        try await store.recordImage(run: run, image: item.input, manifestDigest: r.manifestDigest, outcome: outcome, error: r.error)
                    }
                    return r
                }
            }
            while next < items.count && next < options.jobs { start() }
            while let r = try await group.next() {
                results.append(r)
                options.progress?(results.count, items.count)
                if next < items.count { start() }
            }
        }
        let counts = await layers.counts
        layerCounts.withLock { $0 = (counts.scanned, counts.cached, counts.bytes + fetched.value) }
        return results
    }

    /// Layers scanned, layers from the store, bytes fetched: filled in by `process` for `finish`.
    let layerCounts = Mutex<(Int, Int, Int64)>((0, 0, 0))

    /// One image: its manifest, then either its stored findings or a resolution and its layers' results. Its
    /// configs are held within the run's `ConfigBudget` until it is done.
    func sweep(_ item: SweepItem, run: Int64, client: RegistryClient, layers: LayerBroker, fetched: ByteCount) async -> ItemResult {
        let lease = ConfigLease(configs)
        let result = await sweep(item, run: run, client: client, layers: layers, fetched: fetched, lease: lease)
        await lease.release()
        return result
    }

    private func sweep(_ item: SweepItem, run: Int64, client: RegistryClient, layers: LayerBroker, fetched: ByteCount,
                       lease: ConfigLease) async -> ItemResult {
        var result = ItemResult(item: item)
        if stop.requested { return result }
        do {
            let manifest = try await client.fetchManifest(item.reference)
            result.manifestDigest = manifest.digest
            if let stored = try await store.image(manifestDigest: manifest.digest, platforms: item.platformKey,
                                                  cacheKey: scanner.layerCacheKey) {
                result.outcome = .cached
                result.findings = stored.findings
                return result
            }
            let source = PrefetchedSource(base: RegistrySource(item.reference, input: item.input, client: client),
                                          root: manifest, fetched: fetched, lease: lease)
            var images: [Image] = []
            var misses: [String] = []
            for choice in item.platforms {
                do {
                    for image in try await ImageResolver(platform: choice).images(of: source)
                    where !images.contains(where: { $0.manifestDigest == image.manifestDigest && $0.configDigest == image.configDigest }) {
                        images.append(image)
                    }
                } catch let e as OCIError {
                    // One of several platforms missing is fine; none at all is this image's failure.
                    guard case .noMatchingImage = e else { throw e }
                    misses.append("\(e)")
                }
            }
            guard !images.isEmpty else { throw SweepFailure(message: misses.first ?? "no image") }
            var findings: [Finding] = []
            var layerDigests: [Digest] = []
            for image in images {
                let answers = await withTaskGroup(of: (Int, LayerBroker.Answer).self) { group in
                    for (i, layer) in image.layers.enumerated() {
                        group.addTask { (i, await layers.result(for: layer)) }
                    }
                    var out = [LayerBroker.Answer?](repeating: nil, count: image.layers.count)
                    for await (i, a) in group { out[i] = a }
                    return out
                }
                var scanned: [LayerScanResult] = []
                for answer in answers {
                    guard case .result(let r)? = answer else { return ItemResult(item: item) }
                    scanned.append(r)
                }
                let config = await configFindings.result(for: image, scanner: scanner)
                let (found, errors, _) = scanner.findings(of: image, layers: scanned, config: config)
                if let e = errors.first {
                    throw SweepFailure(message: (e.layerIndex.map { "layer \($0): " } ?? "") + e.message)
                }
                for f in found where !findings.contains(f) { findings.append(f) }
                layerDigests += image.layers.compactMap(\.digest)
            }
            try await store.saveImage(StoredImage(manifestDigest: manifest.digest, platforms: item.platformKey,
                                                  cacheKey: scanner.layerCacheKey, findings: findings, layers: layerDigests), run: run)
            result.outcome = .scanned
            result.findings = findings
        } catch {
            result.outcome = .failed
            result.error = Self.oneLine("\(error)")
        }
        return result
    }

    // MARK: the run's verdict

    private func finish(run: Int64, started: Date, results: [ItemResult], listingFailures: [ListingFailure]) async throws -> SweepReport {
        let interrupted = stop.requested
        var report = SweepReport(run: .init(id: run, startedAt: started, finishedAt: started, ruleset: scanner.engine.fingerprint,
                                            status: interrupted ? .interrupted : .complete))
        report.images.failed = listingFailures.map { SweepReport.Failed(image: $0.what, error: Self.oneLine($0.error)) }
        let t = Self.tally(results)
        report.images.failed += t.failed
        report.images.scanned = t.scanned
        report.images.cached = t.cached
        // A repository is judged only when every one of its images was read in a run that ran to its end:
        // otherwise a finding it did not see may simply not have been looked at.
        // A repository whose tags were listed only in part had images nobody looked at.
        let covered = t.covered.subtracting(listingFailures.compactMap(\.partial))
        let changes = try await store.recordFindings(run: run, seen: t.findings, covered: interrupted ? [] : covered)
        report.findings.new = t.ordered(changes.new)
        report.findings.open = t.ordered(changes.open)
        report.findings.resolved = Self.ordered(changes.resolved.map(\.finding))
        report.apply(try await store.triage(with: options.ignore, now: options.now))
        let (scanned, cached, bytes) = layerCounts.withLock { $0 }
        report.layers = SweepReport.Layers(scanned: scanned, cached: cached, bytesFetched: bytes)
        report.run.finishedAt = Date()

        var counts = RunCounts()
        counts.imagesScanned = report.images.scanned
        counts.imagesCached = report.images.cached
        counts.imagesFailed = report.images.failed.count
        counts.layersScanned = scanned
        counts.layersCached = cached
        counts.bytesFetched = bytes
        counts.findingsNew = report.findings.new.count
        counts.findingsOpen = report.findings.open.count
        counts.findingsResolved = report.findings.resolved.count
        try await store.finishRun(id: run, status: report.run.status, finishedAt: report.run.finishedAt, counts: counts)
        return report
    }

    /// The facts of a run's finished items: how many were covered and from the store, which failed, every
    /// finding once by identity (with every image it was seen in), and the repositories all of whose images
    /// were read.
    struct Tally {
        var scanned = 0
        var cached = 0
        var failed: [SweepReport.Failed] = []
        var seen: [FindingKey: SweepFinding] = [:]
        var order: [FindingKey] = []
        var covered = Set<String>()

        var findings: [SweepFinding] { order.compactMap { seen[$0] } }
        var keys: [FindingKey] { order }

        /// The findings whose keys are in `keys`, in report order.
        func ordered(_ keys: Set<FindingKey>) -> [SweepFinding] {
            Sweeper.ordered(order.filter { keys.contains($0) }.compactMap { seen[$0] })
        }
    }

    static func tally(_ results: [ItemResult]) -> Tally {
        var t = Tally()
        var failedRepositories = Set<String>()
        for r in results.sorted(by: { $0.item.input < $1.item.input }) {
            switch r.outcome {
            case .failed?:
                t.failed.append(SweepReport.Failed(image: r.item.input, error: r.error ?? "failed"))
                failedRepositories.insert(r.item.repository)
            case .scanned?, .cached?:
                t.scanned += 1
                if r.outcome == .cached { t.cached += 1 }
                t.covered.insert(r.item.repository)
                for f in r.findings {
                    var sf = SweepFinding(finding: f, image: r.item.input, manifestDigest: r.manifestDigest?.description, repository: r.item.repository,
                                          app: r.item.apps.first, machines: r.item.apps.isEmpty ? nil : r.item.machines)
                    let k = sf.key
                    if var existing = t.seen[k] {
                        if !existing.images.contains(r.item.input) { existing.images.append(r.item.input) }
                        t.seen[k] = existing
                    } else {
                        sf.finding.secret = nil
                        t.seen[k] = sf
                        t.order.append(k)
                    }
                }
            case nil:
                break
            }
        }
        t.covered.subtract(failedRepositories)
        return t
    }

    /// Most severe first, then by image and place, so reports are stable from run to run.
    static func ordered(_ list: [SweepFinding]) -> [SweepFinding] {
        list.sorted { a, b in
            if a.finding.severity != b.finding.severity { return a.finding.severity > b.finding.severity }
            if a.image != b.image { return a.image < b.image }
            return SweepFinding.place(of: a.finding) < SweepFinding.place(of: b.finding)
        }
    }

    /// Errors quote registries and images: keep the report's promise of one line each.
    static func oneLine(_ s: String) -> String {
        let line = s.split(whereSeparator: \.isNewline).joined(separator: " ")
        return line.count > 500 ? String(line.prefix(500)) + "…" : line
    }
}

/// A stop asked for by a signal: nothing new starts once it is set, and work that may take without end (a
/// listing, a discovery) is cancelled through the handlers registered with `onRequest`.
public final class StopRequest: Sendable {
    private struct State {
        var requested = false
        var next = 0
        var handlers: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Asks the sweep to stop after the work in flight; runs (once) every handler registered.
    public func request() {
        let handlers = state.withLock { s -> [@Sendable () -> Void] in
            guard !s.requested else { return [] }
            s.requested = true
            return Array(s.handlers.values)
        }
        for h in handlers { h() }
    }

    public var requested: Bool { state.withLock { $0.requested } }

    /// Registers `handler` to run when a stop is requested (at once if it already was); returns its key for
    /// `remove`.
    @discardableResult
    public func onRequest(_ handler: @escaping @Sendable () -> Void) -> Int {
        let (key, already) = state.withLock { s -> (Int, Bool) in
            s.next += 1
            if !s.requested { s.handlers[s.next] = handler }
            return (s.next, s.requested)
        }
        if already { handler() }
        return key
    }

    /// Forgets a handler.
    public func remove(_ key: Int) {
        _ = state.withLock { $0.handlers.removeValue(forKey: key) }
    }
}

/// Why an image failed, when no module's error says it.
struct SweepFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Bytes fetched by every image's documents, summed across tasks.
final class ByteCount: Sendable {
    private let total = Mutex<Int64>(0)
    func add(_ n: Int) { total.withLock { $0 += Int64(n) } }
    var value: Int64 { total.withLock { $0 } }
}

/// A registry image whose manifest was already fetched (to compare its digest): resolving starts from it
/// instead of fetching it again, and configs fetched are counted.
struct PrefetchedSource: ImageSource {
    let base: RegistrySource
    let root: (data: Data, mediaType: String?, digest: Digest)
    let fetched: ByteCount
    let lease: ConfigLease

    var displayName: String { base.displayName }

    func roots() async throws -> [ImageRoot] {
        [ImageRoot(.document(root.data, mediaType: root.mediaType, digest: root.digest), name: base.input)]
    }

    func document(_ d: Descriptor, kind: DocumentKind) async throws -> Data {
        guard kind == .config else { return try await base.document(d, kind: kind) }
        let base = self.base, fetched = self.fetched
        return try await lease.config(d) {
            let data = try await base.document(d, kind: .config)
            fetched.add(data.count)
            return data
        }
    }

    func layerBlob(_ d: Descriptor) throws -> LayerBlob {
        try base.layerBlob(d)
    }
}
