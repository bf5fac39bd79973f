import Foundation
import Testing
import TestSupport
@testable import OCI

@Suite struct ReferenceTests {
    static let digest = "sha256:" + String(repeating: "ab", count: 32)

    @Test(arguments: [
        ("alpine", "docker.io", "library/alpine", "latest", nil),
        ("alpine:3.20", "docker.io", "library/alpine", "3.20", nil),
        ("bitnami/redis", "docker.io", "bitnami/redis", "latest", nil),
        ("index.docker.io/library/ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", nil),
        ("registry.fly.io/my-app:deployment-01HZX", "registry.fly.io", "my-app", "deployment-01HZX", nil),
        ("localhost:5000/team/app", "localhost:5000", "team/app", "latest", nil),
        ("127.0.0.1:5000/app@\(digest)", "127.0.0.1:5000", "app", nil, digest),
        ("ghcr.io/org/app:v1@\(digest)", "ghcr.io", "org/app", nil, digest),
        ("docker://registry.fly.io/my-app:v2", "registry.fly.io", "my-app", "v2", nil),
        ("docker://alpine", "docker.io", "library/alpine", "latest", nil),
    ] as [(String, String, String, String?, String?)])
    func parses(text: String, registry: String, repository: String, tag: String?, digest: String?) throws {
        let r = try Reference(text)
        #expect(r.registry == registry)
        #expect(r.repository == repository)
        #expect(r.tag == tag)
        #expect(r.digest?.description == digest)
    }

    @Test func dockerHubTalksToRegistry1() throws {
        #expect(try Reference("alpine").apiHost == "registry-1.docker.io")
        #expect(try Reference("registry.fly.io/a").apiHost == "registry.fly.io")
    }

    @Test(arguments: ["", "UPPER/Case:tag:x", "app@sha256:short", "app:-bad", "a b", "host:5000/Repo"])
    func rejects(text: String) {
        #expect(throws: OCIError.self) { try Reference(text) }
    }
}

@Suite struct ChallengeTests {
    @Test func bearerWithACommaInsideAQuotedScope() {
        let c = Challenge.parse([#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#])
        #expect(c == [Challenge(scheme: "bearer", parameters: [
            "realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:samalba/my-app:pull,push"])])
    }

    @Test func basicAndSeveralChallenges() {
        let c = Challenge.parse([#"Basic realm="flyio-registry.fly.dev""#, #"Bearer realm="https://x/token", error="insufficient_scope""#])
        #expect(c.map(\.scheme) == ["basic", "bearer"])
        #expect(c[0].parameters["realm"] == "flyio-registry.fly.dev")
        #expect(c[1].parameters["error"] == "insufficient_scope")
    }

    @Test func joinedInOneHeader() {
        let c = Challenge.parse([#"Basic realm="a", Bearer realm="b",service="s""#])
        #expect(c.map(\.scheme) == ["basic", "bearer"])
        #expect(c[1].parameters == ["realm": "b", "service": "s"])
    }
}

@Suite struct CredentialTests {
    @Test func authDecodesStandardAndURLSafeBase64() {
        // "x:" + bytes whose base64 uses + and / (standard) or - and _ (URL-safe).
        let value = "x:" + String(decoding: [0xfb, 0xff, 0xbf], as: UTF8.self) + "fo1_token"
        let std = Data(value.utf8).base64EncodedString()
        let url = std.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        #expect(CredentialStore.decodeAuth(std) == value)
        #expect(CredentialStore.decodeAuth(url) == value)
    }

    @Test func flyTokenFromTheEnvironmentWithUsernameX() throws {
        let store = CredentialStore(environment: ["FLY_API_TOKEN": "fo1_abc", "HOME": "/nonexistent"])
        let c = try store.credential(for: "registry.fly.io")
        guard case .basic(let u, let p)? = c?.kind else { Issue.record("no basic credential"); return }
        #expect(u == "x")
        #expect(p == "fo1_abc")
        #expect(c?.source == "FLY_API_TOKEN")
        #expect(try store.credential(for: "ghcr.io") == nil)
    }

    @Test func dockerConfigAuthsByHostnameOfAURLKey() throws {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let auth = Data("alice:s3cret:with:colons".utf8).base64EncodedString()
        try Data(#"{"auths":{"https://registry.example.com/v2/":{"auth":"\#(auth)"}}}"#.utf8)
            .write(to: URL(fileURLWithPath: dir + "/config.json"))
        let c = try CredentialStore(environment: ["DOCKER_CONFIG": dir]).credential(for: "registry.example.com")
        guard case .basic(let u, let p)? = c?.kind else { Issue.record("no credential"); return }
        #expect(u == "alice")
        #expect(p == "s3cret:with:colons")
        #expect(c?.source.hasSuffix("config.json (auths)") == true)
    }
}
