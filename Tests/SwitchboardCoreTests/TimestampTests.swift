import SwitchboardCore
import Testing

@Suite struct TimestampTests {
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", Int64(0)),
        ("2024-01-02T03:04:05Z", 1_704_164_645_000),
        ("2024-01-02T03:04:05.678Z", 1_704_164_645_678),
        ("2024-01-02T03:04:05.6789Z", 1_704_164_645_678),
        ("2024-01-02T03:04:05.6Z", 1_704_164_645_600),
        ("2024-01-02T05:04:05+02:00", 1_704_164_645_000),
        ("2024-01-01T22:04:05-05:00", 1_704_164_645_000),
        ("2024-01-02t03:04:05z", 1_704_164_645_000),
        ("2024-01-02", 1_704_153_600_000),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000),
        ("1969-12-31T23:59:59.999Z", -1),
    ])
    func parsesRFC3339AndBareDates(text: String, milliseconds: Int64) {
        #expect(Timestamp(rfc3339: text)?.millisecondsSinceEpoch == milliseconds)
    }

    @Test(arguments: [
        "", "2024", "2024-1-02", "2024-13-01", "2023-02-29", "2024-01-32", "2024-01-02T03:04:05",
        "2024-01-02T24:00:00Z", "2024-01-02T03:04:60Z", "2024-01-02T03:04:05.Z", "2024-01-02T03:04:05+0200",
        "2024-01-02T03:04:05Z ", "0000-01-01", "1704164645", "2024-01-02 03:04:05Z", "2024-01-02T03:04:05.1234567890Z",
        // Past 9999 or before 0001 once the offset is applied: refused, not stored as year 0000.
        "9999-12-31T23:59:59-23:59", "9999-12-31T23:00:00-01:00", "0001-01-01T00:00:00+00:01",
    ])
    func rejectsEverythingElse(_ text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test func roundsSubMillisecondFractionsUpOnlyWhenAsked() {
        #expect(
            Timestamp(rfc3339: "2024-01-02T03:04:05.0001Z", rounding: .up)?.millisecondsSinceEpoch == 1_704_164_645_001
        )
        #expect(
            Timestamp(rfc3339: "2024-01-02T03:04:05.0010Z", rounding: .up)?.millisecondsSinceEpoch == 1_704_164_645_001
        )
        #expect(Timestamp(rfc3339: "2024-01-02T03:04:05.0001Z")?.millisecondsSinceEpoch == 1_704_164_645_000)
    }

    @Test(arguments: [Int64(0), 1_704_164_645_678, -1, 253_402_300_799_999, 951_782_400_000])
    func formatsAsUTCWithMillisecondsAndParsesBack(_ milliseconds: Int64) {
        let time = Timestamp(millisecondsSinceEpoch: milliseconds)
        #expect(time.rfc3339.hasSuffix("Z"))
        #expect(time.rfc3339.count == 24)
        #expect(Timestamp(rfc3339: time.rfc3339) == time)
    }

    @Test func theYearBoundsHoldAfterTheOffset() throws {
        #expect(try #require(Timestamp(rfc3339: "9999-12-31T23:59:59.999Z")).rfc3339 == "9999-12-31T23:59:59.999Z")
        #expect(try #require(Timestamp(rfc3339: "9999-12-31T23:59:59+01:00")).rfc3339 == "9999-12-31T22:59:59.000Z")
        #expect(try #require(Timestamp(rfc3339: "0001-01-01T00:59:00+00:59")).rfc3339 == "0001-01-01T00:00:00.000Z")
    }

    @Test func formatsKnownInstants() {
        #expect(Timestamp(millisecondsSinceEpoch: 1_704_164_645_678).rfc3339 == "2024-01-02T03:04:05.678Z")
        #expect(Timestamp(millisecondsSinceEpoch: -1).rfc3339 == "1969-12-31T23:59:59.999Z")
    }
}
