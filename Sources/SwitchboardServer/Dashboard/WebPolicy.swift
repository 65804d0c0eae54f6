import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SwitchboardCore
import SwitchboardDashboard

/// What every web page (dashboard and Connect) sends and checks: a strict Content-Security-Policy
/// with no inline script or style, no framing, no referrer, no caching; cookies HttpOnly,
/// SameSite=Strict and Secure (unless the server is reached over plain HTTP on loopback); and
/// state-changing requests only from this origin.
struct WebPolicy: Sendable {
    /// The server's public address (`--public-url`), without a trailing slash.
    let publicURL: String
    let secureCookies: Bool

    init(publicURL: String) {
        let trimmed = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        self.publicURL = trimmed
        let components = URLComponents(string: trimmed)
        let host = components?.host?.lowercased() ?? ""
        let loopback = host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
        secureCookies = !(components?.scheme?.lowercased() == "http" && loopback)
    }

    /// The page's CSP. `formTargets` are origins a form on the page may lead to beyond this one
    /// (Chromium applies `form-action` to a form's redirects too: the Connect page's forms end at
    /// a provider or the application).
    static func contentSecurityPolicy(formTargets: [String] = []) -> String {
        let forms = (["'self'"] + formTargets).joined(separator: " ")
        return
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action \(forms); frame-ancestors 'none'; base-uri 'none'"
    }

    func page(_ html: String, status: HTTPResponse.Status = .ok, formTargets: [String] = []) -> Response {
        Response(
            status: status,
            headers: Self.headers(formTargets: formTargets),
            body: ResponseBody(byteBuffer: ByteBuffer(string: html))
        )
    }

    static func headers(formTargets: [String] = []) -> HTTPFields {
        [
            .contentType: "text/html; charset=utf-8",
            .contentSecurityPolicy: contentSecurityPolicy(formTargets: formTargets),
            .xFrameOptions: "DENY",
            .referrerPolicy: "no-referrer",
            .xContentTypeOptions: "nosniff",
            .crossOriginOpenerPolicy: "same-origin",
            .cacheControl: "no-store",
        ]
    }

    /// A 303 into the dashboard with a new session's cookie.
    func signedIn(token: String) -> Response {
        var response = DashboardRoutes.redirect("/dashboard/connections")
        response.headers[.setCookie] = cookie(DashboardRoutes.cookieName, value: token, maxAge: nil)
        return response
    }

    /// A session cookie (no Max-Age: the server decides when it ends) for the whole origin.
    func cookie(_ name: String, value: String, maxAge: Int?) -> String {
        var cookie = "\(name)=\(value); Path=/; HttpOnly; SameSite=Strict"
        if secureCookies { cookie += "; Secure" }
        if let maxAge { cookie += "; Max-Age=\(maxAge)" }
        return cookie
    }

    /// Refuses a state-changing request a page of another origin made. Browsers say where a
    /// request comes from in `Sec-Fetch-Site`: only `same-origin` (and `none`, typed or
    /// bookmarked) pass; `same-site` is refused too, since another port of the same host shares
    /// the cookie. A browser without it is judged by `Origin`, which must be this server's:
    /// `null` included, which Chromium sends on a same-origin form POST under
    /// `Referrer-Policy: no-referrer`, hence Sec-Fetch-Site first. A client that sends neither
    /// (curl) is not a browser under another site's control; the CSRF token and the SameSite
    /// cookie still apply to it.
    func checkSameOrigin(_ request: Request) throws {
        let refused = APIError(
            status: .forbidden,
            code: "cross_site_request",
            message: "a page of another site may not submit this form"
        )
        if let site = request.headers[.secFetchSite]?.lowercased() {
            guard site == "same-origin" || site == "none" else { throw refused }
            return
        }
        guard let origin = request.headers[.origin] else { return }
        let authority = request.head.authority ?? ""
        guard
            origin == publicURL || (!authority.isEmpty && origin.lowercased().hasSuffix("://" + authority.lowercased()))
        else { throw refused }
    }
}

/// Renders the dashboard's and Connect page's errors as HTML pages (the API's are JSON), with the
/// status and message the API would give; server faults are logged as `ErrorMiddleware` does.
struct HTMLErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let pages: DashboardPages
    /// Where the error page leads back to: the dashboard for operators, nowhere for the Connect
    /// page's end users (who have no dashboard).
    var back: (href: String, label: String)? = ("/dashboard", "Back to the dashboard")

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = APIError(mapping: error)
            logFault(apiError, error, request, context.logger)
            let title =
                switch apiError.status.code {
                case 400: "That request was not valid"
                case 403: "Not allowed"
                case 404: "Not found"
                case 410: "This link no longer works"
                case 429: "Too many requests"
                case 500...: "Something went wrong"
                default: "The request was refused"
                }
            var response = Response(
                status: apiError.status,
                headers: WebPolicy.headers(),
                body: ResponseBody(
                    byteBuffer: ByteBuffer(
                        string: pages.message(
                            title: title,
                            link: back,
                            .init(signedIn: nil, error: apiError.message)
                        )
                    )
                )
            )
            if let retryAfter = apiError.headers[.retryAfter] { response.headers[.retryAfter] = retryAfter }
            return response
        }
    }
}
