import ArgumentParser
import Dispatch
import Foundation
import OCI
import Reports
import Scan
import Secrets
import Sweep

/// Report formats of a sweep.
enum SweepFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, sarif, markdown
    /// Only `sweep report`: they need the store's history (see SweepCommand+Page.swift).
    case html, prometheus
}

/// `stowaway sweep`: a group whose default is the sweep itself, so `sweep --config FILE` runs one and
/// `sweep history` reads the store (an option of the group would swallow the subcommands' `--db`).
struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Scan every image a config names (registries, Fly.io organisations) and report what changed since the last run.",
        subcommands: [SweepRunCommand.self, SweepHistoryCommand.self, SweepReportCommand.self, SweepAcceptCommand.self,
                      SweepAcceptedCommand.self],
        defaultSubcommand: SweepRunCommand.self
    )
}

struct SweepRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a sweep (the default: `stowaway sweep --config FILE`).",
        discussion: """
        The config (TOML) lists [[registry]] hosts, [[target]] repositories or images and [[fly]] organisations; \
        see docs/sweep.md. Results are kept in an SQLite store (--db, default $XDG_STATE_HOME/stowaway/sweep.db \
        or ~/.local/state/stowaway/sweep.db): an image whose manifest digest is unchanged is not fetched again, and \
        a layer already scanned with the same rules is never fetched again. The store holds hashes and redacted \
        previews only. --db postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=disable|prefer|require|verify-full] \
        uses a PostgreSQL store instead (the password may come from PGPASSWORD); with --run NAME, every worker \
        started with the same config, store and name shares one run (see docs/deployment.md).
        SIGINT or SIGTERM stops after the work in flight (stored for the next run); a second signal exits at once.
        Exit codes: 2 an image could not be scanned (or the sweep was stopped or could not run), else 1 a finding \
        new in this run at or above --fail-on, else 0.
        """
    )

    @Option(help: "The sweep config (TOML).") var config: String
    @Option(help: "The store: an SQLite file path, or postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=…].") var db: String?
    @Option(name: .customLong("run"), help: "Join the shared run NAME: workers with the same config, store and name split its images between them.")
    var runName: String?
    @Option(help: "Seconds a worker's claim on an image or layer lives unless renewed (with --run; default 300).") var lease: Int = 300
    @Option(help: "Report format: text, json, sarif or markdown.") var format: SweepFormat = .text
    @Option(help: "Write the report to FILE instead of standard output.") var output: String?
    @Option(help: "Lowest severity of a new finding that makes the exit code 1: critical, high, medium or low.")
    var failOn: Severity = .low
    @Option(help: "Report only findings this sure or surer: low, medium or high (default medium; STOWAWAY_CONFIDENCE). The store keeps them all.")
    var confidence: Confidence?
    @Option(help: "POST a Slack-compatible message to URL when there are new findings (never fails the run).") var webhook: String?
    @Option(help: "Images and layers in flight at once (default: the number of cores).") var jobs: Int?
    @Flag(name: .shortAndLong, help: "No progress line on stderr.") var quiet = false
    @Flag(help: "List the accepted findings (ignore file, `sweep accept`), marked, after the others (still not counted).")
    var showSuppressed = false
    @Flag(help: "Never colour the text report.") var noColor = false
    @OptionGroup(title: "Archives inside layers") var archives: ArchiveOptions

    func validate() throws {
        if let jobs, jobs < 1 || jobs > 256 { throw ValidationError("--jobs must be between 1 and 256") }
        if lease < 2 || lease > 86_400 { throw ValidationError("--lease must be between 2 and 86400 seconds") }
        if let runName { try Self.validateRunName(runName) }
        // A bad STOWAWAY_CONFIDENCE is a usage error, as it is for `scan`: 64, before any store is opened.
        _ = try Self.threshold(confidence)
        if format == .html || format == .prometheus {
            throw ValidationError("--format \(format.rawValue) is for `sweep report`; set html = \"FILE\" in the config for a page after every run")
        }
    }

    /// `--confidence`, else STOWAWAY_CONFIDENCE, else medium: as `scan` decides it.
    static func threshold(_ flag: Confidence?, _ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Confidence {
        try flag ?? Environment.value("STOWAWAY_CONFIDENCE", flag: "--confidence", environment) ?? .medium
    }

    /// A run name is printed and stored: printable, one line, not empty, at most 200 characters.
    static func validateRunName(_ name: String) throws {
        guard !name.isEmpty, name.count <= 200, name.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7f }) else {
            throw ValidationError("--run must be 1 to 200 printable characters")
        }
    }

    func run() async throws {
        throw ExitCode(await execute())
    }

    private func execute() async -> Int32 {
        do {
            let cfg = try SweepConfig(path: config)
            let threshold = try Self.threshold(confidence)
            let hook = try webhook.map { try Webhook(url: $0) }
            let ruleSet = try RuleSet(rulesFile: cfg.rules, defaultPathAllowlist: cfg.defaultAllowlist)
            for w in ruleSet.warnings { printError("warning: \(w)") }
            let store = try await SweepStores.open(db)
            var scanOptions = ScanOptions(pathAllowlist: ruleSet.pathAllowlist)
            // Part of the stored layer results' key: a sweep with other archive settings scans layers again.
            archives.apply(to: &scanOptions)
            let scanner = ImageScanner(engine: ruleSet.engine, options: scanOptions)
            var options = Sweeper.Options()
            if let jobs { options.jobs = jobs }
            options.runName = runName
            options.lease = TimeInterval(lease)
            // The same acceptances as `scan`: a line that does not read stops the sweep before it starts.
            options.ignore = try cfg.ignoreFile.map { try IgnoreFile(path: $0).entries } ?? []
            let tty = !quiet && isatty(2) != 0
            if tty {
                options.progress = { done, total in
                    // A shared run's total is the whole fleet's: a worker counts only what it has done.
                    let count = total > 0 ? "\(done)/\(total)" : "\(done)"
                    FileHandle.standardError.write(Data("\r\u{1B}[Ksweeping: \(count) images".utf8))
                }
            }
            let sweeper = Sweeper(config: cfg, store: store, scanner: scanner, options: options)
            let signals = StopSignals(sweeper.stop)
            // What the run reports, pages and posts is what --confidence keeps; the store keeps every finding.
            let report = try await sweeper.run().keeping(confidence: threshold)
            signals.cancel()
            await SweepPageFile.afterRun(path: cfg.html, report: report, runName: runName, store: store, confidence: threshold)
            await store.shutdown()
            if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }

            try emit(report, rules: ruleSet.reportableRules)
            if report.run.status == .interrupted {
                printError("sweep stopped by a signal: the layers and images scanned so far are stored for the next run")
            }
            if let first = report.images.failed.first {
                let more = report.images.failed.count > 1 ? " (and \(report.images.failed.count - 1) more)" : ""
                printError("could not scan \(first.image): \(first.error)\(more)")
            }
            if let hook {
                do { try await hook.post(report) } catch { printError("warning: \(error)") }
            }
            return report.exitCode(failOn: failOn)
        } catch {
            printError("\(error)")
            return 2
        }
    }

    private func emit(_ report: SweepReport, rules: [Rule]) throws {
        try Self.emit(report, format: format, rules: rules, output: output, showSuppressed: showSuppressed, noColor: noColor)
    }

    static func emit(_ report: SweepReport, format: SweepFormat, rules: [Rule], output: String?, showSuppressed: Bool = false,
                     noColor: Bool = true) throws {
        // As `scan`: colour only on a terminal, never with --no-color or NO_COLOR.
        let colour = output == nil && !noColor && isatty(1) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        let data: Data
        switch format {
        case .json: data = try report.json()
        case .text: data = Data(report.text(colour: colour, showSuppressed: showSuppressed).utf8)
        case .markdown: data = Data(report.markdown(showSuppressed: showSuppressed).utf8)
        case .sarif:
            let (scan, states) = Self.scanReport(report)
            data = try SARIFReport.render(scan, rules: rules, run: .sweep(run: report.run.id), states: states) + Data("\n".utf8)
        case .html, .prometheus: throw ValidationError("--format \(format.rawValue) needs the store: use `sweep report`")
        }
        if let output {
            try data.write(to: URL(fileURLWithPath: output))
        } else {
            FileHandle.standardOutput.write(data)
        }
    }

    /// The run's new, open and resolved findings (and its failures) as a scan report, one entry per image, for
    /// SARIF; with each finding's baseline state (new, unchanged, absent: resolved) by image and finding index.
    static func scanReport(_ report: SweepReport) -> (Report, [Int: [Int: SARIFReport.BaselineState]]) {
        var byImage: [String: [(Finding, SARIFReport.BaselineState)]] = [:]
        var digests: [String: String] = [:]
        let states: [([SweepFinding], SARIFReport.BaselineState)] =
            [(report.findings.new, .new), (report.findings.open, .unchanged), (report.findings.resolved, .absent)]
        for (findings, state) in states {
            for f in findings {
                byImage[f.image, default: []].append((f.finding, state))
                digests[f.image] = f.manifestDigest
            }
        }
        let references = byImage.keys.sorted()
        var images = references.map {
            Report.ImageReport(reference: $0, manifestDigest: digests[$0], findings: byImage[$0]?.map(\.0) ?? [], errors: [])
        }
        var baseline: [Int: [Int: SARIFReport.BaselineState]] = [:]
        for (i, reference) in references.enumerated() {
            for (j, entry) in (byImage[reference] ?? []).enumerated() { baseline[i, default: [:]][j] = entry.1 }
        }
        for failed in report.images.failed {
            images.append(Report.ImageReport(reference: failed.image, manifestDigest: nil, findings: [],
                                             errors: [Report.ScanError(message: failed.error)]))
        }
        return (Report(rulesetFingerprint: report.run.ruleset, images: images), baseline)
    }
}

struct SweepHistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "The last sweep runs and the findings still open."
    )

    @Option(help: "The store: an SQLite file path, or a postgres:// URL.") var db: String?
    /// History has no SARIF: it lists runs, not one scan's results.
    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(help: "text or json.") var format: Format = .text
    @Option(help: "How many runs to list.") var runs = 10

    func run() async throws {
        throw ExitCode(await execute())
    }

    private func execute() async -> Int32 {
        do {
            let store = try await SweepStores.open(db, create: false)
            let list = try await store.runs(limit: max(1, runs))
            let open = try await store.openFindings(limit: 10_000)
            await store.shutdown()
            switch format {
            case .json:
                let history = History(runs: list, openFindings: open.map {
                    History.OpenFinding(finding: $0.finding, firstSeenRun: $0.firstSeenRun, lastSeenRun: $0.lastSeenRun)
                })
                let enc = JSONEncoder()
                enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                enc.dateEncodingStrategy = .iso8601
                FileHandle.standardOutput.write(try enc.encode(history) + Data("\n".utf8))
            case .text:
                FileHandle.standardOutput.write(Data(Self.text(list, open).utf8))
            }
            return 0
        } catch {
            printError("\(error)")
            return 2
        }
    }

    /// `sweep history --format json`: runs newest first, then the open findings with the runs that saw them.
    struct History: Encodable {
        struct OpenFinding: Encodable {
            var finding: SweepFinding
            var firstSeenRun: Int64
            var lastSeenRun: Int64

            enum Keys: String, CodingKey { case firstSeenRun, lastSeenRun }

            func encode(to encoder: Encoder) throws {
                try finding.encode(to: encoder)
                var c = encoder.container(keyedBy: Keys.self)
                try c.encode(firstSeenRun, forKey: .firstSeenRun)
                try c.encode(lastSeenRun, forKey: .lastSeenRun)
            }
        }

        var schemaVersion = 1
        var runs: [RunRecord]
        var openFindings: [OpenFinding]
    }

    static func text(_ runs: [RunRecord], _ open: [StoredFinding]) -> String {
        let e = TerminalText.escape
        var out = "RUN  STARTED               DURATION      STATUS       "
            + ["IMAGES", "CACHED", "FAILED", "LAYERS", "NEW", "OPEN", "RESOLVED"].map { $0.padding(toLength: 8, withPad: " ", startingAt: 0) }
            .joined(separator: " ") + "\n"
        for r in runs {
            let c = r.counts
            let started = r.startedAt.formatted(Date.ISO8601FormatStyle())
            let took = r.finishedAt.map { SweepReport.duration($0.timeIntervalSince(r.startedAt)) } ?? "-"
            out += "\(String(r.id).padding(toLength: 4, withPad: " ", startingAt: 0)) \(started.padding(toLength: 21, withPad: " ", startingAt: 0)) "
                + "\(took.padding(toLength: 13, withPad: " ", startingAt: 0)) "
                + "\(r.status.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)) "
                + [c.imagesScanned, c.imagesCached, c.imagesFailed, c.layersScanned, c.findingsNew, c.findingsOpen, c.findingsResolved]
                .map { String($0).padding(toLength: 8, withPad: " ", startingAt: 0) }.joined(separator: " ") + "\n"
        }
        out += "\n\(open.count) open finding\(open.count == 1 ? "" : "s")\n"
        for f in open {
            out += "\(f.finding.finding.severity.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(e(f.key.ruleID))  "
                + "\(e(f.finding.image))  \(e(f.key.place))  \(e(f.finding.finding.redacted))  (runs \(f.firstSeenRun)–\(f.lastSeenRun))\n"
        }
        return out
    }
}

/// `stowaway sweep report --db URL --run NAME`: a shared run's whole report, from the store alone.
struct SweepReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The report of the last run, of run --id N, of a day (--date), or of a shared run (--run NAME); also as an HTML page or Prometheus metrics.",
        discussion: """
        The same report a sweep prints, for every image of the run whichever worker swept it. While some of its \
        images are not done, run.status is "incomplete" and the report holds the images done so far. \
        Exit codes: 2 the run is incomplete, an image could not be scanned, or the store cannot be read; else 1 a \
        finding new in the run at or above --fail-on; else 0. \
        --format html writes one self-contained page (the run, trends over the last --trend-runs runs, every \
        finding with filters); --format prometheus the node_exporter textfile format (see docs/sweep.md).
        """
    )

    @Option(help: "The store: a postgres:// URL or an SQLite file path (default: the sweep's default file).") var db: String?
    @Option(name: .customLong("run"), help: "The shared run's name.") var runName: String?
    @Option(name: .customLong("id"), help: "The run's number (as `sweep history` lists it); default: the last finished run.")
    var runID: Int64?
    @Option(help: ArgumentHelp("The last finished run started on this day (UTC).", valueName: "YYYY-MM-DD")) var date: String?
    @Option(help: "Report format: text, json, sarif, markdown, html or prometheus.") var format: SweepFormat = .text
    @Option(help: "Runs in the HTML page's trend charts (1 to \(SweepPage.maxTrendRuns)).") var trendRuns = SweepPage.defaultTrendRuns
    @Option(help: "Write the report to FILE instead of standard output.") var output: String?
    @Option(help: "Lowest severity of a new finding that makes the exit code 1: critical, high, medium or low.")
    var failOn: Severity = .low
    @Option(help: "Report only findings this sure or surer: low, medium or high (default medium; STOWAWAY_CONFIDENCE). The store keeps them all.")
    var confidence: Confidence?
    @Option(help: "An ignore file whose acceptances apply as well as the store's (as the config's ignore_file does for a run).")
    var ignoreFile: String?
    @Flag(help: "List the accepted findings, marked, after the others (still not counted).") var showSuppressed = false
    @Flag(help: "Never colour the text report.") var noColor = false

    func validate() throws {
        if let runName { try SweepRunCommand.validateRunName(runName) }
        if [runName != nil, runID != nil, date != nil].filter({ $0 }).count > 1 { throw ValidationError("--run, --id and --date each name a run: give one") }
        if let date, date.wholeMatch(of: /[0-9]{4}-[0-9]{2}-[0-9]{2}/) == nil {
            throw ValidationError("--date takes a day as YYYY-MM-DD (UTC), not '\(TerminalText.escape(date))'")
        }
        if trendRuns < 1 || trendRuns > SweepPage.maxTrendRuns { throw ValidationError("--trend-runs must be between 1 and \(SweepPage.maxTrendRuns)") }
        _ = try SweepRunCommand.threshold(confidence)
    }

    func run() async throws {
        throw ExitCode(await execute())
    }

    private func execute() async -> Int32 {
        do {
            let ignore = try ignoreFile.map { try IgnoreFile(path: $0).entries } ?? []
            let store = try await SweepStores.open(db, create: false)
            var report: SweepReport
            if let runName {
                report = try await Sweeper.sharedReport(name: runName, store: store)
                report.apply(try await store.triage(with: ignore, now: TriageClock.now()))
            } else {
                report = try await SweepPage.report(run: runID, day: date, store: store, ignore: ignore)
            }
            let threshold = try SweepRunCommand.threshold(confidence)
            report = report.keeping(confidence: threshold)
            if format == .html || format == .prometheus {
                let page = try await SweepPage.build(report: report, store: store, runs: trendRuns, confidence: threshold)
                await store.shutdown()
                try SweepPageFile.write(SweepPageFile.render(page, format: format), to: output)
            } else {
                await store.shutdown()
                try SweepRunCommand.emit(report, format: format, rules: format == .sarif ? try RuleSet().reportableRules : [], output: output,
                                         showSuppressed: showSuppressed, noColor: noColor)
            }
            if report.run.status == .incomplete {
                printError("run \(TerminalText.escape(report.run.name ?? String(report.run.id))) is incomplete: \(report.run.itemsDone ?? 0) of \(report.run.itemsTotal ?? 0) images done")
            }
            return report.exitCode(failOn: failOn)
        } catch {
            printError("\(error)")
            return 2
        }
    }
}

/// SIGINT and SIGTERM while a sweep runs: the first asks it to stop after the work in flight, the second exits
/// at once (every store write is a transaction, so the store stays consistent either way).
final class StopSignals {
    private let sources: [any DispatchSourceSignal]

    init(_ stop: StopRequest) {
        sources = [SIGINT, SIGTERM].map { sig in
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler {
                if stop.requested { _exit(2) }
                stop.request()
                printError("stopping after the work in flight (signal again to exit at once)")
            }
            s.resume()
            return s
        }
    }

    func cancel() {
        for s in sources { s.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
