import SwitchboardCore

/// The JSON of an event: Unified's Notification object. The API adds the delivery state; a
/// webhook delivery adds Standard Webhooks' `type` and `timestamp` instead.
public enum NotificationJSON {
    public enum Form: Sendable {
        /// `/unified/notification`: with `delivery_status` and `delivery_attempts`.
        case api
        /// The body POSTed to the event webhook.
        case delivery
    }

    public static func write(_ event: Event, workspaceName: String? = nil, form: Form, to w: inout JSONWriter) {
        w.beginObject()
        if case .delivery = form {
            w.member("type", event.type.rawValue)
            w.key("timestamp")
            w.timestamp(event.createdAt.millisecondsSinceEpoch)
        }
        w.member("id", event.id)
        w.member("event", event.type.rawValue)
        w.key("created_at")
        w.timestamp(event.createdAt.millisecondsSinceEpoch)
        if case .api = form {
            w.key("updated_at")
            w.timestamp(event.updatedAt.millisecondsSinceEpoch)
        }
        w.member("workspace_id", event.workspaceID.rawValue)
        w.member("workspace_name", ifPresent: workspaceName)
        w.member("connection_id", ifPresent: event.connectionID?.rawValue)
        w.member("integration_type", ifPresent: event.integrationType)
        w.member("description", ifPresent: event.description)
        w.member("environment", ifPresent: event.environment)
        w.member("external_xref", ifPresent: event.externalXref)
        if case .api = form {
            if let sent = event.sentAt {
                w.key("sent_at")
                w.timestamp(sent.millisecondsSinceEpoch)
            }
            w.member("delivery_status", event.delivery.rawValue)
            w.key("delivery_attempts")
            w.number(String(event.attempts))
        }
        w.endObject()
    }

    /// The body of a delivery.
    public static func deliveryBody(_ event: Event) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 512)
        write(event, form: .delivery, to: &writer)
        return writer.bytes
    }

    /// One attempt; `number` counts from 1 in the event's log, redeliveries included.
    public static func write(_ attempt: DeliveryAttempt, number: Int, to w: inout JSONWriter) {
        w.beginObject()
        w.key("attempt")
        w.number(String(number))
        w.member("event_id", attempt.eventID)
        w.key("at")
        w.timestamp(attempt.at.millisecondsSinceEpoch)
        w.key("status")
        if let status = attempt.status { w.number(String(status)) } else { w.null() }
        w.key("latency_ms")
        w.number(String(attempt.latencyMilliseconds))
        w.member("error", ifPresent: attempt.error)
        w.member("response_body", ifPresent: attempt.responseBody)
        w.key("redelivery")
        w.bool(attempt.redelivery)
        w.endObject()
    }
}
