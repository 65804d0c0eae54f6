import NIOHTTP1
import SwitchboardCore
import Synchronization

/// Gathers one passthrough call's log record as the call proceeds and hands it to the API call log
/// exactly once: when the answer's body ends, when the call fails, or when the caller goes away
/// mid-body (deinit). A call that failed before its connection was known is not recorded (there
/// is no integration to file it under: an unknown id, a missing scope).
final class CallRecorder: Sendable {
    private struct State {
        var connection: Connection?
        var status: Int?
        var error: String?
        var bytes: Int64 = 0
        var providerTime: Duration = .zero
        var done = false
    }

    private let state = Mutex(State())
    private let request: PassthroughRequest
    private let log: APICallLog
    private let statusOf: @Sendable (any Error) -> Int
    private let createdAt = Timestamp.now()
    private let start = ContinuousClock.now

    init(request: PassthroughRequest, log: APICallLog, status: @escaping @Sendable (any Error) -> Int) {
        self.request = request
        self.log = log
        self.statusOf = status
    }

    var connection: Connection? {
        get { state.withLock { $0.connection } }
        set { state.withLock { $0.connection = newValue } }
    }

    /// The provider's status, once its answer arrived.
    var status: Int? {
        get { state.withLock { $0.status } }
        set { state.withLock { $0.status = newValue } }
    }

    /// Time spent waiting for the provider's answers (both attempts when the call was retried).
    var providerTime: Duration {
        get { state.withLock { $0.providerTime } }
        set { state.withLock { $0.providerTime = newValue } }
    }

    func relayed(_ bytes: Int) { state.withLock { $0.bytes += Int64(bytes) } }

    func finished() { complete(nil, status: 500) }

    func failed(_ error: any Error) { complete(Self.reason(error), status: statusOf(error)) }

    deinit { complete("the caller went away before the answer ended", status: 499) }

    /// `failure` and `status` describe Switchboard's answer when the provider's status is unknown.
    private func complete(_ failure: String?, status fallback: Int) {
        let taken = state.withLock { state -> State? in
            guard !state.done else { return nil }
            state.done = true
            if state.error == nil { state.error = failure }
            return state
        }
        guard let taken, let connection = taken.connection else { return }
        let status = taken.status ?? fallback
        var error = taken.error
        if error == nil, status >= 400 {
            error = HTTPResponseStatus(statusCode: status).reasonPhrase
        }
        let fields = connection.fields
        log.record(
            APICall(
                id: APICallLog.newID(at: createdAt),
                workspaceID: connection.workspaceID,
                createdAt: createdAt,
                connectionID: connection.id,
                integrationType: fields.integrationType,
                environment: fields.environment,
                externalXref: fields.externalXref,
                name: "passthrough",
                kind: .inbound,
                method: request.method,
                path: String("/passthrough/\(connection.id.rawValue)/\(request.path)".prefix(1024)),
                status: String(status),
                error: error,
                size: taken.bytes,
                unifiedResponseTime: APICall.milliseconds(ContinuousClock.now - start),
                endapiResponseTime: taken.providerTime == .zero ? nil : APICall.milliseconds(taken.providerTime),
                ipAddress: request.clientAddress,
                userAgent: request.userAgent.map { String($0.prefix(256)) }
            )
        )
    }

    /// A short reason: the passthrough error's kind, never a credential, path or query.
    static func reason(_ error: any Error) -> String {
        switch error {
        case let error as PassthroughError: error.code
        case is CancellationError: "cancelled"
        default: "\(type(of: error))"
        }
    }
}
