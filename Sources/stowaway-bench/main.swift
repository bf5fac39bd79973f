import Foundation
import OCI
import Scan
import Secrets

// stowaway-bench walk IMAGE [--jobs N]  decompress and walk every layer (no matcher); prints seconds and bytes
// stowaway-bench match DIR [MB]          the matcher alone, one thread, over files read into memory first
// stowaway-bench compile                 time to compile the rule set's Vectorscan/PCRE2 databases
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("stowaway-bench: \(message)\n".utf8))
    exit(2)
}

let args = Array(CommandLine.arguments.dropFirst())
guard let mode = args.first else { fail("usage: stowaway-bench walk IMAGE [--jobs N] | match DIR [MB] | compile") }

switch mode {
case "walk":
    guard args.count >= 2 else { fail("walk needs IMAGE") }
    do {
        let images = try await ImageLoader.load(args[1])
        var options = ScanOptions()
        options.matchContent = false
        if let j = args.firstIndex(of: "--jobs"), j + 1 < args.count, let n = Int(args[j + 1]) { options.parallelism = n }
        let start = Date()
        let report = Scanner(engine: try MatchEngine(rules: BuiltinRules.all), options: options).scan(images)
        let seconds = Date().timeIntervalSince(start)
        if report.isIncomplete { fail("\(args[1]): \(report.images.flatMap(\.errors).map(\.message))") }
        print(String(format: "seconds=%.3f bytes=%lld files=%d layers=%d", seconds, report.summary.bytes, report.summary.files,
                     report.summary.layers))
    } catch { fail("\(error)") }

case "match":
    guard args.count >= 2 else { fail("match needs DIR") }
    let limit = (args.count > 2 ? Int(args[2]) ?? 256 : 256) << 20
    var files: [Data] = []
    var total = 0
    let walker = FileManager.default.enumerator(atPath: args[1])
    while total < limit, let rel = walker?.nextObject() as? String {
        let path = args[1] + "/" + rel
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue,
              (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) == nil,
              let d = FileManager.default.contents(atPath: path) else { continue }
        files.append(d)
        total += d.count
    }
    do {
        let engine = try MatchEngine(rules: BuiltinRules.all, cache: nil)
        let matcher = try engine.makeMatcher()
        var hits = 0
        let start = Date()
        for f in files {
            try matcher.begin()
            try f.withUnsafeBytes { try matcher.feed($0) }
            hits += try matcher.end().count
        }
        let seconds = Date().timeIntervalSince(start)
        let c = matcher.counters
        print(String(format: "seconds=%.3f bytes=%d files=%d hits=%d rules=%d regions=%d windowBytes=%d",
                     seconds, total, files.count, hits, engine.rules.count, c.regions, c.windowBytes))
    } catch { fail("\(error)") }

case "compile":
    // Cold: compile and write the database cache; warm: load it. In a fresh directory each run.
    let dir = NSTemporaryDirectory() + "stowaway-bench-cache-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    do {
        let (cold, warm) = try DatabaseCache.measureStartup(rules: BuiltinRules.all, cacheDir: dir)
        print(String(format: "cold=%.4f warm=%.4f rules=%d", cold, warm, BuiltinRules.all.count))
    } catch { fail("\(error)") }

default:
    fail("unknown mode \(mode)")
}
