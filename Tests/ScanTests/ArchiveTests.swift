import Foundation
import ImageBuilder
import Reports
import Scan
import Secrets
import Testing
import TestSupport

/// Archives inside layers: every secret in a jar, a nested jar, a wheel, a tar.gz, a zip or a lone .gz is found
/// under its chain path (`/app/app.jar!/BOOT-INF/lib/inner.jar!/config.properties`); bombs are stopped by the
/// limits, with a warning and a summary count, in bounded memory; a corrupt archive is a warning, not exit 2.
/// All through the real CLI, on images built here with fresh fake secrets.
@Suite struct ArchiveTests {
    typealias Outcome = HostileInputTests.Outcome

    func scan(_ image: String, _ extra: [String] = []) throws -> Outcome {
        try HostileInputTests().scan(image, extra)
    }

    func build(_ layers: [[ImageSpec.File]]) throws -> String {
        try HostileInputTests().build(ImageSpec(format: .docker25, layers: layers.map { ImageSpec.Layer(files: $0) }))
    }

    func zip(_ members: [(String, [UInt8])], method: ZipWriter.Method = .deflated, sizes: ZipWriter.Sizes = .header) throws -> [UInt8] {
        var z = ZipWriter()
        for (name, content) in members { try z.add(name, content, method: method, sizes: sizes) }
        return z.finish()
    }

    func tarGz(_ members: [(String, [UInt8])]) throws -> [UInt8] { try TarWriter.archive(members, compression: .gzip) }

    func file(_ path: String, _ bytes: [UInt8]) -> ImageSpec.File { ImageSpec.File(path: path, bytes: Data(bytes)) }

    func text(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// (path, secret) of every finding.
    func places(_ out: Outcome) -> Set<String> {
        Set(out.findings.map { "\($0["path"] as? String ?? "?") \($0["secret"] as? String ?? "?")" })
    }

    func warnings(_ out: Outcome) -> [[String: Any]] { out.images.flatMap { $0["warnings"] as? [[String: Any]] ?? [] } }

    /// The image of the issue: a fat jar with a nested jar, a wheel, a tar.gz, a zip (a stored member whose sizes follow
    /// it in a descriptor without signature, the case a local-header reader gets wrong) and a lone .gz; a later layer
    /// deletes the zip.
    func sample() throws -> (image: String, expected: Set<String>, secrets: [String]) {
        let s = (0..<6).map { _ in FakeSecret.githubToken() }
        let aws = FakeSecret.awsKeyID()
        let inner = try zip([("config.properties", text("db.token=\(s[1])\n")), ("META-INF/MANIFEST.MF", text("Manifest-Version: 1.0\n"))])
        var jar = ZipWriter()
        try jar.add("BOOT-INF/classes/application.properties", text("aws.key=\(aws)\ngithub=\(s[0])\n"), sizes: .descriptor)
        try jar.add("BOOT-INF/lib/inner.jar", inner, method: .stored)
        let wheel = try zip([("pkg/__init__.py", text("")), ("pkg/settings.py", text("TOKEN = '\(s[2])'\n"))], sizes: .descriptor)
        let bundle = try tarGz([(".env", text("GITHUB_TOKEN=\(s[3])\n")), ("README", text("hello\n"))])
        let data = try zip([("creds/stored.txt", text("x\n\(s[4])\n"))], method: .stored, sizes: .bareDescriptor)
        let log = try ZipWriter.compress(text("line one\ntoken \(s[5])\n"), filter: "gzip")
        // An executable jar: a launch script, then the zip (found by its end record, not its first bytes).
        let npm = FakeSecret.npmToken()
        let launcher = text("#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n") + (try zip([("BOOT-INF/classes/app.yml", text("npm: \(npm)\n"))]))
        // A jar by its bytes alone, whatever its name says.
        let stripe = FakeSecret.stripeKey()
        let disguised = try zip([("conf/keys.txt", text("stripe=\(stripe)\n"))])
        let image = try build([
            [file("app/app.jar", jar.finish()), file("usr/lib/python3/dist-packages/pkg-1.0-py3-none-any.whl", wheel),
             file("opt/bundle.tar.gz", bundle), file("srv/data.zip", data), file("var/log/app.log.gz", log),
             file("usr/local/bin/service", launcher), file("etc/notes.txt", disguised)],
            [ImageSpec.File(path: "srv/.wh.data.zip", content: "")],
        ])
        let expected: Set<String> = [
            "/app/app.jar!/BOOT-INF/classes/application.properties \(aws)",
            "/app/app.jar!/BOOT-INF/classes/application.properties \(s[0])",
            "/app/app.jar!/BOOT-INF/lib/inner.jar!/config.properties \(s[1])",
            "/usr/lib/python3/dist-packages/pkg-1.0-py3-none-any.whl!/pkg/settings.py \(s[2])",
            "/opt/bundle.tar.gz!/.env \(s[3])",
            "/srv/data.zip!/creds/stored.txt \(s[4])",
            "/var/log/app.log.gz!/app.log \(s[5])",
            "/usr/local/bin/service!/BOOT-INF/classes/app.yml \(npm)",
            "/etc/notes.txt!/conf/keys.txt \(stripe)",
        ]
        return (image, expected, s + [aws, npm, stripe])
    }

    @Test func everySecretInsideArchivesIsFoundOnceWithItsChainPath() throws {
        let (image, expected, _) = try sample()
        let out = try scan(image, ["--show-secrets"])
        #expect(out.status == 1, "\(out.stderr)")
        // Exactly these: the stored member is not reported a second time at /srv/data.zip itself.
        #expect(places(out) == expected)
        #expect(out.findings.count == expected.count)
        #expect(out.errors.isEmpty && warnings(out).isEmpty, "\(out.errors) \(warnings(out))")
        // The whiteout of the zip applies to its members.
        let zipped = out.findings.filter { ($0["path"] as? String ?? "").hasPrefix("/srv/data.zip!/") }
        #expect(zipped.count == 1 && zipped.allSatisfy { $0["status"] as? String == "deleted" && $0["removedInLayer"] as? Int == 1 })
        let others = out.findings.filter { !($0["path"] as? String ?? "").hasPrefix("/srv/") }
        #expect(others.allSatisfy { $0["status"] as? String == "present" })
        #expect(out.summary["archiveLimits"] as? Int == 0)
    }

    /// With no memory for kept zips, every zip goes through a temporary file: the same findings, nothing left behind.
    @Test func zipsKeptOnDiskGiveTheSameFindings() throws {
        let (image, expected, _) = try sample()
        let tmp = try Run.tempDirectory()
        let r = try Run.command(Run.stowaway, ["scan", image, "--format", "json", "--show-secrets"],
                                environment: ["STOWAWAY_ARCHIVE_MEMORY": "0", "TMPDIR": tmp])
        #expect(r.status == 1, "\(r.stderr)")
        let found = try JSONDocument.findings(r.stdout)
        #expect(Set(found.map { "\($0["path"] as? String ?? "?") \($0["secret"] as? String ?? "?")" }) == expected)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty)
    }

    @Test func noArchivesLeavesTheMembersUnopened() throws {
        let (image, _, secrets) = try sample()
        let out = try scan(image, ["--show-secrets", "--no-archives"])
        let found = Set(out.findings.compactMap { $0["secret"] as? String })
        // Deflated members are invisible as bytes; the stored one is found, at the zip's own path.
        #expect(found == [secrets[4]], "\(places(out))")
        #expect(out.findings.first?["path"] as? String == "/srv/data.zip")
        #expect(out.status == 1, "\(out.stderr)")
    }

    @Test func theTextReportGroupsMembersUnderTheirArchiveAndSARIFAndBaselineUseTheChain() throws {
        let (image, expected, _) = try sample()
        let text = try Run.command(Run.stowaway, ["scan", image, "--no-color"])
        #expect(text.status == 1, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        let header = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "/app/app.jar" }, "\(text.stdout)")
        #expect(lines[header + 1 ... header + 3].filter { $0.contains("!/BOOT-INF/") }.count == 3, "\(text.stdout)")
        #expect(lines.contains { $0.contains("/srv/data.zip") && $0.contains("deleted in layer 1") }, "\(text.stdout)")

        let sarif = try Run.command(Run.stowaway, ["scan", image, "--format", "sarif"])
        #expect(sarif.stdout.contains("\"files/app/app.jar!/BOOT-INF/lib/inner.jar!/config.properties\""), "\(sarif.stdout.prefix(2000))")

        let dir = try Run.tempDirectory()
        let json = try Run.command(Run.stowaway, ["scan", image, "--format", "json", "--output", dir + "/report.json"])
        #expect(json.status == 1)
        let again = try scan(image, ["--baseline", dir + "/report.json"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.summary["baselined"] as? Int == expected.count)
    }

    /// Gigabytes of zeros in a few megabytes: 16 members of 256 MB deflated once, in a zip stored in a jar. Stopped by
    /// the ratio limit, then (with that off) by the byte limit; a secret in a later file is still found.
    @Test(arguments: [[String](), ["--archive-max-ratio", "0", "--archive-max-bytes", "64M"]])
    func aZipBombIsStoppedAndReported(_ flags: [String]) throws {
        let zeros = try ZipWriter.deflateZeros(256 << 20)
        var bomb = ZipWriter()
        for i in 0..<16 { bomb.add("zeros-\(i).bin", deflated: zeros) }
        let bombBytes = bomb.finish()
        #expect(bombBytes.count < 8 << 20)
        var jar = ZipWriter()
        try jar.add("lib/bomb.zip", bombBytes, method: .stored)
        let token = FakeSecret.githubToken()
        let image = try build([[file("app/bomb.jar", jar.finish()), ImageSpec.File(path: "app/z.env", content: "T=\(token)\n")]])
        let out = try scan(image, ["--show-secrets"] + flags)
        #expect(out.status == 1, "\(out.stderr)")
        #expect(places(out) == ["/app/z.env \(token)"])
        #expect(out.errors.isEmpty)
        let limits = warnings(out).filter { $0["kind"] as? String == "archive-limit" }
        #expect(!limits.isEmpty && (out.summary["archiveLimits"] as? Int ?? 0) == limits.count, "\(warnings(out))")
        #expect(limits.contains { ($0["path"] as? String ?? "").hasPrefix("/app/bomb.jar!/lib/bomb.zip") }, "\(limits)")
        #expect(out.peakRSSMB < 200, "peak RSS \(out.peakRSSMB) MB")
    }

    /// Twelve zips, each inside the last: the first four levels are opened, the fifth is scanned as bytes and named.
    @Test func aDeeplyNestedArchiveStopsAtTheDepthLimit() throws {
        let secrets = (0..<12).map { _ in FakeSecret.githubToken() }
        var inner: [UInt8] = []
        for level in stride(from: 11, through: 0, by: -1) {
            var members = [("secret-\(level + 1).txt", text("t=\(secrets[level])\n"))]
            if !inner.isEmpty { members.append(("next.zip", inner)) }
            inner = try zip(members)
        }
        let image = try build([[file("deep.zip", inner)]])
        let out = try scan(image, ["--show-secrets"])
        #expect(out.status == 1, "\(out.stderr)")
        var chain = "/deep.zip"
        var expected: Set<String> = []
        for level in 0..<4 {
            expected.insert("\(chain)!/secret-\(level + 1).txt \(secrets[level])")
            chain += "!/next.zip"
        }
        #expect(places(out) == expected)
        let limits = warnings(out).filter { $0["kind"] as? String == "archive-limit" }
        #expect(limits.map { $0["path"] as? String } == [chain], "\(warnings(out))")
        #expect(out.summary["archiveLimits"] as? Int == 1)
        #expect(out.peakRSSMB < 200, "peak RSS \(out.peakRSSMB) MB")
    }

    /// A truncated jar and a tar.gz cut short are warnings naming them; what could be read of the tar.gz is scanned;
    /// the exit code follows the findings alone (0 without any).
    @Test func aCorruptArchiveIsAWarningAndTheExitCodeFollowsTheFindings() throws {
        let token = FakeSecret.githubToken()
        let jar = try zip([("a.properties", text("k=\(FakeSecret.githubToken())\n"))])
        let truncatedJar = Array(jar.prefix(jar.count - 30))
        let big = (0..<4000).map { _ in FakeSecret.random(60) }.joined(separator: "\n")
        let tgz = try tarGz([(".env", text("T=\(token)\n")), ("big.txt", text(big))])
        let cut = Array(tgz.prefix(tgz.count * 2 / 3))

        let clean = try scan(try build([[file("app/broken.jar", truncatedJar)]]))
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(clean.errors.isEmpty)
        #expect(warnings(clean).map { $0["path"] as? String } == ["/app/broken.jar"], "\(warnings(clean))")
        #expect(warnings(clean).first?["kind"] as? String == "archive-unreadable")
        #expect(clean.summary["archiveLimits"] as? Int == 0)

        let found = try scan(try build([[file("app/broken.jar", truncatedJar), file("opt/cut.tar.gz", cut)]]), ["--show-secrets"])
        #expect(found.status == 1, "\(found.stderr)")
        #expect(places(found) == ["/opt/cut.tar.gz!/.env \(token)"])
        #expect(Set(warnings(found).compactMap { $0["path"] as? String }).isSuperset(of: ["/app/broken.jar"]), "\(warnings(found))")
        #expect(warnings(found).contains { ($0["path"] as? String ?? "").hasPrefix("/opt/cut.tar.gz") }, "\(warnings(found))")
        let text = try Run.command(Run.stowaway, ["scan", try build([[file("app/broken.jar", truncatedJar)]]), "--no-color"])
        #expect(text.status == 0 && text.stdout.contains("/app/broken.jar") && !text.stdout.contains("INCOMPLETE"), "\(text.stdout)")
    }

    /// A zip member named in UTF-8 (flag 11, which zip tools set for any non-ASCII name) keeps its name. In the C
    /// locale libarchive could not convert it, and the finding pointed at `app.jar!/`.
    @Test func aMemberNamedInUTF8KeepsItsName() throws {
        let token = FakeSecret.githubToken()
        let jar = try zip([("conf/café-ключ.properties", text("k=\(token)\n")), ("conf/plain.properties", text("k=\(token)\n"))])
        let found = try scan(try build([[file("app/lib/app.jar", jar)]]), ["--show-secrets"])
        #expect(found.status == 1, "\(found.stderr)")
        #expect(places(found) == ["/app/lib/app.jar!/conf/café-ключ.properties \(token)", "/app/lib/app.jar!/conf/plain.properties \(token)"],
                "\(places(found))")
    }

    /// A sweep keeps layer results under `layerCacheKey`: a result made with other archive settings is not reused.
    @Test func theStoredLayerKeyFollowsTheArchiveSettings() throws {
        let engine = try MatchEngine(rules: BuiltinRules.all, cache: nil)
        var off = ScanOptions()
        off.archives = false
        var shallow = ScanOptions()
        shallow.archiveLimits.maxDepth = 1
        let keys = [ScanOptions(), off, shallow].map { ImageScanner(engine: engine, options: $0).layerCacheKey }
        #expect(Set(keys).count == 3)
        #expect(ImageScanner(engine: engine, options: ScanOptions()).layerCacheKey == keys[0])
    }

    func tar(_ members: [(String, [UInt8])]) throws -> [UInt8] { try TarWriter.archive(members) }

    /// Tar plain and compressed every way, and lone compressed files, each told by its bytes.
    @Test func tarsAndLoneFilesCompressedEveryWayAreOpened() throws {
        let s = (0..<7).map { _ in FakeSecret.githubToken() }
        let files = [
            file("a/plain.tar", try tar([("x/.env", text("T=\(s[0])\n"))])),
            file("a/b.tar.xz", try ZipWriter.compress(try tar([("x/.env", text("T=\(s[1])\n"))]), filter: "xz")),
            file("a/c.tar.bz2", try ZipWriter.compress(try tar([("x/.env", text("T=\(s[2])\n"))]), filter: "bzip2")),
            file("a/d.tar.zst", try ZipWriter.compress(try tar([("x/.env", text("T=\(s[3])\n"))]), filter: "zstd")),
            file("a/e.txt.zst", try ZipWriter.compress(text("T=\(s[4])\n"), filter: "zstd")),
            file("a/f.json.xz", try ZipWriter.compress(text("{\"t\": \"\(s[5])\"}\n"), filter: "xz")),
            file("a/g.jar.gz", try ZipWriter.compress(try zip([("h.txt", text("T=\(s[6])\n"))]), filter: "gzip")),
        ]
        let out = try scan(try build([files]), ["--show-secrets"])
        #expect(out.status == 1, "\(out.stderr)")
        #expect(places(out) == [
            "/a/plain.tar!/x/.env \(s[0])", "/a/b.tar.xz!/x/.env \(s[1])", "/a/c.tar.bz2!/x/.env \(s[2])",
            "/a/d.tar.zst!/x/.env \(s[3])", "/a/e.txt.zst!/e.txt \(s[4])", "/a/f.json.xz!/f.json \(s[5])",
            "/a/g.jar.gz!/g.jar!/h.txt \(s[6])",
        ])
        #expect(warnings(out).isEmpty, "\(warnings(out))")
    }

    /// The member and per-layer limits: each reached is a warning naming the archive and a count; the members read
    /// before it are scanned.
    @Test func theMemberAndLayerLimitsAreReported() throws {
        let first = FakeSecret.githubToken()
        let many = try zip([("a.txt", text("T=\(first)\n"))] + (0..<300).map { ("m/\($0).txt", text("nothing \($0)\n")) })
        let out = try scan(try build([[file("many.zip", many)]]), ["--show-secrets", "--archive-max-members", "100"])
        #expect(out.status == 1, "\(out.stderr)")
        #expect(places(out) == ["/many.zip!/a.txt \(first)"])
        #expect(warnings(out).map { $0["path"] as? String } == ["/many.zip"], "\(warnings(out))")
        #expect(out.summary["archiveLimits"] as? Int == 1)

        let later = FakeSecret.githubToken()
        let big = try zip([("big.bin", [UInt8](repeating: 0x41, count: 64 << 10))])
        let image = try build([[file("1.zip", big), file("2.zip", big), file("3.zip", try zip([("s.txt", text("T=\(later)\n"))]))]])
        let capped = try scan(image, ["--show-secrets", "--archive-layer-bytes", "100K"])
        #expect(capped.status == 0, "\(capped.stderr)")
        #expect(capped.findings.isEmpty, "archives after the layer limit are scanned as bytes only")
        #expect(warnings(capped).map { $0["path"] as? String } == ["/2.zip"], "\(warnings(capped))")
        let open = try scan(image, ["--show-secrets"])
        #expect(places(open) == ["/3.zip!/s.txt \(later)"])
    }

    /// An archive where the path allowlist would suppress every finding (`/usr/share/doc`, man pages: hundreds of
    /// megabytes of .gz in a Debian image) is not opened; `--no-default-allowlist` opens it.
    @Test func anArchiveInAnAllowlistedPathIsOpenedOnlyWithoutTheAllowlist() throws {
        let token = FakeSecret.githubToken()
        let image = try build([[file("usr/share/doc/pkg/changelog.gz", try ZipWriter.compress(text("T=\(token)\n"), filter: "gzip"))]])
        let allowed = try scan(image, ["--show-secrets"])
        #expect(allowed.status == 0 && allowed.findings.isEmpty, "\(allowed.stderr)")
        let opened = try scan(image, ["--show-secrets", "--no-default-allowlist"])
        #expect(places(opened) == ["/usr/share/doc/pkg/changelog.gz!/changelog \(token)"])
    }
}
