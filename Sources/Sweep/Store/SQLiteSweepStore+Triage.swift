import Foundation
import GRDB
import Reports
import Scan

/// Acceptances (`sweep accept`) on the embedded store.
extension SQLiteSweepStore {
    /// v3: the acceptance table, one row per fingerprint.
    static func registerTriageMigration(_ m: inout DatabaseMigrator) {
        m.registerMigration("v3-acceptances") { db in
            try db.execute(sql: """
                CREATE TABLE acceptance (
                    fingerprint TEXT PRIMARY KEY,
                    reason TEXT NOT NULL,
                    until TEXT,
                    image TEXT,
                    path TEXT,
                    accepted_at TEXT NOT NULL
                );
                CREATE INDEX finding_secret ON finding (secret_sha256);
                """)
        }
    }

    public func accept(_ entry: TriageEntry) async throws {
        let at = Self.iso(entry.acceptedAt ?? Date())
        try await write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO acceptance (fingerprint, reason, until, image, path, accepted_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [entry.fingerprint, entry.reason, entry.until?.description, entry.image?.pattern, entry.path?.pattern, at])
        }
    }

    public func acceptances() async throws -> [TriageEntry] {
        let rows = try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM acceptance ORDER BY accepted_at, fingerprint").map { row in
                AcceptanceRow(fingerprint: row["fingerprint"], reason: row["reason"], until: row["until"], image: row["image"],
                              path: row["path"], acceptedAt: row["accepted_at"])
            }
        }
        return rows.compactMap { $0.entry(date: Self.date) }
    }

    public func knowsSecret(_ sha256: String) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM finding WHERE secret_sha256 = ?)", arguments: [sha256]) ?? false
        }
    }
}

/// An acceptance as a store row holds it; a row this build cannot read (a bad day or glob) is left out.
struct AcceptanceRow: Sendable {
    var fingerprint: String
    var reason: String
    var until: String?
    var image: String?
    var path: String?
    var acceptedAt: String?

    func entry(date: (String) -> Date?) -> TriageEntry? {
        var e = TriageEntry(fingerprint: fingerprint, reason: reason, origin: "sweep store", acceptedAt: acceptedAt.flatMap(date))
        if let until { guard let d = Day(until) else { return nil }; e.until = d }
        if let image { guard let g = try? Glob(image) else { return nil }; e.image = g }
        if let path { guard let g = try? Glob(path) else { return nil }; e.path = g }
        return e
    }
}
