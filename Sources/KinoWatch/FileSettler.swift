import Foundation
import Glibc

/// Decides when a file is complete: nobody has it open for writing, and its size and mtime
/// have not moved for the settle time.
///
/// Close-after-write events alone are fooled by writers that close and reopen (recorders
/// writing chunks), and size polling alone by a writer that pauses; requiring both a quiet
/// period and no open write handle covers the cases users report against watch-folder tools
/// (see `shared/specs/prior-art.md` §5). A file that changes restarts its clock.
final class FileSettler: @unchecked Sendable {
    struct Stat: Equatable {
        var size: Int
        var mtime: Double
    }

    private struct Candidate {
        var stat: Stat
        var stableSince: Double
    }

    let settle: Double
    private var pending: [String: Candidate] = [:]

    init(settle: Double) {
        self.settle = settle
    }

    /// Files waiting to settle.
    var count: Int { pending.count }

    /// Starts (or restarts) the clock of `path`; a vanished path is dropped.
    func observe(_ path: String, now: Double) {
        guard let stat = Self.stat(path) else { pending[path] = nil; return }
        if let current = pending[path], current.stat == stat { return }
        pending[path] = Candidate(stat: stat, stableSince: now)
    }

    /// The files that have settled by `now`, removed from the pending set with their stat.
    ///
    /// A file whose stat moved restarts its clock; a settled file that is still open for
    /// writing stays pending (its clock restarts too, so the writer gets a full quiet period
    /// after closing).
    func settled(now: Double) -> [(path: String, stat: Stat)] {
        var due: [String: Stat] = [:]
        for (path, candidate) in pending {
            guard let stat = Self.stat(path) else { pending[path] = nil; continue }
            if stat != candidate.stat {
                pending[path] = Candidate(stat: stat, stableSince: now)
            } else if now - candidate.stableSince >= settle {
                due[path] = stat
            }
        }
        guard !due.isEmpty else { return [] }
        let writing = OpenWriters.paths(among: Set(due.keys))
        var result: [(String, Stat)] = []
        for (path, stat) in due {
            if writing.contains(path) {
                pending[path]?.stableSince = now
            } else {
                pending[path] = nil
                result.append((path, stat))
            }
        }
        return result.sorted { $0.0 < $1.0 }
    }

    /// Size and mtime of a regular file; `nil` for anything else or a missing path.
    static func stat(_ path: String) -> Stat? {
        var info = Glibc.stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Stat(size: Int(info.st_size),
                    mtime: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
    }
}

/// Which files some process has open for writing, found the way `fuser` does: by reading the
/// links in `/proc/<pid>/fd` and, for a match, the access mode in `/proc/<pid>/fdinfo`.
///
/// Processes of other users are invisible without privileges, so a writer running as another
/// user is only caught by the settle time.
enum OpenWriters {
    /// The members of `candidates` (absolute paths) open for writing by any visible process.
    static func paths(among candidates: Set<String>) -> Set<String> {
        var found: Set<String> = []
        guard let processes = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return found }
        for pid in processes where pid.first?.isNumber == true {
            let fdDirectory = "/proc/\(pid)/fd"
            guard let descriptors = try? FileManager.default.contentsOfDirectory(atPath: fdDirectory) else { continue }
            for descriptor in descriptors {
                guard let target = readLink("\(fdDirectory)/\(descriptor)"), candidates.contains(target),
                      isWritable(pid: pid, descriptor: descriptor) else { continue }
                found.insert(target)
            }
        }
        return found
    }

    private static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether the descriptor was opened write-only or read-write (`flags:` in fdinfo, octal).
    private static func isWritable(pid: String, descriptor: String) -> Bool {
        guard let info = try? String(contentsOfFile: "/proc/\(pid)/fdinfo/\(descriptor)", encoding: .utf8) else {
            return true   // cannot tell: assume the worst and wait
        }
        for line in info.split(separator: "\n") where line.hasPrefix("flags:") {
            let value = line.dropFirst("flags:".count).trimmingCharacters(in: .whitespaces)
            if let flags = Int(value, radix: 8) { return flags & Int(O_ACCMODE) != Int(O_RDONLY) }
        }
        return true
    }
}
