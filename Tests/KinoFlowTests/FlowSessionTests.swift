import Foundation
import Testing
@testable import KinoDSP

/// Session behaviour: input validation, video mode, threads, backward flow and consistency.
@Suite struct FlowSessionTests {
    @Test func rejectsBadSizes() throws {
        let f = try FlowFixture.load("translate")
        let session = try FlowSession(width: f.i0.width, height: f.i0.height)
        let small = try GrayImage(width: 64, height: 48, pixels: [Float](repeating: 0, count: 64 * 48))
        #expect(throws: FlowError.sizeMismatch(expected: "256×192", got: "64×48")) { try session.flow(from: f.i0, to: small) }
        #expect(throws: FlowError.imageTooSmall(width: 31, height: 100, minimum: 32)) {
            try FlowSession(width: 31, height: 100, options: .preset(.fast))
        }
        #expect(throws: FlowError.self) { try GrayImage(width: 4, height: 4, pixels: [0, 1]) }
        var bad = DISOptions.preset(.fast)
        bad.patchStride = 0
        #expect(throws: FlowError.self) { try FlowSession(width: 256, height: 192, options: bad) }
    }

    @Test func twoThreadsGiveTheSameFlowAsOne() throws {
        let f = try FlowFixture.load("layers")
        for preset in DISOptions.Preset.allCases {
            var two = DISOptions.preset(preset)
            two.threads = 2
            let a = try FlowSession(width: 256, height: 192, options: .preset(preset)).flow(from: f.i0, to: f.i1)
            let b = try FlowSession(width: 256, height: 192, options: two).flow(from: f.i0, to: f.i1)
            let same = a == b   // compared first so a failure does not print two whole fields
            #expect(same, "\(preset)")
        }
    }

    /// 640×360 makes every parallel path run (levels of 2 k pixels and more: banded search, densify,
    /// two-band pipelined SOR); the flow must not depend on the thread count.
    @Test(arguments: [DISOptions.Preset.fast, .medium])
    func twoThreadsMatchOnALargeFrame(preset: DISOptions.Preset) throws {
        let (w, h) = (640, 360)
        func texture(_ dx: Float, _ dy: Float) throws -> GrayImage {
            var p = [Float](repeating: 0, count: w * h)
            for y in 0..<h {
                for x in 0..<w {
                    let fx = Float(x) + dx, fy = Float(y) + dy
                    p[y * w + x] = 128 + 40 * sin(fx * 0.21 + 0.3 * sin(fy * 0.05)) * cos(fy * 0.17)
                        + 30 * sin((fx + 2 * fy) * 0.043) + 20 * cos(fx * 0.011 * fy * 0.013)
                }
            }
            return try GrayImage(width: w, height: h, pixels: p)
        }
        let a = try texture(0, 0), b = try texture(-1.7, 0.8)
        var two = DISOptions.preset(preset)
        two.threads = 2
        let f1 = try FlowSession(width: w, height: h, options: .preset(preset)).flow(from: a, to: b)
        let f2 = try FlowSession(width: w, height: h, options: two).flow(from: a, to: b)
        let same = f1 == f2
        #expect(same)
        // Video mode loads each new pyramid in two row bands when threaded: same flow again.
        let video = try FlowSession(width: w, height: h, options: two)
        var out = FlowField(width: w, height: h)
        try video.push(a, into: &out)
        try video.push(b, into: &out)
        let sameInVideo = out == f1
        #expect(sameInVideo)
        let centre = f1[320, 180]
        #expect(abs(centre.x - 1.7) < 0.1 && abs(centre.y + 0.8) < 0.1)   // b(x) = a(x − (1.7, −0.8))
    }

    @Test func videoModeReusesThePyramidAndMatchesPairs() throws {
        let f = try FlowFixture.load("smooth")
        let session = try FlowSession(width: 256, height: 192)
        var out = FlowField(width: 256, height: 192)
        #expect(try session.push(f.i0, into: &out) == false)
        #expect(try session.push(f.i1, into: &out) == true)
        let first = out == (try FlowSession(width: 256, height: 192).flow(from: f.i0, to: f.i1))
        #expect(first)
        // Next pair (i1 → i0) reuses i1's pyramid; must equal a fresh two-frame call.
        try session.push(f.i0, into: &out)
        let second = out == (try FlowSession(width: 256, height: 192).flow(from: f.i1, to: f.i0))
        #expect(second)
    }

    /// With the temporal prior on, each patch also tries last frame's vector; a misleading prior
    /// (the reversed motion) must lose the SSD comparison and leave accuracy intact.
    @Test func temporalPriorDoesNotHurt() throws {
        let f = try FlowFixture.load("smooth")
        var options = DISOptions.preset(.fast)
        options.temporalPrior = true
        let session = try FlowSession(width: 256, height: 192, options: options)
        var out = FlowField(width: 256, height: 192)
        for frame in [f.i0, f.i1, f.i0, f.i1] { try session.push(frame, into: &out) }
        let epe = out.endPointError(to: f.truth, valid: f.valid)
        #expect(epe <= 1.05 * f.reference["fast"]! + 0.01)
    }

    @Test func backwardFlowUndoesForwardFlow() throws {
        let f = try FlowFixture.load("translate")
        let session = try FlowSession(width: 256, height: 192)
        var forward = FlowField(width: 256, height: 192), backward = forward
        try session.flow(from: f.i0, to: f.i1, into: &forward)
        try session.backwardFlow(into: &backward)
        var sum = SIMD2<Float>.zero
        for y in 16..<176 { for x in 16..<240 { sum += backward[x, y] } }   // interior: borders lack texture to match
        let mean = sum / Float(160 * 224)
        #expect(abs(mean.x + 1.04) < 0.1 && abs(mean.y - 0.52) < 0.1, "\(mean)")   // truth (2.6, −1.3)·0.4, reversed; DIS errs ~0.1 px here
        let check = try FlowConsistency(forward: forward, backward: backward)
        let consistent = check.occluded.filter { !$0 }.count
        #expect(Double(consistent) / Double(256 * 192) > 0.97)   // only pixels leaving the frame fail
        #expect(check.confidence.max()! <= 1 && check.confidence.min()! >= 0)
        let masked = check.masking(forward)
        #expect(masked.uv.filter { $0 == 1e10 }.count == 2 * check.occluded.filter { $0 }.count)
    }

    @Test func occludedBackgroundIsFlagged() throws {
        let f = try FlowFixture.load("layers")
        let session = try FlowSession(width: 256, height: 192, options: .preset(.medium))
        var forward = FlowField(width: 256, height: 192), backward = forward
        try session.flow(from: f.i0, to: f.i1, into: &forward)
        try session.backwardFlow(into: &backward)
        let check = try FlowConsistency(forward: forward, backward: backward)
        // Pixels valid in the fixture (not occluded, in frame) should mostly pass; the occluded ring should mostly fail.
        var passValid = 0, nValid = 0
        for i in 0..<(256 * 192) where f.valid[i] { nValid += 1; if !check.occluded[i] { passValid += 1 } }
        #expect(Double(passValid) / Double(nValid) > 0.95)
        #expect(check.occluded.filter { $0 }.count > 200)
    }
}

/// The two-thread hand-off when the worker is late: halves it has not picked up run on the
/// caller, and a late worker never repeats them.
@Suite struct WorkerHandoffTests {
    @Test func gateLetsExactlyOneSideSettleEachGeneration() {
        let gate = JoinGate()
        #expect(gate.join(1) && !gate.close(1) && gate.isJoined(1))
        #expect(gate.close(2) && !gate.join(2) && !gate.isJoined(2))
        #expect(!gate.join(4))   // generation 3 is not settled yet
        #expect(gate.join(3) && gate.close(4))
    }

    @Test func soloHalvesRunOnceWhetherOrNotTheWorkerComes() {
        let team = WorkerTeam()
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        defer { hits.deallocate() }
        for round in 0..<200 {
            hits.initialize(repeating: 0, count: 2)
            // Let the worker fall asleep now and then, so some hand-offs find it absent.
            if round % 20 == 0 { usleep(5_000) }
            team.both(solo: true) { half in hits[half] += 1 }
            #expect(hits[0] == 1 && hits[1] == 1)
        }
    }

    /// Halves that wait on each other run together, or else `alone` runs instead: never a mix.
    @Test func togetherRunsBothHalvesOrTheFallback() {
        let team = WorkerTeam()
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 3)
        defer { counts.deallocate() }
        let flag = HandoffCounter()
        for round in 0..<40 {
            counts.initialize(repeating: 0, count: 3)
            if round % 4 == 0 { usleep(5_000) }
            let base = flag.current
            team.together({ half in
                counts[half] += 1
                if half == 1 { flag.raise() } else { flag.wait(untilAtLeast: base + 1) }   // deadlocks if run one after the other
            }, alone: { counts[2] += 1 })
            #expect((counts[0], counts[1], counts[2]) == (1, 1, 0) || (counts[0], counts[1], counts[2]) == (0, 0, 1))
        }
    }

    /// Calls spaced so the worker sleeps between them (its polling stops after ~3 ms): the first
    /// sections of each call often run without it. Every call must still equal one thread's flow.
    @Test func lateWorkerGivesTheSameFlow() throws {
        let f = try FlowFixture.load("layers")
        var two = DISOptions.preset(.fast)
        two.threads = 2
        let want = try FlowSession(width: 256, height: 192, options: .preset(.fast)).flow(from: f.i0, to: f.i1)
        let session = try FlowSession(width: 256, height: 192, options: two)
        var out = FlowField(width: 256, height: 192)
        for _ in 0..<12 {
            usleep(5_000)
            try session.flow(from: f.i0, to: f.i1, into: &out)
            let same = out == want
            #expect(same)
        }
    }
}

@Suite struct WorkerHealthTests {
    /// Three starved calls (40 % waiting) start a probe of one-thread calls.
    func starve(_ health: inout WorkerHealth, elapsed: UInt64) {
        for _ in 0..<3 { health.record(waited: elapsed * 4 / 10, elapsed: elapsed) }
    }

    @Test func aStreakOfStarvedCallsStartsAProbe() {
        var health = WorkerHealth()
        #expect(health.usesWorker)
        health.record(waited: 40, elapsed: 100)
        health.record(waited: 40, elapsed: 100)
        health.record(waited: 5, elapsed: 100)    // a good call resets the streak
        health.record(waited: 40, elapsed: 100)
        health.record(waited: 40, elapsed: 100)
        #expect(health.usesWorker)
        health.record(waited: 40, elapsed: 100)
        #expect(!health.usesWorker)
    }

    @Test func oneThreadStaysWhileItIsFaster() {
        var health = WorkerHealth()
        starve(&health, elapsed: 130)
        for _ in 0..<WorkerHealth.probeCalls { health.recordAlone(elapsed: 100) }
        #expect(!health.usesWorker)               // 100 < 130: keep one thread
        for _ in 0..<(WorkerHealth.fallbackCalls - 1) { health.recordAlone(elapsed: 100) }
        #expect(!health.usesWorker)
        health.recordAlone(elapsed: 100)
        #expect(health.usesWorker)                // and try two again
    }

    @Test func twoThreadsResumeWhenStillFaster() {
        var health = WorkerHealth()
        starve(&health, elapsed: 80)
        for _ in 0..<WorkerHealth.probeCalls { health.recordAlone(elapsed: 100) }
        #expect(health.usesWorker)                // 80 < 100: the worker still helps
        starve(&health, elapsed: 80)
        #expect(health.usesWorker)                // no new probe for a while
        for _ in 0..<WorkerHealth.fallbackCalls { health.record(waited: 40, elapsed: 100) }
        #expect(!health.usesWorker)               // then probing is allowed again
    }
}

@Suite struct SelectionTests {
    /// The percentile of MotionStatistics comes from a selection, not a sort: same value always.
    @Test func selectEqualsSortedIndex() {
        var seed: UInt64 = 12345
        func next() -> UInt64 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return seed >> 33 }
        for trial in 0..<200 {
            let n = 1 + Int(next() % 300)
            // Few distinct values on odd trials, so duplicates and runs of the pivot are exercised.
            var values = (0..<n).map { _ in trial % 2 == 1 ? Float(next() % 5) : Float(next() % 100_000) / 7 }
            let sorted = values.sorted()
            let rank = Int(next() % UInt64(n))
            let got = values.withUnsafeMutableBufferPointer { MotionStatistics.select(rank, in: $0) }
            #expect(got == sorted[rank], "n \(n) rank \(rank)")
        }
    }
}
