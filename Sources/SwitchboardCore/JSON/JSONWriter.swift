/// Appends compact JSON to a byte buffer without going through `Encodable`.
///
/// Encoding is the most expensive step of a list response (see docs/architecture.md), so the wire
/// types write themselves with this instead of `JSONEncoder`. A 100-row page is some 17,000
/// small appends; the writer owns its buffer (noncopyable, so no copy-on-write check or
/// reference count per append) and hands out the result once, as `bytes`.
public struct JSONWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var capacity: Int
    private var needsComma = false

    public init(reservingCapacity capacity: Int = 1024) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// What has been written so far.
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    public mutating func beginObject() {
        separate()
        put(UInt8(ascii: "{"))
        needsComma = false
    }
    public mutating func endObject() {
        put(UInt8(ascii: "}"))
        needsComma = true
    }
    public mutating func beginArray() {
        separate()
        put(UInt8(ascii: "["))
        needsComma = false
    }
    public mutating func endArray() {
        put(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes `"key":` so the next value call completes the member.
    public mutating func key(_ key: String) {
        separate()
        appendQuoted(key)
        put(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
        needsComma = true
    }
    public mutating func bool(_ value: Bool) {
        separate()
        appendASCII(value ? "true" : "false")
        needsComma = true
    }
    public mutating func null() {
        separate()
        appendASCII("null")
        needsComma = true
    }
    /// `lexeme` must already be a valid JSON number.
    public mutating func number(_ lexeme: String) {
        separate()
        var lexeme = lexeme
        lexeme.withUTF8 { put(UnsafeRawBufferPointer($0)) }
        needsComma = true
    }
    /// `json` must already be one complete, valid JSON value.
    public mutating func raw(_ json: [UInt8]) {
        separate()
        json.withUnsafeBytes { put($0) }
        needsComma = true
    }

    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let b): bool(b)
        case .number(let n): number(n)
        case .string(let s): string(s)
        case .array(let elements):
            beginArray()
            for element in elements { self.value(element) }
            endArray()
        case .object(let members):
            beginObject()
            for member in members {
                key(member.key)
                self.value(member.value)
            }
            endObject()
        }
    }

    /// Writes `"key":"value"`.
    public mutating func member(_ key: String, _ value: String) {
        self.key(key)
        string(value)
    }

    /// Writes `"key":"value"` when `value` is present, nothing otherwise.
    public mutating func member(_ key: String, ifPresent value: String?) {
        if let value { member(key, value) }
    }

    public mutating func stringArray(_ values: [String]) {
        beginArray()
        for value in values { string(value) }
        endArray()
    }

    // Byte-level writes, for output made straight from stored rows without intermediate Strings.

    /// Writes `"key":`; `key` is one of our own ASCII member names, so it is not escaped.
    public mutating func key(ascii key: StaticString) {
        separate()
        put(UInt8(ascii: "\""))
        key.withUTF8Buffer { put(UnsafeRawBufferPointer($0)) }
        put(UInt8(ascii: "\""))
        put(UInt8(ascii: ":"))
        needsComma = false
    }

    /// A string value from valid UTF-8 bytes.
    public mutating func string(utf8: UnsafeRawBufferPointer) {
        separate()
        appendQuoted(utf8)
        needsComma = true
    }

    /// A timestamp (milliseconds since the epoch) as its RFC 3339 string.
    public mutating func timestamp(_ milliseconds: Int64) {
        separate()
        reserve(Timestamp.rfc3339Length + 2)
        base[count] = UInt8(ascii: "\"")
        Timestamp.writeRFC3339(milliseconds, into: base + count + 1)
        base[count + 1 + Timestamp.rfc3339Length] = UInt8(ascii: "\"")
        count += Timestamp.rfc3339Length + 2
        needsComma = true
    }

    /// An array of the comma-separated names in `list` for which `keep` is true (empty text: []).
    public mutating func stringArray(
        commaSeparated list: UnsafeRawBufferPointer,
        keeping keep: (UnsafeRawBufferPointer) -> Bool
    ) {
        beginArray()
        var start = 0
        while start < list.count {
            var end = start
            while end < list.count, list[end] != UInt8(ascii: ",") { end += 1 }
            let name = UnsafeRawBufferPointer(rebasing: list[start..<end])
            if keep(name) { string(utf8: name) }
            start = end + 1
        }
        endArray()
    }

    @inline(__always)
    private mutating func separate() {
        if needsComma { put(UInt8(ascii: ",")) }
    }

    private mutating func appendASCII(_ text: StaticString) {
        text.withUTF8Buffer { put(UnsafeRawBufferPointer($0)) }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func appendQuoted(_ string: String) {
        var string = string
        string.withUTF8 { appendQuoted(UnsafeRawBufferPointer($0)) }
    }

    private mutating func appendQuoted(_ utf8: UnsafeRawBufferPointer) {
        put(UInt8(ascii: "\""))
        var runStart = 0
        for i in 0..<utf8.count {
            let byte = utf8[i]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            put(UnsafeRawBufferPointer(rebasing: utf8[runStart..<i]))
            runStart = i + 1
            put(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""): put(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): put(UInt8(ascii: "\\"))
            case 0x0A: put(UInt8(ascii: "n"))
            case 0x0D: put(UInt8(ascii: "r"))
            case 0x09: put(UInt8(ascii: "t"))
            default:
                put(UInt8(ascii: "u"))
                put(UInt8(ascii: "0"))
                put(UInt8(ascii: "0"))
                put(Self.hexDigits[Int(byte >> 4)])
                put(Self.hexDigits[Int(byte & 0x0F)])
            }
        }
        put(UnsafeRawBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        put(UInt8(ascii: "\""))
    }

    @inline(__always)
    private mutating func put(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    private mutating func put(_ buffer: UnsafeRawBufferPointer) {
        guard let start = buffer.baseAddress, buffer.count > 0 else { return }
        reserve(buffer.count)
        UnsafeMutableRawPointer(base + count).copyMemory(from: start, byteCount: buffer.count)
        count += buffer.count
    }

    /// Room for `extra` more bytes.
    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(toHold: count + extra) }
    }

    private mutating func grow(toHold needed: Int) {
        var grown = capacity * 2
        while grown < needed { grown *= 2 }
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        moved.update(from: base, count: count)
        base.deallocate()
        base = moved
        capacity = grown
    }
}
