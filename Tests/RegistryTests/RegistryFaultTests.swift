import Foundation
import Testing
import TestSupport

/// Misbehaving registries (testdata/registry/faults.py, started by the harness): every one must end the scan
/// with exit 2 and one line naming the registry, what was being done and why, with no credential in it.
/// Scans run with `--timeout 2`, under a 60 s liveness bound that kills a hung scan (so a hang fails the test
/// instead of the run).
@Suite(.serialized) struct RegistryFaultTests {
    let h: Harness

    init() throws { h = try Harness.load() }

    /// `stowaway scan REF --timeout 2 …` for the fault service `name` (plain HTTP unless it has a CA).
    private func scan(_ name: String, _ extra: [String] = [], stdin: String? = nil,
                      env: [String: String] = [:]) throws -> (ProcessResult, host: String) {
        let s = try h[name]
        let trust = s.ca.map { ["--ca-file", $0] } ?? ["--insecure-registry", s.host]
        let args = ["--signal=KILL", "60", Run.stowaway, "scan", "\(s.host)/fault/app:v1", "--timeout", "2", "--quiet",
                    "--format", "json"] + trust + extra
        let r = try Run.command("/usr/bin/timeout", args, stdin: stdin, environment: cleanHome.merging(env) { $1 })
        return (r, s.host)
    }

    private func lines(_ text: String) -> [Substring] {
        text.split(separator: "\n", omittingEmptySubsequences: true)
    }

    /// Exit 2 (not killed by the liveness bound: that would be 137), one stderr line naming the host and `reason`.
    private func expectOneLine(_ r: ProcessResult, host: String, _ reason: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 2, "exit \(r.status) (137: still running after 60 s): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(lines(r.stderr).count == 1, "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(host) && r.stderr.contains(reason), "want \(host) and \"\(reason)\" in: \(r.stderr)",
                sourceLocation: sourceLocation)
        #expect(!r.stdout.contains("No secrets found"), sourceLocation: sourceLocation)
    }

    @Test func a503ForeverGivesUpAfterFiveAttempts() throws {
        let (r, host) = try scan("fault-503")
        expectOneLine(r, host: host, "manifest of fault/app:v1: 503 after 5 attempts")
        #expect(r.stderr.contains("UNAVAILABLE"), "the registry's own message is kept: \(r.stderr)")
    }

    @Test func a429ForeverGivesUpAfterFiveAttempts() throws {
        let (r, host) = try scan("fault-429")
        expectOneLine(r, host: host, "manifest of fault/app:v1: 429 after 5 attempts")
    }

    @Test func aManifestTrickledAByteAtATimeHitsTheWholeDocumentBound() throws {
        let (r, host) = try scan("fault-trickle")
        expectOneLine(r, host: host, "manifest of fault/app:v1: not received whole within 2 s")
    }

    @Test func aServerThatNeverAnswersHitsTheSilenceBound() throws {
        let (r, host) = try scan("fault-silent")
        expectOneLine(r, host: host, "ping: no answer within 2 s")
    }

    @Test func aManifestOverTheCapIsRefused() throws {
        let (r, host) = try scan("fault-huge")
        expectOneLine(r, host: host, "manifest of fault/app:v1: larger than the limit of \(4 << 20) bytes")
    }

    @Test func aRedirectLoopIsNamed() throws {
        let (r, host) = try scan("fault-redirect")
        expectOneLine(r, host: host, "manifest of fault/app:v1: redirect loop")
    }

    @Test func aBlobLongerThanItsDescriptorStopsAtSizePlusOne() throws {
        let s = try h["fault-long-blob"]
        let manifest = try Run.tool("curl", ["-sf", "-H", "Accept: application/vnd.oci.image.manifest.v1+json",
                                             "http://\(s.host)/v2/fault/app/manifests/v1"]).stdout
        let layer = try #require(((try JSONSerialization.jsonObject(with: Data(manifest.utf8)) as? [String: Any])?["layers"]
            as? [[String: Any]])?.first)
        let digest = try #require(layer["digest"] as? String)
        let size = try #require(layer["size"] as? Int)
        let (r, host) = try scan("fault-long-blob")
        expectOneLine(r, host: host, "blob \(digest): longer than its descriptor's \(size) bytes (stopped reading at byte \(size + 1))")
        #expect(((try report(r.stdout))["images"] as? [[String: Any]])?.isEmpty == false, "the incomplete report is still written")
    }

    @Test func aBlobThatGoesSilentMidwayHitsTheSilenceBound() throws {
        let (r, host) = try scan("fault-stall-blob")
        expectOneLine(r, host: host, "stalled: no data for 2 s")
        #expect(r.stderr.contains("layer 0: \(host): blob sha256:"), "\(r.stderr)")
    }

    @Test func onceABlobStallsTheRemainingLayersAreNotWaitedForOneByOne() throws {
        // 64 layers that all stall: the first few (as many as the scanner runs at once) wait out the silence
        // bound; the rest fail at once. Each failed layer gets its own entry in the report's errors, and stderr
        // one line.
        let s = try h["fault-stall-blob"]
        let r = try Run.command("/usr/bin/timeout", ["--signal=KILL", "60", Run.stowaway, "scan", "\(s.host)/fault/many:v1",
                                                     "--timeout", "2", "--quiet", "--format", "json", "--insecure-registry", s.host],
                                environment: cleanHome)
        #expect(r.status == 2, "exit \(r.status) (137: still running after 60 s): \(r.stderr)")
        #expect(lines(r.stderr).count == 1, "\(r.stderr)")
        #expect(r.stderr.contains("(and 63 more errors: see the report)"), "\(r.stderr)")
        let image = try #require(try JSONDocument.object(r.stdout).objects("images").first)
        let errors = try image.objects("errors").compactMap { $0["message"] as? String }
        #expect(errors.count == 64, "\(errors)")
        #expect(errors.allSatisfy { $0.contains(s.host) && $0.contains("blob sha256:") }, "\(errors)")
        #expect(errors.contains { $0.contains("stalled: no data for 2 s") }, "\(errors)")
        #expect(errors.contains { $0.contains("not fetched: this registry already failed (blob sha256:") }, "\(errors)")
    }

    @Test func aTokenServerEchoingTheBasicCredentialIsRedacted() throws {
        let password = "pw-" + FakeSecret.random(24)
        let (r, host) = try scan("fault-token-echo", ["--username", "alice", "--password-stdin"], stdin: password + "\n")
        expectOneLine(r, host: host, "authentication failed (401) with credentials from --username/--password-stdin")
        #expect(r.stderr.contains("token from http://\(host)/token refused"), "\(r.stderr)")
        #expect(r.stderr.contains("[redacted]"), "the echo is shown with the credential taken out: \(r.stderr)")
        for secret in [password, "alice:\(password)", Data("alice:\(password)".utf8).base64EncodedString()] {
            #expect(!r.stderr.contains(secret) && !r.stdout.contains(secret), "\(secret) leaked: \(r.stderr)")
        }
    }

    @Test func credentialsNeverGoToAPlainHTTPRealmOfAnHTTPSRegistry() throws {
        let logPath = h.workdir + "/logs/faults.log"
        let before = (FileManager.default.contents(atPath: logPath) ?? Data()).count
        let password = "pw-" + FakeSecret.random(24)
        let (r, host) = try scan("fault-tls-realm", ["--username", "alice", "--password-stdin"], stdin: password + "\n")
        expectOneLine(r, host: host, "refusing to send the credentials from --username/--password-stdin over plain HTTP")
        #expect(!r.stderr.contains(password))
        let log = String(decoding: (FileManager.default.contents(atPath: logPath) ?? Data()).dropFirst(before), as: UTF8.self)
        #expect(!log.contains("tls-realm: authorization=present"), "the realm must not have seen the credential: \(log)")
    }

    @Test func aCredentialHelperThatHangsTimesOut() throws {
        let (r, host) = try scanWithHelper(name: "stowhang", body: "exec sleep 300")
        #expect(r.status == 2, "exit \(r.status) (137: still running after 60 s): \(r.stderr)")
        #expect(lines(r.stderr).count == 1, "\(r.stderr)")
        #expect(r.stderr.contains("docker-credential-stowhang (asked for \(host)): no answer within 2 s"), "\(r.stderr)")
    }

    @Test func aCredentialHelpersOutputIsNeverShown() throws {
        let secret = "helper-secret-" + FakeSecret.random(20)
        let (r, host) = try scanWithHelper(name: "stowfail", body: "echo 'store unlocked: \(secret)'; echo \(secret) >&2; exit 3")
        #expect(r.status == 2)
        #expect(lines(r.stderr).count == 1, "\(r.stderr)")
        #expect(r.stderr.contains("docker-credential-stowfail (asked for \(host)): exited with status 3"), "\(r.stderr)")
        #expect(!r.stderr.contains(secret) && !r.stdout.contains(secret))
    }

    /// A scan of the 503 registry whose Docker config names a `docker-credential-NAME` helper running `body`.
    private func scanWithHelper(name: String, body: String) throws -> (ProcessResult, host: String) {
        let host = try h["fault-503"].host
        let bin = try Run.tempDirectory()
        let helper = bin + "/docker-credential-\(name)"
        try Data("#!/bin/sh\nread server\n\(body)\n".utf8).write(to: URL(fileURLWithPath: helper))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: helper)
        let config = try Run.tempDirectory()
        try Data(#"{"credHelpers":{"\#(host)":"\#(name)"}}"#.utf8).write(to: URL(fileURLWithPath: config + "/config.json"))
        return try scan("fault-503", env: ["DOCKER_CONFIG": config, "PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "")])
    }
}
