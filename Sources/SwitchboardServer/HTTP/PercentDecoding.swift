import Hummingbird

/// Decodes one URL component: `%XX` escapes, and `+` as a space when `plusIsSpace` (query
/// strings). Nil when an escape is malformed or the decoded bytes are not UTF-8.
///
/// Foundation's `removingPercentEncoding` goes through CFString, a measurable share of a get by
/// id's server time (docs/architecture.md, "Figures behind code choices"), though ids and most
/// query values contain no escape at all.
func percentDecoded(_ component: Substring, plusIsSpace: Bool) -> String? {
    let utf8 = component.utf8
    guard utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }) else {
        return String(component)
    }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(utf8.count)
    var index = utf8.startIndex
    while index != utf8.endIndex {
        let byte = utf8[index]
        index = utf8.index(after: index)
        switch byte {
        case UInt8(ascii: "%"):
            guard index != utf8.endIndex, let high = hexValue(utf8[index]) else { return nil }
            index = utf8.index(after: index)
            guard index != utf8.endIndex, let low = hexValue(utf8[index]) else { return nil }
            index = utf8.index(after: index)
            bytes.append(high << 4 | low)
        case UInt8(ascii: "+") where plusIsSpace:
            bytes.append(UInt8(ascii: " "))
        default:
            bytes.append(byte)
        }
    }
    return String(validating: bytes, as: UTF8.self)
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}

/// True when `text` holds a C0 control character (NUL, CR, LF, tab...) or DEL: no identifier,
/// filter or URL parameter accepts one, and PostgreSQL text cannot hold NUL at all.
func containsControlCharacter(_ text: String) -> Bool {
    text.utf8.contains { $0 < 0x20 || $0 == 0x7F }
}

/// Refuses a request whose path parameters (ids, types) decode to a control character, before
/// any handler, key check or SQL sees them.
func checkPathParameters(_ parameters: Parameters) throws(APIError) {
    for (name, raw) in parameters {
        guard let decoded = percentDecoded(raw, plusIsSpace: false) else { continue }
        if containsControlCharacter(decoded) {
            throw APIError.invalidParameter(
                "the path parameter \(name) contains a control character (NUL, CR, LF, ...), which no id holds"
            )
        }
    }
}
