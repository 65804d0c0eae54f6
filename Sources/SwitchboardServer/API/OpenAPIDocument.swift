import Foundation

/// The OpenAPI 3.1 document (openapi.yaml, a resource of this module): the API's reference,
/// served at `GET /openapi.yaml`.
enum OpenAPIDocument {
    struct Missing: Error, CustomStringConvertible {
        var description: String { "openapi.yaml is missing from the SwitchboardServer resource bundle" }
    }

    static func load() throws -> [UInt8] {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
            let data = try? Data(contentsOf: url)
        else { throw Missing() }
        return Array(data)
    }
}
