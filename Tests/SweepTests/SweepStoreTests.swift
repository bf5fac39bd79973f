import Core
import Foundation
import ImageBuilder
import OCI
import Reports
import Scan
import Secrets
import Sweep
import Testing
import TestSupport

/// The store and the layer cache on their own: what is kept, what a run changes, and that stored layers give
/// the same findings as a scan. The contract tests run against both stores (PostgreSQL when the harness
/// started it).
struct SweepStoreTests {
    private func finding(_ rule: String, path: String, sha: String, severity: Severity = .high) throws -> Finding {
        let json: [String: Any] = ["ruleID": rule, "severity": severity.rawValue, "description": rule, "source": "file", "layerIndex": 1,
                                   "path": path, "line": 1, "status": "present", "secretSHA256": sha, "redacted": "abc…"]
        return try JSONDecoder().decode(Finding.self, from: try JSONSerialization.data(withJSONObject: json))
    }

    private func seen(_ f: Finding, repo: String) -> SweepFinding {
        SweepFinding(finding: f, image: "\(repo):v1", manifestDigest: nil, repository: repo)
    }

    @Test(arguments: StoreKind.available)
    func findingsAreNewThenOpenThenResolvedOnlyWhereTheRepositoryWasCovered(_ kind: StoreKind) async throws {
        let dir = try Run.tempDirectory()
        let store: any SweepStore = kind == .sqlite ? try SQLiteSweepStore(path: dir + "/nested/dir/sweep.db") : try await kind.fresh()
        let a = try finding("github-token", path: "/app/.env", sha: String(repeating: "a", count: 64))
        let b = try finding("stripe-live-key", path: "/srv/key", sha: String(repeating: "b", count: 64))

        let r1 = try await store.beginRun(ruleset: "rs", startedAt: Date())
        let c1 = try await store.recordFindings(run: r1, seen: [seen(a, repo: "r/one"), seen(b, repo: "r/two")], covered: ["r/one", "r/two"])
        #expect(c1.new.count == 2 && c1.open.isEmpty && c1.resolved.isEmpty)

        // r/two not covered (an image of it failed): b stays open although unseen; a is seen again.
        let r2 = try await store.beginRun(ruleset: "rs", startedAt: Date())
        let c2 = try await store.recordFindings(run: r2, seen: [seen(a, repo: "r/one")], covered: ["r/one"])
        #expect(c2.new.isEmpty && c2.open == [seen(a, repo: "r/one").key] && c2.resolved.isEmpty)

        // Covered and unseen: resolved in this run.
        let r3 = try await store.beginRun(ruleset: "rs", startedAt: Date())
        let c3 = try await store.recordFindings(run: r3, seen: [], covered: ["r/one", "r/two"])
        #expect(Set(c3.resolved.map(\.key)) == [seen(a, repo: "r/one").key, seen(b, repo: "r/two").key])
        #expect(c3.resolved.allSatisfy { $0.resolvedInRun == r3 })
        #expect(try await store.openFindings(limit: 10).isEmpty)
        // What `sweep report --id` reads of a past run: the findings still open then, or resolved by it.
        let alive = try await store.findings(aliveSince: r3)
        #expect(Set(alive.map(\.key)) == [seen(a, repo: "r/one").key, seen(b, repo: "r/two").key] && alive.allSatisfy { $0.resolvedInRun == r3 })
        #expect(try await store.findings(aliveSince: r3 + 1).isEmpty)

        // Seen again after being resolved: new again (a regression), and open once more.
        let r4 = try await store.beginRun(ruleset: "rs", startedAt: Date())
        let c4 = try await store.recordFindings(run: r4, seen: [seen(a, repo: "r/one")], covered: ["r/one"])
        #expect(c4.new == [seen(a, repo: "r/one").key])
        let open = try await store.openFindings(limit: 10)
        #expect(open.map(\.firstSeenRun) == [r1] && open.map(\.lastSeenRun) == [r4])

        // The same secret at the same place in another repository is another finding.
        let c5 = try await store.recordFindings(run: r4, seen: [seen(a, repo: "r/other")], covered: [])
        #expect(c5.new.count == 1)
        await store.shutdown()

        guard kind == .sqlite else { return }
        let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/nested/dir/sweep.db")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let dirAttributes = try FileManager.default.attributesOfItem(atPath: dir + "/nested/dir")
        #expect((dirAttributes[.posixPermissions] as? NSNumber)?.intValue == 0o700)
    }

    @Test(arguments: StoreKind.available)
    func runsKeepTheirCountsAndReopeningMigratesNothingTwice(_ kind: StoreKind) async throws {
        let path = try kind.freshLocation()
        let store = try await SweepStores.open(path)
        let id = try await store.beginRun(ruleset: "fp", startedAt: Date())
        var counts = RunCounts()
        counts.imagesScanned = 20
        counts.layersCached = 7
        try await store.finishRun(id: id, status: .complete, finishedAt: Date(), counts: counts)
        await store.shutdown()
        let again = try await SweepStores.open(path)
        let runs = try await again.runs(limit: 5)
        #expect(runs.count == 1)
        #expect(runs.first?.status == .complete && runs.first?.counts == counts && runs.first?.ruleset == "fp")
        await again.shutdown()
    }

    @Test func aStoreThatIsNotSQLiteIsNamedInOneLine() throws {
        let path = try Run.tempDirectory() + "/sweep.db"
        try Data("not a database, just text that is long enough to be a header".utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try SQLiteSweepStore(path: path)
            Issue.record("opened a file that is not a database")
        } catch {
            #expect("\(error)".hasPrefix("\(path): sweep store:"), "\(error)")
            #expect(!"\(error)".contains("\n"))
        }
    }

    @Test(arguments: [
        ("postgres://sweeper:hunter2secret@db.internal:5432/stowaway?sslmode=bogus", "sslmode=bogus"),
        ("postgres://sweeper:hunter2secret@db.internal:5432/", "no database name"),
        ("postgres://sweeper:hunter2secret@db.internal/stowaway?application=x", "unknown parameter application"),
        ("postgresql://:hunter2secret@db.internal/stowaway", "no user"),
        ("postgres://sweeper:hunter2secret/#?@db.internal/stowaway", "postgres://sweeper:***@db.internal/stowaway"),
    ])
    func aBadPostgresURLIsNamedWithoutItsPassword(_ url: String, _ reason: String) async {
        do {
            _ = try await SweepStores.open(url)
            Issue.record("accepted \(url)")
        } catch {
            #expect("\(error)".contains(reason), "\(error)")
            #expect("\(error)".contains("***"), "\(error)")
            #expect(!"\(error)".contains("hunter2secret"))
        }
    }

    @Test func aPostgresURLIsParsedAndShownWithoutItsPassword() throws {
        let u = try PostgresURL("postgres://sweeper:p%40ss@db.internal:6543/stowaway?sslmode=verify-full&sslrootcert=/etc/ca.pem")
        #expect(u.user == "sweeper" && u.password == "p@ss" && u.host == "db.internal" && u.port == 6543 && u.database == "stowaway")
        #expect(u.sslMode == .verifyFull && u.sslRootCert == "/etc/ca.pem")
        #expect(u.shown == "postgres://sweeper:***@db.internal:6543/stowaway?sslmode=verify-full&sslrootcert=/etc/ca.pem")
        #expect("\(u)" == u.shown && String(reflecting: u) == u.shown, "interpolation never shows the password")
        let plain = try PostgresURL("postgres://sweeper@db.internal/stowaway")
        #expect(plain.password == nil && plain.port == 5432 && plain.sslMode == .prefer && plain.shown == "postgres://sweeper@db.internal/stowaway")
        #expect(PostgresURL.redact("postgres://u:a@b@h/d") == "postgres://u:***@h/d")
        #expect(PostgresURL.redact("postgres://u:pa/ss#x@h/d") == "postgres://u:***@h/d")
    }

    /// Three work items, four workers: each item is handed out once, a lease that runs out lets another
    /// worker take the item (and the first one's late result is refused), and the run closes once.
    @Test(arguments: StoreKind.available)
    func sharedRunItemsAreClaimedOnceAndTakenOverWhenALeaseRunsOut(_ kind: StoreKind) async throws {
        let store = try await kind.fresh()
        let run = try await store.joinRun(name: "nightly", ruleset: "rs", configDigest: "cfg", startedAt: Date())
        #expect(try await store.joinRun(name: "nightly", ruleset: "rs", configDigest: "cfg", startedAt: Date()) == run)
        await #expect(throws: SweepError.self) {
            try await store.joinRun(name: "nightly", ruleset: "rs", configDigest: "another config", startedAt: Date())
        }
        #expect(try await store.claimExpansion(run: run, worker: "a", lease: 60) == .yours)
        #expect(try await store.claimExpansion(run: run, worker: "b", lease: 60) == .busy)
        let items = try (0..<3).map { i in
            SharedItem(SweepItem(reference: try Reference("reg.example/app:v\(i)"), input: "reg.example/app:v\(i)", platforms: [.all]))
        }
        let expansion = RunExpansion(failures: [SweepReport.Failed(image: "reg.example catalog", error: "HTTP 500")])
        try await store.addItems(run: run, items: items, expansion: expansion, worker: "a")
        try await store.addItems(run: run, items: items, expansion: RunExpansion(), worker: "b")
        #expect(try await store.claimExpansion(run: run, worker: "b", lease: 60) == .done(expansion))

        let a = try #require(try await store.claimItem(run: run, worker: "a", lease: 60))
        let b = try #require(try await store.claimItem(run: run, worker: "b", lease: 60))
        let c = try #require(try await store.claimItem(run: run, worker: "c", lease: 60))
        #expect(Set([a, b, c].map(\.item.input)) == Set(items.map(\.input)))
        #expect(try await store.claimItem(run: run, worker: "d", lease: 60) == nil)
        #expect(try await store.itemsLeft(run: run) == 3)

        // c's last renewal is short and it stops renewing: once that lease has run out, d gets its item (a liveness
        // bound, not a timing). Claiming with the short lease would let a loaded machine expire it before the
        // "nothing left for d" check above.
        try await store.renewLeases(run: run, worker: "c", lease: 1)
        var taken: ClaimedItem?
        let deadline = Date().addingTimeInterval(30)
        while taken == nil && Date() < deadline {
            taken = try await store.claimItem(run: run, worker: "d", lease: 60)
            if taken == nil { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(taken?.id == c.id)
        let record = ItemRecord(outcome: .scanned, manifestDigest: Digest(sha256Hex: String(repeating: "0", count: 64)), error: nil, findings: [])
        #expect(try await store.completeItem(run: run, id: c.id, worker: "c", record: record) == false, "c lost its item")
        #expect(try await store.completeItem(run: run, id: c.id, worker: "d", record: record))
        #expect(try await store.completeItem(run: run, id: a.id, worker: "a", record: record))
        #expect(try await store.completeSharedRun(run: run, seen: [], covered: [], counts: RunCounts(), finishedAt: Date()) == nil,
                "b's item is not done")
        #expect(try await store.completeItem(run: run, id: b.id, worker: "b", record: record))
        #expect(try await store.itemsLeft(run: run) == 0)
        #expect(try await store.completeSharedRun(run: run, seen: [], covered: [], counts: RunCounts(), finishedAt: Date()) != nil)
        #expect(try await store.completeSharedRun(run: run, seen: [], covered: [], counts: RunCounts(), finishedAt: Date()) == nil,
                "a run closes once")
        let state = try #require(try await store.sharedRun(name: "nightly"))
        #expect(state.record.status == .complete && state.items.count == 3 && state.items.allSatisfy { $0.state == "done" })
        #expect(state.expansion == expansion)
        await store.shutdown()
    }

    /// A worker started with other rules than the run's is refused with one line and exit code 2, before it
    /// claims anything.
    @Test(arguments: StoreKind.available)
    func aWorkerWithOtherRulesIsRefusedByTheRun(_ kind: StoreKind) async throws {
        let location = try kind.freshLocation()
        let store = try await SweepStores.open(location)
        _ = try await store.joinRun(name: "nightly", ruleset: "another rule set", configDigest: "another config", startedAt: Date())
        await store.shutdown()
        var run = try SweepRun()
        run.store = location
        try run.write("""
            [[target]]
            image = "127.0.0.1:1/nothing/here:v1"
            """)
        let r = try run.sweep(["--run", "nightly"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("run nightly: was started with rule set anothe"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }

    /// A layer is scanned by one worker at a time: the others are told to wait, then get the stored result; a
    /// claim whose lease ran out, or that was given back, goes to the next worker to ask.
    @Test(arguments: StoreKind.available)
    func layerClaimsLetOneWorkerScanAndTheOthersWait(_ kind: StoreKind) async throws {
        let store = try await kind.fresh()
        let (image, _) = try await plantedImage()
        let ruleSet = try RuleSet()
        let scanner = ImageScanner(engine: ruleSet.engine, options: ScanOptions(pathAllowlist: ruleSet.pathAllowlist))
        let result = scanner.scanLayer(image.layers[0]).stored()
        let key = scanner.layerCacheKey
        let run = try await store.beginRun(ruleset: "rs", startedAt: Date())
        let one = Digest(sha256Hex: String(repeating: "1", count: 64)), two = Digest(sha256Hex: String(repeating: "2", count: 64))
        func claim(_ digest: Digest, _ worker: String, lease: TimeInterval = 60) async throws -> String {
            switch try await store.claimLayer(digest: digest, cacheKey: key, worker: worker, lease: lease) {
            case .stored: return "stored"
            case .yours: return "yours"
            case .busy: return "busy"
            }
        }
        #expect(try await claim(one, "a") == "yours")
        #expect(try await claim(one, "b") == "busy")
        #expect(try await claim(one, "a") == "yours", "asking again keeps one's own claim")
        try await store.saveLayer(digest: one, cacheKey: key, result: result, run: run)
        #expect(try await claim(one, "b") == "stored")

        #expect(try await claim(two, "a", lease: 1) == "yours")
        var next = "busy"
        let deadline = Date().addingTimeInterval(30)
        while next == "busy" && Date() < deadline {
            next = try await claim(two, "b")
            if next == "busy" { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(next == "yours", "a's lease ran out")
        try await store.releaseLayer(digest: two, cacheKey: key, worker: "b")
        #expect(try await claim(two, "c") == "yours", "a claim given back is free")
        await store.shutdown()
    }

    /// Digests are parsed where they come back out of the database: a row damaged to hold something that is not
    /// a digest (an image's layer list, a shared run's item record) fails that read with `SweepError.store` naming
    /// the store, never a crash and never text passed on as a digest.
    @Test(arguments: StoreKind.available)
    func aRowWithAMalformedDigestIsAnErrorNamingTheStore(_ kind: StoreKind) async throws {
        let location = try kind.freshLocation()
        let store = try await SweepStores.open(location)
        func damage(sqlite: String, postgres: String) throws {
            switch kind {
            case .sqlite:
                let r = try Run.command("/usr/bin/sqlite3", [location, sqlite])
                #expect(r.status == 0, "\(r.stderr)")
            case .postgres:
                try PostgresHarness.require().psql(try #require(URL(string: location)).lastPathComponent, postgres)
            }
        }
        func namesTheStore(_ error: SweepError?) -> Bool {
            guard case .store(let path, let reason)? = error else { return false }
            return path == store.location && reason.contains("malformed digest")
        }
        let manifest = Digest(sha256Hex: String(repeating: "a", count: 64)), layer = Digest(sha256Hex: String(repeating: "b", count: 64))
        let run = try await store.beginRun(ruleset: "rs", startedAt: Date())
        try await store.saveImage(StoredImage(manifestDigest: manifest, platforms: "all", cacheKey: "k", findings: [], layers: [layer]), run: run)
        #expect(try await store.image(manifestDigest: manifest, platforms: "all", cacheKey: "k")?.layers == [layer])
        try damage(sqlite: "UPDATE image SET layers = layers || ',sha256:../../etc/passwd'",
                   postgres: "UPDATE sweep_image SET layers = layers || ',sha256:../../etc/passwd'")
        let imageError = await #expect(throws: SweepError.self) { try await store.image(manifestDigest: manifest, platforms: "all", cacheKey: "k") }
        #expect(namesTheStore(imageError), "\(String(describing: imageError))")

        let shared = try await store.joinRun(name: "nightly", ruleset: "rs", configDigest: "cfg", startedAt: Date())
        let item = SharedItem(SweepItem(reference: try Reference("reg.example/app:v1"), input: "reg.example/app:v1", platforms: [.all]))
        try await store.addItems(run: shared, items: [item], expansion: RunExpansion(), worker: "a")
        let claimed = try #require(try await store.claimItem(run: shared, worker: "a", lease: 60))
        let record = ItemRecord(outcome: .scanned, manifestDigest: manifest, error: nil, findings: [])
        #expect(try await store.completeItem(run: shared, id: claimed.id, worker: "a", record: record))
        #expect(try await store.sharedRun(name: "nightly")?.items.first?.record?.manifestDigest == manifest)
        try damage(sqlite: "UPDATE run_item SET record = replace(record, 'sha256:', 'sha256:x')",
                   postgres: "UPDATE sweep_item SET record = replace(record, 'sha256:', 'sha256:x')")
        let runError = await #expect(throws: SweepError.self) { try await store.sharedRun(name: "nightly") }
        #expect(namesTheStore(runError), "\(String(describing: runError))")
        await store.shutdown()
    }

    /// The ledger keys its rows by a finding's place as earlier releases wrote it (`file:/app/.env`,
    /// `config/env/KEY`, `history/KEY`, ...): a store they filled sees the same findings again as open, never new.
    @Test(arguments: StoreKind.available)
    func rowsAnEarlierReleaseStoredMatchTheSameFindingsAgain(_ kind: StoreKind) async throws {
        let github = FakeSecret.githubToken(), stripe = FakeSecret.stripeKey(), npm = FakeSecret.npmToken(), cmd = FakeSecret.githubToken()
        let aws = FakeSecret.awsKeyID(), fly = FakeSecret.flyToken(), note = FakeSecret.npmToken(), user = FakeSecret.stripeKey()
        let arg = FakeSecret.npmToken(), step = FakeSecret.githubToken()
        // Each secret with the place an earlier release stored it under.
        let stored: [(secret: String, place: String)] = [
            (github, "file:/app/.env"), (stripe, "config/env/STRIPE_KEY"), (npm, "config/label/deploy.npm"), (cmd, "config/cmd"),
            (aws, "config/entrypoint"), (fly, "config/healthcheck"), (note, "config/annotation/org.example.note"),
            (user, "config/config/config.User"), (arg, "history/NPM_TOKEN"), (step, "history"),
        ]
        let path = try Run.tempDirectory() + "/image.tar"
        try ImageBuilder.build(ImageSpec(
            format: .ociTar, compression: "none", tag: "every:1",
            config: .init(Env: ["STRIPE_KEY=\(stripe)"], Labels: ["deploy.npm": npm], Cmd: ["/app/run", "--token", cmd],
                          Entrypoint: ["/bin/env", "AWS_ACCESS_KEY_ID=\(aws)"],
                          Healthcheck: .init(["CMD", "curl", "-H", "Authorization: Bearer \(fly)", "http://localhost/"])),
            history: [.init("RUN |1 NPM_TOKEN=\(arg) /bin/sh -c true # buildkit", empty: true),
                      .init("RUN /bin/sh -c echo \(step) > /dev/null # buildkit", empty: true), .init("COPY . /app # buildkit")],
            layers: [.init(files: [.init(path: "app/.env", content: "GITHUB_TOKEN=\(github)\n")])],
            annotations: ["org.example.note": "publish with \(note)"], containerExtras: ["User": user]),
            at: path)
        let image = try #require(try await ImageResolver(platform: .all).images(of: try ImageLoader.source(path)).first)
        let ruleSet = try RuleSet()
        let findings = ImageScanner(engine: ruleSet.engine, options: ScanOptions(pathAllowlist: ruleSet.pathAllowlist)).scan([image]).images[0].findings
        #expect(findings.count == stored.count, "\(findings.map(\.location))")

        let location = try kind.freshLocation()
        let store = try await SweepStores.open(location)
        let repository = "reg.example/every"
        let first = try await store.beginRun(ruleset: "rs", startedAt: Date())
        for f in findings {
            let place = try #require(stored.first { Redaction.sha256($0.secret) == f.secretSHA256 }?.place, "\(f.location)")
            let columns = "(repository, secret_sha256, rule_id, place, severity, first_seen_run, last_seen_run, detail)"
            let values = "VALUES ('\(repository)', '\(f.secretSHA256)', '\(f.ruleID)', '\(place)', 'high', \(first), \(first), '{}')"
            switch kind {
            case .sqlite:
                let r = try Run.command("/usr/bin/sqlite3", [location, "INSERT INTO finding \(columns) \(values)"])
                #expect(r.status == 0, "\(r.stderr)")
            case .postgres:
                try PostgresHarness.require().psql(try #require(URL(string: location)).lastPathComponent, "INSERT INTO sweep_finding \(columns) \(values)")
            }
        }
        let next = try await store.beginRun(ruleset: "rs", startedAt: Date())
        let seen = findings.map { SweepFinding(finding: $0, image: repository + ":v2", manifestDigest: nil, repository: repository) }
        let changes = try await store.recordFindings(run: next, seen: seen, covered: [repository])
        #expect(changes.new.isEmpty, "new again: \(changes.new.map(\.place).sorted())")
        #expect(changes.open.count == stored.count && changes.resolved.isEmpty)
        await store.shutdown()
    }

    @Test func historyOfAStoreThatDoesNotExistIsAnErrorNotANewFile() throws {
        let path = try Run.tempDirectory() + "/none.db"
        let r = try Run.command(Run.stowaway, ["sweep", "history", "--db", path])
        #expect(r.status == 2)
        #expect(r.stderr.contains("\(path): sweep store: no sweep has run with this store yet"))
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    /// An image whose secrets are deleted by a whiteout, overwritten by a later layer, or left present.
    private func plantedImage() async throws -> (Image, [String]) {
        let github = FakeSecret.githubToken(), stripe = FakeSecret.stripeKey(), fly = FakeSecret.flyToken()
        let dir = try Run.tempDirectory() + "/layout"
        var spec = ImageSpec(format: .oci, compression: "gzip", tag: "planted:v1", config: .init(Env: ["FLY_API_TOKEN=\(fly)"]), layers: [
            .init(files: [.init(path: "app/.env", content: "GH=\(github)\n"), .init(path: "app/conf/key.txt", content: "S=\(stripe)\n"),
                          .init(path: "keep/\(github).txt", content: "T=\(github)\n")]),
            .init(files: [.init(path: "app/.wh..env", content: "")]),
            .init(files: [.init(path: "app/conf", content: "now a file\n")]),
        ])
        spec.history = [.init("ADD"), .init("RUN rm"), .init("COPY")]
        try ImageBuilder.build(spec, at: dir)
        let image = try #require(try await ImageResolver(platform: .all).images(of: try ImageLoader.source(dir)).first)
        return (image, [github, stripe, fly])
    }

    @Test func storedLayerResultsGiveTheFindingsAScanGivesAndHoldNoSecret() async throws {
        let (image, secrets) = try await plantedImage()
        let ruleSet = try RuleSet()
        let scanner = ImageScanner(engine: ruleSet.engine, options: ScanOptions(pathAllowlist: ruleSet.pathAllowlist))
        let direct = scanner.scan([image]).images[0].findings
        // Through JSON, as the store keeps them.
        let stored = try image.layers.map { layer -> LayerScanResult in
            let r = scanner.scanLayer(layer).stored()
            #expect(r.error == nil)
            let data = try JSONEncoder().encode(r)
            for s in secrets { #expect(data.range(of: Data(s.utf8)) == nil, "a secret in the stored layer result") }
            return try JSONDecoder().decode(LayerScanResult.self, from: data)
        }
        let (cached, errors, _) = scanner.findings(of: image, layers: stored)
        #expect(errors.isEmpty)
        func shape(_ f: Finding) -> String {
            [f.ruleID, f.source.rawValue, "\(f.layerIndex ?? -1)", f.path ?? "-", "\(f.line ?? -1)", f.key ?? "-", f.status?.rawValue ?? "-",
             "\(f.removedInLayer ?? -1)", f.secretSHA256, f.redacted, f.severity.rawValue].joined(separator: " ")
        }
        #expect(Set(cached.map(shape)) == Set(direct.map(shape)))
        #expect(Set(cached.compactMap(\.status)) == [.present, .deleted])
        #expect(cached.allSatisfy { $0.secret == nil })
        #expect(cached.contains { $0.status == .deleted && $0.path == "/app/conf/key.txt" && $0.removedInLayer == 2 })
        #expect(!cached.contains { ($0.path ?? "").contains(secrets[0]) }, "a path holding the secret is redacted")
    }
}
