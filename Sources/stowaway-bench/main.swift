import Foundation
import Layers
import OCI
import Reports
import Scan
import Secrets

// stowaway-bench walk IMAGE [--jobs N]    decompress and walk every layer (no matcher); prints seconds and bytes
// stowaway-bench stages IMAGE [--jobs N]  a full scan with per-stage CPU counters: inflate, hashes, tar walk, matching
// stowaway-bench blobs IMAGE              each distinct layer blob as `path offset length` (for gzip -dc baselines)
// stowaway-bench match DIR [MB]           the matcher alone, one thread, over files read into memory first (CPU time of
//                                         the thread); with and without the provider catalogue
// stowaway-bench compile                  time to compile the rule set's Vectorscan/PCRE2 databases and to load them
//                                         from the cache; with and without the provider catalogue
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("stowaway-bench: \(message)\n".utf8))
    exit(2)
}

// As `stowaway` does: libarchive converts entry names to this locale (see Stowaway.swift).
setlocale(LC_CTYPE, "C.UTF-8")
let args = Array(CommandLine.arguments.dropFirst())
guard let mode = args.first else {
    fail("usage: stowaway-bench walk IMAGE [--jobs N] | stages IMAGE [--jobs N] | blobs IMAGE | match DIR [MB] | compile")
}

/// User + system CPU seconds of this process so far.
func processCPU() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}

switch mode {
case "walk":
    guard args.count >= 2 else { fail("walk needs IMAGE") }
    do {
        let images = try await ImageLoader.load(args[1])
        // The rule set and path allowlist `stowaway scan` uses, so archives are opened (or left shut) alike.
        let ruleSet = try RuleSet()
        var options = ScanOptions(pathAllowlist: ruleSet.pathAllowlist)
        options.matchContent = false
        if let j = args.firstIndex(of: "--jobs"), j + 1 < args.count, let n = Int(args[j + 1]) { options.parallelism = n }
        let start = Date()
        let report = ImageScanner(engine: ruleSet.engine, options: options).scan(images)
        let seconds = Date().timeIntervalSince(start)
        if report.isIncomplete { fail("\(args[1]): \(report.images.flatMap(\.errors).map(\.message))") }
        print(String(format: "seconds=%.3f bytes=%lld files=%d layers=%d", seconds, report.summary.bytes, report.summary.files,
                     report.summary.layers))
    } catch { fail("\(error)") }

case "stages":
    // CPU time per stage, summed over threads: the counters are exact for decompression and hashing;
    // matching is the rest of the scan's CPU time (the matcher threads, decoding, bookkeeping).
    guard args.count >= 2 else { fail("stages needs IMAGE") }
    StageTimes.enable()
    do {
        let images = try await ImageLoader.load(args[1])
        let ruleSet = try RuleSet()
        var options = ScanOptions(pathAllowlist: ruleSet.pathAllowlist)
        if let j = args.firstIndex(of: "--jobs"), j + 1 < args.count, let n = Int(args[j + 1]) { options.parallelism = n }
        let scanner = ImageScanner(engine: ruleSet.engine, options: options)
        let cpu0 = processCPU()
        let start = Date()
        let report = scanner.scan(images)
        let wall = Date().timeIntervalSince(start), cpu = processCPU() - cpu0
        if report.isIncomplete { fail("\(args[1]): \(report.images.flatMap(\.errors).map(\.message))") }
        let parts = StageTimes.Stage.allCases.map { ($0, StageTimes.seconds($0)) }
        let measured = parts.reduce(0) { $0 + $1.1 }
        var line = String(format: "wall=%.3f cpu=%.3f", wall, cpu)
        for (stage, seconds) in parts { line += String(format: " %@=%.3f", "\(stage)", seconds) }
        line += String(format: " match=%.3f bytes=%lld", max(0, cpu - measured), report.summary.bytes)
        print(line)
    } catch { fail("\(error)") }

case "blobs":
    guard args.count >= 2 else { fail("blobs needs IMAGE") }
    do {
        var seen = Set<String>()
        for image in try await ImageLoader.load(args[1]) {
            for layer in image.layers where seen.insert(layer.blob.key).inserted {
                guard case .file(let slice) = layer.blob else { fail("\(layer.blob.displayName) is not a file") }
                print("\(slice.hostPath) \(slice.offset) \(slice.length)")
            }
        }
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
    // The full rule set, then the same run without the provider catalogue: what its rows cost, measured alike.
    func measure(_ rules: [Rule]) throws -> (seconds: Double, hits: Int, counters: FileMatcher.Counters) {
        try MatchBench.measure(rules, files)
    }
    do {
        let full = try measure(BuiltinRules.all)
        let baseline = try measure(BuiltinRules.withoutCatalog)
        print(String(format: "seconds=%.3f bytes=%d files=%d hits=%d rules=%d regions=%d windowBytes=%d "
                     + "baselineSeconds=%.3f baselineRules=%d baselineHits=%d catalogRows=%d",
                     full.seconds, total, files.count, full.hits, BuiltinRules.all.count, full.counters.regions,
                     full.counters.windowBytes, baseline.seconds, BuiltinRules.withoutCatalog.count, baseline.hits,
                     BuiltinRules.catalog.count))
    } catch { fail("\(error)") }

case "compile":
    // Cold: compile and write the database cache; warm: load it. In a fresh directory each run.
    let dir = NSTemporaryDirectory() + "stowaway-bench-cache-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    do {
        let (cold, warm) = try DatabaseCache.measureStartup(rules: BuiltinRules.all, cacheDir: dir)
        let (baseCold, baseWarm) = try DatabaseCache.measureStartup(rules: BuiltinRules.withoutCatalog, cacheDir: dir)
        print(String(format: "cold=%.4f warm=%.4f rules=%d baselineCold=%.4f baselineWarm=%.4f baselineRules=%d",
                     cold, warm, BuiltinRules.all.count, baseCold, baseWarm, BuiltinRules.withoutCatalog.count))
    } catch { fail("\(error)") }

case "patterns":
    // The Vectorscan patterns of the built-in rule set as JSON lines (expression, flags, id, rule), for studying
    // the database outside Swift.
    let rules = BuiltinRules.all
    for p in MatchEngine.databaseInputs(rules: rules).patterns {
        let row: [String: Any] = ["expression": p.expression, "flags": p.flags, "id": p.id,
                                  "rule": Int(p.id) < rules.count ? rules[Int(p.id)].id : ""]
        if let d = try? JSONSerialization.data(withJSONObject: row, options: [.sortedKeys]) { print(String(decoding: d, as: UTF8.self)) }
    }

default:
    fail("unknown mode \(mode)")
}

/// The matcher over files in memory, off the main actor (top-level code is main-actor isolated, and the matcher
/// is not Sendable).
enum MatchBench {
    static func measure(_ rules: [Rule], _ files: [Data]) throws -> (seconds: Double, hits: Int, counters: FileMatcher.Counters) {
        let engine = try MatchEngine(rules: rules, cache: nil)
        let matcher = try engine.makeMatcher()
        var hits = 0
        // The thread's CPU time, not wall time: MB/s per core, the same on a machine other jobs share.
        let start = threadCPU()
        for f in files {
            try matcher.begin()
            try f.withUnsafeBytes { try matcher.feed($0) }
            hits += try matcher.end().count
        }
        return (threadCPU() - start, hits, matcher.counters)
    }

    /// CPU seconds of the calling thread so far.
    static func threadCPU() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}
