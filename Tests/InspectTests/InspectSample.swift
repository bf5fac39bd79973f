import Foundation
import ImageBuilder
import Secrets
import Testing
import TestSupport

/// An image with every kind of change the inspector explains, built at test time: additions, a modified
/// file, a whiteout of a file and of a directory tree, an opaque directory with a new file in it, a directory
/// replaced by a symlink, relative and absolute symlinks, a hard link, modes, a file name with control
/// characters, a build argument in the history holding a fresh fake token, and empty-layer history entries.
struct InspectSample {
    let npm = FakeSecret.npmToken()
    let github = FakeSecret.githubToken()
    let dir: String
    let path: String

    /// A file name that would set the terminal's title if printed raw.
    static let escapeName = "app/evil\u{1B}]0;pwned\u{07}name"

    init(format: ImageSpec.Format = .docker25) throws {
        dir = try Run.tempDirectory()
        path = dir + (format == .oci ? "/layout" : "/image.tar")
        let spec = ImageSpec(
            format: format, compression: "none", tag: "inspect:golden",
            history: [
                .init("ADD rootfs.tar / # buildkit"),
                .init("ENV PATH=/usr/bin:/bin", empty: true),
                .init("RUN |1 NPM_TOKEN=\(npm) /bin/sh -c npm ci && cp .env /app/ # buildkit"),
                .init("RUN /bin/sh -c rm -rf /app/.env /docs /app/cache/* && ln -sfn ../tmp /var/log # buildkit"),
                .init("CMD [\"/app/run\"]", empty: true),
                .init("COPY .env /app/.env # buildkit"),
            ],
            layers: [
                .init(files: [
                    .init(path: "etc/", type: "dir"), .init(path: "etc/os-release", content: "ID=inspect\n"),
                    .init(path: "app/", type: "dir"), .init(path: "app/run", content: "#!/bin/sh\nexec /app/server\n", mode: "0755"),
                    .init(path: "app/run-hard", type: "hardlink", target: "app/run"),
                    .init(path: "app/config.yml", content: "port: 80\n"),
                    .init(path: "app/cache/", type: "dir"), .init(path: "app/cache/a.tmp", content: "aaaa"),
                    .init(path: "app/cache/b.tmp", content: "bbbbbbbb"),
                    .init(path: "docs/", type: "dir"), .init(path: "docs/readme", content: "read me\n"),
                    .init(path: "docs/guide/", type: "dir"), .init(path: "docs/guide/intro", content: "intro text\n"),
                    .init(path: "usr/lib/libdata.txt", content: "shared data\n"), .init(path: "lib", type: "symlink", target: "usr/lib"),
                    .init(path: "var/log/", type: "dir"), .init(path: "var/log/app.log", content: "started\n"),
                ]),
                .init(files: [
                    .init(path: "app/", type: "dir"),
                    .init(path: "app/.env", content: "PORT=8080\nGITHUB_TOKEN=\(github)\n", mode: "0600"),
                    .init(path: "app/config.yml", content: "port: 8080\n"),
                    .init(path: "app/current", type: "symlink", target: "run"),
                    .init(path: Self.escapeName, content: "x"),
                    .init(path: "bin/tool", type: "symlink", target: "/app/run"),
                ]),
                .init(files: [
                    .init(path: "app/.wh..env", content: ""),
                    .init(path: "app/cache/.wh..wh..opq", content: ""), .init(path: "app/cache/c.tmp", content: "cc"),
                    .init(path: ".wh.docs", content: ""),
                    .init(path: "var/log", type: "symlink", target: "../tmp"),
                ]),
                .init(files: [.init(path: "app/.env", content: "PORT=9090\n", mode: "0640")]),
            ])
        try ImageBuilder.build(spec, at: path)
    }

    /// Output with every run-specific value replaced by a stable name: the fresh secrets (whole and
    /// redacted), digests and the temporary directory.
    func normalise(_ text: String) -> String {
        var s = text
        for (name, value) in [("npm", npm), ("github", github)] {
            s = s.replacingOccurrences(of: value, with: "<\(name)>")
            s = s.replacingOccurrences(of: Redaction.redact(value), with: "<redacted:\(name)>")
        }
        s = s.replacingOccurrences(of: #"sha256:[0-9a-f]{64}"#, with: "sha256:<digest>", options: .regularExpression)
        s = s.replacingOccurrences(of: #"sha256:[0-9a-f]{12}"#, with: "sha256:<short-12ch>", options: .regularExpression)
        return s.replacingOccurrences(of: dir, with: "<dir>")
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }
}

/// Compares with `testdata/golden/inspect/NAME`; `STOWAWAY_RECORD_GOLDEN=1` re-records.
func compareWithGolden(_ actual: String, _ name: String) throws {
    let golden = Run.packageRoot.appendingPathComponent("testdata/golden/inspect/\(name)")
    if ProcessInfo.processInfo.environment["STOWAWAY_RECORD_GOLDEN"] == "1" {
        try FileManager.default.createDirectory(at: golden.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(actual.utf8).write(to: golden)
        return
    }
    let expected = try String(contentsOf: golden, encoding: .utf8)
    #expect(actual == expected, "\(name) differs from testdata/golden/inspect/\(name) (STOWAWAY_RECORD_GOLDEN=1 re-records it)")
}
