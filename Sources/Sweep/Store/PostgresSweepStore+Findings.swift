import Foundation
import PostgresNIO
import Reports
import Scan
/// The findings ledger (new, open, resolved across runs) and the acceptances of triage.
extension PostgresSweepStore {
    // MARK: findings

    public func recordFindings(run: Int64, seen: [SweepFinding], covered: Set<String>) async throws -> FindingChanges {
        let rows = try Self.findingRows(seen)
        return try await transaction { c in try await self.record(c, run: run, rows: rows, covered: covered) }
    }

    static func findingRows(_ seen: [SweepFinding]) throws -> [(SweepFinding, String)] {
        try seen.map { f in
            var clean = f
            clean.finding.secret = nil
            return (clean, try json(clean))
        }
    }

    /// `recordFindings`' work inside a transaction, serialised with every other run's by an advisory lock (two
    /// runs inserting the same new finding at once would otherwise collide on its unique key).
    func record(_ c: PostgresConnection, run: Int64, rows: [(SweepFinding, String)], covered: Set<String>) async throws -> FindingChanges {
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

    static let findingColumns = "repository, secret_sha256, rule_id, place, first_seen_run, last_seen_run, resolved_in_run, detail"

    static func storedFinding(_ row: PostgresRow) throws -> StoredFinding? {
        let (repository, sha, rule, place, first, last, resolved, detail) = try row.decode((String, String, String, String, Int64, Int64, Int64?, String).self)
        guard let f = try? JSONDecoder().decode(SweepFinding.self, from: Data(detail.utf8)) else { return nil }
        return StoredFinding(key: FindingKey(repository: repository, secretSHA256: sha, ruleID: rule, place: place), finding: f,
                             firstSeenRun: first, lastSeenRun: last, resolvedInRun: resolved)
    }
}
