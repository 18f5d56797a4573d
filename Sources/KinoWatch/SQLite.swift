import CSQLite
import Foundation

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

    /// Opens (creating if needed) the database file.
    /// - Throws: ``WatchError/ledger(path:operation:message:)`` when it cannot be opened.
    init(path: String) throws {
        self.path = path
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        db = handle
        guard code == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "error \(code)"
            sqlite3_close(handle)
            db = nil
            throw WatchError.ledger(path: path, operation: "open", message: message)
        }
        sqlite3_busy_timeout(db, 5000)
    }

    deinit {
        sqlite3_close_v2(db)
    }

    /// Runs one or more statements that return no rows (schema, pragmas, BEGIN/COMMIT).
    func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(db, sql, nil, nil, &error)
        if code != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? "error \(code)"
            sqlite3_free(error)
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
        throw WatchError.ledger(path: path, operation: String(sql.prefix(60)),
                                message: String(cString: sqlite3_errmsg(db)))
    }
}
