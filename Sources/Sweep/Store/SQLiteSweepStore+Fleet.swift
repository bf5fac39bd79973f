import Core
import Foundation
import GRDB
import Reports
import Scan

/// Shared runs on the embedded store: the same semantics as PostgreSQL for several worker processes on one
/// machine. SQLite has no row locks to skip, but every write here is one IMMEDIATE transaction, so claims are
/// serialised by the database's write lock and never handed out twice. Leases are this machine's clock.
extension SQLiteSweepStore {
    /// v2: run names and the shared-run tables.
    static func registerFleetMigration(_ m: inout DatabaseMigrator) {
        m.registerMigration("v2-shared-runs") { db in
            try db.execute(sql: """
                ALTER TABLE run ADD COLUMN name TEXT;
                ALTER TABLE run ADD COLUMN config_digest TEXT;
                ALTER TABLE run ADD COLUMN expanded INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE run ADD COLUMN expander TEXT;
                ALTER TABLE run ADD COLUMN expand_lease REAL;
                ALTER TABLE run ADD COLUMN expansion TEXT;
                ALTER TABLE run ADD COLUMN changes TEXT;
                CREATE UNIQUE INDEX run_name ON run (name) WHERE name IS NOT NULL;
                CREATE TABLE layer_claim (
                    digest TEXT NOT NULL, cache_key TEXT NOT NULL, worker TEXT NOT NULL, lease_until REAL NOT NULL,
                    PRIMARY KEY (digest, cache_key)
                );
                CREATE TABLE run_item (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id INTEGER NOT NULL REFERENCES run(id),
                    idx INTEGER NOT NULL,
                    input TEXT NOT NULL,
                    item TEXT NOT NULL,
                    state TEXT NOT NULL DEFAULT 'pending',
                    worker TEXT,
                    lease_until REAL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    record TEXT,
                    UNIQUE (run_id, input)
                );
                CREATE INDEX run_item_claim ON run_item (run_id, state, idx);
                CREATE TABLE run_worker (
                    run_id INTEGER NOT NULL REFERENCES run(id), worker TEXT NOT NULL, counts TEXT NOT NULL,
                    PRIMARY KEY (run_id, worker)
                );
                """)
        }
    }

    private static var now: Double { Date().timeIntervalSince1970 }

    public func joinRun(name: String, ruleset: String, configDigest: String, startedAt: Date) async throws -> Int64 {
        let host = ProcessInfo.processInfo.hostName
        let pid = Int64(getpid())
        let counts = try Self.json(RunCounts())
        let row = try await write { db -> (Int64, String, String?)? in
            try db.execute(sql: """
                INSERT INTO run (name, started_at, ruleset, config_digest, status, host, pid, counts) VALUES (?, ?, ?, ?, 'running', ?, ?, ?)
                ON CONFLICT DO NOTHING
                """, arguments: [name, Self.iso(startedAt), ruleset, configDigest, host, pid, counts])
            return try Row.fetchOne(db, sql: "SELECT id, ruleset, config_digest FROM run WHERE name = ?", arguments: [name])
                .map { ($0["id"], $0["ruleset"], $0["config_digest"]) }
        }
        guard let row else { throw SweepError.store(path: location, reason: "run \(name) was not created") }
        try FleetChecks.same(name: name, store: location, ruleset: ruleset, theirs: row.1, config: configDigest, theirConfig: row.2)
        return row.0
    }

    public func claimExpansion(run: Int64, worker: String, lease: TimeInterval) async throws -> ExpansionClaim {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT expanded, expansion, expander, expand_lease FROM run WHERE id = ?",
                                             arguments: [run]) else {
                throw SweepError.store(path: self.location, reason: "run \(run) is gone")
            }
            if (row["expanded"] as Int64) != 0 { return .done(FleetChecks.expansion(row["expansion"])) }
            let expander: String? = row["expander"]
            let until: Double? = row["expand_lease"]
            guard expander == nil || expander == worker || (until ?? 0) < Self.now else { return .busy }
            try db.execute(sql: "UPDATE run SET expander = ?, expand_lease = ? WHERE id = ?", arguments: [worker, Self.now + lease, run])
            return .yours
        }
    }

    public func addItems(run: Int64, items: [SharedItem], expansion: RunExpansion, worker: String) async throws {
        let json = try Self.json(expansion)
        let docs = try items.map { ($0.input, try Self.json($0)) }
        try await write { db in
            if try Int64.fetchOne(db, sql: "SELECT expanded FROM run WHERE id = ?", arguments: [run]) == 1 { return }
            for (i, (input, doc)) in docs.enumerated() {
                try db.execute(sql: "INSERT INTO run_item (run_id, idx, input, item) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                               arguments: [run, i, input, doc])
            }
            try db.execute(sql: "UPDATE run SET expanded = 1, expansion = ?, expander = ?, expand_lease = NULL WHERE id = ?",
                           arguments: [json, worker, run])
        }
    }

    public func claimItem(run: Int64, worker: String, lease: TimeInterval) async throws -> ClaimedItem? {
        let row = try await write { db -> (Int64, String)? in
            let now = Self.now
            guard let row = try Row.fetchOne(db, sql: """
                SELECT id, item FROM run_item WHERE run_id = ? AND (state = 'pending' OR (state = 'claimed' AND lease_until < ?))
                ORDER BY idx LIMIT 1
                """, arguments: [run, now]) else { return nil }
            try db.execute(sql: "UPDATE run_item SET state = 'claimed', worker = ?, lease_until = ?, attempts = attempts + 1 WHERE id = ?",
                           arguments: [worker, now + lease, row["id"] as Int64])
            return (row["id"], row["item"])
        }
        guard let row else { return nil }
        return ClaimedItem(id: row.0, item: try FleetChecks.item(row.1, store: location))
    }

    public func completeItem(run: Int64, id: Int64, worker: String, record: ItemRecord) async throws -> Bool {
        let json = try Self.json(record)
        return try await write { db in
            try db.execute(sql: """
                UPDATE run_item SET state = 'done', record = ?, lease_until = NULL WHERE id = ? AND run_id = ? AND worker = ? AND state = 'claimed'
                """, arguments: [json, id, run, worker])
            return db.changesCount > 0
        }
    }

    public func releaseItem(run: Int64, id: Int64, worker: String) async throws {
        try await write { db in
            try db.execute(sql: """
                UPDATE run_item SET state = 'pending', worker = NULL, lease_until = NULL WHERE id = ? AND run_id = ? AND worker = ? AND state = 'claimed'
                """, arguments: [id, run, worker])
        }
    }

    public func itemsLeft(run: Int64) async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM run_item WHERE run_id = ? AND state <> 'done'", arguments: [run]) ?? 0 }
    }

    public func renewLeases(run: Int64, worker: String, lease: TimeInterval) async throws {
        try await write { db in
            let until = Self.now + lease
            try db.execute(sql: "UPDATE run_item SET lease_until = ? WHERE run_id = ? AND worker = ? AND state = 'claimed'",
                           arguments: [until, run, worker])
            try db.execute(sql: "UPDATE layer_claim SET lease_until = ? WHERE worker = ?", arguments: [until, worker])
            try db.execute(sql: "UPDATE run SET expand_lease = ? WHERE id = ? AND expander = ? AND expanded = 0", arguments: [until, run, worker])
        }
    }

    public func claimLayer(digest: Digest, cacheKey: String, worker: String, lease: TimeInterval) async throws -> LayerClaim {
        if let stored = try await layer(digest: digest, cacheKey: cacheKey) { return .stored(stored) }
        let digest = digest.description
        let (mine, data) = try await write { db -> (Bool, Data?) in
            // Inside the write lock: a result saved since the look-up above is seen here.
            if let data = try Data.fetchOne(db, sql: "SELECT result FROM layer WHERE digest = ? AND cache_key = ?", arguments: [digest, cacheKey]) {
                return (false, data)
            }
            let now = Self.now
            try db.execute(sql: """
                INSERT INTO layer_claim (digest, cache_key, worker, lease_until) VALUES (?, ?, ?, ?)
                ON CONFLICT (digest, cache_key) DO UPDATE SET worker = excluded.worker, lease_until = excluded.lease_until
                WHERE layer_claim.lease_until < ? OR layer_claim.worker = excluded.worker
                """, arguments: [digest, cacheKey, worker, now + lease, now])
            return (db.changesCount > 0, nil)
        }
        if let data, let r = try? JSONDecoder().decode(LayerScanResult.self, from: data) { return .stored(r) }
        return mine ? .yours : .busy
    }

    public func releaseLayer(digest: Digest, cacheKey: String, worker: String) async throws {
        let digest = digest.description
        try await write { db in
            try db.execute(sql: "DELETE FROM layer_claim WHERE digest = ? AND cache_key = ? AND worker = ?", arguments: [digest, cacheKey, worker])
        }
    }

    public func saveWorker(run: Int64, worker: String, counts: RunCounts) async throws {
        let json = try Self.json(counts)
        try await write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO run_worker (run_id, worker, counts) VALUES (?, ?, ?)", arguments: [run, worker, json])
        }
    }

    public func sharedRun(name: String) async throws -> SharedRunState? {
        typealias RunRow = (id: Int64, started: String, finished: String?, ruleset: String, status: String, counts: String,
                            expansion: String?, changes: String?)
        typealias ItemRow = (item: String, state: String, worker: String?, record: String?)
        let fetched = try await read { db -> (RunRow, [ItemRow], [String])? in
            guard let r = try Row.fetchOne(db, sql: "SELECT * FROM run WHERE name = ?", arguments: [name]) else { return nil }
            let run: RunRow = (r["id"], r["started_at"], r["finished_at"], r["ruleset"], r["status"], r["counts"], r["expansion"], r["changes"])
            let items = try Row.fetchAll(db, sql: "SELECT item, state, worker, record FROM run_item WHERE run_id = ? ORDER BY idx",
                                         arguments: [run.id]).map { r -> ItemRow in (r["item"], r["state"], r["worker"], r["record"]) }
            let workers = try String.fetchAll(db, sql: "SELECT counts FROM run_worker WHERE run_id = ?", arguments: [run.id])
            return (run, items, workers)
        }
        guard let (run, rows, workers) = fetched else { return nil }
        let record = RunRecord(id: run.id, startedAt: Self.date(run.started) ?? Date(timeIntervalSince1970: 0),
                               finishedAt: run.finished.flatMap(Self.date), ruleset: run.ruleset,
                               status: RunStatus(rawValue: run.status) ?? .running,
                               counts: (try? JSONDecoder().decode(RunCounts.self, from: Data(run.counts.utf8))) ?? RunCounts(), name: name)
        let items = try rows.map { r in
            StoredRunItem(item: try FleetChecks.item(r.item, store: location), state: r.state, worker: r.worker,
                          record: try FleetChecks.record(r.record, store: location))
        }
        return FleetChecks.state(record: record, name: name, expansion: run.expansion, changes: run.changes, items: items,
                                 workerCounts: workers)
    }

    public func completeSharedRun(run: Int64, seen: [SweepFinding], covered: Set<String>, counts: RunCounts,
                                  finishedAt: Date) async throws -> FindingChanges? {
        let rows = try Self.findingRows(seen)
        return try await write { db -> FindingChanges? in
            guard try String.fetchOne(db, sql: "SELECT status FROM run WHERE id = ?", arguments: [run]) == RunStatus.running.rawValue,
                  try Int.fetchOne(db, sql: "SELECT count(*) FROM run_item WHERE run_id = ? AND state <> 'done'", arguments: [run]) == 0
            else { return nil }
            let changes = try Self.record(db, run: run, rows: rows, covered: covered)
            var final = counts
            final.findingsNew = changes.new.count
            final.findingsOpen = changes.open.count
            final.findingsResolved = changes.resolved.count
            try db.execute(sql: "UPDATE run SET status = 'complete', finished_at = ?, counts = ?, changes = ? WHERE id = ?",
                           arguments: [Self.iso(finishedAt), try Self.json(final), try Self.json(StoredChanges(changes)), run])
            return changes
        }
    }

    public func classify(run: Int64, keys: [FindingKey]) async throws -> (new: Set<FindingKey>, open: Set<FindingKey>) {
        try await read { db in
            var new = Set<FindingKey>(), open = Set<FindingKey>()
            for k in Set(keys) {
                if let row = try Row.fetchOne(db, sql: """
                    SELECT first_seen_run, resolved_in_run FROM finding WHERE repository = ? AND secret_sha256 = ? AND rule_id = ? AND place = ?
                    """, arguments: [k.repository, k.secretSHA256, k.ruleID, k.place]) {
                    let first: Int64 = row["first_seen_run"]
                    let resolved: Int64? = row["resolved_in_run"]
                    if first == run || (resolved != nil && resolved != run) { new.insert(k) } else { open.insert(k) }
                } else {
                    new.insert(k)
                }
            }
            return (new, open)
        }
    }
}
