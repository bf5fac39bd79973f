import Foundation

/// When a registry operation is tried again: how many attempts, how long to wait between them (exponential
/// backoff with jitter, or the registry's `Retry-After`, both capped), and how long retrying may go on in all.
///
/// Retried: 429, 500, 502, 503, 504 and connections lost before the answer was whole. Not retried: timeouts
/// (a registry silent for the whole bound is unlikely to answer the next attempt, and retrying would multiply
/// the wait), other statuses, oversized documents.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts per operation, the first included.
    public var maxAttempts = 5
    /// The backoff before the second attempt; it doubles for each further one.
    public var baseDelay = 1.0
    /// The longest single wait, from backoff or from `Retry-After` alike.
    public var maxDelay = 10.0
    /// Seconds an operation may spend retrying, from its first attempt (for a blob: from the last byte received).
    public var deadline = 120.0

    /// Statuses that mean "try again later".
    public static let retryableStatuses: Set<Int> = [429, 500, 502, 503, 504]

    /// The defaults.
    public init() {}

    /// A policy whose waits scale with `timeout` (the CLI's `--timeout`): backoff from timeout/30 capped at
    /// timeout/3, and retrying for at most 4 × timeout. At the default 30 s: 1 s doubling to 10 s, 120 s in all.
    public init(scaledTo timeout: Double) {
        baseDelay = timeout / 30
        maxDelay = timeout / 3
        deadline = timeout * 4
    }

    /// What to do after attempt `attempt` failed in a way worth retrying.
    public enum Decision: Sendable, Equatable {
        /// Wait this many seconds, then try again.
        case retry(after: Double)
        /// Out of attempts.
        case outOfAttempts
        /// The wait would end past the operation's deadline.
        case pastDeadline
    }

    /// The wait before the attempt after `attempt` (1-based): the registry's `Retry-After` if it sent one, else
    /// "equal jitter" backoff, a random point in [d/2, d] for d = baseDelay × 2^(attempt-1); capped at `maxDelay`.
    /// `unit` is a random number in [0, 1).
    public func delay(after attempt: Int, retryAfter: Double?, unit: Double) -> Double {
        if let retryAfter { return min(max(retryAfter, 0), maxDelay) }
        let ceiling = min(maxDelay, baseDelay * pow(2, Double(max(attempt, 1) - 1)))
        return ceiling / 2 + ceiling / 2 * min(max(unit, 0), 1)
    }

    /// Whether to try again after attempt `attempt` failed, `elapsed` seconds into the operation.
    public func decide(after attempt: Int, elapsed: Double, retryAfter: Double?,
                       unit: Double = Double.random(in: 0..<1)) -> Decision {
        guard attempt < maxAttempts else { return .outOfAttempts }
        let wait = delay(after: attempt, retryAfter: retryAfter, unit: unit)
        guard elapsed + wait < deadline else { return .pastDeadline }
        return .retry(after: wait)
    }

    /// Seconds from `now` that a `Retry-After` value asks for: delta-seconds, or an HTTP date (IMF-fixdate,
    /// or the obsolete RFC 850 and asctime forms, RFC 9110 §5.6.7); a date in the past is 0; nil if unreadable.
    public static func retryAfter(_ value: String, now: Date = Date()) -> Double? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let seconds = Double(text) {
            return seconds
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return max(0, date.timeIntervalSince(now)) }
        }
        return nil
    }
}

/// How long the client waits on a registry before giving up; seconds.
public struct RegistryTimeouts: Sendable, Equatable {
    /// To open a connection (TCP and TLS).
    public var connect = 30.0
    /// The longest silence: from a request sent to the first byte of its answer, and between bytes of a blob.
    public var silence = 30.0
    /// A manifest, index, config, token answer or the ping, from the request sent to the last byte.
    public var document = 30.0
    /// A `docker-credential-*` helper's answer.
    public var helper = 30.0

    /// The defaults.
    public init() {}

    /// Every bound set to `seconds` (the CLI's `--timeout`).
    public init(all seconds: Double) {
        connect = seconds
        silence = seconds
        document = seconds
        helper = seconds
    }
}

/// Size bounds on what a registry sends; bytes.
public struct RegistryLimits: Sendable, Equatable {
    /// A manifest or index (the distribution spec asks registries to accept at least 4 MiB).
    public var manifest = 4 << 20
    /// An image config.
    public var config = 16 << 20
    /// A token server's answer.
    public var token = 1 << 20
    /// What is read of an error answer's body.
    public var errorBody = 16 << 10
    /// Redirects followed per request.
    public var redirects = 8

    /// The defaults.
    public init() {}
}
