import Logging
import NIOCore
import PostgresNIO
import SwitchboardCore

extension PostgresStore {
    static let eventColumns = """
        id, workspace_id, type, created_at, updated_at, connection_id, integration_type, environment, \
        external_xref, description, delivery, attempts, sent_at
        """

    static let webhookColumns = """
        workspace_id, url, types, secret_key_id, secret_ciphertext, previous_key_id, previous_ciphertext, \
        previous_until, disabled_at, disabled_reason, updated_at
        """

    /// The audit records and the events of one write, as one statement (a data-modifying CTE when
    /// there are both), to run inside the write's transaction; nil when there is nothing to write.
    /// Whether each event enters the outbox is decided from the workspace's webhook as the
    /// transaction sees it.
    static func journalQuery(audit: [AuditRecord], events: [Event]) -> PostgresQuery? {
        guard !events.isEmpty else { return audit.isEmpty ? nil : appendAuditQuery(audit) }
        var binds = PostgresBindings(capacity: audit.count * 7 + events.count * 10)
        var prefix = ""
        if !audit.isEmpty {
            let auditQuery = appendAuditQuery(audit)
            binds = auditQuery.binds
            prefix = "WITH audit AS (\(auditQuery.sql)) "
        }
        var rows: [String] = []
        let casts = ["text", "text", "text", "bigint", "bigint", "text", "text", "text", "text", "text"]
        for event in events {
            let first = binds.count + 1
            rows.append(
                "(" + casts.enumerated().map { "$\(first + $0.offset)::\($0.element)" }.joined(separator: ", ") + ")"
            )
            bindRecordedFields(of: event, into: &binds)
        }
        return PostgresQuery(
            unsafeSQL: prefix + """
                INSERT INTO events (id, workspace_id, type, created_at, updated_at, connection_id, integration_type,
                    environment, external_xref, description, due_at, delivery)
                SELECT v.id, v.workspace_id, v.type, v.created_at, v.updated_at, v.connection_id, v.integration_type,
                    v.environment, v.external_xref, v.description, v.created_at,
                    COALESCE((
                        SELECT CASE WHEN w.disabled_at IS NULL THEN 'pending' ELSE 'held' END FROM event_webhooks w
                        WHERE w.workspace_id = v.workspace_id
                          AND (w.types = '' OR position(',' || v.type || ',' in ',' || w.types || ',') > 0)
                    ), 'none')
                FROM (VALUES \(rows.joined(separator: ", "))) AS v(id, workspace_id, type, created_at, updated_at,
                    connection_id, integration_type, environment, external_xref, description)
                """,
            binds: binds
        )
    }

    /// The ten fields an event is recorded with (`eventColumns` up to `description`), in order.
    static func bindRecordedFields(of event: Event, into binds: inout PostgresBindings) {
        func optional(_ value: String?) { if let value { binds.append(value) } else { binds.appendNull() } }
        binds.append(event.id)
        binds.append(event.workspaceID.rawValue)
        binds.append(event.type.rawValue)
        binds.append(event.createdAt.millisecondsSinceEpoch)
        binds.append(event.updatedAt.millisecondsSinceEpoch)
        optional(event.connectionID?.rawValue)
        optional(event.integrationType)
        optional(event.environment)
        optional(event.externalXref)
        optional(event.description)
    }

    static func appendEventsQuery(_ events: [Event]) -> PostgresQuery {
        journalQuery(audit: [], events: events)!
    }

    public func events(_ query: EventQuery) async throws -> [Event] {
        var binds = PostgresBindings()
        var sql = "SELECT \(Self.eventColumns) FROM events WHERE workspace_id = $1"
        binds.append(query.workspaceID.rawValue)
        func filter(_ column: String, _ value: String?) {
            guard let value else { return }
            binds.append(value)
            sql += " AND \(column) = $\(binds.count)"
        }
        filter("connection_id", query.connectionID?.rawValue)
        filter("environment", query.environment)
        filter("delivery", query.delivery?.rawValue)
        if let since = query.updatedGTE {
            binds.append(since.millisecondsSinceEpoch)
            sql += " AND updated_at >= $\(binds.count)"
        }
        if !query.types.isEmpty {
            binds.append(query.types.map(\.rawValue))
            sql += " AND type = ANY($\(binds.count))"
        }
        let direction = query.descending ? "DESC" : "ASC"
        binds.append(Int64(query.limit))
        binds.append(Int64(query.offset))
        sql +=
            " ORDER BY \(query.sort.rawValue) \(direction), id \(direction) LIMIT $\(binds.count - 1) OFFSET $\(binds.count)"
        let statement = PostgresQuery(unsafeSQL: sql, binds: binds)
        return try await mapped { [client, logger] in
            try await Self.events(try await client.query(statement, logger: logger))
        }
    }

    public func event(id: String, workspace: WorkspaceID) async throws -> Event? {
        try await mapped { [client, logger] in
            try await Self.events(
                try await client.query(
                    """
                    SELECT \(unescaped: Self.eventColumns) FROM events
                    WHERE id = \(id) AND workspace_id = \(workspace.rawValue)
                    """,
                    logger: logger
                )
            ).first
        }
    }

    public func eventWebhook(workspace: WorkspaceID) async throws -> EventWebhook? {
        try await mapped { [client, logger] in
            var webhook: EventWebhook?
            for try await row in try await client.query(
                "SELECT \(unescaped: Self.webhookColumns) FROM event_webhooks WHERE workspace_id = \(workspace.rawValue)",
                logger: logger
            ) {
                webhook = try Self.webhook(from: row.makeRandomAccess(), startingAt: 0)
            }
            return webhook
        }
    }

    public func setEventWebhook(_ webhook: EventWebhook?, workspace: WorkspaceID, audit: AuditRecord) async throws {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                if let w = webhook {
                    _ = try await connection.query(
                        """
                        INSERT INTO event_webhooks (\(unescaped: Self.webhookColumns)) VALUES (
                            \(w.workspaceID.rawValue), \(w.url), \(w.typesText), \(w.secret.keyID),
                            \(ByteBuffer(bytes: w.secret.ciphertext)), \(w.previousSecret?.keyID),
                            \(w.previousSecret.map { ByteBuffer(bytes: $0.ciphertext) }),
                            \(w.previousUntil?.millisecondsSinceEpoch), \(w.disabledAt?.millisecondsSinceEpoch),
                            \(w.disabledReason), \(w.updatedAt.millisecondsSinceEpoch))
                        ON CONFLICT (workspace_id) DO UPDATE SET url = excluded.url, types = excluded.types,
                            secret_key_id = excluded.secret_key_id, secret_ciphertext = excluded.secret_ciphertext,
                            previous_key_id = excluded.previous_key_id, previous_ciphertext = excluded.previous_ciphertext,
                            previous_until = excluded.previous_until, disabled_at = excluded.disabled_at,
                            disabled_reason = excluded.disabled_reason, updated_at = excluded.updated_at
                        """,
                        logger: logger
                    )
                } else {
                    _ = try await connection.query(
                        "DELETE FROM event_webhooks WHERE workspace_id = \(workspace.rawValue)",
                        logger: logger
                    )
                    _ = try await connection.query(
                        """
                        UPDATE events SET delivery = 'none', lease_owner = NULL, lease_until = NULL,
                            updated_at = \(audit.at.millisecondsSinceEpoch)
                        WHERE workspace_id = \(workspace.rawValue) AND delivery IN ('pending', 'held')
                        """,
                        logger: logger
                    )
                }
                _ = try await connection.query(Self.appendAuditQuery([audit]), logger: logger)
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
        let now = time.millisecondsSinceEpoch
        return try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                let resumed = try await !connection.query(
                    """
                    UPDATE event_webhooks SET disabled_at = NULL, disabled_reason = NULL, updated_at = \(now)
                    WHERE workspace_id = \(workspace.rawValue) RETURNING 1
                    """,
                    logger: logger
                ).collect().isEmpty
                guard resumed else { return false }
                _ = try await connection.query(
                    """
                    UPDATE events SET delivery = 'pending', failures = 0, due_at = \(now), updated_at = \(now)
                    WHERE workspace_id = \(workspace.rawValue) AND delivery = 'held'
                    """,
                    logger: logger
                )
                _ = try await connection.query(Self.appendAuditQuery([audit]), logger: logger)
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
        let now = time.millisecondsSinceEpoch
        return try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                let event = try await Self.events(
                    try await connection.query(
                        """
                        UPDATE events SET delivery = 'pending', failures = 0, due_at = \(now), updated_at = \(now),
                            lease_owner = NULL, lease_until = NULL
                        WHERE id = \(id) AND workspace_id = \(workspace.rawValue)
                        RETURNING \(unescaped: Self.eventColumns)
                        """,
                        logger: logger
                    )
                ).first
                if event != nil { _ = try await connection.query(Self.appendAuditQuery([audit]), logger: logger) }
                return event
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
        let prefixed = { (columns: String, alias: String) in
            columns.split(separator: ",").map { "\(alias)." + $0.drop { $0 == " " } }
                .joined(separator: ", ")
        }
        // The oldest due events (a bounded window of them), at most `perWorkspace` of each
        // workspace, so one workspace's backlog does not fill the claim. SKIP LOCKED: events
        // another replica is claiming right now are passed over, not waited for. The outer WHERE
        // repeats the lease test for a row whose lease changed after the subquery read it.
        let query: PostgresQuery = """
            WITH candidates AS (
                SELECT id, workspace_id, due_at FROM events
                WHERE delivery = 'pending' AND due_at <= \(now) AND (lease_until IS NULL OR lease_until <= \(now))
                  AND workspace_id <> ALL(\(excluding.map(\.rawValue)))
                ORDER BY due_at LIMIT \(Int64(limit * 4))
            ), ranked AS (
                SELECT id, row_number() OVER (PARTITION BY workspace_id ORDER BY due_at) AS place FROM candidates
            ), claimed AS (
                UPDATE events SET lease_owner = \(owner), lease_until = \(until.millisecondsSinceEpoch)
                WHERE id IN (
                    SELECT e.id FROM events e
                    WHERE e.id IN (SELECT id FROM ranked WHERE place <= \(Int64(perWorkspace)))
                    ORDER BY e.due_at LIMIT \(Int64(limit))
                    FOR UPDATE SKIP LOCKED
                )
                AND delivery = 'pending' AND (lease_until IS NULL OR lease_until <= \(now) OR lease_owner = \(owner))
                RETURNING *
            )
            SELECT \(unescaped: prefixed(Self.eventColumns, "c")), c.failures, c.due_at, \(unescaped: prefixed(Self.webhookColumns, "w"))
            FROM claimed c JOIN event_webhooks w ON w.workspace_id = c.workspace_id
            """
        return try await mapped { [client, logger] in
            var claims: [DeliveryClaim] = []
            var orphans: [String] = []
            for try await row in try await client.query(query, logger: logger) {
                let cells = row.makeRandomAccess()
                let claim = DeliveryClaim(
                    event: try Self.event(from: cells),
                    webhook: try Self.webhook(from: cells, startingAt: 15),
                    failures: Int(try cells[13].decode(Int32.self)),
                    dueAt: Timestamp(millisecondsSinceEpoch: try cells[14].decode(Int64.self))
                )
                if claim.webhook.isHealthy { claims.append(claim) } else { orphans.append(claim.event.id) }
            }
            if !orphans.isEmpty {
                // Disabled meanwhile: give them back; the disabling write holds them.
                _ = try await client.query(
                    "UPDATE events SET lease_owner = NULL, lease_until = NULL WHERE id = ANY(\(orphans)) AND lease_owner = \(owner)",
                    logger: logger
                )
            }
            return claims
        }
    }

    public func releaseDeliveries(_ claims: [DeliveryClaim], owner: String) async throws {
        guard !claims.isEmpty else { return }
        let ids = claims.map(\.event.id)
        try await mapped { [client, logger] in
            _ = try await client.query(
                "UPDATE events SET lease_owner = NULL, lease_until = NULL WHERE id = ANY(\(ids)) AND lease_owner = \(owner)",
                logger: logger
            )
        }
    }

    public func finishDeliveries(_ outcomes: [DeliveryOutcome], owner: String, at time: Timestamp) async throws {
        guard !outcomes.isEmpty else { return }
        let now = time.millisecondsSinceEpoch
        // One statement logs every attempt; one updates every event whose lease is still ours.
        var logBinds = PostgresBindings(capacity: outcomes.count * 8)
        var logRows: [String] = []
        var stateBinds = PostgresBindings(capacity: outcomes.count * 5 + 2)
        var stateRows: [String] = []
        func optional(_ value: String?, _ binds: inout PostgresBindings) {
            if let value { binds.append(value) } else { binds.appendNull() }
        }
        func optional(_ value: Int64?, _ binds: inout PostgresBindings) {
            if let value { binds.append(value) } else { binds.appendNull() }
        }
        func placeholders(_ casts: [String], from first: Int) -> String {
            "(" + casts.enumerated().map { "$\(first + $0.offset)::\($0.element)" }.joined(separator: ", ") + ")"
        }
        for outcome in outcomes {
            let attempt = outcome.attempt
            logRows.append(
                placeholders(
                    ["text", "text", "bigint", "int", "bigint", "text", "text", "boolean"],
                    from: logBinds.count + 1
                )
            )
            logBinds.append(attempt.eventID)
            logBinds.append(attempt.workspaceID.rawValue)
            logBinds.append(attempt.at.millisecondsSinceEpoch)
            optional(attempt.status.map(Int64.init), &logBinds)
            logBinds.append(attempt.latencyMilliseconds)
            optional(attempt.error, &logBinds)
            optional(attempt.responseBody, &logBinds)
            logBinds.append(attempt.redelivery)
            let (delivery, failures, due, sent) = outcome.row(at: now)
            stateRows.append(placeholders(["text", "text", "int", "bigint", "bigint"], from: stateBinds.count + 1))
            stateBinds.append(outcome.claim.event.id)
            stateBinds.append(delivery.rawValue)
            stateBinds.append(Int64(failures))
            optional(due, &stateBinds)
            optional(sent, &stateBinds)
        }
        stateBinds.append(now)
        stateBinds.append(owner)
        let log = PostgresQuery(
            unsafeSQL: """
                INSERT INTO event_deliveries (event_id, workspace_id, at, status, latency_ms, error, response_body,
                    redelivery)
                VALUES \(logRows.joined(separator: ", "))
                """,
            binds: logBinds
        )
        let finish = PostgresQuery(
            unsafeSQL: """
                UPDATE events e SET delivery = u.delivery, attempts = e.attempts + 1, failures = u.failures,
                    due_at = u.due_at, sent_at = COALESCE(u.sent_at, e.sent_at), updated_at = $\(stateBinds.count - 1),
                    lease_owner = NULL, lease_until = NULL
                FROM (VALUES \(stateRows.joined(separator: ", "))) AS u(id, delivery, failures, due_at, sent_at)
                WHERE e.id = u.id AND e.lease_owner = $\(stateBinds.count)
                RETURNING e.id
                """,
            binds: stateBinds
        )
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                _ = try await connection.query(log, logger: logger)
                var applied: Set<String> = []
                for try await id in try await connection.query(finish, logger: logger).decode(String.self) {
                    applied.insert(id)
                }
                for outcome in outcomes where applied.contains(outcome.claim.event.id) {
                    guard let reason = outcome.disablesEndpoint else { continue }
                    let workspace = outcome.claim.event.workspaceID
                    try await Self.disableWebhook(workspace, reason: reason, at: time, connection, logger)
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
        _ connection: PostgresConnection,
        _ logger: Logger
    ) async throws {
        let now = time.millisecondsSinceEpoch
        let disabled = try await !connection.query(
            """
            UPDATE event_webhooks SET disabled_at = \(now), disabled_reason = \(reason), updated_at = \(now)
            WHERE workspace_id = \(workspace.rawValue) AND disabled_at IS NULL RETURNING 1
            """,
            logger: logger
        ).collect().isEmpty
        guard disabled else { return }
        _ = try await connection.query(
            """
            UPDATE events SET delivery = 'held', lease_owner = NULL, lease_until = NULL, updated_at = \(now)
            WHERE workspace_id = \(workspace.rawValue) AND delivery = 'pending'
            """,
            logger: logger
        )
        _ = try await connection.query(
            appendEventsQuery([Event(.webhookUnhealthy, workspace: workspace, at: time, description: reason)]),
            logger: logger
        )
    }

    public func deliveryBacklog(at time: Timestamp) async throws -> (due: Int, earliestDue: Timestamp?) {
        let now = time.millisecondsSinceEpoch
        return try await mapped { [client, logger] in
            let row = try await client.query(
                """
                SELECT COUNT(*), MIN(due_at) FROM events
                WHERE delivery = 'pending' AND due_at <= \(now) AND (lease_until IS NULL OR lease_until <= \(now))
                """,
                logger: logger
            ).collect().first
            guard let (count, earliest) = try row?.decode((Int64, Int64?).self) else { return (0, nil) }
            return (Int(count), earliest.map(Timestamp.init(millisecondsSinceEpoch:)))
        }
    }

    public func deliveryAttempts(eventID: String, workspace: WorkspaceID) async throws -> [DeliveryAttempt] {
        try await mapped { [client, logger] in
            var attempts: [DeliveryAttempt] = []
            for try await row in try await client.query(
                """
                SELECT event_id, workspace_id, at, status, latency_ms, error, response_body, redelivery
                FROM event_deliveries WHERE event_id = \(eventID) AND workspace_id = \(workspace.rawValue) ORDER BY seq
                """,
                logger: logger
            ) {
                let c = try row.decode((String, String, Int64, Int32?, Int64, String?, String?, Bool).self)
                attempts.append(
                    DeliveryAttempt(
                        eventID: c.0,
                        workspaceID: WorkspaceID(rawValue: c.1),
                        at: Timestamp(millisecondsSinceEpoch: c.2),
                        status: c.3.map(Int.init),
                        latencyMilliseconds: c.4,
                        error: c.5,
                        responseBody: c.6,
                        redelivery: c.7
                    )
                )
            }
            return attempts
        }
    }

    public func purgeEvents(before cutoff: Timestamp, limit: Int) async throws -> Int {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                var ids: [String] = []
                for try await id in try await connection.query(
                    """
                    DELETE FROM events WHERE id IN (
                        SELECT id FROM events WHERE created_at < \(cutoff.millisecondsSinceEpoch) AND delivery <> 'pending'
                        ORDER BY created_at LIMIT \(Int64(limit))
                    ) RETURNING id
                    """,
                    logger: logger
                ).decode(String.self) { ids.append(id) }
                if !ids.isEmpty {
                    _ = try await connection.query(
                        "DELETE FROM event_deliveries WHERE event_id = ANY(\(ids))",
                        logger: logger
                    )
                }
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
        try await mapped { [client, logger] in
            var webhooks: [EventWebhook] = []
            for try await row in try await client.query(
                """
                SELECT \(unescaped: Self.webhookColumns) FROM event_webhooks
                WHERE (secret_key_id <> \(keyID) OR previous_key_id <> \(keyID))
                  AND workspace_id > \(workspace?.rawValue ?? "")
                ORDER BY workspace_id LIMIT \(Int64(limit))
                """,
                logger: logger
            ) {
                webhooks.append(try Self.webhook(from: row.makeRandomAccess(), startingAt: 0))
            }
            return webhooks
        }
    }

    public func replaceSealedWebhookSecrets(old: EventWebhook, new: EventWebhook) async throws -> Bool {
        try await mapped { [client, logger] in
            try await !client.query(
                """
                UPDATE event_webhooks SET secret_key_id = \(new.secret.keyID),
                    secret_ciphertext = \(ByteBuffer(bytes: new.secret.ciphertext)),
                    previous_key_id = \(new.previousSecret?.keyID),
                    previous_ciphertext = \(new.previousSecret.map { ByteBuffer(bytes: $0.ciphertext) })
                WHERE workspace_id = \(old.workspaceID.rawValue) AND secret_key_id = \(old.secret.keyID)
                  AND secret_ciphertext = \(ByteBuffer(bytes: old.secret.ciphertext))
                  AND previous_ciphertext IS NOT DISTINCT FROM \(old.previousSecret.map { ByteBuffer(bytes: $0.ciphertext) })
                RETURNING 1
                """,
                logger: logger
            ).collect().isEmpty
        }
    }

    // MARK: - Copying

    public func allEventWebhooks() async throws -> [EventWebhook] {
        try await mapped { [client, logger] in
            var webhooks: [EventWebhook] = []
            for try await row in try await client.query(
                "SELECT \(unescaped: Self.webhookColumns) FROM event_webhooks ORDER BY workspace_id",
                logger: logger
            ) {
                webhooks.append(try Self.webhook(from: row.makeRandomAccess(), startingAt: 0))
            }
            return webhooks
        }
    }

    public func importEventWebhooks(_ webhooks: [EventWebhook]) async throws -> Int {
        guard !webhooks.isEmpty else { return 0 }
        return try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                var inserted = 0
                for w in webhooks {
                    inserted += try await connection.query(
                        """
                        INSERT INTO event_webhooks (\(unescaped: Self.webhookColumns)) VALUES (
                            \(w.workspaceID.rawValue), \(w.url), \(w.typesText), \(w.secret.keyID),
                            \(ByteBuffer(bytes: w.secret.ciphertext)), \(w.previousSecret?.keyID),
                            \(w.previousSecret.map { ByteBuffer(bytes: $0.ciphertext) }),
                            \(w.previousUntil?.millisecondsSinceEpoch), \(w.disabledAt?.millisecondsSinceEpoch),
                            \(w.disabledReason), \(w.updatedAt.millisecondsSinceEpoch))
                        ON CONFLICT (workspace_id) DO NOTHING RETURNING 1
                        """,
                        logger: logger
                    ).collect().count
                }
                return inserted
            }
        }
    }

    public func events(after id: String?, limit: Int) async throws -> [Event] {
        try await mapped { [client, logger] in
            try await Self.events(
                try await client.query(
                    """
                    SELECT \(unescaped: Self.eventColumns) FROM events WHERE id > \(id ?? "")
                    ORDER BY id LIMIT \(Int64(limit))
                    """,
                    logger: logger
                )
            )
        }
    }

    public func importEvents(_ events: [Event]) async throws -> Int {
        guard !events.isEmpty else { return 0 }
        let now = Timestamp.now().millisecondsSinceEpoch
        var binds = PostgresBindings(capacity: events.count * 14)
        var rows: [String] = []
        func optional(_ value: Int64?) { if let value { binds.append(value) } else { binds.appendNull() } }
        for e in events {
            let first = binds.count + 1
            rows.append("(" + (first..<(first + 14)).map { "$\($0)" }.joined(separator: ", ") + ")")
            Self.bindRecordedFields(of: e, into: &binds)
            binds.append(e.delivery.rawValue)
            binds.append(Int32(e.attempts))
            optional(e.sentAt?.millisecondsSinceEpoch)
            optional(e.delivery == .pending ? now : nil)
        }
        let query = PostgresQuery(
            unsafeSQL: """
                INSERT INTO events (\(Self.eventColumns), due_at) VALUES \(rows.joined(separator: ", "))
                ON CONFLICT (id) DO NOTHING RETURNING 1
                """,
            binds: binds
        )
        return try await mapped { [client, logger] in
            try await client.query(query, logger: logger).collect().count
        }
    }

    // MARK: - Rows

    /// Rows in `eventColumns` order.
    static func events(_ rows: PostgresRowSequence) async throws -> [Event] {
        var events: [Event] = []
        for try await row in rows { events.append(try event(from: row.makeRandomAccess())) }
        return events
    }

    static func event(from c: PostgresRandomAccessRow) throws -> Event {
        Event(
            id: try c[0].decode(String.self),
            workspaceID: WorkspaceID(rawValue: try c[1].decode(String.self)),
            type: EventType(rawValue: try c[2].decode(String.self)) ?? .workspaceUpdated,
            createdAt: Timestamp(millisecondsSinceEpoch: try c[3].decode(Int64.self)),
            updatedAt: Timestamp(millisecondsSinceEpoch: try c[4].decode(Int64.self)),
            connectionID: try c[5].decode(String?.self).map(ConnectionID.init(rawValue:)),
            integrationType: try c[6].decode(String?.self),
            environment: try c[7].decode(String?.self),
            externalXref: try c[8].decode(String?.self),
            description: try c[9].decode(String?.self),
            delivery: DeliveryStatus(rawValue: try c[10].decode(String.self)) ?? .none,
            attempts: Int(try c[11].decode(Int32.self)),
            sentAt: try c[12].decode(Int64?.self).map(Timestamp.init(millisecondsSinceEpoch:))
        )
    }

    static func webhook(from c: PostgresRandomAccessRow, startingAt first: Int) throws -> EventWebhook {
        func time(_ index: Int) throws -> Timestamp? {
            try c[first + index].decode(Int64?.self).map(Timestamp.init(millisecondsSinceEpoch:))
        }
        var previous: SealedSecret?
        if let keyID = try c[first + 5].decode(String?.self), let data = try c[first + 6].decode(ByteBuffer?.self) {
            previous = SealedSecret(keyID: keyID, ciphertext: Array(data.readableBytesView))
        }
        return EventWebhook(
            workspaceID: WorkspaceID(rawValue: try c[first].decode(String.self)),
            url: try c[first + 1].decode(String.self),
            types: EventWebhook.types(fromText: try c[first + 2].decode(String.self)),
            secret: SealedSecret(
                keyID: try c[first + 3].decode(String.self),
                ciphertext: Array(try c[first + 4].decode(ByteBuffer.self).readableBytesView)
            ),
            previousSecret: previous,
            previousUntil: try time(7),
            disabledAt: try time(8),
            disabledReason: try c[first + 9].decode(String?.self),
            updatedAt: Timestamp(millisecondsSinceEpoch: try c[first + 10].decode(Int64.self))
        )
    }
}
