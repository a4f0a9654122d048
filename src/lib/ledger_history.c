/*
 * ledger_history.c - the ledger's history: backlog and pressure over time
 *
 * One row per second at most (time is the primary key), written by the
 * daemon and read back for "the last hours" on a status page. Pressure is
 * NULL when no sensor was present (NAN in struct ledger_sample). Every
 * value read back is range-checked like the rest of the ledger.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "ebb/ledger.h"
#include "ebb/util.h"
#include "ledger_db.h"

int
ledger_history_add(struct ledger *l, const struct ledger_sample *s,
    char **err_r)
{
	sqlite3_stmt	*st = l->st[ST_HISTORY_ADD];

	if (!(isnan(s->pressure) || (isfinite(s->pressure) &&
	    s->pressure >= 0)) || !isfinite(s->rate) || s->rate < 0 ||
	    s->leaving < 0 || s->waiting < 0 || s->held < 0 ||
	    s->admin < 0 || s->parked < 0) {
		*err_r = xstrdup("ledger: history sample out of range");
		return -1;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)s->time);
	if (isnan(s->pressure))
		sqlite3_bind_null(st, 2);
	else
		sqlite3_bind_double(st, 2, s->pressure);
	sqlite3_bind_double(st, 3, s->rate);
	sqlite3_bind_int64(st, 4, s->leaving);
	sqlite3_bind_int64(st, 5, s->waiting);
	sqlite3_bind_int64(st, 6, s->held);
	sqlite3_bind_int64(st, 7, s->admin);
	sqlite3_bind_int64(st, 8, s->parked);
	/* the milter's counts: both known, or neither */
	if (s->admitted >= 0 && s->deferred >= 0) {
		sqlite3_bind_int64(st, 9, s->admitted);
		sqlite3_bind_int64(st, 10, s->deferred);
	} else {
		sqlite3_bind_null(st, 9);
		sqlite3_bind_null(st, 10);
	}
	return ledger_run(l, ST_HISTORY_ADD, "history", err_r);
}

/* history_real - a REAL column read back: finite and >= 0 */
static int
history_real(sqlite3_stmt *st, int col, double *v_r)
{
	int	 type = sqlite3_column_type(st, col);

	if (type != SQLITE_FLOAT && type != SQLITE_INTEGER)
		return -1;
	*v_r = sqlite3_column_double(st, col);
	return isfinite(*v_r) && *v_r >= 0 ? 0 : -1;
}

/* history_row - one history row read back, checked */
static int
history_row(sqlite3_stmt *st, struct ledger_sample *s)
{
	int64_t	 v[6];
	int	 i;

	if (ledger_col_int(st, 0, INT64_MIN, INT64_MAX, &v[0]) == -1)
		return -1;
	s->time = (time_t)v[0];
	if (sqlite3_column_type(st, 1) == SQLITE_NULL)
		s->pressure = NAN;
	else if (history_real(st, 1, &s->pressure) == -1)
		return -1;
	if (history_real(st, 2, &s->rate) == -1)
		return -1;
	for (i = 0; i < 5; i++)
		if (ledger_col_int(st, 3 + i, 0, LONG_MAX, &v[i + 1]) == -1)
			return -1;
	s->leaving = (long)v[1];
	s->waiting = (long)v[2];
	s->held = (long)v[3];
	s->admin = (long)v[4];
	s->parked = (long)v[5];
	s->admitted = s->deferred = -1;
	if (sqlite3_column_type(st, 8) != SQLITE_NULL) {
		if (ledger_col_int(st, 8, 0, LONG_MAX, &v[0]) == -1 ||
		    ledger_col_int(st, 9, 0, LONG_MAX, &v[1]) == -1)
			return -1;
		s->admitted = (long)v[0];
		s->deferred = (long)v[1];
	}
	return 0;
}

int
ledger_history_since(struct ledger *l, time_t since,
    int (*fn)(void *arg, const struct ledger_sample *s), void *arg,
    char **err_r)
{
	sqlite3_stmt	*st = l->st[ST_HISTORY_SINCE];
	struct ledger_sample s;
	int		 rc;

	sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (history_row(st, &s) == -1) {
			sqlite3_reset(st);
			return ledger_bad_row(l, "a history row out of range",
			    err_r);
		}
		if (fn(arg, &s) != 0) {
			sqlite3_reset(st);
			return 1;
		}
	}
	if (rc != SQLITE_DONE) {
		ledger_error(l, "reading history", err_r);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

int
ledger_history_prune(struct ledger *l, time_t before, char **err_r)
{
	sqlite3_bind_int64(l->st[ST_HISTORY_PRUNE], 1, (sqlite3_int64)before);
	return ledger_run(l, ST_HISTORY_PRUNE, "pruning history", err_r);
}

/* event_ok - an event ebb may store, or read back: see ledger.h */
static int
event_ok(const struct ledger_event *e)
{
	size_t	 n = strnlen(e->text, sizeof(e->text));
	size_t	 k = strnlen(e->kind, sizeof(e->kind));

	return n <= LEDGER_EVENT_TEXT_MAX && ebb_text_line_valid(e->text, n) &&
	    k > 0 && k < sizeof(e->kind) &&
	    strspn(e->kind, "abcdefghijklmnopqrstuvwxyz_") == k &&
	    e->count >= 0;
}

int
ledger_event_add(struct ledger *l, const struct ledger_event *e,
    char **err_r)
{
	sqlite3_stmt	*st = l->st[ST_EVENT_ADD];

	if (!event_ok(e)) {
		*err_r = xstrdup("ledger: a timeline entry that is not one "
		    "line of text");
		return -1;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)e->time);
	sqlite3_bind_text(st, 2, e->kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, e->count);
	sqlite3_bind_text(st, 4, e->text, -1, SQLITE_STATIC);
	if (ledger_run(l, ST_EVENT_ADD, "timeline", err_r) == -1)
		return -1;
	sqlite3_bind_int64(l->st[ST_EVENT_PRUNE], 1, LEDGER_EVENTS_KEEP);
	return ledger_run(l, ST_EVENT_PRUNE, "pruning the timeline", err_r);
}

/* event_row - one timeline row read back, checked */
static int
event_row(sqlite3_stmt *st, struct ledger_event *e)
{
	const char	*kind, *text;
	int64_t		 v;

	memset(e, 0, sizeof(*e));
	if (ledger_col_int(st, 0, 1, LONG_MAX, &v) == -1)
		return -1;
	e->id = (long)v;
	if (ledger_col_int(st, 1, INT64_MIN, INT64_MAX, &v) == -1)
		return -1;
	e->time = (time_t)v;
	if (ledger_col_int(st, 3, 0, LONG_MAX, &v) == -1)
		return -1;
	e->count = (long)v;
	kind = (const char *)sqlite3_column_text(st, 2);
	text = (const char *)sqlite3_column_text(st, 4);
	if (kind == NULL || text == NULL ||
	    (size_t)sqlite3_column_bytes(st, 2) >= sizeof(e->kind) ||
	    (size_t)sqlite3_column_bytes(st, 4) > LEDGER_EVENT_TEXT_MAX)
		return -1;
	memcpy(e->kind, kind, (size_t)sqlite3_column_bytes(st, 2));
	memcpy(e->text, text, (size_t)sqlite3_column_bytes(st, 4));
	return event_ok(e) ? 0 : -1;
}

int
ledger_events_recent(struct ledger *l, size_t max,
    int (*fn)(void *arg, const struct ledger_event *e), void *arg,
    char **err_r)
{
	sqlite3_stmt	*st = l->st[ST_EVENT_RECENT];
	struct ledger_event e;
	int		 rc;

	sqlite3_bind_int64(st, 1, (sqlite3_int64)MINIMUM(max, INT32_MAX));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (event_row(st, &e) == -1) {
			sqlite3_reset(st);
			return ledger_bad_row(l, "a timeline row out of range",
			    err_r);
		}
		if (fn(arg, &e) != 0) {
			sqlite3_reset(st);
			return 1;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return ledger_error(l, "reading the timeline", err_r);
	return 0;
}
