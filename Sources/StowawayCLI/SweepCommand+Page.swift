import Foundation
import Secrets
import Sweep

/// Writing the HTML page and the Prometheus textfile, for `sweep report` and the config's `html = "FILE"`.
enum SweepPageFile {
    static func render(_ page: SweepPage, format: SweepFormat) -> Data {
        format == .prometheus ? SweepPrometheus.render(page) : SweepHTML.render(page)
    }

    /// Writes `data` to `output` by a rename, so a reader (a browser, node_exporter) never sees half a file;
    /// standard output without one.
    static func write(_ data: Data, to output: String?) throws {
        guard let output else {
            FileHandle.standardOutput.write(data)
            return
        }
        do {
            try data.write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            throw SweepPageError(path: output, reason: (error as NSError).localizedDescription)
        }
    }

    /// After a sweep, the page the config's `html` names: the whole shared run's for `--run NAME`. A page that
    /// cannot be written is a warning: the run and its report stand.
    static func afterRun(path: String?, report: SweepReport, runName: String?, store: any SweepStore, confidence: Confidence) async {
        guard let path else { return }
        do {
            var whole = report
            if let runName { whole = try await Sweeper.sharedReport(name: runName, store: store).keeping(confidence: confidence) }
            let page = try await SweepPage.build(report: whole, store: store, confidence: confidence)
            try write(SweepHTML.render(page), to: path)
        } catch {
            printError("warning: could not write the HTML page \(path): \(error)")
        }
    }
}

/// The page's file could not be written.
struct SweepPageError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "cannot write \(path): \(reason)" }
}
