import Foundation
import OCI
import Reports
import Scan
import Sweep
import Testing
import TestSupport

/// The config: what each table means, and a one-line error naming the file and key for every mistake.
struct SweepConfigTests {
    @Test func aFullConfigReadsAsWritten() throws {
        let c = try SweepConfig(toml: """
            rules = "rules.toml"
            [[registry]]
            host = "registry.example.com:5000"
            insecure = true
            ca_file = "ca.pem"
            username = "ci"
            password_env = "REGISTRY_PASSWORD"

            [[target]]
            registry = "registry.example.com:5000"
            repositories = ["team/*"]
            tags = ["v*", "prod"]
            newest = 5
            platforms = ["linux/amd64"]
            page_size = 2

            [[target]]
            image = "registry.example.com:5000/team/api:prod"

            [[fly]]
            org = "my-org"
            """, path: "/etc/stowaway/sweep.toml")
        #expect(c.rules == "/etc/stowaway/rules.toml")
        let r = try #require(c.registries.first)
        #expect(c.registries.count == 1)
        #expect(r.host == "registry.example.com:5000" && r.insecure && r.caFile == "/etc/stowaway/ca.pem")
        #expect(r.username == "ci" && r.passwordEnv == "REGISTRY_PASSWORD")
        #expect(c.targets.count == 2)
        guard case .repositories(let t) = c.targets[0], case .image(let i) = c.targets[1] else {
            Issue.record("targets in the wrong shape")
            return
        }
        #expect(t.registry == "registry.example.com:5000")
        #expect(t.repositories?.map(\.pattern) == ["team/*"])
        #expect(t.newest == 5 && t.pageSize == 2)
        #expect(t.platforms == [try PlatformChoice("linux/amd64")])
        let matches = t.tags.matcher()
        #expect(matches("v1.2") && matches("prod") && !matches("dev"))
        #expect(i.reference.repository == "team/api" && i.platforms == [.all])
        let f = try #require(c.fly.first)
        #expect(f.org == "my-org" && f.apiURL == "https://api.machines.dev" && f.tokenEnv == "FLY_API_TOKEN" && f.platforms == [.all])
    }

    @Test func tagRegexMatchesWholeTags() throws {
        let c = try SweepConfig(toml: """
            [[target]]
            registry = "r.example"
            tag_regex = "v[0-9]+"
            """, path: "s.toml")
        guard case .repositories(let t) = c.targets[0] else {
            Issue.record("not a repository target")
            return
        }
        let m = t.tags.matcher()
        #expect(m("v12"))
        #expect(!m("v12-rc") && !m("xv1"))
    }

    static let mistakes: [(String, String)] = [
        ("[[target]]\nregistry = \"r.example\"\nnewest = 0\n", "s.toml: target[1].newest: must be a positive integer"),
        ("[[target]]\nregistry = \"r.example\"\nnewest = \"5\"\n", "s.toml: target[1].newest: must be an integer"),
        ("[[target]]\nregistry = \"r.example\"\nrepository = [\"a\"]\n", "s.toml: target[1].repository: unknown key"),
        ("[[target]]\nregistry = \"r.example\"\ntags = [\"*\"]\ntag_regex = \".*\"\n", "s.toml: target[1].tag_regex: give tags or tag_regex"),
        ("[[target]]\nregistry = \"r.example\"\ntag_regex = \"(\"\n", "s.toml: target[1].tag_regex: not a regular expression"),
        ("[[target]]\nimage = \"UPPER/Case\"\n", "s.toml: target[1].image:"),
        ("[[target]]\ntags = [\"*\"]\n", "s.toml: target[1]: needs image = \"REFERENCE\" or registry"),
        ("[[target]]\nregistry = \"r.example\"\nplatforms = [\"linux\"]\n", "s.toml: target[1].platforms: linux: expected os/arch"),
        ("[[registry]]\nhost = \"r.example\"\nusername = \"ci\"\n[[target]]\nimage = \"a\"\n", "s.toml: registry[1].password_env: required"),
        ("[[registry]]\nhost = \"a\"\n[[registry]]\nhost = \"a\"\n", "s.toml: registry[2].host: a is configured twice"),
        ("[[fly]]\norg = \"o\"\napi_url = \"ftp://x\"\n", "s.toml: fly[1].api_url: not an http(s) URL"),
        ("target = 3\n", "s.toml: target: must be tables"),
        ("[[target]]\nregistry = \n", "s.toml: line 2: invalid TOML"),
        ("", "s.toml: target: nothing to sweep"),
        ("colour = \"blue\"\n[[target]]\nimage = \"a\"\n", "s.toml: colour: unknown key"),
    ]

    @Test(arguments: mistakes) func mistakesAreOneLineNamingFileAndKey(_ toml: String, _ expected: String) {
        do {
            _ = try SweepConfig(toml: toml, path: "s.toml")
            Issue.record("accepted: \(toml)")
        } catch {
            let message = "\(error)"
            #expect(message.hasPrefix(expected), "\(message)")
            #expect(!message.contains("\n"))
        }
    }

    @Test func aMissingFileIsNamed() {
        #expect(throws: SweepError.unreadableConfig(path: "/nonexistent/sweep.toml", reason: "no such file")) {
            try SweepConfig(path: "/nonexistent/sweep.toml")
        }
    }

    /// A registry password the config names but the environment lacks fails the run before it starts, in the
    /// words a missing Fly token gets, naming the config, the host and the variable; nothing is reported.
    @Test func aMissingRegistryPasswordIsOneLineNamingTheVariable() throws {
        let run = try SweepRun()
        try run.write("""
            [[registry]]
            host = "127.0.0.1:9"
            insecure = true
            username = "ci"
            password_env = "STOWAWAY_TEST_UNSET_PASSWORD"

            [[target]]
            image = "127.0.0.1:9/team/api:prod"
            """)
        let r = try run.sweep()
        #expect(r.status == 2)
        #expect(r.report.isEmpty)
        #expect(r.stderr.trimmingCharacters(in: .newlines)
                == "stowaway: \(run.config): registry 127.0.0.1:9: no token in the environment (set STOWAWAY_TEST_UNSET_PASSWORD)")
    }

    /// A bad STOWAWAY_CONFIDENCE is a usage error for the sweep as for `scan`: exit 64 naming the value, before
    /// the config or the store is read (it was exit 2, after the store's own error, for `sweep report`).
    @Test func aBadConfidenceInTheEnvironmentIsAUsageError() throws {
        let run = try SweepRun()
        for args in [["sweep", "--config", run.config, "--db", run.db], ["sweep", "report", "--db", run.db]] {
            let r = try Run.command(Run.stowaway, args, environment: run.environment.merging(["STOWAWAY_CONFIDENCE": "sure"]) { $1 })
            #expect(r.status == 64, "\(args): \(r.stderr)")
            #expect(r.stderr.contains("STOWAWAY_CONFIDENCE='sure'"), "\(args): \(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
    }

    static let globs: [(String, String, Bool)] = [
        ("team/*", "team/api", true), ("team/*", "team/a/b", true), ("team/*", "teams/api", false),
        ("*", "anything/at/all", true), ("v?", "v1", true), ("v?", "v10", false), ("*-prod", "api-prod", true),
        ("*-prod", "api-prod-2", false), ("a*b*c", "aXbYc", true), ("a*b*c", "aXbY", false), ("exact", "exact", true),
    ]

    @Test(arguments: globs) func globsMatchWholeNames(_ pattern: String, _ name: String, _ expected: Bool) throws {
        #expect(try Glob(pattern).matches(name) == expected)
    }
}
