import Core
import Foundation
import OCI
import Reports
import Scan

/// One image of a shared run as the store keeps it between workers: everything a worker on another machine
/// needs to sweep it, and nothing secret (a Fly.io item names its organisation, whose token each worker reads
/// from its own environment).
public struct SharedItem: Codable, Sendable, Equatable {
    public var input: String
    /// The reference as parsed (`Reference(input)` gives it back).
    public var reference: String
    /// Platform choices as `all`, `host` or `os/arch[/variant]`.
    public var platforms: [String]
    public var apps: [String]
    public var machines: [String]

    /// The stored form of an expanded item.
    public init(_ item: SweepItem) {
        input = item.input
        reference = item.reference.description
        platforms = item.platforms.map { SweepItem.platformKey([$0]) }
        apps = item.apps
        machines = item.machines
    }

    /// The item back; throws `SweepError.store` when a row holds what this build cannot parse.
    public func sweepItem(store: String) throws -> SweepItem {
        do {
            let choices = try platforms.map { $0 == "host" ? PlatformChoice.host : try PlatformChoice($0) }
            return SweepItem(reference: try Reference(reference), input: input, platforms: choices, apps: apps, machines: machines)
        } catch {
            throw SweepError.store(path: store, reason: "work item \(input) cannot be read: \(error)")
        }
    }
}

/// What the first worker of a shared run learned while expanding the targets, for every worker: the listings
/// that failed, and which registry hosts are Fly.io's (host → organisation) so each worker sends that
/// organisation's token, read from its own environment.
public struct RunExpansion: Codable, Sendable, Equatable {
    public var failures: [SweepReport.Failed] = []
    public var flyHosts: [String: String] = [:]

    /// What an expansion found: failed listings, and Fly.io hosts by organisation.
    public init(failures: [SweepReport.Failed] = [], flyHosts: [String: String] = [:]) {
        self.failures = failures
        self.flyHosts = flyHosts
    }
}

/// The answer to "may I expand this run's targets?".
public enum ExpansionClaim: Sendable, Equatable {
    /// Expanded already (by anyone): here is what the expansion found.
    case done(RunExpansion)
    /// Yours: expand and `addItems` before the lease runs out.
    case yours
    /// Another worker is expanding under a live lease: wait and ask again.
    case busy
}

/// A work item claimed under a lease.
public struct ClaimedItem: Sendable {
    public var id: Int64
    public var item: SharedItem
}

/// What became of a claimed item, as `completeItem` stores it (findings redacted).
public struct ItemRecord: Codable, Sendable {
    public var outcome: ImageOutcome
    public var manifestDigest: Digest?
    public var error: String?
    public var findings: [Finding]

    /// An item's record; the findings' secrets are dropped here, so none reaches the store.
    public init(outcome: ImageOutcome, manifestDigest: Digest?, error: String?, findings: [Finding]) {
        self.outcome = outcome
        self.manifestDigest = manifestDigest
        self.error = error
        var clean = findings
        for i in clean.indices { clean[i].secret = nil }
        self.findings = clean
    }
}

/// The answer to "may I scan this layer?".
public enum LayerClaim: Sendable {
    /// Stored already: no scan.
    case stored(LayerScanResult)
    /// Yours: scan it, then `saveLayer` (or `releaseLayer` when the scan failed).
    case yours
    /// Another worker is scanning it under a live lease: wait and ask again.
    case busy
}

/// A shared run's work item as stored: claimed or not, and its record once done.
public struct StoredRunItem: Sendable {
    public var item: SharedItem
    /// `pending`, `claimed` or `done`.
    public var state: String
    public var worker: String?
    public var record: ItemRecord?
}

/// What a finished shared run decided about its findings, kept with the run so `sweep report` prints the same
/// new, open and resolved lists whenever it is asked.
public struct StoredChanges: Codable, Sendable {
    public var new: [FindingKey]
    public var open: [FindingKey]
    public var resolved: [SweepFinding]

    /// The changes as kept with the run (keys sorted, so the stored form is stable).
    public init(_ changes: FindingChanges) {
        new = changes.new.sorted { "\($0)" < "\($1)" }
        open = changes.open.sorted { "\($0)" < "\($1)" }
        resolved = changes.resolved.map(\.finding)
    }
}

/// A shared run as the store holds it, for `sweep report` and the last worker's verdict.
public struct SharedRunState: Sendable {
    public var record: RunRecord
    public var name: String
    public var expansion: RunExpansion?
    public var items: [StoredRunItem]
    /// Set once the run is complete.
    public var changes: StoredChanges?
    /// Layer counts summed over every worker (as each last reported them).
    public var workerCounts: RunCounts
    public var workers: Int
}

/// What both stores do alike with shared-run rows: the join check and decoding the JSON columns.
enum FleetChecks {
    /// A worker joins a run only with the rules and config it was started with: two configs on one run name
    /// would sweep (and resolve findings over) two different sets of images.
    static func same(name: String, store: String, ruleset: String, theirs: String, config: String, theirConfig: String?) throws {
        guard theirs == ruleset else {
            throw SweepError.runMismatch(name: name, store: store, reason: "was started with rule set \(theirs.prefix(12)), this worker has \(ruleset.prefix(12)); give this run another name")
        }
        guard let theirConfig else {
            throw SweepError.runMismatch(name: name, store: store, reason: "is a run of its own, not a shared one")
        }
        guard theirConfig == config else {
            throw SweepError.runMismatch(name: name, store: store, reason: "was started with another sweep config; give this run another name")
        }
    }

    static func expansion(_ json: String?) -> RunExpansion {
        json.flatMap { try? JSONDecoder().decode(RunExpansion.self, from: Data($0.utf8)) } ?? RunExpansion()
    }

    static func item(_ json: String, store: String) throws -> SharedItem {
        do {
            return try JSONDecoder().decode(SharedItem.self, from: Data(json.utf8))
        } catch {
            throw SweepError.store(path: store, reason: "a work item this build cannot read: \(error)")
        }
    }

    /// A done item's record. A record this build cannot read is left out (as before), but one whose manifest
    /// digest does not parse is `SweepError.store` naming the store: the row was damaged, not written by an
    /// older build.
    static func record(_ json: String?, store: String) throws -> ItemRecord? {
        guard let json else { return nil }
        do {
            return try JSONDecoder().decode(ItemRecord.self, from: Data(json.utf8))
        } catch let e as CoreError {
            throw SweepError.store(path: store, reason: "a work item's record holds a malformed digest (\(e))")
        } catch {
            return nil
        }
    }

    static func state(record: RunRecord, name: String, expansion: String?, changes: String?, items: [StoredRunItem],
                      workerCounts: [String]) -> SharedRunState {
        var total = RunCounts()
        for json in workerCounts {
            guard let c = try? JSONDecoder().decode(RunCounts.self, from: Data(json.utf8)) else { continue }
            total.layersScanned += c.layersScanned
            total.layersCached += c.layersCached
            total.bytesFetched += c.bytesFetched
        }
        return SharedRunState(record: record, name: name, expansion: expansion.map { FleetChecks.expansion($0) }, items: items,
                              changes: changes.flatMap { try? JSONDecoder().decode(StoredChanges.self, from: Data($0.utf8)) },
                              workerCounts: total, workers: workerCounts.count)
    }
}
