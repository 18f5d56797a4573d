import CSQLite
import Foundation
import Glibc

/// A value bound to, or read from, an SQLite statement.
enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    var int: Int? { if case .integer(let v) = self { return Int(v) }; return nil }
    var double: Double? {
        switch self {
        case .real(let v): return v
        case .integer(let v): return Double(v)
        default: return nil
        }
    }
    var string: String? { if case .text(let v) = self { return v }; return nil }
}

/// One SQLite connection: the only code in Kino that calls SQLite's C API.
///
/// Not thread-safe by itself; ``Ledger`` serialises access with a lock. Every C return code
/// goes through ``check(_:_:)``, which turns failures into ``WatchError/ledger(path:operation:message:)``.
final class SQLiteConnection: @unchecked Sendable {
    let path: String
    private var db: OpaquePointer?

    /// Opens (creating if needed) the database file, or opens an existing one read-only.
    ///
    /// A read-only connection never writes to the database file (`SQLITE_OPEN_READONLY`). If
    /// SQLite cannot set up WAL shared memory for it (a full disk, a read-only folder, and no
    /// watcher has the ledger open), and no WAL is waiting to be copied back, it reads the file
    /// as immutable instead: at rest the database file holds everything.
    /// - Throws: ``WatchError/ledger(path:operation:message:)`` when it cannot be opened.
    init(path: String, readOnly: Bool = false) throws {
        self.path = path
        if readOnly {
            do {
                db = try Self.open(path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX)
                try query("SELECT COUNT(*) FROM sqlite_master")
            } catch let error as WatchError {
                sqlite3_close_v2(db)
                db = nil
                var info = Glibc.stat()
                let walPending = lstat(path + "-wal", &info) == 0 && info.st_size > 0
                guard !walPending else { throw error }
                db = try Self.open(Self.immutableURI(path), SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI,
                                   reportedPath: path)
            }
        } else {
            db = try Self.open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX)
        }
        sqlite3_busy_timeout(db, 5000)
    }

    private static func open(_ name: String, _ flags: Int32, reportedPath: String? = nil) throws -> OpaquePointer? {
        var handle: OpaquePointer?
        let code = sqlite3_open_v2(name, &handle, flags, nil)
        guard code == SQLITE_OK else {
            let message = handle.map { describe(code: code, in: $0) } ?? "error \(code)"
            sqlite3_close_v2(handle)
            throw WatchError.ledger(path: reportedPath ?? name, operation: "open", message: message)
        }
        return handle
    }

    /// `file:` URI for `path` with `immutable=1` (no locks, no WAL, no change detection).
    private static func immutableURI(_ path: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#%")
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return "file:" + (absolute.addingPercentEncoding(withAllowedCharacters: allowed) ?? absolute) + "?immutable=1"
    }

    /// Whether this connection can only read.
    var isReadOnly: Bool { sqlite3_db_readonly(db, "main") == 1 }

    /// SQLite's message with the operating system's cause when there is one:
    /// `database or disk is full (No space left on device)`.
    static func describe(code: Int32, in db: OpaquePointer?) -> String {
        var message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
        // Only for codes an OS call causes: otherwise the saved errno is stale, from a call that
        // failed harmlessly earlier.
        let osCodes = [SQLITE_FULL, SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_READONLY, SQLITE_PERM]
        let system = db.map { sqlite3_system_errno($0) } ?? 0
        if system != 0, osCodes.contains(code & 0xff) { message += " (\(String(cString: strerror(system))))" }
        return message
    }

    deinit {
        sqlite3_close_v2(db)
    }

    /// Runs one or more statements that return no rows (schema, pragmas, BEGIN/COMMIT).
    func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(db, sql, nil, nil, &error)
        if code != SQLITE_OK {
            sqlite3_free(error)
            let message = Self.describe(code: code, in: db)
            throw WatchError.ledger(path: path, operation: String(sql.prefix(60)), message: message)
        }
    }

    /// Runs a statement with `?` parameters and returns every row as an array of values.
    @discardableResult
    func query(_ sql: String, _ parameters: [SQLValue] = []) throws -> [[SQLValue]] {
        var statement: OpaquePointer?
        try check(sqlite3_prepare_v2(db, sql, -1, &statement, nil), sql)
        defer { sqlite3_finalize(statement) }
        for (offset, value) in parameters.enumerated() {
            let index = Int32(offset + 1)
            switch value {
            case .null: try check(sqlite3_bind_null(statement, index), sql)
            case .integer(let v): try check(sqlite3_bind_int64(statement, index, v), sql)
            case .real(let v): try check(sqlite3_bind_double(statement, index, v), sql)
            case .text(let v): try check(sqlite3_bind_text(statement, index, v, -1, kino_sqlite_transient()), sql)
            }
        }
        var rows: [[SQLValue]] = []
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else { try check(code, sql); break }
            let columns = sqlite3_column_count(statement)
            rows.append((0..<columns).map { column in
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, column))
                case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, column))
                case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(statement, column)))
                default: return .null
                }
            })
        }
        return rows
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes(db)) }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back if it throws.
    ///
    /// IMMEDIATE takes the write lock up front, so two processes sharing a ledger (a watcher and
    /// `kino ledger retry`) wait on the busy timeout instead of failing mid-transaction.
    func transaction<R>(_ body: () throws -> R) throws -> R {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    private func check(_ code: Int32, _ sql: String) throws {
        guard code != SQLITE_OK && code != SQLITE_ROW && code != SQLITE_DONE else { return }
        throw WatchError.ledger(path: path, operation: String(sql.prefix(60)), message: Self.describe(code: code, in: db))
    }
}
