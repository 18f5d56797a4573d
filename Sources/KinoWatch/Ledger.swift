import Foundation

/// One watched file as the ledger records it.
public struct LedgerEntry: Sendable, Codable, Equatable {
    /// Where a file is in its life: found and waiting, being processed, finished, failed (will be
    /// retried), or given up on after too many failures.
    public enum State: String, Sendable, Codable, CaseIterable {
        case queued, running, done, failed, quarantined
    }

    public var id: Int
    /// Absolute path of the input.
    public var path: String
    public var size: Int
    /// Modification time, seconds since 1970 (with the nanoseconds the file system keeps).
    public var mtime: Double
    /// ``Fingerprint`` of the content when it was last registered.
    public var fingerprint: String
    public var state: State
    /// Runs started for the current content (reset when the content changes or on `retry`).
    public var attempts: Int
    public var lastError: String?
    /// Output folder name under the output directory (unique across the ledger).
    public var output: String
    public var queuedAt: Double?
    public var startedAt: Double?
    public var finishedAt: Double?
    /// Earliest time a `failed` row may be retried.
    public var retryAt: Double?
    public var updatedAt: Double
}

/// The watch folder's memory: one SQLite row per file, in a real database file.
///
/// Every state change is its own transaction, in WAL mode with `synchronous=NORMAL` (a power
/// cut can lose the last commits but never corrupt the file; a killed process loses nothing
/// committed). The ledger survives restarts: rows left `running` by a crash are re-queued by
/// ``recoverInterrupted(maxAttempts:)``, `done` rows are not redone unless their content
/// changes, and a file failing `maxAttempts` times is `quarantined` with its last error.
///
/// Thread-safe: one connection behind a lock. Other processes (`kino ledger retry`) may use
/// the same file at the same time; SQLite's locking and a 5 s busy timeout arbitrate.
public final class Ledger: @unchecked Sendable {
    public let path: String
    let db: SQLiteConnection
    let lock = NSLock()

    /// Opens or creates the ledger at `path` (its folder must exist).
    /// - Throws: ``WatchError/ledger(path:operation:message:)``.
    public init(path: String) throws {
        self.path = path
        db = try SQLiteConnection(path: path)
        try db.execute("""
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=NORMAL;
            CREATE TABLE IF NOT EXISTS files (
                id INTEGER PRIMARY KEY,
                path TEXT NOT NULL UNIQUE,
                size INTEGER NOT NULL,
                mtime REAL NOT NULL,
                fingerprint TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('queued','running','done','failed','quarantined')),
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error TEXT,
                output TEXT NOT NULL UNIQUE,
                queued_at REAL, started_at REAL, finished_at REAL, retry_at REAL,
                updated_at REAL NOT NULL
            );
            CREATE INDEX IF NOT EXISTS files_by_state ON files (state, id);
            PRAGMA user_version=1;
            """)
    }

    static let columns = "id, path, size, mtime, fingerprint, state, attempts, last_error, output, queued_at, started_at, finished_at, retry_at, updated_at"

    func locked<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    static func entry(_ row: [SQLValue]) -> LedgerEntry {
        LedgerEntry(id: row[0].int ?? 0, path: row[1].string ?? "", size: row[2].int ?? 0, mtime: row[3].double ?? 0,
                    fingerprint: row[4].string ?? "", state: LedgerEntry.State(rawValue: row[5].string ?? "") ?? .queued,
                    attempts: row[6].int ?? 0, lastError: row[7].string, output: row[8].string ?? "",
                    queuedAt: row[9].double, startedAt: row[10].double, finishedAt: row[11].double,
                    retryAt: row[12].double, updatedAt: row[13].double ?? 0)
    }

    /// The row for `path`, if any.
    /// - Throws: ``WatchError/ledger(path:operation:message:)`` when SQLite fails.
    public func entry(path: String) throws -> LedgerEntry? {
        try locked { try db.query("SELECT \(Self.columns) FROM files WHERE path = ?", [.text(path)]).first.map(Self.entry) }
    }

    /// Every row, oldest first, optionally only those in `state`.
    /// - Throws: ``WatchError/ledger(path:operation:message:)`` when SQLite fails.
    public func entries(state: LedgerEntry.State? = nil) throws -> [LedgerEntry] {
        try locked {
            if let state {
                return try db.query("SELECT \(Self.columns) FROM files WHERE state = ? ORDER BY id", [.text(state.rawValue)]).map(Self.entry)
            }
            return try db.query("SELECT \(Self.columns) FROM files ORDER BY id").map(Self.entry)
        }
    }

    /// Row counts per state.
    /// - Throws: ``WatchError/ledger(path:operation:message:)`` when SQLite fails.
    public func counts() throws -> [LedgerEntry.State: Int] {
        try locked {
            var result: [LedgerEntry.State: Int] = [:]
            for row in try db.query("SELECT state, COUNT(*) FROM files GROUP BY state") {
                if let state = LedgerEntry.State(rawValue: row[0].string ?? "") { result[state] = row[1].int ?? 0 }
            }
            return result
        }
    }

    /// Copies the WAL into the database file and truncates it (done when a watcher stops, so a
    /// ledger at rest is one file).
    /// - Throws: ``WatchError/ledger(path:operation:message:)`` when SQLite fails.
    public func checkpoint() throws {
        try locked { try db.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
    }

    /// Size of the database file plus its WAL, in bytes.
    public var fileSize: Int {
        [path, path + "-wal"].reduce(0) { total, file in
            total + ((try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0)
        }
    }

    static func now() -> Double { Date().timeIntervalSince1970 }
}
