import Core
import Foundation
import Layers
import OCI
import Reports
import Secrets

/// File inspection: one file's matching, decoding, credential-file hashing and per-file cap.
extension ImageScanner {
    /// Runs one file's chunks through the matcher; keeps small candidates for decoding and hashes credential files.
    final class FileScan {
        let scanner: ImageScanner
        let engine: MatchEngine
        let matcher: FileMatcher
        var entry = LayerEntry(path: "/", kind: .file, size: 0)
        var credentialKind: String?
        var decoder: (detector: Detector, rule: Int)?
        var captured: [UInt8]?
        var fileHash: DigestHasher?
        /// Findings of the last file left out by the per-file cap.
        private(set) var truncated = 0

        init(scanner: ImageScanner) throws {
            self.scanner = scanner
            engine = scanner.engine
            matcher = try scanner.engine.makeMatcher()
            matcher.maxHits = scanner.options.maxFindingsPerFile
        }

        func begin(_ e: LayerEntry) throws {
            entry = e
            credentialKind = nil
            if let rule = engine.rule(for: .credentialFile), engine.ruleApplies(rule, toPath: e.path) {
                credentialKind = CredentialPaths.kind(of: e.path)
            }
            decoder = nil
            if let d = Decoders.decoder(for: e.path), let rule = engine.rule(for: d), engine.ruleApplies(rule, toPath: e.path) {
                decoder = (d, rule)
            }
            captured = decoder != nil && e.size <= Int64(Decoders.maxSize) ? [] : nil
            fileHash = credentialKind != nil ? DigestHasher() : nil
            // A decoded file (at most `Decoders.maxSize` bytes) is capped after its blobs are superseded, so
            // `truncated` never counts a blob whose credential is reported.
            matcher.maxHits = captured != nil ? Decoders.maxSize : scanner.options.maxFindingsPerFile
            try matcher.begin()
        }

        func feed(_ chunk: UnsafeRawBufferPointer) throws {
            if captured != nil {
                if captured!.count + chunk.count <= Decoders.maxSize { captured!.append(contentsOf: chunk) } else { captured = nil }
            }
            fileHash?.update(chunk)
            try matcher.feed(chunk)
        }

        func end() throws -> [LayerHit] {
            var hits: [LayerHit] = []
            for hit in try matcher.end() where engine.ruleApplies(hit.ruleIndex, toPath: entry.path) {
                hits.append(LayerHit(path: entry.path, line: hit.line, ruleIndex: hit.ruleIndex,
                                     secret: String(decoding: hit.secret, as: UTF8.self), binary: hit.binary, comment: hit.comment))
            }
            truncated = matcher.truncated
            if let decoder, let content = captured {
                hits = try decoded(Decoders.decode(decoder.detector, content: content), by: decoder.rule, into: hits)
                captured = nil
            }
            if let kind = credentialKind, hits.isEmpty, let hasher = fileHash, let rule = engine.rule(for: .credentialFile) {
                hits.append(LayerHit(path: entry.path, line: nil, ruleIndex: rule, secret: "", fileDigest: hasher.finalize().encoded,
                                     fileSize: hasher.count, description: "Credential file: \(kind)"))
            }
            let limit = scanner.options.maxFindingsPerFile
            if hits.count > limit {
                var capped = SeverityCap<LayerHit>(limit: limit)
                for h in hits { capped.add(h, rank: engine.severityRanks[h.ruleIndex]) }
                truncated += capped.truncated
                hits = capped.items
            }
            return hits
        }

        /// Adds what the content rules find in decoded values, or the decoded credential itself under the decoder's
        /// rule; a decoded credential supersedes the finding of the blob it came from (the decoder's `supersedes`).
        private func decoded(_ values: [Decoders.Decoded], by decoderRule: Int, into hits: [LayerHit]) throws -> [LayerHit] {
            var hits = hits
            var seen = Set(hits.map(\.secret))
            var superseded: Set<String> = []
            for d in values {
                var found = false
                for hit in try matcher.scan(d.text) where engine.ruleApplies(hit.ruleIndex, toPath: entry.path) {
                    let secret = String(decoding: hit.secret, as: UTF8.self)
                    if engine.suppresses(secret, rule: decoderRule) { continue }
                    found = true
                    if !seen.insert(secret).inserted { continue }
                    hits.append(LayerHit(path: entry.path, line: d.line, ruleIndex: hit.ruleIndex, secret: secret, key: d.key))
                }
                if !found, let credential = d.credential, !engine.suppresses(credential, rule: decoderRule),
                   seen.insert(credential).inserted {
                    hits.append(LayerHit(path: entry.path, line: d.line, ruleIndex: decoderRule, secret: credential, key: d.key))
                }
                // Decoded, the blob is judged by what it holds (reported, or allowlisted on purpose), not twice.
                if found || d.credential != nil, let encoded = d.encoded { superseded.insert(encoded) }
            }
            if !superseded.isEmpty {
                hits.removeAll { engine.givesWay(ruleID: engine.rules[$0.ruleIndex].id, secret: $0.secret, to: decoderRule, blobs: superseded) }
            }
            return hits
        }
    }
}

/// A secret in a file of a layer (or a credential file with none), before statuses.
struct LayerHit {
    var path: String
    var line: Int?
    var ruleIndex: Int
    var secret: String
    var key: String?
    /// For a credential file reported by its name: the SHA-256 and size of the whole file.
    var fileDigest: String?
    var fileSize: Int64?
    /// Replaces the rule's description (a credential file says which kind).
    var description: String?
    /// For a member of an archive (`path` is then `/a.jar!/b/c`): the file of the layer that holds it, whose
    /// whiteouts and overwrites decide the status.
    var outer: String?
    /// Whether the file is binary (`RawHit.binary`).
    var binary = false
    /// Whether the secret stands on a comment line (`RawHit.comment`).
    var comment = false
}
