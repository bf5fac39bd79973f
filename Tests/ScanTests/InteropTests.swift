import Foundation
import Testing
import TestSupport

/// Images made by public tools: umoci builds an OCI layout, skopeo converts it to a docker save tarball
/// and an OCI archive. All three must give the same findings.
@Suite struct InteropTests {
    @Test func umociLayoutAndSkopeoConversionsGiveTheSameFindings() throws {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let layout = dir + "/layout"
        let bundle = dir + "/bundle"
        let fly = FakeSecret.flyToken(), stripe = FakeSecret.stripeKey(), github = FakeSecret.githubToken()

        try Run.tool("umoci", ["init", "--layout", layout])
        try Run.tool("umoci", ["new", "--image", layout + ":app"])
        try Run.tool("umoci", ["unpack", "--rootless", "--image", layout + ":app", bundle])
        let app = bundle + "/rootfs/app"
        try FileManager.default.createDirectory(atPath: app, withIntermediateDirectories: true)
        try Data("STRIPE_KEY=\(stripe)\n".utf8).write(to: URL(fileURLWithPath: app + "/.env"))
        try Data("ok\n".utf8).write(to: URL(fileURLWithPath: app + "/README"))
        try Run.tool("umoci", ["repack", "--image", layout + ":app", bundle])
        // A second layer deletes the .env (umoci writes a whiteout). repack builds on the bundle's image,
        // so unpack the new tag into a fresh bundle first.
        let bundle2 = dir + "/bundle2"
        try Run.tool("umoci", ["unpack", "--rootless", "--image", layout + ":app", bundle2])
        try FileManager.default.removeItem(atPath: bundle2 + "/rootfs/app/.env")
        try Run.tool("umoci", ["repack", "--image", layout + ":app", bundle2])
        try Run.tool("umoci", ["config", "--image", layout + ":app", "--config.env", "FLY_API_TOKEN=\(fly)",
                               "--config.label", "ci.token=\(github)"])

        let docker = dir + "/docker.tar", ociArchive = dir + "/oci.tar"
        try Run.tool("skopeo", ["copy", "--quiet", "oci:\(layout):app", "docker-archive:\(docker):app:latest"])
        try Run.tool("skopeo", ["copy", "--quiet", "oci:\(layout):app", "oci-archive:\(ociArchive):app"])

        var results: [String: Set<String>] = [:]
        for input in ["oci:\(layout):app", docker, ociArchive] {
            let r = try Run.command(Run.stowaway, ["scan", input, "--format", "json"])
            #expect(r.status == 1, "\(input): \(r.stderr)")
            let findings = try JSONDocument.findings(r.stdout)
            results[input] = Set(findings.map { f in
                [f["ruleID"], f["source"], f["path"], f["status"], f["key"], f["secretSHA256"]]
                    .map { ($0 as? String) ?? "-" }.joined(separator: " ")
            })
        }
        let fromUmoci = try #require(results["oci:\(layout):app"])
        #expect(fromUmoci.contains { $0.hasPrefix("stripe-live-key file /app/.env deleted") })
        #expect(fromUmoci.contains { $0.hasPrefix("flyio-access-token env - - FLY_API_TOKEN") })
        #expect(fromUmoci.contains { $0.hasPrefix("github-token label - - ci.token") })
        #expect(results[docker] == fromUmoci)
        #expect(results[ociArchive] == fromUmoci)
    }
}

/// Clean Debian images (debootstrap, nothing planted; one with python3 and its test suite; one with Python
/// libraries, Node.js and npm, a JDK, Go and Ruby, whose docs and tests ship example keys) must stay quiet: no
/// critical or high finding, at most a handful of medium ones per gigabyte (issue 12).
@Suite struct CleanBaseImageTests {
    @Test(arguments: ["debian-base.tar", "debian-python.tar", "debian-langs.tar"])
    func aCleanImageHasNoFindings(name: String) throws {
        let image = Run.fixtures + "/" + name
        #expect(FileManager.default.fileExists(atPath: image), "run `make fixtures` first: \(image) is missing")
        let r = try Run.command(Run.stowaway, ["scan", image, "--format", "json", "--fail-on", "high"])
        let summary = try JSONDocument.object(r.stdout).object("summary")
        print("clean image \(name): \(summary.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        #expect(summary["critical"] as? Int == 0)
        #expect(summary["high"] as? Int == 0)
        // "At most a handful of medium findings per gigabyte": these images are 0.2 to 0.8 GB.
        #expect((summary["medium"] as? Int ?? 99) <= 1, "medium findings: \(r.stdout.prefix(2000))")
        #expect((summary["files"] as? Int ?? 0) > 3000, "the image should hold thousands of files")
        #expect(r.status == 0, "findings: \(r.stdout.prefix(2000))")
    }
}
