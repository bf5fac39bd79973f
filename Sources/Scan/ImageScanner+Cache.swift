import Foundation
import OCI
import Reports
import Secrets

extension ImageScanner {
    /// Version of the `LayerScanResult` format and of the rules that build it; bump it when either changes so
    /// results stored by an older build are scanned again rather than misread.
    /// 4: the ancestors of a layer's paths are kept, so a file a later layer makes a directory is deleted.
    /// 5: one result for `scan` and the sweep: the caps' `truncated` count is kept, `notes` is always written, `error`
    /// never (a result with one is not kept).
    static let layerResultVersion = 5

    /// What a stored layer result depends on besides the layer: the rule set, the path allowlist and the
    /// result format. Two scanners with the same key produce the same result for the same layer.
    public var layerCacheKey: String {
        let allow = options.pathAllowlist?.patterns.joined(separator: "\n") ?? ""
        // Whether archives are opened, and how far, changes what a layer yields.
        let archives = options.archives ? options.archiveLimits.fingerprint : "off"
        return Redaction.sha256("layer-v\(Self.layerResultVersion)\n\(engine.fingerprint)\n\(allow)\narchives \(archives)")
    }

    /// An image's findings from its config (read now) and its layers' results (scanned now or stored), redacted
    /// whatever `showSecrets` says, with the statuses `scan` gives: `imageReport(_:_:config:for:)` for a sweep's
    /// ledger. `layers` is in the image's layer order. What cannot be read (the config, a layer that failed) is
    /// in `errors`. `config`, when given, is this image's `configResult(of:)`, worked out once for every image
    /// that names the same config.
    public func findings(of image: Image, layers: [LayerScanResult],
                         config known: ConfigResult? = nil) -> (findings: [Finding], errors: [Report.ScanError], suppressed: Int) {
        let report = imageReport(image, layers, config: known ?? configResult(of: image), for: .ledger)
        return (report.findings, report.errors, report.suppressed)
    }
}
