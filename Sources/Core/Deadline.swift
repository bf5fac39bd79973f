/// A bound on a whole exchange with a server: its head and every byte of its body, or any other async work.
/// AsyncHTTPClient's own timeout ends at the head, so a server that sends its headers and then drips its body
/// would otherwise hold the caller for as long as it likes. The registry client (a manifest, config or token
/// answer whole), the Machines API client and the webhook all race their work against this one clock.
public enum Deadline {
    /// `body`'s result, or nil when `seconds` pass first (`body` is then cancelled, and its request with it).
    /// Throws what `body` throws, or `CancellationError` when the caller is cancelled (a stop request).
    public static func within<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T? {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1_000_000_000))
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }
}
