import Core
import Foundation
import ImageBuilder
import OCI
import Sweep
import Testing
import TestSupport

/// The harness.json that `make test` writes (testdata/registry/harness.py) and $STOWAWAY_REGISTRY names.
private func harnessDocument() -> [String: Any]? {
    guard let path = ProcessInfo.processInfo.environment["STOWAWAY_REGISTRY"], let data = FileManager.default.contents(atPath: path) else {
        return nil
    }
    return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
}

/// The registries `make test` starts (testdata/registry/harness.py), from $STOWAWAY_REGISTRY. A test that needs
/// them and runs without them fails (`require()`), as the registry tests do: a missing harness never passes
/// for a skipped suite.
struct SweepHarness: Sendable {
    var anonymous: String
    var flyHost: String
    var flyPassword: String
    var storage: String
    var workdir: String

    static let shared: SweepHarness? = {
        guard let json = harnessDocument(), let anon = json["anonymous"] as? [String: Any], let anonHost = anon["host"] as? String,
              let fly = json["fly"] as? [String: Any], let flyHost = fly["host"] as? String, let flyPassword = fly["password"] as? String,
              let storage = (json["storage"] as? [String: Any])?["anonymous"] as? String,
              let workdir = json["workdir"] as? String else { return nil }
        return SweepHarness(anonymous: anonHost, flyHost: flyHost, flyPassword: flyPassword, storage: storage, workdir: workdir)
    }()

    /// The harness, or a recorded issue when a test that needs it runs without it.
    static func require() throws -> SweepHarness {
        try #require(shared, "STOWAWAY_REGISTRY must name a running harness's harness.json")
    }

    /// Lines of the anonymous registry's access log from `offset` on.
    var logPath: String { workdir + "/logs/anonymous.log" }

    func logOffset() -> UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: logPath))?[.size] as? NSNumber)?.uint64Value ?? 0
    }

    func logLines(since offset: UInt64) -> [String] {
        guard let h = FileHandle(forReadingAtPath: logPath) else { return [] }
        defer { try? h.close() }
        try? h.seek(toOffset: offset)
        return String(decoding: h.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// Blob GETs the registry answered for repositories under `prefix` since `offset` (its access log's own
    /// record of what was fetched: manifests, tag lists and the pushes' HEADs are not counted).
    func blobFetches(prefix: String, since offset: UInt64) -> [String] {
        logLines(since: offset).filter { $0.contains("\"GET /v2/\(prefix)/") && $0.contains("/blobs/sha256:") }
    }

    /// Removes a blob's data from the registry's storage, as a disk fault would.
    func removeBlob(_ digest: Digest) throws {
        let hex = digest.encoded
        try FileManager.default.removeItem(atPath: "\(storage)/docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data")
    }
}

/// Builds images from specs and pushes them to the anonymous registry with our own pusher.
enum Images {
    /// A base layer many images share (identical bytes, so one digest).
    static let base = ImageSpec.Layer(files: [.init(path: "etc/os-release", content: "ID=sweep-test\n"),
                                              .init(path: "usr/lib/base.bin", content: "0123456789abcdef", repeatCount: 4096)])

    /// Pushes an image of `layers` (config env optional) as `repository:tag`; returns its manifest digest.
    @discardableResult
    static func push(_ layers: [ImageSpec.Layer], env: [String] = [], to host: String, as repository: String, tag: String) async throws -> Digest {
        let dir = try Run.tempDirectory() + "/layout"
        var spec = ImageSpec(format: .oci, compression: "gzip", tag: "\(repository):\(tag)", config: .init(Env: env.isEmpty ? nil : env),
                             layers: layers)
        spec.history = layers.indices.map { ImageSpec.History("COPY layer \($0)") }
        try ImageBuilder.build(spec, at: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        return try await RegistryPusher.push(layout: dir, tag: tag, to: host, repository: repository)
    }

    /// A layer with one file.
    static func file(_ path: String, _ content: String) -> ImageSpec.Layer {
        ImageSpec.Layer(files: [.init(path: path, content: content)])
    }

    /// The digest of the layer a spec layer builds to (the builder is deterministic).
    static func digest(of layer: ImageSpec.Layer) throws -> Digest {
        let dir = try Run.tempDirectory() + "/layout"
        let spec = ImageSpec(format: .oci, compression: "gzip", tag: "x:y", layers: [layer])
        try ImageBuilder.build(spec, at: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        struct Index: Decodable { var manifests: [Descriptor] }
        let index = try JSONDecoder().decode(Index.self, from: try Data(contentsOf: URL(fileURLWithPath: dir + "/index.json")))
        let m = try #require(index.manifests.first)
        let manifest = try JSONDecoder().decode(Manifest.self, from: try Data(contentsOf: URL(fileURLWithPath: dir + "/blobs/sha256/\(m.digest.encoded)")))
        return try #require(manifest.layers.first).digest
    }
}

/// Running `stowaway sweep` the way a scheduler would, in a clean environment.
struct SweepRun {
    let dir: String
    /// `--db`: an SQLite file of its own unless a test points it at another store (a PostgreSQL URL).
    var store: String?
    var db: String { store ?? dir + "/sweep.db" }
    var config: String { dir + "/sweep.toml" }

    init() throws { dir = try Run.tempDirectory() }

    /// A HOME without Docker credentials and no Fly tokens, so the machine's own never leak in.
    var environment: [String: String] {
        ["HOME": dir, "DOCKER_CONFIG": dir + "/.docker", "XDG_STATE_HOME": dir + "/state", "FLY_API_TOKEN": "", "FLY_ACCESS_TOKEN": "",
         "FLY_REGISTRY_HOST": ""]
    }

    func write(_ toml: String) throws {
        try toml.write(toFile: config, atomically: true, encoding: .utf8)
    }

    /// A sweep of the Fly.io org `acme` through the Machines API stand-in at `api` (token in `ACME_FLY_TOKEN`),
    /// with the registry at `registry` (plain HTTP) configured when given.
    func writeFlyOrg(api: String, registry: String? = nil) throws {
        try write((registry.map { "[[registry]]\nhost = \"\($0)\"\ninsecure = true\n\n" } ?? "") + """
            [[fly]]
            org = "acme"
            api_url = "http://\(api)"
            token_env = "ACME_FLY_TOKEN"
            """)
    }

    /// A sweep of a registry's repositories under `prefix`.
    func writeRegistry(_ host: String, prefix: String, extra: String = "") throws {
        try write("""
            [[registry]]
            host = "\(host)"
            insecure = true

            [[target]]
            registry = "\(host)"
            repositories = ["\(prefix)/*"]
            \(extra)
            """)
    }

    @discardableResult
    func sweep(_ args: [String] = [], env: [String: String] = [:]) throws -> (status: Int32, report: [String: Any], stderr: String) {
        let r = try Run.command(Run.stowaway, ["sweep", "--config", config, "--db", db, "--format", "json", "--quiet"] + args,
                                environment: environment.merging(env) { $1 })
        let report = try JSONDocument.optionalObject(r.stdout)
        return (r.status, report, r.stderr)
    }

    /// Starts a sweep without waiting for it; its report goes to `output`, its stderr to `output`.stderr.
    func start(_ args: [String] = [], output: String, env: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Run.stowaway)
        p.arguments = ["sweep", "--config", config, "--db", db, "--format", "json", "--quiet", "--output", output] + args
        p.environment = ProcessInfo.processInfo.environment.merging(environment.merging(env) { $1 }) { $1 }
        p.standardOutput = FileHandle.nullDevice
        _ = FileManager.default.createFile(atPath: output + ".stderr", contents: nil)
        p.standardError = FileHandle(forWritingAtPath: output + ".stderr") ?? FileHandle.nullDevice
        try p.run()
        return p
    }

    /// The runs `sweep history --format json` lists, newest first.
    func history() throws -> [[String: Any]] {
        let r = try Run.command(Run.stowaway, ["sweep", "history", "--db", db, "--format", "json"], environment: environment)
        return try JSONDocument.object(r.stdout).objects("runs")
    }
}

struct StandInError: Error, CustomStringConvertible {
    var description: String
}

/// A stand-in server of testdata/sweep/standin.py, stopped when the test is done with it.
final class StandIn {
    let process: Process
    let port: Int
    let portFile: String

    init(_ args: [String]) throws {
        let dir = try Run.tempDirectory()
        portFile = dir + "/port"
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Run.packageRoot.path + "/testdata/sweep/standin.py"] + args + ["--port-file", portFile, "--max-seconds", "600"]
        // Neither stream may be the test runner's: a pipe held open by a server outliving its test stalls the run.
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // A liveness bound, not a timing: the server writes its port as soon as it listens.
        let deadline = Date().addingTimeInterval(20)
        var port: Int?
        while port == nil && Date() < deadline && process.isRunning {
            port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0) }
            if port == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        guard let port else {
            process.terminate()
            throw StandInError(description: "standin.py \(args.first ?? "") did not start")
        }
        self.port = port
    }

    var host: String { "127.0.0.1:\(port)" }

    /// Stops the server (SIGTERM, then SIGKILL if it is still there) and waits for it.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        if !eventually(within: 5, { !process.isRunning }) { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// Waits (bounded) until `condition` holds; false when it never did.
func eventually(within seconds: Double = 60, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return condition()
}

extension Dictionary where Key == String, Value == Any {
    /// `report["a"]["b"]` as an Int, or -1 when the shape is wrong (so an expectation fails, not the run).
    func int(_ path: String...) -> Int {
        var o: Any = self
        for k in path { o = (o as? [String: Any])?[k] ?? NSNull() }
        return (o as? Int) ?? -1
    }

    /// The finding objects of `findings.<kind>` (new, open, resolved).
    func findings(_ kind: String) -> [[String: Any]] {
        ((self["findings"] as? [String: Any])?[kind] as? [[String: Any]]) ?? []
    }

    /// The failed entries of `images.failed`.
    var failed: [[String: Any]] {
        ((self["images"] as? [String: Any])?["failed"] as? [[String: Any]]) ?? []
    }
}

/// A fresh repository prefix per test, so tests sharing the registry never see each other's images.
func uniquePrefix(_ name: String) -> String {
    "sweep-\(name)-\(UUID().uuidString.prefix(8).lowercased())"
}

/// The PostgreSQL server `make test` starts with the registries (testdata/registry/postgres.py), from the
/// harness.json that $STOWAWAY_REGISTRY names; without it `require()` fails the test that needs it (never a skip).
struct PostgresHarness: Sendable {
    var host: String
    var port: Int
    var user: String
    var password: String
    var bin: String

    static let shared: PostgresHarness? = {
        guard let json = harnessDocument(), let pg = json["postgres"] as? [String: Any], let port = pg["port"] as? Int, let user = pg["user"] as? String,
              let password = pg["password"] as? String, let bin = pg["bin"] as? String else { return nil }
        return PostgresHarness(host: "127.0.0.1", port: port, user: user, password: password, bin: bin)
    }()

    static func require() throws -> PostgresHarness {
        try #require(shared, "STOWAWAY_REGISTRY must name a harness.json with a postgres entry")
    }

    /// A URL of `database` with these credentials (`password` replaced when given).
    func url(_ database: String, password: String? = nil) -> String {
        "postgres://\(user):\(password ?? self.password)@\(host):\(port)/\(database)?sslmode=disable"
    }

    /// A new, empty database of its own for one test; returns its URL.
    func freshDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try psql("postgres", "CREATE DATABASE \(name)")
        return url(name)
    }

    /// Runs one SQL statement with psql and returns its unaligned, tuples-only output.
    @discardableResult
    func psql(_ database: String, _ sql: String) throws -> String {
        let r = try Run.command(bin + "/psql", ["-h", host, "-p", String(port), "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1", "-At",
                                                "-c", sql], environment: ["PGPASSWORD": password])
        guard r.status == 0 else { throw StandInError(description: "psql \(sql): \(r.stderr)") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The two stores every shared store test runs against (PostgreSQL only when the harness started it).
enum StoreKind: String, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    /// Every kind: a run without the harness's PostgreSQL fails the PostgreSQL half (never skips it).
    static var available: [StoreKind] { [.sqlite, .postgres] }

    var testDescription: String { rawValue }

    /// How `--db` names a fresh, empty store of this kind.
    func freshLocation() throws -> String {
        switch self {
        case .sqlite: return try Run.tempDirectory() + "/sweep.db"
        case .postgres: return try PostgresHarness.require().freshDatabase()
        }
    }

    /// A fresh, empty store of this kind, opened.
    func fresh() async throws -> any SweepStore {
        try await SweepStores.open(try freshLocation())
    }
}
