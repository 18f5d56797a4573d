import Foundation
#if os(Linux)
import Synchronization
#endif

/// A monotonic counter one thread raises and one other thread waits on.
///
/// Waiting spins briefly (hand-offs between the two flow threads usually take microseconds, and a
/// futex sleep and wake costs tens), then sleeps on a semaphore so an idle worker burns no CPU.
/// The spinning path needs atomics (`Synchronization`, used on Linux); elsewhere it sleeps at once.
final class HandoffCounter: @unchecked Sendable {
    private let sleeper = DispatchSemaphore(value: 0)
    #if os(Linux)
    private let value = Atomic<Int>(0)
    private let sleeping = Atomic<Bool>(false)

    var current: Int { value.load(ordering: .acquiring) }

    func raise() {
        value.wrappingAdd(1, ordering: .releasing)
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

/// The calling thread plus one dedicated worker thread, for the two cores DIS is tuned for.
///
/// A dedicated thread (not `concurrentPerform`) guarantees the two halves really run at the same
/// time, which the pipelined SOR needs: its halves wait on each other at the band boundary and
/// would deadlock if a pool ran them one after the other. A hand-off is a counter raise the other
/// side usually sees while spinning: no thread creation, no allocation, rarely a system call.
final class WorkerTeam: @unchecked Sendable {
    private let started = HandoffCounter()
    private let finished = HandoffCounter()
    private var generation = 0
    /// Non-optional on purpose: storing into an optional closure re-abstracts it, which allocates.
    private var job: (Int) -> Void = { _ in }
    private var stopping = false

    init() {
        let thread = Thread { [unowned(unsafe) self] in self.loop() }
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit {
        // The worker holds no strong reference; wake it so it sees `stopping` and exits.
        stopping = true
        started.raise()
    }

    private func loop() {
        var seen = 0
        while true {
            seen += 1
            // The caller's serial stretch between two parallel sections is usually short (spin),
            // and between two video frames a few ms at most (poll).
            started.wait(untilAtLeast: seen, spinMicroseconds: 500, pollMicroseconds: 3_000)
            if stopping { return }
            job(1)
            finished.raise()
        }
    }

    /// Runs `body(0)` here and `body(1)` on the worker, returning when both are done.
    func both(_ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { escaping in
            job = escaping
            generation += 1
            started.raise()
            escaping(0)
            finished.wait(untilAtLeast: generation)
            job = { _ in }
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
    team.both { half in
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
