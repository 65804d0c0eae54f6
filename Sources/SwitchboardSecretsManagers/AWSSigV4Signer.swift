import Crypto
import Foundation
import SwitchboardCore

/// AWS Signature Version 4 (header form), written out step by step so each step can be checked
/// against AWS's published test suite: canonical request, string to sign, signing key, signature.
///
/// The path given is the request path as sent (already percent-encoded where needed); it is used
/// as the canonical URI unchanged, which is exact for the paths Switchboard sends ("/").
public struct AWSSigV4Signer: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// An HTTP request as the signer sees it. Header names keep their case here; signing
    /// lower-cases them.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var query: [(name: String, value: String)]
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        public init(
            method: String,
            path: String,
            query: [(name: String, value: String)] = [],
            headers: [(name: String, value: String)],
            body: [UInt8] = []
        ) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.body = body
        }
    }

    /// The canonical request and the `SignedHeaders` list (every header given is signed).
    public func canonicalRequest(_ request: Request) -> (canonicalRequest: String, signedHeaders: String) {
        // Encoded pairs are ASCII, so String order is byte order here.
        var pairs: [(name: String, value: String)] = []
        for item in request.query {
            pairs.append((name: Self.uriEncode(item.name), value: Self.uriEncode(item.value)))
        }
        pairs.sort { left, right in
            left.name == right.name ? left.value < right.value : left.name < right.name
        }
        let query = pairs.map { pair in pair.name + "=" + pair.value }.joined(separator: "&")
        // Same-named headers are joined with commas in the order given; names sort bytewise.
        var merged: [String: [String]] = [:]
        for (name, value) in request.headers {
            merged[name.lowercased(), default: []].append(Self.trimHeaderValue(value))
        }
        let names = merged.keys.sorted()
        var canonicalHeaders = ""
        for name in names {
            canonicalHeaders += name + ":" + (merged[name] ?? []).joined(separator: ",") + "\n"
        }
        let signedHeaders = names.joined(separator: ";")
        let canonical = [
            request.method.uppercased(),
            request.path.isEmpty ? "/" : request.path,
            query,
            canonicalHeaders,
            signedHeaders,
            Self.hexSHA256(request.body),
        ].joined(separator: "\n")
        return (canonical, signedHeaders)
    }

    /// `<yyyymmdd>/<region>/<service>/aws4_request` for the given `X-Amz-Date` value.
    public func credentialScope(amzDate: String) -> String {
        "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request"
    }

    public func stringToSign(canonicalRequest: String, amzDate: String) -> String {
        [
            "AWS4-HMAC-SHA256",
            amzDate,
            credentialScope(amzDate: amzDate),
            Self.hexSHA256(Array(canonicalRequest.utf8)),
        ].joined(separator: "\n")
    }

    /// HMAC chain "AWS4"+secret → date → region → service → "aws4_request".
    public static func signingKey(secretAccessKey: String, date: String, region: String, service: String) -> [UInt8] {
        var key = SymmetricKey(data: Array("AWS4\(secretAccessKey)".utf8))
        var mac: [UInt8] = []
        for part in [date, region, service, "aws4_request"] {
            mac = Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key))
            key = SymmetricKey(data: mac)
        }
        return mac
    }

    /// The `Authorization` header value for a request that already carries every header to be
    /// signed, `X-Amz-Date` (and `X-Amz-Security-Token` for temporary credentials) included.
    public func authorization(for request: Request, amzDate: String) -> String {
        let (canonical, signedHeaders) = canonicalRequest(request)
        let toSign = stringToSign(canonicalRequest: canonical, amzDate: amzDate)
        let key = Self.signingKey(
            secretAccessKey: credentials.secretAccessKey,
            date: String(amzDate.prefix(8)),
            region: region,
            service: service
        )
        let signature = HMAC<SHA256>.authenticationCode(for: Array(toSign.utf8), using: SymmetricKey(data: key))
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(credentialScope(amzDate: amzDate)), "
            + "SignedHeaders=\(signedHeaders), Signature=\(Self.hex(signature))"
    }

    /// Adds `X-Amz-Date`, the session token when there is one, and `Authorization` to the request's
    /// headers, and returns them all. `request.headers` must already include `Host`.
    public func sign(_ request: Request, date: Date) -> [(name: String, value: String)] {
        let amzDate = Self.amzDate(date)
        var signed = request
        signed.headers.append((name: "X-Amz-Date", value: amzDate))
        if let token = credentials.sessionToken {
            signed.headers.append((name: "X-Amz-Security-Token", value: token))
        }
        let authorization = authorization(for: signed, amzDate: amzDate)
        return signed.headers + [(name: "Authorization", value: authorization)]
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    public static func amzDate(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return pad(year, 4) + pad(month, 2) + pad(day, 2) + "T" + pad(secondOfDay / 3600, 2)
            + pad(secondOfDay % 3600 / 60, 2) + pad(secondOfDay % 60, 2) + "Z"
    }

    static func hexSHA256(_ bytes: [UInt8]) -> String {
        hex(SHA256.hash(data: bytes))
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 3986 percent-encoding of everything but the unreserved characters, as SigV4 wants.
    static func uriEncode(_ text: String) -> String { URLEncoding.percentEncoded(text) }

    /// Leading and trailing spaces removed, inner runs of spaces collapsed to one.
    static func trimHeaderValue(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
