import Foundation
import ImageBuilder
import Testing
import TestSupport

/// The services `make test` starts (testdata/registry/harness.py), read from $STOWAWAY_REGISTRY.
struct Harness {
    struct Service: Decodable {
        var host: String
        var username: String?
        var password: String?
        var ca: String?
        var identitytoken: String?
        var realm: String?
        var service: String?
    }

    let services: [String: Service]
    let workdir: String

    /// The running harness, read once; without one every registry test fails with this error, not the whole run.
    static func load() throws -> Harness { try loaded.get() }

    private static let loaded: Result<Harness, Error> = Result {
        guard let path = ProcessInfo.processInfo.environment["STOWAWAY_REGISTRY"],
              let data = FileManager.default.contents(atPath: path),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let workdir = json["workdir"] as? String else {
            throw Run.ToolFailure(description: "the registry tests need the registry harness: STOWAWAY_REGISTRY must name the "
                                  + "harness.json of a running harness (make test starts one)")
        }
        var services: [String: Service] = [:]
        for (k, v) in json {
            guard let d = v as? [String: Any], d["host"] != nil, let raw = try? JSONSerialization.data(withJSONObject: d) else { continue }
            services[k] = try? JSONDecoder().decode(Service.self, from: raw)
        }
        return Harness(services: services, workdir: workdir)
    }

    subscript(_ name: String) -> Service {
        get throws {
            guard let s = services[name] else { throw Run.ToolFailure(description: "the harness runs no service \"\(name)\"") }
            return s
        }
    }

    @discardableResult
    func push(_ source: String, to service: String, as dest: String) throws -> String {
        let r = try Run.tool("python3", [Run.packageRoot.path + "/testdata/registry/harness.py", "push", "--workdir", workdir,
                                         "--service", service, "--source", source, "--dest", dest])
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Makes a proxy forget what it has seen, so its 429 or cut happens again.
    func reset(_ service: String) throws {
        try Run.tool("curl", ["-sf", "-X", "POST", "http://\(self[service].host)/__harness/reset"])
    }

    func corrupt(_ service: String, digest: String) throws {
        try Run.tool("python3", [Run.packageRoot.path + "/testdata/registry/harness.py", "corrupt-blob", "--workdir", workdir,
                                 "--service", service, "--digest", digest])
    }
}

/// A planted image (fresh secrets, a 300 KB layer so the dropping proxy has something to cut) as a tarball.
struct PlantedTarball {
    let fly = FakeSecret.flyToken(), stripe = FakeSecret.stripeKey(), github = FakeSecret.githubToken()
    let path: String

    init() throws {
        path = try Run.tempDirectory() + "/planted.tar"
        let spec = ImageSpec(format: .docker25, compression: "gzip", tag: "planted:v1",
            config: .init(Env: ["FLY_API_TOKEN=\(fly)"]),
            history: [.init("ADD base"), .init("ENV FLY_API_TOKEN=\(fly)", empty: true), .init("COPY app /app"), .init("RUN rm /app/.env")],
            layers: [
                .init(files: [.init(path: "data/random.bin", content: FakeSecret.random(300_000))]),
                .init(files: [.init(path: "app/.env", content: "STRIPE=\(stripe)\n"), .init(path: "app/main.py", content: "T='\(github)'\n")]),
                .init(files: [.init(path: "app/.wh..env", content: "")]),
            ])
        try ImageBuilder.build(spec, at: path)
    }

    /// Built once for the suite; a failure to build it fails each test that needs it.
    static func load() throws -> PlantedTarball { try built.get() }
    private static let built = Result { try PlantedTarball() }
}

/// Findings of a JSON report as comparable strings (rule, source, layer, path, line, key, status, secret hash).
/// Output that is not a report throws: two broken outputs never compare equal.
func findings(_ stdout: String) throws -> Set<String> {
    let images = try JSONDocument.object(stdout).objects("images")
    return Set(try images.flatMap { try $0.objects("findings") }.map { f in
        ["ruleID", "source", "layerIndex", "path", "line", "key", "status", "removedInLayer", "secretSHA256"]
            .map { f[$0].map { "\($0)" } ?? "-" }.joined(separator: " ")
    })
}

func report(_ stdout: String) throws -> [String: Any] {
    try JSONDocument.object(stdout)
}

/// A HOME with no Docker config, so the machine's own credentials never leak into a test.
let cleanHome: [String: String] = {
    let home = (try? Run.tempDirectory()) ?? "/nonexistent/stowaway-test-home"
    return ["HOME": home, "DOCKER_CONFIG": home + "/.docker", "FLY_API_TOKEN": "", "FLY_ACCESS_TOKEN": "", "FLY_REGISTRY_HOST": ""]
}()

@Suite(.serialized) struct RegistryTests {
    let h: Harness
    let planted: PlantedTarball

    init() throws {
        h = try Harness.load()
        planted = try PlantedTarball.load()
    }

    private func scan(_ args: [String], stdin: String? = nil, env: [String: String] = [:]) throws -> ProcessResult {
        try Run.command(Run.stowaway, ["scan"] + args + ["--format", "json", "--quiet"], stdin: stdin,
                        environment: cleanHome.merging(env) { $1 })
    }

    private var expected: Set<String> {
        get throws {
            let set = try findings(try Run.command(Run.stowaway, ["scan", planted.path, "--format", "json"]).stdout)
            try #require(!set.isEmpty, "the planted tarball's own scan finds its secrets")
            return set
        }
    }

    @Test func anonymousPullGivesTheSameFindingsAsTheTarballWithManifestDigest() throws {
        let a = try h["anonymous"].host
        let digest = try h.push("docker-archive:\(planted.path)", to: "anonymous", as: "planted/app:v1")
        let r = try scan(["\(a)/planted/app:v1", "--insecure-registry", a])
        #expect(r.status == 1, "\(r.stderr)")
        let expected = try self.expected
        #expect(expected.count == 4)
        #expect((try findings(r.stdout)) == expected)
        let image = ((try report(r.stdout))["images"] as? [[String: Any]])?.first
        #expect(image?["manifestDigest"] as? String == digest)

        let byDigest = try scan(["\(a)/planted/app@\(digest)", "--insecure-registry", a])
        #expect(byDigest.status == 1, "\(byDigest.stderr)")
        #expect((try findings(byDigest.stdout)) == expected)
    }

    @Test func htpasswdBasicWithPasswordOnStdinAndAWrongPassword() throws {
        let s = try h["basic"]
        try h.push("docker-archive:\(planted.path)", to: "basic", as: "team/app:v1")
        let ok = try scan(["\(s.host)/team/app:v1", "--insecure-registry", s.host, "--username", s.username!, "--password-stdin"],
                          stdin: s.password! + "\n")
        #expect(ok.status == 1, "\(ok.stderr)")
        #expect((try findings(ok.stdout)) == (try expected))

        let wrong = "wrong-" + FakeSecret.random(12)
        let bad = try scan(["\(s.host)/team/app:v1", "--insecure-registry", s.host, "--username", s.username!, "--password-stdin"],
                           stdin: wrong)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains(s.host) && bad.stderr.contains("--username/--password-stdin") && bad.stderr.contains("401"),
                "\(bad.stderr)")
        #expect(!bad.stderr.contains(wrong) && !bad.stdout.contains(wrong))
        #expect(bad.stderr.split(separator: "\n").count == 1)

        let anonymous = try scan(["\(s.host)/team/app:v1", "--insecure-registry", s.host])
        #expect(anonymous.status == 2)
        #expect(anonymous.stderr.contains("anonymous"), "\(anonymous.stderr)")
    }

    @Test func tokenAuthFromDockerConfigAuthsIdentityTokenAndCredentialHelper() throws {
        let s = try h["token"]
        try h.push("docker-archive:\(planted.path)", to: "token", as: "team/app:v1")
        let config = try Run.tempDirectory()
        let args = ["\(s.host)/team/app:v1", "--insecure-registry", s.host]

        // auths with URL-safe base64 (what flyctl writes), no padding.
        let auth = Data("\(s.username!):\(s.password!)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        try Data(#"{"auths":{"\#(s.host)":{"auth":"\#(auth)"}}}"#.utf8).write(to: URL(fileURLWithPath: config + "/config.json"))
        let viaAuths = try scan(args, env: ["DOCKER_CONFIG": config])
        #expect(viaAuths.status == 1, "\(viaAuths.stderr)")
        #expect((try findings(viaAuths.stdout)) == (try expected))

        // identitytoken: a refresh token, exchanged with the OAuth2 POST form.
        try Data(#"{"auths":{"\#(s.host)":{"identitytoken":"\#(s.identitytoken!)"}}}"#.utf8).write(to: URL(fileURLWithPath: config + "/config.json"))
        let viaIdentity = try scan(args, env: ["DOCKER_CONFIG": config])
        #expect(viaIdentity.status == 1, "\(viaIdentity.stderr)")

        // registrytoken: a bearer token used as it is (here one issued by the token server for this repository).
        let tokenURL = "\(s.realm!)?service=\(s.service!)&scope=repository:team/app:pull"
        let issued = try Run.tool("curl", ["-sf", "-u", "\(s.username!):\(s.password!)", tokenURL]).stdout
        let jwt = try #require((try JSONSerialization.jsonObject(with: Data(issued.utf8)) as? [String: Any])?["token"] as? String)
        try Data(#"{"auths":{"\#(s.host)":{"registrytoken":"\#(jwt)"}}}"#.utf8).write(to: URL(fileURLWithPath: config + "/config.json"))
        let viaRegistryToken = try scan(args, env: ["DOCKER_CONFIG": config])
        #expect(viaRegistryToken.status == 1, "\(viaRegistryToken.stderr)")

        // credHelpers: a docker-credential-* program on PATH answering the helper protocol.
        let bin = try Run.tempDirectory()
        let helper = bin + "/docker-credential-stowtest"
        try Data("""
        #!/bin/sh
        read server
        [ "$1" = get ] && [ "$server" = "\(s.host)" ] || { echo "credentials not found in native keychain"; exit 1; }
        printf '{"ServerURL":"%s","Username":"\(s.username!)","Secret":"\(s.password!)"}' "$server"
        """.utf8).write(to: URL(fileURLWithPath: helper))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: helper)
        try Data(#"{"credHelpers":{"\#(s.host)":"stowtest"}}"#.utf8).write(to: URL(fileURLWithPath: config + "/config.json"))
        let viaHelper = try scan(args, env: ["DOCKER_CONFIG": config, "PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "")])
        #expect(viaHelper.status == 1, "\(viaHelper.stderr)")

        // Wrong password in the config: the error names the config file as the source.
        let badAuth = Data("\(s.username!):nope".utf8).base64EncodedString()
        try Data(#"{"auths":{"\#(s.host)":{"auth":"\#(badAuth)"}}}"#.utf8).write(to: URL(fileURLWithPath: config + "/config.json"))
        let bad = try scan(args, env: ["DOCKER_CONFIG": config])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("config.json (auths)") && bad.stderr.contains(s.host), "\(bad.stderr)")
    }

    /// A registry that speaks plain HTTP, reached as HTTPS: one line that names it and the flag to use, with no
    /// library type dump and no source path of our build.
    @Test func aPlainHTTPRegistryReachedOverTLSSaysWhichFlagToUse() throws {
        // Loopback addresses may use plain HTTP; a name for 127.0.0.1 other than localhost may not.
        let a = try h["anonymous"].host.replacingOccurrences(of: "127.0.0.1", with: try loopbackName())
        let r = try scan(["docker://\(a)/plain/app:v1"])
        #expect(r.status == 2)
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stderr.contains("plain HTTP") && r.stderr.contains("--insecure-registry \(a)"), "\(r.stderr)")
        #expect(!r.stderr.contains(".build") && !r.stderr.contains("BoringSSL") && !r.stderr.contains("NIOSSL"), "\(r.stderr)")
    }

    /// This machine's host name, which must resolve to 127.0.0.1 (Debian's /etc/hosts and containers map it so)
    /// and is not spelled as a loopback address.
    private func loopbackName() throws -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count) == 0 else { throw Run.ToolFailure(description: "gethostname failed") }
        let name = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let resolved = try Run.tool("getent", ["ahostsv4", name]).stdout
        guard resolved.split(separator: "\n").contains(where: { $0.hasPrefix("127.0.0.1 ") }), name.lowercased() != "localhost" else {
            throw Run.ToolFailure(description: "this test needs the host name (\(name)) to resolve to 127.0.0.1: \(resolved)")
        }
        return name
    }

    /// As Docker allows: a registry on localhost or 127.0.0.0/8 may use plain HTTP without --insecure-registry.
    @Test func loopbackRegistriesMayUsePlainHTTPWithoutTheFlag() throws {
        let a = try h["anonymous"].host
        try h.push("docker-archive:\(planted.path)", to: "anonymous", as: "loopback/app:v1")
        for host in [a, a.replacingOccurrences(of: "127.0.0.1", with: "localhost")] {
            let r = try scan(["\(host)/loopback/app:v1"])
            #expect(r.status == 1, "\(host): \(r.stderr)")
            #expect((try findings(r.stdout)) == (try expected), "\(host)")
        }
        let layers = try Run.command(Run.stowaway, ["layers", "localhost:\(a.split(separator: ":").last ?? "")/loopback/app:v1", "--quiet"],
                                     environment: cleanHome)
        #expect(layers.status == 0, "\(layers.stderr)")
    }

    @Test func tlsWithAGeneratedCA() throws {
        let s = try h["tls"]
        try h.push("docker-archive:\(planted.path)", to: "tls", as: "secure/app:v1")
        let refused = try scan(["\(s.host)/secure/app:v1"])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("TLS") && refused.stderr.contains(s.host), "\(refused.stderr)")
        #expect(refused.stderr.contains("--ca-file") && !refused.stderr.contains(".build"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1)

        let trusted = try scan(["\(s.host)/secure/app:v1", "--ca-file", s.ca!])
        #expect(trusted.status == 1, "\(trusted.stderr)")
        #expect((try findings(trusted.stdout)) == (try expected))

        let insecure = try scan(["\(s.host)/secure/app:v1", "--insecure-registry", s.host])
        #expect(insecure.status == 1, "\(insecure.stderr)")
    }

    @Test func flyRegistryWithUsernameXAndTheTokenFromTheEnvironment() throws {
        let s = try h["fly"]
        try h.push("docker-archive:\(planted.path)", to: "fly", as: "my-app:deployment-01HZX")
        let args = ["\(s.host)/my-app:deployment-01HZX", "--insecure-registry", s.host]
        let ok = try scan(args, env: ["FLY_REGISTRY_HOST": s.host, "FLY_API_TOKEN": s.password!])
        #expect(ok.status == 1, "\(ok.stderr)")
        #expect((try findings(ok.stdout)) == (try expected))

        let wrongToken = FakeSecret.flyToken()
        let bad = try scan(args, env: ["FLY_REGISTRY_HOST": s.host, "FLY_API_TOKEN": wrongToken])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("FLY_API_TOKEN") && bad.stderr.contains(s.host), "\(bad.stderr)")
        #expect(!bad.stderr.contains(wrongToken))
    }

    @Test func multiPlatformIndexPushedWithOurOwnCode() async throws {
        let a = try h["anonymous"].host
        let amdSecret = FakeSecret.githubToken(), armSecret = FakeSecret.npmToken()
        func spec(_ arch: String, _ variant: String?, _ file: String) -> ImageSpec {
            var s = ImageSpec(format: .oci, compression: "gzip", layers: [
                .init(files: [.init(path: "etc/base.conf", content: "shared base layer\n")]),
                .init(files: [.init(path: "app/token", content: file)]),
            ])
            s.architecture = arch
            s.variant = variant
            return s
        }
        let layout = try Run.tempDirectory() + "/multi"
        try ImageBuilder.buildMultiPlatform([spec("amd64", nil, amdSecret), spec("arm64", "v8", armSecret)], tag: "v1", at: layout)
        try await RegistryPusher.push(layout: layout, tag: "v1", to: a, repository: "multi/app")

        let arm = try scan(["\(a)/multi/app:v1", "--insecure-registry", a, "--platform", "linux/arm64"])
        #expect(arm.status == 1, "\(arm.stderr)")
        let armFindings = (try findings(arm.stdout))
        #expect(armFindings.count == 1 && armFindings.first!.hasPrefix("npm-access-token file 1 /app/token"), "\(armFindings)")

        let all = try scan(["\(a)/multi/app:v1", "--insecure-registry", a, "--platform", "all"])
        #expect(all.status == 1, "\(all.stderr)")
        let r = (try report(all.stdout))
        let images = r["images"] as? [[String: Any]] ?? []
        #expect(Set(images.compactMap { $0["platform"] as? String }) == ["linux/amd64", "linux/arm64/v8"])
        #expect((r["summary"] as? [String: Any])?["layers"] as? Int == 3, "the shared base layer is scanned once")

        let none = try scan(["\(a)/multi/app:v1", "--insecure-registry", a, "--platform", "linux/s390x"])
        #expect(none.status == 2)
        #expect(none.stderr.contains("linux/arm64/v8") && none.stderr.contains("linux/amd64"), "\(none.stderr)")
    }

    @Test func aBlobCorruptedOnTheRegistrysDiskFailsNamingTheDigest() throws {
        let a = try h["anonymous"].host
        let spec = ImageSpec(format: .docker25, compression: "none", layers: [
            .init(files: [.init(path: "x.txt", content: FakeSecret.random(100_000))])])
        let tar = try Run.tempDirectory() + "/corrupt.tar"
        try ImageBuilder.build(spec, at: tar)
        try h.push("docker-archive:\(tar)", to: "anonymous", as: "corrupt/app:v1")
        let ok = try scan(["\(a)/corrupt/app:v1", "--insecure-registry", a])
        let layerDigest = (((try report(ok.stdout))["images"] as? [[String: Any]])?.first?["layers"] as? [[String: Any]])?.first?["digest"] as? String
        #expect(ok.status == 0)
        try h.corrupt("anonymous", digest: layerDigest!)
        let bad = try scan(["\(a)/corrupt/app:v1", "--insecure-registry", a])
        #expect(bad.status == 2)
        // skopeo pushes the layer gzip-compressed: flipped bytes in the middle of the deflate data are caught as
        // corrupt data or as a CRC-32 or digest mismatch, depending on where they land; either way one line
        // names the blob.
        #expect(bad.stderr.contains(layerDigest!) && (bad.stderr.contains("mismatch") || bad.stderr.contains("corrupt data")),
                "\(bad.stderr)")
        #expect(bad.stderr.split(separator: "\n").count == 1, "\(bad.stderr)")
        #expect(!bad.stdout.contains("No secrets found"))
    }

    @Test func aRegistryAnswering429ThenOK() throws {
        let s = try h["ratelimit"]
        try h.push("docker-archive:\(planted.path)", to: "ratelimit", as: "limited/app:v1")
        try h.reset("ratelimit")
        let r = try scan(["\(s.host)/limited/app:v1", "--insecure-registry", s.host])
        #expect(r.status == 1, "\(r.stderr)")
        #expect((try findings(r.stdout)) == (try expected))
    }

    @Test func aConnectionDroppedMidBlobIsResumed() throws {
        let s = try h["dropper"]
        try h.push("docker-archive:\(planted.path)", to: "dropper", as: "dropped/app:v1")
        try h.reset("dropper")
        let r = try scan(["\(s.host)/dropped/app:v1", "--insecure-registry", s.host])
        #expect(r.status == 1, "\(r.stderr)")
        #expect((try findings(r.stdout)) == (try expected))
        let log = String(decoding: FileManager.default.contents(atPath: h.workdir + "/logs/dropper.log") ?? Data(), as: UTF8.self)
        #expect(log.contains("dropper: cut /v2/dropped/app/blobs/"), "the proxy should have cut a blob")
        #expect(log.contains("/v2/dropped/app/blobs/") && log.contains("HTTP/1.1\" 206"), "the resume should be a Range request")
    }

    @Test func aBlobRedirectToAnotherOriginCarriesNoAuthorization() throws {
        let s = try h["redirect"]
        try h.push("docker-archive:\(planted.path)", to: "redirect", as: "redirected/app:v1")
        let r = try scan(["\(s.host)/redirected/app:v1", "--insecure-registry", s.host, "--username", s.username!, "--password-stdin"],
                         stdin: s.password!)
        #expect(r.status == 1, "\(r.stderr)")
        #expect((try findings(r.stdout)) == (try expected))
        let log = String(decoding: FileManager.default.contents(atPath: h.workdir + "/logs/redirect.log") ?? Data(), as: UTF8.self)
        #expect(log.contains("storage: /v2/redirected/app/blobs/"), "blobs should have been fetched from the storage origin")
        #expect(!log.contains("authorization=present"), "Authorization must not follow a redirect to another origin")
    }

    @Test func aCutBlobRestartsWhenTheRegistryIgnoresRange() throws {
        let s = try h["norange"]
        try h.push("docker-archive:\(planted.path)", to: "norange", as: "norange/app:v1")
        try h.reset("norange")
        let r = try scan(["\(s.host)/norange/app:v1", "--insecure-registry", s.host])
        #expect(r.status == 1, "\(r.stderr)")
        #expect((try findings(r.stdout)) == (try expected))
        let log = String(decoding: FileManager.default.contents(atPath: h.workdir + "/logs/norange.log") ?? Data(), as: UTF8.self)
        #expect(log.contains("norange: cut /v2/norange/app/blobs/"), "the proxy should have cut a blob")
    }

    @Test func unknownRepositoryAndUnreachableRegistry() throws {
        let a = try h["anonymous"].host
        let missing = try scan(["\(a)/no/such:tag", "--insecure-registry", a])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("404") && missing.stderr.contains(a), "\(missing.stderr)")
        let down = try scan(["127.0.0.1:9/app:v1", "--insecure-registry", "127.0.0.1:9"])
        #expect(down.status == 2)
        #expect(down.stderr.contains("127.0.0.1:9"), "\(down.stderr)")
    }
}
