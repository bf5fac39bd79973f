import ArgumentParser
import Reports
import Scan
import Testing
@testable import StowawayCLI

/// The command line parsed in-process, as the `stowaway` executable parses it: flags as people type them, and
/// usage errors that exit 64 with the offending value named.
@Suite struct CommandLineTests {
    @Test func scanFlagsAsPeopleTypeThem() throws {
        let parsed = try StowawayCommand.parseAsRoot(["scan", "-f", "JSON", "-o", "json=a.json", "-o", "SARIF=b.sarif", "-o", "plain.txt",
                                                      "--fail-on", "CRITICAL", "--severity", "high, Critical", "docker://host/app:v1"])
        let scan = try #require(parsed as? ScanCommand)
        #expect(scan.format == .json)
        #expect(scan.output.map { "\($0.format?.rawValue ?? "-")=\($0.path)" } == ["json=a.json", "sarif=b.sarif", "-=plain.txt"])
        #expect(scan.failOn == .critical)
        #expect(scan.severity?.levels == [.high, .critical])
        #expect(scan.image == "docker://host/app:v1")
    }

    @Test func scanIsTheDefaultSubcommand() throws {
        let parsed = try StowawayCommand.parseAsRoot(["image.tar", "--quiet"])
        #expect((parsed as? ScanCommand)?.image == "image.tar")
    }

    @Test func usageErrorsExit64NamingTheValue() {
        let cases: [([String], String)] = [
            (["scan", "--format", "yaml", "x"], "yaml"),
            (["scan", "--fail-on", "severe", "x"], "severe"),
            (["scan", "--severity", "high,urgent", "x"], "high,urgent"),
            (["scan", "--archive-depth", "99", "x"], "--archive-depth"),
            (["scan", "--no-such-flag", "x"], "--no-such-flag"),
        ]
        for (arguments, named) in cases {
            do {
                var command = try StowawayCommand.parseAsRoot(arguments)
                try command.validate()
                Issue.record("\(arguments) was accepted")
            } catch {
                #expect(StowawayCommand.exitCode(for: error).rawValue == 64, "\(arguments): \(error)")
                #expect(StowawayCommand.message(for: error).contains(named), "\(arguments): \(StowawayCommand.message(for: error))")
            }
        }
    }
}
