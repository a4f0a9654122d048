/*
 * test_governor.c - the governor on pressure traces
 *
 * Most cases are rows of one table: a pressure trace (one sample per
 * second; ABSENT stands for "no sensor present") and what the rate must do
 * on it, exactly or as a property (never above the start, turns at most N
 * times). A second table reloads the parameters between two traces
 * (governor_set_params). The rest check one rule each: bounds, window,
 * cutoff, critical, the timed restart and the parameters.
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

#include "ebb/config.h"
#include "ebb/governor.h"
#include "ebb/util.h"

#define ABSENT		(-1.0)	/* a sample with no sensor present */
#define TRACE_MAX	64
#define ANY		(-1.0)	/* an expected rate not checked */

/* min 1, max 10, window 100 at max, band 0.5..0.8, +1 / x0.5 per tick */
static const struct governor_params test_params = {
	.min_rate = 1,
	.max_rate = 10,
	.window = 100,
	.target_low = 0.5,
	.target_high = 0.8,
	.increase = 1,
	.decrease = 0.5,
	.critical = 1.5,
	.fall = 0.5,
	.restart_hold = 3,
};

struct trace {
	const char	*name;
	double		 p[TRACE_MAX];		/* samples, n of them */
	int		 n;
	double		 (*gen)(int);		/* or samples made by this */
	double		 rate[TRACE_MAX];	/* expected rates, or ANY */
	int		 nrate;			/* 0: rates not checked */
	int		 max_turns;		/* -1: not checked */
	int		 never_up_after;	/* tick; -1: not checked */
};

/* gen_edge - hovering around 1 after a calm start */
static double
gen_edge(int t)
{
	return t < 5 ? 0.1 : (t % 2 == 1 ? 0.95 : 1.05);
}

/*
 * The rates are worked out from governor.c's steps with test_params:
 * slow start x1.5 a tick, at most +1 (1.5, 2.25, 3.25, 4.25 ...); then
 * x e^(0.5 (0.8 - (s + 4 ds/dt))) within 0.5 .. 1.25 and at most +1 (the
 * trend read GOVERNOR_LEAD = 4 s ahead: a jump of s from 0.1 to 0.6 or more
 * in one tick is read as heading far past the target, x0.5); a stop at
 * s >= 1 and a restart at half the rate it had, after 3 s calm below 0.8.
 */
static const struct trace traces[] = {
	{ .name = "trace: slow start from idle, not a burst",
	  .p = { 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1 },
	  .n = 12,
	  .rate = { 1.5, 2.25, 3.25, 4.25, 5.25, 6.25, 7.25, 8.25, 9.25, 10,
	    10, 10 }, .nrate = 12,
	  .max_turns = -1, .never_up_after = -1 },
	{ .name = "trace: a spike stops releases in one tick",
	  .p = { 0.1, 0.1, 0.1, 1.2 }, .n = 4,
	  .rate = { 1.5, 2.25, 3.25, 0 }, .nrate = 4,
	  .max_turns = -1, .never_up_after = -1 },
	{ .name = "trace: at target_high the rate holds",
	  /* the jump to 0.8: x0.5; then no trend: x1 */
	  .p = { 0.1, 0.1, 0.1, 0.8, 0.8, 0.8 }, .n = 6,
	  .rate = { 1.5, 2.25, 3.25, 1.625, 1.625, 1.625 }, .nrate = 6,
	  .max_turns = -1, .never_up_after = -1 },
	{ .name = "trace: above target_high the rate eases down",
	  /* the jump: x0.5; then x e^-0.05 a tick */
	  .p = { 0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.9 }, .n = 7,
	  .rate = { 1.5, 2.25, 3.25, 1.625, 1.545747814814, 1.470360804308,
	    1.398650461691 }, .nrate = 7,
	  .max_turns = -1, .never_up_after = -1 },
	{ .name = "trace: below target_high, past slow start, it grows gently",
	  /* the jump: x0.5; then x e^0.1 a tick */
	  .p = { 0.1, 0.1, 0.1, 0.6, 0.6, 0.6 }, .n = 6,
	  .rate = { 1.5, 2.25, 3.25, 1.625, 1.795902741873, 1.98477948201 },
	  .nrate = 6, .max_turns = -1, .never_up_after = -1 },
	{ .name = "trace: far below the target: x1.25, at most +1",
	  /* s .6 .3 .15 .075 after the jump (x0.5): x1.25 a tick, the
	     falling trend only adding to it */
	  .p = { 0.1, 0.1, 0.1, 0.6, 0.0, 0.0, 0.0 }, .n = 7,
	  .rate = { 1.5, 2.25, 3.25, 1.625, 2.03125, 2.5390625, 3.173828125 },
	  .nrate = 7,
	  .max_turns = -1, .never_up_after = -1 },
	{ .name = "trace: nearing a limit: it eases while s rises and stops "
	    "the tick it reaches the limit",
	  /* x0.5, x e^-0.275 (s .75 heading for 1.35), then min_rate */
	  .p = { 0.1, 0.1, 0.1, 0.6, 0.75, 0.85, 0.95, 1.0 }, .n = 8,
	  .rate = { 1.5, 2.25, 3.25, 1.625, 1.234304700241, 1, 1, 0 },
	  .nrate = 8, .max_turns = 1, .never_up_after = 2 },
	{ .name = "trace: a steady rise is read ahead: the rate turns down "
	    "before s reaches target_high",
	  /* s .55 .6 .65 .7 .75, +.05/s: read as .75 .8 .85 .9 .95; without
	     the lead the rate would grow to 6.38 */
	  .p = { 0.1, 0.1, 0.1, 0.5, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75 },
	  .n = 10,
	  .rate = { 1.5, 2.25, 3.25, 1.696648774473, 1.971224644066,
	    2.021126433511, 2.021126433511, 1.971224644066, 1.875086883737,
	    1.739599642687 }, .nrate = 10,
	  .max_turns = -1, .never_up_after = 6 },
	{ .name = "trace: recovery after a stop from min_rate",
	  /* s: 1.2 .65 .375 .2375 .16875 ...: calm from t=1, restart t=4 */
	  .p = { 1.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1 }, .n = 9,
	  .rate = { 0, 0, 0, 0, 1, 1.25, 1.5625, 1.953125, 2.44140625 },
	  .nrate = 9, .max_turns = -1, .never_up_after = -1 },
	{ .name = "trace: a restart resumes at half the rate it stopped at",
	  .p = { 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 1.2, 0.1,
	    0.1, 0.1, 0.1, 0.1 }, .n = 16,
	  .rate = { 1.5, 2.25, 3.25, 4.25, 5.25, 6.25, 7.25, 8.25, 9.25, 10, 0,
	    0, 0, 0, 5, 6 }, .nrate = 16,
	  .max_turns = -1, .never_up_after = -1 },
	{ .name = "trace: pressure hovering at 1 keeps releases stopped",
	  .gen = gen_edge, .n = 40,
	  .rate = { 1.5, 2.25, 3.25, 4.25, 5.25, 2.625, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0 },
	  .nrate = 40, .max_turns = 1, .never_up_after = 4 },
	{ .name = "trace: no sensor present holds min_rate",
	  .p = { 0.1, 0.1, 0.1, 0.1, 0.1, ABSENT, ABSENT, ABSENT, 0.1, 0.1 },
	  .n = 10,
	  .rate = { 1.5, 2.25, 3.25, 4.25, 5.25, 1, 1, 1, 1.5, 2.25 },
	  .nrate = 10, .max_turns = -1, .never_up_after = -1 },
	{ .name = "trace: no sensor present after a stop stays stopped",
	  .p = { 1.2, ABSENT, ABSENT, ABSENT, ABSENT, ABSENT, 0.1, 0.1, 0.1,
	    0.1, 0.1 }, .n = 11,
	  /* s falls only on samples: .65 at t=6 starts the wait */
	  .rate = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1.25 }, .nrate = 11,
	  .max_turns = -1, .never_up_after = -1 },
};

/* run_trace - one row of the table */
static void
run_trace(void **state)
{
	const struct trace *tr = *state;
	struct governor	*g = governor_new(&test_params);
	struct budget	 b;
	double		 p, prev = -1, dir = 0, d;
	int		 t, turns = 0;

	for (t = 0; t < tr->n; t++) {
		p = tr->gen != NULL ? tr->gen(t) : tr->p[t];
		governor_tick(g, p == ABSENT ? 0 : p, p != ABSENT, t, &b);
		if (t < tr->nrate && tr->rate[t] != ANY) {
			if (fabs(b.rate - tr->rate[t]) > 1e-8)
				fail_msg("%s: tick %d: rate %g, want %g",
				    tr->name, t, b.rate, tr->rate[t]);
		}
		assert_int_equal(b.stopped, b.rate == 0);
		assert_int_equal(b.known, p != ABSENT);
		if (prev >= 0 && (d = b.rate - prev) != 0) {
			if (dir != 0 && (d > 0) != (dir > 0))
				turns++;
			dir = d;
			if (tr->never_up_after >= 0 &&
			    t > tr->never_up_after && d > 0)
				fail_msg("%s: tick %d: rate rose %g -> %g",
				    tr->name, t, prev, b.rate);
		}
		prev = b.rate;
	}
	if (tr->max_turns >= 0 && turns > tr->max_turns)
		fail_msg("%s: the rate turned %d times", tr->name, turns);
	governor_free(&g);
	assert_null(g);
}

/* a deterministic pseudo-random sequence (an LCG), no libc state */
static double
lcg(uint32_t *seed)
{
	*seed = *seed * 1664525u + 1013904223u;
	return (double)(*seed >> 8) / (double)(1u << 24);
}

static void
test_bounds(void **state)
{
	struct governor	*g = governor_new(&test_params);
	struct budget	 b;
	uint32_t	 seed = 42;
	double		 p;
	int		 t, stops = 0;

	for (t = 0; t < 5000; t++) {
		p = lcg(&seed) * 1.3;
		governor_tick(g, p, lcg(&seed) > 0.05, t, &b);
		if (b.stopped) {
			stops++;
			assert_true(b.rate == 0);
			assert_int_equal(b.window, 0);
		} else {
			assert_true(b.rate >= test_params.min_rate);
			assert_true(b.rate <= test_params.max_rate);
			assert_true(b.window >= 1);
			assert_true(b.window <= test_params.window);
		}
		assert_true(b.cutoff >= 0 && b.cutoff <= 1);
		assert_true(b.pressure >= 0);
	}
	assert_true(stops > 0);
	governor_free(&g);
}

static void
test_window_scales(void **state)
{
	struct governor	*g = governor_new(&test_params);
	struct budget	 b;
	int		 t;

	/* no delivery seen yet: a latency of GOVERNOR_LATENCY (1 s), x2 */
	for (t = 0; t < 12; t++) {
		governor_tick(g, 0.1, 1, t, &b);
		assert_int_equal(b.window, (long)ceil(b.rate * 1.0 * 2));
	}
	assert_int_equal(b.window, 20);		/* rate 10 */
	/* 4 delivered, 2 s together: 0.5 s each: the window is the rate */
	governor_observe(g, 4, 2.0, 3, t);
	governor_tick(g, 0.1, 1, t++, &b);
	assert_int_equal(b.window, 10);
	governor_tick(g, 1.0, 1, t++, &b);	/* stopped */
	assert_int_equal(b.window, 0);
	governor_free(&g);

	/* at most [drain] window; at least 1 */
	g = governor_new(&(struct governor_params){ .min_rate = 0.01,
	    .max_rate = 100, .window = 10, .target_low = 0.5,
	    .target_high = 0.8, .increase = 100, .decrease = 0.5 });
	governor_tick(g, 0.6, 1, 0, &b);	/* tiny rate: still 1 */
	assert_int_equal(b.window, 1);
	for (t = 1; t < 80; t++)		/* x1.25 a tick from 0.01 */
		governor_tick(g, 0.1, 1, t, &b);
	assert_true(b.rate == 100);
	assert_int_equal(b.window, 10);
	governor_free(&g);
}

/*
 * a full window that leaves more slowly than it is released: the rate
 * comes down to 1.25 times what leaves, whatever the sensors say; a
 * window that is not full (nothing more to release) changes nothing
 */
static void
test_bottleneck(void **state)
{
	struct governor	*g = governor_new(&test_params);
	struct budget	 b;
	int		 t;

	for (t = 0; t < 12; t++)
		governor_tick(g, 0.1, 1, t, &b);
	assert_true(b.rate == 10);
	/* a rate needs two looks: the first only starts the clock */
	governor_observe(g, 0, 0, 20, t);
	governor_tick(g, 0.1, 1, t++, &b);
	assert_true(b.rate == 10);
	governor_observe(g, 4, 4, 20, t);	/* 4/s leave, 20 in flight */
	governor_tick(g, 0.1, 1, t++, &b);
	assert_true(fabs(b.rate - 5) < 1e-9);	/* 4 x 1.25 */
	governor_free(&g);

	g = governor_new(&test_params);
	for (t = 0; t < 12; t++)
		governor_tick(g, 0.1, 1, t, &b);
	governor_observe(g, 0, 0, 3, t);
	governor_tick(g, 0.1, 1, t++, &b);
	governor_observe(g, 1, 1, 3, t);	/* slow, but the window is not
						   full: nothing to release */
	governor_tick(g, 0.1, 1, t++, &b);
	assert_true(b.rate == 10);
	governor_free(&g);
}

/*
 * an idle drain's rate follows what goes in (x1.5, at least min_rate):
 * a quiet day does not leave the milter's gate open at max_rate; with
 * mail to release the cap is off and slow start grows it again
 */
static void
test_app_limited(void **state)
{
	struct governor	*g = governor_new(&test_params);
	struct budget	 b;
	int		 t;

	(void)state;
	for (t = 0; t < 12; t++)
		governor_tick(g, 0.1, 1, t, &b);
	assert_true(b.rate == 10);
	/* the first look only starts the clock: no cap yet */
	governor_used(g, 0, 1, t);
	governor_tick(g, 0.1, 1, t++, &b);
	assert_true(b.rate == 10);
	governor_used(g, 2, 1, t);		/* 2/s went in, idle */
	governor_tick(g, 0.1, 1, t++, &b);
	assert_true(fabs(b.rate - 3) < 1e-9);
	assert_true(fabs(b.admit_rate - 3) < 1e-9);
	governor_used(g, 0, 1, t);		/* nothing: min_rate */
	governor_tick(g, 0.1, 1, t++, &b);
	assert_true(b.rate == test_params.min_rate);
	governor_used(g, 1, 0, t);		/* mail to release again */
	governor_tick(g, 0.1, 1, t++, &b);
	assert_true(b.rate > test_params.min_rate);
	governor_used(g, 8, 0, t);		/* a busy drain: no cap */
	governor_tick(g, 0.1, 1, t++, &b);
	governor_used(g, 0, 0, t);
	governor_tick(g, 0.1, 1, t++, &b);
	assert_true(b.rate > 3);
	governor_free(&g);

	/* a stop is not lifted by use */
	g = governor_new(&test_params);
	governor_used(g, 0, 1, 0);
	governor_tick(g, 2, 1, 0, &b);
	governor_used(g, 50, 1, 1);
	governor_tick(g, 2, 1, 1, &b);
	assert_true(b.rate == 0 && b.stopped);
	governor_free(&g);
}

/*
 * the rate never moves by more than the factors allow in one tick: no
 * burst from any trace
 */
static void
test_steps_bounded(void **state)
{
	struct governor	*g = governor_new(&test_params);
	struct budget	 b;
	uint32_t	 seed = 7;
	double		 prev = test_params.min_rate, p;
	int		 t;

	for (t = 0; t < 5000; t++) {
		p = lcg(&seed) * 0.99;
		governor_tick(g, p, 1, t, &b);
		assert_true(b.rate <= prev * 1.5 + 1e-9);
		assert_true(b.rate <= prev + test_params.increase + 1e-9);
		assert_true(b.rate >= prev * test_params.decrease - 1e-9 ||
		    b.rate == test_params.min_rate);
		prev = b.rate;
	}
	governor_free(&g);
}

static void
test_cutoff(void **state)
{
	static const struct {
		double	 p, cutoff;
	} rows[] = {
		{ 0.0, 0 }, { 0.3, 0 }, { 0.5, 0 }, { 0.6, 0.2 },
		{ 0.75, 0.5 }, { 0.9, 0.8 }, { 1.0, 1 }, { 4.0, 1 },
	};
	struct governor	*g;
	struct budget	 b;
	size_t		 i;

	for (i = 0; i < nitems(rows); i++) {
		g = governor_new(&test_params);
		governor_tick(g, rows[i].p, 1, 0, &b);
		if (fabs(b.cutoff - rows[i].cutoff) > 1e-9)
			fail_msg("p %g: cutoff %g, want %g", rows[i].p,
			    b.cutoff, rows[i].cutoff);
		governor_free(&g);
	}
}

static void
test_critical(void **state)
{
	struct governor	*g = governor_new(&test_params);
	struct budget	 b;

	governor_tick(g, 1.2, 1, 0, &b);
	assert_true(b.stopped);
	assert_false(b.critical);
	governor_tick(g, 1.5, 1, 1, &b);
	assert_true(b.critical);
	assert_true(b.cutoff == 1);
	governor_tick(g, 2.5, 1, 2, &b);
	assert_true(b.critical);
	governor_tick(g, 0.5, 1, 3, &b);	/* s = 1.5: the fall smoothed */
	assert_true(b.critical);
	governor_tick(g, 0.5, 1, 4, &b);	/* s = 1.0 */
	assert_false(b.critical);
	assert_true(b.stopped);
	governor_free(&g);
}

static void
test_restart_timed(void **state)
{
	struct governor	*g = governor_new(&test_params);
	struct budget	 b;

	/* samples 2 s apart: the 3 s wait ends on the third calm one */
	governor_tick(g, 1.2, 1, 100, &b);
	governor_tick(g, 0.1, 1, 102, &b);	/* s .65: calm from 102 */
	assert_true(b.stopped);
	governor_tick(g, 0.1, 1, 104, &b);
	assert_true(b.stopped);
	governor_tick(g, 0.1, 1, 106, &b);
	assert_false(b.stopped);
	assert_true(b.rate == test_params.min_rate);
	governor_free(&g);
}

static void
test_restart_wait_resets(void **state)
{
	struct governor	*g = governor_new(&test_params);
	struct budget	 b;
	int		 t = 0;

	governor_tick(g, 1.2, 1, t++, &b);
	governor_tick(g, 0.1, 1, t++, &b);	/* calm from t=1 */
	governor_tick(g, 0.1, 1, t++, &b);
	governor_tick(g, 0.85, 1, t++, &b);	/* not calm: wait again */
	assert_true(b.stopped);
	governor_tick(g, 0.1, 1, t++, &b);	/* s .475: calm from t=4 */
	governor_tick(g, 0.1, 1, t++, &b);
	governor_tick(g, 0.1, 1, t++, &b);
	assert_true(b.stopped);
	governor_tick(g, 0.1, 1, t++, &b);	/* t=7: 3 s calm */
	assert_false(b.stopped);
	assert_true(b.rate == 1);
	governor_free(&g);
}

static void
test_clock_backwards(void **state)
{
	struct governor	*g = governor_new(&test_params);
	struct budget	 b;

	governor_tick(g, 1.2, 1, 1000, &b);
	governor_tick(g, 0.1, 1, 1001, &b);	/* calm from 1001 */
	governor_tick(g, 0.1, 1, 10, &b);	/* clock stepped back */
	assert_true(b.stopped);
	governor_tick(g, 0.1, 1, 12, &b);
	assert_true(b.stopped);
	governor_tick(g, 0.1, 1, 13, &b);
	assert_false(b.stopped);
	governor_free(&g);
}

static void
test_nan_is_unknown(void **state)
{
	struct governor	*g = governor_new(&test_params);
	struct budget	 b;

	governor_tick(g, 0.1, 1, 0, &b);
	governor_tick(g, NAN, 1, 1, &b);
	assert_false(b.known);
	assert_true(b.rate == test_params.min_rate);
	assert_true(b.pressure == 0.1);		/* kept, not NaN */
	governor_tick(g, -3, 1, 2, &b);		/* below 0 counts as 0 */
	assert_true(b.known);
	assert_true(b.rate == 1.5);		/* slow start from min_rate */
	governor_free(&g);
}

static void
test_params_from_config(void **state)
{
	struct config		 cfg;
	struct governor_params	 p;

	memset(&cfg, 0, sizeof(cfg));
	cfg.min_rate = 2;
	cfg.max_rate = 50;
	cfg.window = 300;
	cfg.target_low = 0.6;
	cfg.target_high = 0.85;
	cfg.increase = 5;
	cfg.decrease = 0.5;
	cfg.critical = 1.5;
	cfg.interval = 2;
	governor_params_from_config(&cfg, &p);
	assert_true(p.min_rate == 2 && p.max_rate == 50);
	assert_int_equal(p.window, 300);
	assert_true(p.target_low == 0.6 && p.target_high == 0.85);
	assert_true(p.increase == 5 && p.decrease == 0.5);
	assert_true(p.critical == 1.5);
	assert_true(p.fall == GOVERNOR_FALL);
	assert_int_equal(p.restart_hold, GOVERNOR_RESTART_TICKS * 2);
}

static void
test_params_clamped(void **state)
{
	struct governor_params	 p = test_params;
	struct governor		*g;
	struct budget		 b;
	int			 t;

	p.min_rate = 20;		/* above max_rate */
	p.decrease = 3;			/* would grow the rate */
	p.fall = 0;			/* would never fall */
	g = governor_new(&p);
	governor_tick(g, 0.1, 1, 0, &b);
	assert_true(b.rate == 10);
	governor_tick(g, 0.9, 1, 1, &b);
	assert_true(b.rate <= 10);
	for (t = 2; t < 10; t++)
		governor_tick(g, 0.1, 1, t, &b);
	assert_true(b.pressure < 0.2);	/* it did fall */
	governor_free(&g);
	governor_free(&g);		/* NULL is fine */
}

/*
 * a reload (governor_set_params) between two traces: the rates after it.
 * A governor made afresh instead would start again at min_rate with no
 * memory of the pressure or of a stop: each row's rates tell them apart.
 */
struct reload {
	const char	*name;
	double		 before[TRACE_MAX];	/* samples before the reload */
	int		 nbefore;
	double		 min_rate, max_rate;	/* the new params */
	double		 after[TRACE_MAX];	/* samples after it */
	double		 rate[TRACE_MAX];	/* the rates they give */
	int		 nafter;
};

static const struct reload reloads[] = {
	{ "reload keeps the rate",
	  { 0.1, 0.1, 0.1, 0.1, 0.1 }, 5, 1, 10,
	  { 0.1, 0.1 }, { 6.25, 7.25 }, 2 },
	{ "reload: a lower max_rate takes the rate down to it",
	  /* 8.25, slow start going on: x1.5 capped at 5 */
	  { 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1 }, 7, 1, 5,
	  { 0.1, 0.1 }, { 5, 5 }, 2 },
	{ "reload: a higher min_rate lifts the rate to it",
	  /* the jump: x0.5 but no lower than 5; then x e^0.05 */
	  { 0.1, 0.1 }, 2, 5, 10,
	  { 0.7, 0.7 }, { 5, 5.256355481880121 }, 2 },
	{ "reload: min_rate above max_rate is clamped",
	  { 0.1, 0.1 }, 2, 20, 10,
	  { 0.7 }, { 10 }, 1 },
	{ "reload: a stop outlasts it and waits for calm",
	  /* calm from t=1, restart at t=4, as without the reload */
	  { 1.2 }, 1, 1, 10,
	  { 0.1, 0.1, 0.1, 0.1, 0.1 }, { 0, 0, 0, 1, 1.25 }, 5 },
	{ "reload keeps the smoothed pressure",
	  /* 5.25, the jump x0.5, x e^-0.05; s .9 -> .8 (-.1/s): x e^0.2;
	     -> .75 (-.05/s): x e^0.125 */
	  { 0.1, 0.1, 0.1, 0.1, 0.1, 0.9, 0.9 }, 7, 1, 10,
	  { 0.7, 0.7 }, { 3.049814887161743, 3.4558930215275074 }, 2 },
};

/* run_reload - one row of reloads */
static void
run_reload(void **state)
{
	const struct reload *r = *state;
	struct governor_params p = test_params;
	struct governor	*g = governor_new(&test_params);
	struct budget	 b;
	int		 t = 0, i;

	for (i = 0; i < r->nbefore; i++)
		governor_tick(g, r->before[i], 1, t++, &b);
	p.min_rate = r->min_rate;
	p.max_rate = r->max_rate;
	governor_set_params(g, &p);
	for (i = 0; i < r->nafter; i++) {
		governor_tick(g, r->after[i], 1, t++, &b);
		if (fabs(b.rate - r->rate[i]) > 1e-8)
			fail_msg("%s: tick %d after: rate %g, want %g",
			    r->name, i, b.rate, r->rate[i]);
		assert_int_equal(b.stopped, b.rate == 0);
	}
	governor_free(&g);
}

int
main(void)
{
	static const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_window_scales),
		cmocka_unit_test(test_bottleneck),
		cmocka_unit_test(test_app_limited),
		cmocka_unit_test(test_steps_bounded),
		cmocka_unit_test(test_cutoff),
		cmocka_unit_test(test_critical),
		cmocka_unit_test(test_restart_timed),
		cmocka_unit_test(test_restart_wait_resets),
		cmocka_unit_test(test_clock_backwards),
		cmocka_unit_test(test_nan_is_unknown),
		cmocka_unit_test(test_params_from_config),
		cmocka_unit_test(test_params_clamped),
	};
	struct CMUnitTest tests[nitems(traces) + nitems(reloads) +
	    nitems(plain)];
	size_t		 i, n = 0;

	for (i = 0; i < nitems(traces); i++, n++) {
		memset(&tests[n], 0, sizeof(tests[n]));
		tests[n].name = traces[i].name;
		tests[n].test_func = run_trace;
		tests[n].initial_state = (void *)&traces[i];
	}
	for (i = 0; i < nitems(reloads); i++, n++) {
		memset(&tests[n], 0, sizeof(tests[n]));
		tests[n].name = reloads[i].name;
		tests[n].test_func = run_reload;
		tests[n].initial_state = (void *)&reloads[i];
	}
	for (i = 0; i < nitems(plain); i++)
		tests[n++] = plain[i];
	return _cmocka_run_group_tests("governor", tests, nitems(tests),
	    NULL, NULL);
}
