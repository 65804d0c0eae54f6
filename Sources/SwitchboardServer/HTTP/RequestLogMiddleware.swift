import CoreMetrics
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SwitchboardCore
import Synchronization

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-Id")!
}

/// Who made a request, filled in by `APIKeyMiddleware` and read by `RequestLogMiddleware` (a
/// reference, since contexts are copied on their way into the routes).
final class RequestCaller: Sendable {
    private let ids = Mutex<(workspace: String, key: String)?>(nil)

    func set(workspace: String, key: String) { ids.withLock { $0 = (workspace, key) } }

    var value: (workspace: String, key: String)? { ids.withLock { $0 } }
}

/// Per request: the request metrics (`HTTPMetrics`) and one log line at `info`: request id, method, route template (never the raw path,
/// which holds ids), status, duration, and the workspace and key ids when a key authenticated
/// it (never the key). The request id comes from the caller's `X-Request-Id` when it is
/// well-formed (1 to 128 of `A-Z a-z 0-9 . _ : -`), else a new one, and goes back in the answer.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let logger: Logger

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let id = request.headers[.requestID].flatMap(Self.wellFormed) ?? UUID().uuidString.lowercased()
        let started = ContinuousClock.now
        HTTPMetrics.inFlight.increment()
        defer { HTTPMetrics.inFlight.decrement() }
        do {
            var response = try await next(request, context)
            response.headers[.requestID] = id
            log(request, context, id: id, status: Int(response.status.code), since: started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            log(request, context, id: id, status: Int(status), since: started)
            throw error
        }
    }

    /// `duration` in milliseconds with two decimals (`12.05`), without Foundation's formatter.
    static func milliseconds(_ duration: Duration) -> String {
        let hundredths = max(0, (duration / .microseconds(10)).rounded())
        let whole = Int(hundredths) / 100
        let fraction = Int(hundredths) % 100
        return "\(whole)." + (fraction < 10 ? "0" : "") + String(fraction)
    }

    static func wellFormed(_ value: String) -> String? {
        guard (1...128).contains(value.utf8.count),
            value.utf8.allSatisfy({ b in
                (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || b == 0x2E || b == 0x5F
                    || b == 0x3A || b == 0x2D
            })
        else { return nil }
        return value
    }

    private func log(
        _ request: Request,
        _ context: Context,
        id: String,
        status: Int,
        since started: ContinuousClock.Instant
    ) {
        let elapsed = ContinuousClock.now - started
        let route = context.routeTemplate
        HTTPMetrics.finished(route: route, method: request.method.rawValue, status: status, duration: elapsed)
        guard logger.logLevel <= .info else { return }
        var metadata: Logger.Metadata = [
            "request_id": .string(id),
            "method": .string(request.method.rawValue),
            "route": .string(route),
            "status": .stringConvertible(status),
            "duration_ms": .string(Self.milliseconds(elapsed)),
        ]
        if let caller = context.caller.value {
            metadata["workspace_id"] = .string(caller.workspace)
            metadata["key_id"] = .string(caller.key)
        }
        logger.info("request", metadata: metadata)
    }
}
