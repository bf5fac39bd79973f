import ArgumentParser
import Foundation
import OCI
import Scan
import Secrets

@main
struct StowawayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stowaway",
        abstract: "Find secrets stowed away in container images.",
        version: Stowaway.version,
        subcommands: [ScanCommand.self, RulesCommand.self],
        defaultSubcommand: ScanCommand.self
    )
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, sarif
}

extension Severity: ExpressibleByArgument {}

struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Scan an image: every file of every layer, the config and the history.",
        discussion: """
        IMAGE is a docker save tarball (docker-archive:PATH or a .tar path), an OCI layout \
        (oci:DIR[:TAG], a directory, or a tar of one).
        Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 the scan could not be completed.
        """
    )

    @Argument(help: "The image to scan.") var image: String
    @Option(help: "Report format: text, json or sarif.") var format: OutputFormat = .text
    @Option(help: "Write the report to FILE instead of standard output.") var output: String?
    @Option(help: "os/arch[/variant] of a multi-platform image, or all.") var platform: String?
    @Option(help: "Lowest severity that makes the exit code 1: critical, high, medium or low.") var failOn: Severity = .low
    @Flag(help: "Put the secrets themselves in the report (they are redacted by default).") var showSecrets = false
    @Flag(help: "Never colour the text report.") var noColor = false
    @Flag(help: "Also report findings in paths known to hold public test material (distro shared libraries, /usr/share/doc, test suites).")
    var noDefaultAllowlist = false

    func run() throws {
        let exit = Self.execute(self)
        throw ExitCode(exit)
    }

    static func execute(_ cmd: ScanCommand) -> Int32 {
        do {
            let choice = try cmd.platform.map(PlatformChoice.init) ?? .host
            let images = try ImageLoader.load(cmd.image, platform: choice)
            let engine = try MatchEngine(rules: BuiltinRules.all)
            let allowlist = cmd.noDefaultAllowlist ? nil : try PathAllowlist()
            let scanner = Scanner(engine: engine, options: ScanOptions(showSecrets: cmd.showSecrets, pathAllowlist: allowlist))
            let report = scanner.scan(images)
            let data: Data
            switch cmd.format {
            case .json:
                let enc = JSONEncoder()
                enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                data = try enc.encode(report) + Data("\n".utf8)
            case .sarif:
                data = try SARIFReport.render(report, rules: engine.rules) + Data("\n".utf8)
            case .text:
                let tty = cmd.output == nil && isatty(1) != 0 && !cmd.noColor && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
                data = Data(TextReport(colour: tty, failOn: cmd.failOn).render(report).utf8)
            }
            if let path = cmd.output {
                try data.write(to: URL(fileURLWithPath: path))
            } else {
                FileHandle.standardOutput.write(data)
            }
            if report.isIncomplete {
                for image in report.images {
                    for e in image.errors { printError("\(cmd.image): \(e.layerIndex.map { "layer \($0): " } ?? "")\(e.message)") }
                }
                return 2
            }
            return report.count(atLeast: cmd.failOn) > 0 ? 1 : 0
        } catch {
            printError("\(error)")
            return 2
        }
    }
}

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rules", abstract: "Print the rule set: id, severity, description.")

    @Option(help: "text or json.") var format: OutputFormat = .text

    func run() throws {
        let engine: MatchEngine
        do { engine = try MatchEngine(rules: BuiltinRules.all) } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        if format == .json {
            let rules = engine.rules.map { ["id": $0.id, "severity": $0.severity.rawValue, "description": $0.description] }
            let obj: [String: Any] = ["rulesetFingerprint": engine.fingerprint, "rules": rules]
            let data = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys])
            FileHandle.standardOutput.write(data + Data("\n".utf8))
            return
        }
        for r in engine.rules {
            print("\(r.id.padding(toLength: 28, withPad: " ", startingAt: 0)) \(r.severity.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(r.description)")
        }
        print("\(engine.rules.count) rules, fingerprint \(engine.fingerprint)")
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("stowaway: \(message)\n".utf8))
}
