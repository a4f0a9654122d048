/*
 * test_drain.c - the drain engine against an in-memory MTA (fake_mta.c)
 *
 * EDF order and its ties, the window and the messages in flight, the
 * re-kick, token bucket pacing, --limit, release and hold by id, the
 * milter's adoption on proof and of holds whose notice was lost, the
 * failsafe and what it leaves in hold, unreadable parked files, and a crash
 * at every step of park and release. Every test has a real ledger in its
 * own state directory under $TMPDIR (mkdtemp, removed afterwards) and
 * passes the time in: no root, no sleeps, no clock. Expected values are
 * written by hand from the inputs, never computed by the code under test.
 *
 * Built twice: test_drain_remote (TEST_DRAIN_REMOTE) runs every test with
 * the MTA's reading ops asked of a scanner over a socket (mta_remote.h),
 * served by a thread from the same fake, as ebbd's parent asks its
 * scanner process: the engine must not tell the difference.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <ftw.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "ebb/config.h"
#include "ebb/drain.h"
#include "ebb/governor.h"
#include "ebb/ledger.h"
#include "ebb/log.h"
#include "ebb/msg.h"
#include "ebb/mta.h"
#include "ebb/mta_remote.h"
#include "ebb/proof.h"
#include "ebb/util.h"
#include "fake_mta.h"

#define NOW	1700000000
#define HOUR	3600
#define DAY	86400
#define SENDER	"alice@example.org"

struct fixture {
	char		 base[64];	/* the mkdtemp directory */
	char		 state[96];	/* base/state, created by the ledger */
	struct config	*cfg;
	struct ledger	*l;
	struct fake_mta	*f;
	struct drain	*d;
	struct drain_opts opts;		/* for the next fx_drain */
	const void	*arg;		/* the test's case (crash_setup) */
	struct proof_key key;		/* the proof of a hold's */
	struct mta	*mta;		/* what the drain is given */
#ifdef TEST_DRAIN_REMOTE
	pthread_t	 server;	/* mta_remote_serve over the fake */
	int		 sfd;		/* its end of the socket */
#endif
};

#ifdef TEST_DRAIN_REMOTE
static void *
serve(void *arg)
{
	struct fixture	*fx = arg;

	if (mta_remote_serve(fake_mta_mta(fx->f), fx->sfd) != 0)
		fprintf(stderr, "mta_remote_serve failed\n");
	return NULL;
}

/* remote - the proxy over a copy of the fake's struct mta, and its server */
static int
remote(struct fixture *fx)
{
	struct mta	*shell = xmalloc(sizeof(*shell));
	int		 sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		return -1;
	*shell = *fake_mta_mta(fx->f);	/* closed with the proxy */
	fx->mta = mta_remote_new(shell, sp[0], 0, &fx->key);
	fx->sfd = sp[1];
	return pthread_create(&fx->server, NULL, serve, fx) == 0 ? 0 : -1;
}
#endif

static int
setup(void **state)
{
	struct fixture	*fx = xcalloc(1, sizeof(*fx));
	const char	*tmp = getenv("TMPDIR");
	char		*err = NULL;

	snprintf(fx->base, sizeof(fx->base), "%s/ebb-drain.XXXXXX",
	    tmp != NULL && strlen(tmp) < 40 ? tmp : "/tmp");
	if (mkdtemp(fx->base) == NULL)
		return -1;
	snprintf(fx->state, sizeof(fx->state), "%s/state", fx->base);
	if (ledger_open(fx->state, &fx->l, &err) == -1) {
		fprintf(stderr, "ledger_open: %s\n", err);
		free(err);
		return -1;
	}
	fx->cfg = config_defaults();
	fx->f = fake_mta_new();
	memset(fx->key.k, 0x5a, sizeof(fx->key.k));
	fx->opts.proof_key = &fx->key;
	fx->mta = fake_mta_mta(fx->f);
#ifdef TEST_DRAIN_REMOTE
	if (remote(fx) == -1)
		return -1;
#endif
	*state = fx;
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
	struct fixture	*fx = *state;

	drain_free(&fx->d);
	ledger_close(&fx->l);
#ifdef TEST_DRAIN_REMOTE
	mta_close(&fx->mta);		/* the server reads the end: it stops */
	pthread_join(fx->server, NULL);
	close(fx->sfd);
#endif
	fake_mta_free(&fx->f);
	config_free(&fx->cfg);
	nftw(fx->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

/* add - queue id, arrived an hour ago, due to bounce in dl seconds */
static void
add(struct fixture *fx, const char *id, int queue, long dl)
{
	fake_mta_add(fx->f, id, queue, NOW - HOUR, NOW + dl, SENDER);
}

/*
 * prove - id's queue file carries ebb's proof of a hold made at t (key:
 * the fixture's, or a wrong one), in a record among other bytes
 */
static void
prove(struct fixture *fx, const char *id, time_t t, int wrong_key)
{
	struct proof_key other;
	char	 value[PROOF_VALUE_MAX], file[512];
	int	 n;

	memset(other.k, 0x33, sizeof(other.k));
	if (proof_value(wrong_key ? &other : &fx->key, id, t, value,
	    sizeof(value)) == -1)
		fail_msg("proof_value %s", id);
	n = snprintf(file, sizeof(file), "C.....T1700000000 0A...S%s"
	    "M...N%c%s: %sXE", SENDER, 'x', PROOF_HEADER, value);
	fake_mta_set_content(fx->f, id, file, (size_t)n);
}

/* fx_drain - a new drain over the fixture's fake, ledger and opts */
static void
fx_drain(struct fixture *fx)
{
	drain_free(&fx->d);
	fx->d = drain_new(fx->cfg, fx->mta, fx->l, &fx->opts);
}

static void
start_ok(struct fixture *fx, time_t now)
{
	char	*err = NULL;

	if (drain_start(fx->d, now, &err) == -1)
		fail_msg("drain_start: %s", err);
}

static void
refresh_ok(struct fixture *fx, time_t now)
{
	char	*err = NULL;

	if (drain_refresh(fx->d, now, &err) == -1)
		fail_msg("drain_refresh: %s", err);
}

/* tick - one tick at mono with a budget of rate and window; released */
static long
tick(struct fixture *fx, double rate, long window, double mono)
{
	struct budget	 b;
	char		*err = NULL;
	long		 n;

	memset(&b, 0, sizeof(b));
	b.rate = rate;
	b.window = window;
	if ((n = drain_tick(fx->d, &b, mono, NOW, &err)) == -1)
		fail_msg("drain_tick at %.2f: %s", mono, err);
	return n;
}

static int
is_parked(struct fixture *fx, const char *id)
{
	char	*err = NULL;
	int	 r;

	if ((r = ledger_is_parked(fx->l, id, &err)) == -1)
		fail_msg("ledger_is_parked %s: %s", id, err);
	return r;
}

/* ids - what op acted on, as one string "A B C", for readable failures */
static const char *
ids(struct fixture *fx, int op)
{
	static char	 buf[1024];
	const char *const *v;
	size_t		 i, n;

	v = fake_mta_ids(fx->f, op, &n);
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strncat(buf, " ", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, v[i], sizeof(buf) - strlen(buf) - 1);
	}
	return buf;
}

static struct drain_status
status(struct fixture *fx)
{
	struct drain_status st;

	drain_status(fx->d, &st);
	return st;
}

/*
 * assert_counts - the drain's counts per queue and per role are the
 * fake's real ones, and are the ones written by hand in q[] (incoming,
 * active, deferred, hold, frozen)
 */
static void
assert_counts(struct fixture *fx, const size_t q[FAKE_QUEUE_COUNT])
{
	size_t	 dq[MSG_QUEUE_MAX], dr[MSG_ROLE_COUNT];
	int	 i;

	drain_queue_counts(fx->d, dq);
	drain_role_counts(fx->d, dr);
	for (i = 0; i < FAKE_QUEUE_COUNT; i++) {
		if (dq[i] != q[i] || fake_mta_count(fx->f, i) != q[i])
			fail_msg("queue %d: drain %zd fake %zu expected %zu", i,
			    (ssize_t)dq[i], fake_mta_count(fx->f, i), q[i]);
	}
	for (; i < MSG_QUEUE_MAX; i++)
		assert_int_equal(dq[i], 0);
	assert_int_equal(dr[MSG_ROLE_LEAVING], q[FAKE_INCOMING] +
	    q[FAKE_ACTIVE]);
	assert_int_equal(dr[MSG_ROLE_WAITING], q[FAKE_DEFERRED]);
	assert_int_equal(dr[MSG_ROLE_HELD], q[FAKE_HOLD]);
	assert_int_equal(dr[MSG_ROLE_ADMIN], q[FAKE_FROZEN]);
}

typedef int	by_id_fn(struct drain *, const char *const *, size_t, time_t,
		    char **);

/* refused - fn (release or hold by id) must refuse ids with an error */
static void
refused(struct fixture *fx, by_id_fn *fn, const char **v, size_t n)
{
	char	*err = NULL;

	if (fn(fx->d, v, n, NOW, &err) != -1)
		fail_msg("%s...: not refused", v[0]);
	assert_non_null(err);
	free(err);
}

/*
 * EDF order: deadline, then the older arrival, then the queue id (by
 * strcmp: "B10" before "B2"). Released in one batch, or one per tick
 * with the window at 1; the order is the same.
 */
static void
test_edf_order(void **state)
{
	static const struct {
		long	 window;
		int	 deliver;	/* deliver between ticks */
	} budgets[] = { { 100, 0 }, { 1, 1 } };
	static const struct {
		const char *id;
		long	 dl;		/* deadline - NOW */
		long	 age;		/* NOW - arrival */
	} msgs[] = {
		{ "C1",  5 * HOUR, 2 * HOUR },
		{ "B2",  3 * HOUR, 3 * HOUR },
		{ "A1",  2 * HOUR, 1 * HOUR },
		{ "B10", 3 * HOUR, 3 * HOUR },	/* ties B2 but for the id */
		{ "E1",  -HOUR,    9 * HOUR },	/* expired */
		{ "B3",  3 * HOUR, 5 * HOUR },	/* older than B2 and B10 */
		{ "D1",  3 * HOUR, 4 * HOUR },
	};
	struct fixture	*fx = *state;
	struct drain_status st;
	size_t		 b, i;
	double		 mono = 0;

	for (b = 0; b < nitems(budgets); b++) {
		teardown(state);
		assert_int_equal(setup(state), 0);
		fx = *state;
		for (i = 0; i < nitems(msgs); i++)
			fake_mta_add(fx->f, msgs[i].id, FAKE_DEFERRED,
			    NOW - msgs[i].age, NOW + msgs[i].dl, SENDER);
		add(fx, "H1", FAKE_HOLD, HOUR);		/* the admin's */
		add(fx, "F1", FAKE_FROZEN, HOUR);	/* the admin's */
		add(fx, "L1", FAKE_ACTIVE, HOUR);	/* on its way */
		fx_drain(fx);
		start_ok(fx, NOW);
		assert_string_equal(ids(fx, FAKE_OP_PARK),
		    "C1 B2 A1 B10 E1 B3 D1");
		for (i = 0; i < 20 && !drain_done(fx->d); i++) {
			tick(fx, 100, budgets[b].window, mono++);
			if (budgets[b].deliver)
				fake_mta_deliver_all_leaving(fx->f);
		}
		assert_string_equal(ids(fx, FAKE_OP_RELEASE),
		    "E1 A1 B3 D1 B10 B2 C1");
		st = status(fx);
		assert_int_equal(st.total, 7);
		assert_int_equal(st.released, 7);
		assert_int_equal(st.expired, 1);
		assert_int_equal(st.admin_held, 2);
		assert_int_equal(fake_mta_queue_of(fx->f, "H1"), FAKE_HOLD);
		assert_int_equal(fake_mta_queue_of(fx->f, "F1"), FAKE_FROZEN);
	}
}

/*
 * The window counts released mail still on its way: leaving, or waiting
 * and due. A message deferred with its retry ahead leaves the window; one
 * due and not picked up is kicked again DRAIN_REKICK (5) seconds after
 * its last kick, not before.
 */
static void
test_window_inflight(void **state)
{
	struct fixture	*fx = *state;

	add(fx, "W1", FAKE_DEFERRED, 1 * HOUR);
	add(fx, "W2", FAKE_DEFERRED, 2 * HOUR);
	add(fx, "W3", FAKE_DEFERRED, 3 * HOUR);
	add(fx, "W4", FAKE_DEFERRED, 4 * HOUR);
	add(fx, "W5", FAKE_DEFERRED, 5 * HOUR);
	add(fx, "W6", FAKE_DEFERRED, 6 * HOUR);
	fx_drain(fx);
	start_ok(fx, NOW);

	assert_int_equal(tick(fx, 100, 3, 0), 3);	/* kicked at 0 */
	assert_string_equal(ids(fx, FAKE_OP_RELEASE), "W1 W2 W3");
	assert_int_equal(status(fx).inflight, 3);
	assert_int_equal(tick(fx, 100, 3, 1), 0);	/* window full */

	/* W1 was tried and deferred, retry ahead: out of the window */
	fake_mta_defer(fx->f, "W1", 0);
	assert_int_equal(tick(fx, 100, 3, 2), 1);	/* kicked at 2 */
	assert_string_equal(ids(fx, FAKE_OP_RELEASE), "W1 W2 W3 W4");
	assert_int_equal(status(fx).inflight, 3);
	/* what the released did next: the outcomes ebbd's /metrics shows */
	assert_int_equal(status(fx).deferred_again, 1);
	assert_int_equal(status(fx).left, 0);

	/* W2 deferred but due: still on its way, still in the window */
	fake_mta_defer(fx->f, "W2", 1);
	assert_int_equal(tick(fx, 100, 3, 3), 0);
	assert_int_equal(status(fx).inflight, 3);
	assert_int_equal(fake_mta_calls(fx->f, FAKE_OP_KICK), 2);
	assert_int_equal(tick(fx, 100, 3, 4.9), 0);	/* 4.9 s: too soon */
	assert_int_equal(fake_mta_calls(fx->f, FAKE_OP_KICK), 2);
	assert_int_equal(tick(fx, 100, 3, 5.0), 0);	/* 5 s: kicked again */
	assert_int_equal(fake_mta_calls(fx->f, FAKE_OP_KICK), 3);
	assert_string_equal(ids(fx, FAKE_OP_KICK), "W1 W2 W3 W4 W2");
	assert_int_equal(fake_mta_queue_of(fx->f, "W2"), FAKE_ACTIVE);

	/* lost again: the next kick is 5 s after the last one, at 10 */
	fake_mta_defer(fx->f, "W2", 1);
	assert_int_equal(tick(fx, 100, 3, 9.9), 0);
	assert_int_equal(fake_mta_calls(fx->f, FAKE_OP_KICK), 3);
	assert_int_equal(tick(fx, 100, 3, 10.0), 0);
	assert_int_equal(fake_mta_calls(fx->f, FAKE_OP_KICK), 4);

	/* delivered: room for the rest */
	assert_int_equal(fake_mta_deliver_all_leaving(fx->f), 3);
	assert_int_equal(status(fx).inflight, 3);	/* until the tick */
	assert_int_equal(tick(fx, 100, 3, 11), 2);
	assert_string_equal(ids(fx, FAKE_OP_RELEASE), "W1 W2 W3 W4 W5 W6");
	fake_mta_deliver_all_leaving(fx->f);
	assert_int_equal(tick(fx, 100, 3, 12), 0);
	assert_int_equal(status(fx).inflight, 0);
	assert_true(drain_done(fx->d));
	/* due and kicked again is not deferred again; delivered is left */
	assert_int_equal(status(fx).deferred_again, 1);
	assert_int_equal(status(fx).left, 5);
	/* W1 waits for its retry: the MTA's, not parked again */
	assert_int_equal(fake_mta_queue_of(fx->f, "W1"), FAKE_DEFERRED);
}

/*
 * The token bucket: rate r holds at most max(1, r) tokens, full at the
 * first tick, and earns r per second of mono time. Rate 2: two at once,
 * then one per half second. max_rate caps the governor's rate.
 */
static void
test_bucket_pacing(void **state)
{
	static const struct {
		double	 max_rate;	/* drain_opts.max_rate */
		double	 mono;
		long	 released;
	} ticks[] = {
		/* rate 2, burst 2 */
		{ 0, 0.0,  2 },		/* full bucket */
		{ 0, 0.25, 0 },		/* 0.5 token */
		{ 0, 0.5,  1 },
		{ 0, 1.0,  1 },
		{ 0, 1.25, 0 },
		{ 0, 1.5,  1 },
		{ 0, 3.0,  2 },		/* 3 earned, burst 2 */
		{ 0, 3.1,  0 },
		/* max_rate 1 over the governor's 2: burst 1 */
		{ 1, 0.0,  1 },
		{ 1, 0.5,  0 },
		{ 1, 1.0,  1 },
		{ 1, 2.5,  1 },		/* 1.5 earned, burst 1 */
		{ 1, 3.0,  0 },
		{ 1, 3.5,  1 },
	};
	struct fixture	*fx = *state;
	char		 id[16];
	size_t		 i;
	long		 total;
	int		 k;

	for (i = 0; i < nitems(ticks); i++) {
		if (i == 0 || ticks[i].max_rate != ticks[i - 1].max_rate) {
			teardown(state);
			assert_int_equal(setup(state), 0);
			fx = *state;
			for (k = 0; k < 40; k++) {
				snprintf(id, sizeof(id), "M%02d", k);
				add(fx, id, FAKE_DEFERRED, HOUR + k);
			}
			fx->opts.max_rate = ticks[i].max_rate;
			fx_drain(fx);
			start_ok(fx, NOW);
		}
		if (tick(fx, 2, 1000, ticks[i].mono) != ticks[i].released)
			fail_msg("max_rate %g tick at %g: expected %ld",
			    ticks[i].max_rate, ticks[i].mono,
			    ticks[i].released);
	}
	/* rate 1 (capped) from 3.5 to 13.5 in steps of 0.1: 10 more */
	for (total = 0, k = 36; k <= 135; k++)
		total += tick(fx, 2, 1000, k / 10.0);
	assert_int_equal(total, 10);
	assert_int_equal(status(fx).released, 14);
	/* rate 0 (stopped): nothing, however long */
	assert_int_equal(tick(fx, 0, 1000, 100), 0);
}

/* --limit: at most N released; the window still applies on the way */
static void
test_limit(void **state)
{
	static const struct {
		long	 limit;
		long	 window;
		long	 first;		/* released by the first tick */
		long	 second;	/* by the second, after deliveries */
		const char *order;
	} cases[] = {
		{ 4, 100, 4, 0, "M0 M1 M2 M3" },
		{ 4, 3,   3, 1, "M0 M1 M2 M3" },
		{ 1, 100, 1, 0, "M0" },
	};
	struct fixture	*fx = *state;
	char		 id[16];
	size_t		 c;
	int		 k;

	for (c = 0; c < nitems(cases); c++) {
		teardown(state);
		assert_int_equal(setup(state), 0);
		fx = *state;
		for (k = 9; k >= 0; k--) {
			snprintf(id, sizeof(id), "M%d", k);
			add(fx, id, FAKE_DEFERRED, HOUR + k);
		}
		fx->opts.limit = cases[c].limit;
		fx_drain(fx);
		start_ok(fx, NOW);
		assert_int_equal(tick(fx, 100, cases[c].window, 0),
		    cases[c].first);
		assert_int_equal(drain_limit_reached(fx->d),
		    cases[c].first == cases[c].limit);
		fake_mta_deliver_all_leaving(fx->f);
		assert_int_equal(tick(fx, 100, cases[c].window, 1),
		    cases[c].second);
		assert_true(drain_limit_reached(fx->d));
		assert_int_equal(tick(fx, 100, cases[c].window, 10), 0);
		assert_string_equal(ids(fx, FAKE_OP_RELEASE), cases[c].order);
		assert_int_equal(status(fx).parked, 10 - cases[c].limit);
	}
}

/*
 * Release by id: only ebb's parked, held ids; one bad id refuses the
 * whole request. Then the counts per queue and role must be the queue's.
 *
 * The count regression: a manual release once moved the index entry to
 * its new queue by writing m->queue, leaving the per-queue counts behind;
 * the status said "hold 4" with two held, and once the released mail was
 * delivered the sweep took it off the queue the entry named, and the
 * count wrapped: "deferred -2". assert_counts compares with the fake's
 * real counts after the release, after a refresh, and after delivery, for
 * a kick that moves the mail to active and for one that is lost (the mail
 * stays deferred).
 */
static void
test_release_ids(void **state)
{
	struct fixture	*fx = *state;
	const char	*h1[] = { "P2", "H1" }, *f1[] = { "P2", "F1" };
	const char	*unknown[] = { "P2", "ZZZ9" }, *bad[] = { "P2", "a;b" };
	const char	*leaving[] = { "L1" }, *ok[] = { "P3", "P2" };
	char		*err = NULL;
	int		 moves;

	for (moves = 1; moves >= 0; moves--) {
		/* after start: P1 P2 P3 H1 in hold, F1 frozen, L1 active */
		const size_t started[] = { 0, 1, 0, 4, 1 };
		/* P2 P3 released: kicked to active, or still deferred */
		const size_t kicked[] = { 0, 3, 0, 2, 1 };
		const size_t lost[] = { 0, 1, 2, 2, 1 };
		/* P1 released in turn too */
		const size_t all_kicked[] = { 0, 4, 0, 1, 1 };
		const size_t all_lost[] = { 0, 1, 3, 1, 1 };
		/* all delivered: the admin's two are left */
		const size_t delivered[] = { 0, 0, 0, 1, 1 };

		teardown(state);
		assert_int_equal(setup(state), 0);
		fx = *state;
		fake_mta_set_kick_moves(fx->f, moves);
		add(fx, "P1", FAKE_DEFERRED, 1 * HOUR);
		add(fx, "P2", FAKE_DEFERRED, 2 * HOUR);
		add(fx, "P3", FAKE_DEFERRED, 3 * HOUR);
		add(fx, "H1", FAKE_HOLD, HOUR);
		add(fx, "F1", FAKE_FROZEN, HOUR);
		add(fx, "L1", FAKE_ACTIVE, HOUR);
		fx_drain(fx);
		start_ok(fx, NOW);
		assert_counts(fx, started);

		refused(fx, drain_release_ids, h1, 2);	/* admin's hold */
		refused(fx, drain_release_ids, f1, 2);	/* admin's queue */
		refused(fx, drain_release_ids, unknown, 2);
		refused(fx, drain_release_ids, bad, 2);
		refused(fx, drain_release_ids, leaving, 1);
		assert_int_equal(fake_mta_calls(fx->f, FAKE_OP_RELEASE), 0);
		assert_int_equal(is_parked(fx, "P2"), 1);
		assert_counts(fx, started);

		if (drain_release_ids(fx->d, ok, 2, NOW, &err) == -1)
			fail_msg("drain_release_ids: %s", err);
		assert_string_equal(ids(fx, FAKE_OP_RELEASE), "P3 P2");
		assert_string_equal(ids(fx, FAKE_OP_KICK), "P3 P2");
		assert_int_equal(is_parked(fx, "P2"), 0);
		assert_int_equal(is_parked(fx, "P3"), 0);
		assert_int_equal(status(fx).released, 2);
		assert_int_equal(status(fx).parked, 1);
		assert_counts(fx, moves ? kicked : lost);

		/* a refresh does not park again what was just released */
		refresh_ok(fx, NOW + 60);
		assert_int_equal(fake_mta_calls(fx->f, FAKE_OP_PARK), 1);
		assert_counts(fx, moves ? kicked : lost);

		/* P1, the one left, in its turn */
		assert_int_equal(tick(fx, 100, 100, 0), 1);
		assert_string_equal(ids(fx, FAKE_OP_RELEASE), "P3 P2 P1");
		assert_int_equal(tick(fx, 100, 100, 1), 0);
		refresh_ok(fx, NOW + 120);
		assert_counts(fx, moves ? all_kicked : all_lost);

		fake_mta_deliver(fx->f, "P1");
		fake_mta_deliver(fx->f, "P2");
		fake_mta_deliver(fx->f, "P3");
		fake_mta_deliver(fx->f, "L1");
		refresh_ok(fx, NOW + 180);
		assert_counts(fx, delivered);
		assert_int_equal(fake_mta_queue_of(fx->f, "H1"), FAKE_HOLD);
		assert_int_equal(is_parked(fx, "H1"), 0);
	}

	/* an open row is not enough: somebody else released it already */
	fake_mta_add(fx->f, "P9", FAKE_DEFERRED, NOW, NOW + HOUR, SENDER);
	refresh_ok(fx, NOW + 240);
	assert_int_equal(is_parked(fx, "P9"), 1);
	fake_mta_move(fx->f, "P9", FAKE_DEFERRED);	/* postsuper -H */
	assert_int_equal(drain_release_ids(fx->d, (const char *[]){ "P9" }, 1,
	    NOW + 240, &err), -1);
	free(err);
	assert_int_equal(fake_mta_id_count(fx->f, FAKE_OP_RELEASE, "P9"), 0);
}

/*
 * Hold by id: a message waiting for a retry is parked, recorded as ebb's
 * and released in its EDF turn; anything else refuses the request.
 */
static void
test_hold_ids(void **state)
{
	struct fixture	*fx = *state;
	const char	*held[] = { "H1" }, *ours[] = { "P1" };
	const char	*unknown[] = { "ZZZ9" }, *leaving[] = { "L1" };
	const char	*frozen[] = { "F1" }, *mixed[] = { "W1", "H1" };
	const char	*ok[] = { "W1" };
	char		*err = NULL;

	add(fx, "P1", FAKE_DEFERRED, 2 * HOUR);
	add(fx, "P2", FAKE_DEFERRED, 4 * HOUR);
	add(fx, "H1", FAKE_HOLD, HOUR);
	add(fx, "F1", FAKE_FROZEN, HOUR);
	add(fx, "L1", FAKE_ACTIVE, HOUR);
	fx_drain(fx);
	start_ok(fx, NOW);
	/* arrives after the start, and waits for a retry */
	add(fx, "W1", FAKE_DEFERRED, 3 * HOUR);

	refused(fx, drain_hold_ids, held, 1);
	refused(fx, drain_hold_ids, ours, 1);
	refused(fx, drain_hold_ids, unknown, 1);
	refused(fx, drain_hold_ids, leaving, 1);
	refused(fx, drain_hold_ids, frozen, 1);
	refused(fx, drain_hold_ids, mixed, 2);
	assert_int_equal(fake_mta_calls(fx->f, FAKE_OP_PARK), 1);
	assert_int_equal(fake_mta_queue_of(fx->f, "W1"), FAKE_DEFERRED);
	assert_int_equal(is_parked(fx, "W1"), 0);
	assert_int_equal(is_parked(fx, "H1"), 0);

	if (drain_hold_ids(fx->d, ok, 1, NOW, &err) == -1)
		fail_msg("drain_hold_ids: %s", err);
	assert_int_equal(fake_mta_queue_of(fx->f, "W1"), FAKE_HOLD);
	assert_int_equal(is_parked(fx, "W1"), 1);
	assert_int_equal(status(fx).parked, 3);
	assert_int_equal(status(fx).total, 3);

	assert_int_equal(tick(fx, 100, 100, 0), 3);
	assert_string_equal(ids(fx, FAKE_OP_RELEASE), "P1 W1 P2");
	assert_int_equal(fake_mta_queue_of(fx->f, "H1"), FAKE_HOLD);
	assert_int_equal(fake_mta_queue_of(fx->f, "F1"), FAKE_FROZEN);
}

/*
 * Adoption: the milter held M1 and M2 with their senders' deadlines. Not
 * held yet: 1, ask again; held with ebb's proof: 0 and ebb's. Released in
 * EDF turn by the earlier of the ledger's deadline and the queue file's.
 * A notice for a held message without the proof is refused (2): the
 * administrator's H1, one whose proof was made under another key (F1),
 * one whose header was copied from an earlier message with its queue id
 * (C1), and a forged notice for an unreadable file (U1).
 */
static void
test_adopt(void **state)
{
	struct fixture	*fx = *state;
	char		*err = NULL;

	add(fx, "P1", FAKE_DEFERRED, 1 * HOUR);
	add(fx, "P2", FAKE_DEFERRED, 5 * HOUR);
	add(fx, "H1", FAKE_HOLD, 1 * HOUR);
	add(fx, "F1", FAKE_HOLD, 1 * HOUR);
	add(fx, "C1", FAKE_HOLD, 1 * HOUR);
	add(fx, "U1", FAKE_HOLD, 1 * HOUR);
	prove(fx, "F1", NOW - HOUR, 1);
	prove(fx, "C1", NOW - 3 * DAY, 0);
	fake_mta_set_unreadable(fx->f, "U1", 1);
	fx_drain(fx);
	start_ok(fx, NOW);
	/* local bounce deadlines in 5 days and in 2 hours */
	add(fx, "M1", FAKE_INCOMING, 5 * DAY);
	add(fx, "M2", FAKE_INCOMING, 2 * HOUR);
	prove(fx, "M1", NOW - HOUR + 5, 0);
	prove(fx, "M2", NOW - HOUR + 30, 0);

	assert_int_equal(drain_adopt(fx->d, "M1", NOW + 3 * HOUR, NOW, &err),
	    1);
	assert_int_equal(is_parked(fx, "M1"), 0);
	fake_mta_move(fx->f, "M1", FAKE_HOLD);
	fake_mta_move(fx->f, "M2", FAKE_HOLD);
	assert_int_equal(drain_adopt(fx->d, "M1", NOW + 3 * HOUR, NOW, &err),
	    0);
	assert_int_equal(drain_adopt(fx->d, "M2", NOW + 6 * HOUR, NOW, &err),
	    0);
	assert_int_equal(is_parked(fx, "M1"), 1);
	assert_int_equal(is_parked(fx, "M2"), 1);
	assert_int_equal(drain_adopt(fx->d, "no;id", NOW, NOW, &err), -1);
	free(err);
	assert_int_equal(drain_adopt(fx->d, "H1", NOW, NOW, &err), 2);
	assert_int_equal(drain_adopt(fx->d, "F1", NOW, NOW, &err), 2);
	assert_int_equal(drain_adopt(fx->d, "C1", NOW, NOW, &err), 2);
	assert_int_equal(drain_adopt(fx->d, "U1", NOW, NOW, &err), 2);
	assert_int_equal(status(fx).refused, 4);

	refresh_ok(fx, NOW);
	assert_int_equal(status(fx).parked, 4);
	assert_int_equal(status(fx).admin_held, 4);
	assert_int_equal(tick(fx, 100, 100, 0), 4);
	/* M1 by the ledger's 3 h, M2 by its file's 2 h */
	assert_string_equal(ids(fx, FAKE_OP_RELEASE), "P1 M2 M1 P2");
	/* the milter parks, not the drain */
	assert_int_equal(fake_mta_calls(fx->f, FAKE_OP_PARK), 1);
	assert_int_equal(fake_mta_queue_of(fx->f, "H1"), FAKE_HOLD);
	assert_int_equal(fake_mta_queue_of(fx->f, "F1"), FAKE_HOLD);
	assert_int_equal(fake_mta_queue_of(fx->f, "C1"), FAKE_HOLD);
	assert_int_equal(fake_mta_queue_of(fx->f, "U1"), FAKE_HOLD);
}

/* kept_line - drain_foreach_kept into a string "ID:name ..." */
static int
kept_line(void *arg, const char *id, enum drain_kept why)
{
	char	*buf = arg;
	size_t	 len = strlen(buf);

	snprintf(buf + len, 512 - len, "%s%s:%s", len > 0 ? " " : "", id,
	    drain_kept_name(why));
	return 0;
}

/*
 * Lost notices: M1..M3 are in hold with ebb's proof and no ledger row
 * (ebbd was stopped before their notices were recorded). A refresh adopts
 * them with the deadline the scan found, reads each held file once (H1,
 * the administrator's, is remembered, not read again; it is again when a
 * new message takes its queue id), and never takes back R1, which ebb
 * released once and someone held again. Failsafe then releases what it
 * adopted and says why it leaves each of the others.
 */
static void
test_adopt_lost_notices(void **state)
{
	struct fixture	*fx = *state;
	char		 kept[512] = "";
	json_t		*o, *k;
	size_t		 reads;
	char		*err = NULL;
	const char	*r1[] = { "R1" };

	add(fx, "M1", FAKE_HOLD, 3 * HOUR);
	add(fx, "M2", FAKE_HOLD, 1 * HOUR);
	add(fx, "M3", FAKE_HOLD, 2 * HOUR);
	add(fx, "H1", FAKE_HOLD, 1 * HOUR);
	add(fx, "R1", FAKE_DEFERRED, 1 * HOUR);
	add(fx, "F1", FAKE_FROZEN, 1 * HOUR);
	prove(fx, "M1", NOW - HOUR, 0);
	prove(fx, "M2", NOW - HOUR, 0);
	prove(fx, "M3", NOW - HOUR, 0);
	prove(fx, "R1", NOW - HOUR, 0);
	fx_drain(fx);
	start_ok(fx, NOW);
	assert_int_equal(status(fx).adopted, 3);
	assert_int_equal(status(fx).unproven, 1);
	assert_int_equal(status(fx).admin_held, 1 + 1);
	assert_int_equal(is_parked(fx, "M1"), 1);
	/* R1: parked by the drain, released, then held by someone else */
	assert_int_equal(drain_release_ids(fx->d, r1, 1, NOW, &err), 0);
	fake_mta_move(fx->f, "R1", FAKE_HOLD);
	reads = fake_mta_calls(fx->f, FAKE_OP_PROOF);
	refresh_ok(fx, NOW + 5);
	assert_int_equal(fake_mta_calls(fx->f, FAKE_OP_PROOF), reads + 1);
	assert_int_equal(is_parked(fx, "R1"), 0);
	refresh_ok(fx, NOW + 10);
	assert_int_equal(fake_mta_calls(fx->f, FAKE_OP_PROOF), reads + 1);
	/* a new message under H1's id is read again */
	fake_mta_deliver(fx->f, "H1");
	refresh_ok(fx, NOW + 15);
	fake_mta_add(fx->f, "H1", FAKE_HOLD, NOW, NOW + DAY, SENDER);
	prove(fx, "H1", NOW + 2, 0);
	refresh_ok(fx, NOW + 20);
	assert_int_equal(fake_mta_calls(fx->f, FAKE_OP_PROOF), reads + 2);
	assert_int_equal(is_parked(fx, "H1"), 1);
	fake_mta_set_content(fx->f, "H1", "", 0);
	fake_mta_move(fx->f, "H1", FAKE_DEFERRED);
	fake_mta_add(fx->f, "H2", FAKE_HOLD, NOW, NOW + DAY, SENDER);

	fx->opts.failsafe = 1;
	fx_drain(fx);
	start_ok(fx, NOW + 60);
	fake_mta_reset_ids(fx->f);
	if (drain_release_all(fx->d, NOW + 60, &err) == -1)
		fail_msg("drain_release_all: %s", err);
	/* EDF by the deadlines of their files */
	assert_string_equal(ids(fx, FAKE_OP_RELEASE), "M2 M3 M1");
	drain_foreach_kept(fx->d, kept_line, kept);
	assert_non_null(strstr(kept, "R1:released_before"));
	assert_non_null(strstr(kept, "H2:no_proof"));
	assert_non_null(strstr(kept, "F1:admin_queue"));
	assert_null(strstr(kept, "M1"));
	/* the same as JSON, cut at max_kept */
	o = drain_failsafe_json(fx->d, 1);
	assert_int_equal(json_integer_value(json_object_get(o, "released")),
	    3);
	assert_int_equal(json_integer_value(json_object_get(o, "adopted")), 0);
	assert_int_equal(json_integer_value(json_object_get(o,
	    "kept_total")), 3);
	assert_int_equal(json_array_size(json_object_get(o, "kept")), 1);
	k = json_array_get(json_object_get(o, "kept"), 0);
	assert_non_null(json_string_value(json_object_get(k, "queue_id")));
	assert_non_null(json_string_value(json_object_get(k, "reason")));
	assert_non_null(json_string_value(json_object_get(k, "why")));
	json_decref(o);
	assert_int_equal(fake_mta_queue_of(fx->f, "H2"), FAKE_HOLD);
	assert_int_equal(fake_mta_queue_of(fx->f, "R1"), FAKE_HOLD);
}

/*
 * A running drain reads at most DRAIN_PROOF_MAX held files per refresh;
 * the rest wait for the next one, none is read twice, and with no key
 * nothing is read or adopted.
 */
static void
test_adopt_bounded(void **state)
{
	struct fixture	*fx = *state;
	char		 id[16];
	size_t		 i, n = DRAIN_PROOF_MAX + 50;

	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "M%zu", i);
		add(fx, id, FAKE_HOLD, HOUR);
		if (i % 2 == 0)
			prove(fx, id, NOW - HOUR, 0);
	}
	fx->opts.proof_key = NULL;
	fx_drain(fx);
	start_ok(fx, NOW);
	assert_int_equal(fake_mta_calls(fx->f, FAKE_OP_PROOF), 0);
	assert_int_equal(status(fx).unchecked, n);
	assert_int_equal(status(fx).adopted, 0);

	fx->opts.proof_key = &fx->key;
	fx_drain(fx);
	start_ok(fx, NOW);
	assert_int_equal(fake_mta_calls(fx->f, FAKE_OP_PROOF),
	    DRAIN_PROOF_MAX);
	assert_int_equal(status(fx).unchecked, n - DRAIN_PROOF_MAX);
	refresh_ok(fx, NOW + 5);
	assert_int_equal(fake_mta_calls(fx->f, FAKE_OP_PROOF), n);
	assert_int_equal(status(fx).unchecked, 0);
	assert_int_equal(status(fx).adopted, n / 2);
	assert_int_equal(status(fx).unproven, n / 2);
	refresh_ok(fx, NOW + 10);
	assert_int_equal(fake_mta_calls(fx->f, FAKE_OP_PROOF), n);
	assert_int_equal(status(fx).parked, n / 2);
}

/*
 * Failsafe: a new drain (ebbctl failsafe) releases all that ebb parked,
 * in EDF order, unkicked, parks nothing, and leaves the admin's holds. P3
 * became unreadable: the fresh index knows only its id, so its place in
 * the order comes from the ledger's deadline alone, and it is released by
 * id. Were the unreadable file dropped by the scan, P3 would never be
 * released (stranded in hold); were the ledger's deadline not used, it
 * would sort first (deadline 0).
 */
static void
test_failsafe(void **state)
{
	struct fixture	*fx = *state;
	struct drain_status st;
	char		*err = NULL;

	add(fx, "P1", FAKE_DEFERRED, 4 * HOUR);
	add(fx, "P2", FAKE_DEFERRED, 1 * HOUR);
	add(fx, "P3", FAKE_DEFERRED, 3 * HOUR);
	add(fx, "P4", FAKE_DEFERRED, 2 * HOUR);
	add(fx, "H1", FAKE_HOLD, HOUR);
	add(fx, "F1", FAKE_FROZEN, HOUR);
	fx_drain(fx);
	start_ok(fx, NOW);
	assert_int_equal(fake_mta_count(fx->f, FAKE_HOLD), 5);
	fake_mta_set_unreadable(fx->f, "P3", 1);
	add(fx, "W1", FAKE_DEFERRED, HOUR);	/* waits: not parked */

	fx->opts.failsafe = 1;
	fx_drain(fx);
	start_ok(fx, NOW + 60);
	st = status(fx);
	assert_int_equal(st.parked, 4);
	assert_int_equal(st.unreadable, 1);
	assert_int_equal(st.admin_held, 2);
	if (drain_release_all(fx->d, NOW + 60, &err) == -1)
		fail_msg("drain_release_all: %s", err);
	assert_string_equal(ids(fx, FAKE_OP_RELEASE), "P2 P4 P3 P1");
	assert_int_equal(fake_mta_calls(fx->f, FAKE_OP_KICK), 0);
	assert_int_equal(fake_mta_calls(fx->f, FAKE_OP_PARK), 1);
	assert_int_equal(fake_mta_queue_of(fx->f, "P3"), FAKE_DEFERRED);
	assert_int_equal(fake_mta_queue_of(fx->f, "W1"), FAKE_DEFERRED);
	assert_int_equal(fake_mta_queue_of(fx->f, "H1"), FAKE_HOLD);
	assert_int_equal(fake_mta_queue_of(fx->f, "F1"), FAKE_FROZEN);
	assert_int_equal(is_parked(fx, "P3"), 0);
	assert_int_equal(is_parked(fx, "H1"), 0);
	assert_int_equal(status(fx).released, 4);
	assert_true(drain_done(fx->d));
}

/*
 * msg_fingerprint: what a copied queue file keeps makes it; any field of
 * those changed is another message; what the queue id, queue, deadline
 * and retry time say is not part of it; an unreadable file has none
 */
static void
test_fingerprint(void **state)
{
	static const char *rcpt[] = { "a@x.test", "b@x.test" };
	static const char *rcpt2[] = { "a@x.test", "c@x.test" };
	static const char *rcpt3[] = { "a@x.test,b@x.test" };
	const struct msg base = {
		.queue_id = "4ABC", .queue = 3, .nrcpt = 2,
		.arrival_usec = 123456, .arrival_time = NOW - HOUR,
		.create_time = NOW - HOUR, .deadline = NOW + HOUR,
		.next_retry = NOW, .size = 4096, .sender = "s@y.test",
		.rcpt = rcpt,
	};
	struct msg	 same = base, cases[8];
	char		 fp0[MSG_FP_LEN + 1], fp[MSG_FP_LEN + 1];
	size_t		 i;

	assert_int_equal(msg_fingerprint(&base, fp0), 0);
	assert_true(msg_fingerprint_valid(fp0));
	memcpy(same.queue_id, "7XYZ", 5);
	same.queue = 2;
	same.deadline = NOW + 2 * HOUR;
	same.next_retry = 0;
	assert_int_equal(msg_fingerprint(&same, fp), 0);
	assert_string_equal(fp, fp0);
	for (i = 0; i < nitems(cases); i++)
		cases[i] = base;
	cases[0].arrival_usec++;
	cases[1].arrival_time++;
	cases[2].create_time++;
	cases[3].size++;
	cases[4].sender = "t@y.test";
	cases[5].rcpt = rcpt2;
	cases[6].nrcpt = 1;
	cases[7].nrcpt = 1;		/* one field is not two */
	cases[7].rcpt = rcpt3;
	for (i = 0; i < nitems(cases); i++) {
		assert_int_equal(msg_fingerprint(&cases[i], fp), 0);
		if (strcmp(fp, fp0) == 0)
			fail_msg("case %zu: the same fingerprint", i);
	}
	same.flags = MSG_F_UNREADABLE;
	assert_int_equal(msg_fingerprint(&same, fp), -1);
	assert_false(msg_fingerprint_valid("0123"));
	assert_false(msg_fingerprint_valid("0123456789ABCDEF0123456789abcdef"));
}

/*
 * A spool restored from a backup: every file has a new inode, and the MTA
 * renames each, so what ebb parked is held under new queue ids (issue 9,
 * finding 3). failsafe finds each by its fingerprint and releases it. An
 * administrator's hold just like one of them (same arrival, sender,
 * size) cannot be told from it: neither is released. An administrator's
 * hold unlike any is never touched.
 */
static void
test_restored_spool(void **state)
{
	struct fixture	*fx = *state;
	char		*err = NULL;

	fake_mta_add(fx->f, "P1", FAKE_DEFERRED, NOW - 3 * HOUR, NOW + HOUR,
	    SENDER);
	fake_mta_add(fx->f, "P2", FAKE_DEFERRED, NOW - 2 * HOUR,
	    NOW + 2 * HOUR, SENDER);
	fake_mta_add(fx->f, "P3", FAKE_DEFERRED, NOW - HOUR, NOW + 3 * HOUR,
	    SENDER);
	fake_mta_add(fx->f, "H1", FAKE_HOLD, NOW - HOUR, NOW + 3 * HOUR,
	    SENDER);			/* just like P3 */
	fake_mta_add(fx->f, "H2", FAKE_HOLD, NOW - 4 * HOUR, NOW + HOUR,
	    "admin@example.org");
	fx_drain(fx);
	start_ok(fx, NOW);
	assert_string_equal(ids(fx, FAKE_OP_PARK), "P1 P2 P3");

	fake_mta_rename(fx->f, "P1", "N1");
	fake_mta_rename(fx->f, "P2", "N2");
	fake_mta_rename(fx->f, "P3", "N3");
	fake_mta_rename(fx->f, "H1", "N4");
	fake_mta_rename(fx->f, "H2", "N5");
	fx->opts.failsafe = 1;
	fx_drain(fx);
	start_ok(fx, NOW + 60);
	assert_int_equal(is_parked(fx, "N1"), 1);
	assert_int_equal(is_parked(fx, "N2"), 1);
	assert_int_equal(is_parked(fx, "N3"), 0);
	assert_int_equal(is_parked(fx, "N4"), 0);
	assert_int_equal(is_parked(fx, "N5"), 0);
	if (drain_release_all(fx->d, NOW + 60, &err) == -1)
		fail_msg("drain_release_all: %s", err);
	assert_string_equal(ids(fx, FAKE_OP_RELEASE), "N1 N2");
	assert_int_equal(fake_mta_queue_of(fx->f, "N3"), FAKE_HOLD);
	assert_int_equal(fake_mta_queue_of(fx->f, "N4"), FAKE_HOLD);
	assert_int_equal(fake_mta_queue_of(fx->f, "N5"), FAKE_HOLD);
	assert_int_equal(status(fx).released, 2);
}

/*
 * A release whose kick was lost with the process (killed between the
 * MTA's release and the kick) leaves the message waiting with its old
 * retry time, not due: Postfix's postsuper -H keeps the file's mtime. The
 * next drain must neither park it again (it is released, in the ledger)
 * nor leave it to that retry time, which may be an hour away: it kicks
 * it. ebbd-crash.sh once found one message left so for good.
 */
static void
test_lost_kick_restart(void **state)
{
	struct fixture	*fx = *state;
	char		*err = NULL;

	add(fx, "P1", FAKE_DEFERRED, 1 * HOUR);
	add(fx, "P2", FAKE_DEFERRED, 2 * HOUR);
	fx_drain(fx);
	start_ok(fx, NOW);
	fake_mta_fail(fx->f, FAKE_OP_KICK, 1, FAKE_FAIL_BEFORE);
	if (drain_tick(fx->d, &(struct budget){ .rate = 100, .window = 10 },
	    1, NOW, &err) == -1)
		fail_msg("drain_tick: %s", err);
	free(err);
	assert_int_equal(fake_mta_queue_of(fx->f, "P1"), FAKE_DEFERRED);
	fake_mta_defer(fx->f, "P1", 0);		/* its old retry: ahead */
	fake_mta_defer(fx->f, "P2", 0);
	assert_int_equal(is_parked(fx, "P1"), 0);
	/* the process is gone; a new drain starts */
	fake_mta_reset_ids(fx->f);
	fx_drain(fx);
	start_ok(fx, NOW + 10);
	assert_int_equal(fake_mta_id_count(fx->f, FAKE_OP_PARK, "P1"), 0);
	assert_int_equal(fake_mta_id_count(fx->f, FAKE_OP_KICK, "P1"), 1);
	assert_int_equal(fake_mta_id_count(fx->f, FAKE_OP_KICK, "P2"), 1);
}

/*
 * A release the MTA silently declines (the message is still held after
 * the command) must not be recorded as released: the row would be
 * settled while the mail sits in hold, stranded. The message stays
 * parked in the ledger, is counted as stuck (and parked), is not tried
 * again by this drain, and the next drain releases it once it can.
 */
static void
test_release_declined(void **state)
{
	struct fixture	*fx = *state;
	struct drain_status st;
	char		*err = NULL;

	add(fx, "P1", FAKE_DEFERRED, 1 * HOUR);
	add(fx, "P2", FAKE_DEFERRED, 2 * HOUR);
	add(fx, "P3", FAKE_DEFERRED, 3 * HOUR);
	fx_drain(fx);
	start_ok(fx, NOW);
	fake_mta_set_stuck(fx->f, "P2", 1);
	tick(fx, 100, 10, 1);
	assert_string_equal(ids(fx, FAKE_OP_RELEASE), "P1 P2 P3");
	assert_int_equal(fake_mta_queue_of(fx->f, "P2"), FAKE_HOLD);
	assert_int_equal(is_parked(fx, "P2"), 1);
	assert_int_equal(is_parked(fx, "P1"), 0);
	st = status(fx);
	assert_int_equal(st.released, 2);
	assert_int_equal(st.stuck, 1);
	assert_int_equal(st.parked, 1);
	/* a refresh does not try it again in this drain */
	fake_mta_deliver_all_leaving(fx->f);
	fake_mta_reset_ids(fx->f);
	if (drain_refresh(fx->d, NOW + 10, &err) == -1)
		fail_msg("drain_refresh: %s", err);
	tick(fx, 100, 10, 2);
	assert_string_equal(ids(fx, FAKE_OP_RELEASE), "");
	assert_int_equal(is_parked(fx, "P2"), 1);
	/* repaired: the next drain releases it */
	fake_mta_set_stuck(fx->f, "P2", 0);
	fx_drain(fx);
	start_ok(fx, NOW + 20);
	tick(fx, 100, 10, 3);
	assert_string_equal(ids(fx, FAKE_OP_RELEASE), "P2");
	assert_int_equal(is_parked(fx, "P2"), 0);
	assert_int_equal(status(fx).stuck, 0);
}

/*
 * Never strand: a parked message whose file becomes unreadable keeps its
 * ledger row across a refresh and is released by id in its turn. A scan
 * that skipped it as it skips other corrupt files would make reconcile
 * take it for gone and close its row: it would then sit in hold for good,
 * released neither by the drain nor by the failsafe, and unreadable would
 * read 0.
 */
static void
test_unreadable_parked(void **state)
{
	struct fixture	*fx = *state;
	struct drain_status st;

	add(fx, "P1", FAKE_DEFERRED, 1 * HOUR);
	add(fx, "P2", FAKE_DEFERRED, 2 * HOUR);
	add(fx, "P3", FAKE_DEFERRED, 3 * HOUR);
	add(fx, "X1", FAKE_DEFERRED, 4 * HOUR);
	fx_drain(fx);
	start_ok(fx, NOW);
	fake_mta_set_unreadable(fx->f, "P2", 1);
	refresh_ok(fx, NOW + 60);
	assert_int_equal(is_parked(fx, "P2"), 1);
	st = status(fx);
	assert_int_equal(st.unreadable, 1);
	assert_int_equal(st.parked, 4);
	assert_int_equal(st.corrupt, 1);

	/* a corrupt file not held is skipped, and not counted unreadable */
	fake_mta_deliver(fx->f, "X1");
	add(fx, "C1", FAKE_DEFERRED, HOUR);
	fake_mta_set_unreadable(fx->f, "C1", 1);
	refresh_ok(fx, NOW + 120);
	st = status(fx);
	assert_int_equal(st.unreadable, 1);
	assert_int_equal(st.corrupt, 2);
	assert_int_equal(st.parked, 3);

	assert_int_equal(tick(fx, 100, 1, 0), 1);
	fake_mta_deliver_all_leaving(fx->f);
	assert_int_equal(tick(fx, 100, 1, 1), 1);
	fake_mta_deliver_all_leaving(fx->f);
	assert_int_equal(tick(fx, 100, 1, 2), 1);
	assert_string_equal(ids(fx, FAKE_OP_RELEASE), "P1 P2 P3");
	assert_int_equal(is_parked(fx, "P2"), 0);
	assert_int_equal(fake_mta_queue_of(fx->f, "C1"), FAKE_DEFERRED);
}

/*
 * A crash at every step of park and release. Whatever step failed, every
 * message is where the MTA delivers it (leaving, waiting) or held with an
 * open ledger row; the admin's holds are untouched and never in the
 * ledger. After a restart (reconcile) the drain finishes: every message
 * of ebb's released exactly once, nothing held but the admin's.
 */
struct crash_case {
	const char	*name;
	int		 op;		/* enum fake_op */
	size_t		 call;		/* which call fails */
	int		 when;		/* enum fake_when */
};

static const struct crash_case crash_cases[] = {
	{ "crash: park fails before the MTA moves", FAKE_OP_PARK, 1,
	    FAKE_FAIL_BEFORE },
	{ "crash: park fails after the MTA moved", FAKE_OP_PARK, 1,
	    FAKE_FAIL_AFTER },
	{ "crash: release fails before the MTA moves", FAKE_OP_RELEASE, 2,
	    FAKE_FAIL_BEFORE },
	{ "crash: release fails after the MTA moved", FAKE_OP_RELEASE, 2,
	    FAKE_FAIL_AFTER },
	{ "crash: kick fails before the MTA moves", FAKE_OP_KICK, 2,
	    FAKE_FAIL_BEFORE },
	{ "crash: kick fails after the MTA moved", FAKE_OP_KICK, 2,
	    FAKE_FAIL_AFTER },
};

#define NTESTS	13	/* the tests above the crash cases in main */

static const char *const crash_ours[] = {
	"D1", "D2", "D3", "D4", "D5", "D6"
};

/*
 * assert_never_stranded - the invariant, for every message of the fake.
 * strict (after a reconcile and park): an open row exactly for ebb's held.
 */
static void
assert_never_stranded(struct fixture *fx, const char *when, int strict)
{
	size_t	 i;
	int	 q, parked;

	for (i = 0; i < nitems(crash_ours); i++) {
		q = fake_mta_queue_of(fx->f, crash_ours[i]);
		parked = is_parked(fx, crash_ours[i]);
		if (q == FAKE_FROZEN || (q == FAKE_HOLD && parked != 1))
			fail_msg("%s: %s held (queue %d) without a ledger row",
			    when, crash_ours[i], q);
		if (strict && parked != (q == FAKE_HOLD))
			fail_msg("%s: %s in queue %d, ledger row %d", when,
			    crash_ours[i], q, parked);
	}
	assert_int_equal(fake_mta_queue_of(fx->f, "H1"), FAKE_HOLD);
	assert_int_equal(fake_mta_queue_of(fx->f, "F1"), FAKE_FROZEN);
	assert_int_equal(is_parked(fx, "H1"), 0);
	assert_int_equal(is_parked(fx, "F1"), 0);
}

static void
test_crash(void **state)
{
	struct fixture	*fx = *state;
	const struct crash_case *cc = fx->arg;
	char		*err = NULL;
	double		 mono;
	size_t		 i;
	int		 rc;

	add(fx, "D4", FAKE_DEFERRED, 4 * HOUR);
	add(fx, "D2", FAKE_DEFERRED, 2 * HOUR);
	add(fx, "D6", FAKE_DEFERRED, 6 * HOUR);
	add(fx, "D1", FAKE_DEFERRED, 1 * HOUR);
	add(fx, "D5", FAKE_DEFERRED, 5 * HOUR);
	add(fx, "D3", FAKE_DEFERRED, 3 * HOUR);
	add(fx, "H1", FAKE_HOLD, HOUR);	/* the admin's from the start */
	add(fx, "F1", FAKE_FROZEN, HOUR);
	add(fx, "L1", FAKE_ACTIVE, HOUR);
	fake_mta_fail(fx->f, cc->op, cc->call, cc->when);

	/* run until the injected failure strikes */
	fx_drain(fx);
	rc = drain_start(fx->d, NOW, &err);
	for (mono = 1; rc == 0 && fake_mta_failures(fx->f) == 0 &&
	    mono < 20; mono++) {
		rc = drain_tick(fx->d, &(struct budget){ .rate = 100,
		    .window = 2 }, mono, NOW, &err) == -1 ? -1 : 0;
		if (fake_mta_failures(fx->f) == 0)
			fake_mta_deliver_all_leaving(fx->f);
	}
	free(err);
	err = NULL;
	assert_int_equal(fake_mta_failures(fx->f), 1);
	assert_int_equal(rc, cc->op == FAKE_OP_KICK ? 0 : -1);

	/* crash: the process is gone, the ledger is all that is left */
	drain_free(&fx->d);
	ledger_close(&fx->l);
	if (ledger_open(fx->state, &fx->l, &err) == -1)
		fail_msg("ledger_open: %s", err);
	assert_never_stranded(fx, "after the crash", 0);

	/* restart: reconcile, park what waits */
	fx_drain(fx);
	start_ok(fx, NOW + 60);
	assert_never_stranded(fx, "after the restart", 1);

	/* drain to the end; the MTA delivers what leaves */
	for (mono = 100; mono < 150; mono++) {
		tick(fx, 100, 2, mono);
		fake_mta_deliver_all_leaving(fx->f);
		if (drain_done(fx->d))
			break;
	}
	assert_true(drain_done(fx->d));
	/*
	 * what ebb released and the MTA deferred (a lost kick) waits for
	 * the MTA's own retry: ebb must not park it again; the MTA's queue
	 * run then delivers it
	 */
	fake_mta_retry_all_waiting(fx->f);
	fake_mta_deliver_all_leaving(fx->f);
	for (i = 0; i < nitems(crash_ours); i++) {
		assert_int_equal(fake_mta_queue_of(fx->f, crash_ours[i]), -1);
		assert_int_equal(is_parked(fx, crash_ours[i]), 0);
	}
	assert_never_stranded(fx, "at the end", 1);
	assert_int_equal(fake_mta_count(fx->f, FAKE_HOLD), 1);
	assert_int_equal(fake_mta_id_count(fx->f, FAKE_OP_RELEASE, "H1"), 0);
	assert_int_equal(fake_mta_id_count(fx->f, FAKE_OP_PARK, "H1"), 0);
	/* last: released more than once is a delay, not a loss */
	for (i = 0; i < nitems(crash_ours); i++)
		if (fake_mta_id_count(fx->f, FAKE_OP_RELEASE,
		    crash_ours[i]) != 1)
			fail_msg("%s released %zu times (release ids: %s)",
			    crash_ours[i], fake_mta_id_count(fx->f,
			    FAKE_OP_RELEASE, crash_ours[i]),
			    ids(fx, FAKE_OP_RELEASE));
}

/* crash_setup - setup, keeping the case cmocka passed as the state */
static int
crash_setup(void **state)
{
	const void	*arg = *state;

	if (setup(state) == -1)
		return -1;
	((struct fixture *)*state)->arg = arg;
	return 0;
}

int
main(void)
{
	struct CMUnitTest tests[NTESTS + nitems(crash_cases)] = {
		cmocka_unit_test_setup_teardown(test_edf_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_window_inflight, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bucket_pacing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_ids, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hold_ids, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_adopt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adopt_lost_notices, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_adopt_bounded, setup,
		    teardown),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test_setup_teardown(test_restored_spool, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_failsafe, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_parked, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_release_declined, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lost_kick_restart, setup,
		    teardown),
	};
	size_t		 i;

	log_init("test_drain", 1, 0);
	for (i = 0; i < nitems(crash_cases); i++) {
		tests[NTESTS + i].name = crash_cases[i].name;
		tests[NTESTS + i].test_func = test_crash;
		tests[NTESTS + i].setup_func = crash_setup;
		tests[NTESTS + i].teardown_func = teardown;
		tests[NTESTS + i].initial_state = (void *)&crash_cases[i];
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
