import Core
import Foundation
import PostgresNIO
import Reports
import Scan
/// The queue of a shared run: items claimed under leases by the workers of a fleet, and the run's end.
extension PostgresSweepStore {
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

    public func claimLayer(digest: Digest, cacheKey: String, worker: String, lease: TimeInterval) async throws -> LayerClaim {
        if let stored = try await layer(digest: digest, cacheKey: cacheKey) { return .stored(stored) }
        let digest = digest.description
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

    public func releaseLayer(digest: Digest, cacheKey: String, worker: String) async throws {
        let digest = digest.description
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
                                       record: try FleetChecks.record(rec, store: location)))
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
}
