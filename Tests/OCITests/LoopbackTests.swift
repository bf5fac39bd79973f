import OCI
import Testing

/// Which registry hosts may use plain HTTP without --insecure-registry: loopback by its spelling only.
@Suite struct LoopbackTests {
    @Test(arguments: [
        ("localhost", true), ("localhost:5000", true), ("LOCALHOST:5000", true), ("127.0.0.1", true), ("127.0.0.1:5000", true),
        ("127.255.3.4:443", true), ("[::1]:5000", true), ("[::1]", true),
        ("128.0.0.1:5000", false), ("10.0.0.1", false), ("localhost.example.com", false), ("127.0.0.1.example.com:5000", false),
        ("127.0.0", false), ("127.0.0.256", false), ("127.0.0.1a", false), ("registry.fly.io", false), ("[::2]:5000", false),
        ("mylocalhost:5000", false), ("", false),
    ])
    func loopback(host: String, expected: Bool) {
        #expect(RegistryClient.isLoopback(host) == expected, "\(host)")
    }
}
