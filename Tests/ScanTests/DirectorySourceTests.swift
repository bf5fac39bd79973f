import Foundation
import Testing
import TestSupport

/// `dir:PATH`: a build context or root filesystem made at test time, read as one layer; its build files'
/// secret-named build arguments get the BuildKit advice; links never lead out of the tree.
@Suite struct DirectorySourceTests {
    func write(_ text: String, _ path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test func aBuildContextIsOneLayerAndItsBuildArgumentsAreChecked() throws {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ctx = dir + "/ctx"
        let stripe = FakeSecret.stripeKey(), npm = FakeSecret.npmToken(), github = FakeSecret.githubToken()
        let awsID = FakeSecret.awsKeyID(), awsSecret = FakeSecret.awsSecret(), outside = FakeSecret.githubToken()
        try write("""
            FROM node:22
            ARG NPM_TOKEN
            ARG NODE_ENV=production
            ARG GITHUB_TOKEN=\(github) \\
                BUILD_ID=7
            ENV STRIPE_KEY=\(stripe)
            RUN npm ci
            """, ctx + "/Dockerfile")
        try write("""
            services:
              app:
                build:
                  context: .
                  args:
                    - NPM_TOKEN=\(npm)
                    - APP_VERSION=1
            """, ctx + "/docker-compose.prod.yml")
        try write("docker build --build-arg DEPLOY_PASSWORD=\"$P\" --build-arg VERSION=1 .\n", ctx + "/scripts/build.sh")
        try write("AWS_ACCESS_KEY_ID=\(awsID)\nAWS_SECRET_ACCESS_KEY=\(awsSecret)\n", ctx + "/app/.env")
        try write(String(repeating: "x", count: 200) + "\n", ctx + "/" + String(repeating: "deep/", count: 30) + "long-name-" + String(repeating: "n", count: 120))
        // Links out of the tree, to a file and to a directory holding a secret, and a FIFO that nobody writes.
        try write("token = \(outside)\n", dir + "/outside/secret.txt")
        try FileManager.default.createSymbolicLink(atPath: ctx + "/leak.txt", withDestinationPath: dir + "/outside/secret.txt")
        try FileManager.default.createSymbolicLink(atPath: ctx + "/leakdir", withDestinationPath: "../outside")
        #expect(mkfifo(ctx + "/pipe", 0o644) == 0)

        let started = Date()
        let r = try Run.command(Run.stowaway, ["scan", "dir:" + ctx, "-f", "json", "-q"])
        #expect(Date().timeIntervalSince(started) < 120, "a FIFO must not be read")
        #expect(r.status == 1, "\(r.stderr)")
        let report = try JSONDocument.object(r.stdout)
        let image = try #require(try report.objects("images").first)
        #expect(image["reference"] as? String == "dir:" + ctx)
        #expect(try image.objects("layers").count == 1)
        let found = try image.objects("findings").map { "\($0["ruleID"] as? String ?? "") \($0["path"] as? String ?? "-")" }
        for expected in ["/Dockerfile", "/docker-compose.prod.yml", "/app/.env"] {
            #expect(found.contains { $0.hasSuffix(" " + expected) }, "no finding in \(expected): \(found)")
        }
        #expect(found.contains("stripe-live-key /Dockerfile"), "\(found)")
        #expect(found.contains("github-token /Dockerfile"), "\(found)")
        #expect(found.contains("npm-access-token /docker-compose.prod.yml"), "\(found)")
        #expect(found.contains("aws-secret-access-key /app/.env"), "\(found)")
        #expect(!r.stdout.contains(outside.prefix(12)), "a secret outside the tree was read through a link")
        let secrets = try image.objects("findings").compactMap { $0["secretSHA256"] as? String }
        #expect(!secrets.isEmpty)

        // Build arguments named like secrets, with or without a value; the others not.
        let notes = try image.objects("warnings").filter { $0["kind"] as? String == "build-secret-arg" }
        let places = Set(notes.compactMap { $0["path"] as? String })
        #expect(places == ["/Dockerfile:2", "/Dockerfile:4", "/docker-compose.prod.yml:6", "/scripts/build.sh:1"], "\(notes)")
        #expect(notes.allSatisfy { ($0["message"] as? String ?? "").contains("secret") })
        #expect(notes.contains { ($0["message"] as? String ?? "").contains("RUN --mount=type=secret,id=npm_token") })

        // The text report says so under its own heading, and never prints a secret.
        let text = try Run.command(Run.stowaway, ["scan", "dir:" + ctx, "--no-color"])
        #expect(text.status == 1)
        #expect(text.stdout.contains("build arguments named like secrets"), "\(text.stdout)")
        #expect(text.stdout.contains("ARG NPM_TOKEN"))
        for s in [stripe, npm, github, awsSecret] { #expect(!text.stdout.contains(s)) }
    }

    @Test func aMissingDirectoryOrAFileIsRefused() throws {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let missing = try Run.command(Run.stowaway, ["scan", "dir:" + dir + "/nope"])
        #expect(missing.status == 2 && missing.stdout.isEmpty)
        #expect(missing.stderr.contains(dir + "/nope: no such file or directory"), "\(missing.stderr)")
        try write("hi\n", dir + "/file")
        let file = try Run.command(Run.stowaway, ["scan", "dir:" + dir + "/file"])
        #expect(file.status == 2 && file.stderr.contains("not a directory"), "\(file.stderr)")
        #expect(file.stderr.split(separator: "\n").count == 1)
    }
}
