/*
 * ledger.c - what ebb parked, in SQLite
 *
 * The state machine and the contracts are in ledger.h. The schema:
 *
 *	parked   the open rows, one per queue id: state (parking, parked,
 *	         releasing), deadline, parked_at, the message's fingerprint
 *	         (msg.h; NULL until ledger_fingerprint records it)
 *	settled  released and closed rows, append-only: outcome, deadline,
 *	         parked_at, settled_at, expired
 *	history  one sample per second at most
 *
 * Settling a row moves it from parked to settled, so a queue id the MTA
 * reuses can be parked again and the open set stays small and indexed by
 * id. The schema version is PRAGMA user_version, the file is marked as
 * ebb's by PRAGMA application_id (ledger_schema.c).
 *
 * Durability: WAL with synchronous=FULL, so a committed intent survives a
 * power cut, not only a crash of ebb; that costs one fsync per batch, not
 * per message. Every batch is one transaction with prepared statements.
 * Every value read back is checked (type, length, queue id syntax), since
 * the file could have been damaged or edited.
 *
 * The file format (schema, versions, checks at open) lives in
 * ledger_schema.c, the history in ledger_history.c, the lock in
 * ledger_lock.c; what they share with this file is in ledger_db.h.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ebb/ledger.h"
#include "ebb/log.h"
#include "ebb/msg.h"
#include "ebb/util.h"
#include "ledger_db.h"

#define LEDGER_BUSY_MS		10000	/* wait for another writer */
#define LEDGER_DIR_MAX		(PATH_MAX - 32)

static const char *const ledger_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_PARK_BEGIN] =
	    "INSERT OR REPLACE INTO parked (queue_id, state, deadline, "
	    "parked_at) VALUES (?1, 'parking', ?2, ?3)",
	[ST_PARK_COMMIT] =
	    "UPDATE parked SET state = 'parked' "
	    "WHERE queue_id = ?1 AND state = 'parking'",
	[ST_RELEASE_BEGIN] =
	    "UPDATE parked SET state = 'releasing' "
	    "WHERE queue_id = ?1 AND state IN ('parked', 'releasing')",
	[ST_SETTLE_GET] =
	    "SELECT deadline, parked_at FROM parked "
	    "WHERE queue_id = ?1 AND state = ?2",
	[ST_SETTLE_PUT] =
	    "INSERT INTO settled (queue_id, outcome, deadline, parked_at, "
	    "settled_at, expired) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_SETTLE_DELETE] =
	    "DELETE FROM parked WHERE queue_id = ?1 AND state = ?2",
	[ST_SET_PARKED] =
	    "UPDATE parked SET state = 'parked' WHERE queue_id = ?1",
	[ST_OPEN_ROWS] =
	    "SELECT queue_id, state, deadline, fingerprint FROM parked "
	    "ORDER BY deadline, queue_id",
	[ST_NO_FP] = "SELECT queue_id FROM parked WHERE fingerprint IS NULL",
	[ST_SET_FP] =
	    "UPDATE parked SET fingerprint = ?2 "
	    "WHERE queue_id = ?1 AND fingerprint IS NULL",
	[ST_REBIND] =
	    "UPDATE parked SET queue_id = ?2, state = 'parked' "
	    "WHERE queue_id = ?1",
	[ST_IS_PARKED] = "SELECT state FROM parked WHERE queue_id = ?1",
	[ST_COUNT_OPEN] = "SELECT state, count(*) FROM parked GROUP BY state",
	[ST_TOTALS] = "SELECT released, expired, closed FROM totals",
	[ST_TOTALS_ADD] =
	    "UPDATE totals SET released = released + ?1, "
	    "expired = expired + ?2, closed = closed + ?3",
	[ST_PRUNE_SETTLED] = "DELETE FROM settled WHERE settled_at < ?1",
	[ST_RELEASED_SINCE] =
	    "SELECT queue_id, settled_at FROM settled "
	    "WHERE outcome = 'released' AND settled_at >= ?1",
	[ST_SETTLED_SINCE] =
	    "SELECT 1 FROM settled WHERE queue_id = ?1 AND parked_at >= ?2 "
	    "LIMIT 1",
	[ST_HISTORY_ADD] =
	    "INSERT OR REPLACE INTO history (time, pressure, rate, leaving, "
	    "waiting, held, admin, parked, admitted, deferred) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_HISTORY_SINCE] =
	    "SELECT time, pressure, rate, leaving, waiting, held, admin, "
	    "parked, admitted, deferred FROM history WHERE time >= ?1 "
	    "ORDER BY time",
	[ST_HISTORY_PRUNE] = "DELETE FROM history WHERE time < ?1",
	[ST_EVENT_ADD] =
	    "INSERT INTO timeline (time, kind, count, text) "
	    "VALUES (?1, ?2, ?3, ?4)",
	[ST_EVENT_PRUNE] =
	    "DELETE FROM timeline WHERE id <= (SELECT max(id) FROM timeline) "
	    "- ?1",
	[ST_EVENT_RECENT] =
	    "SELECT id, time, kind, count, text FROM (SELECT * FROM timeline "
	    "ORDER BY id DESC LIMIT ?1) ORDER BY id",
};

enum ledger_state {
	STATE_PARKING,
	STATE_PARKED,
	STATE_RELEASING,
	STATE_COUNT
};

static const char *const ledger_state_names[STATE_COUNT] = {
	[STATE_PARKING] = "parking",
	[STATE_PARKED] = "parked",
	[STATE_RELEASING] = "releasing",
};

/* an open row read back, checked */
struct ledger_row {
	char	 id[MSG_QUEUE_ID_MAX];
	int	 state;		/* enum ledger_state */
	time_t	 deadline;
	char	 fp[MSG_FP_LEN + 1];	/* "" when not recorded */
};

/* ledger_damaged - SQLite's word for a file that is not a sound database */
static int
ledger_damaged(int code)
{
	code &= 0xff;
	return code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
}

/*
 * ledger_error - the message for the last SQLite error on l->db; a damaged
 * file gets the way out spelled out
 */
int
ledger_error(struct ledger *l, const char *what, char **err_r)
{
	int	 code = sqlite3_extended_errcode(l->db);

	if (ledger_damaged(code))
		*err_r = xasprintf("%s: %s: %s: the ledger is damaged; move "
		    "it aside (ebb then starts a new one, and the messages it "
		    "had parked stay in hold until released by hand)",
		    l->path, what, sqlite3_errmsg(l->db));
	else
		*err_r = xasprintf("%s: %s: %s", l->path, what,
		    sqlite3_errmsg(l->db));
	return -1;
}

/* ledger_bad_row - a value that the schema cannot have produced */
int
ledger_bad_row(struct ledger *l, const char *what, char **err_r)
{
	*err_r = xasprintf("%s: %s: the ledger is damaged; move it aside "
	    "(ebb then starts a new one, and the messages it had parked stay "
	    "in hold until released by hand)", l->path, what);
	return -1;
}

/* ledger_id_ok - an id ebb may store: the MTA-safe syntax, fits a msg */
static int
ledger_id_ok(const char *id)
{
	return id != NULL && strnlen(id, MSG_QUEUE_ID_MAX) < MSG_QUEUE_ID_MAX &&
	    ebb_queue_id_valid(id);
}

/* ledger_check_ids - every id of a batch, before anything is written */
static int
ledger_check_ids(const char *const *ids, size_t n, char **err_r)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (!ledger_id_ok(ids[i])) {
			*err_r = xasprintf("ledger: invalid queue id \"%.*s\"",
			    MSG_QUEUE_ID_MAX, ids[i] != NULL ? ids[i] : "");
			return -1;
		}
	}
	return 0;
}

/* ledger_col_id - a queue id column read back, checked, into buf */
static int
ledger_col_id(sqlite3_stmt *st, int col, char *buf, size_t len)
{
	const unsigned char *s;
	int		 n;

	if (sqlite3_column_type(st, col) != SQLITE_TEXT)
		return -1;
	s = sqlite3_column_text(st, col);
	n = sqlite3_column_bytes(st, col);
	if (s == NULL || n <= 0 || (size_t)n >= len ||
	    strlen((const char *)s) != (size_t)n)
		return -1;
	memcpy(buf, s, (size_t)n + 1);
	return ebb_queue_id_valid(buf) ? 0 : -1;
}

/* ledger_col_fp - a fingerprint column read back: NULL is "" */
static int
ledger_col_fp(sqlite3_stmt *st, int col, char fp[MSG_FP_LEN + 1])
{
	const unsigned char *s;

	fp[0] = '\0';
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return 0;
	if (sqlite3_column_type(st, col) != SQLITE_TEXT ||
	    (s = sqlite3_column_text(st, col)) == NULL ||
	    sqlite3_column_bytes(st, col) != MSG_FP_LEN ||
	    !msg_fingerprint_valid((const char *)s))
		return -1;
	memcpy(fp, s, MSG_FP_LEN + 1);
	return 0;
}

/* ledger_col_state - a state column read back: enum ledger_state or -1 */
static int
ledger_col_state(sqlite3_stmt *st, int col)
{
	const unsigned char *s;
	int		 i;

	if (sqlite3_column_type(st, col) != SQLITE_TEXT ||
	    (s = sqlite3_column_text(st, col)) == NULL)
		return -1;
	for (i = 0; i < STATE_COUNT; i++)
		if (strcmp((const char *)s, ledger_state_names[i]) == 0)
			return i;
	return -1;
}

/* ledger_col_int - an integer column read back, within [min, max] */
int
ledger_col_int(sqlite3_stmt *st, int col, int64_t min, int64_t max,
    int64_t *v_r)
{
	if (sqlite3_column_type(st, col) != SQLITE_INTEGER)
		return -1;
	*v_r = sqlite3_column_int64(st, col);
	return *v_r >= min && *v_r <= max ? 0 : -1;
}

/* ledger_run - run a statement without result rows and reset it */
int
ledger_run(struct ledger *l, enum ledger_st which, const char *what,
    char **err_r)
{
	sqlite3_stmt	*st = l->st[which];
	int		 rc;

	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		ledger_error(l, what, err_r);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

static int
ledger_begin(struct ledger *l, char **err_r)
{
	l->add_released = l->add_expired = l->add_closed = 0;
	return ledger_run(l, ST_BEGIN, "begin", err_r);
}

/* ledger_commit - add what was settled to the totals, then commit */
static int
ledger_commit(struct ledger *l, char **err_r)
{
	sqlite3_stmt	*st = l->st[ST_TOTALS_ADD];

	if (l->add_released + l->add_closed > 0) {
		sqlite3_bind_int64(st, 1, l->add_released);
		sqlite3_bind_int64(st, 2, l->add_expired);
		sqlite3_bind_int64(st, 3, l->add_closed);
		if (ledger_run(l, ST_TOTALS_ADD, "totals", err_r) == -1)
			return -1;
		if (sqlite3_changes(l->db) != 1)
			return ledger_bad_row(l, "no totals row", err_r);
	}
	return ledger_run(l, ST_COMMIT, "commit", err_r);
}

/* ledger_rollback - undo after an error (already in *err_r) */
static void
ledger_rollback(struct ledger *l)
{
	sqlite3_stmt	*st = l->st[ST_ROLLBACK];

	if (sqlite3_get_autocommit(l->db))
		return;		/* SQLite rolled back itself */
	if (sqlite3_step(st) != SQLITE_DONE)
		log_warn("%s: rollback: %s", l->path, sqlite3_errmsg(l->db));
	sqlite3_reset(st);
}

/* ledger_prepare - every statement, once */
static int
ledger_prepare(struct ledger *l, char **err_r)
{
	size_t	 i;

	for (i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v2(l->db, ledger_sql[i], -1, &l->st[i],
		    NULL) != SQLITE_OK)
			return ledger_error(l, "prepare", err_r);
	}
	return 0;
}

static int
ledger_make_dir(const char *dir, char **err_r)
{
	struct stat	 sb;

	if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
		*err_r = xasprintf("cannot create the state directory %s: %s",
		    dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &sb) == -1) {
		*err_r = xasprintf("%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		*err_r = xasprintf("%s: the state directory is not a "
		    "directory", dir);
		return -1;
	}
	return 0;
}

static int
ledger_check_dir(const char *dir, char **err_r)
{
	if (dir == NULL || *dir == '\0') {
		*err_r = xstrdup("no state directory configured "
		    "([general] state_directory)");
		return -1;
	}
	if (strnlen(dir, LEDGER_DIR_MAX) >= LEDGER_DIR_MAX) {
		*err_r = xasprintf("state directory name too long: %.64s...",
		    dir);
		return -1;
	}
	return 0;
}

int
ledger_state_dir(const char *dir, int create, char **err_r)
{
	if (ledger_check_dir(dir, err_r) == -1)
		return -1;
	return create ? ledger_make_dir(dir, err_r) : 0;
}

/* ledger_open_in - the work of ledger_open and ledger_open_existing */
static int
ledger_open_in(const char *state_dir, int create, struct ledger **ledger_r,
    char **err_r)
{
	struct ledger	*l;
	struct stat	 sb;
	char		*path;
	int		 fd, rc;

	*ledger_r = NULL;
	if (ledger_state_dir(state_dir, create, err_r) == -1)
		return -1;
	path = xasprintf("%s/%s", state_dir, LEDGER_FILE);

	/* create it with our mode (SQLite would use 0644), refuse symlinks */
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW |
	    (create ? O_CREAT : 0), 0640);
	if (fd == -1) {
		if (!create && errno == ENOENT) {
			free(path);
			return 0;
		}
		*err_r = xasprintf("%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	rc = fstat(fd, &sb);
	close(fd);
	if (rc == -1 || !S_ISREG(sb.st_mode)) {
		*err_r = xasprintf("%s: not a regular file", path);
		free(path);
		return -1;
	}

	l = xcalloc(1, sizeof(*l));
	l->path = path;
	if (sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		if (l->db == NULL)
			*err_r = xasprintf("%s: cannot open: out of memory",
			    path);
		else
			ledger_error(l, "cannot open", err_r);
		ledger_close(&l);
		return -1;
	}
	sqlite3_extended_result_codes(l->db, 1);
	sqlite3_busy_timeout(l->db, LEDGER_BUSY_MS);
#ifdef SQLITE_DBCONFIG_DEFENSIVE
	sqlite3_db_config(l->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
#endif
#ifdef SQLITE_DBCONFIG_TRUSTED_SCHEMA
	sqlite3_db_config(l->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
#endif
	if (ledger_schema_setup(l, create, err_r) == -1 ||
	    ledger_prepare(l, err_r) == -1) {
		ledger_close(&l);
		return -1;
	}
	*ledger_r = l;
	return 0;
}

int
ledger_open(const char *state_dir, struct ledger **ledger_r, char **err_r)
{
	return ledger_open_in(state_dir, 1, ledger_r, err_r);
}

int
ledger_open_existing(const char *state_dir, struct ledger **ledger_r,
    char **err_r)
{
	return ledger_open_in(state_dir, 0, ledger_r, err_r);
}

void
ledger_close(struct ledger **lp)
{
	struct ledger	*l = *lp;
	size_t		 i;

	if (l == NULL)
		return;
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(l->st[i]);
	if (l->db != NULL && sqlite3_close(l->db) != SQLITE_OK)
		log_warn("%s: close: %s", l->path, sqlite3_errmsg(l->db));
	free(l->path);
	free(l);
	*lp = NULL;
}

const char *
ledger_path(const struct ledger *l)
{
	return l->path;
}

int
ledger_park_begin(struct ledger *l, const char *const *ids,
    const time_t *deadlines, size_t n, time_t now, char **err_r)
{
	sqlite3_stmt	*st = l->st[ST_PARK_BEGIN];
	size_t		 i;

	if (ledger_check_ids(ids, n, err_r) == -1 || ledger_begin(l,
	    err_r) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		sqlite3_bind_text(st, 1, ids[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)deadlines[i]);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
		if (ledger_run(l, ST_PARK_BEGIN, "park", err_r) == -1)
			goto fail;
	}
	if (ledger_commit(l, err_r) == -1)
		goto fail;
	return 0;
fail:
	ledger_rollback(l);
	return -1;
}

int
ledger_park_commit(struct ledger *l, const char *const *ids, size_t n,
    time_t now, char **err_r)
{
	sqlite3_stmt	*st = l->st[ST_PARK_COMMIT];
	size_t		 i;

	(void)now;
	if (ledger_check_ids(ids, n, err_r) == -1 || ledger_begin(l,
	    err_r) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		sqlite3_bind_text(st, 1, ids[i], -1, SQLITE_STATIC);
		if (ledger_run(l, ST_PARK_COMMIT, "parked", err_r) == -1)
			goto fail;
	}
	if (ledger_commit(l, err_r) == -1)
		goto fail;
	return 0;
fail:
	ledger_rollback(l);
	return -1;
}

int
ledger_release_begin(struct ledger *l, const char *const *ids, size_t n,
    time_t now, char **err_r)
{
	sqlite3_stmt	*st = l->st[ST_RELEASE_BEGIN];
	size_t		 i;

	(void)now;
	if (ledger_check_ids(ids, n, err_r) == -1 || ledger_begin(l,
	    err_r) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		sqlite3_bind_text(st, 1, ids[i], -1, SQLITE_STATIC);
		if (ledger_run(l, ST_RELEASE_BEGIN, "release", err_r) == -1)
			goto fail;
		if (sqlite3_changes(l->db) != 1) {
			*err_r = xasprintf("%s: not parked by ebb (no parked "
			    "row in the ledger): not releasing it", ids[i]);
			goto fail;
		}
	}
	if (ledger_commit(l, err_r) == -1)
		goto fail;
	return 0;
fail:
	ledger_rollback(l);
	return -1;
}

/*
 * ledger_settle - move the open row of id, if it is in state from, to
 * settled as outcome ("released" or "closed") at now, and count it for the
 * totals; inside a transaction. Returns 1 if moved, 0 if there was no such
 * row, -1 on error.
 */
static int
ledger_settle(struct ledger *l, const char *id, int from, const char *outcome,
    time_t now, char **err_r)
{
	sqlite3_stmt	*get = l->st[ST_SETTLE_GET];
	sqlite3_stmt	*put = l->st[ST_SETTLE_PUT];
	sqlite3_stmt	*del = l->st[ST_SETTLE_DELETE];
	const char	*state = ledger_state_names[from];
	int64_t		 deadline, parked_at;
	int		 rc, released, expired;

	sqlite3_bind_text(get, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(get, 2, state, -1, SQLITE_STATIC);
	rc = sqlite3_step(get);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(get);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		ledger_error(l, outcome, err_r);
		sqlite3_reset(get);
		return -1;
	}
	if (ledger_col_int(get, 0, INT64_MIN, INT64_MAX, &deadline) == -1 ||
	    ledger_col_int(get, 1, INT64_MIN, INT64_MAX, &parked_at) == -1) {
		sqlite3_reset(get);
		return ledger_bad_row(l, "an open row with an invalid deadline",
		    err_r);
	}
	sqlite3_reset(get);

	released = strcmp(outcome, "released") == 0;
	expired = released && deadline <= (int64_t)now;
	sqlite3_bind_text(put, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(put, 2, outcome, -1, SQLITE_STATIC);
	sqlite3_bind_int64(put, 3, deadline);
	sqlite3_bind_int64(put, 4, parked_at);
	sqlite3_bind_int64(put, 5, (sqlite3_int64)now);
	sqlite3_bind_int(put, 6, expired);
	if (ledger_run(l, ST_SETTLE_PUT, outcome, err_r) == -1)
		return -1;
	sqlite3_bind_text(del, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(del, 2, state, -1, SQLITE_STATIC);
	if (ledger_run(l, ST_SETTLE_DELETE, outcome, err_r) == -1)
		return -1;
	if (released) {
		l->add_released++;
		l->add_expired += expired;
	} else
		l->add_closed++;
	return 1;
}

int
ledger_release_commit(struct ledger *l, const char *const *ids, size_t n,
    time_t now, char **err_r)
{
	size_t	 i;

	if (ledger_check_ids(ids, n, err_r) == -1 || ledger_begin(l,
	    err_r) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (ledger_settle(l, ids[i], STATE_RELEASING, "released", now,
		    err_r) == -1)
			goto fail;
	}
	if (ledger_commit(l, err_r) == -1)
		goto fail;
	return 0;
fail:
	ledger_rollback(l);
	return -1;
}

/*
 * ledger_open_rows - every open row, checked, earliest deadline first;
 * the caller frees *rows_r. Read whole before any callback runs, so a
 * callback may use the ledger and a damaged row fails before anything
 * was acted on.
 */
static int
ledger_open_rows(struct ledger *l, struct ledger_row **rows_r, size_t *n_r,
    char **err_r)
{
	sqlite3_stmt	*st = l->st[ST_OPEN_ROWS];
	struct ledger_row *rows = NULL;
	size_t		 n = 0, cap = 0;
	int64_t		 deadline;
	int		 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			rows = xreallocarray(rows, cap, sizeof(*rows));
		}
		if (ledger_col_id(st, 0, rows[n].id,
		    sizeof(rows[n].id)) == -1 ||
		    (rows[n].state = ledger_col_state(st, 1)) == -1 ||
		    ledger_col_int(st, 2, INT64_MIN, INT64_MAX,
		    &deadline) == -1 ||
		    ledger_col_fp(st, 3, rows[n].fp) == -1) {
			sqlite3_reset(st);
			free(rows);
			return ledger_bad_row(l, "an open row with an invalid "
			    "queue id, state, deadline or fingerprint", err_r);
		}
		rows[n++].deadline = (time_t)deadline;
	}
	if (rc != SQLITE_DONE) {
		ledger_error(l, "reading parked messages", err_r);
		sqlite3_reset(st);
		free(rows);
		return -1;
	}
	sqlite3_reset(st);
	*rows_r = rows;
	*n_r = n;
	return 0;
}

/* the counts of one reconcile, for its log line */
struct ledger_settled_counts {
	size_t	 confirmed;	/* parking or releasing -> parked */
	size_t	 rebound;	/* found under a new queue id */
	size_t	 released;
	size_t	 closed;
};

/* ledger_reconcile_row - one open row against the queue (see ledger.h) */
static int
ledger_reconcile_row(struct ledger *l, const struct ledger_row *r,
    int queued, int role, time_t now, struct ledger_settled_counts *c,
    char **err_r)
{
	sqlite3_stmt	*st = l->st[ST_SET_PARKED];
	int		 held, rc;

	held = queued && role == MSG_ROLE_HELD;
	if (held) {
		if (r->state == STATE_PARKED)
			return 0;
		sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
		if (ledger_run(l, ST_SET_PARKED, "reconcile", err_r) == -1)
			return -1;
		c->confirmed++;
		log_msg(LOG_DEBUG, r->id, "ledger: %s -> parked (in hold)",
		    ledger_state_names[r->state]);
		return 0;
	}
	if (r->state == STATE_RELEASING) {
		/* released, and then delivered or on its way */
		rc = ledger_settle(l, r->id, r->state, "released", now, err_r);
		if (rc > 0)
			c->released++;
	} else {
		/* never held, released by somebody else, or gone */
		rc = ledger_settle(l, r->id, r->state, "closed", now, err_r);
		if (rc > 0)
			c->closed++;
	}
	if (rc > 0)
		log_msg(LOG_DEBUG, r->id, "ledger: %s -> %s (%s)",
		    ledger_state_names[r->state],
		    r->state == STATE_RELEASING ? "released" : "closed",
		    queued ? msg_role_name(role) : "gone");
	return rc < 0 ? -1 : 0;
}

/*
 * ledger_rebind - the gone rows (gone[i] is rows[at[i]]) the caller found
 * again under a new queue id move to it, parked; each is marked in
 * moved[]. A new id that is no queue id, or has an open row of its own,
 * is not taken: that row is settled as gone.
 */
static int
ledger_rebind(struct ledger *l, const struct ledger_gone *gone,
    const size_t *at, size_t n, struct ledger_row *rows, char *moved,
    struct ledger_settled_counts *c, char **err_r)
{
	sqlite3_stmt	*st = l->st[ST_REBIND];
	size_t		 i;
	int		 taken;

	for (i = 0; i < n; i++) {
		if (gone[i].new_id[0] == '\0')
			continue;
		if (!ledger_id_ok(gone[i].new_id) ||
		    strcmp(gone[i].new_id, gone[i].id) == 0) {
			log_msg(LOG_WARNING, gone[i].id, "ledger: not moved "
			    "to \"%.*s\": not a new queue id",
			    MSG_QUEUE_ID_MAX, gone[i].new_id);
			continue;
		}
		if ((taken = ledger_is_parked(l, gone[i].new_id,
		    err_r)) == -1)
			return -1;
		if (taken) {
			log_msg(LOG_WARNING, gone[i].id, "ledger: not moved "
			    "to %s: it has a row of its own", gone[i].new_id);
			continue;
		}
		sqlite3_bind_text(st, 1, gone[i].id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, gone[i].new_id, -1, SQLITE_STATIC);
		if (ledger_run(l, ST_REBIND, "rebind", err_r) == -1)
			return -1;
		log_msg(LOG_INFO, gone[i].new_id, "ledger: parked by ebb as "
		    "%s, held now under this queue id (a copied or restored "
		    "queue file; same fingerprint)", gone[i].id);
		ebb_strlcpy(rows[at[i]].id, gone[i].new_id,
		    sizeof(rows[at[i]].id));
		moved[at[i]] = 1;
		c->rebound++;
	}
	return 0;
}

int
ledger_reconcile(struct ledger *l, ledger_in_queue_fn *in_queue,
    ledger_rebind_fn *rebind, void *arg, time_t now, char **err_r)
{
	struct ledger_settled_counts c = { 0 };
	struct ledger_row *rows = NULL;
	struct ledger_gone *gone = NULL;
	size_t		 n = 0, ngone = 0, i, *at = NULL;
	int		*queued = NULL, *role = NULL, rc = -1;
	char		*moved = NULL;

	if (ledger_begin(l, err_r) == -1)
		return -1;
	if (ledger_open_rows(l, &rows, &n, err_r) == -1)
		goto fail;
	queued = xreallocarray(NULL, n + 1, sizeof(*queued));
	role = xreallocarray(NULL, n + 1, sizeof(*role));
	moved = xcalloc(n + 1, sizeof(*moved));
	for (i = 0; i < n; i++) {
		role[i] = -1;
		queued[i] = in_queue(arg, rows[i].id, &role[i]);
		if (queued[i] < 0) {
			*err_r = xasprintf("ledger: reconcile: cannot tell "
			    "where %s is", rows[i].id);
			goto fail;
		}
		if (queued[i] && (role[i] < 0 || role[i] >= MSG_ROLE_COUNT)) {
			*err_r = xasprintf("ledger: reconcile: %s has "
			    "unknown role %d", rows[i].id, role[i]);
			goto fail;
		}
		if (queued[i] || rows[i].fp[0] == '\0' || rebind == NULL)
			continue;
		/* gone: maybe held under a new queue id */
		if (gone == NULL) {
			gone = xcalloc(n, sizeof(*gone));
			at = xreallocarray(NULL, n, sizeof(*at));
		}
		ebb_strlcpy(gone[ngone].id, rows[i].id, sizeof(gone[ngone].id));
		memcpy(gone[ngone].fp, rows[i].fp, sizeof(gone[ngone].fp));
		gone[ngone].deadline = rows[i].deadline;
		at[ngone++] = i;
	}
	if (ngone > 0) {
		if (rebind(arg, gone, ngone) == -1) {
			*err_r = xstrdup("ledger: reconcile: cannot look for "
			    "parked messages under new queue ids");
			goto fail;
		}
		if (ledger_rebind(l, gone, at, ngone, rows, moved, &c,
		    err_r) == -1)
			goto fail;
	}
	for (i = 0; i < n; i++) {
		if (moved[i])
			continue;
		if (ledger_reconcile_row(l, &rows[i], queued[i] != 0, role[i],
		    now, &c, err_r) == -1)
			goto fail;
	}
	if (ledger_commit(l, err_r) == -1)
		goto fail;
	if (c.confirmed + c.rebound + c.released + c.closed > 0)
		log_info("ledger: reconciled with the queue: %zu confirmed "
		    "parked, %zu found under a new queue id, %zu released, "
		    "%zu closed (gone or released by somebody else)",
		    c.confirmed, c.rebound, c.released, c.closed);
	rc = 0;
	goto out;
fail:
	ledger_rollback(l);
out:
	free(rows);
	free(queued);
	free(role);
	free(moved);
	free(gone);
	free(at);
	return rc;
}

int
ledger_fingerprint(struct ledger *l, ledger_fingerprint_fn *fn, void *arg,
    char **err_r)
{
	sqlite3_stmt	*st = l->st[ST_NO_FP], *set = l->st[ST_SET_FP];
	char		(*ids)[MSG_QUEUE_ID_MAX] = NULL;
	char		 fp[MSG_FP_LEN + 1];
	size_t		 n = 0, cap = 0, i;
	int		 rc, began = 0, done = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			ids = xreallocarray(ids, cap, sizeof(*ids));
		}
		if (ledger_col_id(st, 0, ids[n], sizeof(ids[n])) == -1) {
			sqlite3_reset(st);
			free(ids);
			return ledger_bad_row(l, "an open row with an invalid "
			    "queue id", err_r);
		}
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(ids);
		return ledger_error(l, "reading rows without a fingerprint",
		    err_r);
	}
	for (i = 0; i < n; i++) {
		if (fn(arg, ids[i], fp) != 0 || !msg_fingerprint_valid(fp))
			continue;
		if (!began && ledger_begin(l, err_r) == -1)
			goto fail;
		began = 1;
		sqlite3_bind_text(set, 1, ids[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(set, 2, fp, -1, SQLITE_TRANSIENT);
		if (ledger_run(l, ST_SET_FP, "fingerprint", err_r) == -1)
			goto fail;
		done++;
	}
	if (began && ledger_commit(l, err_r) == -1)
		goto fail;
	free(ids);
	return done;
fail:
	if (began)
		ledger_rollback(l);
	free(ids);
	return -1;
}

int
ledger_foreach_parked(struct ledger *l,
    int (*fn)(void *arg, const char *id, time_t deadline), void *arg,
    char **err_r)
{
	struct ledger_row *rows = NULL;
	size_t		 n = 0, i;
	int		 rc = 0;

	if (ledger_open_rows(l, &rows, &n, err_r) == -1)
		return -1;
	for (i = 0; i < n && rc == 0; i++)
		if (fn(arg, rows[i].id, rows[i].deadline) != 0)
			rc = 1;
	free(rows);
	return rc;
}

int
ledger_is_parked(struct ledger *l, const char *id, char **err_r)
{
	sqlite3_stmt	*st = l->st[ST_IS_PARKED];
	int		 rc, found;

	if (!ledger_id_ok(id))
		return 0;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		ledger_error(l, "lookup", err_r);
		sqlite3_reset(st);
		return -1;
	}
	found = rc == SQLITE_ROW;
	if (found && ledger_col_state(st, 0) == -1) {
		sqlite3_reset(st);
		return ledger_bad_row(l, "an open row with an invalid state",
		    err_r);
	}
	sqlite3_reset(st);
	return found;
}

int
ledger_settled_since(struct ledger *l, const char *id, time_t since,
    char **err_r)
{
	sqlite3_stmt	*st = l->st[ST_SETTLED_SINCE];
	int		 rc;

	if (!ledger_id_ok(id))
		return 0;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)since);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ledger_error(l, "lookup", err_r);
	return rc == SQLITE_ROW;
}

int
ledger_created(const struct ledger *l)
{
	return l->created;
}

int
ledger_foreach_released(struct ledger *l, time_t since,
    int (*fn)(void *arg, const char *id, time_t released), void *arg,
    char **err_r)
{
	sqlite3_stmt	*st = l->st[ST_RELEASED_SINCE];
	char		 id[MSG_QUEUE_ID_MAX];
	int64_t		 at;
	int		 rc;

	sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (ledger_col_id(st, 0, id, sizeof(id)) == -1 ||
		    ledger_col_int(st, 1, 0, INT64_MAX, &at) == -1) {
			sqlite3_reset(st);
			return ledger_bad_row(l, "a released row with an "
			    "invalid queue id or time", err_r);
		}
		if (fn(arg, id, (time_t)at) != 0) {
			sqlite3_reset(st);
			return 1;
		}
	}
	if (rc != SQLITE_DONE) {
		ledger_error(l, "reading released messages", err_r);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

int
ledger_counts(struct ledger *l, struct ledger_counts *r, char **err_r)
{
	sqlite3_stmt	*st;
	int64_t		 count, released, expired, closed;
	int		 rc, state;

	memset(r, 0, sizeof(*r));
	st = l->st[ST_COUNT_OPEN];
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((state = ledger_col_state(st, 0)) == -1 ||
		    ledger_col_int(st, 1, 0, INT64_MAX, &count) == -1) {
			sqlite3_reset(st);
			return ledger_bad_row(l, "an open row with an invalid "
			    "state", err_r);
		}
		if (state == STATE_PARKED)
			r->parked += (size_t)count;
		else
			r->pending += (size_t)count;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return ledger_error(l, "counting", err_r);

	st = l->st[ST_TOTALS];
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (ledger_col_int(st, 0, 0, INT64_MAX, &released) == -1 ||
		    ledger_col_int(st, 1, 0, released, &expired) == -1 ||
		    ledger_col_int(st, 2, 0, INT64_MAX, &closed) == -1) {
			sqlite3_reset(st);
			return ledger_bad_row(l, "totals out of range", err_r);
		}
		r->released = (size_t)released;
		r->expired = (size_t)expired;
		r->closed = (size_t)closed;
		rc = sqlite3_step(st);
	} else if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return ledger_bad_row(l, "no totals row", err_r);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return ledger_error(l, "counting", err_r);
	return 0;
}

int
ledger_prune_settled(struct ledger *l, time_t before, char **err_r)
{
	sqlite3_bind_int64(l->st[ST_PRUNE_SETTLED], 1, (sqlite3_int64)before);
	return ledger_run(l, ST_PRUNE_SETTLED, "pruning settled rows", err_r);
}

