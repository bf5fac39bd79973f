import Foundation
import Synchronization
import Testing
@testable import OCI

/// Registry and token-server text loses every credential before it reaches a message.
@Suite struct RedactorTests {
    @Test func basicCredentialsInEveryFormAreRedacted() {
        let password = "s3cr3t/pass+word=" + UUID().uuidString
        var r = Redactor()
        r.add(Credential(kind: .basic(username: "alice", password: password), source: "test"))
        let b64 = Data("alice:\(password)".utf8).base64EncodedString()
        let encoded = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let text = "bad: Authorization: Basic \(b64) (alice:\(password)) form password=\(encoded) raw \(password)"
        let clean = r.clean(text)
        for secret in [password, b64, "alice:\(password)", encoded] {
            #expect(!clean.contains(secret), "\(clean)")
        }
        #expect(clean.contains("[redacted]") && clean.hasPrefix("bad: Authorization: Basic"))
    }

    @Test func authorizationValuesAndTokensAreRedacted() {
        let token = "tok_" + UUID().uuidString
        var r = Redactor()
        r.add(authorization: "Bearer \(token)")
        #expect(r.clean("you sent Bearer \(token)") == "you sent [redacted]")
        #expect(r.clean("token \(token) expired") == "token [redacted] expired")
    }

    @Test func aMessageHoldingAShortSecretIsDropped() {
        var r = Redactor()
        r.add(Credential(kind: .basic(username: "u", password: "abc"), source: "test"))
        #expect(r.clean("echo: abc") == "")
        #expect(r.clean("nothing here") == "nothing here")
    }

    @Test func messagesAreOneBoundedLine() {
        let r = Redactor()
        #expect(r.clean("first\nsecond\r\n\tthird") == "first second third")
        let long = r.clean(String(repeating: "x", count: 5000))
        #expect(long.count == Redactor.longest && long.hasSuffix("…"))
    }

    @Test func errorBodiesAreReadAsJSONOrText() {
        let json = #"{"errors":[{"code":"DENIED","message":"no"},{"code":"X"}]}"#
        #expect(RegistryClient.errorText(Data(json.utf8)) == "DENIED: no; X")
        #expect(RegistryClient.errorText(Data(#"{"error":"invalid_grant","error_description":"bad"}"#.utf8)) == "invalid_grant: bad")
        #expect(RegistryClient.errorText(Data("<html>oops</html>".utf8)) == "<html>oops</html>")
    }
}

/// Credential lookups run off the `AuthState` actor, one per host.
@Suite struct AuthStateTests {
    @Test(.timeLimit(.minutes(1))) func aBlockingLookupHoldsUpOnlyItsOwnHost() async throws {
        let state = AuthState(explicit: nil)
        let (gate, open) = AsyncStream<Void>.makeStream()
        let slow = Task { try await state.credential("slow.example") { for await _ in gate { break }; return nil } }
        // While "slow.example" is still waiting, another host's lookup completes.
        let fast = try await state.credential("fast.example") { Credential(kind: .registryToken("t"), source: "fast") }
        #expect(fast?.source == "fast")
        open.yield()
        open.finish()
        #expect(try await slow.value == nil)
    }

    @Test func aHostIsResolvedOnce() async throws {
        let state = AuthState(explicit: nil)
        let count = Counter()
        for _ in 0..<3 {
            _ = try await state.credential("once.example") { count.increment(); return nil }
        }
        #expect(count.value == 1)
    }
}

/// A thread-safe counter for the closures above.
final class Counter: Sendable {
    private let storage = Mutex(0)
    func increment() { storage.withLock { $0 += 1 } }
    var value: Int { storage.withLock { $0 } }
}
