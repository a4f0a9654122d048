/*
 * test_conn_limit.c - sharing descriptors, backing off, holding warnings
 *
 * Three tables of cases, one test case per row: the caps that fit a
 * descriptor table, the rests after failures in a row, and timelines of a
 * warning that happens again and again.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ebb/conn_limit.h"
#include "ebb/util.h"

struct share_case {
	const char	*name;
	long		 nofile;
	long		 want[2];
	long		 got[2];
	int		 lowered;
};

static const struct share_case shares[] = {
	{ "share: the defaults fit 1024", 1024, { 64, 128 }, { 64, 128 }, 0 },
	{ "share: exactly half fits", 384, { 64, 128 }, { 64, 128 }, 0 },
	{ "share: one over half lowers the largest", 382, { 64, 128 },
	  { 64, 127 }, 1 },
	{ "share: both down to one level", 96, { 64, 128 }, { 24, 24 }, 1 },
	{ "share: a small cap stays whole", 96, { 4, 128 }, { 4, 44 }, 1 },
	{ "share: the level is the highest that fits", 101, { 10, 100 },
	  { 10, 40 }, 1 },
	{ "share: at least one each", 4, { 64, 128 }, { 1, 1 }, 1 },
	{ "share: a tiny table", 1, { 5, 5 }, { 1, 1 }, 1 },
	{ "share: no limit known", 0, { 64, 128 }, { 64, 128 }, 0 },
	{ "share: a negative limit", -1, { 9, 9 }, { 9, 9 }, 0 },
	{ "share: a listener that is off", 10, { 64, 0 }, { 5, 0 }, 1 },
	{ "share: huge caps, huge table", 1L << 40, { 1L << 38, 1L << 38 },
	  { 1L << 38, 1L << 38 }, 0 },
	{ "share: huge caps, small table", 1000, { 1L << 50, 1L << 50 },
	  { 250, 250 }, 1 },
};

static void
run_share(void **state)
{
	const struct share_case *c = *state;
	long		 got[2] = { -7, -7 };
	int		 lowered;

	lowered = conn_limit_share(c->nofile, c->want, got, 2);
	if (got[0] != c->got[0] || got[1] != c->got[1] ||
	    lowered != c->lowered)
		fail_msg("%s: got %ld %ld (%d), want %ld %ld (%d)", c->name,
		    got[0], got[1], lowered, c->got[0], c->got[1],
		    c->lowered);
}

struct backoff_case {
	const char	*name;
	long		 prev;
	long		 want;
};

static const struct backoff_case backoffs[] = {
	{ "backoff: the first rest", 0, 100 },
	{ "backoff: below the first", 7, 100 },
	{ "backoff: a negative previous", -5, 100 },
	{ "backoff: doubles", 100, 200 },
	{ "backoff: doubles again", 200, 400 },
	{ "backoff: doubles to 800", 400, 800 },
	{ "backoff: stops at the most", 800, 1000 },
	{ "backoff: stays at the most", 1000, 1000 },
	{ "backoff: never above the most", 999999, 1000 },
};

static void
run_backoff(void **state)
{
	const struct backoff_case *c = *state;
	long		 got = conn_limit_backoff(c->prev);

	if (got != c->want)
		fail_msg("%s: after %ld got %ld, want %ld", c->name, c->prev,
		    got, c->want);
}

#define EVENTS_MAX	8

/* one warning's timeline: when it happens, and what each time answers */
struct warn_case {
	const char	*name;
	double		 every;
	size_t		 n;
	double		 at[EVENTS_MAX];
	int		 due[EVENTS_MAX];
	unsigned long	 held[EVENTS_MAX];	/* when due */
};

static const struct warn_case warns[] = {
	{ "warn: the first is logged", 60, 1, { 1000 }, { 1 }, { 0 } },
	{ "warn: at time 0 too", 60, 2, { 0, 1 }, { 1, 0 }, { 0 } },
	{ "warn: a burst is held, counted", 60, 5,
	  { 10, 10, 10.5, 30, 70 }, { 1, 0, 0, 0, 1 }, { 0, 0, 0, 0, 3 } },
	{ "warn: once a period, exactly", 60, 4, { 0, 59.99, 60, 120 },
	  { 1, 0, 1, 1 }, { 0, 0, 1, 0 } },
	{ "warn: quiet periods log again", 1, 3, { 5, 100, 200 },
	  { 1, 1, 1 }, { 0, 0, 0 } },
	{ "warn: every 0 logs all", 0, 3, { 1, 1, 1 }, { 1, 1, 1 },
	  { 0, 0, 0 } },
};

static void
run_warn(void **state)
{
	const struct warn_case *c = *state;
	struct conn_limit_warn w;
	unsigned long	 held;
	size_t		 i;
	int		 due;

	memset(&w, 0, sizeof(w));
	for (i = 0; i < c->n; i++) {
		held = 4242;
		due = conn_limit_warn_due(&w, c->at[i], c->every, &held);
		if (due != c->due[i])
			fail_msg("%s: event %zu at %g: due %d, want %d",
			    c->name, i, c->at[i], due, c->due[i]);
		if (due && held != c->held[i])
			fail_msg("%s: event %zu: held %lu, want %lu", c->name,
			    i, held, c->held[i]);
		if (!due && held != 4242)
			fail_msg("%s: event %zu: held set when not due",
			    c->name, i);
	}
}

int
main(void)
{
	struct CMUnitTest tests[nitems(shares) + nitems(backoffs) +
	    nitems(warns)];
	size_t		 i, n = 0;

	memset(tests, 0, sizeof(tests));
	for (i = 0; i < nitems(shares); i++, n++) {
		tests[n].name = shares[i].name;
		tests[n].test_func = run_share;
		tests[n].initial_state = (void *)&shares[i];
	}
	for (i = 0; i < nitems(backoffs); i++, n++) {
		tests[n].name = backoffs[i].name;
		tests[n].test_func = run_backoff;
		tests[n].initial_state = (void *)&backoffs[i];
	}
	for (i = 0; i < nitems(warns); i++, n++) {
		tests[n].name = warns[i].name;
		tests[n].test_func = run_warn;
		tests[n].initial_state = (void *)&warns[i];
	}
	return _cmocka_run_group_tests("conn_limit", tests, n, NULL, NULL);
}
