import ArgumentParser
import Foundation
import Reports
import Scan
import Sweep

/// `stowaway sweep accept FINGERPRINT --reason TEXT [--until DAY]`: an acceptance kept in the store.
struct SweepAcceptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accept",
        abstract: "Accept a finding the store knows: later runs report it as accepted, not new or open, until --until has passed.",
        discussion: """
        FINGERPRINT is the finding's secretSHA256 (as the sweep's JSON and SARIF show it). A second acceptance of \
        the same fingerprint replaces the first. Exit codes: 0 kept; 2 a bad value, a fingerprint of no finding \
        the store has recorded, or a store that cannot be used.
        """
    )

    @Argument(help: "The finding's secretSHA256 (64 hex digits).") var fingerprint: String
    @Option(help: "Why the finding is accepted (one line).") var reason: String
    @Option(help: ArgumentHelp("The last day the acceptance holds (UTC).", valueName: "YYYY-MM-DD")) var until: String?
    @Option(help: ArgumentHelp("Only in images (references or repositories) matching this glob.", valueName: "GLOB")) var image: String?
    @Option(help: ArgumentHelp("Only at paths (or config places like config/env/KEY) matching this glob.", valueName: "GLOB")) var path: String?
    @Option(help: "The store: an SQLite file path, or a postgres:// URL.") var db: String?

    func run() async throws {
        throw ExitCode(await execute())
    }

    private func execute() async -> Int32 {
        do {
            let entry = try TriageEntry(checking: fingerprint, reason: reason, until: until, image: image, path: path,
                                        origin: "sweep store", now: TriageClock.now())
            let store = try await SweepStores.open(db, create: false)
            guard try await store.knowsSecret(entry.fingerprint) else {
                await store.shutdown()
                printError("\(entry.fingerprint): no finding in the sweep store \(store.location) has this fingerprint (see `sweep history`)")
                return 2
            }
            try await store.accept(entry)
            await store.shutdown()
            print("accepted \(entry.fingerprint)" + (entry.until.map { " until \($0)" } ?? "") + " in \(TerminalText.escape(store.location))")
            return 0
        } catch {
            printError("\(error)")
            return 2
        }
    }
}

/// `stowaway sweep accepted`: the store's acceptances, in force or expired.
struct SweepAcceptedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accepted",
        abstract: "List the acceptances kept in the store (sweep accept), with their reasons and expiry."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(help: "The store: an SQLite file path, or a postgres:// URL.") var db: String?
    @Option(help: "text or json.") var format: Format = .text

    /// One acceptance as `--format json` lists it.
    struct Row: Encodable {
        var fingerprint: String
        var reason: String
        var until: Day?
        var image: String?
        var path: String?
        var acceptedAt: Date?
        var expired: Bool
    }

    func run() async throws {
        throw ExitCode(await execute())
    }

    private func execute() async -> Int32 {
        do {
            let store = try await SweepStores.open(db, create: false)
            let entries = try await store.acceptances()
            await store.shutdown()
            let today = Day(TriageClock.now())
            let rows = entries.map {
                Row(fingerprint: $0.fingerprint, reason: $0.reason, until: $0.until, image: $0.image?.pattern, path: $0.path?.pattern,
                    acceptedAt: $0.acceptedAt, expired: $0.until.map { $0 < today } ?? false)
            }
            switch format {
            case .json:
                let enc = JSONEncoder()
                enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                enc.dateEncodingStrategy = .iso8601
                FileHandle.standardOutput.write(try enc.encode(["acceptances": rows]) + Data("\n".utf8))
            case .text:
                let e = TerminalText.escape
                var out = "\(rows.count) acceptance\(rows.count == 1 ? "" : "s") in \(e(store.location))\n"
                for r in rows {
                    let state = r.until.map { r.expired ? "expired on \($0)" : "until \($0)" } ?? "no expiry"
                    let scope = [r.image.map { "image \(e($0))" }, r.path.map { "path \(e($0))" }].compactMap { $0 }.joined(separator: ", ")
                    out += "\(r.fingerprint)  \(state.padding(toLength: 21, withPad: " ", startingAt: 0))  \(e(r.reason))"
                        + (scope.isEmpty ? "" : "  (\(scope))") + "\n"
                }
                FileHandle.standardOutput.write(Data(out.utf8))
            }
            return 0
        } catch {
            printError("\(error)")
            return 2
        }
    }
}
