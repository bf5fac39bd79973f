import Discovery
import Foundation
import Testing

/// What `scan --fly-app` and the sweep's `[[fly]]` targets are refused with before any request: the token
/// look-up and the app name, in the wording both commands print.
struct FlyMachinesTests {
    @Test func theTokenIsTheNamedVariableThenFlyAccessToken() throws {
        #expect(try FlyMachines.token(env: "ACME_FLY", what: "org acme", environment: ["ACME_FLY": " fo1_a\n", "FLY_ACCESS_TOKEN": "fo1_b"]) == "fo1_a")
        #expect(try FlyMachines.token(env: "ACME_FLY", what: "org acme", environment: ["ACME_FLY": "", "FLY_ACCESS_TOKEN": "fo1_b"]) == "fo1_b")
    }

    @Test func noTokenIsOneLineNamingEveryVariableLookedAt() throws {
        let error = #expect(throws: DiscoveryError.self) {
            try FlyMachines.token(env: "FLY_API_TOKEN", what: "--fly-app web", environment: [:])
        }
        #expect(error == .missingToken(what: "--fly-app web", variables: ["FLY_API_TOKEN", "FLY_ACCESS_TOKEN"]))
        #expect(error?.description == "--fly-app web: no token in the environment (set FLY_API_TOKEN or FLY_ACCESS_TOKEN)")
    }

    /// A name that is not a Fly app name never reaches a URL path: refused before any request (the API address is
    /// a closed port, so a request would fail otherwise).
    @Test(arguments: ["../v1/orgs", "web?x=1", "Web", "", String(repeating: "a", count: 64)])
    func anAppNameThatIsNotOneIsRefusedBeforeAnyRequest(_ app: String) async throws {
        let api = FlyMachines(apiURL: "http://127.0.0.1:9/", token: "fo1_test")
        let error = await #expect(throws: DiscoveryError.self) { try await api.discover(app: app) }
        #expect(error == .fly(what: "app \(app.prefix(80))", url: "http://127.0.0.1:9", status: nil, message: "not a Fly app name"))
    }
}
