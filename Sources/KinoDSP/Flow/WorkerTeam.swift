import Foundation
#if os(Linux)
import Synchronization
#endif

/// A monotonic counter one thread raises and one other thread waits on.
///
/// Waiting spins (hand-offs between the two flow threads usually take microseconds, and a futex
/// sleep and wake costs tens or more), then polls between `sched_yield` calls, then sleeps on a
/// semaphore so an idle worker burns no CPU. The spinning path needs atomics (`Synchronization`,
/// used on Linux); elsewhere it sleeps at once.
final class HandoffCounter: @unchecked Sendable {
    private let sleeper = DispatchSemaphore(value: 0)
    #if os(Linux)
    private let value = Atomic<Int>(0)
    private let sleeping = Atomic<Bool>(false)

    var current: Int { value.load(ordering: .acquiring) }

    func raise() {
        // Sequentially consistent: the waiter stores `sleeping` then loads `value`, this side
        // stores `value` then loads `sleeping`; one of the two must see the other's store.
        value.wrappingAdd(1, ordering: .sequentiallyConsistent)
        if sleeping.exchange(false, ordering: .acquiringAndReleasing) { sleeper.signal() }
    }

    /// Waits until the counter reaches `target`: busy checks for `spinMicroseconds`, then
    /// checks between `sched_yield` calls until `pollMicroseconds`, then sleep.
    ///
    /// Times are measured by the clock, so they mean the same on any CPU. Waking a sleeping thread
    /// costs a futex call, and on a VM whose idle vCPU the host has descheduled, anything from tens
    /// of µs to a few ms, so hand-offs inside one flow computation (µs apart) spin. The polling
    /// phase keeps a thread awake between the frames of a video at little cost: yielding hands the
    /// core to any other runnable thread (a decoder, say) instead of burning it.
    func wait(untilAtLeast target: Int, spinMicroseconds: UInt64 = 200, pollMicroseconds: UInt64 = 2_000) {
        if value.load(ordering: .acquiring) >= target { return }
        let start = DispatchTime.now().uptimeNanoseconds
        let spinEnd = start + spinMicroseconds * 1000, pollEnd = start + max(spinMicroseconds, pollMicroseconds) * 1000
        var spins = 0
        while value.load(ordering: .acquiring) < target {
            spins &+= 1
            if spins & 255 != 0 { continue }                         // cheap checks between clock reads
            let now = DispatchTime.now().uptimeNanoseconds
            if now < spinEnd { continue }
            if now < pollEnd { sched_yield(); spins = 255; continue }   // poll: a clock read per yield
            // Announce the sleep, then re-check so a raise in between is not lost.
            sleeping.store(true, ordering: .sequentiallyConsistent)
            if value.load(ordering: .sequentiallyConsistent) >= target {
                if sleeping.exchange(false, ordering: .acquiringAndReleasing) { return }
                sleeper.wait()   // the raiser saw the flag and will signal; consume it
                return
            }
            sleeper.wait()
        }
    }
    #else
    private let lock = NSCondition()
    private var count = 0

    var current: Int { lock.lock(); defer { lock.unlock() }; return count }

    func raise() { lock.lock(); count += 1; lock.broadcast(); lock.unlock() }

    func wait(untilAtLeast target: Int, spinMicroseconds: UInt64 = 0, pollMicroseconds: UInt64 = 0) {
        lock.lock()
        while count < target { lock.wait() }
        lock.unlock()
    }
    #endif
}

/// Decides, once per hand-off, whether the worker takes its half or the caller does it instead.
///
/// The worker *joins* generation g when it picks the job up; the caller may *close* it when its own
/// half is done and the worker has not turned up. Exactly one of the two wins, so a late worker
/// (asleep, or its vCPU descheduled by the host) never runs a half the caller already did.
final class JoinGate: @unchecked Sendable {
    #if os(Linux)
    /// 2·g once generation g is joined, 2·g + 1 once it is closed.
    private let state = Atomic<Int>(0)

    func join(_ generation: Int) -> Bool { settle(generation, as: 2 * generation) }
    func close(_ generation: Int) -> Bool { settle(generation, as: 2 * generation + 1) }
    func isJoined(_ generation: Int) -> Bool { state.load(ordering: .acquiring) == 2 * generation }

    private func settle(_ generation: Int, as value: Int) -> Bool {
        let old = state.load(ordering: .acquiring)
        guard old >> 1 == generation - 1 else { return false }
        return state.compareExchange(expected: old, desired: value, ordering: .acquiringAndReleasing).exchanged
    }
    #else
    private let lock = NSLock()
    private var state = 0

    func join(_ generation: Int) -> Bool { settle(generation, as: 2 * generation) }
    func close(_ generation: Int) -> Bool { settle(generation, as: 2 * generation + 1) }
    func isJoined(_ generation: Int) -> Bool { lock.lock(); defer { lock.unlock() }; return state == 2 * generation }

    private func settle(_ generation: Int, as value: Int) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard state >> 1 == generation - 1 else { return false }
        state = value
        return true
    }
    #endif
}

/// The calling thread plus one dedicated worker thread, for the two cores DIS is tuned for.
///
/// A dedicated thread (not `concurrentPerform`) guarantees the two halves can run at the same
/// time, which the pipelined SOR needs: its halves wait on each other at the band boundary and
/// would deadlock if a pool ran them one after the other. A hand-off is a counter raise the other
/// side usually sees while spinning: no thread creation, no allocation, rarely a system call.
///
/// Independent halves (``both(solo:_:)`` with `solo`) never wait for a worker that has not started:
/// after its own half the caller closes the hand-off and runs the worker's half itself. The first
/// sections of a flow call after an idle spell thus run on the caller while the worker wakes up
/// (which on a VM can take milliseconds), and the result is the same either way.
final class WorkerTeam: @unchecked Sendable {
    /// What the worker thread uses; it holds this strongly, so it may outlive the team.
    private final class Shared: @unchecked Sendable {
        let started = HandoffCounter()
        let finished = HandoffCounter()
        let gate = JoinGate()
        /// Non-optional on purpose: storing into an optional closure re-abstracts it, which allocates.
        var job: (Int) -> Void = { _ in }
        var stopping = false
    }

    private let shared = Shared()
    private var generation = 0
    /// Time the caller has spent waiting for the worker (hand-offs and SOR boundaries).
    private(set) var waitedNanoseconds: UInt64 = 0

    func addWait(_ nanoseconds: UInt64) { waitedNanoseconds &+= nanoseconds }
    func resetWait() { waitedNanoseconds = 0 }

    /// Waits for the worker to finish `generation`, counting the time.
    private func awaitWorker(_ s: Shared) {
        let start = DispatchTime.now().uptimeNanoseconds
        s.finished.wait(untilAtLeast: generation)
        waitedNanoseconds &+= DispatchTime.now().uptimeNanoseconds - start
    }

    init() {
        let shared = self.shared
        let thread = Thread { WorkerTeam.loop(shared) }
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit {
        // Wake the worker so it sees `stopping` and exits.
        shared.stopping = true
        shared.started.raise()
    }

    private static func loop(_ s: Shared) {
        var seen = 0
        while true {
            seen += 1
            // The caller's serial stretch between two parallel sections is usually short (spin),
            // and between two video frames a few ms at most (poll).
            s.started.wait(untilAtLeast: seen, spinMicroseconds: 500, pollMicroseconds: 3_000)
            if s.stopping { return }
            if s.gate.join(seen) { s.job(1) }
            s.finished.raise()
        }
    }

    /// Runs `body(0)` here and `body(1)` on the worker, returning when both are done.
    ///
    /// With `solo`, the halves must not depend on each other: if the worker has not picked up
    /// `body(1)` by the time `body(0)` returns, the caller runs `body(1)` itself.
    func both(solo: Bool = false, _ body: (Int) -> Void) {
        let s = shared
        withoutActuallyEscaping(body) { escaping in
            s.job = escaping
            generation += 1
            s.started.raise()
            escaping(0)
            if solo && s.gate.close(generation) {
                escaping(1)
            } else {
                awaitWorker(s)
            }
            s.job = { _ in }
        }
    }

    /// For halves that must run at the same time (they wait on each other): `body(0)` here and
    /// `body(1)` on the worker if the worker picks its half up within `graceMicroseconds`;
    /// otherwise the hand-off is closed and `alone()` runs here instead (it must compute the same).
    func together(graceMicroseconds: UInt64 = 20, _ body: (Int) -> Void, alone: () -> Void) {
        let s = shared
        withoutActuallyEscaping(body) { escaping in
            s.job = escaping
            generation += 1
            s.started.raise()
            let deadline = DispatchTime.now().uptimeNanoseconds + graceMicroseconds * 1000
            while !s.gate.isJoined(generation) && DispatchTime.now().uptimeNanoseconds < deadline {}
            if s.gate.close(generation) {
                alone()
            } else {
                escaping(0)
                awaitWorker(s)
            }
            s.job = { _ in }
        }
    }
}

/// Smallest pyramid level (pixels) worth splitting between two threads; below it a level runs
/// on the caller alone. At 1280×720 `fast` splitting the 80×45 level as well gained ~3 % over a
/// 4 k threshold; the 40×22 level gains nothing measurable.
let minimumParallelPixels = 2_000

/// Runs `body(i)` for `i` in `0..<count`: sequentially without a team, else split between the
/// two threads: indices below `split` (default: the first half) on the worker, the rest here. The
/// worker takes the top of the frame in every pass, so each core keeps its rows in cache; the
/// caller also runs the serial code between sections.
@inline(__always) func forEachBand(_ count: Int, team: WorkerTeam?, split: Int? = nil, _ body: (Int) -> Void) {
    guard let team, count > 1 else {
        for i in 0..<count { body(i) }
        return
    }
    let m = split ?? count / 2
    team.both(solo: true) { half in
        for i in (half == 1 ? 0..<m : m..<count) { body(i) }
    }
}

/// Where to cut `stripes` search stripes of `rows` patch rows (``stripeRows(_:of:rows:)``) so the
/// two threads get as even a share of rows as whole stripes allow (the last stripes can be short
/// or empty: 10 rows in 8 stripes are 2,2,2,2,2,0,0,0, which an index halving splits 8 to 2).
func balancedStripeSplit(_ stripes: Int, rows: Int) -> Int {
    var best = stripes / 2, bestLoad = Int.max
    for m in 1..<max(stripes, 2) {
        let top = stripeRows(m - 1, of: stripes, rows: rows).upperBound
        let load = max(top, rows - top)
        if load < bestLoad { best = m; bestLoad = load }
    }
    return best
}
