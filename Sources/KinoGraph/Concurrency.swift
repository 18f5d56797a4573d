import Foundation

/// A value guarded by a lock, so state shared between Dispatch queues stays data-race free.
///
/// `Mutex` from Synchronization would do the same, but needs macOS 15 while the package
/// still supports macOS 14.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with exclusive access to the value.
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    /// A copy of the current value.
    var current: Value { withLock { $0 } }
}

/// A cooperative stop signal shared by every stage of a run.
///
/// Cancelling asks sources to stop producing; everything already in flight still flows
/// through, so sinks can flush and mark their outputs incomplete. The runner also cancels
/// it itself when a stage fails.
public final class CancelToken: @unchecked Sendable {
    private let state = Locked<(cancelled: Bool, handlers: [@Sendable () -> Void])>((false, []))

    public init() {}

    /// Whether ``cancel()`` has been called.
    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Requests a stop; safe to call from any thread, more than once.
    public func cancel() {
        let handlers: [@Sendable () -> Void] = state.withLock { s in
            guard !s.cancelled else { return [] }
            s.cancelled = true
            defer { s.handlers = [] }
            return s.handlers
        }
        handlers.forEach { $0() }
    }

    /// Runs `handler` once on cancellation (at once if already cancelled).
    ///
    /// Handlers are kept until the token is cancelled, so register one per token, not one per
    /// unit of work on a long-lived token.
    public func onCancel(_ handler: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { s -> Bool in
            if s.cancelled { return true }
            s.handlers.append(handler)
            return false
        }
        if runNow { handler() }
    }
}

/// A limit on how many heavy stages compute at once, shared by a whole run.
///
/// On a 2-core machine two model stages each running flat out would fight for the cores;
/// a heavy stage takes a slot only while it computes, never while it waits on an edge, so
/// a slot is never held by a stage that is blocked on another.
public final class ComputePool: Sendable {
    /// Number of stages that may compute at once.
    public let slots: Int
    private let semaphore: DispatchSemaphore

    /// - Parameter slots: concurrent heavy computations; defaults to the active core count.
    public init(slots: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.slots = max(1, slots)
        self.semaphore = DispatchSemaphore(value: max(1, slots))
    }

    /// Runs `body` holding one slot.
    func withSlot<R>(_ body: () throws -> R) rethrows -> R {
        acquire()
        defer { release() }
        return try body()
    }

    /// Waits for a free slot and takes it.
    func acquire() { semaphore.wait() }

    /// Gives back a slot taken with ``acquire()``.
    func release() { semaphore.signal() }
}
