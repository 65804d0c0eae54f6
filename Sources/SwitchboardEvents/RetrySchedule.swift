import Foundation
import SwitchboardCore

/// The waits between delivery attempts: `5s,5m,30m,2h` (units `s`, `m`, `h`, `d`). After the
/// first attempt fails, the n-th wait is taken before attempt n+1; when the list is spent, the
/// event has failed.
public struct RetrySchedule: Sendable, Equatable, CustomStringConvertible {
    /// Seconds to wait after each failure.
    public var waits: [Int64]

    /// Standard Webhooks' example schedule: 10 attempts over about 3 days.
    public static let standard = RetrySchedule(waits: [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400])

    /// The longest wait a `Retry-After` can ask for.
    public static let maximumRetryAfter: Int64 = 86_400

    public init(waits: [Int64]) { self.waits = waits }

    /// Parses `5s,5m,30m,2h,1d`; an empty list means a single attempt.
    public init(parsing text: String) throws(ValidationError) {
        var waits: [Int64] = []
        let parts =
            text.trimmingCharacters(in: .whitespaces).isEmpty
            ? [] : text.split(separator: ",", omittingEmptySubsequences: false)
        for part in parts {
            let item = part.trimmingCharacters(in: .whitespaces)
            guard let unit = item.last, let number = Int64(item.dropLast()), number >= 0 else {
                throw ValidationError(
                    field: "event-retry-schedule",
                    message: "\"\(item.prefix(32))\" is not a duration such as 5s, 5m, 2h or 1d"
                )
            }
            let seconds: Int64? =
                switch unit {
                case "s": number
                case "m": number.multipliedReportingOverflow(by: 60).overflow ? nil : number * 60
                case "h": number.multipliedReportingOverflow(by: 3600).overflow ? nil : number * 3600
                case "d": number.multipliedReportingOverflow(by: 86400).overflow ? nil : number * 86400
                default: nil
                }
            guard let seconds, seconds <= 30 * 86400 else {
                throw ValidationError(
                    field: "event-retry-schedule",
                    message: "\"\(item.prefix(32))\" is not a duration of at most 30 days such as 5s, 5m, 2h or 1d"
                )
            }
            waits.append(seconds)
        }
        self.waits = waits
    }

    public var description: String {
        waits.map { seconds in
            if seconds > 0, seconds % 86400 == 0 { return "\(seconds / 86400)d" }
            if seconds > 0, seconds % 3600 == 0 { return "\(seconds / 3600)h" }
            if seconds > 0, seconds % 60 == 0 { return "\(seconds / 60)m" }
            return "\(seconds)s"
        }.joined(separator: ",")
    }

    /// When to try again after the `failures`-th consecutive failure (1 for the first), with
    /// ±10% jitter, or nil when the schedule is spent. A `retryAfter` the receiver asked for wins
    /// when it is longer, up to a day.
    public func next(
        afterFailures failures: Int,
        retryAfter: Int64?,
        at time: Timestamp,
        jitter: Double = Double.random(in: -0.1...0.1)
    ) -> Timestamp? {
        guard failures >= 1, failures <= waits.count else { return nil }
        let base = Double(waits[failures - 1]) * 1000
        var milliseconds = Int64(base * (1 + jitter))
        if let retryAfter { milliseconds = max(milliseconds, min(retryAfter, Self.maximumRetryAfter) * 1000) }
        return Timestamp(millisecondsSinceEpoch: time.millisecondsSinceEpoch + max(0, milliseconds))
    }
}
