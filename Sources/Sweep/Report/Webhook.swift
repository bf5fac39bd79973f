import AsyncHTTPClient
import Core
import Foundation
import NIOCore
import Secrets

/// Posts a Slack-compatible message (`{"text": …}`) when a run has new findings: counts by severity and the
/// first few places, redacted. Retried a few times; a failure is the caller's warning, never the run's.
public struct Webhook: Sendable {
    public let url: String
    /// Places listed before "and N more".
    public static let maxListed = 5
    /// Seconds one attempt may take, from the request sent to the last byte of its answer (three attempts and
    /// their pauses: at most 33 s in all; an attempt that runs out of time is the last).
    public static let attemptSeconds = 10.0

    /// Throws `SweepError.webhook` when `url` is not http(s); the message names only scheme and host, since
    /// webhook URLs carry their secret in the path.
    public init(url: String) throws {
        guard let u = URL(string: url), u.scheme == "https" || u.scheme == "http", u.host != nil else {
            throw SweepError.webhook(url: Self.shown(url), reason: "not an http(s) URL")
        }
        self.url = url
    }

    /// `scheme://host[:port]/…`: what errors may print of a webhook URL.
    static func shown(_ url: String) -> String {
        guard let u = URL(string: url), let scheme = u.scheme, let host = u.host else { return "(the webhook URL)" }
        return "\(scheme)://\(host)\(u.port.map { ":\($0)" } ?? "")/…"
    }

    /// The message for a report, or nil when nothing is new.
    public static func message(for report: SweepReport) -> [String: String]? {
        let new = report.findings.new
        guard !new.isEmpty else { return nil }
        var bySeverity: [String] = []
        for s in Severity.allCases.sorted(by: >) {
            let n = new.filter { $0.finding.severity == s }.count
            if n > 0 { bySeverity.append("\(n) \(s.rawValue)") }
        }
        var text = "Stowaway sweep run \(report.run.id): \(new.count) new secret finding\(new.count == 1 ? "" : "s") "
            + "(\(bySeverity.joined(separator: ", "))) in \(report.images.scanned) images"
        for f in new.prefix(maxListed) {
            // Image paths, places and previews come from registries and images: inert for Slack (`<!channel>`
            // would notify everyone, a newline would forge a line).
            let e = MessageText.slack
            text += "\n• \(f.finding.severity.rawValue) \(e(f.finding.ruleID)) in \(e(f.image)) at \(e(SweepReport.place(f.finding))) "
                + "(\(e(f.finding.redacted)))"
        }
        if new.count > maxListed { text += "\n… and \(new.count - maxListed) more" }
        return ["text": text]
    }

    /// Posts the report's message if it has one; throws `SweepError.webhook` after the last attempt failed.
    public func post(_ report: SweepReport, attempts: Int = 3) async throws {
        guard let message = Self.message(for: report) else { return }
        let body = try JSONSerialization.data(withJSONObject: message, options: [.sortedKeys])
        var last = "no attempt"
        for attempt in 1...max(1, attempts) {
            if attempt > 1 { try? await Task.sleep(nanoseconds: UInt64(attempt - 1) * 1_000_000_000) }
            var req = HTTPClientRequest(url: url)
            req.method = .POST
            req.headers.add(name: "Content-Type", value: "application/json")
            req.body = .bytes(ByteBuffer(bytes: body))
            do {
                let request = req
                // The whole exchange is bounded, its body included: a listener that claims a length and drips it
                // must not keep the process from exiting.
                let status = try await Deadline.within(seconds: Self.attemptSeconds) {
                    let resp = try await HTTPClient.shared.execute(request, timeout: .seconds(Int64(Self.attemptSeconds)))
                    _ = try? await resp.body.collect(upTo: 64 * 1024)
                    return resp.status.code
                }
                guard let status else {
                    // A listener that drips once drips again: not retried.
                    last = "no whole answer within \(Int(Self.attemptSeconds)) s"
                    break
                }
                if (200..<300).contains(status) { return }
                last = "answered \(status)"
                // A client error will not change on a retry, except rate limiting.
                if (400..<500).contains(status) && status != 429 { break }
            } catch {
                last = "\(error)"
            }
        }
        throw SweepError.webhook(url: Self.shown(url), reason: last)
    }
}
