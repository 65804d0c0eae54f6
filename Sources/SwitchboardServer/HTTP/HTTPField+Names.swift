import HTTPTypes

extension HTTPField.Name {
    /// RFC 8288 web linking: how list responses point at their next page.
    static let link = HTTPField.Name("Link")!
}

extension HTTPField.Name {
    /// The client chain a trusted proxy reports (`--trusted-proxy`).
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}
