import Testing

@testable import SwitchboardServer

@Suite struct RequestLogTests {
    /// The request log's `duration_ms`: two decimals, rounded, as `%.2f` wrote it.
    @Test(arguments: [
        (Duration.zero, "0.00"), (.microseconds(4), "0.00"), (.microseconds(5), "0.01"), (.microseconds(90), "0.09"),
        (.microseconds(1_234), "1.23"), (.microseconds(12_056), "12.06"), (.milliseconds(100), "100.00"),
        (.seconds(61), "61000.00"),
    ])
    func durationInMilliseconds(_ duration: Duration, _ expected: String) {
        #expect(RequestLogMiddleware.milliseconds(duration) == expected)
    }
}
