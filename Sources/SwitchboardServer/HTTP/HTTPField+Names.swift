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

extension HTTPField.Name {
    /// The dashboard's and Connect page's browser protections.
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let crossOriginOpenerPolicy = HTTPField.Name("Cross-Origin-Opener-Policy")!
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
}
