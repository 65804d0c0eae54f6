import Foundation
import Testing

@testable import SwitchboardSecretsManagers

/// Known answers from AWS's Signature Version 4 test suite (aws-sig-v4-test-suite: credentials
/// AKIDEXAMPLE, region us-east-1, service "service", 2015-08-30T12:36:00Z) and from AWS's documented
/// signing-key derivation example. moto does not check signatures, so these are the proof.
@Suite("AWS SigV4 test vectors")
struct SigV4TestVectorTests {
    static let credentials = AWSCredentials(
        accessKeyID: "AKIDEXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    )
    static let signer = AWSSigV4Signer(credentials: credentials, region: "us-east-1", service: "service")
    static let amzDate = "20150830T123600Z"
    static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let scope = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"

    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var request: AWSSigV4Signer.Request
        var canonicalRequest: String
        var stringToSign: String
        var authorization: String
        var testDescription: String { name }
    }

    static let sessionToken =
        "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="

    static let vectors: [Vector] = [
        Vector(
            name: "get-vanilla",
            request: .init(
                method: "GET",
                path: "/",
                headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", amzDate)]
            ),
            canonicalRequest:
                "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
            stringToSign:
                "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            authorization:
                "AWS4-HMAC-SHA256 Credential=\(scope), SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        ),
        Vector(
            name: "post-vanilla-query",
            request: .init(
                method: "POST",
                path: "/",
                query: [("Param1", "value1")],
                headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", amzDate)]
            ),
            canonicalRequest:
                "POST\n/\nParam1=value1\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
            stringToSign:
                "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
            authorization:
                "AWS4-HMAC-SHA256 Credential=\(scope), SignedHeaders=host;x-amz-date, Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"
        ),
        Vector(
            name: "post-x-www-form-urlencoded",
            request: .init(
                method: "POST",
                path: "/",
                headers: [
                    ("Content-Type", "application/x-www-form-urlencoded"), ("Host", "example.amazonaws.com"),
                    ("X-Amz-Date", amzDate),
                ],
                body: Array("Param1=value1".utf8)
            ),
            canonicalRequest:
                "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
            stringToSign:
                "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
            authorization:
                "AWS4-HMAC-SHA256 Credential=\(scope), SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
        ),
        Vector(
            // The session token is one of the signed headers.
            name: "post-sts-header-before",
            request: .init(
                method: "POST",
                path: "/",
                headers: [
                    ("Host", "example.amazonaws.com"), ("X-Amz-Date", amzDate), ("X-Amz-Security-Token", sessionToken),
                ]
            ),
            canonicalRequest:
                "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:\(sessionToken)\n\nhost;x-amz-date;x-amz-security-token\n\(emptyHash)",
            stringToSign:
                "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nc237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
            authorization:
                "AWS4-HMAC-SHA256 Credential=\(scope), SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
        ),
    ]

    @Test(arguments: vectors)
    func canonicalRequestStringToSignAndAuthorization(_ vector: Vector) {
        let (canonical, _) = Self.signer.canonicalRequest(vector.request)
        #expect(canonical == vector.canonicalRequest)
        #expect(Self.signer.stringToSign(canonicalRequest: canonical, amzDate: Self.amzDate) == vector.stringToSign)
        #expect(Self.signer.authorization(for: vector.request, amzDate: Self.amzDate) == vector.authorization)
    }

    @Test func signingKeyMatchesAWSDocumentedExample() {
        let key = AWSSigV4Signer.signingKey(
            secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            date: "20120215",
            region: "us-east-1",
            service: "iam"
        )
        #expect(AWSSigV4Signer.hex(key) == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    }

    /// `sign` adds the date and token headers itself; with the suite's token and date it must give
    /// the same signature as the post-sts-header-before vector.
    @Test func signAddsDateAndSessionTokenAndMatchesTheVector() throws {
        var credentials = Self.credentials
        credentials.sessionToken = Self.sessionToken
        let signer = AWSSigV4Signer(credentials: credentials, region: "us-east-1", service: "service")
        let date = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
        let headers = signer.sign(
            .init(method: "POST", path: "/", headers: [("Host", "example.amazonaws.com")]),
            date: date
        )
        let byName = Dictionary(headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
        #expect(byName["x-amz-date"] == Self.amzDate)
        #expect(byName["x-amz-security-token"] == Self.sessionToken)
        let expected = try #require(Self.vectors.first { $0.name == "post-sts-header-before" })
        #expect(byName["authorization"] == expected.authorization)
    }

    @Test(arguments: [
        (0.0, "19700101T000000Z"),
        (1_440_938_160, "20150830T123600Z"),
        (951_782_400, "20000229T000000Z"),
        (4_102_444_799.9, "20991231T235959Z"),
        (4_107_542_400, "21000301T000000Z"),  // 2100 is not a leap year
    ])
    func amzDateIsUTCBasicFormat(_ seconds: Double, _ expected: String) {
        #expect(AWSSigV4Signer.amzDate(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test func headerValuesAreTrimmedAndRepeatedNamesJoined() {
        let request = AWSSigV4Signer.Request(
            method: "GET",
            path: "/",
            headers: [("My-Header1", "  a   b  "), ("host", "h"), ("my-header1", "c")]
        )
        let (canonical, signed) = Self.signer.canonicalRequest(request)
        #expect(canonical.contains("\nhost:h\nmy-header1:a b,c\n"))
        #expect(signed == "host;my-header1")
    }

    @Test func credentialsNeverPrintTheirSecrets() {
        let credentials = AWSCredentials(
            accessKeyID: "AKIDEXAMPLE",
            secretAccessKey: "top-secret-key",
            sessionToken: "tok-123"
        )
        for text in [String(describing: credentials), String(reflecting: credentials), "\(credentials)"] {
            #expect(!text.contains("top-secret-key"))
            #expect(!text.contains("tok-123"))
            #expect(text.contains("AKIDEXAMPLE"))
        }
    }
}
