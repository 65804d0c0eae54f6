import Foundation

/// One of the 38 Unified integration categories (`crm`, `hris`, ...).
///
/// Represented by its position in `allNames` so that a connection's categories fit in one 64-bit
/// mask, which the stores filter on ("has any of these categories") in SQL.
public struct Category: Sendable, Hashable, CustomStringConvertible {
    public let index: Int

    private static let indexByName: [String: Int] = Dictionary(
        uniqueKeysWithValues: allNames.enumerated().map { ($1, $0) }
    )

    public init?(_ name: String) {
        guard let index = Self.indexByName[name] else { return nil }
        self.index = index
    }

    public var name: String { Self.allNames[index] }
    public var description: String { name }
    public var bit: Int64 { 1 << Int64(index) }

    /// The mask with one bit set per category.
    public static func mask<S: Sequence>(_ categories: S) -> Int64 where S.Element == Category {
        categories.reduce(0) { $0 | $1.bit }
    }
}

/// One of the 411 Unified permission values (`crm_contact_read`, ...).
public struct Permission: Sendable, Hashable, CustomStringConvertible {
    public let name: String

    private static let known: Set<String> = Set(allNames)

    public init?(_ name: String) {
        guard Self.known.contains(name) else { return nil }
        self.name = name
    }

    public var description: String { name }
}

extension Category {
    /// True when `utf8` is a category name: stored lists are written out without making Strings.
    public static func isName(utf8: UnsafeRawBufferPointer) -> Bool { sortedNames.contains(utf8) }
    private static let sortedNames = SortedNames(allNames)
}

extension Permission {
    /// True when `utf8` is a permission name: stored lists are written out without making Strings.
    public static func isName(utf8: UnsafeRawBufferPointer) -> Bool { sortedNames.contains(utf8) }
    private static let sortedNames = SortedNames(allNames)
}

/// A fixed set of names looked up by their bytes (binary search): no String, no hashing.
struct SortedNames: Sendable {
    private let names: [[UInt8]]

    init(_ names: [String]) { self.names = names.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) } }

    func contains(_ utf8: UnsafeRawBufferPointer) -> Bool {
        var low = 0
        var high = names.count
        while low < high {
            let middle = (low + high) / 2
            let order = names[middle].withUnsafeBytes { Self.compare($0, utf8) }
            if order == 0 { return true }
            if order < 0 { low = middle + 1 } else { high = middle }
        }
        return false
    }

    private static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let common = min(a.count, b.count)
        if common > 0, let pa = a.baseAddress, let pb = b.baseAddress {
            let order = memcmp(pa, pb, common)
            if order != 0 { return Int(order) }
        }
        return a.count - b.count
    }
}
