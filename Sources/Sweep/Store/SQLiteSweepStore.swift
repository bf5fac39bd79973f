import Core
import Foundation
import GRDB
import Reports
import Scan

/// The embedded store: one SQLite file through GRDB, in WAL mode with a busy timeout so two sweeps on one file
/// wait for each other instead of failing, every write in one IMMEDIATE transaction, schema migrations from
/// the first version. The file is created with mode 0600 (its directory 0700) before SQLite opens it.
public final class SQLiteSweepStore: SweepStore {
    public let location: String
    private let pool: DatabasePool
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    /// The default file: `$XDG_STATE_HOME/stowaway/sweep.db`, else `~/.local/state/stowaway/sweep.db`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") { return state + "/stowaway/sweep.db" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state/stowaway/sweep.db"
    }

    /// Opens (creating and migrating when needed) the store at `path`; throws `SweepError.store` naming it.
    public init(path: String, busyTimeout: TimeInterval = 60) throws {
        location = path
        do {
            try Self.create(path)
            var config = Configuration()
            config.busyMode = .timeout(busyTimeout)
            config.label = "stowaway-sweep"
            pool = try Self.openMigrated(path, config, deadline: Date() + busyTimeout)
        } catch let e as SweepError {
            throw e
        } catch {
            throw SweepError.store(path: path, reason: Self.reason(error))
        }
    }

    /// Opens the pool and migrates it. Two processes that open a new file at the same moment race twice, and
    /// SQLite's busy timeout covers neither: switching a fresh file to WAL answers "database is locked" at once,
    /// and both may read "no migration applied" before one of them creates the tables. Both races leave the file
    /// as the winner made it, so the loser opens again (a fresh pool reads the migrations anew) until the
    /// deadline; any other error is the file's own and is thrown at once.
    private static func openMigrated(_ path: String, _ config: Configuration, deadline: Date) throws -> DatabasePool {
        var pause: UInt32 = 20_000
        while true {
            do {
                let pool = try DatabasePool(path: path, configuration: config)
                try migrator.migrate(pool)
                return pool
            } catch let e as DatabaseError where Date() < deadline && lostOpeningRace(e) {
                usleep(pause + UInt32.random(in: 0..<pause))
                pause = min(pause * 2, 500_000)
            }
        }
    }

    private static func lostOpeningRace(_ e: DatabaseError) -> Bool {
        switch e.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: true
        // "duplicate column name": the loser of the race to the v2 migration, which adds columns.
        case .SQLITE_ERROR: e.message.map { $0.contains("already exists") || $0.contains("duplicate column name") } == true
        default: false
        }
    }

    /// Creates the file (and missing directories) owner-only; an existing file is left as it is.
    private static func create(_ path: String) throws {
        let fm = FileManager.default
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if !fm.fileExists(atPath: dir) {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if fd >= 0 {
            close(fd)
        } else if errno != EEXIST {
            throw SweepError.store(path: path, reason: String(cString: strerror(errno)))
        }
    }

    /// Schema versions, in order; a version once shipped is never edited, only followed by another.
    private static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE run (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    started_at TEXT NOT NULL,
                    finished_at TEXT,
                    ruleset TEXT NOT NULL,
                    status TEXT NOT NULL,
                    host TEXT NOT NULL,
                    pid INTEGER NOT NULL,
                    counts TEXT NOT NULL
                );
                CREATE TABLE layer (
                    digest TEXT NOT NULL,
                    cache_key TEXT NOT NULL,
                    result BLOB NOT NULL,
                    run_id INTEGER NOT NULL,
                    PRIMARY KEY (digest, cache_key)
                );
                CREATE TABLE image (
                    manifest_digest TEXT NOT NULL,
                    platforms TEXT NOT NULL,
                    cache_key TEXT NOT NULL,
                    findings BLOB NOT NULL,
                    layers TEXT NOT NULL,
                    run_id INTEGER NOT NULL,
                    PRIMARY KEY (manifest_digest, platforms, cache_key)
                );
                CREATE TABLE run_image (
                    run_id INTEGER NOT NULL REFERENCES run(id),
                    image TEXT NOT NULL,
                    manifest_digest TEXT,
                    outcome TEXT NOT NULL,
                    error TEXT,
                    PRIMARY KEY (run_id, image)
                );
                CREATE TABLE finding (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    repository TEXT NOT NULL,
                    secret_sha256 TEXT NOT NULL,
                    rule_id TEXT NOT NULL,
                    place TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    first_seen_run INTEGER NOT NULL,
                    last_seen_run INTEGER NOT NULL,
                    resolved_in_run INTEGER,
                    detail BLOB NOT NULL,
                    UNIQUE (repository, secret_sha256, rule_id, place)
                );
                CREATE INDEX finding_open ON finding (repository) WHERE resolved_in_run IS NULL;
                """)
        }
        registerFleetMigration(&m)
        registerTriageMigration(&m)
        return m
    }

    // MARK: runs

    public func beginRun(ruleset: String, startedAt: Date) async throws -> Int64 {
        let host = ProcessInfo.processInfo.hostName
        let pid = Int64(getpid())
        let counts = try Self.json(RunCounts())
        return try await write { db in
            // A run still `running` whose process is gone from this host was killed: say so in the history.
            let stale = try Row.fetchAll(db, sql: "SELECT id, pid FROM run WHERE status = 'running' AND host = ? AND name IS NULL", arguments: [host])
            for row in stale {
                let other: Int64 = row["pid"]
                if other != pid, kill(pid_t(other), 0) != 0, errno == ESRCH {
                    try db.execute(sql: "UPDATE run SET status = 'abandoned' WHERE id = ?", arguments: [row["id"] as Int64])
                }
            }
            try db.execute(sql: """
                INSERT INTO run (started_at, ruleset, status, host, pid, counts) VALUES (?, ?, 'running', ?, ?, ?)
                """, arguments: [Self.iso(startedAt), ruleset, host, pid, counts])
            return db.lastInsertedRowID
        }
    }

    public func finishRun(id: Int64, status: RunStatus, finishedAt: Date, counts: RunCounts) async throws {
        let json = try Self.json(counts)
        try await write { db in
            try db.execute(sql: "UPDATE run SET finished_at = ?, status = ?, counts = ? WHERE id = ?",
                           arguments: [Self.iso(finishedAt), status.rawValue, json, id])
        }
    }

    public func runs(limit: Int) async throws -> [RunRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM run ORDER BY id DESC LIMIT ?", arguments: [limit]).map { row in
                let counts: String = row["counts"]
                let finished: String? = row["finished_at"]
                return RunRecord(id: row["id"], startedAt: Self.date(row["started_at"]) ?? Date(timeIntervalSince1970: 0),
                                 finishedAt: finished.flatMap(Self.date), ruleset: row["ruleset"],
                                 status: RunStatus(rawValue: row["status"]) ?? .running,
                                 counts: (try? JSONDecoder().decode(RunCounts.self, from: Data(counts.utf8))) ?? RunCounts(),
                                 name: row["name"])
            }
        }
    }

    // MARK: layers and images

    public func layer(digest: Digest, cacheKey: String) async throws -> LayerScanResult? {
        let data = try await read { db in
            try Data.fetchOne(db, sql: "SELECT result FROM layer WHERE digest = ? AND cache_key = ?", arguments: [digest.description, cacheKey])
        }
        // A row this build cannot read is treated as absent: the layer is scanned again and the row replaced.
        return data.flatMap { try? JSONDecoder().decode(LayerScanResult.self, from: $0) }
    }

    public func saveLayer(digest: Digest, cacheKey: String, result: LayerScanResult, run: Int64) async throws {
        guard result.error == nil else { return }
        let data = try Self.encoder.encode(result)
        let digest = digest.description
        try await write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO layer (digest, cache_key, result, run_id) VALUES (?, ?, ?, ?)",
                           arguments: [digest, cacheKey, data, run])
            try db.execute(sql: "DELETE FROM layer_claim WHERE digest = ? AND cache_key = ?", arguments: [digest, cacheKey])
        }
    }

    public func image(manifestDigest: Digest, platforms: String, cacheKey: String) async throws -> StoredImage? {
        let found = try await read { db -> (Data, String)? in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT findings, layers FROM image WHERE manifest_digest = ? AND platforms = ? AND cache_key = ?
                """, arguments: [manifestDigest.description, platforms, cacheKey]) else { return nil }
            return (row["findings"], row["layers"])
        }
        guard let (findings, layers) = found else { return nil }
        let layerDigests = try Digest.storedList(layers, store: location, row: "image \(manifestDigest)'s layers")
        guard let list = try? JSONDecoder().decode([Finding].self, from: findings) else { return nil }
        return StoredImage(manifestDigest: manifestDigest, platforms: platforms, cacheKey: cacheKey, findings: list, layers: layerDigests)
    }

    public func saveImage(_ image: StoredImage, run: Int64) async throws {
        var findings = image.findings
        for i in findings.indices { findings[i].secret = nil }
        let data = try Self.encoder.encode(findings)
        try await write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO image (manifest_digest, platforms, cache_key, findings, layers, run_id) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [image.manifestDigest.description, image.platforms, image.cacheKey, data,
                                  image.layers.map(\.description).joined(separator: ","), run])
        }
    }

    public func recordImage(run: Int64, image: String, manifestDigest: Digest?, outcome: ImageOutcome, error: String?) async throws {
        let manifestDigest = manifestDigest?.description
        try await write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO run_image (run_id, image, manifest_digest, outcome, error) VALUES (?, ?, ?, ?, ?)",
                           arguments: [run, image, manifestDigest, outcome.rawValue, error])
        }
    }

    // MARK: findings

    public func recordFindings(run: Int64, seen: [SweepFinding], covered: Set<String>) async throws -> FindingChanges {
        let rows = try Self.findingRows(seen)
        return try await write { db in try Self.record(db, run: run, rows: rows, covered: covered) }
    }

    static func findingRows(_ seen: [SweepFinding]) throws -> [(SweepFinding, Data)] {
        try seen.map { f -> (SweepFinding, Data) in
            var clean = f
            clean.finding.secret = nil
            return (clean, try encoder.encode(clean))
        }
    }

    /// `recordFindings`' work inside a write transaction (also the last step of a shared run).
    static func record(_ db: Database, run: Int64, rows: [(SweepFinding, Data)], covered: Set<String>) throws -> FindingChanges {
        var changes = FindingChanges()
        for (f, detail) in rows {
            let k = f.key
            let existing = try Row.fetchOne(db, sql: """
                SELECT id, resolved_in_run FROM finding WHERE repository = ? AND secret_sha256 = ? AND rule_id = ? AND place = ?
                """, arguments: [k.repository, k.secretSHA256, k.ruleID, k.place])
            if let existing {
                let resolved: Int64? = existing["resolved_in_run"]
                try db.execute(sql: """
                    UPDATE finding SET last_seen_run = ?, resolved_in_run = NULL, severity = ?, detail = ? WHERE id = ?
                    """, arguments: [run, f.finding.severity.rawValue, detail, existing["id"] as Int64])
                if resolved == nil { changes.open.insert(k) } else { changes.new.insert(k) }
            } else {
                try db.execute(sql: """
                    INSERT INTO finding (repository, secret_sha256, rule_id, place, severity, first_seen_run, last_seen_run, detail)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [k.repository, k.secretSHA256, k.ruleID, k.place, f.finding.severity.rawValue, run, run, detail])
                changes.new.insert(k)
            }
        }
        for repository in covered.sorted() {
            let gone = try Row.fetchAll(db, sql: """
                SELECT * FROM finding WHERE repository = ? AND resolved_in_run IS NULL AND last_seen_run <> ?
                """, arguments: [repository, run])
            for row in gone {
                try db.execute(sql: "UPDATE finding SET resolved_in_run = ? WHERE id = ?", arguments: [run, row["id"] as Int64])
                if var f = storedFinding(row) {
                    f.resolvedInRun = run
                    changes.resolved.append(f)
                }
            }
        }
        return changes
    }

    public func openFindings(limit: Int) async throws -> [StoredFinding] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM finding WHERE resolved_in_run IS NULL
                ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END,
                         repository, rule_id, place LIMIT ?
                """, arguments: [limit]).compactMap(Self.storedFinding)
        }
    }

    static func storedFinding(_ row: Row) -> StoredFinding? {
        let detail: Data = row["detail"]
        guard let f = try? JSONDecoder().decode(SweepFinding.self, from: detail) else { return nil }
        return StoredFinding(key: FindingKey(repository: row["repository"], secretSHA256: row["secret_sha256"], ruleID: row["rule_id"],
                                             place: row["place"]),
                             finding: f, firstSeenRun: row["first_seen_run"], lastSeenRun: row["last_seen_run"],
                             resolvedInRun: row["resolved_in_run"])
    }

    // MARK: plumbing

    /// One IMMEDIATE transaction: the write lock is taken up front, so two processes wait on the busy timeout
    /// instead of one failing when it upgrades a read lock.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                guard let result else { throw SweepError.store(path: self.location, reason: "transaction returned nothing") }
                return result
            }
        } catch let e as SweepError {
            throw e
        } catch {
            throw SweepError.store(path: location, reason: Self.reason(error))
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw SweepError.store(path: location, reason: Self.reason(error))
        }
    }

    private static func reason(_ error: Error) -> String {
        if let e = error as? DatabaseError { return e.message ?? "\(e.resultCode)" }
        return "\(error)"
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private static let isoStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    static func iso(_ d: Date) -> String { isoStyle.format(d) }
    static func date(_ s: String) -> Date? { try? isoStyle.parse(s) }
}
