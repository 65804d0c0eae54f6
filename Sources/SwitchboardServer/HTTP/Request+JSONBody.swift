import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// How much of a request body a route reads, and for how long.
struct BodyLimits: Sendable {
    /// Bodies larger than this get a 413.
    var maximumSize: Int
    /// The whole body must arrive within this time (a client trickling bytes gets a 408).
    var readTimeout: Duration = ServerConfiguration.defaultBodyReadTimeout
}

extension Request {
    /// The request body, bounded in size and time, as JSON bytes. A declared oversize body is
    /// refused before it is read; a content type other than JSON is a 415. Every way a client can
    /// get the body wrong (too large when chunked, malformed chunk framing, an unknown transfer
    /// coding, a connection dropped mid-body, a trickle) is a 4xx, never a 500; what is left of
    /// a refused body gets `UnreadBodyDeadlineHandler`'s few seconds before the connection closes.
    func jsonBody(_ limits: BodyLimits) async throws -> [UInt8] {
        try await body(limits, mediaType: "application/json")
    }

    /// The request body as `jsonBody` reads it, for another media type (the dashboard's forms).
    func body(_ limits: BodyLimits, mediaType expected: String) async throws -> [UInt8] {
        if let type = headers[.contentType] {
            let mediaType = type.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            guard mediaType == expected else {
                throw APIError(
                    status: .unsupportedMediaType,
                    code: "unsupported_media_type",
                    message: "Content-Type must be \(expected), got \"\(type.prefix(64))\""
                )
            }
        }
        if let length = headers[.contentLength].flatMap({ Int($0) }), length > limits.maximumSize {
            throw APIError.bodyTooLarge(limits.maximumSize)
        }
        let body = self.body
        let maximumSize = limits.maximumSize
        let timeout = limits.readTimeout
        let buffer: ByteBuffer? = try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask {
                do { return try await body.collect(upTo: maximumSize) } catch is NIOTooManyBytesError {
                    throw APIError.bodyTooLarge(maximumSize)
                } catch let error as HTTPError where error.status == .contentTooLarge {
                    throw APIError.bodyTooLarge(maximumSize)
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    throw APIError.unreadableBody
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        guard let buffer else {
            throw APIError(
                status: .requestTimeout,
                code: "body_timeout",
                message: "the request body did not arrive within \(timeout.components.seconds) s"
            )
        }
        return Array(buffer.readableBytesView)
    }
}

extension APIError {
    static func bodyTooLarge(_ maximumSize: Int) -> APIError {
        APIError(
            status: .contentTooLarge,
            code: "payload_too_large",
            message: "the request body is larger than \(maximumSize) bytes"
        )
    }

    /// The body's framing was broken (a malformed chunk, an unknown transfer coding) or the
    /// client stopped sending it.
    static let unreadableBody = APIError(
        status: .badRequest,
        code: "malformed_body",
        message:
            "the request body could not be read: its framing is malformed (chunk sizes, CRLFs, an unsupported Transfer-Encoding) or the client stopped sending it"
    )
}
