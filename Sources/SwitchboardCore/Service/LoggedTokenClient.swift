import Foundation

/// Records each token request that carries a `TokenCallContext` in the API call log (type
/// `login`): the token endpoint's path (never its query), the status, how long it took, and on a
/// failure the reason, which names the provider's OAuth error code at most (never a token).
public struct LoggedTokenClient: OAuthTokenClient {
    let base: any OAuthTokenClient
    let log: APICallLog

    public init(_ base: any OAuthTokenClient, log: APICallLog) {
        self.base = base
        self.log = log
    }

    public func requestToken(_ request: TokenRequest) async throws -> TokenResponse {
        guard let context = request.context else { return try await base.requestToken(request) }
        let start = ContinuousClock.now
        let createdAt = Timestamp.now()
        var status = "200"
        var reason: String?
        defer {
            let elapsed = APICall.milliseconds(ContinuousClock.now - start)
            log.record(
                APICall(
                    id: APICallLog.newID(at: createdAt),
                    workspaceID: context.workspaceID,
                    createdAt: createdAt,
                    connectionID: context.connectionID,
                    integrationType: context.integrationType,
                    environment: context.environment,
                    externalXref: context.externalXref,
                    name: context.name,
                    kind: .login,
                    method: "POST",
                    path: URLComponents(string: request.tokenURL)?.path ?? "",
                    status: status,
                    error: reason,
                    size: nil,
                    unifiedResponseTime: elapsed,
                    endapiResponseTime: elapsed,
                    ipAddress: context.clientAddress,
                    userAgent: nil
                )
            )
        }
        do {
            return try await base.requestToken(request)
        } catch let error as TokenEndpointError {
            switch error {
            case .rejected(let code, _), .invalidResponse(let code, _): status = String(code)
            case .unavailable(let code, _, _): status = code.map(String.init) ?? "502"
            case .notConfigured: status = "400"
            }
            reason = String(error.description.prefix(200))
            throw error
        } catch {
            status = "502"
            reason = "the token endpoint could not be reached"
            throw error
        }
    }
}
