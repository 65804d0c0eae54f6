/// Query strings and form bodies (`application/x-www-form-urlencoded`) for the OAuth flow.
public enum FormEncoding {
    /// `parameters` form-encoded (`a=1&b=2`): a form body, or a query string without its `?`.
    public static func encoded(_ parameters: [(String, String)]) -> String {
        parameters.map { "\(URLEncoding.percentEncoded($0.0))=\(URLEncoding.percentEncoded($0.1))" }
            .joined(separator: "&")
    }

    /// `url` with `parameters` appended to its query, form-encoded.
    public static func appending(_ parameters: [(String, String)], to url: String) -> String {
        let encoded = encoded(parameters)
        guard !encoded.isEmpty else { return url }
        var base = url
        var fragment = ""
        if let hash = base.firstIndex(of: "#") {
            fragment = String(base[hash...])
            base = String(base[..<hash])
        }
        let separator = base.contains("?") ? (base.hasSuffix("?") || base.hasSuffix("&") ? "" : "&") : "?"
        return base + separator + encoded + fragment
    }
}
