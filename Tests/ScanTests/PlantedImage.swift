import Foundation
import ImageBuilder
import TestSupport

/// An image with fresh fake secrets planted at every kind of place, and the findings a scan must report.
struct PlantedImage {
    let fly = FakeSecret.flyToken()
    let bundle = FakeSecret.flyBundle()
    let npm = FakeSecret.npmToken()
    let stripe = FakeSecret.stripeKey()
    let awsID = FakeSecret.awsKeyID()
    let awsSecret = FakeSecret.awsSecret()
    let github = FakeSecret.githubToken()
    let gitlab = "glpat-" + FakeSecret.random(20)

    /// One expected finding, in the fields the contract promises.
    struct Expected: Hashable, CustomStringConvertible {
        var ruleID: String
        var source: String
        var layerIndex: Int?
        var historyIndex: Int?
        var path: String?
        var line: Int?
        var key: String?
        var status: String?
        var removedInLayer: Int?
        var secret: String

        var description: String {
            "\(ruleID) \(source) L\(layerIndex.map(String.init) ?? "-") H\(historyIndex.map(String.init) ?? "-") \(path ?? "") :\(line.map(String.init) ?? "-") key=\(key ?? "-") \(status ?? "-") rm=\(removedInLayer.map(String.init) ?? "-")"
        }
    }

    func spec(_ format: ImageSpec.Format, compression: String) -> ImageSpec {
        ImageSpec(
            format: format, compression: compression, tag: "planted:1",
            config: .init(Env: ["PATH=/usr/bin:/bin", "FLY_API_TOKEN=\(fly)"], Labels: ["deploy.token": bundle, "team": "payments"],
                          Cmd: ["/app/server"]),
            history: [
                .init("/bin/sh -c #(nop) ADD file:0a1b in / "),                                   // 0 → layer 0
                .init("ENV FLY_API_TOKEN=\(fly)", empty: true),                                   // 1
                .init("ARG NPM_TOKEN=\(npm)", empty: true, comment: "buildkit.dockerfile.v0"),    // 2
                .init("RUN |1 NPM_TOKEN=\(npm) /bin/sh -c npm ci && cp -r . /app # buildkit"),    // 3 → layer 1
                .init("RUN /bin/sh -c rm /app/.env && rm -rf /app/cache/* # buildkit"),          // 4 → layer 2
                .init("LABEL deploy.token=\(bundle)", empty: true),                               // 5
                .init("CMD [\"/app/server\"]", empty: true),                                      // 6
            ],
            layers: [
                .init(files: [.init(path: "etc/", type: "dir"), .init(path: "etc/os-release", content: "ID=planted\n")]),
                .init(files: [
                    .init(path: "app/", type: "dir"),
                    .init(path: "app/config.yml", content: "server:\n  port: 8080\nstripe_key: \(stripe)\n"),
                    .init(path: "app/.env", content: "PORT=8080\nAWS_ACCESS_KEY_ID=\(awsID)\nAWS_SECRET_ACCESS_KEY=\(awsSecret)\n"),
                    .init(path: "app/settings.py", content: "GITHUB = '\(github)'\n"),
                    .init(path: "app/cache/", type: "dir"),
                    .init(path: "app/cache/token", content: "\(gitlab)"),
                ]),
                .init(files: [
                    .init(path: "app/.wh..env", content: ""),
                    .init(path: "app/settings.py", content: "GITHUB = None\n"),
                    .init(path: "app/cache/.wh..wh..opq", content: ""),
                ]),
            ])
    }

    var expected: Set<Expected> {
        [
            Expected(ruleID: "flyio-access-token", source: "env", key: "FLY_API_TOKEN", secret: fly),
            Expected(ruleID: "flyio-macaroon-bundle", source: "label", key: "deploy.token", secret: bundle),
            Expected(ruleID: "flyio-access-token", source: "history", historyIndex: 1, key: "FLY_API_TOKEN", secret: fly),
            Expected(ruleID: "npm-access-token", source: "history", historyIndex: 2, key: "NPM_TOKEN", secret: npm),
            Expected(ruleID: "npm-access-token", source: "history", historyIndex: 3, key: "NPM_TOKEN", secret: npm),
            Expected(ruleID: "flyio-macaroon-bundle", source: "history", historyIndex: 5, key: "deploy.token", secret: bundle),
            Expected(ruleID: "stripe-live-key", source: "file", layerIndex: 1, historyIndex: 3, path: "/app/config.yml", line: 3,
                     status: "present", secret: stripe),
            Expected(ruleID: "aws-access-key-id", source: "file", layerIndex: 1, historyIndex: 3, path: "/app/.env", line: 2,
                     status: "deleted", removedInLayer: 2, secret: awsID),
            Expected(ruleID: "aws-secret-access-key", source: "file", layerIndex: 1, historyIndex: 3, path: "/app/.env", line: 3,
                     status: "deleted", removedInLayer: 2, secret: awsSecret),
            Expected(ruleID: "github-token", source: "file", layerIndex: 1, historyIndex: 3, path: "/app/settings.py", line: 1,
                     status: "overwritten", removedInLayer: 2, secret: github),
            Expected(ruleID: "gitlab-pat", source: "file", layerIndex: 1, historyIndex: 3, path: "/app/cache/token", line: 1,
                     status: "deleted", removedInLayer: 2, secret: gitlab),
        ]
    }

    var allSecrets: [String] { [fly, bundle, npm, stripe, awsID, awsSecret, github, gitlab] }
}
