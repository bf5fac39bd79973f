import Foundation
import GRDB

/// The reads behind `sweep report` for a run by number and the HTML page's trend charts.
extension SQLiteSweepStore {
    public func findings(aliveSince run: Int64) async throws -> [StoredFinding] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM finding WHERE resolved_in_run IS NULL OR resolved_in_run >= ?
                ORDER BY repository, rule_id, place
                """, arguments: [run]).compactMap(Self.storedFinding)
        }
    }

    public func failures(run: Int64) async throws -> [SweepReport.Failed] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT image, error FROM run_image WHERE run_id = ? AND outcome = 'failed' ORDER BY image",
                             arguments: [run]).map { SweepReport.Failed(image: $0["image"], error: $0["error"] ?? "unknown error") }
        }
    }
}
