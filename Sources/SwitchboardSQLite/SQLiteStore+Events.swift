import Foundation
import GRDB
import SwitchboardCore

extension SQLiteStore {
    static let eventColumns = """
        id, workspace_id, type, created_at, updated_at, connection_id, integration_type, environment, \
        external_xref, description, delivery, attempts, sent_at
        """

    static let webhookColumns = """
        workspace_id, url, types, secret_key_id, secret_ciphertext, previous_key_id, previous_ciphertext, \
        previous_until, disabled_at, disabled_reason, updated_at
        """

    /// The ten fields an event is recorded with (`eventColumns` up to `description`), in order.
    static func recordedFields(of event: Event) -> [(any DatabaseValueConvertible)?] {
        [
            event.id, event.workspaceID.rawValue, event.type.rawValue, event.createdAt.millisecondsSinceEpoch,
            event.updatedAt.millisecondsSinceEpoch, event.connectionID?.rawValue, event.integrationType,
            event.environment, event.externalXref, event.description,
        ]
    }

    /// Inserts events inside the caller's write transaction. Whether each enters the outbox is
    /// decided here, from the workspace's webhook as this transaction sees it.
    static func appendEvents(_ events: [Event], _ db: Database) throws {
        guard !events.isEmpty else { return }
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO events (id, workspace_id, type, created_at, updated_at, connection_id,
                    integration_type, environment, external_xref, description, due_at, delivery)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE((
                    SELECT CASE WHEN disabled_at IS NULL THEN 'pending' ELSE 'held' END FROM event_webhooks
                    WHERE workspace_id = ? AND (types = '' OR instr(',' || types || ',', ',' || ? || ',') > 0)
                ), 'none'))
                """
        )
        for event in events {
            let values =
                recordedFields(of: event) + [
                    event.createdAt.millisecondsSinceEpoch, event.workspaceID.rawValue, event.type.rawValue,
                ]
            try statement.execute(arguments: StatementArguments(values))
        }
    }

    public func events(_ query: EventQuery) async throws -> [Event] {
        var sql = "SELECT \(Self.eventColumns) FROM events WHERE workspace_id = ?"
        var arguments: [(any DatabaseValueConvertible)?] = [query.workspaceID.rawValue]
        func filter(_ condition: String, _ value: (any DatabaseValueConvertible)?) {
            guard let value else { return }
            sql += " AND \(condition)"
            arguments.append(value)
        }
        filter("connection_id = ?", query.connectionID?.rawValue)
        filter("environment = ?", query.environment)
        filter("delivery = ?", query.delivery?.rawValue)
        filter("updated_at >= ?", query.updatedGTE?.millisecondsSinceEpoch)
        if !query.types.isEmpty {
            sql += " AND type IN (\(query.types.map { _ in "?" }.joined(separator: ", ")))"
            arguments += query.types.map(\.rawValue)
        }
        let direction = query.descending ? "DESC" : "ASC"
        sql += " ORDER BY \(query.sort.rawValue) \(direction), id \(direction) LIMIT ? OFFSET ?"
        arguments += [query.limit, query.offset]
        let (statementSQL, statementArguments) = (sql, StatementArguments(arguments))
        return try await mapped {
            try await pool.read { db in
                try Row.fetchAll(db, sql: statementSQL, arguments: statementArguments).map(Self.event(from:))
            }
        }
    }

    public func event(id: String, workspace: WorkspaceID) async throws -> Event? {
        try await mapped {
            try await pool.read { db in
                try Self.fetchEvent(id: id, workspace: workspace, db)
            }
        }
    }

    public func eventWebhook(workspace: WorkspaceID) async throws -> EventWebhook? {
        try await mapped {
            try await pool.read { db in
                try Row.fetchOne(
                    db,
                    sql: "SELECT \(Self.webhookColumns) FROM event_webhooks WHERE workspace_id = ?",
                    arguments: [workspace.rawValue]
                ).map { Self.webhook(from: $0) }
            }
        }
    }

    public func setEventWebhook(_ webhook: EventWebhook?, workspace: WorkspaceID, audit: AuditRecord) async throws {
        try await mapped {
            try await pool.write { db in
                if let webhook {
                    try db.execute(
                        sql: """
                            INSERT INTO event_webhooks (\(Self.webhookColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            ON CONFLICT (workspace_id) DO UPDATE SET url = excluded.url, types = excluded.types,
                                secret_key_id = excluded.secret_key_id, secret_ciphertext = excluded.secret_ciphertext,
                                previous_key_id = excluded.previous_key_id,
                                previous_ciphertext = excluded.previous_ciphertext,
                                previous_until = excluded.previous_until, disabled_at = excluded.disabled_at,
                                disabled_reason = excluded.disabled_reason, updated_at = excluded.updated_at
                            """,
                        arguments: StatementArguments(Self.values(of: webhook))
                    )
                } else {
                    try db.execute(
                        sql: "DELETE FROM event_webhooks WHERE workspace_id = ?",
                        arguments: [workspace.rawValue]
                    )
                    try db.execute(
                        sql: """
                            UPDATE events SET delivery = 'none', lease_owner = NULL, lease_until = NULL, updated_at = ?
                            WHERE workspace_id = ? AND delivery IN ('pending', 'held')
                            """,
                        arguments: [audit.at.millisecondsSinceEpoch, workspace.rawValue]
                    )
                }
                try Self.appendAudit([audit], db)
            }
        }
    }

    public func resumeEventWebhook(
        workspace: WorkspaceID,
        at time: Timestamp,
        audit: AuditRecord
    ) async throws
        -> Bool
    {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        UPDATE event_webhooks SET disabled_at = NULL, disabled_reason = NULL, updated_at = ?
                        WHERE workspace_id = ?
                        """,
                    arguments: [time.millisecondsSinceEpoch, workspace.rawValue]
                )
                guard db.changesCount == 1 else { return false }
                try db.execute(
                    sql: """
                        UPDATE events SET delivery = 'pending', failures = 0, due_at = ?, updated_at = ?
                        WHERE workspace_id = ? AND delivery = 'held'
                        """,
                    arguments: [time.millisecondsSinceEpoch, time.millisecondsSinceEpoch, workspace.rawValue]
                )
                try Self.appendAudit([audit], db)
                return true
            }
        }
    }

    public func redeliverEvent(
        id: String,
        workspace: WorkspaceID,
        at time: Timestamp,
        audit: AuditRecord
    )
        async throws -> Event?
    {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        UPDATE events SET delivery = 'pending', failures = 0, due_at = ?, updated_at = ?,
                            lease_owner = NULL, lease_until = NULL
                        WHERE id = ? AND workspace_id = ?
                        """,
                    arguments: [time.millisecondsSinceEpoch, time.millisecondsSinceEpoch, id, workspace.rawValue]
                )
                guard db.changesCount == 1 else { return nil }
                try Self.appendAudit([audit], db)
                return try Self.fetchEvent(id: id, workspace: workspace, db)
            }
        }
    }

    public func claimDueDeliveries(
        owner: String,
        at time: Timestamp,
        until: Timestamp,
        limit: Int,
        perWorkspace: Int,
        excluding: [WorkspaceID]
    ) async throws -> [DeliveryClaim] {
        let now = time.millisecondsSinceEpoch
        var arguments: [(any DatabaseValueConvertible)?] = [now, now]
        var exclusion = ""
        if !excluding.isEmpty {
            exclusion = " AND workspace_id NOT IN (\(excluding.map { _ in "?" }.joined(separator: ", ")))"
            arguments += excluding.map(\.rawValue)
        }
        // The oldest due events (a bounded window of them), at most `perWorkspace` of each
        // workspace, so one workspace's backlog does not fill the claim.
        arguments += [limit * 4, perWorkspace, limit]
        let sql = """
            SELECT \(Self.eventColumns.split(separator: ",").map { "e." + $0.drop { $0 == " " } }
                .joined(separator: ", ")), e.failures, e.due_at,
                \(Self.webhookColumns.split(separator: ",").map { "w." + $0.drop { $0 == " " } }
                .joined(separator: ", "))
            FROM (
                SELECT *, ROW_NUMBER() OVER (PARTITION BY workspace_id ORDER BY due_at) AS place FROM (
                    SELECT * FROM events
                    WHERE delivery = 'pending' AND due_at <= ? AND (lease_until IS NULL OR lease_until <= ?)\(exclusion)
                    ORDER BY due_at LIMIT ?
                )
            ) e JOIN event_webhooks w ON w.workspace_id = e.workspace_id AND w.disabled_at IS NULL
            WHERE e.place <= ?
            ORDER BY e.due_at LIMIT ?
            """
        let statementArguments = StatementArguments(arguments)
        return try await mapped {
            // A read first: an idle deliverer polls without taking the single writer.
            let due = try await pool.read { db in
                try Bool.fetchOne(
                    db,
                    sql: """
                        SELECT EXISTS (SELECT 1 FROM events WHERE delivery = 'pending' AND due_at <= ?
                            AND (lease_until IS NULL OR lease_until <= ?))
                        """,
                    arguments: [now, now]
                ) ?? false
            }
            guard due else { return [] }
            // One write transaction: no other claimer (in any process) runs between the select and
            // the lease updates, so an event is never claimed twice.
            return try await pool.write { db in
                let claims = try Row.fetchAll(db, sql: sql, arguments: statementArguments).map { row in
                    DeliveryClaim(
                        event: Self.event(from: row),
                        webhook: Self.webhook(from: row, startingAt: 15),
                        failures: row[13],
                        dueAt: Timestamp(millisecondsSinceEpoch: row[14])
                    )
                }
                let lease = try db.cachedStatement(
                    sql: "UPDATE events SET lease_owner = ?, lease_until = ? WHERE id = ?"
                )
                for claim in claims {
                    try lease.execute(arguments: [owner, until.millisecondsSinceEpoch, claim.event.id])
                }
                return claims
            }
        }
    }

    public func releaseDeliveries(_ claims: [DeliveryClaim], owner: String) async throws {
        guard !claims.isEmpty else { return }
        try await mapped {
            try await pool.write { db in
                let release = try db.cachedStatement(
                    sql: "UPDATE events SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?"
                )
                for claim in claims { try release.execute(arguments: [claim.event.id, owner]) }
            }
        }
    }

    public func finishDeliveries(_ outcomes: [DeliveryOutcome], owner: String, at time: Timestamp) async throws {
        guard !outcomes.isEmpty else { return }
        let now = time.millisecondsSinceEpoch
        try await mapped {
            try await pool.write { db in
                let log = try db.cachedStatement(
                    sql: """
                        INSERT INTO event_deliveries (event_id, workspace_id, at, status, latency_ms, error,
                            response_body, redelivery)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """
                )
                let finish = try db.cachedStatement(
                    sql: """
                        UPDATE events SET delivery = ?, attempts = attempts + 1, failures = ?, due_at = ?,
                            sent_at = COALESCE(?, sent_at), updated_at = ?, lease_owner = NULL, lease_until = NULL
                        WHERE id = ? AND lease_owner = ?
                        """
                )
                for outcome in outcomes {
                    let attempt = outcome.attempt
                    try log.execute(
                        arguments: [
                            attempt.eventID, attempt.workspaceID.rawValue, attempt.at.millisecondsSinceEpoch,
                            attempt.status, attempt.latencyMilliseconds, attempt.error, attempt.responseBody,
                            attempt.redelivery ? 1 : 0,
                        ]
                    )
                    let (delivery, failures, due, sent) = outcome.row(at: now)
                    try finish.execute(
                        arguments: [
                            delivery.rawValue, failures, due, sent, now, outcome.claim.event.id, owner,
                        ]
                    )
                    guard db.changesCount == 1 else { continue }
                    if let reason = outcome.disablesEndpoint {
                        try Self.disableWebhook(outcome.claim.event.workspaceID, reason: reason, at: time, db)
                    }
                }
            }
        }
    }

    /// Disables the workspace's webhook (if it is not already), holds its pending events, and
    /// records `WEBHOOK_UNHEALTHY`.
    private static func disableWebhook(
        _ workspace: WorkspaceID,
        reason: String,
        at time: Timestamp,
        _ db: Database
    )
        throws
    {
        try db.execute(
            sql: """
                UPDATE event_webhooks SET disabled_at = ?, disabled_reason = ?, updated_at = ?
                WHERE workspace_id = ? AND disabled_at IS NULL
                """,
            arguments: [time.millisecondsSinceEpoch, reason, time.millisecondsSinceEpoch, workspace.rawValue]
        )
        guard db.changesCount == 1 else { return }
        try db.execute(
            sql: """
                UPDATE events SET delivery = 'held', lease_owner = NULL, lease_until = NULL, updated_at = ?
                WHERE workspace_id = ? AND delivery = 'pending'
                """,
            arguments: [time.millisecondsSinceEpoch, workspace.rawValue]
        )
        try appendEvents([Event(.webhookUnhealthy, workspace: workspace, at: time, description: reason)], db)
    }

    public func deliveryBacklog(at time: Timestamp) async throws -> (due: Int, earliestDue: Timestamp?) {
        try await mapped {
            try await pool.read { db in
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*), MIN(due_at) FROM events
                        WHERE delivery = 'pending' AND due_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
                        """,
                    arguments: [time.millisecondsSinceEpoch, time.millisecondsSinceEpoch]
                )
                return (
                    row?[0] ?? 0, (row?[1] as Int64?).map(Timestamp.init(millisecondsSinceEpoch:))
                )
            }
        }
    }

    public func deliveryAttempts(eventID: String, workspace: WorkspaceID) async throws -> [DeliveryAttempt] {
        try await mapped {
            try await pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT event_id, workspace_id, at, status, latency_ms, error, response_body, redelivery
                        FROM event_deliveries WHERE event_id = ? AND workspace_id = ? ORDER BY seq
                        """,
                    arguments: [eventID, workspace.rawValue]
                ).map { row in
                    DeliveryAttempt(
                        eventID: row[0],
                        workspaceID: WorkspaceID(rawValue: row[1]),
                        at: Timestamp(millisecondsSinceEpoch: row[2]),
                        status: row[3],
                        latencyMilliseconds: row[4],
                        error: row[5],
                        responseBody: row[6],
                        redelivery: (row[7] as Int64) != 0
                    )
                }
            }
        }
    }

    public func purgeEvents(before cutoff: Timestamp, limit: Int) async throws -> Int {
        try await mapped {
            try await pool.write { db in
                let ids = try String.fetchAll(
                    db,
                    sql:
                        "SELECT id FROM events WHERE created_at < ? AND delivery <> 'pending' ORDER BY created_at LIMIT ?",
                    arguments: [cutoff.millisecondsSinceEpoch, limit]
                )
                guard !ids.isEmpty else { return 0 }
                let list = ids.map { _ in "?" }.joined(separator: ", ")
                try db.execute(
                    sql: "DELETE FROM event_deliveries WHERE event_id IN (\(list))",
                    arguments: StatementArguments(ids)
                )
                try db.execute(sql: "DELETE FROM events WHERE id IN (\(list))", arguments: StatementArguments(ids))
                return ids.count
            }
        }
    }

    public func eventWebhooksSealed(
        notWith keyID: String,
        after workspace: WorkspaceID?,
        limit: Int
    ) async throws
        -> [EventWebhook]
    {
        try await mapped {
            try await pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(Self.webhookColumns) FROM event_webhooks
                        WHERE (secret_key_id <> ? OR previous_key_id <> ?) AND workspace_id > ?
                        ORDER BY workspace_id LIMIT ?
                        """,
                    arguments: [keyID, keyID, workspace?.rawValue ?? "", limit]
                ).map { Self.webhook(from: $0) }
            }
        }
    }

    public func replaceSealedWebhookSecrets(old: EventWebhook, new: EventWebhook) async throws -> Bool {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        UPDATE event_webhooks SET secret_key_id = ?, secret_ciphertext = ?, previous_key_id = ?,
                            previous_ciphertext = ?
                        WHERE workspace_id = ? AND secret_key_id = ? AND secret_ciphertext = ?
                          AND previous_ciphertext IS ?
                        """,
                    arguments: [
                        new.secret.keyID, Data(new.secret.ciphertext), new.previousSecret?.keyID,
                        new.previousSecret.map { Data($0.ciphertext) }, old.workspaceID.rawValue, old.secret.keyID,
                        Data(old.secret.ciphertext), old.previousSecret.map { Data($0.ciphertext) },
                    ]
                )
                return db.changesCount == 1
            }
        }
    }

    // MARK: - Copying

    public func allEventWebhooks() async throws -> [EventWebhook] {
        try await mapped {
            try await pool.read { db in
                try Row.fetchAll(db, sql: "SELECT \(Self.webhookColumns) FROM event_webhooks ORDER BY workspace_id")
                    .map { Self.webhook(from: $0) }
            }
        }
    }

    public func importEventWebhooks(_ webhooks: [EventWebhook]) async throws -> Int {
        try await mapped {
            try await pool.write { db in
                let statement = try db.cachedStatement(
                    sql: """
                        INSERT OR IGNORE INTO event_webhooks (\(Self.webhookColumns))
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """
                )
                var inserted = 0
                for webhook in webhooks {
                    try statement.execute(arguments: StatementArguments(Self.values(of: webhook)))
                    inserted += db.changesCount
                }
                return inserted
            }
        }
    }

    public func events(after id: String?, limit: Int) async throws -> [Event] {
        try await mapped {
            try await pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: "SELECT \(Self.eventColumns) FROM events WHERE id > ? ORDER BY id LIMIT ?",
                    arguments: [id ?? "", limit]
                ).map(Self.event(from:))
            }
        }
    }

    public func importEvents(_ events: [Event]) async throws -> Int {
        let now = Timestamp.now().millisecondsSinceEpoch
        return try await mapped {
            try await pool.write { db in
                let statement = try db.cachedStatement(
                    sql: """
                        INSERT OR IGNORE INTO events (\(Self.eventColumns), due_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """
                )
                var inserted = 0
                for e in events {
                    let values =
                        Self.recordedFields(of: e) + [
                            e.delivery.rawValue, e.attempts, e.sentAt?.millisecondsSinceEpoch,
                            e.delivery == .pending ? now : nil,
                        ]
                    try statement.execute(arguments: StatementArguments(values))
                    inserted += db.changesCount
                }
                return inserted
            }
        }
    }

    // MARK: - Rows

    static func fetchEvent(id: String, workspace: WorkspaceID, _ db: Database) throws -> Event? {
        try Row.fetchOne(
            db,
            sql: "SELECT \(eventColumns) FROM events WHERE id = ? AND workspace_id = ?",
            arguments: [id, workspace.rawValue]
        ).map(event(from:))
    }

    static func event(from row: Row) -> Event {
        func time(_ value: Int64?) -> Timestamp? { value.map(Timestamp.init(millisecondsSinceEpoch:)) }
        return Event(
            id: row[0],
            workspaceID: WorkspaceID(rawValue: row[1]),
            type: EventType(rawValue: row[2]) ?? .workspaceUpdated,
            createdAt: Timestamp(millisecondsSinceEpoch: row[3]),
            updatedAt: Timestamp(millisecondsSinceEpoch: row[4]),
            connectionID: (row[5] as String?).map(ConnectionID.init(rawValue:)),
            integrationType: row[6],
            environment: row[7],
            externalXref: row[8],
            description: row[9],
            delivery: DeliveryStatus(rawValue: row[10]) ?? .none,
            attempts: row[11],
            sentAt: time(row[12])
        )
    }

    static func webhook(from row: Row, startingAt first: Int = 0) -> EventWebhook {
        func time(_ value: Int64?) -> Timestamp? { value.map(Timestamp.init(millisecondsSinceEpoch:)) }
        let previous: SealedSecret? =
            if let keyID = row[first + 5] as String?, let data = row[first + 6] as Data? {
                SealedSecret(keyID: keyID, ciphertext: Array(data))
            } else { nil }
        return EventWebhook(
            workspaceID: WorkspaceID(rawValue: row[first]),
            url: row[first + 1],
            types: EventWebhook.types(fromText: row[first + 2]),
            secret: SealedSecret(keyID: row[first + 3], ciphertext: Array(row[first + 4] as Data)),
            previousSecret: previous,
            previousUntil: time(row[first + 7]),
            disabledAt: time(row[first + 8]),
            disabledReason: row[first + 9],
            updatedAt: Timestamp(millisecondsSinceEpoch: row[first + 10])
        )
    }

    static func values(of webhook: EventWebhook) -> [(any DatabaseValueConvertible)?] {
        [
            webhook.workspaceID.rawValue, webhook.url, webhook.typesText, webhook.secret.keyID,
            Data(webhook.secret.ciphertext), webhook.previousSecret?.keyID,
            webhook.previousSecret.map { Data($0.ciphertext) }, webhook.previousUntil?.millisecondsSinceEpoch,
            webhook.disabledAt?.millisecondsSinceEpoch, webhook.disabledReason,
            webhook.updatedAt.millisecondsSinceEpoch,
        ]
    }
}
