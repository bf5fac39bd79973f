import Foundation
import ImageBuilder
import Testing
import TestSupport

/// `docker-daemon:REF` and `podman:REF`: the image streamed from the engine's save endpoint on its unix socket,
/// against testdata/engine/standin.py serving a real docker save tarball, and every way the engine can fail.
@Suite(.serialized) struct EngineSourceTests {
    let planted = PlantedImage()

    /// The stand-in engine on a socket of its own, killed when the test is done with it. Started through a shell
    /// that leaves it running in the background, so the runner's child bookkeeping never waits on it (a tracked
    /// long-lived child kept a finished `stowaway` unreaped until the stand-in exited).
    final class Engine {
        let pid: Int32
        let socket: String
        /// A unix socket's path must fit in 108 bytes, so the socket lives in a short directory of its own under
        /// /tmp, not in the test's directory (a deep checkout pushed that past the limit in CI).
        let socketDirectory: String
        let log: String

        init(dir: String, tar: String, image: String, mode: String = "ok") throws {
            socketDirectory = try EngineSourceTests.shortDirectory()
            socket = socketDirectory + "/e.sock"
            log = dir + "/engine.log"
            let script = Run.packageRoot.path + "/testdata/engine/standin.py"
            let errors = dir + "/engine.err"
            let r = try Run.command("/bin/sh", ["-c", "python3 \"$0\" \"$@\" </dev/null >/dev/null 2>\"$STANDIN_ERR\" & echo $!", script,
                                                "--socket", socket, "--image", image, "--tar", tar, "--mode", mode, "--log", log,
                                                "--max-seconds", "120"], environment: ["STANDIN_ERR": errors])
            pid = Int32(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            // A liveness bound, not a timing: the socket appears as soon as the stand-in listens.
            let deadline = Date().addingTimeInterval(20)
            while !FileManager.default.fileExists(atPath: socket) && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.05)
            }
            // A stand-in that never listened is the harness failing, not the source under test: say so, with its error.
            if !FileManager.default.fileExists(atPath: socket) {
                if pid > 0 { kill(pid, SIGKILL) }
                try? FileManager.default.removeItem(atPath: socketDirectory)
                struct NoEngine: Error, CustomStringConvertible { let description: String }
                throw NoEngine(description: "the stand-in engine never listened on \(socket): "
                               + ((try? String(contentsOfFile: errors, encoding: .utf8)) ?? "no error output"))
            }
        }

        var requests: [String] { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }

        deinit {
            if pid > 0 { kill(pid, SIGKILL) }
            try? FileManager.default.removeItem(atPath: socketDirectory)
        }
    }

    /// A fresh directory with a short path, for sockets.
    static func shortDirectory() throws -> String {
        var template = Array("/tmp/stw-XXXXXX".utf8CString)
        // Safe: mkdtemp rewrites the template's X characters in place, inside the array's own storage.
        guard let made = template.withUnsafeMutableBufferPointer({ $0.baseAddress.flatMap { mkdtemp($0) } }) else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        return String(cString: made)
    }

    struct Seen: Hashable {
        var rule: String, path: String?, layer: Int?, status: String?, key: String?
    }

    func seen(_ json: String) throws -> Set<Seen> {
        Set(try JSONDocument.findings(json).map {
            Seen(rule: $0["ruleID"] as? String ?? "", path: $0["path"] as? String, layer: $0["layerIndex"] as? Int,
                 status: $0["status"] as? String, key: $0["key"] as? String)
        })
    }

    @Test(arguments: [ImageSpec.Format.docker25, .dockerLegacy])
    func scansTheEnginesImageAsItsSavedTarballWithoutWritingIt(format: ImageSpec.Format) throws {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ImageBuilder.build(planted.spec(format, compression: "gzip"), at: dir + "/image.tar")
        let engine = try Engine(dir: dir, tar: dir + "/image.tar", image: "planted:1")
        let direct = try Run.command(Run.stowaway, ["scan", dir + "/image.tar", "-f", "json", "-q"])
        #expect(direct.status == 1, "\(direct.stderr)")

        // Nothing of the image may land in a temporary directory on the way.
        let tmp = dir + "/tmp"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        let r = try Run.command(Run.stowaway, ["scan", "docker-daemon:planted:1", "-f", "json", "-q"],
                                environment: ["DOCKER_HOST": "unix://" + engine.socket, "TMPDIR": tmp])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(try seen(r.stdout) == seen(direct.stdout))
        #expect(try JSONDocument.findings(r.stdout).count == JSONDocument.findings(direct.stdout).count)
        #expect(try JSONDocument.findings(r.stdout).count == planted.expected.count)
        #expect(try JSONDocument.object(r.stdout).objects("images").first?["reference"] as? String == "docker-daemon:planted:1")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty)
        #expect(engine.requests.allSatisfy { $0 == "GET /images/planted:1/get" } && !engine.requests.isEmpty, "\(engine.requests)")

        // Podman's socket, named by CONTAINER_HOST, speaks the same endpoint.
        let p = try Run.command(Run.stowaway, ["scan", "podman:planted:1", "-f", "json", "-q"],
                                environment: ["CONTAINER_HOST": "unix://" + engine.socket])
        #expect(p.status == 1, "\(p.stderr)")
        #expect(try seen(p.stdout) == seen(direct.stdout))
    }

    /// Each failure: exit 2, one line on standard error naming the source and the reason, no report.
    func expectRefused(_ args: [String], socket: String, mentioning words: [String], engine: String = "DOCKER_HOST") throws {
        let started = Date()
        let r = try Run.command(Run.stowaway, args, environment: [engine: "unix://" + socket])
        #expect(r.status == 2, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.isEmpty, "\(r.stdout)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(r.stderr)")
        for w in words { #expect(r.stderr.contains(w), "\(w) not in \(r.stderr)") }
        // A hang check, not a timing.
        #expect(Date().timeIntervalSince(started) < 60)
    }

    @Test func noEngineNoSuchImageStallAndTruncation() throws {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ImageBuilder.build(planted.spec(.docker25, compression: "gzip"), at: dir + "/image.tar")

        let sockets = try Self.shortDirectory()
        defer { try? FileManager.default.removeItem(atPath: sockets) }
        try expectRefused(["scan", "docker-daemon:planted:1"], socket: sockets + "/none.sock",
                          mentioning: ["docker-daemon:planted:1", "no docker engine at \(sockets)/none.sock", "DOCKER_HOST"])
        try expectRefused(["layers", "podman:planted:1"], socket: sockets + "/none.sock",
                          mentioning: ["podman:planted:1", "no podman engine at", "CONTAINER_HOST"], engine: "CONTAINER_HOST")

        let ok = try Engine(dir: dir, tar: dir + "/image.tar", image: "planted:1")
        try expectRefused(["scan", "docker-daemon:other:2"], socket: ok.socket,
                          mentioning: ["docker-daemon:other:2", "has no image \"other:2\"", "No such image: other:2"])

        for (mode, words) in [("stall", ["stalled: no data for 2 s", "--timeout"]), ("truncate", ["truncated"]), ("short", ["truncated"])] {
            let sub = dir + "/" + mode
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
            let engine = try Engine(dir: sub, tar: dir + "/image.tar", image: "planted:1", mode: mode)
            try expectRefused(["scan", "docker-daemon:planted:1", "--timeout", "2"], socket: engine.socket,
                              mentioning: ["docker-daemon:planted:1"] + words)
        }
    }
}
