import Foundation
import PostgresNIO
import Scan

/// The shared store: one PostgreSQL database that every worker of a fleet reaches (through postgres-nio). Row
/// locks are the queue: items are claimed with `SELECT … FOR UPDATE SKIP LOCKED`, leases are timestamps on the
/// server's clock (`now()`), so workers on machines whose clocks disagree still agree on who holds what.
/// Tables are prefixed `sweep_` so the store can live in a database the team uses for other things; the schema
/// is migrated under an advisory lock, so a fleet starting at once migrates it exactly once.
public final class PostgresSweepStore: SweepStore {
    public let location: String
    private let pool: PostgresPool
    private let logger: Logger
    private static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()
    /// Advisory lock keys: one for migrations, one serialising finding bookkeeping across runs.
    private static let migrationLock: Int64 = 0x5354_4f57_0001
    private static let findingsLock: Int64 = 0x5354_4f57_0002

    private init(location: String, pool: PostgresPool, logger: Logger) {
        self.location = location
        self.pool = pool
        self.logger = logger
    }

    /// Connects (failing at once, in one line without the password, when the server cannot be reached or
    /// refuses the credentials) and migrates the schema.
    public static func connect(_ url: PostgresURL) async throws -> PostgresSweepStore {
        var logger = Logger(label: "stowaway-sweep-postgres")
        logger.logLevel = .critical
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch url.sslMode {
            case .disable:
                tls = .disable
            case .prefer, .require:
                var c = TLSConfiguration.makeClientConfiguration()
                c.certificateVerification = .none
                let context = try NIOSSLContext(configuration: c)
                tls = url.sslMode == .prefer ? .prefer(context) : .require(context)
            case .verifyFull:
                var c = TLSConfiguration.makeClientConfiguration()
                if let ca = url.sslRootCert { c.trustRoots = .file(ca) }
                tls = .require(try NIOSSLContext(configuration: c))
            }
        } catch {
            throw SweepError.databaseURL(url: url.shown, reason: "TLS setup: \(error)")
        }
        var config = PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                                      database: url.database, tls: tls)
        config.options.connectTimeout = .seconds(15)
        let store = PostgresSweepStore(location: url.shown, pool: PostgresPool(configuration: config, maximum: 6, logger: logger),
                                       logger: logger)
        try await store.migrate()
        return store
    }

    /// Closes the store's connections.
    public func shutdown() async {
        await pool.close()
    }

    // MARK: schema

    /// Schema versions in order; a version once shipped is never edited, only followed by another.
    private static let migrations: [[String]] = [
        [
            """
            CREATE TABLE sweep_run (
                id BIGSERIAL PRIMARY KEY,
                name TEXT UNIQUE,
                started_at TIMESTAMPTZ NOT NULL,
                finished_at TIMESTAMPTZ,
                ruleset TEXT NOT NULL,
                config_digest TEXT,
                status TEXT NOT NULL,
                host TEXT NOT NULL,
                pid BIGINT NOT NULL,
                counts TEXT NOT NULL,
                expanded BOOLEAN NOT NULL DEFAULT false,
                expander TEXT,
                expand_lease TIMESTAMPTZ,
                expansion TEXT,
                changes TEXT
            )
            """,
            """
            CREATE TABLE sweep_layer (
                digest TEXT NOT NULL, cache_key TEXT NOT NULL, result TEXT NOT NULL, run_id BIGINT NOT NULL,
                PRIMARY KEY (digest, cache_key)
            )
            """,
            """
            CREATE TABLE sweep_layer_claim (
                digest TEXT NOT NULL, cache_key TEXT NOT NULL, worker TEXT NOT NULL, lease_until TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (digest, cache_key)
            )
            """,
            """
            CREATE TABLE sweep_image (
                manifest_digest TEXT NOT NULL, platforms TEXT NOT NULL, cache_key TEXT NOT NULL, findings TEXT NOT NULL,
                layers TEXT NOT NULL, run_id BIGINT NOT NULL,
                PRIMARY KEY (manifest_digest, platforms, cache_key)
            )
            """,
            """
            CREATE TABLE sweep_run_image (
                run_id BIGINT NOT NULL REFERENCES sweep_run(id), image TEXT NOT NULL, manifest_digest TEXT,
                outcome TEXT NOT NULL, error TEXT,
                PRIMARY KEY (run_id, image)
            )
            """,
            """
            CREATE TABLE sweep_item (
                id BIGSERIAL PRIMARY KEY,
                run_id BIGINT NOT NULL REFERENCES sweep_run(id),
                idx INTEGER NOT NULL,
                input TEXT NOT NULL,
                item TEXT NOT NULL,
                state TEXT NOT NULL DEFAULT 'pending',
                worker TEXT,
                lease_until TIMESTAMPTZ,
                attempts INTEGER NOT NULL DEFAULT 0,
                record TEXT,
                UNIQUE (run_id, input)
            )
            """,
            "CREATE INDEX sweep_item_claim ON sweep_item (run_id, state, idx)",
            """
            CREATE TABLE sweep_worker (
                run_id BIGINT NOT NULL REFERENCES sweep_run(id), worker TEXT NOT NULL, counts TEXT NOT NULL,
                PRIMARY KEY (run_id, worker)
            )
            """,
            """
            CREATE TABLE sweep_finding (
                id BIGSERIAL PRIMARY KEY,
                repository TEXT NOT NULL, secret_sha256 TEXT NOT NULL, rule_id TEXT NOT NULL, place TEXT NOT NULL,
                severity TEXT NOT NULL, first_seen_run BIGINT NOT NULL, last_seen_run BIGINT NOT NULL, resolved_in_run BIGINT,
                detail TEXT NOT NULL,
                UNIQUE (repository, secret_sha256, rule_id, place)
            )
            """,
            "CREATE INDEX sweep_finding_open ON sweep_finding (repository) WHERE resolved_in_run IS NULL",
        ],
        [
            // v2: acceptances (`sweep accept`), one per fingerprint.
            """
            CREATE TABLE sweep_acceptance (
                fingerprint TEXT PRIMARY KEY, reason TEXT NOT NULL, until TEXT, image TEXT, path TEXT,
                accepted_at TIMESTAMPTZ NOT NULL
            )
            """,
            "CREATE INDEX sweep_finding_secret ON sweep_finding (secret_sha256)",
        ],
    ]

    private func migrate() async throws {
        try await transaction { c in
            try await c.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: self.logger)
            try await c.query("CREATE TABLE IF NOT EXISTS sweep_migration (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)",
                              logger: self.logger)
            let applied = try await c.query("SELECT COALESCE(MAX(version), 0) FROM sweep_migration", logger: self.logger).collect()
            let current = try applied.first?.decode(Int.self) ?? 0
            guard current <= Self.migrations.count else {
                throw SweepError.store(path: self.location, reason: "schema version \(current) is newer than this build knows; upgrade stowaway")
            }
            for (i, statements) in Self.migrations.enumerated() where i + 1 > current {
                for sql in statements { try await c.query(PostgresQuery(unsafeSQL: sql), logger: self.logger) }
                try await c.query("INSERT INTO sweep_migration (version, applied_at) VALUES (\(i + 1), now())", logger: self.logger)
            }
        }
    }

    // MARK: runs

    public func beginRun(ruleset: String, startedAt: Date) async throws -> Int64 {
        let host = ProcessInfo.processInfo.hostName
        let pid = Int64(getpid())
        let counts = try Self.json(RunCounts())
        return try await transaction { c in
            // A run of this host still `running` whose process is gone was killed: say so in the history.
            for row in try await c.query("SELECT id, pid FROM sweep_run WHERE status = 'running' AND host = \(host) AND name IS NULL",
                                         logger: self.logger).collect() {
                let (id, other) = try row.decode((Int64, Int64).self)
                if other != pid, kill(pid_t(other), 0) != 0, errno == ESRCH {
                    try await c.query("UPDATE sweep_run SET status = 'abandoned' WHERE id = \(id)", logger: self.logger)
                }
            }
            let rows = try await c.query("""
                INSERT INTO sweep_run (started_at, ruleset, status, host, pid, counts)
                VALUES (\(startedAt), \(ruleset), 'running', \(host), \(pid), \(counts)) RETURNING id
                """, logger: self.logger).collect()
            return try self.one(rows).decode(Int64.self)
        }
    }

    public func finishRun(id: Int64, status: RunStatus, finishedAt: Date, counts: RunCounts) async throws {
        let json = try Self.json(counts)
        try await execute("UPDATE sweep_run SET finished_at = \(finishedAt), status = \(status.rawValue), counts = \(json) WHERE id = \(id)")
    }

    public func runs(limit: Int) async throws -> [RunRecord] {
        try await select("""
            SELECT id, started_at, finished_at, ruleset, status, counts, name FROM sweep_run ORDER BY id DESC LIMIT \(limit)
            """).map(Self.runRecord)
    }

    private static func runRecord(_ row: PostgresRow) throws -> RunRecord {
        let (id, started, finished, ruleset, status, counts, name) = try row.decode((Int64, Date, Date?, String, String, String, String?).self)
        return RunRecord(id: id, startedAt: started, finishedAt: finished, ruleset: ruleset, status: RunStatus(rawValue: status) ?? .running,
                         counts: (try? JSONDecoder().decode(RunCounts.self, from: Data(counts.utf8))) ?? RunCounts(), name: name)
    }

    // MARK: layers and images

    public func layer(digest: String, cacheKey: String) async throws -> LayerScanResult? {
        let rows = try await select("SELECT result FROM sweep_layer WHERE digest = \(digest) AND cache_key = \(cacheKey)")
        // A row this build cannot read is treated as absent: the layer is scanned again and the row replaced.
        guard let json = try rows.first?.decode(String.self) else { return nil }
        return try? JSONDecoder().decode(LayerScanResult.self, from: Data(json.utf8))
    }

    public func saveLayer(digest: String, cacheKey: String, result: LayerScanResult, run: Int64) async throws {
        guard result.error == nil else { return }
        let json = try Self.json(result)
        try await transaction { c in
            try await c.query("""
                INSERT INTO sweep_layer (digest, cache_key, result, run_id) VALUES (\(digest), \(cacheKey), \(json), \(run))
                ON CONFLICT (digest, cache_key) DO UPDATE SET result = EXCLUDED.result, run_id = EXCLUDED.run_id
                """, logger: self.logger)
            try await c.query("DELETE FROM sweep_layer_claim WHERE digest = \(digest) AND cache_key = \(cacheKey)", logger: self.logger)
        }
    }

    public func image(manifestDigest: String, platforms: String, cacheKey: String) async throws -> StoredImage? {
        let rows = try await select("""
            SELECT findings, layers FROM sweep_image WHERE manifest_digest = \(manifestDigest) AND platforms = \(platforms) AND cache_key = \(cacheKey)
            """)
        guard let row = rows.first else { return nil }
        let (findings, layers) = try row.decode((String, String).self)
        guard let list = try? JSONDecoder().decode([Finding].self, from: Data(findings.utf8)) else { return nil }
        return StoredImage(manifestDigest: manifestDigest, platforms: platforms, cacheKey: cacheKey, findings: list,
                           layers: layers.split(separator: ",").map(String.init))
    }

    public func saveImage(_ image: StoredImage, run: Int64) async throws {
        var findings = image.findings
        for i in findings.indices { findings[i].secret = nil }
        let json = try Self.json(findings)
        let layers = image.layers.joined(separator: ",")
        try await execute("""
            INSERT INTO sweep_image (manifest_digest, platforms, cache_key, findings, layers, run_id)
            VALUES (\(image.manifestDigest), \(image.platforms), \(image.cacheKey), \(json), \(layers), \(run))
            ON CONFLICT (manifest_digest, platforms, cache_key) DO UPDATE SET findings = EXCLUDED.findings, layers = EXCLUDED.layers,
                run_id = EXCLUDED.run_id
            """)
    }

    public func recordImage(run: Int64, image: String, manifestDigest: String?, outcome: ImageOutcome, error: String?) async throws {
        try await execute("""
            INSERT INTO sweep_run_image (run_id, image, manifest_digest, outcome, error) VALUES (\(run), \(image), \(manifestDigest), \(outcome.rawValue), \(error))
            ON CONFLICT (run_id, image) DO UPDATE SET manifest_digest = EXCLUDED.manifest_digest, outcome = EXCLUDED.outcome, error = EXCLUDED.error
            """)
    }

    // MARK: findings

    public func recordFindings(run: Int64, seen: [SweepFinding], covered: Set<String>) async throws -> FindingChanges {
        let rows = try Self.findingRows(seen)
        return try await transaction { c in try await self.record(c, run: run, rows: rows, covered: covered) }
    }

    private static func findingRows(_ seen: [SweepFinding]) throws -> [(SweepFinding, String)] {
        try seen.map { f in
            var clean = f
            clean.finding.secret = nil
            return (clean, try json(clean))
        }
    }

    /// `recordFindings`' work inside a transaction, serialised with every other run's by an advisory lock (two
    /// runs inserting the same new finding at once would otherwise collide on its unique key).
    private func record(_ c: PostgresConnection, run: Int64, rows: [(SweepFinding, String)], covered: Set<String>) async throws -> FindingChanges {
        try await c.query("SELECT pg_advisory_xact_lock(\(Self.findingsLock))", logger: logger)
        var changes = FindingChanges()
        for (f, detail) in rows {
            let k = f.key
            let severity = f.finding.severity.rawValue
            let existing = try await c.query("""
                SELECT id, resolved_in_run FROM sweep_finding
                WHERE repository = \(k.repository) AND secret_sha256 = \(k.secretSHA256) AND rule_id = \(k.ruleID) AND place = \(k.place)
                """, logger: logger).collect()
            if let row = existing.first {
                let (id, resolved) = try row.decode((Int64, Int64?).self)
                try await c.query("""
                    UPDATE sweep_finding SET last_seen_run = \(run), resolved_in_run = NULL, severity = \(severity), detail = \(detail) WHERE id = \(id)
                    """, logger: logger)
                if resolved == nil { changes.open.insert(k) } else { changes.new.insert(k) }
            } else {
                try await c.query("""
                    INSERT INTO sweep_finding (repository, secret_sha256, rule_id, place, severity, first_seen_run, last_seen_run, detail)
                    VALUES (\(k.repository), \(k.secretSHA256), \(k.ruleID), \(k.place), \(severity), \(run), \(run), \(detail))
                    """, logger: logger)
                changes.new.insert(k)
            }
        }
        for repository in covered.sorted() {
            let gone = try await c.query("""
                UPDATE sweep_finding SET resolved_in_run = \(run)
                WHERE repository = \(repository) AND resolved_in_run IS NULL AND last_seen_run <> \(run)
                RETURNING \(unescaped: Self.findingColumns)
                """, logger: logger).collect()
            changes.resolved += try gone.compactMap(Self.storedFinding)
        }
        return changes
    }

    public func openFindings(limit: Int) async throws -> [StoredFinding] {
        try await select("""
            SELECT \(unescaped: Self.findingColumns) FROM sweep_finding WHERE resolved_in_run IS NULL
            ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END,
                     repository, rule_id, place LIMIT \(limit)
            """).compactMap(Self.storedFinding)
    }

    public func findings(aliveSince run: Int64) async throws -> [StoredFinding] {
        try await select("""
            SELECT \(unescaped: Self.findingColumns) FROM sweep_finding WHERE resolved_in_run IS NULL OR resolved_in_run >= \(run)
            ORDER BY repository, rule_id, place
            """).compactMap(Self.storedFinding)
    }

    public func failures(run: Int64) async throws -> [SweepReport.Failed] {
        try await select("""
            SELECT image, error FROM sweep_run_image WHERE run_id = \(run) AND outcome = 'failed' ORDER BY image
            """).map { row in
            let (image, error) = try row.decode((String, String?).self)
            return SweepReport.Failed(image: image, error: error ?? "unknown error")
        }
    }

    // MARK: triage

    public func accept(_ entry: TriageEntry) async throws {
        let at = entry.acceptedAt ?? Date()
        try await execute("""
            INSERT INTO sweep_acceptance (fingerprint, reason, until, image, path, accepted_at)
            VALUES (\(entry.fingerprint), \(entry.reason), \(entry.until?.description), \(entry.image?.pattern), \(entry.path?.pattern), \(at))
            ON CONFLICT (fingerprint) DO UPDATE SET reason = EXCLUDED.reason, until = EXCLUDED.until, image = EXCLUDED.image,
                path = EXCLUDED.path, accepted_at = EXCLUDED.accepted_at
            """)
    }

    public func acceptances() async throws -> [TriageEntry] {
        try await select("SELECT fingerprint, reason, until, image, path, accepted_at FROM sweep_acceptance ORDER BY accepted_at, fingerprint")
            .compactMap { row in
                let (fp, reason, until, image, path, at) = try row.decode((String, String, String?, String?, String?, Date).self)
                var e = AcceptanceRow(fingerprint: fp, reason: reason, until: until, image: image, path: path, acceptedAt: nil).entry { _ in nil }
                e?.acceptedAt = at
                return e
            }
    }

    public func knowsSecret(_ sha256: String) async throws -> Bool {
        let rows = try await select("SELECT EXISTS (SELECT 1 FROM sweep_finding WHERE secret_sha256 = \(sha256))")
        return try rows.first?.decode(Bool.self) ?? false
    }

    private static let findingColumns = "repository, secret_sha256, rule_id, place, first_seen_run, last_seen_run, resolved_in_run, detail"

    private static func storedFinding(_ row: PostgresRow) throws -> StoredFinding? {
        let (repository, sha, rule, place, first, last, resolved, detail) = try row.decode((String, String, String, String, Int64, Int64, Int64?, String).self)
        guard let f = try? JSONDecoder().decode(SweepFinding.self, from: Data(detail.utf8)) else { return nil }
        return StoredFinding(key: FindingKey(repository: repository, secretSHA256: sha, ruleID: rule, place: place), finding: f,
                             firstSeenRun: first, lastSeenRun: last, resolvedInRun: resolved)
    }

    // MARK: shared runs

    public func joinRun(name: String, ruleset: String, configDigest: String, startedAt: Date) async throws -> Int64 {
        let host = ProcessInfo.processInfo.hostName
        let pid = Int64(getpid())
        let counts = try Self.json(RunCounts())
        let rows = try await transaction { c in
            try await c.query("""
                INSERT INTO sweep_run (name, started_at, ruleset, config_digest, status, host, pid, counts)
                VALUES (\(name), \(startedAt), \(ruleset), \(configDigest), 'running', \(host), \(pid), \(counts))
                ON CONFLICT (name) DO NOTHING
                """, logger: self.logger)
            return try await c.query("SELECT id, ruleset, config_digest FROM sweep_run WHERE name = \(name)", logger: self.logger).collect()
        }
        let (id, theirRules, theirConfig) = try one(rows).decode((Int64, String, String?).self)
        try FleetChecks.same(name: name, store: location, ruleset: ruleset, theirs: theirRules, config: configDigest, theirConfig: theirConfig)
        return id
    }

    public func claimExpansion(run: Int64, worker: String, lease: TimeInterval) async throws -> ExpansionClaim {
        try await transaction { c in
            let rows = try await c.query("""
                SELECT expanded, expansion, expander, COALESCE(expand_lease < now(), true) FROM sweep_run WHERE id = \(run) FOR UPDATE
                """, logger: self.logger).collect()
            let (expanded, expansion, expander, expired) = try self.one(rows).decode((Bool, String?, String?, Bool).self)
            if expanded { return .done(FleetChecks.expansion(expansion)) }
            guard expander == nil || expired || expander == worker else { return .busy }
            try await c.query("""
                UPDATE sweep_run SET expander = \(worker), expand_lease = now() + make_interval(secs => \(lease)) WHERE id = \(run)
                """, logger: self.logger)
            return .yours
        }
    }

    public func addItems(run: Int64, items: [SharedItem], expansion: RunExpansion, worker: String) async throws {
        let json = try Self.json(expansion)
        let encoded = try items.map { ($0.input, try Self.json($0)) }
        try await transaction { c in
            let rows = try await c.query("SELECT expanded FROM sweep_run WHERE id = \(run) FOR UPDATE", logger: self.logger).collect()
            if try self.one(rows).decode(Bool.self) { return }
            var start = 0
            while start < encoded.count {
                let chunk = encoded[start..<min(encoded.count, start + 1000)]
                let idx = Array(start..<(start + chunk.count))
                let inputs = chunk.map(\.0), docs = chunk.map(\.1)
                try await c.query("""
                    INSERT INTO sweep_item (run_id, idx, input, item)
                    SELECT \(run), i, n, d FROM unnest(\(idx)::integer[], \(inputs)::text[], \(docs)::text[]) AS t(i, n, d)
                    ON CONFLICT (run_id, input) DO NOTHING
                    """, logger: self.logger)
                start += chunk.count
            }
            try await c.query("""
                UPDATE sweep_run SET expanded = true, expansion = \(json), expander = \(worker), expand_lease = NULL WHERE id = \(run)
                """, logger: self.logger)
        }
    }

    public func claimItem(run: Int64, worker: String, lease: TimeInterval) async throws -> ClaimedItem? {
        let rows = try await select("""
            UPDATE sweep_item SET state = 'claimed', worker = \(worker), lease_until = now() + make_interval(secs => \(lease)),
                attempts = attempts + 1
            WHERE id = (SELECT id FROM sweep_item
                        WHERE run_id = \(run) AND (state = 'pending' OR (state = 'claimed' AND lease_until < now()))
                        ORDER BY idx LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING id, item
            """)
        guard let row = rows.first else { return nil }
        let (id, doc) = try row.decode((Int64, String).self)
        return ClaimedItem(id: id, item: try FleetChecks.item(doc, store: location))
    }

    public func completeItem(run: Int64, id: Int64, worker: String, record: ItemRecord) async throws -> Bool {
        let json = try Self.json(record)
        let rows = try await select("""
            UPDATE sweep_item SET state = 'done', record = \(json), lease_until = NULL
            WHERE id = \(id) AND run_id = \(run) AND worker = \(worker) AND state = 'claimed' RETURNING id
            """)
        return !rows.isEmpty
    }

    public func releaseItem(run: Int64, id: Int64, worker: String) async throws {
        try await execute("""
            UPDATE sweep_item SET state = 'pending', worker = NULL, lease_until = NULL
            WHERE id = \(id) AND run_id = \(run) AND worker = \(worker) AND state = 'claimed'
            """)
    }

    public func itemsLeft(run: Int64) async throws -> Int {
        let rows = try await select("SELECT count(*) FROM sweep_item WHERE run_id = \(run) AND state <> 'done'")
        return Int(try one(rows).decode(Int64.self))
    }

    public func renewLeases(run: Int64, worker: String, lease: TimeInterval) async throws {
        try await transaction { c in
            try await c.query("""
                UPDATE sweep_item SET lease_until = now() + make_interval(secs => \(lease))
                WHERE run_id = \(run) AND worker = \(worker) AND state = 'claimed'
                """, logger: self.logger)
            try await c.query("""
                UPDATE sweep_layer_claim SET lease_until = now() + make_interval(secs => \(lease)) WHERE worker = \(worker)
                """, logger: self.logger)
            try await c.query("""
                UPDATE sweep_run SET expand_lease = now() + make_interval(secs => \(lease))
                WHERE id = \(run) AND expander = \(worker) AND NOT expanded
                """, logger: self.logger)
        }
    }

    public func claimLayer(digest: String, cacheKey: String, worker: String, lease: TimeInterval) async throws -> LayerClaim {
        if let stored = try await layer(digest: digest, cacheKey: cacheKey) { return .stored(stored) }
        let (mine, result) = try await transaction { c -> (Bool, String?) in
            // Claim first, then look for a result: a holder that saves commits its row and drops its claim in one
            // transaction, so either the claim insert waits for that commit and the result is seen, or it wins.
            let claimed = try await c.query("""
                INSERT INTO sweep_layer_claim (digest, cache_key, worker, lease_until)
                VALUES (\(digest), \(cacheKey), \(worker), now() + make_interval(secs => \(lease)))
                ON CONFLICT (digest, cache_key) DO UPDATE SET worker = EXCLUDED.worker, lease_until = EXCLUDED.lease_until
                WHERE sweep_layer_claim.lease_until < now() OR sweep_layer_claim.worker = EXCLUDED.worker
                RETURNING worker
                """, logger: self.logger).collect()
            let rows = try await c.query("SELECT result FROM sweep_layer WHERE digest = \(digest) AND cache_key = \(cacheKey)",
                                         logger: self.logger).collect()
            let result = try rows.first?.decode(String.self)
            if result != nil && !claimed.isEmpty {
                try await c.query("DELETE FROM sweep_layer_claim WHERE digest = \(digest) AND cache_key = \(cacheKey)", logger: self.logger)
            }
            return (!claimed.isEmpty, result)
        }
        if let result, let r = try? JSONDecoder().decode(LayerScanResult.self, from: Data(result.utf8)) { return .stored(r) }
        return mine ? .yours : .busy
    }

    public func releaseLayer(digest: String, cacheKey: String, worker: String) async throws {
        try await execute("DELETE FROM sweep_layer_claim WHERE digest = \(digest) AND cache_key = \(cacheKey) AND worker = \(worker)")
    }

    public func saveWorker(run: Int64, worker: String, counts: RunCounts) async throws {
        let json = try Self.json(counts)
        try await execute("""
            INSERT INTO sweep_worker (run_id, worker, counts) VALUES (\(run), \(worker), \(json))
            ON CONFLICT (run_id, worker) DO UPDATE SET counts = EXCLUDED.counts
            """)
    }

    public func sharedRun(name: String) async throws -> SharedRunState? {
        let runRows = try await select("""
            SELECT id, started_at, finished_at, ruleset, status, counts, name, expansion, changes FROM sweep_run WHERE name = \(name)
            """)
        guard let row = runRows.first else { return nil }
        let record = try Self.runRecord(row)
        let (_, _, _, _, _, _, _, expansion, changes) = try row.decode((Int64, Date, Date?, String, String, String, String?, String?, String?).self)
        var items: [StoredRunItem] = []
        for r in try await select("SELECT item, state, worker, record FROM sweep_item WHERE run_id = \(record.id) ORDER BY idx") {
            let (doc, state, worker, rec) = try r.decode((String, String, String?, String?).self)
            items.append(StoredRunItem(item: try FleetChecks.item(doc, store: location), state: state, worker: worker,
                                       record: rec.flatMap { try? JSONDecoder().decode(ItemRecord.self, from: Data($0.utf8)) }))
        }
        let workers = try await select("SELECT counts FROM sweep_worker WHERE run_id = \(record.id)").map { try $0.decode(String.self) }
        return FleetChecks.state(record: record, name: name, expansion: expansion, changes: changes, items: items, workerCounts: workers)
    }

    public func completeSharedRun(run: Int64, seen: [SweepFinding], covered: Set<String>, counts: RunCounts,
                                  finishedAt: Date) async throws -> FindingChanges? {
        let rows = try Self.findingRows(seen)
        return try await transaction { c -> FindingChanges? in
            let status = try await c.query("SELECT status FROM sweep_run WHERE id = \(run) FOR UPDATE", logger: self.logger).collect()
            guard try self.one(status).decode(String.self) == RunStatus.running.rawValue else { return nil }
            let left = try await c.query("SELECT count(*) FROM sweep_item WHERE run_id = \(run) AND state <> 'done'", logger: self.logger).collect()
            guard try self.one(left).decode(Int64.self) == 0 else { return nil }
            let changes = try await self.record(c, run: run, rows: rows, covered: covered)
            var final = counts
            final.findingsNew = changes.new.count
            final.findingsOpen = changes.open.count
            final.findingsResolved = changes.resolved.count
            let countsJSON = try Self.json(final), changesJSON = try Self.json(StoredChanges(changes))
            try await c.query("""
                UPDATE sweep_run SET status = 'complete', finished_at = \(finishedAt), counts = \(countsJSON), changes = \(changesJSON) WHERE id = \(run)
                """, logger: self.logger)
            return changes
        }
    }

    public func classify(run: Int64, keys: [FindingKey]) async throws -> (new: Set<FindingKey>, open: Set<FindingKey>) {
        var new = Set<FindingKey>(), open = Set<FindingKey>()
        for k in Set(keys) {
            let rows = try await select("""
                SELECT first_seen_run, resolved_in_run FROM sweep_finding
                WHERE repository = \(k.repository) AND secret_sha256 = \(k.secretSHA256) AND rule_id = \(k.ruleID) AND place = \(k.place)
                """)
            if let row = rows.first {
                let (first, resolved) = try row.decode((Int64, Int64?).self)
                if first == run || (resolved != nil && resolved != run) { new.insert(k) } else { open.insert(k) }
            } else {
                new.insert(k)
            }
        }
        return (new, open)
    }

    // MARK: plumbing

    private func one(_ rows: [PostgresRow]) throws -> PostgresRow {
        guard let row = rows.first else { throw SweepError.store(path: location, reason: "a query returned no row") }
        return row
    }

    private func select(_ q: PostgresQuery) async throws -> [PostgresRow] {
        try await withConnection { c in try await c.query(q, logger: self.logger).collect() }
    }

    private func execute(_ q: PostgresQuery) async throws {
        _ = try await select(q)
    }

    private func withConnection<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await pool.with(body)
        } catch let e as SweepError {
            throw e
        } catch {
            throw SweepError.store(path: location, reason: PostgresPool.reason(error))
        }
    }

    /// One transaction on one connection (BEGIN, the body, COMMIT; ROLLBACK when the body throws).
    private func transaction<T: Sendable>(_ body: @Sendable @escaping (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection { c in
            try await c.query("BEGIN", logger: self.logger)
            do {
                let result = try await body(c)
                try await c.query("COMMIT", logger: self.logger)
                return result
            } catch {
                _ = try? await c.query("ROLLBACK", logger: self.logger)
                throw error
            }
        }
    }

    private static func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// A few PostgreSQL connections shared by the tasks of one process, opened on demand. Connecting is this
/// pool's own business (not postgres-nio's pool), so a refused password or an unreachable server fails the
/// first request at once instead of being retried in the background while callers wait.
actor PostgresPool {
    private let configuration: PostgresConnection.Configuration
    private let maximum: Int
    private let logger: Logger
    private var idle: [PostgresConnection] = []
    private var open = 0
    private var nextID = 0
    private var waiting: [CheckedContinuation<PostgresConnection?, Never>] = []

    init(configuration: PostgresConnection.Configuration, maximum: Int, logger: Logger) {
        self.configuration = configuration
        self.maximum = maximum
        self.logger = logger
    }

    deinit {
        // A connection must be closed before it is freed: a task of its own keeps the idle ones until they are.
        let left = idle
        if !left.isEmpty {
            Task { for c in left { try? await c.close() } }
        }
    }

    /// Closes every idle connection (the process is done with the store).
    func close() async {
        let left = idle
        idle = []
        open -= left.count
        for c in left { try? await c.close() }
    }

    /// Runs `body` with a connection of its own; a connection that broke is dropped, not handed out again.
    func with<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let c = try await lease()
        do {
            let r = try await body(c)
            give(c)
            return r
        } catch {
            give(c)
            throw error
        }
    }

    private func lease() async throws -> PostgresConnection {
        while let c = idle.popLast() {
            if !c.isClosed { return c }
            open -= 1
        }
        if open < maximum {
            open += 1
            nextID += 1
            do {
                return try await PostgresConnection.connect(configuration: configuration, id: nextID, logger: logger)
            } catch {
                open -= 1
                wakeOne()
                throw error
            }
        }
        if let c = await withCheckedContinuation({ waiting.append($0) }) { return c }
        return try await lease()
    }

    private func give(_ c: PostgresConnection) {
        if c.isClosed {
            open -= 1
            wakeOne()
        } else if !waiting.isEmpty {
            waiting.removeFirst().resume(returning: c)
        } else {
            idle.append(c)
        }
    }

    /// A slot freed without a connection: the first waiter tries to open one itself.
    private func wakeOne() {
        if !waiting.isEmpty { waiting.removeFirst().resume(returning: nil) }
    }

    /// One line for a PostgreSQL error: the server's own message when it sent one (never the password: the
    /// server does not echo it, and nothing here quotes the configuration), else the failure's kind.
    nonisolated static func reason(_ error: Error) -> String {
        if let e = error as? PSQLError {
            if let message = e.serverInfo?[.message] {
                let code = e.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return message + code
            }
            if e.code == .connectionError, let underlying = e.underlying { return "cannot connect: \(underlying)" }
            if let underlying = e.underlying { return "\(e.code): \(underlying)" }
            return "\(e.code)"
        }
        return "\(error)"
    }
}
