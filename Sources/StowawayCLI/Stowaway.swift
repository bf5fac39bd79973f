import ArgumentParser
import Core
import Foundation
import OCI
import Reports
import Scan
import Secrets
import Discovery

/// The command line as a library: `main.swift` of the `stowaway` executable calls `CLI.main()`, and tests parse
/// and validate commands in-process (`StowawayCommand.parseAsRoot`).
public enum CLI {
    public static func main() async {
        // libarchive converts entry names to the C library's locale. In the default "C" locale a zip member whose
        // name is UTF-8 (the format's flag 11) could not be converted and came out with an empty name, so its
        // findings pointed at `app.jar!/`. Names are UTF-8 to us everywhere; set before any thread starts.
        setlocale(LC_CTYPE, "C.UTF-8")
        await StowawayCommand.main()
    }
}

public struct StowawayCommand: AsyncParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "stowaway",
        abstract: "Find secrets stowed away in container images.",
        version: Stowaway.version,
        subcommands: [ScanCommand.self, RulesCommand.self, SweepCommand.self, LayersCommand.self, FilesCommand.self, TraceCommand.self,
                      CatCommand.self, IgnoreCommand.self],
        defaultSubcommand: ScanCommand.self
    )
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, sarif

    /// `JSON` as well as `json`.
    init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

/// `CRITICAL` as the text report prints it, as well as `critical`.
extension Severity: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

extension Confidence: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

/// The severities `--severity` keeps: a comma list, any case (`HIGH,critical`).
struct SeverityList: ExpressibleByArgument {
    var levels: Set<Severity>

    init?(argument: String) {
        var levels = Set<Severity>()
        for part in argument.split(separator: ",", omittingEmptySubsequences: false) {
            guard let s = Severity(argument: part.trimmingCharacters(in: .whitespaces)) else { return nil }
            levels.insert(s)
        }
        self.levels = levels
    }
}

/// Where one `--output` goes: `PATH` takes the `--format` report, `FORMAT=PATH` (json=report.json) that format's.
struct OutputTarget: ExpressibleByArgument {
    var format: OutputFormat?
    var path: String

    init?(argument: String) {
        if let eq = argument.firstIndex(of: "="), let f = OutputFormat(argument: String(argument[..<eq])) {
            format = f
            path = String(argument[argument.index(after: eq)...])
        } else {
            format = nil
            path = argument
        }
        if path.isEmpty { return nil }
    }
}

/// Flags CI users set once for every step: `STOWAWAY_FORMAT`, `STOWAWAY_OUTPUT`, `STOWAWAY_FAIL_ON`,
/// `STOWAWAY_SEVERITY`, `STOWAWAY_INSECURE_REGISTRY` (comma list) and `STOWAWAY_TIMEOUT`; a flag on the command
/// line wins.
enum Environment {
    static func value<T: ExpressibleByArgument>(_ name: String, flag: String, _ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> T? {
        guard let text = environment[name], !text.isEmpty else { return nil }
        guard let v = T(argument: text) else { throw ValidationError("\(name)='\(TerminalText.escape(text))' is not a valid value for \(flag)") }
        return v
    }
}

struct ScanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Scan an image: every file of every layer, the config and the history.",
        discussion: """
        IMAGE is a registry reference (registry.fly.io/app:tag, host:5000/repo@sha256:…, alpine), \
        a docker save tarball (docker-archive:PATH or a .tar path), an OCI layout (oci:DIR[:TAG], \
        a directory, or a tar of one), or an image in the local engine (docker-daemon:REF, podman:REF: \
        read from $DOCKER_HOST or /var/run/docker.sock, $CONTAINER_HOST or Podman's socket).
        Registry credentials, first match wins: --username with --password-stdin; for registry.fly.io \
        FLY_ACCESS_TOKEN or FLY_API_TOKEN (username x); the Docker config ($DOCKER_CONFIG or \
        ~/.docker/config.json: auths, credHelpers, credsStore).
        --confidence (default medium) leaves out findings less sure than it, counting them in the summary; \
        --severity narrows what is reported; --fail-on judges every finding at or above --confidence, reported or not.
        Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 the scan could not be completed, 64 a usage \
        error (an unknown flag or a bad value).
        """
    )

    @Argument(help: "The image to scan (or none, with --fly-app).") var image: String = ""
    @Option(help: "Scan every image the Fly.io app's machines run (Machines API; FLY_API_TOKEN).") var flyApp: String?
    @Option(name: .shortAndLong, help: "Report format: text, json or sarif (default text; STOWAWAY_FORMAT).") var format: OutputFormat?
    @Option(name: .shortAndLong, help: ArgumentHelp("""
        Write the report to PATH instead of standard output, or FORMAT=PATH: that format's report to PATH as well \
        (repeatable: -o json=report.json -o sarif=report.sarif; STOWAWAY_OUTPUT).
        """, valueName: "[FORMAT=]PATH")) var output: [OutputTarget] = []
    @Option(help: "os/arch[/variant] of a multi-platform image, or all.") var platform: String?
    @Option(help: "Lowest severity that makes the exit code 1: critical, high, medium or low, any case (default low; STOWAWAY_FAIL_ON).")
    var failOn: Severity?
    @Option(help: "Report only findings this sure or surer: low, medium or high (default medium; STOWAWAY_CONFIDENCE).")
    var confidence: Confidence?
    @Option(help: ArgumentHelp("Report only these severities, a comma list (HIGH,CRITICAL; STOWAWAY_SEVERITY).", valueName: "LIST"))
    var severity: SeverityList?
    @Flag(help: "Put the secrets themselves in the report (they are redacted by default).") var showSecrets = false
    @Flag(help: "Never colour the text report.") var noColor = false
    @Flag(help: "Also report findings in paths known to hold public test material (distro shared libraries, /usr/share/doc, test suites).")
    var noDefaultAllowlist = false
    @Option(help: "Registry username (with --password-stdin).") var username: String?
    @Flag(help: "Read the registry password or token from standard input.") var passwordStdin = false
    @Option(help: "Allow plain HTTP or unverified TLS for this registry HOST[:PORT] (repeatable; STOWAWAY_INSECURE_REGISTRY, a comma list).")
    var insecureRegistry: [String] = []
    @Option(help: "PEM file of CA certificates to trust for registries.") var caFile: String?
    @Option(help: ArgumentHelp("""
        How long a registry may take to connect, to answer, to send a manifest, config or token whole, or sit \
        silent mid-blob; retrying 429s, 5xx and dropped connections (at most 5 attempts) stops after 4 × this \
        (default 30; STOWAWAY_TIMEOUT).
        """, valueName: "SECONDS")) var timeout: Double?
    @Flag(name: .shortAndLong, help: "No progress line on stderr.") var quiet = false
    @Option(help: "Rules from a gitleaks-format TOML file ([extend] useDefault keeps the built-ins).") var rules: String?
    @Option(help: "Leave out findings already in this earlier JSON report (same rule, secret and place).") var baseline: String?
    @Option(help: "Accepted findings: fingerprint, reason, expiry, scope, one a line (default: ./.stowawayignore when present; see `stowaway ignore add`).")
    var ignoreFile: String?
    @Flag(help: "List the findings the ignore file or the baseline accepts, marked, after the others (still not counted).")
    var showSuppressed = false
    @OptionGroup(title: "Archives inside layers") var archives: ArchiveOptions

    func validate() throws {
        if passwordStdin && username == nil { throw ValidationError("--password-stdin needs --username") }
        if username != nil && !passwordStdin { throw ValidationError("--username needs --password-stdin") }
        if image.isEmpty == (flyApp == nil) { throw ValidationError("give an IMAGE, or --fly-app NAME") }
        let s = try settings()
        if !(s.timeout > 0 && s.timeout <= 86_400) { throw ValidationError("--timeout must be a number of seconds above 0 (at most 86400)") }
        if s.outputs.filter({ $0.format == nil }).count > 1 {
            throw ValidationError("more than one --output PATH: give the others a format (-o json=PATH)")
        }
    }

    /// The flags with the environment filled in where a flag was not given.
    struct Settings {
        var format: OutputFormat
        var outputs: [OutputTarget]
        var failOn: Severity
        var severity: Set<Severity>?
        var confidence: Confidence
        var insecureRegistry: [String]
        var timeout: Double
    }

    func settings(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Settings {
        let envOutput: OutputTarget? = try Environment.value("STOWAWAY_OUTPUT", flag: "--output", environment)
        let envInsecure = environment["STOWAWAY_INSECURE_REGISTRY"].map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
        return Settings(format: try format ?? Environment.value("STOWAWAY_FORMAT", flag: "--format", environment) ?? .text,
                        outputs: output.isEmpty ? envOutput.map { [$0] } ?? [] : output,
                        failOn: try failOn ?? Environment.value("STOWAWAY_FAIL_ON", flag: "--fail-on", environment) ?? .low,
                        severity: try (severity ?? Environment.value("STOWAWAY_SEVERITY", flag: "--severity", environment))?.levels,
                        confidence: try confidence ?? Environment.value("STOWAWAY_CONFIDENCE", flag: "--confidence", environment) ?? .medium,
                        insecureRegistry: insecureRegistry.isEmpty ? envInsecure.filter { !$0.isEmpty } : insecureRegistry,
                        timeout: try timeout ?? Environment.value("STOWAWAY_TIMEOUT", flag: "--timeout", environment) ?? 30)
    }

    func run() async throws {
        throw ExitCode(await execute())
    }

    /// Whether IMAGE names something on disk rather than a registry reference.
    private var isLocal: Bool { ImageLoader.isLocal(image) }

    private func execute() async -> Int32 {
        do {
            let settings = try settings()
            let choice = try platform.map(PlatformChoice.init) ?? .host
            let ruleSet = try RuleSet(rulesFile: rules, defaultPathAllowlist: !noDefaultAllowlist)
            for w in ruleSet.warnings { printError("warning: \(w)") }
            var options = ScanOptions(showSecrets: showSecrets, pathAllowlist: ruleSet.pathAllowlist)
            archives.apply(to: &options)
            var known = Baseline()
            if let baseline { try known.add(report: baseline) }
            if let ignoreFile { try known.add(ignoreFile: ignoreFile) } else if FileManager.default.fileExists(atPath: ".stowawayignore") {
                try known.add(ignoreFile: ".stowawayignore")
            }
            options.baseline = known
            options.showSuppressed = showSuppressed
            if !quiet && isatty(2) != 0 { options.progress = ScanProgress(label: "scanning") }
            let scanner = ImageScanner(engine: ruleSet.engine, options: options)
            let resolver = ImageResolver(platform: choice)
            let report: Report
            if isLocal {
                let source = try ImageLoader.source(image, timeout: settings.timeout)
                var scanned = await scanner.scanOffThePool(try await resolver.images(of: source))
                // A build context's Dockerfiles and compose files: build arguments named like secrets, value or not.
                if let dir = source as? DirectorySource, !scanned.images.isEmpty {
                    scanned.images[0].warnings += try BuildFileCheck.notes(dir).map {
                        Report.Warning(layerIndex: nil, kind: Report.Warning.buildSecretArg, path: "\($0.path):\($0.line)", message: $0.message)
                    }
                }
                report = scanned
            } else {
                // The images a Fly.io app runs, or the one reference given.
                var targets = [(Reference, String)]()
                var unnamed: [FlyMachines.Failure] = []
                if let flyApp { (targets, unnamed) = try await FlyMachines.images(app: flyApp) } else { targets = [(try Reference(image), image)] }
                var registry = RegistryOptions()
                registry.insecureHosts = Set(settings.insecureRegistry)
                registry.caFile = caFile
                registry.setTimeout(settings.timeout)
                if let username {
                    let password = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                        .trimmingCharacters(in: .newlines)
                    registry.credentials.explicit = Credential(kind: .basic(username: username, password: password),
                                                               source: "--username/--password-stdin")
                }
                var scanned = try await RegistryClient.with(registry) { client in
                    var images: [Image] = []
                    for (ref, input) in targets { images += try await resolver.images(of: RegistrySource(ref, input: input, client: client)) }
                    return await scanner.scanOffThePool(images)
                }
                // A machine whose image cannot be named is an image of the report that could not be read: the others
                // are scanned and reported, and the scan is incomplete (exit 2).
                scanned.images += unnamed.map {
                    Report.ImageReport(reference: "fly \($0.what)", manifestDigest: nil, configDigest: nil, platform: nil, layers: [],
                                       findings: [], errors: [.init(layerIndex: nil, message: $0.error)])
                }
                report = scanned
            }
            return try emit(report, rules: ruleSet.reportableRules, settings)
        } catch {
            printError("\(error)")
            return 2
        }
    }

    private func emit(_ all: Report, rules: [Rule], _ settings: Settings) throws -> Int32 {
        // --confidence decides which findings count at all (the others are counted in the summary); --severity
        // narrows what is reported; --fail-on judges every finding --confidence keeps, shown or not.
        let full = all.keeping(confidence: settings.confidence)
        let report = settings.severity.map { full.keeping($0) } ?? full
        // The --format report to standard output or to the one plain --output PATH, and each FORMAT=PATH beside it.
        let main = settings.outputs.first { $0.format == nil }?.path
        var destinations: [(OutputFormat, String?)] = [(settings.format, main)]
        for o in settings.outputs { if let f = o.format { destinations.append((f, o.path)) } }
        var rendered: [String: Data] = [:]
        for (format, path) in destinations {
            let colour = path == nil && isatty(1) != 0 && !noColor && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            let key = "\(format.rawValue) \(colour)"
            let data: Data
            if let known = rendered[key] { data = known } else {
                switch format {
                case .json:
                    let enc = JSONEncoder()
                    enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                    data = try enc.encode(report) + Data("\n".utf8)
                case .sarif:
                    data = try SARIFReport.render(report, rules: rules) + Data("\n".utf8)
                case .text:
                    data = Data(TextReport(colour: colour, failOn: settings.failOn).render(report).utf8)
                }
                rendered[key] = data
            }
            if let path {
                do { try data.write(to: URL(fileURLWithPath: path)) } catch {
                    throw ValidationError("cannot write the \(format.rawValue) report to \(path): \((error as NSError).localizedDescription)")
                }
            } else {
                FileHandle.standardOutput.write(data)
            }
        }
        if report.isIncomplete {
            // One line on stderr, the first failure; the report lists every one of them.
            let errors = report.images.flatMap(\.errors)
            if let first = errors.first {
                let more = errors.count > 1 ? " (and \(errors.count - 1) more errors: see the report)" : ""
                printError("\(flyApp.map { "fly app \($0)" } ?? self.image): \(first.layerIndex.map { "layer \($0): " } ?? "")\(first.message)\(more)")
            }
            return 2
        }
        return full.count(atLeast: settings.failOn) > 0 ? 1 : 0
    }
}

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rules", abstract: "Print the rule set: id, severity, description.")

    /// What `rules` prints: a list, not a report, so no SARIF.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json

        init?(argument: String) { self.init(rawValue: argument.lowercased()) }
    }

    @Option(name: .shortAndLong, help: "text or json.") var format: Format = .text
    @Option(help: "Rules from a gitleaks-format TOML file.") var rules: String?

    func run() throws {
        let ruleSet: RuleSet
        do { ruleSet = try RuleSet(rulesFile: rules) } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        let engine = ruleSet.engine
        let all = ruleSet.reportableRules
        if format == .json {
            let list = all.map { r -> [String: Any] in
                var entry: [String: Any] = ["id": r.id, "severity": r.severity.rawValue, "description": r.description,
                                            "confidence": r.confidence.rawValue]
                if !r.keywords.isEmpty { entry["keywords"] = r.keywords }
                if let revoke = r.revoke { entry["revoke"] = revoke }
                return entry
            }
            let obj: [String: Any] = ["rulesetFingerprint": engine.fingerprint, "rules": list]
            let data = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys])
            FileHandle.standardOutput.write(data + Data("\n".utf8))
            return
        }
        for r in all {
            // Rule ids and descriptions may come from a --rules file: printed escaped like anything read from outside.
            let id = TerminalText.escape(r.id).padding(toLength: 34, withPad: " ", startingAt: 0)
            print("\(id) \(r.severity.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(TerminalText.escape(r.description))")
        }
        print("\(all.count) rules, fingerprint \(engine.fingerprint)")
    }
}

/// One line on stderr; whatever the message quotes (a path, a registry's own error text) cannot reach the
/// terminal as a control sequence or spill onto a second line.
func printError(_ message: String) {
    FileHandle.standardError.write(Data("stowaway: \(TerminalText.escape(message))\n".utf8))
}

extension ImageScanner {
    /// The scanner blocks on layer streams and runs its own threads: start it from a thread of its own, off
    /// the async pool, so the registry client's tasks keep running while layers stream.
    func scanOffThePool(_ images: [Image]) async -> Report {
        await BlockingWork.run { self.scan(images) }
    }
}
