import Foundation
import Glibc

/// One watched file as the ledger records it.
public struct LedgerEntry: Sendable, Codable, Equatable {
    /// Where a file is in its life: found and waiting, being processed, finished, failed (will be
    /// retried), given up on after too many failures, finished with decoding errors (outputs
    /// kept, not retried), or not media at all (nothing written, not retried).
    ///
    /// `done`, `quarantined`, `damaged` and `rejected` are final for the file's current
    /// content: only new content (a new fingerprint) or `kino ledger retry` queues it again.
    public enum State: String, Sendable, Codable, CaseIterable {
        case queued, running, done, failed, quarantined, damaged, rejected
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

    /// Opens or creates the ledger at `path` (its folder must exist), or, with `readOnly`, opens
    /// an existing one without writing anything to it.
    ///
    /// Read-write, the schema is created when missing and a version 1 ledger (before the
    /// `damaged` and `rejected` states) is upgraded in place; an up-to-date ledger is not written
    /// to by opening it. Read-only (`kino ledger list` and `show`) runs no schema statement, so it
    /// works on a full disk or a read-only file system.
    /// - Throws: ``WatchError/ledger(path:operation:message:)``.
    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        db = try SQLiteConnection(path: path, readOnly: readOnly)
        identity = Self.identity(of: path)
        if readOnly {
            let tables = try db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'files'")
            guard !tables.isEmpty else {
                throw WatchError.ledger(path: path, operation: "open", message: "not a Kino ledger (no files table)")
            }
            return
        }
        do {
            try db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
            try prepareSchema()
        } catch WatchError.ledger(let path, _, let message) {
            throw WatchError.ledger(path: path, operation: "open", message: message)
        }
    }

    /// Creates the schema, or upgrades an older one; writes nothing when it is current.
    private func prepareSchema() throws {
        let version = try db.query("PRAGMA user_version").first?[0].int ?? 0
        guard version < Self.schemaVersion else { return }
        try db.transaction {
            let exists = !(try db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'files'").isEmpty)
            if exists {
                // SQLite cannot change a CHECK constraint: copy into a table with the new one.
                try db.execute(Self.schema(table: "files_upgrade") + """
                    INSERT INTO files_upgrade SELECT \(Self.columns) FROM files;
                    DROP TABLE files;
                    ALTER TABLE files_upgrade RENAME TO files;
                    """)
            } else {
                try db.execute(Self.schema(table: "files"))
            }
            try db.execute("CREATE INDEX IF NOT EXISTS files_by_state ON files (state, id); PRAGMA user_version=\(Self.schemaVersion);")
        }
    }

    /// 1: the first schema; 2: `damaged` and `rejected` states.
    static let schemaVersion = 2

    static func schema(table: String) -> String {
        """
        CREATE TABLE \(table) (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            size INTEGER NOT NULL,
            mtime REAL NOT NULL,
            fingerprint TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN (\(LedgerEntry.State.allCases.map { "'\($0.rawValue)'" }.joined(separator: ",")))),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            output TEXT NOT NULL UNIQUE,
            queued_at REAL, started_at REAL, finished_at REAL, retry_at REAL,
            updated_at REAL NOT NULL
        );

        """
    }

    /// Whether this ledger was opened read-only.
    public var isReadOnly: Bool { db.isReadOnly }

    /// Device and inode of the file opened, to notice it being deleted or replaced.
    private let identity: (dev: UInt64, ino: UInt64)?

    private static func identity(of path: String) -> (dev: UInt64, ino: UInt64)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    private static let lostNote = " (a new ledger there treats every file as new: restore the old one to avoid reprocessing)"

    /// Why the ledger file is no longer the one this ledger writes to, or `nil` while it is.
    ///
    /// SQLite keeps writing to a deleted (or renamed-over) database through its open descriptor
    /// without complaint, and everything recorded after that is lost at exit; the watcher checks
    /// this on every tick and stops.
    public func replacedOrDeleted() -> WatchError? {
        guard let identity else { return nil }
        var info = stat()
        if stat(path, &info) != 0 {
            let cause = errno == ENOENT ? "the file was deleted while the watcher was using it"
                                        : "cannot check the file: \(String(cString: strerror(errno)))"
            return .ledger(path: path, operation: "stopped", message: cause + Self.lostNote)
        }
        if UInt64(info.st_dev) != identity.dev || UInt64(info.st_ino) != identity.ino {
            return .ledger(path: path, operation: "stopped",
                           message: "the file was replaced by another while the watcher was using it" + Self.lostNote)
        }
        return nil
    }

    static let columns = "id, path, size, mtime, fingerprint, state, attempts, last_error, output, queued_at, started_at, finished_at, retry_at, updated_at"

    func locked<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// ``locked(_:)``, naming what was being done in a ledger error instead of the SQL.
    func locked<R>(_ operation: @autoclosure () -> String, _ body: () throws -> R) throws -> R {
        do {
            return try locked(body)
        } catch WatchError.ledger(let path, _, let message) {
            throw WatchError.ledger(path: path, operation: operation(), message: message)
        }
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
