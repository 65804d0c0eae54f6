/// Which events a connection write records: the one rule both database backends apply inside
/// the write's transaction, so an event exists exactly when its change commits.
///
/// - a create audited as `connection.create` (the API, the OAuth flow) → `CONNECTION_CREATED`;
///   an unaudited insert (`switchboard copy`, seeding) records nothing;
/// - an update audited as `connection.update` or `connection.reauthorize` → `CONNECTION_UPDATED`;
///   token refreshes and key rotation do not (nothing the application reads changed);
/// - a delete audited as `connection.delete` → `CONNECTION_DELETED`;
/// - any update that moves the connection between healthy and unhealthy → `CONNECTION_HEALTHY` or
///   `CONNECTION_UNHEALTHY` (refreshes, passthrough), only on the transition.
public enum ConnectionEvents {
    public static func of(audit: AuditRecord?, before: Connection?, after: Connection?) -> [Event] {
        let time = audit?.at ?? Timestamp.now()
        switch (before, after) {
        case (nil, let created?):
            return audit?.action == .connectionCreate ? [Event(.connectionCreated, about: created, at: time)] : []
        case (let deleted?, nil):
            return audit?.action == .connectionDelete ? [Event(.connectionDeleted, about: deleted, at: time)] : []
        case (let old?, let new?):
            var events: [Event] = []
            if audit?.action == .connectionUpdate || audit?.action == .connectionReauthorize {
                let how = audit?.action == .connectionReauthorize ? "re-authorized" : nil
                events.append(Event(.connectionUpdated, about: new, at: time, description: how))
            }
            if old.health.isHealthy, !new.health.isHealthy {
                let code = new.health.lastUnhealthyCode ?? "unknown"
                // A refresh is audited; a passthrough call's health stamp is not.
                let what =
                    audit?.action == .tokenRefresh
                    ? "token refresh failed: \(code)" : "the provider refused a passthrough call: \(code)"
                events.append(Event(.connectionUnhealthy, about: new, at: time, description: what))
            } else if !old.health.isHealthy, new.health.isHealthy {
                events.append(Event(.connectionHealthy, about: new, at: time))
            }
            return events
        case (nil, nil):
            return []
        }
    }
}

/// Which events a write of a workspace's integration settings records (same transaction).
public enum IntegrationEvents {
    /// `wasActive`: the row before the write (nil when there was none); `isActive`: after it, nil
    /// when the row was deleted.
    public static func of(
        type: String,
        workspace: WorkspaceID,
        wasActive: Bool?,
        isActive: Bool?,
        at time: Timestamp
    ) -> [Event] {
        let event: EventType? =
            switch (wasActive ?? false, isActive) {
            case (_, nil): .integrationDeactivated
            case (false, true?): .integrationActivated
            case (true, true?): .integrationUpdated
            case (true, false?): .integrationDeactivated
            case (false, false?): nil
            }
        return event.map { [Event($0, workspace: workspace, at: time, integrationType: type)] } ?? []
    }
}
