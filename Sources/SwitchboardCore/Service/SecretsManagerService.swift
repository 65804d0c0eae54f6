import Foundation

/// Registered secrets managers: create, read and delete them, and make a client for one. The
/// manager's own credentials are sealed like connection credentials and never shown back.
public struct SecretsManagerService: Sendable {
    private let store: any SecretsManagerStore
    private let sealer: any SecretSealer
    private let factory: any SecretsManagerClientFactory
    private let now: @Sendable () -> Timestamp

    public init(
        store: any SecretsManagerStore,
        sealer: any SecretSealer,
        factory: any SecretsManagerClientFactory,
        now: @escaping @Sendable () -> Timestamp
    ) {
        self.store = store
        self.sealer = sealer
        self.factory = factory
        self.now = now
    }

    /// Characters in one setting (a token, a key); the spec says the same.
    static let maximumSettingLength = 16_384

    /// What a client sends to register a manager.
    public struct Input: Sendable {
        public var name: String
        public var type: String
        public var auth: [String: String]
        public var dcs: [String]

        public init(name: String, type: String, auth: [String: String], dcs: [String]) {
            self.name = name
            self.type = type
            self.auth = auth
            self.dcs = dcs
        }
    }

    /// A manager as answers show it: `auth` holds only its non-secret settings.
    public struct View: Sendable, Equatable {
        public var manager: SecretsManager
        public var publicAuth: [String: String]
    }

    /// Where a workspace's connections may name secrets in a manager without
    /// `secretsmanagers:admin`, unless the manager's `prefix` setting says otherwise. Names under
    /// `switchboard/` (`switchboard-` in Azure and Google) outside it belong to other workspaces
    /// and are never reachable.
    public static func defaultPrefix(workspace: WorkspaceID, type: SecretsManagerType) -> String {
        let separator = type.nameSeparator
        return "\(reservedPrefix(type))\(workspace.rawValue)\(separator)"
    }

    /// The start of the names Switchboard derives for every workspace.
    static func reservedPrefix(_ type: SecretsManagerType) -> String { "switchboard" + type.nameSeparator }

    /// A manager's `prefix` setting, checked: it must end with the type's separator (`/`, or `-`
    /// in Azure and Google) and may not reach into another workspace's `switchboard/<id>/` names.
    static func prefix(
        _ setting: String?,
        workspace: WorkspaceID,
        type: SecretsManagerType
    ) throws(ValidationError)
        -> String
    {
        let own = defaultPrefix(workspace: workspace, type: type)
        guard let setting else { return own }
        let separator = type.nameSeparator
        guard !setting.isEmpty, setting.hasSuffix(separator), !setting.hasPrefix(separator),
            !setting.split(separator: "/").contains(where: { $0 == "." || $0 == ".." })
        else {
            let example = separator == "/" ? "apps/crm/" : "apps-crm-"
            throw ValidationError(
                field: "auth.prefix",
                message: "auth.prefix must end with \(separator), such as \(example) (default \(own))"
            )
        }
        // Compared as the manager compares names (Key Vault ignores case).
        let comparable = type.comparable(setting)
        guard !comparable.hasPrefix(reservedPrefix(type)) || comparable.hasPrefix(type.comparable(own)) else {
            throw ValidationError(
                field: "auth.prefix",
                message:
                    "auth.prefix may not name another workspace's \(reservedPrefix(type)) secrets; use \(own) or a name below it"
            )
        }
        return setting
    }

    public func create(_ input: Input, by principal: Principal) async throws -> View {
        try principal.require(.secretsManagersAdmin)
        // Spaces and tabs around the name are dropped (the spec's pattern says as much).
        let name = input.name.trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
        guard !name.isEmpty else { throw invalid("name", "name must not be empty") }
        guard let type = SecretsManagerType(rawValue: input.type) else {
            let known = SecretsManagerType.allCases.map(\.rawValue).joined(separator: ", ")
            throw invalid("type", "type must be one of \(known); got \"\(input.type.prefix(64))\"")
        }
        guard SecretsManagerType.supported.contains(type) else {
            let supported = SecretsManagerType.supported.map(\.rawValue).joined(separator: ", ")
            throw invalid("type", "type \(type.rawValue) is not supported here; Switchboard supports \(supported)")
        }
        do {
            try Limits.checkLabel(name, field: "name")
            for (key, value) in input.auth {
                try Limits.checkLabel(key, field: "auth")
                try Limits.checkLabel(value, field: "auth.\(key)", maximum: Self.maximumSettingLength)
            }
            for dc in input.dcs { try Limits.checkLabel(dc, field: "dcs") }
        } catch { throw ServiceError.invalid(error) }
        // Building a client validates every setting (required keys, URL forms) before anything is stored.
        do {
            _ = try factory.client(type: type, auth: input.auth, name: name)
            _ = try Self.prefix(input.auth["prefix"], workspace: principal.workspaceID, type: type)
            try await factory.checkDestination(type: type, auth: input.auth)
        } catch { throw ServiceError.invalid(error) }
        let time = now()
        let id = SecretsManagerID.generate(at: time)
        let manager = SecretsManager(
            id: id,
            workspaceID: principal.workspaceID,
            name: name,
            type: type,
            dcs: input.dcs,
            createdAt: time,
            updatedAt: time
        )
        let sealed = try sealer.seal(
            Self.encode(input.auth),
            context: SealContext(workspaceID: principal.workspaceID, secretsManagerID: id)
        )
        try await store.insert(
            StoredSecretsManager(manager: manager, sealedAuth: sealed),
            audit: AuditRecord(.secretsManagerCreate, by: principal, at: time, target: id.rawValue)
        )
        return View(manager: manager, publicAuth: publicSettings(input.auth, type: type))
    }

    public func get(_ id: SecretsManagerID, by principal: Principal) async throws -> View {
        try principal.require(.secretsManagersAdmin)
        return try view(try await stored(id, workspace: principal.workspaceID))
    }

    public func list(limit: Int, offset: Int, by principal: Principal) async throws -> [View] {
        try principal.require(.secretsManagersAdmin)
        return try await store.secretsManagers(workspace: principal.workspaceID, limit: limit, offset: offset)
            .map(view)
    }

    /// How to fill in each setting of each supported type. Not secret, but only for callers with a
    /// valid key, like the rest of the API.
    public func instructions() -> [SecretsManagerInstruction] { factory.instructions }

    /// Refused (409) while a connection keeps its credentials in the manager.
    public func delete(_ id: SecretsManagerID, by principal: Principal) async throws {
        try principal.require(.secretsManagersAdmin)
        let record = AuditRecord(.secretsManagerDelete, by: principal, at: now(), target: id.rawValue)
        guard try await store.deleteSecretsManager(id: id, workspace: principal.workspaceID, audit: record) else {
            throw ServiceError.secretsManagerNotFound(id.rawValue)
        }
    }

    /// A registered manager ready to call: its client, type and name prefix.
    public struct Resolved: Sendable {
        public var client: any SecretsManagerClient
        public var type: SecretsManagerType
        /// Where the workspace's connections may name secrets without `secretsmanagers:admin`.
        public var prefix: String
    }

    /// A client for the workspace's manager `id`, with its type and prefix.
    public func client(for id: SecretsManagerID, workspace: WorkspaceID) async throws -> Resolved {
        let stored = try await stored(id, workspace: workspace)
        let auth = try open(stored)
        do {
            return Resolved(
                client: try factory.client(type: stored.manager.type, auth: auth, name: stored.manager.name),
                type: stored.manager.type,
                prefix: try Self.prefix(auth["prefix"], workspace: workspace, type: stored.manager.type)
            )
        } catch {
            // Settings were validated at registration; a failure now means this version reads them differently.
            throw ServiceError.invalid(error)
        }
    }

    // MARK: Ownership of the secrets Switchboard creates

    /// Records that `connection` creates `name`; false when another connection owns the name.
    func claim(_ name: String, in manager: SecretsManagerID, for connection: Connection) async throws -> Bool {
        try await store.claimExternalSecret(
            ExternalSecretRecord(
                secretsManagerID: manager,
                name: name,
                workspaceID: connection.workspaceID,
                connectionID: connection.id,
                createdAt: now()
            )
        )
    }

    func owner(of name: String, in manager: SecretsManagerID) async throws -> ConnectionID? {
        try await store.externalSecretOwner(secretsManager: manager, name: name)
    }

    func release(_ name: String, in manager: SecretsManagerID) async throws {
        try await store.releaseExternalSecret(secretsManager: manager, name: name)
    }

    private func stored(_ id: SecretsManagerID, workspace: WorkspaceID) async throws -> StoredSecretsManager {
        guard let stored = try await store.secretsManager(id: id, workspace: workspace) else {
            throw ServiceError.secretsManagerNotFound(id.rawValue)
        }
        return stored
    }

    private func view(_ stored: StoredSecretsManager) throws -> View {
        View(manager: stored.manager, publicAuth: publicSettings(try open(stored), type: stored.manager.type))
    }

    private func open(_ stored: StoredSecretsManager) throws -> [String: String] {
        let context = SealContext(workspaceID: stored.manager.workspaceID, secretsManagerID: stored.manager.id)
        return Self.decode(try sealer.open(stored.sealedAuth, context: context))
    }

    private func publicSettings(_ auth: [String: String], type: SecretsManagerType) -> [String: String] {
        let visible = factory.publicSettings(for: type)
        return auth.filter { visible.contains($0.key) }
    }

    private func invalid(_ field: String, _ message: String) -> ServiceError {
        .invalid(ValidationError(field: field, message: message))
    }

    /// The settings as a JSON object of strings, in key order.
    static func encode(_ auth: [String: String]) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        for key in auth.keys.sorted() { writer.member(key, auth[key]!) }
        writer.endObject()
        return writer.bytes
    }

    /// Reads what `encode` wrote; anything else yields no settings.
    static func decode(_ bytes: [UInt8]) -> [String: String] {
        guard case .object(let members)? = try? JSONParser.parse(bytes) else { return [:] }
        var auth: [String: String] = [:]
        for (key, value) in members { if case .string(let text) = value { auth[key] = text } }
        return auth
    }
}
