/*
 * test_bucket.c - the token bucket on timelines
 *
 * Each row of the table is a timeline: a bucket (rate, burst) and a list of
 * steps at given times (take n, change the rate, ask the wait), each with
 * the answer it must give. One test case per row, plus a long run that
 * checks the average rate.
 */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ebb/bucket.h"
#include "ebb/util.h"

#define STEPS_MAX	12
#define INF		INFINITY

enum step_op { TAKE = 1, TAKE_ALL, RATE, WAIT, TOKENS };

struct step {
	enum step_op	 op;
	double		 t;
	double		 n;	/* tokens asked; rate for RATE */
	double		 burst;	/* for RATE */
	double		 want;	/* granted, 0/1, seconds or tokens */
};

struct timeline {
	const char	*name;
	double		 rate;
	double		 burst;
	double		 t0;
	struct step	 steps[STEPS_MAX];
};

static const struct timeline timelines[] = {
	{ "starts full", 10, 5, 0, {
	  { TAKE, 0, 8, 0, 5 }, { TAKE, 0, 1, 0, 0 } } },
	{ "refills at the rate", 10, 5, 0, {
	  { TAKE, 0, 5, 0, 5 }, { TAKE, 0.1, 5, 0, 1 },
	  { TAKE, 0.35, 5, 0, 2 }, { TAKE, 0.4, 5, 0, 1 } } },
	{ "fractions accumulate", 10, 5, 0, {
	  { TAKE, 0, 5, 0, 5 }, { TAKE, 0.05, 1, 0, 0 },
	  { TAKE, 0.09, 1, 0, 0 }, { TAKE, 0.1, 1, 0, 1 } } },
	{ "ten steps of 0.1 s at 10/s", 10, 1, 0, {
	  { TAKE, 0, 1, 0, 1 }, { TAKE, 0.1, 1, 0, 1 },
	  { TAKE, 0.2, 1, 0, 1 }, { TAKE, 0.3, 1, 0, 1 },
	  { TAKE, 0.4, 1, 0, 1 }, { TAKE, 0.5, 1, 0, 1 },
	  { TAKE, 0.6, 1, 0, 1 }, { TAKE, 0.7, 1, 0, 1 },
	  { TAKE, 0.8, 1, 0, 1 }, { TAKE, 0.9, 1, 0, 1 },
	  { TAKE, 1.0, 1, 0, 1 } } },
	{ "capped at burst", 100, 3, 0, {
	  { TAKE, 0, 3, 0, 3 }, { TAKE, 3600, 10, 0, 3 } } },
	{ "slow rate", 0.5, 1, 0, {
	  { TAKE, 0, 1, 0, 1 }, { TAKE, 1, 1, 0, 0 }, { WAIT, 1, 0, 0, 1 },
	  { TAKE, 2, 1, 0, 1 } } },
	{ "wait counts down", 4, 2, 100, {
	  { TAKE, 100, 2, 0, 2 }, { WAIT, 100, 0, 0, 0.25 },
	  { WAIT, 100.1, 0, 0, 0.15 }, { WAIT, 100.25, 0, 0, 0 },
	  { TOKENS, 100.6, 0, 0, 2 } } },
	{ "zero rate never refills", 0, 2, 0, {
	  { TAKE, 0, 5, 0, 2 }, { TAKE, 1e6, 1, 0, 0 },
	  { WAIT, 1e6, 0, 0, INF } } },
	{ "zero rate keeps its burst", 0, 2, 0, {
	  { WAIT, 0, 0, 0, 0 }, { TAKE, 50, 1, 0, 1 }, { TAKE, 60, 1, 0, 1 },
	  { TAKE, 70, 1, 0, 0 } } },
	{ "rate raised keeps tokens", 1, 10, 0, {
	  { TAKE, 0, 10, 0, 10 }, { RATE, 2, 10, 10, 0 },
	  { TOKENS, 2, 0, 0, 2 }, { TOKENS, 2.5, 0, 0, 7 } } },
	{ "burst lowered cuts tokens", 10, 10, 0, {
	  { RATE, 0, 10, 3, 0 }, { TOKENS, 0, 0, 0, 3 },
	  { TAKE, 0, 10, 0, 3 } } },
	{ "rate to zero stops", 10, 5, 0, {
	  { TAKE, 0, 5, 0, 5 }, { RATE, 0.2, 0, 5, 0 },
	  { TAKE, 100, 5, 0, 2 }, { WAIT, 100, 0, 0, INF } } },
	{ "rate from zero restarts", 0, 5, 0, {
	  { TAKE, 0, 5, 0, 5 }, { RATE, 100, 1, 5, 0 },
	  { TAKE, 100, 5, 0, 0 }, { TAKE, 102, 5, 0, 2 } } },
	{ "clock steps back", 10, 5, 1000, {
	  { TAKE, 1000, 5, 0, 5 }, { TAKE, 500, 5, 0, 0 },
	  { TAKE, 500.2, 5, 0, 2 }, { TAKE, 1000.1, 5, 0, 5 } } },
	{ "burst below 1 is 1", 10, 0.1, 0, {
	  { TAKE, 0, 3, 0, 1 }, { TAKE, 10, 3, 0, 1 } } },
	{ "negative rate is 0", -5, 2, 0, {
	  { TAKE, 0, 2, 0, 2 }, { TAKE, 100, 1, 0, 0 } } },
	{ "NaN rate is 0", NAN, 2, 0, {
	  { TAKE, 0, 2, 0, 2 }, { TAKE, 100, 1, 0, 0 } } },
	{ "NaN time changes nothing", 10, 2, 0, {
	  { TAKE, 0, 2, 0, 2 }, { TAKE, NAN, 1, 0, 0 },
	  { TAKE, 0.1, 1, 0, 1 } } },
	{ "all or nothing", 1, 5, 0, {
	  { TAKE, 0, 3, 0, 3 }, { TAKE_ALL, 0, 3, 0, 0 },
	  { TOKENS, 0, 0, 0, 2 }, { TAKE_ALL, 1, 3, 0, 1 },
	  { TOKENS, 1, 0, 0, 0 } } },
	{ "take 0", 1, 5, 0, {
	  { TAKE, 0, 0, 0, 0 }, { TOKENS, 0, 0, 0, 5 } } },
	{ "infinite burst", 1, INF, 0, {
	  { TAKE, 0, 1e6, 0, 1e6 } } },
};

static void
run_timeline(void **state)
{
	const struct timeline *tl = *state;
	const struct step *s;
	struct bucket	 b;
	double		 got = 0;
	size_t		 i;

	bucket_init(&b, tl->rate, tl->burst, tl->t0);
	for (i = 0; i < STEPS_MAX && tl->steps[i].op != 0; i++) {
		s = &tl->steps[i];
		switch (s->op) {
		case TAKE:
			got = (double)bucket_take(&b, (size_t)s->n, s->t);
			break;
		case TAKE_ALL:
			got = bucket_take_all(&b, (size_t)s->n, s->t);
			break;
		case RATE:
			bucket_set_rate(&b, s->n, s->burst, s->t);
			got = 0;
			break;
		case WAIT:
			got = bucket_wait(&b, s->t);
			break;
		case TOKENS:
			got = (double)bucket_tokens(&b, s->t);
			break;
		}
		if (isinf(s->want) ? got != s->want :
		    fabs(got - s->want) > 1e-6)
			fail_msg("step %zu at t=%g: got %g, want %g", i, s->t,
			    got, s->want);
	}
}

/*
 * an hour at 37.5/s, burst one second's worth (as the drain sets it), taken
 * every 10 ms: the first full bucket plus 37.5/s on average
 */
static void
test_average_rate(void **state)
{
	struct bucket	 b;
	double		 want = 37.5 + 37.5 * 3600;
	size_t		 total = 0;
	int		 i;

	(void)state;
	bucket_init(&b, 37.5, 37.5, 0);
	for (i = 1; i <= 360000; i++)
		total += bucket_take(&b, 1000, i * 0.01);
	if (total < want - 1 || total > want + 1)
		fail_msg("%zu released, want %g", total, want);
}

/* the wait it names is enough, and not more than needed */
static void
test_wait_is_exact(void **state)
{
	struct bucket	 b;
	double		 w, now = 5;
	int		 i;

	(void)state;
	bucket_init(&b, 3, 1, now);
	for (i = 0; i < 1000; i++) {
		assert_int_equal(bucket_take(&b, 1, now), 1);
		w = bucket_wait(&b, now);
		assert_true(w > 0);
		assert_int_equal(bucket_take(&b, 1, now + w * 0.99), 0);
		now += w;
	}
	assert_true(fabs(now - (5 + 1000 / 3.0)) < 1e-3);
}

int
main(void)
{
	static const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_average_rate),
		cmocka_unit_test(test_wait_is_exact),
	};
	struct CMUnitTest tests[nitems(timelines) + nitems(plain)];
	size_t		 i, n = 0;

	for (i = 0; i < nitems(timelines); i++, n++) {
		memset(&tests[n], 0, sizeof(tests[n]));
		tests[n].name = timelines[i].name;
		tests[n].test_func = run_timeline;
		tests[n].initial_state = (void *)&timelines[i];
	}
	for (i = 0; i < nitems(plain); i++, n++)
		tests[n] = plain[i];
	return _cmocka_run_group_tests("bucket", tests, n, NULL, NULL);
}
