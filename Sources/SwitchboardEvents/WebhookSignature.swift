import Crypto
import Foundation

/// Standard Webhooks signing (v1, HMAC-SHA256): secrets are `whsec_` + base64 of random bytes;
/// a signature is `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")).
public enum WebhookSignature {
    public static let secretPrefix = "whsec_"

    /// A new secret of 32 random bytes.
    public static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return secretPrefix + Data(bytes).base64EncodedString()
    }

    /// The HMAC key of a `whsec_` secret, or nil if it is not one.
    public static func key(of secret: String) -> SymmetricKey? {
        guard secret.hasPrefix(secretPrefix),
            let data = Data(base64Encoded: String(secret.dropFirst(secretPrefix.count))), !data.isEmpty
        else { return nil }
        return SymmetricKey(data: data)
    }

    /// The `webhook-signature` header: one `v1,<base64>` per secret, space-separated, in order.
    public static func header(id: String, timestamp: Int64, body: [UInt8], secrets: [String]) -> String {
        var content = Array("\(id).\(timestamp).".utf8)
        content.append(contentsOf: body)
        return secrets.compactMap { secret in
            key(of: secret).map { key in
                "v1," + Data(HMAC<SHA256>.authenticationCode(for: content, using: key)).base64EncodedString()
            }
        }.joined(separator: " ")
    }
}
