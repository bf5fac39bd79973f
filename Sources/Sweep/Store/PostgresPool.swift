import Foundation
import PostgresNIO

/// A few PostgreSQL connections shared by the tasks of one process, opened on demand. Connecting is this
/// pool's own business (not postgres-nio's pool), so a refused password or an unreachable server fails the
/// first request at once instead of being retried in the background while callers wait.
actor PostgresPool {
    private let configuration: PostgresConnection.Configuration
    private let maximum: Int
    private let logger: Logger
    private var idle: [PostgresConnection] = []
    private var open = 0
    private var nextID = 0
    private var waiting: [CheckedContinuation<PostgresConnection?, Never>] = []

    init(configuration: PostgresConnection.Configuration, maximum: Int, logger: Logger) {
        self.configuration = configuration
        self.maximum = maximum
        self.logger = logger
    }

    deinit {
        // A connection must be closed before it is freed: a task of its own keeps the idle ones until they are.
        let left = idle
        if !left.isEmpty {
            Task { for c in left { try? await c.close() } }
        }
    }

    /// Closes every idle connection (the process is done with the store).
    func close() async {
        let left = idle
        idle = []
        open -= left.count
        for c in left { try? await c.close() }
    }

    /// Runs `body` with a connection of its own; a connection that broke is dropped, not handed out again.
    func with<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let c = try await lease()
        do {
            let r = try await body(c)
            give(c)
            return r
        } catch {
            give(c)
            throw error
        }
    }

    private func lease() async throws -> PostgresConnection {
        while let c = idle.popLast() {
            if !c.isClosed { return c }
            open -= 1
        }
        if open < maximum {
            open += 1
            nextID += 1
            do {
                return try await PostgresConnection.connect(configuration: configuration, id: nextID, logger: logger)
            } catch {
                open -= 1
                wakeOne()
                throw error
            }
        }
        if let c = await withCheckedContinuation({ waiting.append($0) }) { return c }
        return try await lease()
    }

    private func give(_ c: PostgresConnection) {
        if c.isClosed {
            open -= 1
            wakeOne()
        } else if !waiting.isEmpty {
            waiting.removeFirst().resume(returning: c)
        } else {
            idle.append(c)
        }
    }

    /// A slot freed without a connection: the first waiter tries to open one itself.
    private func wakeOne() {
        if !waiting.isEmpty { waiting.removeFirst().resume(returning: nil) }
    }

    /// One line for a PostgreSQL error: the server's own message when it sent one (never the password: the
    /// server does not echo it, and nothing here quotes the configuration), else the failure's kind.
    nonisolated static func reason(_ error: Error) -> String {
        if let e = error as? PSQLError {
            if let message = e.serverInfo?[.message] {
                let code = e.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return message + code
            }
            if e.code == .connectionError, let underlying = e.underlying { return "cannot connect: \(underlying)" }
            if let underlying = e.underlying { return "\(e.code): \(underlying)" }
            return "\(e.code)"
        }
        return "\(error)"
    }
}
