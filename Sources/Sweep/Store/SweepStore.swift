import Core
import Foundation
import Reports
import Scan
import Secrets

/// What a sweep keeps between runs, behind one protocol so the embedded SQLite store and a shared PostgreSQL
/// store (many workers on one run) are interchangeable for every caller. It is the sum of four concerns, each a
/// protocol of its own: the run log (`SweepRunLog`), the layer and image cache (`LayerCache`), the findings
/// ledger with its acceptances (`FindingsLedger`) and the queue of a shared run (`FleetQueue`).
///
/// Contract for every implementation:
/// - No secret is ever written: layer results and findings carry SHA-256 hashes and redacted previews only.
/// - Each call is atomic on its own (one transaction); a process killed between calls leaves the store
///   consistent, with everything saved so far usable by the next run.
/// - Two processes may use the same store at once.
///
/// Shared runs (`--run NAME`, many workers on one run): the first worker to `joinRun` a name and win
/// `claimExpansion` expands the targets into work items (`addItems`); every worker then takes items one at a
/// time with `claimItem` under a lease it keeps alive with `renewLeases`, and layers with `claimLayer`, which
/// answers "stored", "yours to scan" or "being scanned elsewhere: wait". A worker that dies stops renewing;
/// once its leases run out its items and layers go to whoever asks next. The last worker to find every item
/// done closes the run with `completeSharedRun`, which records the findings exactly once.
public protocol SweepStore: SweepRunLog, LayerCache, FindingsLedger, FleetQueue {
    /// How errors and reports name the store (a file path, or a URL without its password).
    var location: String { get }
    /// Closes connections to a server; the store is not used afterwards.
    func shutdown() async
}

/// Runs and what became of each image in them.
public protocol SweepRunLog: Sendable {
    /// Opens a run and returns its id; runs left `running` by a process that no longer exists are marked
    /// `abandoned` first.
    func beginRun(ruleset: String, startedAt: Date) async throws -> Int64
    /// Closes a run with its status and counts.
    func finishRun(id: Int64, status: RunStatus, finishedAt: Date, counts: RunCounts) async throws
    /// The last `limit` runs, newest first.
    func runs(limit: Int) async throws -> [RunRecord]

    /// What became of one image in a run: `scanned`, `cached` or `failed` with its reason.
    func recordImage(run: Int64, image: String, manifestDigest: Digest?, outcome: ImageOutcome, error: String?) async throws

    /// The images run `run` could not read, with their one-line reasons.
    func failures(run: Int64) async throws -> [SweepReport.Failed]
}

/// Layer results and image findings kept by digest and rule set, so a run skips what an earlier one scanned.
/// Digests are typed here and stored as their text; one read back that does not parse is `SweepError.store`
/// naming the store and the row (see `Digest.stored`).
public protocol LayerCache: Sendable {
    /// A layer's stored result for this rule set, if it was scanned before.
    func layer(digest: Digest, cacheKey: String) async throws -> LayerScanResult?
    /// Keeps a layer's result (never one with an error); a result already there is left as it is.
    func saveLayer(digest: Digest, cacheKey: String, result: LayerScanResult, run: Int64) async throws

    /// An image's stored findings, by manifest digest, platform choice and rule set.
    func image(manifestDigest: Digest, platforms: String, cacheKey: String) async throws -> StoredImage?
    /// Keeps an image's findings (only when every layer and the config were read).
    func saveImage(_ image: StoredImage, run: Int64) async throws
}

/// Findings across runs (new, open, resolved) and the acceptances of triage.
public protocol FindingsLedger: Sendable {
    /// In one transaction: every finding seen in the run is inserted (new), reopened (new again) or touched
    /// (open); every open finding of a repository in `covered` that the run did not see is resolved in it.
    func recordFindings(run: Int64, seen: [SweepFinding], covered: Set<String>) async throws -> FindingChanges
    /// Findings not resolved, most severe first, at most `limit`.
    func openFindings(limit: Int) async throws -> [StoredFinding]
    /// Every finding not resolved before run `run` (open now, or resolved in it or later), for reports of a past
    /// run and the trend charts.
    func findings(aliveSince run: Int64) async throws -> [StoredFinding]
    // Triage

    /// Keeps an acceptance (`sweep accept`); one per fingerprint, a second replaces the first.
    func accept(_ entry: TriageEntry) async throws
    /// Every acceptance kept, expired or not, oldest first, each with origin `sweep store`.
    func acceptances() async throws -> [TriageEntry]
    /// Whether any finding the store has recorded, open or resolved, has this secret hash.
    func knowsSecret(_ sha256: String) async throws -> Bool
}

/// The queue of a shared run (`--run NAME`): items and layers claimed under leases by the workers of a fleet.
public protocol FleetQueue: Sendable {
    /// The run named `name`, created when no worker opened it yet (race-free: exactly one row per name).
    /// Throws `SweepError.runMismatch` when it exists with another rule set or config.
    func joinRun(name: String, ruleset: String, configDigest: String, startedAt: Date) async throws -> Int64
    /// Whether this worker should expand the run's targets now (see `ExpansionClaim`).
    func claimExpansion(run: Int64, worker: String, lease: TimeInterval) async throws -> ExpansionClaim
    /// Stores the expanded items (in order) and what the expansion found; a second expansion of the same run
    /// (after a lease ran out) adds nothing twice.
    func addItems(run: Int64, items: [SharedItem], expansion: RunExpansion, worker: String) async throws
    /// The next item nobody holds (never claimed, or its holder's lease ran out), claimed for `worker`.
    func claimItem(run: Int64, worker: String, lease: TimeInterval) async throws -> ClaimedItem?
    /// Marks an item done with its record; false when `worker` no longer held it (its lease ran out and
    /// another worker took it), in which case nothing is written.
    func completeItem(run: Int64, id: Int64, worker: String, record: ItemRecord) async throws -> Bool
    /// Gives back an item `worker` holds but did not finish (it was stopped): the next worker to ask takes it.
    func releaseItem(run: Int64, id: Int64, worker: String) async throws
    /// How many of the run's items are not done (claimed by someone, or waiting).
    func itemsLeft(run: Int64) async throws -> Int
    /// Extends every item and layer lease `worker` holds by `lease` seconds from now.
    func renewLeases(run: Int64, worker: String, lease: TimeInterval) async throws
    /// A layer's stored result, or the right to scan it, or "busy" while another worker's lease on it lives.
    func claimLayer(digest: Digest, cacheKey: String, worker: String, lease: TimeInterval) async throws -> LayerClaim
    /// Gives a layer claim back without a result (the scan failed): the next worker to ask scans it.
    func releaseLayer(digest: Digest, cacheKey: String, worker: String) async throws
    /// Keeps a worker's own counts (layers scanned, from the store, bytes) for the run's totals.
    func saveWorker(run: Int64, worker: String, counts: RunCounts) async throws
    /// The shared run named `name` with its items, or nil when there is none.
    func sharedRun(name: String) async throws -> SharedRunState?
    /// When every item is done and nobody closed the run yet: records its findings (as `recordFindings`),
    /// keeps the changes with the run and marks it complete, all in one transaction. nil otherwise.
    func completeSharedRun(run: Int64, seen: [SweepFinding], covered: Set<String>, counts: RunCounts, finishedAt: Date) async throws -> FindingChanges?
    /// Which of `keys` are new in run `run` and which were open before, without changing anything (for reports
    /// of a shared run that is not complete yet).
    func classify(run: Int64, keys: [FindingKey]) async throws -> (new: Set<FindingKey>, open: Set<FindingKey>)
}

extension SweepStore {
    /// Nothing to close by default (SQLite's pool closes with the object).
    public func shutdown() async {}
}

/// How a run ended.
public enum RunStatus: String, Codable, Sendable {
    case running, complete, interrupted, abandoned
    /// A shared run some of whose items are not done yet (`sweep report` of a run in progress, or whose
    /// workers all stopped early).
    case incomplete
}

/// What became of one image in a run.
public enum ImageOutcome: String, Codable, Sendable {
    case scanned, cached, failed
}

/// The counts of one run, as the report and `sweep history` show them.
public struct RunCounts: Codable, Sendable, Equatable {
    public var imagesScanned = 0
    public var imagesCached = 0
    public var imagesFailed = 0
    public var layersScanned = 0
    public var layersCached = 0
    public var bytesFetched: Int64 = 0
    public var findingsNew = 0
    public var findingsOpen = 0
    public var findingsResolved = 0

    public init() {}
}

/// One run as stored.
public struct RunRecord: Codable, Sendable {
    public var id: Int64
    public var startedAt: Date
    public var finishedAt: Date?
    public var ruleset: String
    public var status: RunStatus
    public var counts: RunCounts
    /// The run's name when it is shared (`--run NAME`).
    public var name: String? = nil
}

/// An image's findings as stored, reused while its manifest digest is unchanged.
public struct StoredImage: Sendable {
    public var manifestDigest: Digest
    /// The platform choice it was resolved with (`all`, `linux/amd64,linux/arm64`).
    public var platforms: String
    public var cacheKey: String
    public var findings: [Finding]
    /// Every layer digest of the images it resolved to, for the record.
    public var layers: [Digest]

    public init(manifestDigest: Digest, platforms: String, cacheKey: String, findings: [Finding], layers: [Digest]) {
        self.manifestDigest = manifestDigest
        self.platforms = platforms
        self.cacheKey = cacheKey
        self.findings = findings
        self.layers = layers
    }
}

/// What identifies a finding across runs: the image repository, the secret's hash, the rule and the place
/// (a file path, or where in the config). Layer indexes and lines are left out: a rebuild moves them.
public struct FindingKey: Hashable, Sendable, Codable {
    public var repository: String
    public var secretSHA256: String
    public var ruleID: String
    public var place: String
}

/// A finding as a sweep reports it: a scan finding (same fields as `scan`'s JSON) plus the image as swept,
/// its manifest digest, its repository, every image of the run it was seen in, and for Fly targets the apps
/// and machines that run it.
public struct SweepFinding: Codable, Sendable, Equatable {
    public var finding: Finding
    public var image: String
    public var manifestDigest: String?
    public var repository: String
    public var images: [String]
    public var app: String?
    public var machines: [String]?

    public init(finding: Finding, image: String, manifestDigest: String?, repository: String, app: String? = nil, machines: [String]? = nil) {
        self.finding = finding
        self.image = image
        self.manifestDigest = manifestDigest
        self.repository = repository
        images = [image]
        self.app = app
        self.machines = machines
    }

    public var key: FindingKey {
        FindingKey(repository: repository, secretSHA256: finding.secretSHA256, ruleID: finding.ruleID, place: Self.place(of: finding))
    }

    /// A finding's place without what a rebuild changes: `file:/app/.env`, `config/env/KEY`, `history/KEY`.
    public static func place(of f: Finding) -> String { f.place.identity }

    enum Extra: String, CodingKey {
        case image, manifestDigest, repository, images, app, machines
    }

    public init(from decoder: Decoder) throws {
        finding = try Finding(from: decoder)
        let c = try decoder.container(keyedBy: Extra.self)
        image = try c.decode(String.self, forKey: .image)
        manifestDigest = try c.decodeIfPresent(String.self, forKey: .manifestDigest)
        repository = try c.decode(String.self, forKey: .repository)
        images = try c.decodeIfPresent([String].self, forKey: .images) ?? [image]
        app = try c.decodeIfPresent(String.self, forKey: .app)
        machines = try c.decodeIfPresent([String].self, forKey: .machines)
    }

    // The scan finding's keys and these in one object, absent values as null like the scan report.
    public func encode(to encoder: Encoder) throws {
        try finding.encode(to: encoder)
        var c = encoder.container(keyedBy: Extra.self)
        try c.encode(image, forKey: .image)
        try c.encode(manifestDigest, forKey: .manifestDigest)
        try c.encode(repository, forKey: .repository)
        try c.encode(images, forKey: .images)
        try c.encode(app, forKey: .app)
        try c.encode(machines, forKey: .machines)
    }
}

/// A finding as the store holds it across runs.
public struct StoredFinding: Sendable {
    public var key: FindingKey
    /// The finding as last seen (redacted).
    public var finding: SweepFinding
    public var firstSeenRun: Int64
    public var lastSeenRun: Int64
    public var resolvedInRun: Int64?
}

/// What a run changed: keys new in it (first seen, or seen again after being resolved), keys still open,
/// and the findings it resolved.
public struct FindingChanges: Sendable {
    public var new: Set<FindingKey> = []
    public var open: Set<FindingKey> = []
    public var resolved: [StoredFinding] = []
}

/// Opens the store a `--db` value names: a `postgres://` URL (the shared store), a file path (SQLite), or
/// nothing for the default file.
public enum SweepStores {
    /// Opens the store; throws `SweepError.store` naming the location (a URL without its password).
    /// `create: false` refuses a missing SQLite file (for commands that only read, like `sweep history`).
    public static func open(_ location: String?, create: Bool = true,
                            environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> any SweepStore {
        let path = location ?? SQLiteSweepStore.defaultPath(environment: environment)
        if PostgresURL.looksLike(path) {
            var url = try PostgresURL(path)
            // As libpq does: a URL without a password takes PGPASSWORD, so the URL itself can live in a config map.
            if url.password == nil, let p = environment["PGPASSWORD"], !p.isEmpty { url.password = p }
            return try await PostgresSweepStore.connect(url)
        }
        if !create && !FileManager.default.fileExists(atPath: path) {
            throw SweepError.store(path: path, reason: "no sweep has run with this store yet")
        }
        return try SQLiteSweepStore(path: path)
    }
}

extension Digest {
    /// A digest read back from a row of the store at `store`: text that does not parse is `SweepError.store`
    /// naming the store and `row`, so a damaged or tampered store fails that look-up in one line, never a crash.
    static func stored(_ text: String, store: String, row: @autoclosure () -> String) throws -> Digest {
        do {
            return try Digest(text)
        } catch {
            throw SweepError.store(path: store, reason: "\(row()) holds a malformed digest \"\(text.prefix(80))\"")
        }
    }

    /// The comma-separated digests of an image row's `layers` column (empty: none).
    static func storedList(_ text: String, store: String, row: @autoclosure () -> String) throws -> [Digest] {
        try text.split(separator: ",").map { try stored(String($0), store: store, row: row()) }
    }
}
