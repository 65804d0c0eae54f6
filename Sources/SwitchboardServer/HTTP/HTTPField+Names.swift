import HTTPTypes

extension HTTPField.Name {
    /// RFC 8288 web linking: how list responses point at their next page.
    static let link = HTTPField.Name("Link")!
}
