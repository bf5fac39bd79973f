import Foundation
import ImageBuilder
import Testing
import TestSupport

/// A binary file (every byte value, NULs included, longer than one read buffer) added in layer 1 and
/// deleted in layer 2, with a symlink and a hard link to it, between a base layer and a later one.
struct DeletedFileImage {
    let secret: Data
    let dir: String
    let path: String

    static func randomBytes(_ n: Int) -> Data {
        var g = SystemRandomNumberGenerator()
        return Data((0..<n).map { _ in UInt8.random(in: 0...255, using: &g) })
    }

    static func spec(_ format: ImageSpec.Format, secret: Data) -> ImageSpec {
        ImageSpec(format: format, compression: "gzip", tag: "inspect:cat",
                  history: [.init("ADD base /"), .init("COPY secret.bin /app/"), .init("RUN rm /app/secret.bin"), .init("COPY other /other/")],
                  layers: [
                      .init(files: [.init(path: "base/filler.bin", bytes: randomBytes(150_000))]),
                      .init(files: [.init(path: "app/", type: "dir"), .init(path: "app/secret.bin", bytes: secret, mode: "0600"),
                                    .init(path: "app/link", type: "symlink", target: "secret.bin"),
                                    .init(path: "app/hard", type: "hardlink", target: "app/secret.bin")]),
                      .init(files: [.init(path: "app/.wh.secret.bin", content: "")]),
                      .init(files: [.init(path: "other/file.txt", content: "other\n")]),
                  ])
    }

    init(_ format: ImageSpec.Format) throws {
        secret = Self.randomBytes(600_000)
        dir = try Run.tempDirectory()
        path = dir + (format == .oci ? "/layout" : "/image.tar")
        try ImageBuilder.build(Self.spec(format, secret: secret), at: path)
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }
}

@Suite struct CatTests {
    @Test(arguments: ImageSpec.Format.allCases)
    func recoversADeletedFileByteForByte(format: ImageSpec.Format) throws {
        let image = try DeletedFileImage(format)
        defer { image.remove() }
        for args in [["/app/secret.bin"], ["/app/secret.bin", "--layer", "1"], ["/app/link"], ["/app/hard"], ["/app/link", "--layer", "1"]] {
            let r = try Run.raw(["cat", image.path] + args)
            #expect(r.status == 0, "\(format) \(args): \(r.stderr)")
            #expect(r.stdout == image.secret, "\(format) \(args): \(r.stdout.count) bytes, expected \(image.secret.count)")
            #expect(r.stderr.isEmpty, "\(r.stderr)")
        }
        let deleted = try Run.raw(["cat", image.path, "/app/secret.bin", "--layer", "2"])
        #expect(deleted.status == 2)
        #expect(deleted.stdout.isEmpty)
        #expect(deleted.stderr.contains("is not in layer 2"), "\(deleted.stderr)")
    }

    @Test func binaryIsNotWrittenToATerminalUnlessForced() throws {
        let image = try DeletedFileImage(.docker25)
        defer { image.remove() }
        let refused = try Run.onTerminal(["cat", image.path, "/app/secret.bin"])
        #expect(refused.status == 2)
        let text = String(decoding: refused.output, as: UTF8.self)
        #expect(text.contains("not plain text") && text.contains("--force"), "\(text.prefix(300))")
        #expect(refused.output.count < 1000, "no file bytes reach the terminal")

        let forced = try Run.onTerminal(["cat", image.path, "/app/secret.bin", "--force"])
        #expect(forced.status == 0)
        #expect(forced.output.count >= image.secret.count)

        // Plain text goes through.
        let other = try Run.onTerminal(["cat", image.path, "/other/file.txt"])
        #expect(other.status == 0)
        #expect(String(decoding: other.output, as: UTF8.self).contains("other"))
    }

    @Test func textWithAnEscapeSequenceIsNotWrittenToATerminal() throws {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/image.tar"
        try ImageBuilder.build(ImageSpec(format: .docker25, compression: "none", layers: [
            .init(files: [.init(path: "motd", content: "Welcome\n\u{1B}]52;c;cGF5bG9hZA==\u{07}\n")])]), at: path)
        let tty = try Run.onTerminal(["cat", path, "/motd"])
        #expect(tty.status == 2)
        #expect(!tty.output.contains(0x07) && !String(decoding: tty.output, as: UTF8.self).contains("]52;"))
        // To a pipe, the bytes are the file's.
        let piped = try Run.raw(["cat", path, "/motd"])
        #expect(piped.status == 0)
        #expect(piped.stdout == Data("Welcome\n\u{1B}]52;c;cGF5bG9hZA==\u{07}\n".utf8))
    }

    /// Only strictly valid UTF-8 reaches a terminal: an overlong form (E0 82 9B is ESC spelt in three bytes, which
    /// a lax decoder turns into a real escape), a surrogate or a scalar past U+10FFFF is refused like binary.
    @Test func malformedUTF8IsNotWrittenToATerminal() throws {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/image.tar"
        let bad: [String: [UInt8]] = ["overlong-esc": [0xE0, 0x82, 0x9B], "overlong-slash": [0xC0, 0xAF], "overlong4": [0xF0, 0x80, 0x80, 0x9B],
                                      "surrogate": [0xED, 0xA0, 0x80], "past-max": [0xF4, 0x90, 0x80, 0x80], "c1": [0xC2, 0x9B]]
        let good = "Grüße, 한국어, € and 😀 \u{10FFFD}\n"
        var files = bad.map { ImageSpec.File(path: "bad/\($0.key)", bytes: Data("ok ".utf8 + $0.value + Array("[2J\n".utf8))) }
        files.append(.init(path: "good.txt", content: good))
        try ImageBuilder.build(ImageSpec(format: .docker25, compression: "none", layers: [.init(files: files)]), at: path)
        for name in bad.keys.sorted() {
            let tty = try Run.onTerminal(["cat", path, "/bad/\(name)"])
            #expect(tty.status == 2, "\(name)")
            #expect(String(decoding: tty.output, as: UTF8.self).contains("not plain text"), "\(name)")
            #expect(!tty.output.contains(0x9B) && !tty.output.contains(0x82), "\(name): no byte of it reaches the terminal")
        }
        let ok = try Run.onTerminal(["cat", path, "/good.txt"])
        #expect(ok.status == 0)
        #expect(String(decoding: ok.output, as: UTF8.self).contains("한국어, € and 😀"))
    }

    /// Links resolve inside the image only: an absolute target is the image's root, `..` stops there, and a
    /// loop ends with an error instead of a hang.
    @Test func linksNeverLeaveTheImageAndLoopsEnd() throws {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/image.tar"
        try ImageBuilder.build(ImageSpec(format: .docker25, compression: "none", layers: [
            .init(files: [
                .init(path: "etc/hostname", content: "in-the-image\n"),
                .init(path: "a", type: "symlink", target: "b"), .init(path: "b", type: "symlink", target: "a"),
                .init(path: "passwd", type: "symlink", target: "/etc/passwd"),
                .init(path: "up/escape", type: "symlink", target: "../../../../../../etc/hostname"),
                .init(path: "host", type: "symlink", target: "/etc/hostname"),
                .init(path: "dangling", type: "hardlink", target: "nowhere"),
            ])]), at: path)
        let loop = try Run.raw(["cat", path, "/a"])
        #expect(loop.status == 2)
        #expect(loop.stderr.contains("more than 40 links"), "\(loop.stderr)")

        let passwd = try Run.raw(["cat", path, "/passwd"])
        #expect(passwd.status == 2, "the host's /etc/passwd is not the image's")
        #expect(passwd.stdout.isEmpty)
        #expect(passwd.stderr.contains("/etc/passwd, which is not in the filesystem"), "\(passwd.stderr)")

        for link in ["/up/escape", "/host"] {
            let r = try Run.raw(["cat", path, link])
            #expect(r.status == 0, "\(link): \(r.stderr)")
            #expect(r.stdout == Data("in-the-image\n".utf8), "\(link)")
        }
        let hard = try Run.raw(["cat", path, "/dangling"])
        #expect(hard.status == 2)
        #expect(hard.stderr.contains("links to /nowhere"), "\(hard.stderr)")
    }

    @Test func aPathThroughASymlinkedDirectoryResolvesInTheImage() throws {
        let sample = try InspectSample()
        defer { sample.remove() }
        // /lib -> usr/lib: no layer names /lib/libdata.txt, the filesystem does.
        let r = try Run.raw(["cat", sample.path, "/lib/libdata.txt"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == Data("shared data\n".utf8))
        // /bin/tool -> /app/run (absolute), /app/run-hard => /app/run (hard link).
        for p in ["/bin/tool", "/app/run-hard", "/app/current"] {
            let l = try Run.raw(["cat", sample.path, p])
            #expect(l.stdout == Data("#!/bin/sh\nexec /app/server\n".utf8), "\(p): \(l.stderr)")
        }
        // The last layer that has /app/.env is 3; layer 1's copy is the deleted one with the token.
        let now = try Run.raw(["cat", sample.path, "/app/.env"])
        #expect(now.stdout == Data("PORT=9090\n".utf8))
        let old = try Run.raw(["cat", sample.path, "/app/.env", "--layer", "1"])
        #expect(old.stdout == Data("PORT=8080\nGITHUB_TOKEN=\(sample.github)\n".utf8))
    }

    /// A path thousands of components deep (pax allows it) is listed and traced without trouble.
    @Test func aVeryDeepPathIsListedAndTraced() throws {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/image.tar"
        let deep = Array(repeating: "d", count: 20_000).joined(separator: "/") + "/leaf"
        try ImageBuilder.build(ImageSpec(format: .docker25, compression: "none", layers: [
            .init(files: [.init(path: deep, content: "deep\n")]),
            .init(files: [.init(path: ".wh.d", content: "")]),
        ]), at: path)
        let files = try Run.raw(["files", path, "--layer", "1", "--format", "json"])
        #expect(files.status == 0, "\(files.stderr)")
        #expect(String(decoding: files.stdout, as: UTF8.self).contains("/leaf\""))
        let trace = try Run.raw(["trace", path, "/" + deep, "--format", "json"])
        #expect(trace.status == 0, "\(trace.stderr)")
        let events = try JSONDocument.object(String(decoding: trace.stdout, as: UTF8.self)).objects("events")
        #expect(events.map { $0["change"] as? String } == ["added", "deleted"])
        let cat = try Run.raw(["cat", path, "/" + deep])
        #expect(cat.stdout == Data("deep\n".utf8), "\(cat.stderr)")
    }
}
