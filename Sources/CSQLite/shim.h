#pragma once
// SQLite's C API for KinoWatch's ledger. SQLITE_TRANSIENT is a cast macro Swift cannot import,
// so it is wrapped here.
#include <sqlite3.h>

static inline sqlite3_destructor_type kino_sqlite_transient(void) { return SQLITE_TRANSIENT; }
