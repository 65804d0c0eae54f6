import HTTPTypes
import Hummingbird
import SwitchboardCore

/// Per-request state: Hummingbird's core storage plus the authenticated caller.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `APIKeyMiddleware` on every `/unified` route.
    public var principal: Principal?

    public init(source: Source) {
        coreContext = .init(source: source)
        principal = nil
    }

    /// The caller; only `APIKeyMiddleware`-guarded routes may ask.
    func requirePrincipal() throws -> Principal {
        guard let principal else { throw APIError.unauthorized("an API key is required") }
        return principal
    }
}
