import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension Request {
    /// The request body, bounded, as JSON bytes. A declared oversize body is refused before it is
    /// read; a content type other than JSON is a 415.
    func jsonBody(maximumSize: Int) async throws -> [UInt8] {
        if let type = headers[.contentType] {
            let mediaType = type.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            guard mediaType == "application/json" else {
                throw APIError(
                    status: .unsupportedMediaType,
                    code: "unsupported_media_type",
                    message: "Content-Type must be application/json, got \"\(type.prefix(64))\""
                )
            }
        }
        let tooLarge = APIError(
            status: .contentTooLarge,
            code: "payload_too_large",
            message: "the request body is larger than \(maximumSize) bytes"
        )
        if let length = headers[.contentLength].flatMap({ Int($0) }), length > maximumSize {
            throw tooLarge
        }
        do {
            let buffer = try await body.collect(upTo: maximumSize)
            return Array(buffer.readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw tooLarge
        }
    }
}
