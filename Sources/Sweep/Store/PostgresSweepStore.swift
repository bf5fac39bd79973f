import Foundation
import PostgresNIO
import Reports
import Scan

/// The shared store: one PostgreSQL database that every worker of a fleet reaches (through postgres-nio). Row
/// locks are the queue: items are claimed with `SELECT … FOR UPDATE SKIP LOCKED`, leases are timestamps on the
/// server's clock (`now()`), so workers on machines whose clocks disagree still agree on who holds what.
/// Tables are prefixed `sweep_` so the store can live in a database the team uses for other things; the schema
/// is migrated under an advisory lock, so a fleet starting at once migrates it exactly once.
public final class PostgresSweepStore: SweepStore {
    public let location: String
    let pool: PostgresPool
    let logger: Logger
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()
    /// Advisory lock keys: one for migrations, one serialising finding bookkeeping across runs.
    private static let migrationLock: Int64 = 0x5354_4f57_0001
    static let findingsLock: Int64 = 0x5354_4f57_0002

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

    // MARK: plumbing

    func one(_ rows: [PostgresRow]) throws -> PostgresRow {
        guard let row = rows.first else { throw SweepError.store(path: location, reason: "a query returned no row") }
        return row
    }

    func select(_ q: PostgresQuery) async throws -> [PostgresRow] {
        try await withConnection { c in try await c.query(q, logger: self.logger).collect() }
    }

    func execute(_ q: PostgresQuery) async throws {
        _ = try await select(q)
    }

    func withConnection<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await pool.with(body)
        } catch let e as SweepError {
            throw e
        } catch {
            throw SweepError.store(path: location, reason: PostgresPool.reason(error))
        }
    }

    /// One transaction on one connection (BEGIN, the body, COMMIT; ROLLBACK when the body throws).
    func transaction<T: Sendable>(_ body: @Sendable @escaping (PostgresConnection) async throws -> T) async throws -> T {
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

    static func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
