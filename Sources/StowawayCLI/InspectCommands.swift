import ArgumentParser
import Foundation
import Inspect
import OCI
import Reports
import Scan

enum InspectFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// How the inspector commands print: format, colour and the progress line.
struct InspectOutputOptions: ParsableArguments {
    @Option(help: "Output format: text or json.") var format: InspectFormat = .text
    @Flag(help: "Never colour the text output.") var noColor = false
    @Flag(name: .shortAndLong, help: "No progress line on stderr.") var quiet = false

    /// What the flags and the terminal decide, as a value the work thread can take.
    var presentation: Presentation {
        Presentation(json: format == .json,
                     colour: !noColor && isatty(1) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil,
                     progress: !quiet && isatty(2) != 0)
    }
}

/// How one run prints: colour only on a terminal and never with NO_COLOR; progress only on a terminal.
struct Presentation: Sendable {
    var json: Bool
    var colour: Bool
    var progress: Bool

    func makeProgress() -> ScanProgress? { progress ? ScanProgress(label: "reading") : nil }

    func render<R: Encodable>(_ report: R, text: (InspectText) -> String) throws -> Data {
        guard json else { return Data(text(InspectText(colour: colour)).utf8) }
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try enc.encode(report) + Data("\n".utf8)
    }
}

/// Runs an inspector command: resolves IMAGE to one image, runs `body` on it off the async pool and prints
/// what it returns. Any error is one line on stderr and exit code 2.
private func inspect(_ source: ImageOptions, _ body: @escaping @Sendable (Image) throws -> Data) async -> Int32 {
    await inspect(source) { image in (try body(image), 0) }
}

/// The same, for a command whose exit code depends on what it found (`layers --ci`).
private func inspect(_ source: ImageOptions, _ body: @escaping @Sendable (Image) throws -> (Data, Int32)) async -> Int32 {
    let name = source.image
    do {
        let (data, status) = try await source.withImages { images in
            guard images.count == 1, let image = images.first else {
                throw InspectError.severalImages(image: name, names: images.map {
                    [$0.reference, $0.platform?.description].compactMap { $0 }.joined(separator: " ")
                })
            }
            return try body(image)
        }
        FileHandle.standardOutput.write(data)
        return status
    } catch {
        printError("\(error)")
        return 2
    }
}

/// History lines as shown: secrets the built-in rules find in them redacted, unless asked for.
private func historyText(_ image: Image, showSecrets: Bool) throws -> [String?]? {
    showSecrets ? nil : try HistoryText.redacted(image.config.history, engine: RuleSet().engine)
}

struct LayersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layers",
        abstract: "One row per layer: digest, creation time, sizes, files and the history command that made it; then dive's efficiency and the wasted space.",
        discussion: """
        History entries that made no layer (ENV, CMD, …) are shown dimmed between the rows. CONTENT is the bytes of \
        the layer's files, as files lists them and the scan summary counts them; SIZE is the blob as shipped. \
        Efficiency and its wasted bytes are dive's (docs/inspector.md); the wasted-space table lists the files \
        a later layer deletes or replaces, which still ship in the lower blobs. Reads every layer. \
        Secrets the rules find in history lines are redacted unless --show-secrets.
        --ci checks dive's three CI rules and exits 1 when one fails (2 when the image cannot be read).
        """
    )

    @OptionGroup var source: ImageOptions
    @Flag(help: "Also scan the image and count the findings in each layer (a second pass over every blob).") var scan = false
    @Flag(help: "Print secrets in history lines as they are (redacted by default).") var showSecrets = false
    @Flag(help: "Check dive's CI rules: exit 1 when the image fails one.") var ci = false
    @Option(help: ArgumentHelp("With --ci: fail below this efficiency (0 to 1, or disabled).", valueName: "RATIO"))
    var lowestEfficiency = "0.9"
    @Option(help: ArgumentHelp("With --ci: fail above these wasted bytes (20MB, 1GiB, 1048576, or disabled).", valueName: "BYTES"))
    var highestWastedBytes = "disabled"
    @Option(help: ArgumentHelp("With --ci: fail above this share of wasted bytes in the layers above the base (0 to 1, or disabled).",
                               valueName: "RATIO"))
    var highestUserWastedPercent = "0.1"
    @OptionGroup var output: InspectOutputOptions

    func validate() throws {
        do {
            _ = try gate()
        } catch {
            throw ValidationError("\(error)")
        }
    }

    private func gate() throws -> EfficiencyGate {
        EfficiencyGate(lowestEfficiency: try EfficiencyGate.ratio(lowestEfficiency, flag: "--lowest-efficiency"),
                       highestWastedBytes: try EfficiencyGate.bytes(highestWastedBytes, flag: "--highest-wasted-bytes"),
                       highestUserWastedPercent: try EfficiencyGate.ratio(highestUserWastedPercent, flag: "--highest-user-wasted-percent"))
    }

    func run() async throws {
        let (scan, showSecrets, output, name) = (scan, showSecrets, output.presentation, source.image)
        let gate = ci ? try gate() : nil
        throw ExitCode(await inspect(source) { image in
            var inspector = ImageInspector(image: image, name: name, history: try historyText(image, showSecrets: showSecrets))
            inspector.progress = output.makeProgress()
            let findings = scan ? try inspector.findingsPerLayer(RuleSet()) : nil
            var report = try inspector.layers(findings: findings)
            report.ci = gate?.evaluate(report.efficiency)
            return (try output.render(report) { $0.render(report) }, report.ci?.passed == false ? 1 : 0)
        })
    }
}

struct FilesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "files",
        abstract: "The entries of one layer, with what it added, modified or deleted, or of the merged filesystem.",
        discussion: """
        --layer N lists what layer N's tar holds, each entry added or modified relative to the layers below, and \
        what its whiteouts and opaque directories delete, one entry each. --merged (the default) lists the \
        filesystem all layers make, with the layer each entry comes from, and says how many deleted files it \
        hides; --deleted lists them too, with the layer whose blob still holds each. Every row shows the mode, \
        owner (UID:GID) and size. Reads the layers up to N (all for --merged).
        GLOB: * matches any run of characters (slashes too), ? one character, [a-z] one of a set. Without a slash \
        it matches the last component (*.env); with one, the whole path (/app/*).
        """
    )

    @OptionGroup var source: ImageOptions
    @Argument(help: "Only the paths matching this pattern.") var glob: String?
    @Option(help: "The layer to list (0 = base, as in scan's report).") var layer: Int?
    @Flag(help: "The merged filesystem (the default).") var merged = false
    @Flag(help: "In the merged filesystem, also list the files a later layer removed (their bytes still ship).") var deleted = false
    @OptionGroup var output: InspectOutputOptions

    func validate() throws {
        if merged && layer != nil { throw ValidationError("--layer and --merged exclude each other") }
        if deleted && layer != nil { throw ValidationError("--deleted is for the merged filesystem; --layer N already lists what layer N deletes") }
    }

    func run() async throws {
        let (layer, glob, output, name, deleted) = (layer, glob.map(PathGlob.init), output.presentation, source.image, deleted)
        throw ExitCode(await inspect(source) { image in
            var inspector = ImageInspector(image: image, name: name)
            inspector.progress = output.makeProgress()
            let report = try inspector.files(layer: layer, glob: glob, deleted: deleted)
            // Written as it is rendered: a million entries never make one document in memory.
            var out = StandardOutput()
            if output.json {
                try report.writeJSON { try out.write($0) }
            } else {
                try InspectText(colour: output.colour).render(report) { try out.write($0) }
            }
            try out.flush()
            return Data()
        })
    }
}

struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "The life of one path across the layers: added, modified, deleted, re-added.",
        discussion: "Each step with its layer, size and the history command that made it. Reads every layer."
    )

    @OptionGroup var source: ImageOptions
    @Argument(help: "The path in the image (/app/.env).") var path: String
    @Flag(help: "Print secrets in history lines as they are (redacted by default).") var showSecrets = false
    @OptionGroup var output: InspectOutputOptions

    func run() async throws {
        let (path, showSecrets, output, name) = (path, showSecrets, output.presentation, source.image)
        throw ExitCode(await inspect(source) { image in
            var inspector = ImageInspector(image: image, name: name, history: try historyText(image, showSecrets: showSecrets))
            inspector.progress = output.makeProgress()
            let report = try inspector.trace(path)
            return try output.render(report) { $0.render(report) }
        })
    }
}

struct CatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat",
        abstract: "Write a file's bytes from a layer to standard output, deleted or not.",
        discussion: """
        Without --layer, from the last layer that has PATH, even when a later layer deletes it. Symlinks and hard \
        links are followed inside the image, never on this machine. Bytes that are not plain text are not written \
        to a terminal unless --force.
        Blobs read: with --layer N, layer N's alone (the bytes stream in that one pass); without, the layers from \
        the top down to the first that has PATH. Following a link reads the layers down to its target.
        """
    )

    @OptionGroup var source: ImageOptions
    @Argument(help: "The path in the image (/app/.env).") var path: String
    @Option(help: "Read PATH from this layer (0 = base, as in scan's report).") var layer: Int?
    @Flag(help: "Write to a terminal even bytes that are not plain text.") var force = false
    @Flag(name: .shortAndLong, help: "No progress line on stderr.") var quiet = false

    func run() async throws {
        let (path, layer, force, name) = (path, layer, force, source.image)
        let toTerminal = isatty(1) != 0
        // The progress line shares the terminal with the bytes when both go there: only when stdout does not.
        let progress = quiet || toTerminal || isatty(2) == 0 ? nil : ScanProgress(label: "reading")
        throw ExitCode(await inspect(source) { image in
            let inspector = ImageInspector(image: image, name: name, progress: progress)
            let check = toTerminal && !force ? PlainTextCheck() : nil
            _ = try inspector.cat(path, layer: layer) { chunk in
                if let check, !check.accepts(chunk) { throw InspectError.notText(image: name, path: path) }
                try writeAll(chunk)
            }
            return Data()
        })
    }
}

/// Text for standard output, gathered into writes of about 64 KB.
private struct StandardOutput {
    private var pending: [UInt8] = []

    mutating func write(_ s: String) throws {
        pending += s.utf8
        if pending.count >= 1 << 16 { try flush() }
    }

    mutating func flush() throws {
        try pending.withUnsafeBytes { try writeAll($0) }
        pending.removeAll(keepingCapacity: true)
    }
}

/// Writes every byte to standard output, or throws `InspectError.output` with the system's reason.
private func writeAll(_ chunk: UnsafeRawBufferPointer) throws {
    var offset = 0
    while offset < chunk.count {
        // Within the chunk: offset < chunk.count, and the count is what is left of it.
        let n = write(1, chunk.baseAddress! + offset, chunk.count - offset)
        if n < 0 {
            if errno == EINTR { continue }
            throw InspectError.output(reason: String(cString: strerror(errno)))
        }
        offset += n
    }
}
