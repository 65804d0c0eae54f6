/// Query strings and form bodies (`application/x-www-form-urlencoded`) for the OAuth flow.
public enum FormEncoding {
    /// `url` with `parameters` appended to its query, form-encoded.
    public static func appending(_ parameters: [(String, String)], to url: String) -> String {
        let encoded = parameters.map { "\(URLEncoding.percentEncoded($0.0))=\(URLEncoding.percentEncoded($0.1))" }
            .joined(separator: "&")
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
