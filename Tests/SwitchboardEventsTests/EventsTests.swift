import Foundation
import SwitchboardCore
import SwitchboardEvents
import Testing

@Suite struct WebhookSignatureTests {
    static let id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let timestamp: Int64 = 1_614_265_330
    static let body = Array(#"{"test": 2432232314}"#.utf8)

    /// The Standard Webhooks specification's example, and a second secret, as the reference
    /// Python library (`standardwebhooks`) signs them.
    @Test func signaturesMatchTheReferenceLibrary() {
        #expect(
            WebhookSignature.header(
                id: Self.id,
                timestamp: Self.timestamp,
                body: Self.body,
                secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
            ) == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        )
        // During a rotation: both, space-separated, the new secret's first.
        #expect(
            WebhookSignature.header(
                id: Self.id,
                timestamp: Self.timestamp,
                body: Self.body,
                secrets: ["whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
            )
                == "v1,78nXHjpFP0tVJQW5D0SBwmVyyW87BV/rL6MgfM/Bw44= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        )
    }

    @Test func newSecretsAreWhsecWith32RandomBytes() throws {
        let a = WebhookSignature.newSecret()
        let b = WebhookSignature.newSecret()
        #expect(a != b)
        #expect(a.hasPrefix("whsec_"))
        #expect(Data(base64Encoded: String(a.dropFirst(6)))?.count == 32)
        #expect(WebhookSignature.key(of: "whsec_") == nil)
        #expect(WebhookSignature.key(of: "sk_abc") == nil)
    }
}

@Suite struct RetryScheduleTests {
    @Test func parsesUnitsAndPrintsThemBack() throws {
        let schedule = try RetrySchedule(parsing: "5s, 5m,30m,2h,1d")
        #expect(schedule.waits == [5, 300, 1800, 7200, 86400])
        #expect(schedule.description == "5s,5m,30m,2h,1d")
        #expect(RetrySchedule.standard.description == "5s,5m,30m,2h,5h,10h,14h,20h,1d")
        #expect(RetrySchedule.standard.waits.reduce(0, +) > 3 * 86_400 - 86_400)
        #expect(try RetrySchedule(parsing: "").waits.isEmpty)
    }

    @Test(arguments: ["5", "5x", "-1s", "s", "31d", "5s,,1m", "99999999999999999999h"])
    func refusesWhatIsNotADuration(_ text: String) {
        #expect(throws: ValidationError.self) { try RetrySchedule(parsing: text) }
    }

    @Test func theNthFailureWaitsTheNthDurationWithJitterUntilSpent() {
        let schedule = RetrySchedule(waits: [10, 60])
        let t = Timestamp(millisecondsSinceEpoch: 1_000_000)
        #expect(schedule.next(afterFailures: 1, retryAfter: nil, at: t, jitter: 0)?.millisecondsSinceEpoch == 1_010_000)
        #expect(
            schedule.next(afterFailures: 1, retryAfter: nil, at: t, jitter: 0.1)?.millisecondsSinceEpoch == 1_011_000
        )
        #expect(
            schedule.next(afterFailures: 2, retryAfter: nil, at: t, jitter: -0.1)?.millisecondsSinceEpoch == 1_054_000
        )
        #expect(schedule.next(afterFailures: 3, retryAfter: nil, at: t, jitter: 0) == nil)
        // A longer Retry-After wins, capped at a day; a shorter one does not shorten the wait.
        #expect(schedule.next(afterFailures: 1, retryAfter: 120, at: t, jitter: 0)?.millisecondsSinceEpoch == 1_120_000)
        #expect(schedule.next(afterFailures: 1, retryAfter: 1, at: t, jitter: 0)?.millisecondsSinceEpoch == 1_010_000)
        #expect(
            schedule.next(afterFailures: 1, retryAfter: 10_000_000, at: t, jitter: 0)
                == Timestamp(millisecondsSinceEpoch: 1_000_000 + 86_400_000)
        )
    }

    @Test func retryAfterIsSecondsOrAnHTTPDate() {
        #expect(RetryAfter.seconds("120") == 120)
        #expect(RetryAfter.seconds(" 7 ") == 7)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(RetryAfter.seconds("Tue, 14 Nov 2023 22:12:20 GMT", now: now) == 0)
        #expect(RetryAfter.seconds("Tue, 14 Nov 2023 22:14:20 GMT", now: now) == 60)
        #expect(RetryAfter.seconds("soon") == nil)
    }
}
