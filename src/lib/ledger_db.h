/*
 * ledger_db.h - the ledger's insides, shared by ledger.c (open, the
 * park/release state machine), ledger_schema.c, ledger_history.c and
 * ledger_lock.c
 *
 * Not a public header: everything else uses include/ebb/ledger.h.
 */
#ifndef EBB_LEDGER_DB_H
#define EBB_LEDGER_DB_H

#include <stdint.h>

#include <sqlite3.h>

/* the prepared statements, SQL in ledger.c's ledger_sql[] */
enum ledger_st {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_PARK_BEGIN,
	ST_PARK_COMMIT,
	ST_RELEASE_BEGIN,
	ST_SETTLE_GET,
	ST_SETTLE_PUT,
	ST_SETTLE_DELETE,
	ST_SET_PARKED,
	ST_OPEN_ROWS,
	ST_NO_FP,
	ST_SET_FP,
	ST_REBIND,
	ST_IS_PARKED,
	ST_COUNT_OPEN,
	ST_TOTALS,
	ST_TOTALS_ADD,
	ST_PRUNE_SETTLED,
	ST_RELEASED_SINCE,
	ST_SETTLED_SINCE,
	ST_HISTORY_ADD,
	ST_HISTORY_SINCE,
	ST_HISTORY_PRUNE,
	ST_EVENT_ADD,
	ST_EVENT_PRUNE,
	ST_EVENT_RECENT,
	ST_COUNT
};

struct ledger {
	sqlite3		*db;
	char		*path;
	sqlite3_stmt	*st[ST_COUNT];
	/* settled in the open transaction, added to totals at commit */
	int64_t		 add_released;
	int64_t		 add_expired;
	int64_t		 add_closed;
	int		 created;	/* this open made the schema */
};

/*
 * ledger_error - set *err_r from the last SQLite error on l->db, with the
 * way out spelled out when the file is damaged; returns -1
 */
int	ledger_error(struct ledger *l, const char *what, char **err_r);

/* ledger_bad_row - a value read back that ebb never writes; returns -1 */
int	ledger_bad_row(struct ledger *l, const char *what, char **err_r);

/* ledger_col_int - an INTEGER column within [min, max] into *v_r; 0 or -1 */
int	ledger_col_int(sqlite3_stmt *st, int col, int64_t min, int64_t max,
	    int64_t *v_r);

/* ledger_run - step a statement without result rows and reset it */
int	ledger_run(struct ledger *l, enum ledger_st which, const char *what,
	    char **err_r);

/*
 * ledger_schema_setup - make l->db ready for the statements: WAL, FULL
 * sync, quick_check when writer, schema created or migrated; 0 or -1
 */
int	ledger_schema_setup(struct ledger *l, int writer, char **err_r);

/*
 * ledger_state_dir - check the state directory's name and, with create,
 * make it (one level, mode 0750) when missing
 */
int	ledger_state_dir(const char *dir, int create, char **err_r);

#endif
