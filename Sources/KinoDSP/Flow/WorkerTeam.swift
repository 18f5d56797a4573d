import Foundation

/// The calling thread plus one dedicated worker thread, for the two cores DIS is tuned for.
///
/// A dedicated thread (not `concurrentPerform`) guarantees the two halves really run at the same
/// time, which the pipelined SOR needs: its halves wait on each other at the band boundary and
/// would deadlock if a pool ran them one after the other. Handing work over costs two semaphore
/// operations, so there is no per-call thread creation and no allocation.
final class WorkerTeam: @unchecked Sendable {
    private let start = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private var job: ((Int) -> Void)?
    private var stopping = false

    init() {
        let thread = Thread { [unowned(unsafe) self] in self.loop() }
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit {
        // The worker holds no strong reference; wake it so it sees `stopping` and exits.
        stopping = true
        start.signal()
    }

    private func loop() {
        while true {
            start.wait()
            if stopping { return }
            job?(1)
            done.signal()
        }
    }

    /// Runs `body(0)` here and `body(1)` on the worker, returning when both are done.
    func both(_ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { escaping in
            job = escaping
            start.signal()
            escaping(0)
            done.wait()
            job = nil
        }
    }
}

/// Runs `body(i)` for `i` in `0..<count`: sequentially without a team, else split between the
/// two threads (even indices here, odd on the worker).
@inline(__always) func forEachBand(_ count: Int, team: WorkerTeam?, _ body: (Int) -> Void) {
    guard let team, count > 1 else {
        for i in 0..<count { body(i) }
        return
    }
    team.both { half in
        var i = half
        while i < count { body(i); i += 2 }
    }
}
