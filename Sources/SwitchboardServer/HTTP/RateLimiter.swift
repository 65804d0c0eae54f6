import Foundation
import Synchronization

/// Counts events per key (a client address, a workspace) in fixed windows. A key that reaches
/// `limit` events within `window` is over the limit until its window ends. Used for failed
/// authentications (only failures count: a valid key is never refused) and for anonymous
/// authorize-URL calls.
///
/// Per process: with several replicas a key gets `limit` events per replica and window.
final class RateLimiter: Sendable {
    private struct Entry {
        var windowStart: ContinuousClock.Instant
        var failures: Int
    }

    let limit: Int
    let window: Duration
    /// Bounds memory under a spray of addresses: expired entries are pruned past this size.
    private let capacity = 10_000
    private let entries = Mutex<[String: Entry]>([:])

    init(limit: Int, window: Duration = .seconds(60)) {
        self.limit = limit
        self.window = window
    }

    /// Seconds to wait if `address` is locked out now, else nil.
    func retryAfter(_ address: String, now: ContinuousClock.Instant = .now) -> Int? {
        entries.withLock { entries in
            guard let entry = entries[address], entry.failures >= limit else { return nil }
            let remaining = entry.windowStart.advanced(by: window) - now
            guard remaining > .zero else { return nil }
            return max(1, Int(remaining.components.seconds) + (remaining.components.attoseconds > 0 ? 1 : 0))
        }
    }

    /// Records one event for `key` and returns the seconds to wait if that puts it over the limit.
    func admit(_ key: String, now: ContinuousClock.Instant = .now) -> Int? {
        if let seconds = retryAfter(key, now: now) { return seconds }
        record(key, now: now)
        return nil
    }

    func record(_ address: String, now: ContinuousClock.Instant = .now) {
        entries.withLock { entries in
            if var entry = entries[address], now - entry.windowStart < window {
                entry.failures += 1
                entries[address] = entry
                return
            }
            if entries.count >= capacity {
                entries = entries.filter { now - $0.value.windowStart < window }
                // Still full of live entries: forget the oldest half rather than grow without bound.
                if entries.count >= capacity {
                    let keep = entries.sorted { $0.value.windowStart > $1.value.windowStart }.prefix(capacity / 2)
                    entries = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
                }
            }
            entries[address] = Entry(windowStart: now, failures: 1)
        }
    }
}
