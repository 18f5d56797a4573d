import Foundation
import Glibc

/// An exclusive `flock` on `<ledger>.lock`, held while a watcher runs.
///
/// Two watchers sharing a ledger would each treat the other's `running` rows as left over from
/// a crash and process the same files twice — a failure users of other watch-folder tools
/// report. The kernel drops the lock when the holder exits, however it exits (`kill -9`
/// included), so a lock never outlives its watcher and needs no stale-lock cleanup.
final class WatcherLock {
    let path: String
    private var fd: Int32

    /// Takes the lock or throws at once (never waits).
    /// - Throws: ``WatchError/ledger(path:operation:message:)`` naming the holder's pid when known.
    init(ledgerPath: String) throws {
        path = ledgerPath + ".lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw WatchError.ledger(path: ledgerPath, operation: "lock", message: String(cString: strerror(errno)))
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            fd = -1
            throw WatchError.ledger(path: ledgerPath, operation: "lock",
                                    message: "another watcher is using this ledger" + (holder.map { " (pid \($0))" } ?? ""))
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { write(fd, $0, strlen($0)) }
    }

    /// Gives the lock back.
    func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }
}
