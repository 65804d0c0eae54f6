import Foundation
import Mustache
import SwitchboardCore
import SwitchboardEvents
import Synchronization

/// The dashboard's and the Connect page's HTML: Mustache templates (this module's resources)
/// filled from domain values. Every value is HTML-escaped by the template engine; the only
/// unescaped output is the charts' SVG, which `Chart` builds from escaped text itself.
public struct DashboardPages: Sendable {
    private let library: MustacheLibrary
    /// `/dashboard/static/dashboard.css`.
    public let stylesheet: [UInt8]
    /// The navigation's list items, by current section's raw value ("" for none).
    private let navigation: [String: String]
    private let cache = RenderCache()

    public init() throws {
        guard let templates = Bundle.module.url(forResource: "Templates", withExtension: nil),
            let stylesheet = Bundle.module.url(forResource: "Static/dashboard", withExtension: "css")
        else { throw DashboardResourceError() }
        var library = MustacheLibrary()
        for file in try FileManager.default.contentsOfDirectory(atPath: templates.path)
        where file.hasSuffix(".mustache") {
            let text = try String(contentsOf: templates.appendingPathComponent(file), encoding: .utf8)
            try library.register(text, named: String(file.dropLast(".mustache".count)))
        }
        self.library = library
        self.stylesheet = Array(try Data(contentsOf: stylesheet))
        // The navigation, once per current section: it is the same on every page view.
        var navigation: [String: String] = [:]
        for current in [nil] + Section.allCases.map(Optional.some) {
            var out = HTML.Markup()
            for section in Section.allCases {
                out.raw("<li><a")
                HTML.attribute("href", section.path, into: &out)
                if section == current { out.raw(" aria-current=\"page\"") }
                out.raw(">")
                out.text(section.label)
                out.raw("</a></li>\n")
            }
            navigation[current?.rawValue ?? ""] = out.string
        }
        self.navigation = navigation
    }

    /// Who the page is for and what it says above its content.
    public struct Chrome: Sendable {
        public var signedIn: SignedIn?
        /// The nav entry to mark current.
        public var section: Section?
        public var notice: String?
        public var error: String?

        public init(signedIn: SignedIn?, section: Section? = nil, notice: String? = nil, error: String? = nil) {
            self.signedIn = signedIn
            self.section = section
            self.notice = notice
            self.error = error
        }
    }

    public enum Section: String, Sendable, CaseIterable {
        case connections, integrations, keys, audit
        case secretsManagers = "secrets-managers"
        case apiCalls = "api-calls"
        case events

        var label: String {
            switch self {
            case .connections: "Connections"
            case .integrations: "Integrations"
            case .keys: "API keys"
            case .audit: "Audit log"
            case .secretsManagers: "Secrets managers"
            case .apiCalls: "API calls"
            case .events: "Events"
            }
        }

        public var path: String { "/dashboard/\(rawValue)" }
    }

    func render(_ template: String, title: String, _ chrome: Chrome, _ context: [String: Any]) -> String {
        var context = context
        context["title"] = title
        if let filters = context["filters"] as? [String: Any], let action = filters["action"] as? String,
            let fields = filters["fields"] as? [[String: Any]]
        {
            context["filters"] = ["html": HTML.filters(action: action, fields: fields)]
        }
        if let notice = chrome.notice { context["notice"] = notice }
        if let error = chrome.error { context["error"] = error }
        if let signedIn = chrome.signedIn {
            context["signedIn"] = true
            context["csrf"] = signedIn.csrfToken
            context["workspace"] = signedIn.principal.workspaceID.rawValue
            context["actor"] = signedIn.principal.keyID == "cli" ? "signed in with a link" : signedIn.principal.keyID
            context["nav"] = navigation[chrome.section.map { $0.rawValue } ?? ""] ?? ""
        }
        // A large table is spliced in after rendering rather than passed through the engine,
        // which copies every value it writes several times.
        guard let table = context["table"] as? [String: Any], let html = table["html"] as? String,
            html.utf8.count > 4096
        else { return library.render(context, withTemplate: template) ?? "" }
        context["table"] = ["html": Self.tableMarker]
        var page = library.render(context, withTemplate: template) ?? ""
        let marker = Array(Self.tableMarker.utf8)
        // Bytes, not Foundation's string search (which bridges through NSString).
        return page.withUTF8 { bytes in
            guard marker.count <= bytes.count,
                let start = (0...(bytes.count - marker.count)).first(where: { at in
                    bytes[at] == 0 && bytes[at..<(at + marker.count)].elementsEqual(marker)
                })
            else { return String(decoding: bytes, as: UTF8.self) }
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count + html.utf8.count)
            out.append(contentsOf: bytes[..<start])
            out.append(contentsOf: html.utf8)
            out.append(contentsOf: bytes[(start + marker.count)...])
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Where `render` splices a large table in: no page's text can hold a NUL.
    static let tableMarker = "\u{0}switchboard-table\u{0}"

    // MARK: - Sign-in and messages

    public func signIn(_ chrome: Chrome) -> String {
        render(
            "sign-in",
            title: "Sign in",
            chrome,
            [
                "intro": "Sign in to the workspace's dashboard with an API key.",
                "formID": "sign-in", "action": "/dashboard/sign-in", "askKey": true,
            ]
        )
    }

    public func linkSignIn(token: String, _ chrome: Chrome) -> String {
        render(
            "sign-in",
            title: "Sign in with a link",
            chrome,
            [
                "intro": "This single-use link signs you in to the workspace it was printed for.",
                "formID": "link-sign-in", "action": "/dashboard/link/\(token)", "askKey": false,
            ]
        )
    }

    /// A page that only says something (an error page, a result).
    public func message(
        title: String,
        _ message: String? = nil,
        id: String = "message",
        link: (href: String, label: String)? = nil,
        _ chrome: Chrome
    ) -> String {
        var context: [String: Any] = ["messageID": id]
        if let message { context["message"] = message }
        if let link { context["link"] = ["href": link.href, "label": link.label] }
        return render("message", title: title, chrome, context)
    }

    // MARK: - Connections

    /// The connection list's filters as the request gave them (to fill the form back in).
    public struct ConnectionFilters: Sendable {
        public var environment: String
        public var categories: [String]
        public var externalXref: String
        public var updatedGTE: String
        public var sort: String
        public var order: String
        public var integration: String
        public var health: String

        public init(
            environment: String = ConnectionFields.defaultEnvironment,
            categories: [String] = [],
            externalXref: String = "",
            updatedGTE: String = "",
            sort: String = "",
            order: String = "",
            integration: String = "",
            health: String = ""
        ) {
            self.environment = environment
            self.categories = categories
            self.externalXref = externalXref
            self.updatedGTE = updatedGTE
            self.sort = sort
            self.order = order
            self.integration = integration
            self.health = health
        }
    }

    public func connections(
        _ page: [Connection],
        filters: ConnectionFilters,
        environments: [String],
        catalog: IntegrationCatalog,
        counts: [ConnectionCounts],
        next: String?,
        _ chrome: Chrome
    ) -> String {
        let integrationTypes = Set(catalog.all.map(\.type)).union(counts.map(\.integrationType)).sorted()
        // The filter form and the charts change far less often than the rows: rendered once per
        // set of values, then reused (`RenderCache`).
        let filterKey = [
            filters.environment, filters.categories.joined(separator: ","), filters.externalXref, filters.updatedGTE,
            filters.sort, filters.order, filters.integration, filters.health, environments.joined(separator: ","),
            integrationTypes.joined(separator: ","),
        ].joined(separator: "\u{0}")
        let filterForm = cache.value(for: "filters\u{0}" + filterKey) {
            let fields: [[String: Any]] = [
                // Any environment may be typed (a connection's need not be declared); the declared ones
                // are offered.
                Self.input(
                    "env",
                    "Environment",
                    filters.environment,
                    suggestions: Array(Set(environments + [filters.environment])).sorted()
                ),
                Self.select("integration", "Integration", [""] + integrationTypes, [filters.integration], any: "any"),
                Self.select(
                    "health",
                    "Health",
                    [""] + ConnectionQuery.Health.allCases.map(\.rawValue),
                    [filters.health],
                    any: "any"
                ),
                Self.select("categories", "Categories", Category.allNames, filters.categories, multiple: true),
                Self.input("external_xref", "External reference", filters.externalXref),
                Self.input("updated_gte", "Updated since", filters.updatedGTE, placeholder: "2026-12-01T00:00:00Z"),
                Self.select(
                    "sort",
                    "Sort by",
                    ["", "created_at", "updated_at", "name"],
                    [filters.sort],
                    any: "created_at"
                ),
                Self.select("order", "Order", ["", "asc", "desc"], [filters.order], any: "asc"),
            ]
            return HTML.filters(action: "/dashboard/connections", fields: fields)
        }
        let chartKey = counts.map { "\($0.integrationType)/\($0.healthy)/\($0.unhealthy)/\($0.paused)" }
            .joined(separator: ",")
        let charts = cache.value(for: "charts\u{0}" + chartKey) {
            Chart.bars(
                counts.sorted { $0.total > $1.total }.prefix(12).map { ($0.integrationType, $0.total) },
                label: "Connections by integration"
            ) + "\u{0}"
                + Chart.bars(
                    [
                        ("healthy", counts.reduce(0) { $0 + $1.healthy }),
                        ("unhealthy", counts.reduce(0) { $0 + $1.unhealthy }),
                        ("paused", counts.reduce(0) { $0 + $1.paused }),
                    ],
                    label: "Connections by health"
                )
        }.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
        // Written straight into the page, not through row descriptions: this page is the one
        // measured at a million connections.
        let columns = ["Integration", "External reference", "Environment", "Health", "Categories", "Updated"]
        var table = HTML.Markup(capacity: 1024 + page.count * 480)
        HTML.open(id: "connections", caption: "Connections in \(filters.environment)", columns: columns, into: &table)
        for connection in page {
            let f = connection.fields
            let name = f.integrationName ?? catalog.definition(f.integrationType)?.name ?? f.integrationType
            let (health, badge) = Self.health(connection)
            table.raw("<tr data-connection-id=\"")
            table.text(connection.id.rawValue)
            table.raw("\"><td><a href=\"/dashboard/connections/")
            table.text(connection.id.rawValue)
            table.raw("\">")
            table.text(name)
            table.raw("</a></td>")
            HTML.cell(f.externalXref ?? "—", into: &table)
            HTML.cell(f.environment, into: &table)
            HTML.cell(health, badge: badge, into: &table)
            table.raw("<td>")
            for (index, category) in f.categories.enumerated() {
                if index > 0 { table.raw(", ") }
                table.text(category.name)
            }
            table.raw("</td>")
            HTML.cell(Self.time(connection.updatedAt), into: &table)
            table.raw("</tr>\n")
        }
        HTML.close(
            empty: page.isEmpty ? "No connection matches these filters." : nil,
            columns: columns.count,
            into: &table
        )
        return render(
            "list",
            title: "Connections",
            chrome,
            [
                "filters": ["html": filterForm],
                "charts": [
                    ["id": "chart-integrations", "caption": "Connections by integration", "svg": charts[0]],
                    ["id": "chart-health", "caption": "Connections by health", "svg": charts[1]],
                ],
                "table": ["html": table.string],
                "next": Self.maybe(next),
            ]
        )
    }

    public func connection(
        _ connection: Connection,
        catalog: IntegrationCatalog,
        audit: [AuditRecord],
        calls: [APICall],
        events: [Event],
        _ chrome: Chrome
    ) -> String {
        let f = connection.fields
        let (health, badge) = Self.health(connection)
        let id = connection.id.rawValue
        var fields: [[String: Any]] = [
            ["name": "ID", "value": id],
            [
                "name": "Integration",
                "value": "\(catalog.definition(f.integrationType)?.name ?? f.integrationType) (\(f.integrationType))",
            ],
            ["name": "Name", "value": f.integrationName ?? "—"],
            ["name": "External reference", "value": f.externalXref ?? "—"],
            ["name": "Environment", "value": f.environment],
            ["name": "Health", "value": health, "badge": badge],
            ["name": "Categories", "value": f.categories.map(\.name).joined(separator: ", ")],
            ["name": "Permissions", "value": f.permissions.map(\.name).joined(separator: ", ")],
            ["name": "Created", "value": Self.time(connection.createdAt)],
            ["name": "Updated", "value": Self.time(connection.updatedAt)],
            ["name": "Last healthy", "value": connection.health.lastHealthyAt.map(Self.time) ?? "—"],
            ["name": "Last unhealthy", "value": connection.health.lastUnhealthyAt.map(Self.time) ?? "—"],
            ["name": "Why unhealthy", "value": connection.health.lastUnhealthyCode ?? "—"],
            ["name": "Credentials", "value": Self.credentialsSummary(connection)],
        ]
        if let expiry = connection.refresh?.expiresAt {
            fields.append(["name": "Token expires", "value": Self.time(expiry)])
        }
        return render(
            "detail",
            title: "Connection \(id)",
            chrome,
            [
                "back": ["href": "/dashboard/connections", "label": "All connections"],
                "fieldsID": "connection-fields",
                "fields": fields,
                "links": [
                    [
                        "id": "delete-link", "href": "/dashboard/connections/\(id)/delete",
                        "label": "Delete this connection…",
                    ]
                ],
                "forms": [
                    Self.form(
                        "reauth",
                        heading: "Re-authorization",
                        action: "/dashboard/connections/\(id)/reauth",
                        submit: "Create a re-authorization link",
                        hint: "A single-use link the end user opens to authorize this connection again, in place."
                    )
                ],
                "tables": [
                    Self.auditTable(audit),
                    Self.callTable(calls),
                    Self.eventTable(events),
                ],
            ]
        )
    }

    public func confirmDelete(_ connection: Connection, _ chrome: Chrome) -> String {
        let id = connection.id.rawValue
        return render(
            "detail",
            title: "Delete connection \(id)?",
            chrome,
            [
                "back": ["href": "/dashboard/connections/\(id)", "label": "Keep it"],
                "fieldsID": "connection-fields",
                "fields": [
                    ["name": "Integration", "value": connection.fields.integrationType],
                    ["name": "External reference", "value": connection.fields.externalXref ?? "—"],
                ],
                "forms": [
                    Self.form(
                        "delete-connection",
                        heading: "This cannot be undone",
                        action: "/dashboard/connections/\(id)/delete",
                        submit: "Delete connection",
                        hint: "Its credentials are deleted with it; the audit log keeps the record of the deletion.",
                        danger: true
                    )
                ],
            ]
        )
    }

    public func reauthLink(_ url: String, connection id: ConnectionID, expiresAt: Timestamp, _ chrome: Chrome) -> String
    {
        render(
            "detail",
            title: "Re-authorization link",
            chrome,
            [
                "back": ["href": "/dashboard/connections/\(id.rawValue)", "label": "Back to the connection"],
                "fieldsID": "reauth-fields",
                "fields": [["name": "Expires", "value": Self.time(expiresAt)]],
                "output": url, "outputID": "reauth-link", "outputLabel": "Send this link to the end user",
                "outputHint": "It works once. It is not shown again.",
            ]
        )
    }

    // MARK: - Integrations

    public func integrations(
        _ listings: [IntegrationService.Listing],
        clients: [WorkspaceIntegration],
        redirectOrigins: [String],
        _ chrome: Chrome
    ) -> String {
        let byType = Dictionary(clients.map { ($0.integrationType, $0) }, uniquingKeysWith: { a, _ in a })
        let rows = listings.map { listing -> [String: Any] in
            let d = listing.definition
            let status: (String, String) =
                if d.oauth2 == nil { ("API key", "neutral") } else if listing.isActive {
                    ("enabled", "ok")
                } else if byType[d.type] != nil {
                    ("disabled", "warn")
                } else { ("not set up", "neutral") }
            return [
                "dataName": "integration-type", "dataValue": d.type,
                "cells": [
                    ["text": d.name, "href": "/dashboard/integrations/\(d.type)"],
                    ["text": d.type],
                    ["text": d.categories.map(\.name).joined(separator: ", ")],
                    ["text": d.oauth2 == nil ? "API key" : "OAuth 2"],
                    ["text": status.0, "badge": status.1],
                    ["text": byType[d.type]?.clientID ?? "—"],
                ] as [[String: Any]],
            ]
        }
        return render(
            "list",
            title: "Integrations",
            chrome,
            [
                "table": Self.table(
                    id: "integrations",
                    caption: "The catalog, and what this workspace enabled",
                    columns: ["Integration", "Type", "Categories", "Authorization", "Status", "Client ID"],
                    rows: rows,
                    empty: "The catalog is empty."
                ),
                "forms": [
                    Self.form(
                        "redirect-origins",
                        heading: "Redirect origins",
                        action: "/dashboard/redirect-origins",
                        submit: "Save origins",
                        hint:
                            "Where authorizations and Connect pages may send the browser back to: one origin a line (https, or http on loopback).",
                        inputs: [
                            Self.field(
                                "redirect_origins",
                                "Allowed origins",
                                redirectOrigins.joined(separator: "\n"),
                                textarea: true
                            )
                        ]
                    )
                ],
            ]
        )
    }

    public func integration(
        _ definition: IntegrationDefinition,
        client: WorkspaceIntegration?,
        _ chrome: Chrome
    ) -> String {
        var forms: [[String: Any]] = []
        if definition.oauth2 != nil {
            forms.append(
                Self.form(
                    "integration-form",
                    heading: client == nil ? "Enable with the workspace's OAuth client" : "Update the OAuth client",
                    action: "/dashboard/integrations/\(definition.type)",
                    submit: "Save",
                    hint:
                        "The client secret is write-only: it is sealed and never shown again. Leave it empty to keep the stored one.",
                    inputs: [
                        Self.field("client_id", "Client ID", client?.clientID ?? "", required: true),
                        Self.field("client_secret", "Client secret", "", type: "password", required: client == nil),
                        Self.field(
                            "scopes",
                            "Extra scopes",
                            client?.extraScopes.joined(separator: ",") ?? "",
                            help: "Comma separated, asked for beside the catalog's defaults."
                        ),
                        Self.field(
                            "api_base_url",
                            "API base URL",
                            client?.apiBaseURL ?? "",
                            help: "For passthrough to a self-hosted instance; empty uses the catalog's."
                        ),
                    ]
                )
            )
            if client?.isActive == true {
                forms.append(
                    Self.form(
                        "disable-integration",
                        heading: "Disable",
                        action: "/dashboard/integrations/\(definition.type)/disable",
                        submit: "Disable \(definition.name)",
                        hint: "New authorizations are refused; existing connections keep working.",
                        danger: true
                    )
                )
            }
        }
        var fields: [[String: Any]] = [
            ["name": "Type", "value": definition.type],
            ["name": "Categories", "value": definition.categories.map(\.name).joined(separator: ", ")],
            [
                "name": "Authorization",
                "value": definition.oauth2 == nil
                    ? "API key (\(definition.tokenNames.joined(separator: ", ")))" : "OAuth 2",
            ],
            ["name": "Description", "value": definition.description ?? "—"],
            ["name": "Passthrough base URL", "value": definition.api?.baseURL ?? "none"],
        ]
        if let client {
            fields.append([
                "name": "Status", "value": client.isActive ? "enabled" : "disabled",
                "badge": client.isActive ? "ok" : "warn",
            ])
            fields.append(["name": "Client updated", "value": Self.time(client.updatedAt)])
        }
        return render(
            "detail",
            title: definition.name,
            chrome,
            [
                "back": ["href": "/dashboard/integrations", "label": "All integrations"],
                "fieldsID": "integration-fields", "fields": fields, "forms": forms,
            ]
        )
    }

    // MARK: - Keys, audit, secrets managers

    public func keys(
        _ keys: [APIKeyRecord],
        holder: ScopeSet,
        created: (id: String, key: String)? = nil,
        _ chrome: Chrome
    ) -> String {
        let rows = keys.map { key -> [String: Any] in
            let revoked = key.revokedAt != nil
            return [
                "dataName": "key-id", "dataValue": key.id, "flag": revoked ? "revoked" : "",
                "cells": [
                    ["text": key.id],
                    ["text": key.scopes == .all ? "full access" : key.scopes.text],
                    ["text": Self.time(key.createdAt)],
                    ["text": key.lastUsedAt.map(Self.time) ?? "never"],
                    [
                        "text": key.revokedAt.map { "revoked " + Self.time($0) } ?? "active",
                        "badge": revoked ? "bad" : "ok",
                    ],
                ] as [[String: Any]],
                "actions": revoked
                    ? [] as [[String: Any]]
                    : [
                        [
                            "formClass": "revoke-key", "action": "/dashboard/keys/\(key.id)/revoke", "label": "Revoke",
                            "danger": true,
                        ]
                    ],
            ]
        }
        var context: [String: Any] = [
            "table": Self.table(
                id: "keys",
                caption: "The workspace's API keys",
                columns: ["ID", "Scopes", "Created", "Last used", "Status", "Action"],
                rows: rows,
                empty: "No key.",
                csrf: chrome.signedIn?.csrfToken
            ),
            "forms": [
                Self.form(
                    "create-key",
                    heading: "Create a key",
                    action: "/dashboard/keys",
                    submit: "Create key",
                    hint: "A key can be given only scopes this session holds. The key is shown once.",
                    checkboxes: holder.sorted.map { ["name": "scopes", "value": $0.rawValue, "checked": false] },
                    legend: "Scopes"
                )
            ],
        ]
        if let created {
            context["sections"] = [
                [
                    "id": "created", "heading": "New key \(created.id)",
                    "lines": ["Copy it now: it is not shown again."],
                ]
            ]
            context["intro"] = nil
            return render(
                "detail",
                title: "API key created",
                chrome,
                [
                    "back": ["href": "/dashboard/keys", "label": "All keys"],
                    "fieldsID": "key-fields", "fields": [["name": "ID", "value": created.id]],
                    "output": created.key, "outputID": "new-key", "outputLabel": "The key",
                    "outputHint": "Copy it now: it is not shown again.",
                ]
            )
        }
        return render("list", title: "API keys", chrome, context)
    }

    public func audit(_ records: [AuditRecord], filters: [String: String], next: String?, _ chrome: Chrome) -> String {
        render(
            "list",
            title: "Audit log",
            chrome,
            [
                "filters": [
                    "action": "/dashboard/audit",
                    "fields": [
                        Self.select(
                            "action",
                            "Action",
                            [""] + AuditAction.allCases.map(\.rawValue),
                            [filters["action"] ?? ""],
                            any: "any"
                        ),
                        Self.input("connection_id", "Connection ID", filters["connection_id"] ?? ""),
                        Self.input("actor", "Actor (key id or cli)", filters["actor"] ?? ""),
                        Self.input("since", "Since", filters["since"] ?? "", placeholder: "2026-12-01T00:00:00Z"),
                    ],
                ],
                "table": Self.auditTable(records),
                "next": Self.maybe(next),
            ]
        )
    }

    public func secretsManagers(_ views: [SecretsManagerService.View], _ chrome: Chrome) -> String {
        let rows = views.map { view -> [String: Any] in
            [
                "dataName": "secrets-manager-id", "dataValue": view.manager.id.rawValue,
                "cells": [
                    ["text": view.manager.name],
                    ["text": view.manager.id.rawValue],
                    ["text": view.manager.type.rawValue],
                    // Public details only (region, vault address...): never a setting's secret value.
                    [
                        "text": view.publicAuth.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(
                            separator: "; "
                        )
                    ],
                    ["text": Self.time(view.manager.createdAt)],
                ] as [[String: Any]],
            ]
        }
        return render(
            "list",
            title: "Secrets managers",
            chrome,
            [
                "intro":
                    "External vaults this workspace's connections may keep their credentials in. Read only here; register and remove them through the API.",
                "table": Self.table(
                    id: "secrets-managers",
                    caption: "Registered secrets managers",
                    columns: ["Name", "ID", "Type", "Details", "Created"],
                    rows: rows,
                    empty: "No secrets manager is registered."
                ),
            ]
        )
    }

    // MARK: - API calls and events

    public func apiCalls(_ calls: [APICall], filters: [String: String], next: String?, _ chrome: Chrome) -> String {
        render(
            "list",
            title: "API calls",
            chrome,
            [
                "filters": [
                    "action": "/dashboard/api-calls",
                    "fields": [
                        Self.input("connection_id", "Connection ID", filters["connection_id"] ?? ""),
                        Self.input("env", "Environment", filters["env"] ?? ""),
                        Self.input("external_xref", "External reference", filters["external_xref"] ?? ""),
                        Self.select(
                            "is_error",
                            "Errors only",
                            ["", "true", "false"],
                            [filters["is_error"] ?? ""],
                            any: "all"
                        ),
                    ],
                ],
                "table": Self.callTable(calls),
                "next": Self.maybe(next),
            ]
        )
    }

    public func events(
        _ events: [Event],
        webhook: EventService.WebhookSettings?,
        filters: [String: String],
        next: String?,
        _ chrome: Chrome
    ) -> String {
        var lines: [String] = []
        var form: [String: Any]? = nil
        if let webhook {
            lines.append("Endpoint: \(webhook.url)")
            lines.append(
                "Event types: \(webhook.types.isEmpty ? "all" : webhook.types.map(\.rawValue).joined(separator: ", "))"
            )
            if webhook.isHealthy {
                lines.append("Status: delivering")
            } else {
                lines.append(
                    "Status: disabled\(webhook.disabledAt.map { " since " + Self.time($0) } ?? "")\(webhook.disabledReason.map { " (\($0))" } ?? ""); new events are held until it is resumed"
                )
                form = [
                    "formID": "resume-webhook", "action": "/dashboard/event-webhook/resume",
                    "label": "Resume deliveries",
                ]
            }
        } else {
            lines.append("No event webhook is set: events are recorded and listed here, and not sent anywhere.")
        }
        var section: [String: Any] = ["id": "webhook", "heading": "Event webhook", "lines": lines]
        if let form { section["form"] = form }
        return render(
            "list",
            title: "Events",
            chrome,
            [
                "sections": [section],
                "filters": [
                    "action": "/dashboard/events",
                    "fields": [
                        Self.select(
                            "event",
                            "Event",
                            [""] + EventType.allCases.map(\.rawValue),
                            [filters["event"] ?? ""],
                            any: "any"
                        ),
                        Self.input("connection_id", "Connection ID", filters["connection_id"] ?? ""),
                        Self.select(
                            "delivery_status",
                            "Delivery",
                            [""] + DeliveryStatus.allCases.map(\.rawValue),
                            [filters["delivery_status"] ?? ""],
                            any: "any"
                        ),
                    ],
                ],
                "table": Self.eventTable(events),
                "next": Self.maybe(next),
            ]
        )
    }

    public func event(_ event: Event, deliveries: [DeliveryAttempt], canRedeliver: Bool, _ chrome: Chrome) -> String {
        let rows = deliveries.map { attempt -> [String: Any] in
            [
                "cells": [
                    ["text": Self.time(attempt.at)],
                    [
                        "text": attempt.status.map(String.init) ?? "no answer",
                        "badge": attempt.error == nil ? "ok" : "bad",
                    ],
                    ["text": "\(attempt.latencyMilliseconds) ms"],
                    ["text": attempt.error ?? ""],
                    ["text": attempt.redelivery ? "yes" : ""],
                    ["text": String((attempt.responseBody ?? "").prefix(200))],
                ] as [[String: Any]]
            ]
        }
        var forms: [[String: Any]] = []
        if canRedeliver {
            forms.append(
                Self.form(
                    "redeliver",
                    heading: "Redeliver",
                    action: "/dashboard/events/\(event.id)/redeliver",
                    submit: "Send it again",
                    hint: "Queued again with the same webhook-id, so a receiver that already has it can tell."
                )
            )
        }
        return render(
            "detail",
            title: "Event \(event.id)",
            chrome,
            [
                "back": ["href": "/dashboard/events", "label": "All events"],
                "fieldsID": "event-fields",
                "fields": [
                    ["name": "Type", "value": event.type.rawValue],
                    ["name": "Created", "value": Self.time(event.createdAt)],
                    ["name": "Connection", "value": event.connectionID?.rawValue ?? "—"],
                    ["name": "Integration", "value": event.integrationType ?? "—"],
                    ["name": "External reference", "value": event.externalXref ?? "—"],
                    [
                        "name": "Delivery", "value": event.delivery.rawValue,
                        "badge": Self.deliveryBadge(event.delivery),
                    ],
                    ["name": "Attempts", "value": String(event.attempts)],
                ] as [[String: Any]],
                "forms": forms,
                "tables": [
                    Self.table(
                        id: "deliveries",
                        caption: "Delivery attempts",
                        columns: ["At", "Status", "Latency", "Error", "Redelivery", "Answer (start)"],
                        rows: rows,
                        empty: "No attempt yet."
                    )
                ],
            ]
        )
    }

    // MARK: - Hosted Connect page

    public func connect(_ page: DashboardService.ConnectPage, token: String, _ chrome: Chrome) -> String {
        render(
            "connect",
            title: "Connect an account",
            chrome,
            [
                "intro": "Choose the service to connect. You will be asked to authorize access, or for its API key.",
                "integrations": page.integrations.map { d -> [String: Any] in
                    [
                        "type": d.type, "name": d.name, "description": Self.maybe(d.description),
                        "color": Self.safeColor(d.color), "oauth": d.oauth2 != nil,
                        "action": d.oauth2 != nil
                            ? "/connect/\(token)/oauth/\(d.type)" : "/connect/\(token)/api-key/\(d.type)",
                    ]
                },
            ]
        )
    }

    public func connectKeys(_ definition: IntegrationDefinition, token: String, _ chrome: Chrome) -> String {
        render(
            "connect-keys",
            title: "Connect \(definition.name)",
            chrome,
            [
                "intro": "Enter what \(definition.name) gave you. It is encrypted at once and never shown again.",
                "action": "/connect/\(token)/api-key/\(definition.type)",
                "back": "/connect/\(token)",
                "inputs": definition.tokenNames.map { name -> [String: Any] in
                    [
                        "name": name,
                        "label": name.replacingOccurrences(of: "_", with: " ").capitalized,
                        "type": Self.secretTokenNames.contains(name) ? "password" : "text",
                    ]
                },
            ]
        )
    }

    /// Token names whose value is a secret (shown as dots while typed).
    static let secretTokenNames: Set<String> = [
        "api_key", "key", "token", "access_token", "client_secret", "consumer_secret", "password", "pem", "dev_api_key",
    ]

    // MARK: - Building blocks

    /// A value that may be absent, as the template engine needs it: an absent one is `false`
    /// (an Optional inside `Any` would count as present and print "nil").
    static func maybe(_ value: String?) -> Any { value.map { $0 as Any } ?? false }

    /// A table, rendered (`HTML.table`), with its caption for a section heading.
    static func table(
        id: String,
        caption: String,
        columns: [String],
        rows: [[String: Any]],
        empty: String,
        csrf: String? = nil
    ) -> [String: Any] {
        [
            "caption": caption,
            "html": HTML.table(
                id: id,
                caption: caption,
                columns: columns,
                rows: HTML.rows(rows),
                empty: empty,
                csrf: csrf
            ),
        ]
    }

    static func form(
        _ id: String,
        heading: String,
        action: String,
        submit: String,
        hint: String? = nil,
        inputs: [[String: Any]] = [],
        checkboxes: [[String: Any]] = [],
        legend: String = "",
        danger: Bool = false
    ) -> [String: Any] {
        [
            "formID": id, "heading": heading, "action": action, "submit": submit, "hint": Self.maybe(hint),
            "inputs": inputs, "checkboxes": checkboxes, "legend": legend, "danger": danger,
        ]
    }

    static func field(
        _ name: String,
        _ label: String,
        _ value: String,
        type: String = "text",
        required: Bool = false,
        textarea: Bool = false,
        help: String? = nil
    ) -> [String: Any] {
        [
            "name": name, "label": label, "value": value, "type": type, "required": required, "textarea": textarea,
            "help": Self.maybe(help),
        ]
    }

    static func input(
        _ name: String,
        _ label: String,
        _ value: String,
        placeholder: String? = nil,
        suggestions: [String] = []
    ) -> [String: Any] {
        [
            "name": name, "label": label, "value": value, "type": "text", "placeholder": Self.maybe(placeholder),
            "options": [] as [Any], "suggestions": suggestions,
        ]
    }

    static func select(
        _ name: String,
        _ label: String,
        _ values: [String],
        _ selected: [String],
        multiple: Bool = false,
        any: String = ""
    ) -> [String: Any] {
        [
            "name": name, "label": label, "multiple": multiple,
            "options": values.map { value -> [String: Any] in
                ["value": value, "text": value.isEmpty ? any : value, "selected": selected.contains(value)]
            },
        ]
    }

    static func auditTable(_ records: [AuditRecord]) -> [String: Any] {
        table(
            id: "audit",
            caption: "Audit records",
            columns: ["At", "Action", "Actor", "Connection", "Target", "From"],
            rows: records.map { record -> [String: Any] in
                [
                    "cells": [
                        ["text": time(record.at)],
                        ["text": record.action.rawValue],
                        ["text": record.actor],
                        record.connectionID.map {
                            ["text": $0.rawValue, "href": "/dashboard/connections/\($0.rawValue)"]
                        }
                            ?? ["text": ""],
                        ["text": record.target ?? ""],
                        ["text": record.clientAddress ?? ""],
                    ] as [[String: Any]]
                ]
            },
            empty: "No audit record."
        )
    }

    static func callTable(_ calls: [APICall]) -> [String: Any] {
        table(
            id: "api-calls",
            caption: "API calls",
            columns: ["At", "Type", "Method", "Path", "Status", "Error", "Total", "Provider", "Connection"],
            rows: calls.map { call -> [String: Any] in
                [
                    "cells": [
                        ["text": time(call.createdAt)],
                        ["text": call.kind.rawValue],
                        ["text": call.method],
                        ["text": call.path],
                        ["text": call.status, "badge": call.isError ? "bad" : "ok"],
                        ["text": call.error ?? ""],
                        ["text": "\(call.unifiedResponseTime) ms"],
                        ["text": call.endapiResponseTime.map { "\($0) ms" } ?? ""],
                        call.connectionID.map {
                            ["text": $0.rawValue, "href": "/dashboard/connections/\($0.rawValue)"]
                        }
                            ?? ["text": ""],
                    ] as [[String: Any]]
                ]
            },
            empty: "No API call."
        )
    }

    static func eventTable(_ events: [Event]) -> [String: Any] {
        table(
            id: "events",
            caption: "Events",
            columns: ["At", "Event", "Connection", "Integration", "Delivery", "Attempts"],
            rows: events.map { event -> [String: Any] in
                [
                    "dataName": "event-id", "dataValue": event.id,
                    "cells": [
                        ["text": time(event.createdAt), "href": "/dashboard/events/\(event.id)"],
                        ["text": event.type.rawValue],
                        event.connectionID.map {
                            ["text": $0.rawValue, "href": "/dashboard/connections/\($0.rawValue)"]
                        }
                            ?? ["text": ""],
                        ["text": event.integrationType ?? ""],
                        ["text": event.delivery.rawValue, "badge": deliveryBadge(event.delivery)],
                        ["text": String(event.attempts)],
                    ] as [[String: Any]],
                ]
            },
            empty: "No event."
        )
    }

    static func deliveryBadge(_ status: DeliveryStatus) -> String {
        switch status {
        case .delivered: "ok"
        case .failed: "bad"
        case .held, .pending: "warn"
        case .none: "neutral"
        }
    }

    static func health(_ connection: Connection) -> (String, String) {
        if connection.isPaused { return ("paused", "warn") }
        return connection.health.isHealthy ? ("healthy", "ok") : ("unhealthy", "bad")
    }

    /// Where the credentials are, never what they are.
    static func credentialsSummary(_ connection: Connection) -> String {
        let f = connection.fields
        if f.secretsmanagerID != nil { return "in a registered secrets manager" }
        if f.authAwsArn != nil { return "in AWS Secrets Manager" }
        if f.authAzureKeyvaultID != nil { return "in Azure Key Vault" }
        if f.authGcpSecretName != nil { return "in Google Secret Manager" }
        if f.authHashiVaultPath != nil { return "in HashiCorp Vault" }
        return connection.sealedAuth == nil ? "none" : "sealed in Switchboard (not shown)"
    }

    /// `2026-12-07 12:30:05 UTC`.
    static func time(_ timestamp: Timestamp) -> String {
        let stamp = timestamp.rfc3339.utf8
        return String(unsafeUninitializedCapacity: 23) { out in
            var i = 0
            for byte in stamp.prefix(19) {
                out[i] = byte == UInt8(ascii: "T") ? UInt8(ascii: " ") : byte
                i += 1
            }
            for byte in " UTC".utf8 {
                out[i] = byte
                i += 1
            }
            return i
        }
    }

    /// A catalog color as an SVG fill: `#RGB` or `#RRGGBB` only.
    static func safeColor(_ color: String?) -> String {
        guard let color, color.hasPrefix("#"), [4, 7].contains(color.count),
            color.dropFirst().allSatisfy(\.isHexDigit)
        else { return "#8A94A6" }
        return color
    }
}

struct DashboardResourceError: Error, CustomStringConvertible {
    var description: String { "the dashboard's templates are missing from the build's resources" }
}

/// Rendered fragments by the values they were rendered from, bounded: past its size it starts
/// over, so a crawl through every filter combination cannot grow it.
final class RenderCache: Sendable {
    private let entries = Mutex<[String: String]>([:])
    static let maximumEntries = 512

    func value(for key: String, render: () -> String) -> String {
        if let hit = entries.withLock({ $0[key] }) { return hit }
        let value = render()
        entries.withLock {
            if $0.count >= Self.maximumEntries { $0.removeAll(keepingCapacity: true) }
            $0[key] = value
        }
        return value
    }
}
