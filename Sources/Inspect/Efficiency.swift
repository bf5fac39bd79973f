/// The image efficiency score and wasted bytes as dive defines them, measured while the layers are applied.
///
/// dive looks at every path that is not a directory, in every layer that has it: each layer's copy counts with
/// its size, and each removal of it (a whiteout) counts as a copy of size 0. A path's smallest copy is what the
/// image needs; the rest ships for nothing. The score is the sum of the smallest copies over the sum of all
/// copies (1 when there are none), and the wasted bytes are the sum of *all* copies of every path that more
/// than one layer touches, the surviving copy included. The user share divides those bytes by the content of
/// every layer but the first (the base image's).
///
/// One difference, on purpose: a file removed with its directory (a whiteout of the directory, an opaque
/// directory, a directory replaced by a file) counts as removed here; dive counts only whiteouts of the path
/// itself, so `rm -rf /dir` costs nothing in its score. Copies the same tar names twice count once, as in dive.
///
/// Only paths seen twice are remembered, so the cost is in proportion to the changes, not to the image.
struct EfficiencyCounter {
    struct Path {
        var copies = 0
        var total: Int64 = 0
        var smallest: Int64 = 0

        mutating func add(_ size: Int64) {
            smallest = copies == 0 ? size : min(smallest, size)
            copies += 1
            total += size
        }
    }

    /// Every copy's bytes, over all paths.
    private(set) var allCopies: Int64 = 0
    /// Paths that more than one layer touched.
    private(set) var repeated: [String: Path] = [:]

    /// The size a copy counts with: regular files only (a link or a device has no bytes of its own).
    static func size(_ e: ListedEntry) -> Int64 { e.type == .file ? e.size : 0 }

    /// Counts a layer once `MergedTree.apply` has applied it: what it removed or replaced below, then its entries.
    mutating func count(_ listing: LayerListing, _ changes: LayerChanges) {
        for r in changes.removals where r.entry.type != .dir {
            if repeated[r.entry.path] == nil {
                // The copy below, counted in `allCopies` when its layer was counted.
                var p = Path()
                p.add(Self.size(r.entry))
                repeated[r.entry.path] = p
            }
            // A removal is a copy of size 0; a replacement's copy is the entry below.
            if r.via != nil { repeated[r.entry.path]?.add(0) }
        }
        for e in listing.entries where e.type != .dir {
            let size = Self.size(e)
            allCopies += size
            repeated[e.path]?.add(size)
        }
    }

    /// The report section, with the `limit` largest repeated paths.
    func result(userBytes: Int64, limit: Int = 100) -> LayersReport.Efficiency {
        var wasted: Int64 = 0
        var saved: Int64 = 0
        var paths: [LayersReport.InefficientPath] = []
        for (path, p) in repeated where p.copies > 1 {
            wasted += p.total
            saved += p.total - p.smallest
            paths.append(.init(path: path, copies: p.copies, bytes: p.total))
        }
        paths.sort { $0.bytes != $1.bytes ? $0.bytes > $1.bytes : ImageInspector.pathOrder($0.path, $1.path) }
        let score = allCopies == 0 ? 1 : Double(allCopies - saved) / Double(allCopies)
        return .init(score: score, wastedBytes: wasted, userBytes: userBytes,
                     userWastedPercent: userBytes > 0 ? Double(wasted) / Double(userBytes) : 0,
                     paths: Array(paths.prefix(limit)), pathCount: paths.count)
    }
}

/// dive's CI rules: the image fails when its efficiency is below the lowest allowed, or its wasted bytes or
/// their share of the user layers are above the highest allowed. A nil threshold is disabled.
public struct EfficiencyGate: Sendable, Equatable {
    public var lowestEfficiency: Double?
    public var highestWastedBytes: Int64?
    public var highestUserWastedPercent: Double?

    /// dive's defaults: efficiency 0.9, user wasted share 0.1, wasted bytes disabled.
    public init(lowestEfficiency: Double? = 0.9, highestWastedBytes: Int64? = nil, highestUserWastedPercent: Double? = 0.1) {
        self.lowestEfficiency = lowestEfficiency
        self.highestWastedBytes = highestWastedBytes
        self.highestUserWastedPercent = highestUserWastedPercent
    }

    /// Each rule's verdict on `e`, in dive's order.
    public func evaluate(_ e: LayersReport.Efficiency) -> LayersReport.CIResult {
        var rules: [LayersReport.CIRule] = []
        func rule(_ name: String, _ threshold: String?, _ actual: String, failed: Bool) {
            rules.append(.init(rule: name, threshold: threshold, actual: actual,
                               status: threshold == nil ? .skipped : failed ? .failed : .passed))
        }
        rule("lowest-efficiency", lowestEfficiency.map { Self.ratio($0) }, Self.ratio(e.score),
             failed: lowestEfficiency.map { e.score < $0 } ?? false)
        rule("highest-wasted-bytes", highestWastedBytes.map { "\($0) bytes" }, "\(e.wastedBytes) bytes",
             failed: highestWastedBytes.map { e.wastedBytes > $0 } ?? false)
        rule("highest-user-wasted-percent", highestUserWastedPercent.map { Self.ratio($0) }, Self.ratio(e.userWastedPercent),
             failed: highestUserWastedPercent.map { e.userWastedPercent > $0 } ?? false)
        return .init(passed: !rules.contains { $0.status == .failed }, rules: rules)
    }

    static func ratio(_ v: Double) -> String {
        let s = String(format: "%.4f", v)
        var t = Substring(s)
        while t.hasSuffix("0") { t = t.dropLast() }
        if t.hasSuffix(".") { t = t.dropLast() }
        return String(t)
    }

    /// Parses a byte count as dive's config writes it: `20MB`, `1.5 GiB`, `1048576`, `disabled`. Decimal units
    /// (kB, MB, GB, TB) are powers of 1000, binary ones (KiB, MiB, GiB, TiB) of 1024. Nil for `disabled`;
    /// throws `InspectError.badThreshold` for anything else.
    public static func bytes(_ text: String, flag: String) throws -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.lowercased() == "disabled" { return nil }
        let number = t.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let unit = t.dropFirst(number.count).trimmingCharacters(in: .whitespaces).lowercased()
        let scale: Double? = ["": 1, "b": 1, "kb": 1e3, "k": 1e3, "mb": 1e6, "m": 1e6, "gb": 1e9, "g": 1e9, "tb": 1e12,
                              "kib": 1024, "mib": 1_048_576, "gib": 1_073_741_824, "tib": 1_099_511_627_776][unit]
        guard let v = Double(number), v >= 0, let scale, v * scale < 9e18 else {
            throw InspectError.badThreshold(flag: flag, value: text, reason: "expected bytes such as 20MB, 1.5GiB or 1048576, or disabled")
        }
        return Int64(v * scale)
    }

    /// Parses a ratio between 0 and 1 (`0.9`), or `disabled`.
    public static func ratio(_ text: String, flag: String) throws -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.lowercased() == "disabled" { return nil }
        guard let v = Double(t), v >= 0, v <= 1 else {
            throw InspectError.badThreshold(flag: flag, value: text, reason: "expected a ratio between 0 and 1 such as 0.9, or disabled")
        }
        return v
    }
}
