import Foundation
import Reports
import Scan

/// The triage of a sweep: the same acceptances as `scan` (an ignore file's entries) plus those kept in the
/// store (`sweep accept`), judged on the triage clock's day.
extension SweepReport {
    /// Moves every new or open finding an acceptance in force covers to `findings.accepted`, and marks those
    /// whose acceptances all expired (they stay new or open, and the reports say since when).
    public mutating func apply(_ triage: Triage) {
        guard !triage.isEmpty else { return }
        var accepted: [SweepFinding] = []
        func judge(_ list: [SweepFinding]) -> [SweepFinding] {
            var kept: [SweepFinding] = []
            for var f in list {
                let places = [f.finding.path, f.finding.location, SweepFinding.place(of: f.finding)].compactMap { $0 }
                switch triage.verdict(secretSHA256: f.finding.secretSHA256, images: f.images + [f.image, f.repository], places: places) {
                case .accepted(let a):
                    f.finding.acceptance = a
                    accepted.append(f)
                case .expired(let a):
                    f.finding.acceptance = a
                    kept.append(f)
                case .none:
                    kept.append(f)
                }
            }
            return kept
        }
        findings.new = judge(findings.new)
        findings.open = judge(findings.open)
        findings.accepted += accepted
    }
}

extension SweepStore {
    /// The store's acceptances with `entries` (an ignore file's), judged at `now`; throws `SweepError.store`.
    public func triage(with entries: [TriageEntry], now: Date) async throws -> Triage {
        var t = Triage(entries, now: now)
        t.add(try await acceptances())
        return t
    }
}
