import Foundation
import ImageBuilder
import OCI
import Scan
import Testing
import TestSupport

/// The one per-layer result: straight from `scanLayer` it holds the secrets `scan` may show; `stored()` (and
/// encoding, which goes through it) keeps none, in the hits, in their places or in the archive notes.
@Suite struct LayerScanResultTests {
    /// A layer whose secrets are also in a file's name, in an archive's name and in a warning about that archive.
    func layer() async throws -> (LayerRef, [String]) {
        let named = FakeSecret.githubToken(), inside = FakeSecret.githubToken(), archived = FakeSecret.githubToken()
        let big = (0..<4000).map { _ in FakeSecret.random(60) }.joined(separator: "\n")
        let tgz = try TarWriter.archive([(".env", Array("T=\(archived)\n".utf8)), ("big.txt", Array(big.utf8))], compression: .gzip)
        let dir = try Run.tempDirectory() + "/layout"
        try ImageBuilder.build(ImageSpec(format: .oci, compression: "gzip", tag: "stored:v1", layers: [.init(files: [
            .init(path: "keep/\(named).txt", content: "T=\(named)\n"),
            .init(path: "app/.env", content: "GH=\(inside)\n"),
            // Cut short: what was read is scanned, and a warning names the archive.
            .init(path: "opt/\(archived).tar.gz", bytes: Data(tgz.prefix(tgz.count * 2 / 3))),
        ])]), at: dir)
        let image = try #require(try await ImageResolver(platform: .all).images(of: try ImageLoader.source(dir)).first)
        return (image.layers[0], [named, inside, archived])
    }

    func mentions(_ data: Data, _ secrets: [String]) -> [String] {
        secrets.filter { data.range(of: Data($0.utf8)) != nil }
    }

    @Test func aStoredResultHoldsNoSecretWhereverTheScanFoundIt() async throws {
        let (layer, secrets) = try await layer()
        let ruleSet = try RuleSet()
        let scanner = ImageScanner(engine: ruleSet.engine, options: ScanOptions(pathAllowlist: ruleSet.pathAllowlist))
        let fresh = scanner.scanLayer(layer)
        #expect(fresh.error == nil)
        // In memory, for `scan --show-secrets`: every secret and its place as found.
        #expect(Set(fresh.hits.compactMap(\.secret)) == Set(secrets))
        #expect(fresh.hits.contains { $0.path == "/keep/\(secrets[0]).txt" })
        #expect(fresh.notes.contains { $0.path.contains(secrets[2]) }, "\(fresh.notes)")

        let stored = fresh.stored()
        #expect(stored.hits.count == fresh.hits.count && stored.hits.allSatisfy { $0.secret == nil })
        #expect(stored.stored() == stored)
        let text = stored.hits.flatMap { [$0.path, $0.key ?? "", $0.archive ?? ""] } + stored.notes.flatMap { [$0.path, $0.reason] }
        #expect(secrets.allSatisfy { s in !text.contains { $0.contains(s) } }, "\(text)")

        // Encoding cannot skip the step: the fresh result is written as its stored form.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let written = try encoder.encode(fresh)
        #expect(mentions(written, secrets).isEmpty, "a secret in an encoded layer result")
        #expect(written == (try encoder.encode(stored)))
        #expect(try JSONDecoder().decode(LayerScanResult.self, from: written) == stored)
    }
}
