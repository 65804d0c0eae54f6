import Foundation

/// A point in time with millisecond precision, stored as milliseconds since the Unix epoch (UTC).
///
/// Formatting and parsing are written out (Howard Hinnant's civil-date algorithms) because a list
/// response formats hundreds of timestamps and Foundation's ISO 8601 formatters dominated that cost.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) { self.millisecondsSinceEpoch = millisecondsSinceEpoch }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    public var description: String { rfc3339 }

    /// `YYYY-MM-DDTHH:MM:SS.sssZ`, always in UTC.
    public var rfc3339: String {
        // Written in place: this runs twice per row of every list page.
        String(unsafeUninitializedCapacity: Self.rfc3339Length) { out in
            Self.writeRFC3339(millisecondsSinceEpoch, into: out.baseAddress!)
            return Self.rfc3339Length
        }
    }

    static let rfc3339Length = 24

    /// Writes `rfc3339`'s `rfc3339Length` bytes at `out` (JSON output of stored rows).
    static func writeRFC3339(_ ms: Int64, into out: UnsafeMutablePointer<UInt8>) {
        let days = floorDiv(ms, 86_400_000)
        let msOfDay = ms - days * 86_400_000
        let (year, month, day) = civil(fromDays: days)
        func put(_ value: Int64, width: Int, at offset: Int) {
            var v = value
            for i in stride(from: offset + width - 1, through: offset, by: -1) {
                out[i] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: v % 10)
                v /= 10
            }
        }
        put(year, width: 4, at: 0)
        out[4] = UInt8(ascii: "-")
        put(month, width: 2, at: 5)
        out[7] = UInt8(ascii: "-")
        put(day, width: 2, at: 8)
        out[10] = UInt8(ascii: "T")
        put(msOfDay / 3_600_000, width: 2, at: 11)
        out[13] = UInt8(ascii: ":")
        put(msOfDay / 60_000 % 60, width: 2, at: 14)
        out[16] = UInt8(ascii: ":")
        put(msOfDay / 1000 % 60, width: 2, at: 17)
        out[19] = UInt8(ascii: ".")
        put(msOfDay % 1000, width: 3, at: 20)
        out[23] = UInt8(ascii: "Z")
    }

    /// How a parsed value with sub-millisecond digits is brought to millisecond precision.
    public enum Rounding: Sendable { case down, up }

    /// Parses RFC 3339 (`Z` or `±hh:mm`, optional fraction) or a bare `YYYY-MM-DD` (midnight UTC).
    /// Years are limited to 0001...9999, also after the offset is applied (`9999-12-31T23:59:59-23:59`
    /// is past 9999 in UTC). Returns nil for anything else.
    public init?(rfc3339 text: String, rounding: Rounding = .down) {
        let b = Array(text.utf8)
        func digits(_ start: Int, _ count: Int) -> Int64? {
            guard start + count <= b.count else { return nil }
            var value: Int64 = 0
            for i in start..<(start + count) {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                value = value * 10 + Int64(b[i] - 0x30)
            }
            return value
        }
        guard b.count >= 10, let year = digits(0, 4), b[4] == UInt8(ascii: "-"), let month = digits(5, 2),
            b[7] == UInt8(ascii: "-"), let day = digits(8, 2),
            year >= 1, (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year)
        else { return nil }
        let dayNumber = Self.days(fromCivil: year, month, day)
        if b.count == 10 {
            millisecondsSinceEpoch = dayNumber * 86_400_000
            return
        }
        guard b.count >= 20, b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
            let hour = digits(11, 2), b[13] == UInt8(ascii: ":"), let minute = digits(14, 2),
            b[16] == UInt8(ascii: ":"), let second = digits(17, 2),
            hour <= 23, minute <= 59, second <= 59
        else { return nil }
        var i = 19
        var millis: Int64 = 0
        if b[i] == UInt8(ascii: ".") {
            i += 1
            let fractionStart = i
            var exceedsMillis = false
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                let position = i - fractionStart
                if position < 3 {
                    millis = millis * 10 + Int64(b[i] - 0x30)
                } else if b[i] != UInt8(ascii: "0") {
                    exceedsMillis = true
                }
                i += 1
            }
            let count = i - fractionStart
            guard count >= 1, count <= 9 else { return nil }
            if count < 3 { for _ in count..<3 { millis *= 10 } }
            if exceedsMillis && rounding == .up { millis += 1 }
        }
        guard i < b.count else { return nil }
        var offsetMinutes: Int64 = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            guard i + 1 == b.count else { return nil }
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard i + 6 == b.count, let oh = digits(i + 1, 2), b[i + 3] == UInt8(ascii: ":"), let om = digits(i + 4, 2),
                oh <= 23, om <= 59
            else { return nil }
            offsetMinutes = (oh * 60 + om) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return nil
        }
        let secondsOfDay = hour * 3600 + minute * 60 + second - offsetMinutes * 60
        let instant = (dayNumber * 86_400 + secondsOfDay) * 1000 + millis
        // The offset can carry a time written in year 9999 (or 0001) past the years this type
        // writes back: such an instant is refused, not stored as one it would print wrongly.
        guard Self.representable.contains(instant) else { return nil }
        millisecondsSinceEpoch = instant
    }

    /// 0001-01-01T00:00:00.000Z through 9999-12-31T23:59:59.999Z, in milliseconds since the epoch.
    static let representable: ClosedRange<Int64> =
        Self.days(fromCivil: 1, 1, 1) * 86_400_000...(Self.days(fromCivil: 9999, 12, 31) + 1) * 86_400_000 - 1

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (month <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, month, day)
    }
}

private func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    a >= 0 ? a / b : -((-a + b - 1) / b)
}

extension Timestamp {
    /// The current wall-clock time.
    /// This instant moved by whole seconds (negative for earlier).
    public func adding(seconds: Int64) -> Timestamp {
        Timestamp(millisecondsSinceEpoch: millisecondsSinceEpoch + seconds * 1000)
    }

    public static func now() -> Timestamp {
        Timestamp(millisecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }
}
