import ArgumentParser
import Foundation
import Reports
import Scan

/// `stowaway ignore`: the ignore file `scan` and `sweep` both read.
struct IgnoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ignore",
        abstract: "Accept findings in an ignore file that scan and sweep both read (see docs/triage.md).",
        subcommands: [IgnoreAddCommand.self]
    )
}

struct IgnoreAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Append an accepted finding to the ignore file.",
        discussion: """
        FINGERPRINT is the finding's secretSHA256 (JSON `secretSHA256`, SARIF partialFingerprints). Until --until \
        has passed, scan and sweep count the finding as accepted, not open; afterwards it is open again and the \
        report says when the acceptance expired. Exit codes: 0 added, 2 a bad value or an unreadable file.
        """
    )

    @Argument(help: "The finding's secretSHA256 (64 hex digits).") var fingerprint: String
    @Option(help: "Why the finding is accepted (one line).") var reason: String
    @Option(help: ArgumentHelp("The last day the acceptance holds (UTC).", valueName: "YYYY-MM-DD")) var until: String?
    @Option(help: ArgumentHelp("Only in images (references or repositories) matching this glob.", valueName: "GLOB")) var image: String?
    @Option(help: ArgumentHelp("Only at paths (or config places like config/env/KEY) matching this glob.", valueName: "GLOB")) var path: String?
    @Option(help: "The ignore file (default ./.stowawayignore).") var file: String = IgnoreFile.defaultName

    func run() throws {
        do {
            let entry = try TriageEntry(checking: fingerprint, reason: reason, until: until, image: image, path: path,
                                        origin: file, now: TriageClock.now())
            try IgnoreFile.append(entry, to: file)
            print("\(TerminalText.escape(file)): accepted \(entry.fingerprint)" + (entry.until.map { " until \($0)" } ?? ""))
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
    }
}
