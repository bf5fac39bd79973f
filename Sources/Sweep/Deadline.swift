/// A bound on a whole exchange with a server that is not a registry (the Machines API, a webhook): its head and
/// every byte of its body. AsyncHTTPClient's own timeout ends at the head, so a server that sends its headers and
/// then drips its body would otherwise hold the sweep for as long as it likes.
enum Deadline {
    /// `body`'s result, or nil when `seconds` pass first (`body` is then cancelled, and its request with it).
    /// Throws what `body` throws, or `CancellationError` when the caller is cancelled (a stop request).
    static func within<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T? {
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
