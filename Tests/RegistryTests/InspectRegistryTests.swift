import Foundation
import ImageBuilder
import Testing
import TestSupport

/// The inspector against a real registry: `cat` recovers a deleted file byte for byte, and fetches only the
/// blobs it needs, counted in the registry's own access log.
///
/// What is guaranteed and checked here: `cat --layer N` fetches layer N's blob once and no other;
/// `cat PATH` fetches the blobs from the top layer down to the first that has PATH, each once, and none
/// below it; `files --layer N` fetches layers 0 to N.
@Suite(.serialized) struct InspectRegistryTests {
    let h: Harness

    init() throws {
        h = try Harness.load()
    }

    var log: String { h.workdir + "/logs/anonymous.log" }

    /// Where the access log ends once the requests of the command before have all been logged. A request the
    /// client gave up on early (a blob it had read enough of) is logged when the registry notices, which on a
    /// loaded machine can be after the next command has started: the log must be quiet for half a second first.
    func logSize() -> Int {
        var size = FileManager.default.contents(atPath: log)?.count ?? 0
        var quietSince = Date()
        let deadline = Date().addingTimeInterval(10)
        while Date().timeIntervalSince(quietSince) < 0.5 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            let now = FileManager.default.contents(atPath: log)?.count ?? 0
            if now != size {
                size = now
                quietSince = Date()
            }
        }
        return size
    }

    /// How many times each layer blob was fetched (`GET …/blobs/DIGEST`) since `offset` in the access log.
    ///
    /// The registry logs a request once its handler returns, which can be a moment after the client has its
    /// bytes: a request of our own, made after the command exited, is waited for first.
    func fetches(_ repository: String, _ digests: [String], since offset: Int) throws -> [Int] {
        let marker = "inspect-sentinel-" + UUID().uuidString.lowercased()
        try Run.tool("curl", ["-s", "-o", "/dev/null", "http://\(try h["anonymous"].host)/v2/\(marker)/tags/list"])
        var text = ""
        for _ in 0..<100 {
            let data = FileManager.default.contents(atPath: log) ?? Data()
            text = String(decoding: data.dropFirst(offset), as: UTF8.self)
            if text.contains(marker) { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(text.contains(marker), "the registry's access log should show our own request")
        return digests.map { d in text.components(separatedBy: "\"GET /v2/\(repository)/blobs/\(d) HTTP/1.1\"").count - 1 }
    }

    @Test func catFetchesOnlyTheBlobsItNeeds() throws {
        var g = SystemRandomNumberGenerator()
        let secret = Data((0..<400_000).map { _ in UInt8.random(in: 0...255, using: &g) })
        let filler = Data((0..<200_000).map { _ in UInt8.random(in: 0...255, using: &g) })
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tar = dir + "/deleted.tar"
        try ImageBuilder.build(ImageSpec(format: .docker25, compression: "gzip", layers: [
            .init(files: [.init(path: "base/filler.bin", bytes: filler)]),
            .init(files: [.init(path: "app/secret.bin", bytes: secret)]),
            .init(files: [.init(path: "app/.wh.secret.bin", content: "")]),
            .init(files: [.init(path: "other/file.txt", content: "other\n")]),
        ]), at: tar)
        let a = try h["anonymous"].host
        let repository = "inspect/cat-" + FakeSecret.random(8).lowercased()
        try h.push("docker-archive:\(tar)", to: "anonymous", as: "\(repository):v1")
        let image = "\(a)/\(repository):v1"
        let registry = ["--insecure-registry", a, "--quiet"]

        let layers = try Run.command(Run.stowaway, ["layers", image, "--format", "json"] + registry, environment: cleanHome)
        #expect(layers.status == 0, "\(layers.stderr)")
        let digests = try JSONDocument.object(layers.stdout).objects("layers").compactMap { $0["digest"] as? String }
        try #require(digests.count == 4)

        var offset = logSize()
        let latest = try Run.raw(["cat", image, "/app/secret.bin"] + registry, environment: cleanHome)
        #expect(latest.status == 0, "\(latest.stderr)")
        #expect(latest.stdout == secret, "\(latest.stdout.count) bytes, expected \(secret.count)")
        #expect(try fetches(repository, digests, since: offset) == [0, 1, 1, 1], "layers 3, 2 and 1, each once; never the base")

        offset = logSize()
        let one = try Run.raw(["cat", image, "/app/secret.bin", "--layer", "1"] + registry, environment: cleanHome)
        #expect(one.status == 0, "\(one.stderr)")
        #expect(one.stdout == secret)
        #expect(try fetches(repository, digests, since: offset) == [0, 1, 0, 0], "--layer 1 fetches layer 1 alone")

        offset = logSize()
        let files = try Run.command(Run.stowaway, ["files", image, "--layer", "1", "--format", "json"] + registry, environment: cleanHome)
        #expect(files.status == 0, "\(files.stderr)")
        #expect(try fetches(repository, digests, since: offset) == [1, 1, 0, 0], "files --layer 1 needs layers 0 and 1")

        let trace = try Run.command(Run.stowaway, ["trace", image, "/app/secret.bin", "--format", "json"] + registry, environment: cleanHome)
        let events = try JSONDocument.object(trace.stdout).objects("events").map { "\($0["layer"] ?? "") \($0["change"] ?? "")" }
        #expect(events == ["1 added", "2 deleted"])
    }
}
