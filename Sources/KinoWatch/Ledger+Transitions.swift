import Foundation
import KinoGraph

/// What ``Ledger/register(path:size:mtime:fingerprint:outputStem:)`` did with a settled file.
public enum Registration: Sendable, Equatable {
    /// First seen: queued.
    case added
    /// Size or mtime changed and so did the fingerprint: queued again with attempts reset.
    case changed
    /// Size or mtime changed but the content did not (a `touch`): times updated, state kept.
    case touched
    /// Nothing changed.
    case unchanged
}

extension Ledger {
    /// Records a settled file: adds it, re-queues it when its content changed, or leaves it.
    ///
    /// - Parameters:
    ///   - fingerprint: computed lazily, only when the row is new or size/mtime moved.
    ///   - outputStem: the wanted output folder name; `-2`, `-3`, … is added if another row has it.
    /// - Throws: ``WatchError/ledger(path:operation:message:)`` or the fingerprint's error.
    public func register(path: String, size: Int, mtime: Double, fingerprint: () throws -> String,
                         outputStem: String) throws -> Registration {
        try locked("record '\(path)'") {
            try db.transaction {
                let now = Self.now()
                let rows = try db.query("SELECT id, size, mtime, fingerprint, state FROM files WHERE path = ?", [.text(path)])
                guard let row = rows.first else {
                    let print = try fingerprint()
                    // `stem` itself or `stem-…`: a range over the unique index ('-' + 1 is '.').
                    let taken = Set(try db.query("SELECT output FROM files WHERE output = ? OR (output >= ? AND output < ?)",
                                                 [.text(outputStem), .text(outputStem + "-"), .text(outputStem + ".")])
                        .compactMap { $0[0].string })
                    // A candidate shortened to fit NAME_MAX falls outside that range: ask for it too.
                    let output = try OutputFolder.uniqueName(stem: outputStem) { name in
                        try taken.contains(name) || !db.query("SELECT 1 FROM files WHERE output = ?", [.text(name)]).isEmpty
                    }
                    try db.query("""
                        INSERT INTO files (path, size, mtime, fingerprint, state, attempts, output, queued_at, updated_at)
                        VALUES (?, ?, ?, ?, 'queued', 0, ?, ?, ?)
                        """, [.text(path), .integer(Int64(size)), .real(mtime), .text(print), .text(output), .real(now), .real(now)])
                    return .added
                }
                if row[1].int == size && row[2].double == mtime { return .unchanged }
                let print = try fingerprint()
                if print == row[3].string {
                    try db.query("UPDATE files SET size = ?, mtime = ?, updated_at = ? WHERE id = ?",
                                 [.integer(Int64(size)), .real(mtime), .real(now), row[0]])
                    return .touched
                }
                // A running row keeps running; the new content is picked up by re-queueing once
                // the current run ends (finish sees the changed fingerprint).
                try db.query("""
                    UPDATE files SET size = ?, mtime = ?, fingerprint = ?,
                        state = CASE state WHEN 'running' THEN 'running' ELSE 'queued' END,
                        attempts = 0, last_error = NULL, retry_at = NULL, queued_at = ?, updated_at = ?
                    WHERE id = ?
                    """, [.integer(Int64(size)), .real(mtime), .text(print), .real(now), .real(now), row[0]])
                return .changed
            }
        }
    }

    /// Takes the oldest queued row (or failed row whose retry time has come) and marks it
    /// running, counting an attempt. `nil` when there is nothing to do.
    /// - Throws: ``WatchError/ledger(path:operation:message:)`` when SQLite fails.
    public func claim() throws -> LedgerEntry? {
        try locked("take the next file") {
            try db.transaction {
                let now = Self.now()
                // Two indexed look-ups rather than one OR, which would scan the table on every claim.
                let queued = try db.query("SELECT \(Self.columns) FROM files WHERE state = 'queued' ORDER BY id LIMIT 1")
                guard let row = try queued.first ?? db.query(
                    "SELECT \(Self.columns) FROM files WHERE state = 'failed' AND retry_at <= ? ORDER BY retry_at LIMIT 1",
                    [.real(now)]).first else { return nil }
                var entry = Self.entry(row)
                try db.query("UPDATE files SET state = 'running', attempts = attempts + 1, started_at = ?, updated_at = ? WHERE id = ?",
                             [.real(now), .real(now), .integer(Int64(entry.id))])
                entry.state = .running
                entry.attempts += 1
                entry.startedAt = now
                return entry
            }
        }
    }

    /// How a run of a file ended, as the ledger records it.
    public enum Outcome: Sendable, Equatable {
        /// Completed: `done`.
        case done
        /// Completed with decoding errors (what went wrong): `damaged`, outputs kept, not retried.
        case damaged(String)
        /// Not a media file (why): `rejected`, nothing written, not retried.
        case rejected(String)
        /// Failed (the error): `failed` and retried later, or `quarantined` after the last attempt.
        case failed(String)
    }

    /// Records the end of a run of `entry` (as returned by ``claim()``).
    ///
    /// - Parameters:
    ///   - error: `nil` for success (`done`); otherwise `failed` with a retry after `retryDelay`
    ///     × attempts, or `quarantined` once `attempts` reaches `maxAttempts`.
    ///   - interrupted: the run was stopped by shutdown, not by the file: back to `queued`
    ///     without counting the attempt.
    /// - Throws: ``WatchError/ledger(path:operation:message:)`` when SQLite fails.
    public func finish(_ entry: LedgerEntry, error: String?, interrupted: Bool = false,
                       maxAttempts: Int, retryDelay: Double) throws {
        try finish(entry, outcome: error.map { .failed($0) } ?? .done, interrupted: interrupted,
                   maxAttempts: maxAttempts, retryDelay: retryDelay)
    }

    /// Records the end of a run of `entry` (as returned by ``claim()``).
    ///
    /// - Parameters:
    ///   - outcome: `done`, `damaged` and `rejected` are final for this content; `failed` is
    ///     retried after `retryDelay` × attempts, or `quarantined` once `attempts` reaches
    ///     `maxAttempts`.
    ///   - interrupted: the run was stopped by shutdown, not by the file: back to `queued`
    ///     without counting the attempt.
    /// - Returns: the state recorded (`queued` when interrupted or when the content changed
    ///   during the run).
    /// - Throws: ``WatchError/ledger(path:operation:message:)`` when SQLite fails.
    @discardableResult
    public func finish(_ entry: LedgerEntry, outcome: Outcome, interrupted: Bool = false,
                       maxAttempts: Int, retryDelay: Double) throws -> LedgerEntry.State {
        try locked("record the result of '\(entry.path)'") {
            try db.transaction {
                let now = Self.now()
                let id = SQLValue.integer(Int64(entry.id))
                // Content registered while it ran makes this run's result stale: queue it again.
                let current = try db.query("SELECT fingerprint FROM files WHERE id = ?", [id]).first?[0].string
                if interrupted || current != entry.fingerprint {
                    try db.query("UPDATE files SET state = 'queued', attempts = MAX(0, attempts - ?), updated_at = ? WHERE id = ?",
                                 [.integer(interrupted ? 1 : Int64(entry.attempts)), .real(now), id])
                    return .queued
                }
                let state: LedgerEntry.State, message: String?, retryAt: SQLValue
                switch outcome {
                case .done: (state, message, retryAt) = (.done, nil, .null)
                case .damaged(let damage): (state, message, retryAt) = (.damaged, damage, .null)
                case .rejected(let reason): (state, message, retryAt) = (.rejected, reason, .null)
                case .failed(let error) where entry.attempts >= maxAttempts: (state, message, retryAt) = (.quarantined, error, .null)
                case .failed(let error): (state, message, retryAt) = (.failed, error, .real(now + retryDelay * Double(entry.attempts)))
                }
                try db.query("UPDATE files SET state = ?, last_error = ?, finished_at = ?, retry_at = ?, updated_at = ? WHERE id = ?",
                             [.text(state.rawValue), message.map { .text($0) } ?? .null, .real(now), retryAt, .real(now), id])
                return state
            }
        }
    }

    /// After a crash: rows still `running` belong to no one. Each is re-queued (its attempt
    /// stays counted, so a file that crashes the process is quarantined after `maxAttempts`).
    /// - Returns: the number of rows recovered.
    /// - Throws: ``WatchError/ledger(path:operation:message:)`` when SQLite fails.
    @discardableResult
    public func recoverInterrupted(maxAttempts: Int) throws -> Int {
        try locked("re-queue files left running") {
            try db.transaction {
                let now = Self.now()
                try db.query("""
                    UPDATE files SET state = 'quarantined', updated_at = ?,
                        last_error = 'interrupted ' || attempts || ' time(s) while running (the watcher crashed or was killed)'
                    WHERE state = 'running' AND attempts >= ?
                    """, [.real(now), .integer(Int64(maxAttempts))])
                let quarantined = db.changes
                try db.query("UPDATE files SET state = 'queued', updated_at = ? WHERE state = 'running'", [.real(now)])
                return quarantined + db.changes
            }
        }
    }

    /// Queues a file again with its attempts reset (`kino ledger retry`).
    /// - Throws: ``WatchError/unknownFile(path:)`` when there is no such row.
    public func retry(path: String) throws {
        try locked("queue '\(path)' again") {
            try db.transaction {
                try db.query("""
                    UPDATE files SET state = 'queued', attempts = 0, last_error = NULL, retry_at = NULL,
                        queued_at = ?, updated_at = ? WHERE path = ? AND state <> 'running'
                    """, [.real(Self.now()), .real(Self.now()), .text(path)])
                if db.changes == 0 {
                    if try db.query("SELECT 1 FROM files WHERE path = ?", [.text(path)]).isEmpty { throw WatchError.unknownFile(path: path) }
                    throw WatchError.ledger(path: self.path, operation: "retry", message: "'\(path)' is running now")
                }
            }
        }
    }

    /// Deletes a file's row, so it is treated as new the next time it is seen (`kino ledger forget`).
    /// - Throws: ``WatchError/unknownFile(path:)`` when there is no such row.
    public func forget(path: String) throws {
        try locked("forget '\(path)'") {
            try db.transaction {
                try db.query("DELETE FROM files WHERE path = ?", [.text(path)])
                if db.changes == 0 { throw WatchError.unknownFile(path: path) }
            }
        }
    }

    /// Whether any row is queued, running or waiting for a retry (for `--once`).
    /// - Throws: ``WatchError/ledger(path:operation:message:)`` when SQLite fails.
    public func hasPendingWork() throws -> Bool {
        try locked("look for pending files") {
            !(try db.query("SELECT 1 FROM files WHERE state IN ('queued','running','failed') LIMIT 1").isEmpty)
        }
    }

    /// Seconds until the earliest failed row may be retried, if any.
    /// - Throws: ``WatchError/ledger(path:operation:message:)`` when SQLite fails.
    public func nextRetryDelay() throws -> Double? {
        try locked {
            try db.query("SELECT MIN(retry_at) FROM files WHERE state = 'failed'").first?[0].double.map { max(0, $0 - Self.now()) }
        }
    }
}

extension Ledger {
    /// Size and mtime of every recorded path, so a scan can skip files that have not changed.
    /// - Throws: ``WatchError/ledger(path:operation:message:)`` when SQLite fails.
    public func knownStats() throws -> [String: (Int, Double)] {
        try locked {
            var result: [String: (Int, Double)] = [:]
            for row in try db.query("SELECT path, size, mtime FROM files") {
                if let path = row[0].string { result[path] = (row[1].int ?? 0, row[2].double ?? 0) }
            }
            return result
        }
    }
}
