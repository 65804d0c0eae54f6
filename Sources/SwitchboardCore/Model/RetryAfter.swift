import Foundation

/// An HTTP `Retry-After` value (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, as seconds from
/// `now` (never negative); nil when it is neither. Token endpoints and event webhook receivers
/// both send it.
public enum RetryAfter {
    public static func seconds(_ header: String, now: Date = Date()) -> Int64? {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        if let seconds = Int64(trimmed) { return max(0, seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return max(0, Int64(date.timeIntervalSince(now).rounded(.up)))
    }
}
