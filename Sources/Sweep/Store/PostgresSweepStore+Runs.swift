import Core
import Foundation
import PostgresNIO
import Reports
import Scan
/// Runs, and the layer and image cache that lets a run skip what an earlier one scanned.
extension PostgresSweepStore {
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

    static func runRecord(_ row: PostgresRow) throws -> RunRecord {
        let (id, started, finished, ruleset, status, counts, name) = try row.decode((Int64, Date, Date?, String, String, String, String?).self)
        return RunRecord(id: id, startedAt: started, finishedAt: finished, ruleset: ruleset, status: RunStatus(rawValue: status) ?? .running,
                         counts: (try? JSONDecoder().decode(RunCounts.self, from: Data(counts.utf8))) ?? RunCounts(), name: name)
    }

    // MARK: layers and images

    public func layer(digest: Digest, cacheKey: String) async throws -> LayerScanResult? {
        let rows = try await select("SELECT result FROM sweep_layer WHERE digest = \(digest.description) AND cache_key = \(cacheKey)")
        // A row this build cannot read is treated as absent: the layer is scanned again and the row replaced.
        guard let json = try rows.first?.decode(String.self) else { return nil }
        return try? JSONDecoder().decode(LayerScanResult.self, from: Data(json.utf8))
    }

    public func saveLayer(digest: Digest, cacheKey: String, result: LayerScanResult, run: Int64) async throws {
        guard result.error == nil else { return }
        let json = try Self.json(result)
        let digest = digest.description
        try await transaction { c in
            try await c.query("""
                INSERT INTO sweep_layer (digest, cache_key, result, run_id) VALUES (\(digest), \(cacheKey), \(json), \(run))
                ON CONFLICT (digest, cache_key) DO UPDATE SET result = EXCLUDED.result, run_id = EXCLUDED.run_id
                """, logger: self.logger)
            try await c.query("DELETE FROM sweep_layer_claim WHERE digest = \(digest) AND cache_key = \(cacheKey)", logger: self.logger)
        }
    }

    public func image(manifestDigest: Digest, platforms: String, cacheKey: String) async throws -> StoredImage? {
        let rows = try await select("""
            SELECT findings, layers FROM sweep_image WHERE manifest_digest = \(manifestDigest.description) AND platforms = \(platforms) AND cache_key = \(cacheKey)
            """)
        guard let row = rows.first else { return nil }
        let (findings, layers) = try row.decode((String, String).self)
        let layerDigests = try Digest.storedList(layers, store: location, row: "image \(manifestDigest)'s layers")
        guard let list = try? JSONDecoder().decode([Finding].self, from: Data(findings.utf8)) else { return nil }
        return StoredImage(manifestDigest: manifestDigest, platforms: platforms, cacheKey: cacheKey, findings: list, layers: layerDigests)
    }

    public func saveImage(_ image: StoredImage, run: Int64) async throws {
        var findings = image.findings
        for i in findings.indices { findings[i].secret = nil }
        let json = try Self.json(findings)
        let layers = image.layers.map(\.description).joined(separator: ",")
        let manifestDigest = image.manifestDigest.description
        try await execute("""
            INSERT INTO sweep_image (manifest_digest, platforms, cache_key, findings, layers, run_id)
            VALUES (\(manifestDigest), \(image.platforms), \(image.cacheKey), \(json), \(layers), \(run))
            ON CONFLICT (manifest_digest, platforms, cache_key) DO UPDATE SET findings = EXCLUDED.findings, layers = EXCLUDED.layers,
                run_id = EXCLUDED.run_id
            """)
    }

    public func recordImage(run: Int64, image: String, manifestDigest: Digest?, outcome: ImageOutcome, error: String?) async throws {
        let manifestDigest = manifestDigest?.description
        try await execute("""
            INSERT INTO sweep_run_image (run_id, image, manifest_digest, outcome, error) VALUES (\(run), \(image), \(manifestDigest), \(outcome.rawValue), \(error))
            ON CONFLICT (run_id, image) DO UPDATE SET manifest_digest = EXCLUDED.manifest_digest, outcome = EXCLUDED.outcome, error = EXCLUDED.error
            """)
    }
}
