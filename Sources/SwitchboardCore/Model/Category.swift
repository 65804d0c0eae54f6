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
