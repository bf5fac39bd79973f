import Foundation
import Testing
import TestSupport

/// Issue 18, the sweep's part: hostile registries, Machines APIs, webhooks and report text, each built by the
/// test, run through the CLI as a scheduler would run it, bounded in time and memory.
@Suite struct SweepHardeningTests {
    /// A Machines API stand-in for org `acme` whose one app `app` runs `machines`.
    private func flyAPI(token: String, app: String, machines: [[String: Any]], drip: Double? = nil) throws -> StandIn {
        let fixture = try Run.tempDirectory() + "/fly.json"
        let doc: [String: Any] = ["orgs": ["acme": [app]], "machines": [app: machines]]
        try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: fixture))
        return try StandIn(["fly", "--token", token, "--fixture", fixture] + (drip.map { ["--drip", String($0)] } ?? []))
    }

    private func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test func theFlyTokenNeverGoesToARegistryAMachineNames() async throws {
        let token = FakeSecret.flyToken()
        let log = try Run.tempDirectory() + "/foreign.log"
        let foreign = try StandIn(["registry", "--log", log])
        defer { foreign.stop() }
        let app = "victim-app"
        // Anyone who can start a machine in the org picks its image, and so the registry it is pulled from.
        let api = try flyAPI(token: token, app: app, machines: [
            ["id": "m1", "config": ["image": "\(foreign.host)/evil/app:v1"],
             "image_ref": ["registry": foreign.host, "repository": "evil/app", "tag": "v1", "digest": "", "labels": [:]]],
            ["id": "m2", "config": ["image": "\(foreign.host)/other:latest"]],
        ])
        defer { api.stop() }
        let run = try SweepRun()
        try run.write("""
            [[registry]]
            host = "\(foreign.host)"
            insecure = true

            [[fly]]
            org = "acme"
            api_url = "http://\(api.host)"
            token_env = "ACME_FLY_TOKEN"
            """)
        let r = try run.sweep(env: ["ACME_FLY_TOKEN": token])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.report.failed.count == 2, "both images fail on the registry's 401: \(r.report.failed)")

        // `scan --fly-app` finds the same machines.
        let scan = try Run.command(Run.stowaway, ["scan", "--fly-app", app, "--insecure-registry", foreign.host, "--quiet"],
                                   environment: run.environment.merging(["FLY_API_TOKEN": token, "FLY_API_HOSTNAME": "http://\(api.host)"]) { $1 })
        #expect(scan.status == 2, "\(scan.stderr)")

        let seen = lines(log)
        #expect(seen.contains { $0.hasPrefix("GET /v2/") }, "the foreign registry was asked: \(seen)")
        let basic = Data("x:\(token)".utf8).base64EncodedString()
        for line in seen {
            #expect(!line.contains(basic) && !line.contains(token), "the Fly token went to \(foreign.host): \(line)")
        }
    }
}
