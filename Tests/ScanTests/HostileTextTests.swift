import Foundation
import ImageBuilder
import Testing
import TestSupport
import Reports
@testable import Scan

/// Text an image controls (file names, env and label keys, history, error text) never reaches the terminal as a
/// control sequence, and a secret is never shown through the place that names it.
@Suite struct HostileTextTests {
    @Test(arguments: [
        ("plain /app/.env", "plain /app/.env"),
        ("C:\\path\\file", "C:\\path\\file"),
        ("\u{1B}[2J", "\\x1b[2J"),
        ("\u{1B}]52;c;aGk=\u{07}", "\\x1b]52;c;aGk=\\x07"),
        ("a\rNo secrets found.", "a\\rNo secrets found."),
        ("line\nnext", "line\\nnext"),
        ("\u{9B}31m", "\\x9b31m"),
        ("\u{7F}", "\\x7f"),
        ("evil\u{202E}txt.exe", "evil\\u{202e}txt.exe"),
        ("zero\u{200B}width", "zero\\u{200b}width"),
        ("back\\slash\u{1B}", "back\\\\slash\\x1b"),
        ("ünïcödé 日本", "ünïcödé 日本"),
    ])
    func escapesEveryControlCharacter(input: String, expected: String) {
        #expect(TerminalText.escape(input) == expected)
    }

    static let controls: [UInt8] = Array(0x00...0x08) + Array(0x0B...0x1F) + [0x7F]

    /// Bytes a terminal would act on: C0 controls other than newline and tab, DEL, and C1 controls (UTF-8 C2 80–9F).
    func terminalControls(_ s: String) -> [String] {
        let bytes = Array(s.utf8)
        var found: [String] = []
        for (i, b) in bytes.enumerated() {
            if Self.controls.contains(b) { found.append(String(format: "0x%02x at %d", b, i)) }
            if b == 0xC2, i + 1 < bytes.count, (0x80...0x9F).contains(bytes[i + 1]) { found.append("C1 at \(i)") }
        }
        return found
    }

    @Test func escapeSequencesFromTheImageAreShownNotObeyed() throws {
        let token = FakeSecret.githubToken()
        let forged = "\r\u{1B}[2K\u{1B}[1;32mNo secrets found.\u{1B}[0m"
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/image.tar"
        try ImageBuilder.build(ImageSpec(
            format: .docker25,
            config: .init(Env: ["\u{1B}]52;c;ZXZpbA==\u{07}TOKEN=\(token)"], Labels: ["\u{1B}[2J": FakeSecret.stripeKey()]),
            history: [.init("/bin/sh -c echo \(forged) # \(FakeSecret.npmToken())")],
            layers: [.init(files: [.init(path: "app/\u{1B}[8mhidden\u{1B}[0m.env", content: "GITHUB=\(FakeSecret.githubToken())\n")])]),
            at: path)
        let r = try Run.command(Run.stowaway, ["scan", path, "--no-color"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(terminalControls(r.stdout).isEmpty, "\(r.stdout)")
        #expect(terminalControls(r.stderr).isEmpty)
        // What was there is still readable, escaped.
        #expect(r.stdout.contains("/app/\\x1b[8mhidden\\x1b[0m.env"))
        #expect(r.stdout.contains("env \\x1b]52;c;ZXZpbA"))  // the key ends at the first `=`
        // The forged verdict cannot start a line of its own.
        #expect(!r.stdout.split(separator: "\n").contains { $0.hasPrefix("No secrets found.") })
        #expect(!r.stdout.contains(token))
    }

    @Test func errorTextNamingAHostilePathIsEscaped() throws {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/\u{1B}[2Jimage\u{07}.tar"
        _ = FileManager.default.createFile(atPath: path, contents: Data("not an image".utf8))
        let r = try Run.command(Run.stowaway, ["scan", path])
        #expect(r.status == 2)
        #expect(terminalControls(r.stderr).isEmpty, "\(r.stderr)")
        #expect(r.stderr.contains("\\x1b[2Jimage\\x07.tar"))
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test(arguments: ["text", "json", "sarif"])
    func aSecretUsedAsAKeyIsRedactedThere(format: String) throws {
        let envToken = FakeSecret.githubToken()
        let labelToken = FakeSecret.stripeKey()
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/image.tar"
        // An env entry without `=` is its own key; a label key can be the secret.
        try ImageBuilder.build(ImageSpec(format: .oci, config: .init(Env: [envToken], Labels: [labelToken: "yes"]),
                                         layers: [.init(files: [.init(path: "app/readme", content: "hello\n")])]),
                               at: path)
        let r = try Run.command(Run.stowaway, ["scan", path, "--format", format])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(!r.stdout.contains(envToken), "\(r.stdout)")
        #expect(!r.stdout.contains(labelToken), "\(r.stdout)")
        #expect(!r.stderr.contains(envToken) && !r.stderr.contains(labelToken))
        if format == "json" {
            let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let findings = try #require((json["images"] as? [[String: Any]])?.first?["findings"] as? [[String: Any]])
            let keys = Set(findings.compactMap { $0["key"] as? String })
            #expect(keys.contains(String(envToken.prefix(6)) + "…"), "\(keys)")
            #expect(keys.contains(String(labelToken.prefix(10)) + "…"), "\(keys)")
        }
        // With --show-secrets the user asked to see them, keys included.
        let shown = try Run.command(Run.stowaway, ["scan", path, "--format", format, "--show-secrets"])
        #expect(shown.stdout.contains(envToken))
    }
}
