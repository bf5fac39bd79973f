import Foundation
import ImageBuilder
import Reports
import Scan
import Testing
import TestSupport

/// Issue 21, triage through the CLI: `ignore add` writes an entry with a reason, an expiry and a scope; `scan`
/// leaves an accepted finding out of the counts and says how many and how to see them; after the expiry (the
/// clock moved with STOWAWAY_NOW) the finding is back and the report says since when.
@Suite struct TriageTests {
    /// An image with two fresh secrets in two files; returns the tarball and a scratch directory.
    func image() throws -> (path: String, dir: String, stripe: String, github: String) {
        let dir = try Run.tempDirectory()
        let stripe = FakeSecret.stripeKey(), github = FakeSecret.githubToken()
        let spec = ImageSpec(format: .docker25, tag: "team/app:1.0", layers: [.init(files: [
            .init(path: "app/a.txt", content: "STRIPE_KEY=\(stripe)\n"), .init(path: "app/b.txt", content: "GITHUB_TOKEN=\(github)\n")])])
        try ImageBuilder.build(spec, at: dir + "/image.tar")
        return (dir + "/image.tar", dir, stripe, github)
    }

    func scan(_ path: String, _ args: [String], now: String) throws -> (status: Int32, json: [String: Any], stdout: String, stderr: String) {
        let r = try Run.command(Run.stowaway, ["scan", path, "-q"] + args, environment: ["STOWAWAY_NOW": now])
        return (r.status, (try? JSONDocument.object(r.stdout)) ?? [:], r.stdout, r.stderr)
    }

    func findings(_ json: [String: Any], _ key: String = "findings") -> [[String: Any]] {
        ((json["images"] as? [[String: Any]])?.first?[key] as? [[String: Any]]) ?? []
    }

    /// The fingerprint a user copies from the JSON report: the finding's secretSHA256.
    func fingerprint(_ path: String, file: String) throws -> String {
        let all = findings(try scan(path, ["-f", "json"], now: "2027-01-01").json)
        return try #require(all.first { $0["path"] as? String == file }?["secretSHA256"] as? String)
    }

    @Test func anAcceptedFindingIsLeftOutCountedShownOnAskingAndBackAfterItsExpiry() throws {
        let (path, dir, stripe, _) = try image()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fp = try fingerprint(path, file: "/app/a.txt")
        let ignore = dir + "/.stowawayignore"
        let add = try Run.command(Run.stowaway, ["ignore", "add", fp, "--reason", "fixture key, revoked \"2026\"", "--until", "2027-01-31",
                                                 "--file", ignore], environment: ["STOWAWAY_NOW": "2027-01-01"])
        #expect(add.status == 0, "\(add.stderr)")
        let line = try String(contentsOfFile: ignore, encoding: .utf8)
        #expect(line == "\(fp)  until=2027-01-31  reason=\"fixture key, revoked \\\"2026\\\"\"\n", "\(line)")

        // Before the expiry: one finding left, one accepted, counted in the summary and named in the text.
        let json = try scan(path, ["-f", "json", "--ignore-file", ignore], now: "2027-01-31")
        #expect(json.status == 1, "\(json.stderr)")
        #expect(findings(json.json).map { $0["path"] as? String } == ["/app/b.txt"])
        #expect((json.json["summary"] as? [String: Any])?["baselined"] as? Int == 1)
        #expect(findings(json.json, "accepted").isEmpty, "listed only with --show-suppressed")
        let text = try scan(path, ["--no-color", "--ignore-file", ignore], now: "2027-01-31")
        #expect(text.stdout.contains("1 finding") && text.stdout.contains("1 accepted (ignore file or baseline) not shown (--show-suppressed shows them)"),
                "\(text.stdout)")
        #expect(!text.stdout.contains("/app/a.txt"))

        // --show-suppressed lists it, marked with its reason and origin, redacted, still out of the counts and exit code.
        let shown = try scan(path, ["-f", "json", "--show-suppressed", "--ignore-file", ignore], now: "2027-01-31")
        let accepted = findings(shown.json, "accepted")
        #expect(accepted.map { $0["path"] as? String } == ["/app/a.txt"])
        let acceptance = accepted.first?["acceptance"] as? [String: Any]
        #expect(acceptance?["reason"] as? String == "fixture key, revoked \"2026\"" && acceptance?["until"] as? String == "2027-01-31")
        #expect(acceptance?["origin"] as? String == ignore + ":1" && acceptance?["expired"] as? Bool == false)
        #expect(!shown.stdout.contains(stripe))
        let shownText = try scan(path, ["--no-color", "--show-suppressed", "--ignore-file", ignore], now: "2027-01-31")
        #expect(shownText.stdout.contains("accepted, not counted") && shownText.stdout.contains("/app/a.txt")
                && shownText.stdout.contains("accepted (\(ignore):1, until 2027-01-31): fixture key"), "\(shownText.stdout)")
        #expect(!shownText.stdout.contains(stripe))

        // The day after: open again, and the report says when the acceptance expired.
        let later = try scan(path, ["-f", "json", "--ignore-file", ignore], now: "2027-02-01")
        let back = findings(later.json).first { $0["path"] as? String == "/app/a.txt" }
        #expect((back?["acceptance"] as? [String: Any])?["expired"] as? Bool == true, "\(later.stdout)")
        #expect((later.json["summary"] as? [String: Any])?["baselined"] as? Int == 0)
        let laterText = try scan(path, ["--no-color", "--ignore-file", ignore], now: "2027-02-01")
        #expect(laterText.stdout.contains("2 findings") && laterText.stdout.contains("acceptance expired on 2027-01-31"), "\(laterText.stdout)")
    }

    @Test func anEntryAppliesOnlyWithinItsImageAndPathScope() throws {
        let (path, dir, _, _) = try image()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fp = try fingerprint(path, file: "/app/a.txt")
        for (scope, applies) in [(["--path", "/app/*"], true), (["--path", "/srv/*"], false), (["--image", "team/*"], true),
                                 (["--image", "registry.example.com/*"], false)] {
            let ignore = dir + "/ignore-\(UUID().uuidString)"
            let add = try Run.command(Run.stowaway, ["ignore", "add", "sha256:" + fp.uppercased(), "--reason", "scoped", "--file", ignore] + scope)
            #expect(add.status == 0, "\(add.stderr)")
            let r = try scan(path, ["-f", "json", "--show-suppressed", "--ignore-file", ignore], now: "2027-01-01")
            #expect(findings(r.json).count == (applies ? 1 : 2), "\(scope)")
            if applies {
                let a = findings(r.json, "accepted").first?["acceptance"] as? [String: Any]
                #expect(a?["reason"] as? String == "scoped" && a?["until"] is NSNull, "no expiry is null: \(r.stdout)")
            }
        }
    }

    @Test func badInputsAreOneLineNamingTheProblemWithExitCode2() throws {
        let (path, dir, _, _) = try image()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fp = try fingerprint(path, file: "/app/a.txt")
        let cases: [(String, String)] = [
            ("\(fp)  reason=\"ok\"\n\(fp) until=2027-02-30\n", ":2: until=2027-02-30 is not a day"),
            ("# fine\n\(fp) because=me\n", ":2: unknown key 'because'"),
            ("\(fp) reason=\"not closed\n", ":1: a quote is not closed"),
            ("\(fp) reason=a\n\(fp.prefix(40))\n", ":2: expected a fingerprint"),
        ]
        for (text, message) in cases {
            let file = dir + "/bad-\(UUID().uuidString)"
            try Data(text.utf8).write(to: URL(fileURLWithPath: file))
            let r = try scan(path, ["--ignore-file", file], now: "2027-01-01")
            #expect(r.status == 2 && r.stdout.isEmpty, "\(text)")
            #expect(r.stderr.hasPrefix("stowaway: " + file + message) && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
            // `ignore add` refuses to append to a file that does not read.
            let add = try Run.command(Run.stowaway, ["ignore", "add", fp, "--reason", "x", "--file", file])
            #expect(add.status == 2 && add.stderr.hasPrefix("stowaway: " + file + message), "\(add.stderr)")
        }
        // An ignore file is a list, not data: more than 1 MiB is refused before it is parsed.
        let huge = dir + "/huge"
        try Data(("\(fp) reason=\"" + String(repeating: "x", count: 400) + "\"\n").utf8).write(to: URL(fileURLWithPath: huge))
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: huge))
        try h.seekToEnd()
        try h.write(contentsOf: Data(repeating: UInt8(ascii: "#"), count: 1 << 20))
        try h.close()
        let big = try scan(path, ["--ignore-file", huge], now: "2027-01-01")
        #expect(big.status == 2 && big.stderr == "stowaway: \(huge): larger than 1 MiB: not an ignore file\n", "\(big.stderr)")

        let file = dir + "/ignore"
        let past = try Run.command(Run.stowaway, ["ignore", "add", fp, "--reason", "x", "--until", "2026-12-31", "--file", file],
                                   environment: ["STOWAWAY_NOW": "2027-01-01"])
        #expect(past.status == 2 && past.stderr == "stowaway: --until 2026-12-31: the day is in the past (today is 2027-01-01, UTC)\n", "\(past.stderr)")
        let notHex = try Run.command(Run.stowaway, ["ignore", "add", "abc", "--reason", "x", "--file", file])
        #expect(notHex.status == 2 && notHex.stderr.contains("abc: not a fingerprint") && notHex.stderr.split(separator: "\n").count == 1)
        let control = try Run.command(Run.stowaway, ["ignore", "add", fp, "--reason", "a\u{1B}[2Jb", "--file", file])
        #expect(control.status == 2 && control.stderr.contains("control character") && !control.stderr.contains("\u{1B}"))
        #expect(!FileManager.default.fileExists(atPath: file), "nothing is written on a bad value")
    }
}

/// The ignore file's grammar from a table: what each line reads as, and every line `ignore add` writes reads
/// back as the entry it was written from.
struct IgnoreFileTests {
    static let fp = String(repeating: "0123456789abcdef", count: 4)

    @Test(arguments: [
        ("\(fp)", "", nil, nil, nil),
        ("  sha256:\(fp.uppercased())   # the old form, with a comment", "", nil, nil, nil),
        ("\(fp) until=2028-02-29 reason=short", "short", "2028-02-29", nil, nil),
        ("\(fp)\treason=\"a # not a comment\" image=\"reg/*\" path=/app/*  # a comment", "a # not a comment", nil, "reg/*", "/app/*"),
        ("\(fp) reason=\"say \\\"hi\\\" \\\\ bye\"\r", "say \"hi\" \\ bye", nil, nil, nil),
    ] as [(String, String, String?, String?, String?)])
    func aLineReadsAs(_ line: String, _ reason: String, _ until: String?, _ image: String?, _ path: String?) throws {
        let e = try #require(try IgnoreFile(text: "# header\n\n" + line + "\n", path: "f").entries.first)
        #expect(e.fingerprint == Self.fp && e.reason == reason && e.until?.description == until)
        #expect(e.image?.pattern == image && e.path?.pattern == path && e.origin == "f:3")
        // What `ignore add` would write for it reads back the same.
        let again = try #require(try IgnoreFile(text: IgnoreFile.line(e), path: "f").entries.first)
        #expect(again.fingerprint == e.fingerprint && again.reason == e.reason && again.until == e.until && again.image == e.image && again.path == e.path)
    }

    @Test(arguments: ["2027-02-29", "2027-13-01", "2027-1-01", "27-01-01", "2027-01-01T00:00:00Z", "tomorrow"])
    func notADay(_ text: String) {
        #expect(Day(text) == nil)
    }

    @Test func theClockIsMovedOnlyByAValidDay() {
        #expect(Day(TriageClock.now(["STOWAWAY_NOW": "2030-05-06"])).description == "2030-05-06")
        #expect(Day(TriageClock.now(["STOWAWAY_NOW": "2030-05-06T23:59:00Z"])).description == "2030-05-06")
        #expect(Day(TriageClock.now(["STOWAWAY_NOW": "garbage"])) == Day(Date()))
    }
}
