import Foundation
import Testing
@testable import OCI

/// The retry policy without a network: `Retry-After` in both forms, the cap, jitter bounds, attempts, deadline.
@Suite struct RetryPolicyTests {
    /// 2015-10-21 07:28:00 GMT.
    static let now = Date(timeIntervalSince1970: 1_445_412_480)

    @Test(arguments: [
        ("120", 120.0),
        (" 3 ", 3.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
        ("Wednesday, 21-Oct-15 07:28:10 GMT", 10.0),
        ("Wed Oct 21 07:28:10 2015", 10.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
    ] as [(String, Double)])
    func retryAfterParses(value: String, seconds: Double) {
        #expect(RetryPolicy.retryAfter(value, now: Self.now) == seconds)
    }

    @Test(arguments: ["", "soon", "-5", "1e3", "Wed, 32 Oct 2015 07:28:10 GMT"])
    func retryAfterRefuses(value: String) {
        #expect(RetryPolicy.retryAfter(value, now: Self.now) == nil)
    }

    @Test func retryAfterIsHonouredUpToTheCap() {
        let p = RetryPolicy()
        #expect(p.delay(after: 1, retryAfter: 2, unit: 0.9) == 2)
        #expect(p.delay(after: 1, retryAfter: 3600, unit: 0.9) == p.maxDelay)
        #expect(p.delay(after: 1, retryAfter: 0, unit: 0.9) == 0)
    }

    @Test func backoffDoublesWithJitterWithinBoundsAndIsCapped() {
        let p = RetryPolicy()
        for attempt in 1...8 {
            let ceiling = min(p.maxDelay, p.baseDelay * pow(2, Double(attempt - 1)))
            #expect(p.delay(after: attempt, retryAfter: nil, unit: 0) == ceiling / 2)
            #expect(abs(p.delay(after: attempt, retryAfter: nil, unit: 0.999_999) - ceiling) < 1e-4)
            for _ in 0..<200 {
                let d = p.delay(after: attempt, retryAfter: nil, unit: Double.random(in: 0..<1))
                #expect(d >= ceiling / 2 && d <= ceiling)
            }
        }
        #expect(p.delay(after: 3, retryAfter: nil, unit: 0) == 2)
        #expect(p.delay(after: 20, retryAfter: nil, unit: 0.999_999) <= p.maxDelay)
    }

    @Test func fiveAttemptsThenStop() {
        let p = RetryPolicy()
        #expect(p.maxAttempts == 5)
        for attempt in 1..<5 {
            guard case .retry = p.decide(after: attempt, elapsed: 0, retryAfter: nil, unit: 0.5) else {
                Issue.record("attempt \(attempt) should be retried")
                continue
            }
        }
        #expect(p.decide(after: 5, elapsed: 0, retryAfter: nil, unit: 0.5) == .outOfAttempts)
    }

    @Test func noWaitEndsPastTheDeadline() {
        let p = RetryPolicy()
        #expect(p.decide(after: 1, elapsed: 119.5, retryAfter: 1, unit: 0) == .pastDeadline)
        #expect(p.decide(after: 1, elapsed: 100, retryAfter: 1, unit: 0) == .retry(after: 1))
    }

    @Test func theDefaultsGiveUpWellWithinAMinute() {
        // The longest a registry answering 503 with a huge Retry-After can keep us: four capped waits.
        let p = RetryPolicy()
        let worst = (1..<p.maxAttempts).map { p.delay(after: $0, retryAfter: 1e9, unit: 0.999_999) }.reduce(0, +)
        #expect(worst <= 40 && worst < p.deadline)
    }

    @Test func scalingFollowsTheTimeout() {
        let p = RetryPolicy(scaledTo: 2)
        #expect(p.maxAttempts == 5)
        #expect(p.deadline == 8)
        #expect(abs(p.maxDelay - 2.0 / 3) < 1e-9 && abs(p.baseDelay - 2.0 / 30) < 1e-9)
        #expect(RetryPolicy(scaledTo: 30) == RetryPolicy())
        var options = RegistryOptions()
        options.setTimeout(2)
        #expect(options.timeouts == RegistryTimeouts(all: 2) && options.credentials.helperTimeout == 2)
    }
}
