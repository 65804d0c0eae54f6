import Foundation
import HTTPTypes
import Hummingbird
import SwitchboardCore
import SwitchboardDashboard

/// `POST /switchboard/connect-session`: the application's backend opens a hosted Connect page
/// (`ConnectPageRoutes`) for one end user and gets its single-use URL.
struct ConnectSessionRoutes: Sendable {
    let dashboard: DashboardService
    let web: WebPolicy
    let bodyLimits: BodyLimits

    /// The API route (in openapi.yaml).
    var routes: [Route] {
        [
            Route(
                method: .post,
                path: "/switchboard/connect-session",
                operationID: "createConnectSession",
                statuses: Route.authenticatedStatuses.union([201, 408, 413, 415]),
                requiresAPIKey: true,
                scope: .connectionsWrite,
                handler: create
            )
        ]
    }

    /// `{"external_xref", "integrations", "categories", "env", "success_redirect", "failure_redirect"}`.
    @Sendable func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try JSONBody(try await request.jsonBody(bodyLimits))
        guard let xref = try body.optionalString("external_xref") else {
            throw APIError.invalidBody("external_xref is required: the end user the connection will belong to")
        }
        var connect = DashboardService.ConnectRequest(externalXref: xref)
        connect.integrations = try body.strings("integrations") ?? []
        connect.categories = try body.strings("categories") ?? []
        connect.environment = try body.optionalString("env")
        connect.successRedirect = try body.optionalString("success_redirect")
        connect.failureRedirect = try body.optionalString("failure_redirect")
        let (session, token) = try await dashboard.createConnectSession(connect, by: principal)
        var w = JSONWriter(reservingCapacity: 256)
        w.beginObject()
        w.member("id", session.id)
        w.member("url", web.publicURL + "/connect/" + token)
        w.member("expires_at", session.expiresAt.rfc3339)
        w.endObject()
        var response = Response.json(w.bytes)
        response.status = .created
        response.headers[.cacheControl] = "no-store"
        return response
    }

}

/// The Connect page itself, outside the API's document.
struct ConnectPageRoutes: Sendable {
    let dashboard: DashboardService
    let pages: DashboardPages
    let web: WebPolicy

    /// `/connect/{token}`: where an application sends its end user to pick an integration and
    /// authorize it, with no API key in the browser (the URL's single-use token opens that page only).
    func register(on router: Router<AppRequestContext>) {
        let group = router.group("connect").add(middleware: HTMLErrorMiddleware(pages: pages, back: nil))
        group.get(":token") { _, context in
            let token = context.parameters.get("token") ?? ""
            let page = try await dashboard.connectPage(token: token)
            return web.page(pages.connect(page, token: token, .init(signedIn: nil)), formTargets: formTargets(page))
        }
        group.post(":token/oauth/:type") { request, context in
            try web.checkSameOrigin(request)
            let url = try await dashboard.startOAuth(
                token: context.parameters.get("token") ?? "",
                type: context.parameters.get("type") ?? "",
                clientAddress: context.clientAddress
            )
            return DashboardRoutes.redirect(url)
        }
        group.get(":token/api-key/:type") { _, context in
            let token = context.parameters.get("token") ?? ""
            let page = try await dashboard.connectPage(token: token)
            let type = context.parameters.get("type") ?? ""
            guard let definition = page.integrations.first(where: { $0.type == type && $0.oauth2 == nil }) else {
                throw ServiceError.notFound("this page does not offer an API-key integration \"\(type.prefix(64))\"")
            }
            return web.page(
                pages.connectKeys(definition, token: token, .init(signedIn: nil)),
                formTargets: formTargets(page)
            )
        }
        group.post(":token/api-key/:type") { request, context in
            try web.checkSameOrigin(request)
            let token = context.parameters.get("token") ?? ""
            let type = context.parameters.get("type") ?? ""
            let form = try await DashboardRoutes.form(request)
            var values: [String: String] = [:]
            for (name, all) in form.values where all.count == 1 { values[name] = all[0] }
            do {
                let (id, redirect) = try await dashboard.connectWithKeys(
                    token: token,
                    type: type,
                    values: values,
                    clientAddress: context.clientAddress
                )
                if let redirect { return DashboardRoutes.redirect(redirect) }
                return web.page(
                    pages.message(
                        title: "Connected",
                        "Your account is connected (connection \(id.rawValue)). You may close this window.",
                        id: "connected",
                        .init(signedIn: nil)
                    )
                )
            } catch ServiceError.invalid(let error) {
                // The form again, saying what was missing; the session is not spent.
                let page = try await dashboard.connectPage(token: token)
                guard let definition = page.integrations.first(where: { $0.type == type }) else {
                    throw ServiceError.invalid(error)
                }
                return web.page(
                    pages.connectKeys(definition, token: token, .init(signedIn: nil, error: error.message)),
                    status: .badRequest,
                    formTargets: formTargets(page)
                )
            }
        }
    }

    /// Where this page's forms may lead: the offered providers' authorize origins and the
    /// application's redirects.
    func formTargets(_ page: DashboardService.ConnectPage) -> [String] {
        var origins: [String] = []
        for url in page.integrations.compactMap(\.oauth2?.authorizeURL)
            + [
                page.session.successRedirect, page.session.failureRedirect,
            ].compactMap({ $0 })
        {
            // A subdomain template (`https://{subdomain}.example.com`) allows its scheme only.
            let origin = url.contains("{") ? "https:" : RedirectOrigin.normalize(url) ?? Self.origin(url)
            if let origin, !origins.contains(origin) { origins.append(origin) }
        }
        return origins
    }

    /// The origin of a catalog's authorize URL (http allowed: a test provider on loopback).
    static func origin(_ url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host
        else { return nil }
        return components.port.map { "\(scheme)://\(host):\($0)" } ?? "\(scheme)://\(host)"
    }
}
