import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Bounds how long a connection waits for the rest of a request body nobody will read.
///
/// When a response is complete while its request's body is still arriving (a 401, 403, 413 or
/// 429 sent before the body was read, or a route that takes no body), Hummingbird reads and
/// discards the rest before the next request. This handler gives that `lingering` at most: a
/// client that was simply still uploading finishes, reads its answer and keeps its connection,
/// while one trickling a large declared body (to hold the socket without a key) is closed.
final class UnreadBodyDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let lingering: TimeAmount
    private var requestInProgress = false
    private var deadline: Scheduled<Void>?

    init(lingering: TimeAmount = .seconds(2)) {
        self.lingering = lingering
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: requestInProgress = true
        case .body: break
        case .end:
            requestInProgress = false
            deadline?.cancel()
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), requestInProgress, deadline == nil {
            let loopBound = context.loopBound
            deadline = context.eventLoop.scheduleTask(in: lingering) { loopBound.value.close(promise: nil) }
        }
        context.write(data, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }
}
