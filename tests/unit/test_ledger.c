/*
 * test_ledger.c - the ledger: the park/release state machine, reconcile
 * against a fake queue, the lock, damaged and newer files, history
 *
 * Every test gets its own state directory under $TMPDIR (mkdtemp), removed
 * afterwards; nothing is written into the source or build tree.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "ebb/ledger.h"
#include "ebb/msg.h"
#include "ebb/util.h"

#define NOW	1700000000

struct fixture {
	char		 base[64];	/* the mkdtemp directory */
	char		 state[96];	/* base/state, created by the ledger */
	struct ledger	*l;
};

static int
setup(void **state)
{
	struct fixture	*f = xcalloc(1, sizeof(*f));
	const char	*tmp = getenv("TMPDIR");

	snprintf(f->base, sizeof(f->base), "%s/ebb-ledger.XXXXXX",
	    tmp != NULL && strlen(tmp) < 40 ? tmp : "/tmp");
	if (mkdtemp(f->base) == NULL)
		return -1;
	snprintf(f->state, sizeof(f->state), "%s/state", f->base);
	*state = f;
	return 0;
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	ledger_close(&f->l);
	nftw(f->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* open_ok - open the fixture's ledger, failing the test on error */
static struct ledger *
open_ok(struct fixture *f)
{
	char	*err = NULL;

	if (ledger_open(f->state, &f->l, &err) == -1)
		fail_msg("ledger_open: %s", err);
	assert_non_null(f->l);
	return f->l;
}

/* raw_sql - change the file behind the ledger's back */
static void
raw_sql(struct fixture *f, const char *sql)
{
	sqlite3	*db;
	char	 path[160];

	snprintf(path, sizeof(path), "%s/%s", f->state, LEDGER_FILE);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
}

static void
counts(struct ledger *l, struct ledger_counts *c)
{
	char	*err = NULL;

	if (ledger_counts(l, c, &err) == -1)
		fail_msg("ledger_counts: %s", err);
}

/* park - park_begin + park_commit, as the drain does around postsuper */
static void
park(struct ledger *l, const char *const *ids, const time_t *dl, size_t n)
{
	char	*err = NULL;

	if (ledger_park_begin(l, ids, dl, n, NOW, &err) == -1 ||
	    ledger_park_commit(l, ids, n, NOW, &err) == -1)
		fail_msg("park: %s", err);
}

static int
is_parked(struct ledger *l, const char *id)
{
	char	*err = NULL;
	int	 rc;

	if ((rc = ledger_is_parked(l, id, &err)) == -1)
		fail_msg("is_parked: %s", err);
	return rc;
}

/* collect parked ids into a string "A,B,C," */
struct listing {
	char	 buf[512];
	size_t	 n;
	time_t	 last;
	int	 ordered;
};

static int
list_one(void *arg, const char *id, time_t deadline)
{
	struct listing	*ls = arg;
	size_t		 len = strlen(ls->buf);

	snprintf(ls->buf + len, sizeof(ls->buf) - len, "%s,", id);
	if (ls->n > 0 && deadline < ls->last)
		ls->ordered = 0;
	ls->last = deadline;
	ls->n++;
	return 0;
}

static void
listing(struct ledger *l, struct listing *ls)
{
	char	*err = NULL;

	memset(ls, 0, sizeof(*ls));
	ls->ordered = 1;
	if (ledger_foreach_parked(l, list_one, ls, &err) == -1)
		fail_msg("foreach_parked: %s", err);
}

static void
test_open_create(void **state)
{
	struct fixture	*f = *state;
	struct ledger	*l = NULL;
	struct stat	 sb;
	char		 path[160], *err = NULL;

	/* open_existing creates nothing */
	assert_int_equal(ledger_open_existing(f->state, &l, &err), 0);
	assert_null(l);
	assert_int_equal(stat(f->state, &sb), -1);

	open_ok(f);
	assert_int_equal(stat(f->state, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_mode & 0027, 0);	/* 0750 at most */
	snprintf(path, sizeof(path), "%s/%s", f->state, LEDGER_FILE);
	assert_string_equal(ledger_path(f->l), path);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0037, 0);	/* 0640 at most */
	ledger_close(&f->l);
	assert_null(f->l);
	ledger_close(&f->l);		/* NULL is fine */

	/* reopen: the schema is there, nothing to migrate */
	open_ok(f);
	ledger_close(&f->l);
	assert_int_equal(ledger_open_existing(f->state, &l, &err), 0);
	assert_non_null(l);
	ledger_close(&l);

	/* no state directory at all */
	assert_int_equal(ledger_open("", &l, &err), -1);
	assert_non_null(strstr(err, "state_directory"));
	free(err);
	err = NULL;
	/* a parent that does not exist: one level only */
	snprintf(path, sizeof(path), "%s/no/such", f->base);
	assert_int_equal(ledger_open(path, &l, &err), -1);
	assert_null(l);
	assert_non_null(err);
	free(err);
}

static void
test_park_batch(void **state)
{
	struct fixture	*f = *state;
	struct ledger	*l = open_ok(f);
	struct ledger_counts c;
	struct listing	 ls;
	const char	*ids[] = { "AAA1", "BBB2", "CCC3" };
	const time_t	 dl[] = { NOW + 300, NOW + 100, NOW + 200 };
	char		*err = NULL;

	assert_int_equal(ledger_park_begin(l, ids, dl, 3, NOW, &err), 0);
	counts(l, &c);
	assert_int_equal(c.pending, 3);
	assert_int_equal(c.parked, 0);
	/* parking rows are ebb's if they are in hold: listed */
	assert_int_equal(is_parked(l, "AAA1"), 1);

	assert_int_equal(ledger_park_commit(l, ids, 3, NOW, &err), 0);
	counts(l, &c);
	assert_int_equal(c.pending, 0);
	assert_int_equal(c.parked, 3);
	assert_int_equal(is_parked(l, "BBB2"), 1);
	assert_int_equal(is_parked(l, "ZZZ9"), 0);
	assert_int_equal(is_parked(l, "bad id"), 0);

	/* earliest deadline first */
	listing(l, &ls);
	assert_string_equal(ls.buf, "BBB2,CCC3,AAA1,");
	assert_true(ls.ordered);

	/* parking again replaces the open row (new deadline) */
	{
		const char	*one[] = { "AAA1" };
		const time_t	 early[] = { NOW + 10 };

		park(l, one, early, 1);
		listing(l, &ls);
		assert_string_equal(ls.buf, "AAA1,BBB2,CCC3,");
	}
	counts(l, &c);
	assert_int_equal(c.parked, 3);
}

static void
test_invalid_ids(void **state)
{
	struct fixture	*f = *state;
	struct ledger	*l = open_ok(f);
	struct ledger_counts c;
	const char	*bad[] = { "GOOD1", "-rf", "GOOD2" };
	const char	*shell[] = { "A;B" };
	const char	*empty[] = { "" };
	const char	*nul[] = { NULL };
	const char	*longid[] = {
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" };	/* > 31 */
	const time_t	 dl[] = { NOW, NOW, NOW };
	char		*err = NULL;

	assert_int_equal(ledger_park_begin(l, bad, dl, 3, NOW, &err), -1);
	assert_non_null(strstr(err, "-rf"));
	free(err);
	err = NULL;
	assert_int_equal(ledger_park_begin(l, shell, dl, 1, NOW, &err), -1);
	free(err);
	err = NULL;
	assert_int_equal(ledger_park_begin(l, empty, dl, 1, NOW, &err), -1);
	free(err);
	err = NULL;
	assert_int_equal(ledger_park_begin(l, nul, dl, 1, NOW, &err), -1);
	free(err);
	err = NULL;
	assert_int_equal(ledger_park_begin(l, longid, dl, 1, NOW, &err), -1);
	free(err);
	err = NULL;
	assert_int_equal(ledger_release_begin(l, shell, 1, NOW, &err), -1);
	free(err);
	err = NULL;
	/* nothing of a failed batch was recorded */
	counts(l, &c);
	assert_int_equal(c.pending + c.parked, 0);
	assert_int_equal(is_parked(l, "GOOD1"), 0);
}

static void
test_release(void **state)
{
	struct fixture	*f = *state;
	struct ledger	*l = open_ok(f);
	struct ledger_counts c;
	struct listing	 ls;
	const char	*ids[] = { "AAA1", "BBB2", "CCC3" };
	const time_t	 dl[] = { NOW - 60, NOW + 3600, NOW + 7200 };
	const char	*two[] = { "AAA1", "BBB2" };
	const char	*mixed[] = { "CCC3", "ADMIN1" };
	char		*err = NULL;

	park(l, ids, dl, 3);
	assert_int_equal(ledger_release_begin(l, two, 2, NOW, &err), 0);
	counts(l, &c);
	assert_int_equal(c.parked, 1);
	assert_int_equal(c.pending, 2);
	/* a retry of a batch that failed at the MTA is fine */
	assert_int_equal(ledger_release_begin(l, two, 2, NOW, &err), 0);
	assert_int_equal(ledger_release_commit(l, two, 2, NOW, &err), 0);
	counts(l, &c);
	assert_int_equal(c.parked, 1);
	assert_int_equal(c.pending, 0);
	assert_int_equal(c.released, 2);
	assert_int_equal(c.expired, 1);		/* AAA1: deadline passed */
	assert_int_equal(is_parked(l, "AAA1"), 0);
	listing(l, &ls);
	assert_string_equal(ls.buf, "CCC3,");

	/* committing again changes nothing */
	assert_int_equal(ledger_release_commit(l, two, 2, NOW, &err), 0);
	counts(l, &c);
	assert_int_equal(c.released, 2);

	/* an id ebb did not park fails the whole batch: CCC3 stays parked */
	assert_int_equal(ledger_release_begin(l, mixed, 2, NOW, &err), -1);
	assert_non_null(strstr(err, "ADMIN1"));
	free(err);
	err = NULL;
	counts(l, &c);
	assert_int_equal(c.parked, 1);
	assert_int_equal(c.pending, 0);
	/* nor can a released one be released again */
	assert_int_equal(ledger_release_begin(l, two, 1, NOW, &err), -1);
	free(err);
	err = NULL;
	/* committing a release that was never begun does nothing */
	assert_int_equal(ledger_release_commit(l, mixed, 1, NOW, &err), 0);
	assert_int_equal(is_parked(l, "CCC3"), 1);

	/* settled rows can be pruned, open ones never are; totals stay */
	assert_int_equal(ledger_prune_settled(l, NOW + 1, &err), 0);
	counts(l, &c);
	assert_int_equal(c.released, 2);
	assert_int_equal(c.expired, 1);
	assert_int_equal(c.parked, 1);
	assert_int_equal(is_parked(l, "CCC3"), 1);
}

/* the fake queue for reconcile: id -> role, absent = gone */
struct fake_queue {
	const char	*id;
	int		 queue;
};

struct fake {
	const struct fake_queue *q;
	size_t		 n;
	const char	*fail;	/* lookups of this id fail */
	size_t		 calls;
};

static int
fake_in_queue(void *arg, const char *id, int *queue_r)
{
	struct fake	*fk = arg;
	size_t		 i;

	fk->calls++;
	if (fk->fail != NULL && strcmp(id, fk->fail) == 0)
		return -1;
	for (i = 0; i < fk->n; i++) {
		if (strcmp(fk->q[i].id, id) == 0) {
			*queue_r = fk->q[i].queue;
			return 1;
		}
	}
	return 0;
}

static void
test_reconcile(void **state)
{
	struct fixture	*f = *state;
	struct ledger	*l = open_ok(f);
	struct ledger_counts c;
	struct listing	 ls;
	/* parking: P1 held, P2 gone, P3 still deferred */
	const char	*parking[] = { "P1", "P2", "P3" };
	/* parked: K1 gone, K2 held, K3 released by somebody (active) */
	const char	*parked[] = { "K1", "K2", "K3" };
	/* releasing: R1 still held, R2 gone, R3 in deferred */
	const char	*releasing[] = { "R1", "R2", "R3" };
	/* X was released by ebb, and the administrator held it since */
	const char	*x[] = { "X1" };
	const time_t	 dl[] = { NOW + 30, NOW + 20, NOW + 10 };
	static const struct fake_queue queue[] = {
		{ "P1", MSG_ROLE_HELD },
		{ "P3", MSG_ROLE_WAITING },
		{ "K2", MSG_ROLE_HELD },
		{ "K3", MSG_ROLE_LEAVING },
		{ "R1", MSG_ROLE_HELD },
		{ "R3", MSG_ROLE_WAITING },
		{ "X1", MSG_ROLE_HELD },
		{ "ADMIN1", MSG_ROLE_HELD },	/* never ebb's */
	};
	struct fake	 fk = { queue, nitems(queue), NULL, 0 };
	char		*err = NULL;

	assert_int_equal(ledger_park_begin(l, parking, dl, 3, NOW, &err), 0);
	park(l, parked, dl, 3);
	park(l, releasing, dl, 3);
	assert_int_equal(ledger_release_begin(l, releasing, 3, NOW, &err), 0);
	park(l, x, dl, 1);
	assert_int_equal(ledger_release_begin(l, x, 1, NOW, &err), 0);
	assert_int_equal(ledger_release_commit(l, x, 1, NOW, &err), 0);

	/* a failed lookup changes nothing */
	fk.fail = "K2";
	assert_int_equal(ledger_reconcile(l, fake_in_queue, NULL, &fk,
	    NOW + 60, &err), -1);
	assert_non_null(strstr(err, "K2"));
	free(err);
	err = NULL;
	counts(l, &c);
	assert_int_equal(c.pending, 6);
	assert_int_equal(c.parked, 3);

	fk.fail = NULL;
	fk.calls = 0;
	assert_int_equal(ledger_reconcile(l, fake_in_queue, NULL, &fk,
	    NOW + 60, &err), 0);
	assert_int_equal(fk.calls, 9);		/* open rows only: not X1 */
	counts(l, &c);
	assert_int_equal(c.parked, 3);		/* P1, K2, R1 */
	assert_int_equal(c.pending, 0);
	assert_int_equal(c.released, 3);	/* R2, R3, X1 */
	assert_int_equal(c.closed, 4);		/* P2, P3, K1, K3 */
	listing(l, &ls);
	assert_int_equal(ls.n, 3);
	assert_non_null(strstr(ls.buf, "P1,"));
	assert_non_null(strstr(ls.buf, "K2,"));
	assert_non_null(strstr(ls.buf, "R1,"));
	/* neither the admin's hold nor a released message held again */
	assert_int_equal(is_parked(l, "ADMIN1"), 0);
	assert_int_equal(is_parked(l, "X1"), 0);
	assert_int_equal(is_parked(l, "P2"), 0);
	assert_int_equal(is_parked(l, "R3"), 0);
	assert_int_equal(ledger_release_begin(l, x, 1, NOW, &err), -1);
	free(err);
	err = NULL;

	/* settled, so a second reconcile changes nothing */
	assert_int_equal(ledger_reconcile(l, fake_in_queue, NULL, &fk,
	    NOW + 120, &err), 0);
	counts(l, &c);
	assert_int_equal(c.parked, 3);
	assert_int_equal(c.closed, 4);

	/* the MTA reused a queue id: X1 can be ebb's again, a new row */
	park(l, x, dl, 1);
	assert_int_equal(is_parked(l, "X1"), 1);
	counts(l, &c);
	assert_int_equal(c.parked, 4);
	assert_int_equal(c.released, 3);

	/* a queue number out of range is an error, not a guess */
	{
		static const struct fake_queue odd[] = { { "K2", 99 } };
		struct fake	 fo = { odd, 1, NULL, 0 };

		assert_int_equal(ledger_reconcile(l, fake_in_queue, NULL,
		    &fo, NOW, &err), -1);
		free(err);
	}
}

/* fingerprints by queue id: what the drain would read in each file */
static const struct {
	const char	*id;
	const char	*fp;
} fake_fps[] = {
	{ "A1", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
	{ "B1", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" },
	{ "C1", "cccccccccccccccccccccccccccccccc" },
	{ "D1", "dddddddddddddddddddddddddddddddd" },
	{ "E1", "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee" },
	{ "F1", "not a fingerprint" },
};

static int
fake_fp(void *arg, const char *id, char fp[MSG_FP_LEN + 1])
{
	size_t	 i;

	(void)arg;
	for (i = 0; i < nitems(fake_fps); i++)
		if (strcmp(fake_fps[i].id, id) == 0) {
			snprintf(fp, MSG_FP_LEN + 1, "%s", fake_fps[i].fp);
			return 0;
		}
	return 1;
}

/* the rebind answers: old id -> new id ("" not found) */
static const struct {
	const char	*id;
	const char	*new_id;
} fake_moves[] = {
	{ "A1", "A2" },		/* found again: moves */
	{ "B1", "" },		/* not found: closed */
	{ "C1", "K1" },		/* K1 has a row of its own: not taken */
	{ "D1", "D 1;rm" },	/* no queue id: not taken */
	{ "E1", "E1" },		/* not a new id: not taken */
};

static int
fail_rebind(void *arg, struct ledger_gone *g, size_t n)
{
	(void)arg;
	(void)g;
	(void)n;
	return -1;
}

struct rebind_calls {
	size_t	 n;
	size_t	 rows;
};

static int
fake_rebind(void *arg, struct ledger_gone *g, size_t n)
{
	struct rebind_calls *rc = arg;
	size_t		 i, k;

	rc->n++;
	rc->rows += n;
	for (i = 0; i < n; i++) {
		assert_true(msg_fingerprint_valid(g[i].fp));
		assert_int_equal(g[i].deadline, NOW + 5);
		for (k = 0; k < nitems(fake_moves); k++)
			if (strcmp(fake_moves[k].id, g[i].id) == 0)
				snprintf(g[i].new_id, sizeof(g[i].new_id),
				    "%s", fake_moves[k].new_id);
	}
	return 0;
}

static int
fake_gone(void *arg, const char *id, int *role_r)
{
	(void)arg;
	if (strcmp(id, "K1") == 0) {
		*role_r = MSG_ROLE_HELD;
		return 1;
	}
	return 0;		/* every other message is gone */
}

/*
 * a parked message copied or restored under a new queue id: its row
 * follows its fingerprint, when the rebind finds it, and only to a new,
 * valid queue id without a row of its own; a row with no fingerprint
 * (F1: what was read is none) is not offered
 */
static void
test_rebind(void **state)
{
	struct fixture	*f = *state;
	struct ledger	*l = open_ok(f);
	const char	*ids[] = { "A1", "B1", "C1", "D1", "E1", "F1" };
	const char	*k1[] = { "K1" };
	const time_t	 dl[] = { NOW + 5, NOW + 5, NOW + 5, NOW + 5,
	    NOW + 5, NOW + 5 };
	struct rebind_calls rc = { 0, 0 };
	struct ledger_counts c;
	char		*err = NULL;

	park(l, ids, dl, nitems(ids));
	park(l, k1, dl, 1);
	/* recorded once: five of six have one, K1 none to give */
	assert_int_equal(ledger_fingerprint(l, fake_fp, NULL, &err), 5);
	assert_int_equal(ledger_fingerprint(l, fake_fp, NULL, &err), 0);
	assert_int_equal(ledger_reconcile(l, fake_gone, fake_rebind, &rc,
	    NOW + 60, &err), 0);
	assert_int_equal(rc.n, 1);		/* one call, for all */
	assert_int_equal(rc.rows, 5);		/* not F1, not K1 */
	assert_int_equal(is_parked(l, "A2"), 1);
	assert_int_equal(is_parked(l, "A1"), 0);
	assert_int_equal(is_parked(l, "K1"), 1);
	counts(l, &c);
	assert_int_equal(c.parked, 2);		/* A2, K1 */
	assert_int_equal(c.closed, 5);		/* B1 C1 D1 E1 F1 */
	/* A2 keeps A1's fingerprint and deadline: released as ebb's */
	assert_int_equal(ledger_fingerprint(l, fake_fp, NULL, &err), 0);
	assert_int_equal(ledger_release_begin(l, (const char *[]){ "A2" },
	    1, NOW, &err), 0);

	/* a failing rebind changes nothing */
	park(l, ids, dl, 1);
	assert_int_equal(ledger_fingerprint(l, fake_fp, NULL, &err), 1);
	assert_int_equal(ledger_reconcile(l, fake_gone, fail_rebind, NULL,
	    NOW + 60, &err), -1);
	free(err);
	err = NULL;
	assert_int_equal(is_parked(l, "A1"), 1);
}

/*
 * the admin role (held in a way ebb never parks, e.g. a Sendmail
 * quarantine with the administrator's own reason) is not ebb's any more,
 * whatever the row said; the held role is
 */
static void
test_reconcile_admin(void **state)
{
	struct fixture	*f = *state;
	struct ledger	*l = open_ok(f);
	const char	*ids[] = { "S1", "S2" };
	const time_t	 dl[] = { NOW, NOW };
	static const struct fake_queue queue[] = {
		{ "S1", MSG_ROLE_ADMIN },
		{ "S2", MSG_ROLE_HELD },
	};
	struct fake	 fk = { queue, 2, NULL, 0 };
	char		*err = NULL;

	assert_int_equal(ledger_park_begin(l, ids, dl, 2, NOW, &err), 0);
	assert_int_equal(ledger_park_commit(l, ids, 2, NOW, &err), 0);
	assert_int_equal(ledger_reconcile(l, fake_in_queue, NULL, &fk, NOW, &err),
	    0);
	assert_int_equal(is_parked(l, "S1"), 0);
	assert_int_equal(is_parked(l, "S2"), 1);
}

static void
test_lock(void **state)
{
	struct fixture	*f = *state;
	char		 path[160], buf[32];
	char		*err = NULL;
	int		 fd1 = -1, fd2 = -1, fd;
	ssize_t		 n;

	assert_int_equal(ledger_lock(f->state, "drain", &fd1, &err), 0);
	assert_true(fd1 >= 0);
	/* flock locks belong to the open file: a second open conflicts */
	assert_int_equal(ledger_lock(f->state, "drain", &fd2, &err), 1);
	assert_int_equal(fd2, -1);
	/* another name is another lock */
	assert_int_equal(ledger_lock(f->state, "daemon", &fd2, &err), 0);
	ledger_unlock(&fd2);
	assert_int_equal(fd2, -1);

	/* the holder's pid is in the file */
	snprintf(path, sizeof(path), "%s/drain.lock", f->state);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_int_equal(atol(buf), (long)getpid());

	ledger_unlock(&fd1);
	assert_int_equal(fd1, -1);
	ledger_unlock(&fd1);		/* -1 is fine */
	assert_int_equal(ledger_lock(f->state, "drain", &fd1, &err), 0);
	ledger_unlock(&fd1);

	/* names that could escape the directory */
	assert_int_equal(ledger_lock(f->state, "../x", &fd1, &err), -1);
	free(err);
	err = NULL;
	assert_int_equal(ledger_lock(f->state, "", &fd1, &err), -1);
	free(err);
	err = NULL;
	assert_int_equal(ledger_lock(f->state,
	    "a-very-long-lock-name-that-goes-on-and-on", &fd1, &err), -1);
	free(err);
}

/* write_file - replace STATE/ledger.db with bytes */
static void
write_file(struct fixture *f, const void *data, size_t len)
{
	char	 path[160];
	int	 fd;

	mkdir(f->state, 0750);
	snprintf(path, sizeof(path), "%s/%s", f->state, LEDGER_FILE);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640)) >=
	    0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void
test_corrupt_garbage(void **state)
{
	struct fixture	*f = *state;
	struct ledger	*l = NULL;
	char		 junk[8192], *err = NULL;
	size_t		 i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 3);
	write_file(f, junk, sizeof(junk));
	assert_int_equal(ledger_open(f->state, &l, &err), -1);
	assert_null(l);
	assert_non_null(strstr(err, "damaged"));
	free(err);
	err = NULL;
	assert_int_equal(ledger_open_existing(f->state, &l, &err), -1);
	free(err);
}

/* a real ledger with its pages overwritten: errors, never a crash */
static void
test_corrupt_pages(void **state)
{
	struct fixture	*f = *state;
	struct ledger	*l = open_ok(f);
	struct listing	 ls;
	struct ledger_counts c;
	const char	*ids[200];
	time_t		 dl[200];
	char		 names[200][16], path[160], junk[4096], *err = NULL;
	size_t		 i;
	int		 fd, rc;

	for (i = 0; i < 200; i++) {
		snprintf(names[i], sizeof(names[i]), "ID%zuX", i);
		ids[i] = names[i];
		dl[i] = NOW + (time_t)i;
	}
	park(l, ids, dl, 200);
	ledger_close(&f->l);		/* checkpoints the WAL */

	snprintf(path, sizeof(path), "%s/%s", f->state, LEDGER_FILE);
	memset(junk, 0xa5, sizeof(junk));
	assert_true((fd = open(path, O_WRONLY)) >= 0);
	for (i = 1; i < 4; i++)		/* every page but the header's */
		assert_int_equal(pwrite(fd, junk, sizeof(junk),
		    (off_t)(i * 4096)), (ssize_t)sizeof(junk));
	close(fd);

	if (ledger_open(f->state, &f->l, &err) == -1) {
		assert_non_null(strstr(err, "damaged"));
		free(err);
		return;
	}
	memset(&ls, 0, sizeof(ls));
	rc = ledger_foreach_parked(f->l, list_one, &ls, &err);
	if (rc == -1) {
		assert_non_null(err);
		free(err);
		err = NULL;
	}
	rc = ledger_counts(f->l, &c, &err);
	if (rc == -1) {
		assert_non_null(err);
		free(err);
		err = NULL;
	}
	/* at least one of them noticed */
	assert_true(ls.n < 200 || rc == -1);
}

static int
no_sample(void *arg, const struct ledger_sample *s)
{
	(void)arg;
	(void)s;
	fail_msg("a damaged sample was handed out");
	return 1;
}

/* rows that the schema allows but ebb never writes */
/* damaged_row - after sql, listing the open rows fails, naming damage */
static void
damaged_row(struct fixture *f, const char *sql)
{
	struct listing	 ls;
	char		*err = NULL;

	raw_sql(f, sql);
	open_ok(f);
	memset(&ls, 0, sizeof(ls));
	assert_int_equal(ledger_foreach_parked(f->l, list_one, &ls, &err),
	    -1);
	assert_int_equal(ls.n, 0);	/* nothing handed out before */
	assert_non_null(strstr(err, "damaged"));
	free(err);
	ledger_close(&f->l);
}

static void
test_damaged_rows(void **state)
{
	struct fixture	*f = *state;
	char		*err = NULL;

	open_ok(f);
	ledger_close(&f->l);
	damaged_row(f, "INSERT INTO parked (queue_id, state, deadline, "
	    "parked_at) VALUES ('A B;rm', 'parked', 1, 1)");
	damaged_row(f, "DELETE FROM parked; INSERT INTO parked (queue_id, "
	    "state, deadline, parked_at) VALUES ('ABC', 'parked', 'soon', 1)");
	/* a fingerprint ebb never writes: not hex, or the wrong length */
	damaged_row(f, "DELETE FROM parked; INSERT INTO parked VALUES "
	    "('ABC', 'parked', 1, 1, 'x; DROP TABLE settled')");
	damaged_row(f, "UPDATE parked SET fingerprint = "
	    "'0123456789abcdef0123456789abcde'");

	raw_sql(f, "DELETE FROM parked; INSERT INTO history VALUES "
	    "(5, 0.5, 1.0, -3, 0, 0, 0, 0, NULL, NULL)");
	open_ok(f);
	assert_int_equal(ledger_history_since(f->l, 0, no_sample, NULL,
	    &err), -1);
	free(err);
}

/* the timeline: stored, read back newest last, bounded, checked */
struct events {
	size_t	 n;
	struct ledger_event e[LEDGER_EVENTS_KEEP + 1];
};

static int
event_one(void *arg, const struct ledger_event *e)
{
	struct events	*ev = arg;

	if (ev->n < sizeof(ev->e) / sizeof(ev->e[0]))
		ev->e[ev->n++] = *e;
	return 0;
}

static void
test_timeline(void **state)
{
	static const char *const bad[] = {
		"", "two\nlines", "bell\a", "bad \xff utf-8", "   ",
	};
	struct fixture	*f = *state;
	struct ledger	*l = open_ok(f);
	struct ledger_event e;
	struct events	*ev = xcalloc(1, sizeof(*ev));
	char		*err = NULL;
	size_t		 i;

	memset(&e, 0, sizeof(e));
	ebb_strlcpy(e.kind, "note", sizeof(e.kind));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ebb_strlcpy(e.text, bad[i], sizeof(e.text));
		assert_int_equal(ledger_event_add(l, &e, &err), -1);
		free(err);
		err = NULL;
	}
	ebb_strlcpy(e.text, "ok", sizeof(e.text));
	ebb_strlcpy(e.kind, "Note;", sizeof(e.kind));
	assert_int_equal(ledger_event_add(l, &e, &err), -1);
	free(err);
	err = NULL;
	ebb_strlcpy(e.kind, "found", sizeof(e.kind));
	for (i = 0; i < LEDGER_EVENTS_KEEP + 50; i++) {
		e.time = NOW + (time_t)i;
		e.count = (long)i;
		snprintf(e.text, sizeof(e.text), "entry %zu <b>&</b>", i);
		if (ledger_event_add(l, &e, &err) == -1)
			fail_msg("%s", err);
	}
	assert_int_equal(ledger_events_recent(l, 1000, event_one, ev, &err),
	    0);
	assert_int_equal(ev->n, LEDGER_EVENTS_KEEP);
	assert_int_equal(ev->e[0].count, 50);
	assert_int_equal(ev->e[ev->n - 1].count, LEDGER_EVENTS_KEEP + 49);
	assert_string_equal(ev->e[ev->n - 1].text, "entry 249 <b>&</b>");
	ev->n = 0;
	assert_int_equal(ledger_events_recent(l, 3, event_one, ev, &err), 0);
	assert_int_equal(ev->n, 3);
	assert_int_equal(ev->e[0].count, LEDGER_EVENTS_KEEP + 47);
	ledger_close(&f->l);
	/* a row ebb never writes is damage, not text to show */
	raw_sql(f, "INSERT INTO timeline (time, kind, text) VALUES "
	    "(1, 'note', 'a' || char(10) || 'b')");
	l = open_ok(f);
	ev->n = 0;
	assert_int_equal(ledger_events_recent(l, 5, event_one, ev, &err), -1);
	free(err);
	free(ev);
}

static void
test_schema_versions(void **state)
{
	struct fixture	*f = *state;
	struct ledger	*l = NULL;
	char		*err = NULL;

	open_ok(f);
	ledger_close(&f->l);
	raw_sql(f, "PRAGMA user_version = 99");
	assert_int_equal(ledger_open(f->state, &l, &err), -1);
	assert_null(l);
	assert_non_null(strstr(err, "newer"));
	free(err);
	err = NULL;

	/* somebody else's database */
	raw_sql(f, "PRAGMA user_version = 1; PRAGMA application_id = 7");
	assert_int_equal(ledger_open(f->state, &l, &err), -1);
	assert_non_null(strstr(err, "not an ebb ledger"));
	free(err);
	err = NULL;
	raw_sql(f, "PRAGMA user_version = 0; PRAGMA application_id = 0");
	assert_int_equal(ledger_open(f->state, &l, &err), -1);
	assert_non_null(strstr(err, "not an ebb ledger"));
	free(err);
}

struct hist {
	struct ledger_sample s[8];
	size_t		 n;
};

static int
hist_one(void *arg, const struct ledger_sample *s)
{
	struct hist	*h = arg;

	if (h->n < nitems(h->s))
		h->s[h->n++] = *s;
	return 0;
}

/*
 * a version 1 ledger (history by Postfix's queue names) opens as version
 * 2: its history by role, its parked rows untouched
 */
static void
test_schema_migrate_v1(void **state)
{
	struct fixture	*f = *state;
	struct ledger	*l;
	const char	*ids[] = { "M1" };
	const time_t	 dl[] = { NOW };
	struct hist	 h;
	char		*err = NULL;

	l = open_ok(f);
	assert_int_equal(ledger_park_begin(l, ids, dl, 1, NOW, &err), 0);
	assert_int_equal(ledger_park_commit(l, ids, 1, NOW, &err), 0);
	ledger_close(&f->l);
	/* back to version 1: no fingerprints, the old history */
	raw_sql(f, "DROP INDEX parked_no_fingerprint;"
	    "ALTER TABLE parked DROP COLUMN fingerprint;"
	    "DROP TABLE history; CREATE TABLE history ("
	    "time INTEGER PRIMARY KEY, pressure REAL, rate REAL NOT NULL,"
	    "incoming INTEGER NOT NULL, active INTEGER NOT NULL,"
	    "deferred INTEGER NOT NULL, hold INTEGER NOT NULL,"
	    "parked INTEGER NOT NULL);"
	    "INSERT INTO history VALUES (7, 0.25, 3.0, 1, 2, 30, 40, 35);"
	    "PRAGMA user_version = 1");
	l = open_ok(f);
	memset(&h, 0, sizeof(h));
	assert_int_equal(ledger_history_since(l, 0, hist_one, &h, &err), 0);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.s[0].time, 7);
	assert_int_equal(h.s[0].leaving, 1 + 2);
	assert_int_equal(h.s[0].waiting, 30);
	assert_int_equal(h.s[0].held, 40);
	assert_int_equal(h.s[0].admin, 0);
	assert_int_equal(h.s[0].parked, 35);
	assert_int_equal(is_parked(l, "M1"), 1);
}

/* a version 3 ledger gains the timeline, its history the milter's */
static void
test_schema_migrate_v3(void **state)
{
	struct fixture	*f = *state;
	struct ledger	*l;
	struct ledger_event e;
	struct hist	 h;
	char		*err = NULL;

	l = open_ok(f);
	ledger_close(&f->l);
	raw_sql(f, "DROP TABLE timeline; DROP TABLE history;"
	    "DROP INDEX parked_no_fingerprint;"
	    "ALTER TABLE parked DROP COLUMN fingerprint;"
	    "CREATE TABLE history (time INTEGER PRIMARY KEY, pressure REAL,"
	    "rate REAL NOT NULL, leaving INTEGER NOT NULL,"
	    "waiting INTEGER NOT NULL, held INTEGER NOT NULL,"
	    "admin INTEGER NOT NULL, parked INTEGER NOT NULL);"
	    "INSERT INTO history VALUES (7, 0.25, 3.0, 1, 2, 3, 0, 3);"
	    "PRAGMA user_version = 3");
	l = open_ok(f);
	memset(&h, 0, sizeof(h));
	assert_int_equal(ledger_history_since(l, 0, hist_one, &h, &err), 0);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.s[0].admitted, -1);
	assert_int_equal(h.s[0].deferred, -1);
	memset(&e, 0, sizeof(e));
	ebb_strlcpy(e.kind, "note", sizeof(e.kind));
	ebb_strlcpy(e.text, "after the upgrade", sizeof(e.text));
	assert_int_equal(ledger_event_add(l, &e, &err), 0);
}

static int
hist_first(void *arg, const struct ledger_sample *s)
{
	hist_one(arg, s);
	return 1;
}

static void
test_history(void **state)
{
	struct fixture	*f = *state;
	struct ledger	*l = open_ok(f);
	struct ledger_sample s = { 0 };
	struct hist	 h;
	char		*err = NULL;

	s.time = 100;
	s.pressure = 0.5;
	s.rate = 10;
	s.waiting = 1000;
	s.held = 500;
	s.parked = 480;
	assert_int_equal(ledger_history_add(l, &s, &err), 0);
	s.time = 200;
	s.pressure = NAN;		/* no sensor present */
	s.leaving = 7;
	s.admin = 2;
	assert_int_equal(ledger_history_add(l, &s, &err), 0);
	s.time = 300;
	s.pressure = 1.2;
	s.leaving = 3;
	assert_int_equal(ledger_history_add(l, &s, &err), 0);
	/* the same second again replaces the sample */
	s.rate = 12.5;
	assert_int_equal(ledger_history_add(l, &s, &err), 0);

	memset(&h, 0, sizeof(h));
	assert_int_equal(ledger_history_since(l, 150, hist_one, &h, &err), 0);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.s[0].time, 200);
	assert_true(isnan(h.s[0].pressure));
	assert_int_equal(h.s[0].leaving, 7);
	assert_int_equal(h.s[0].waiting, 1000);
	assert_int_equal(h.s[0].held, 500);
	assert_int_equal(h.s[0].admin, 2);
	assert_int_equal(h.s[0].parked, 480);
	assert_int_equal(h.s[1].time, 300);
	assert_true(h.s[1].pressure == 1.2);
	assert_true(h.s[1].rate == 12.5);
	assert_int_equal(h.s[1].leaving, 3);

	memset(&h, 0, sizeof(h));
	assert_int_equal(ledger_history_since(l, 0, hist_first, &h, &err), 1);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.s[0].time, 100);
	assert_true(h.s[0].pressure == 0.5);

	assert_int_equal(ledger_history_prune(l, 250, &err), 0);
	memset(&h, 0, sizeof(h));
	assert_int_equal(ledger_history_since(l, 0, hist_one, &h, &err), 0);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.s[0].time, 300);

	/* out of range */
	s.parked = -1;
	assert_int_equal(ledger_history_add(l, &s, &err), -1);
	free(err);
	err = NULL;
	s.parked = 0;
	s.rate = INFINITY;
	assert_int_equal(ledger_history_add(l, &s, &err), -1);
	free(err);
	err = NULL;
	s.rate = 0;
	s.pressure = -0.1;
	assert_int_equal(ledger_history_add(l, &s, &err), -1);
	free(err);
}

static double
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct counter {
	size_t	 n;
	time_t	 last;
	int	 ordered;
};

static int
count_one(void *arg, const char *id, time_t deadline)
{
	struct counter	*c = arg;

	(void)id;
	if (c->n > 0 && deadline < c->last)
		c->ordered = 0;
	c->last = deadline;
	c->n++;
	return 0;
}

/* 10,000 ids through the whole cycle; times printed, not asserted */
static void
test_batch_10k(void **state)
{
	struct fixture	*f = *state;
	struct ledger	*l = open_ok(f);
	struct ledger_counts c;
	struct counter	 cn = { 0, 0, 1 };
	enum { N = 10000, BATCH = 2000 };
	const char	**ids = xreallocarray(NULL, N, sizeof(*ids));
	time_t		*dl = xreallocarray(NULL, N, sizeof(*dl));
	char		(*names)[16] = xreallocarray(NULL, N, sizeof(*names));
	double		 t0, t1, t2, t3;
	char		*err = NULL;
	size_t		 i;

	for (i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "4F%05zuB%zu", i, i % 7);
		ids[i] = names[i];
		dl[i] = NOW + (time_t)((i * 7919) % N);
	}
	t0 = now_s();
	for (i = 0; i < N; i += BATCH) {
		assert_int_equal(ledger_park_begin(l, ids + i, dl + i, BATCH,
		    NOW, &err), 0);
		assert_int_equal(ledger_park_commit(l, ids + i, BATCH, NOW,
		    &err), 0);
	}
	t1 = now_s();
	assert_int_equal(ledger_foreach_parked(l, count_one, &cn, &err), 0);
	assert_int_equal(cn.n, N);
	assert_true(cn.ordered);
	t2 = now_s();
	for (i = 0; i < N; i += BATCH) {
		assert_int_equal(ledger_release_begin(l, ids + i, BATCH, NOW,
		    &err), 0);
		assert_int_equal(ledger_release_commit(l, ids + i, BATCH,
		    NOW + 1, &err), 0);
	}
	t3 = now_s();
	counts(l, &c);
	assert_int_equal(c.parked, 0);
	assert_int_equal(c.released, N);
	assert_int_equal(c.expired, 2);		/* deadlines NOW and NOW+1 */
	printf("# 10000 ids: park %.0f/s, list %.1f ms, release %.0f/s\n",
	    N / (t1 - t0), (t2 - t1) * 1000, N / (t3 - t2));
	free(ids);
	free(dl);
	free(names);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_create, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_park_batch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_invalid_ids, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rebind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_migrate_v1,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile_admin,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_garbage, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_pages, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_damaged_rows, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_schema_versions, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeline, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_schema_migrate_v3, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_batch_10k, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
