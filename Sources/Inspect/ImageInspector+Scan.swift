import Reports
import Scan

extension ImageInspector {
    /// File findings in each layer's blob (layer index → count), from a scan of the image with `ruleSet`.
    /// The scan reads every layer in its own pass. Throws `incompleteScan` when it could not read everything.
    public func findingsPerLayer(_ ruleSet: RuleSet) throws -> [Int: Int] {
        var options = ScanOptions(pathAllowlist: ruleSet.pathAllowlist)
        options.progress = progress
        let report = ImageScanner(engine: ruleSet.engine, options: options).scan([image])
        if let error = report.images.first?.errors.first {
            throw InspectError.incompleteScan(image: name, reason: (error.layerIndex.map { "layer \($0): " } ?? "") + error.message)
        }
        var counts: [Int: Int] = [:]
        for f in report.images.flatMap(\.findings) where f.source == .file {
            if let l = f.layerIndex { counts[l, default: 0] += 1 }
        }
        return counts
    }
}
