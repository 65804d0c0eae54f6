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
    public static func isName(utf8: UnsafeRawBufferPointer) -> Bool { nameTable.contains(utf8) }
    private static let nameTable = NameTable(allNames)
}

extension Permission {
    /// True when `utf8` is a permission name: stored lists are written out without making Strings.
    public static func isName(utf8: UnsafeRawBufferPointer) -> Bool { nameTable.contains(utf8) }
    private static let nameTable = NameTable(allNames)
}

/// A fixed set of names looked up by their bytes: one hash, then one comparison. No Strings and no
/// per-name arrays, because every name of every stored list is checked each time a row is written.
struct NameTable: Sendable {
    /// Every name's UTF-8, back to back; name i is `bytes[starts[i]..<starts[i + 1]]`.
    private let bytes: [UInt8]
    private let starts: [Int]
    /// Open addressing: 1 + the index of the name that hashed here (or was pushed along), 0 if empty.
    private let slots: [Int32]
    private let mask: Int

    init(_ names: [String]) {
        var bytes: [UInt8] = []
        var starts = [0]
        for name in names {
            bytes.append(contentsOf: name.utf8)
            starts.append(bytes.count)
        }
        var size = 8
        while size < names.count * 4 { size <<= 1 }
        var slots = [Int32](repeating: 0, count: size)
        bytes.withUnsafeBytes { all in
            for index in names.indices {
                var slot =
                    Self.hash(UnsafeRawBufferPointer(rebasing: all[starts[index]..<starts[index + 1]])) & (size - 1)
                while slots[slot] != 0 { slot = (slot + 1) & (size - 1) }
                slots[slot] = Int32(index + 1)
            }
        }
        self.bytes = bytes
        self.starts = starts
        self.slots = slots
        self.mask = size - 1
    }

    func contains(_ utf8: UnsafeRawBufferPointer) -> Bool {
        guard let probe = utf8.baseAddress, utf8.count > 0 else { return false }
        var slot = Self.hash(utf8) & mask
        return bytes.withUnsafeBytes { all in
            starts.withUnsafeBufferPointer { starts in
                slots.withUnsafeBufferPointer { slots in
                    while true {
                        let entry = Int(slots[slot])
                        if entry == 0 { return false }
                        let start = starts[entry - 1]
                        if starts[entry] - start == utf8.count, memcmp(all.baseAddress! + start, probe, utf8.count) == 0
                        {
                            return true
                        }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }
    }

    /// FNV-1a, 64-bit.
    private static func hash(_ utf8: UnsafeRawBufferPointer) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: hash)
    }
}
