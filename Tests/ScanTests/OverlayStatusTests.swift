import Foundation
import ImageBuilder
import OCI
import Scan
import Testing
import TestSupport

/// A finding's status follows the overlay rules (`Layers.Overlay`) in `scan` and in a sweep's stored layer
/// results alike: one secret per rule, each in a file of the bottom layer that a later layer treats its own way.
@Suite struct OverlayStatusTests {
    /// (file of layer 0, status, layer that removed it): each holds a fresh token.
    static let places: [(path: String, status: String, removedIn: Int?)] = [
        ("/app/whited.env", "deleted", 1),          // a whiteout of the file
        ("/app/gone/key.env", "deleted", 1),        // a whiteout of its directory
        ("/app/opaque/key.env", "deleted", 1),      // an opaque directory, with a whiteout under it in the same layer
        ("/app/linked.env", "overwritten", 1),      // a hard link at the same path
        ("/app/flip/key.env", "deleted", 1),        // its directory made a file, and a directory again in layer 2
        ("/app/made-dir.env", "deleted", 1),        // a file that layer 1 puts something under: now a directory
        ("/app/merged/key.env", "present", nil),    // its directory named again as a directory: merged
        ("/app/kept.env", "present", nil),
    ]

    let tokens = places.map { _ in FakeSecret.githubToken() }

    func build() throws -> String {
        let dir = try Run.tempDirectory()
        let path = dir + "/image.tar"
        var bottom = zip(Self.places, tokens).map { ImageSpec.File(path: String($0.0.path.dropFirst()), content: "TOKEN=\($0.1)\n") }
        bottom.append(.init(path: "etc/motd", content: "hello\n"))
        let spec = ImageSpec(format: .ociTar, compression: "gzip", tag: "overlay:1", layers: [
            .init(files: bottom),
            .init(files: [
                .init(path: "app/.wh.whited.env", content: ""),
                .init(path: "app/.wh.gone", content: ""),
                .init(path: "app/opaque/.wh..wh..opq", content: ""),
                .init(path: "app/opaque/.wh.key.env", content: ""),
                .init(path: "app/linked.env", type: "hardlink", target: "etc/motd"),
                .init(path: "app/flip", content: "a file now\n"),
                .init(path: "app/made-dir.env/inner.txt", content: "nothing\n"),
                .init(path: "app/merged/", type: "dir"),
            ]),
            .init(files: [.init(path: "app/flip/", type: "dir"), .init(path: "app/flip/key.env", content: "none\n")]),
        ])
        try ImageBuilder.build(spec, at: path)
        return path
    }

    func expectStatuses(_ findings: [(path: String?, status: String?, removedIn: Int?, layer: Int?)]) {
        for (i, place) in Self.places.enumerated() {
            let found = findings.filter { $0.path == place.path }
            #expect(found.count == 1, "\(place.path): \(found.count) findings")
            guard let f = found.first else { continue }
            #expect(f.layer == 0 && f.status == place.status && f.removedIn == place.removedIn,
                    "\(place.path) (token \(i)): \(f.status ?? "-") in \(f.removedIn.map(String.init) ?? "-")")
        }
    }

    @Test func scanGivesEachFileTheStatusItsLaterLayersMakeIt() throws {
        let r = try Run.command(Run.stowaway, ["scan", try build(), "--format", "json"])
        #expect(r.status == 1, "\(r.stderr)")
        let findings = try JSONDocument.findings(r.stdout)
        expectStatuses(findings.map { ($0["path"] as? String, $0["status"] as? String, $0["removedInLayer"] as? Int, $0["layerIndex"] as? Int) })
    }

    @Test func storedLayerResultsGiveTheSameStatuses() async throws {
        let image = try #require(try await ImageResolver(platform: .all).images(of: try ImageLoader.source(try build())).first)
        let ruleSet = try RuleSet()
        let scanner = ImageScanner(engine: ruleSet.engine, options: ScanOptions(pathAllowlist: ruleSet.pathAllowlist))
        // Through JSON, as a sweep's store keeps them.
        let stored = try image.layers.map { layer -> LayerScanResult in
            try JSONDecoder().decode(LayerScanResult.self, from: try JSONEncoder().encode(scanner.scanLayer(layer)))
        }
        let (findings, errors, _) = scanner.findings(of: image, layers: stored)
        #expect(errors.isEmpty)
        expectStatuses(findings.map { ($0.path, $0.status?.rawValue, $0.removedInLayer, $0.layerIndex) })
    }
}
