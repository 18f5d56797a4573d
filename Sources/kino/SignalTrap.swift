import Dispatch
import Foundation
import KinoGraph

/// Turns SIGINT and SIGTERM into a cancelled ``CancelToken`` instead of an abrupt exit.
///
/// The signals are ignored at the process level and delivered to Dispatch signal sources, so
/// the handler runs on an ordinary queue and may take locks. A second SIGINT while the first is
/// still being honoured exits at once with 130, for a user who does not want to wait for sinks
/// to flush.
final class SignalTrap: @unchecked Sendable {
    let token = CancelToken()
    private let received = Locked32()
    private var sources: [any DispatchSourceSignal] = []

    init() {
        let queue = DispatchQueue(label: "kino.signals")
        for signo in [SIGINT, SIGTERM] {
            signal(signo, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: queue)
            source.setEventHandler { [received, token] in
                if received.value == SIGINT && signo == SIGINT { _exit(130) }
                received.value = signo
                let name = signo == SIGINT ? "SIGINT" : "SIGTERM"
                writeStandardError("\nkino: \(name): stopping, finishing what is in flight (Ctrl-C again to quit at once)\n")
                token.cancel()
            }
            source.resume()
            sources.append(source)
        }
    }

    /// The signal that stopped the run, if any.
    var caught: Int32? { received.value == 0 ? nil : received.value }

    /// Conventional exit status for a run stopped by a signal: 128 + its number.
    var exitStatus: Int32? { caught.map { 128 + $0 } }
}

/// An `Int32` shared between the signal queue and the main thread.
final class Locked32: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Int32 = 0
    var value: Int32 {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
