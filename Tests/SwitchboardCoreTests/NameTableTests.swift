import SwitchboardCore
import Testing

/// `Category.isName` and `Permission.isName` decide which stored names the row writer keeps.
@Suite struct NameTableTests {
    @Test func everyKnownNameIsFoundAndNearMissesAreNot() {
        func check(_ names: [String], _ isName: (UnsafeRawBufferPointer) -> Bool) {
            for name in names {
                var copy = name
                #expect(copy.withUTF8 { isName(UnsafeRawBufferPointer($0)) }, "\(name)")
                for miss in [name + "x", String(name.dropLast()), name.uppercased(), " " + name, name + ","] {
                    var miss = miss
                    #expect(!miss.withUTF8 { isName(UnsafeRawBufferPointer($0)) }, "\(miss)")
                }
            }
            #expect(!isName(UnsafeRawBufferPointer(start: nil, count: 0)))
        }
        check(Category.allNames, Category.isName(utf8:))
        check(Permission.allNames, Permission.isName(utf8:))
    }
}
