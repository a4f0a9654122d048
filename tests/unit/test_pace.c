/*
 * test_pace.c - the pacing loop: when to sample, what a sample changes,
 * the budget after pause and cap, and what a reload keeps
 *
 * Time is passed in: one sample per second of a made-up monotonic clock,
 * no sleeps. Each concern is a table of cases run row by row. The reload
 * table also runs every row the old way, a pacer made afresh as ebbd's
 * SIGHUP used to, and checks that the rates then differ, so the table
 * would catch that behaviour coming back. The release step is checked on
 * an empty drain, which touches no MTA: what matters is the budget it is
 * handed.
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

#include "ebb/admit.h"
#include "ebb/config.h"
#include "ebb/drain.h"
#include "ebb/governor.h"
#include "ebb/pace.h"
#include "ebb/sensor.h"
#include "ebb/util.h"

#define ABSENT		(-1.0)	/* a sample with no sensor present */
#define N_MAX		16

/* as in test_governor.c: min 1, max 10, band 0.5..0.8, +1 / x0.5 */
static const struct pace_params test_params = {
	.gov = {
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
	},
	.interval = 1,
};

/* sample - a sensor sample of pressure p, or of no sensor at all */
static struct sensor_sample
sample(double p)
{
	struct sensor_sample s;

	memset(&s, 0, sizeof(s));
	if (p != ABSENT) {
		s.pressure = p;
		s.npresent = 1;
	}
	return s;
}

/* feed - samples p[0..n) at mono t, t+1, ...; returns the next t */
static double
feed(struct pace *pc, const double *p, int n, double t)
{
	struct sensor_sample s;
	int		 i;

	for (i = 0; i < n; i++) {
		s = sample(p[i]);
		pace_sample(pc, &s, t++);
	}
	return t;
}

/* rate - the rate pace_budget grants now */
static double
rate(const struct pace *pc)
{
	struct budget	 b;

	pace_budget(pc, &b);
	return b.rate;
}

/*
 * when a sample is due: samples taken at the times given (interval
 * seconds apart by the params), then an optional reload to a new
 * interval, then where the next one falls and pace_due around it
 */
struct due {
	const char	*name;
	double		 interval;
	double		 taken[N_MAX];
	int		 ntaken;
	double		 reload;	/* a new interval; 0: no reload */
	double		 next;		/* pace_next_sample */
	double		 at[4];		/* pace_due at these times ... */
	int		 due[4];	/* ... says this */
	int		 nat;
};

static const struct due dues[] = {
	{ "due: at once before any sample", 1, { 0 }, 0, 0, 0,
	  { -5, 0, 1e6 }, { 1, 1, 1 }, 3 },
	{ "due: one interval after the first sample", 1, { 10 }, 1, 0, 11,
	  { 10, 10.99, 11, 12 }, { 0, 0, 1, 1 }, 4 },
	{ "due: interval 5", 5, { 10 }, 1, 0, 15,
	  { 14.9, 15 }, { 0, 1 }, 2 },
	{ "due: a step a little late keeps the cadence", 1,
	  { 10, 11.2, 12.24, 13.01 }, 4, 0, 14,
	  { 13.99, 14 }, { 0, 1 }, 2 },
	{ "due: more than an interval late starts it again", 1,
	  { 10, 13.5 }, 2, 0, 14.5, { 14.4, 14.5 }, { 0, 1 }, 2 },
	{ "due: an early sample starts it again", 2, { 10, 11 }, 2, 0, 13,
	  { 12.9, 13 }, { 0, 1 }, 2 },
	{ "due: interval 0 counts as one second", 0, { 5 }, 1, 0, 6,
	  { 5.5, 6 }, { 0, 1 }, 2 },
	{ "due: a reload to a longer interval moves the next sample", 1,
	  { 10 }, 1, 5, 15, { 11, 14.9, 15 }, { 0, 0, 1 }, 3 },
	{ "due: a reload to a shorter interval moves it closer", 5,
	  { 10 }, 1, 1, 11, { 10.5, 11 }, { 0, 1 }, 2 },
};

static void
run_due(void **state)
{
	const struct due *r = *state;
	struct pace_params pp = test_params;
	struct sensor_sample s = sample(0.1);
	struct pace	*pc;
	int		 i;

	pp.interval = r->interval;
	pc = pace_new(&pp);
	for (i = 0; i < r->ntaken; i++)
		pace_sample(pc, &s, r->taken[i]);
	if (r->reload > 0) {
		pp.interval = r->reload;
		pace_set_params(pc, &pp);
	}
	if (fabs(pace_next_sample(pc) - r->next) > 1e-9)
		fail_msg("%s: next sample %g, want %g", r->name,
		    pace_next_sample(pc), r->next);
	for (i = 0; i < r->nat; i++)
		if (pace_due(pc, r->at[i]) != r->due[i])
			fail_msg("%s: due at %g: %d, want %d", r->name,
			    r->at[i], !r->due[i], r->due[i]);
	pace_free(&pc);
	assert_null(pc);
}

/* what each sample of a trace (one a second) says changed */
struct change {
	const char	*name;
	double		 p[N_MAX];
	int		 want[N_MAX];
	int		 n;
};

static const struct change changes[] = {
	{ "change: calm says nothing",
	  { 0.1, 0.1, 0.1 }, { 0, 0, 0 }, 3 },
	{ "change: a limit stops, calm resumes after the wait",
	  /* s .65 at t=2 starts the 3 s wait: the restart is at t=5 */
	  { 0.1, 1.2, 0.1, 0.1, 0.1, 0.1, 0.1 },
	  { 0, PACE_STOPPED, 0, 0, 0, PACE_RESUMED, 0 }, 7 },
	{ "change: critical says so, not the stop with it",
	  { 0.1, 2.0, 2.0 }, { 0, PACE_CRITICAL, 0 }, 3 },
	{ "change: critical passes into a stop",
	  /* s 2 -> 1.25: below critical, still above a limit */
	  { 2.0, 0.5 }, { PACE_CRITICAL, PACE_CALMER | PACE_STOPPED }, 2 },
	{ "change: no sensor says nothing",
	  { ABSENT, ABSENT, 0.1, ABSENT }, { 0, 0, 0, 0 }, 4 },
	{ "change: no sensor while stopped stays stopped",
	  { 1.2, ABSENT, ABSENT, ABSENT, ABSENT },
	  { PACE_STOPPED, 0, 0, 0, 0 }, 5 },
};

static void
run_change(void **state)
{
	const struct change *r = *state;
	struct sensor_sample s;
	struct pace	*pc = pace_new(&test_params);
	int		 i, got;

	for (i = 0; i < r->n; i++) {
		s = sample(r->p[i]);
		if ((got = pace_sample(pc, &s, i)) != r->want[i])
			fail_msg("%s: sample %d: changed %#x, want %#x",
			    r->name, i, got, r->want[i]);
	}
	pace_free(&pc);
}

/* the budget after the governor, the operator's pause and the cap */
struct cap {
	const char	*name;
	double		 p[N_MAX];	/* the governor's trace */
	int		 n;
	int		 paused;
	double		 cap;		/* pace_set_cap */
	double		 rate;		/* pace_budget's rate */
	double		 gov_rate;	/* pace_governor_budget's */
	double		 cap_r;		/* pace_cap */
};

static const struct cap caps[] = {
	{ "budget: nothing before the first sample", { 0 }, 0, 0, 0,
	  0, 0, 0 },
	{ "budget: no pause, no cap: the governor's rate",
	  { 0.1, 0.1, 0.1 }, 3, 0, 0, 3.25, 3.25, 0 },
	{ "budget: a cap above the rate changes nothing",
	  { 0.1, 0.1, 0.1 }, 3, 0, 8, 3.25, 3.25, 8 },
	{ "budget: a cap below the rate caps it",
	  { 0.1, 0.1, 0.1 }, 3, 0, 2.5, 2.5, 3.25, 2.5 },
	{ "budget: paused releases nothing",
	  { 0.1, 0.1, 0.1 }, 3, 1, 0, 0, 3.25, 0 },
	{ "budget: paused with a cap releases nothing",
	  { 0.1, 0.1, 0.1 }, 3, 1, 2, 0, 3.25, 2 },
	{ "budget: a cap of 0 or less is no cap",
	  { 0.1, 0.1, 0.1 }, 3, 0, -3, 3.25, 3.25, 0 },
	{ "budget: a NaN cap is no cap",
	  { 0.1, 0.1, 0.1 }, 3, 0, NAN, 3.25, 3.25, 0 },
	{ "budget: a cap does not lift a stop",
	  { 0.1, 1.2 }, 2, 0, 5, 0, 0, 5 },
};

static void
run_cap(void **state)
{
	const struct cap *r = *state;
	struct pace	*pc = pace_new(&test_params);
	struct budget	 b, g;

	feed(pc, r->p, r->n, 0);
	pace_pause(pc, r->paused);
	pace_set_cap(pc, r->cap);
	pace_budget(pc, &b);
	pace_governor_budget(pc, &g);
	if (fabs(b.rate - r->rate) > 1e-9 || fabs(g.rate - r->gov_rate) > 1e-9)
		fail_msg("%s: rate %g, governor's %g; want %g, %g", r->name,
		    b.rate, g.rate, r->rate, r->gov_rate);
	assert_true(pace_cap(pc) == r->cap_r);
	assert_int_equal(pace_paused(pc), r->paused);
	/* the rest of the budget is the governor's, untouched */
	assert_int_equal(b.window, g.window);
	assert_true(b.pressure == g.pressure && b.cutoff == g.cutoff);
	assert_int_equal(b.stopped, g.stopped);
	assert_int_equal(b.critical, g.critical);
	pace_free(&pc);
}

/*
 * a SIGHUP between two traces: pace_set_params with params whose rates
 * are min_rate..max_rate; the rates pace_budget grants after it. Every row
 * also runs with the pacer made afresh (the old reload) and must then give
 * other rates, so the row would fail against that.
 */
struct reload {
	const char	*name;
	double		 before[N_MAX];
	int		 nbefore;
	double		 min_rate, max_rate;
	double		 after[N_MAX];
	double		 rate[N_MAX];
	int		 nafter;
};

static const struct reload reloads[] = {
	{ "reload: the rate goes on from where it was",
	  { 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1 }, 7, 1, 10,
	  /* slow start +1 a tick; the jump to .7 read 4 s ahead: x0.5;
	     then x e^0.05 */
	  { 0.1, 0.7, 0.7 }, { 8.25, 4.125, 4.3364932725511 }, 3 },
	{ "reload: a stop keeps its wait for calm",
	  /* t=1 stops; s .65 at t=2 starts the wait; restart at t=5 */
	  { 0.1, 1.2 }, 2, 1, 10,
	  { 0.1, 0.1, 0.1, 0.1, 0.1 }, { 0, 0, 0, 1, 1.25 }, 5 },
	{ "reload: the smoothed pressure holds the rate",
	  /* 5.25, the jump x0.5, x e^-0.05; s .9 -> .8 (-.1/s): x e^0.2;
	     -> .75 (-.05/s): x e^0.125 */
	  { 0.1, 0.1, 0.1, 0.1, 0.1, 0.9, 0.9 }, 7, 1, 10,
	  { 0.7, 0.7 }, { 3.049814887161743, 3.4558930215275074 }, 2 },
	{ "reload: a lower max_rate takes the rate down to it, not to min",
	  /* 8.25, slow start going on: x1.5 capped at 5 */
	  { 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1 }, 7, 1, 5,
	  { 0.1, 0.1 }, { 5, 5 }, 2 },
};

/* reload_rates - run r, reloading by pace_set_params or afresh */
static void
reload_rates(const struct reload *r, int afresh, double *rates)
{
	struct pace_params pp = test_params;
	struct pace	*pc = pace_new(&test_params);
	double		 t;
	int		 i;

	t = feed(pc, r->before, r->nbefore, 0);
	pace_pause(pc, 1);
	pace_set_cap(pc, 7.5);
	pp.gov.min_rate = r->min_rate;
	pp.gov.max_rate = r->max_rate;
	if (afresh) {
		pace_free(&pc);
		pc = pace_new(&pp);
	} else
		pace_set_params(pc, &pp);
	/* the operator's pause and cap outlast a reload */
	assert_true(pace_paused(pc) == !afresh);
	assert_true(pace_cap(pc) == (afresh ? 0 : 7.5));
	pace_pause(pc, 0);
	pace_set_cap(pc, 0);
	for (i = 0; i < r->nafter; i++) {
		t = feed(pc, &r->after[i], 1, t);
		rates[i] = rate(pc);
	}
	pace_free(&pc);
}

static void
run_reload(void **state)
{
	const struct reload *r = *state;
	double		 kept[N_MAX], afresh[N_MAX];
	int		 i, differ = 0;

	reload_rates(r, 0, kept);
	reload_rates(r, 1, afresh);
	for (i = 0; i < r->nafter; i++) {
		if (fabs(kept[i] - r->rate[i]) > 1e-9)
			fail_msg("%s: sample %d after: rate %g, want %g",
			    r->name, i, kept[i], r->rate[i]);
		if (fabs(afresh[i] - r->rate[i]) > 1e-9)
			differ = 1;
	}
	if (!differ)
		fail_msg("%s: a pacer made afresh gives the same rates: "
		    "the row proves nothing", r->name);
}

/* the rate near its value: a long calm run, SIGHUP, one more sample */
static void
test_reload_not_min_rate(void **state)
{
	struct pace_params pp = test_params;
	struct sensor_sample s = sample(0.1);
	struct pace	*pc = pace_new(&test_params);
	int		 t;

	for (t = 0; t < 20; t++)
		pace_sample(pc, &s, t);
	assert_true(rate(pc) == 10);
	pp.gov.increase = 2;		/* some reload */
	pace_set_params(pc, &pp);
	assert_true(rate(pc) == 10);	/* the budget is kept as it was */
	pace_sample(pc, &s, t++);	/* still calm: it stays at max */
	assert_true(rate(pc) == 10);
	assert_true(rate(pc) != pp.gov.min_rate);
	pace_free(&pc);
}

/*
 * pace_step hands the drain the budget after pause and cap: an empty
 * drain (not started, nothing parked) releases nothing and touches no MTA,
 * but says which rate and window it was given
 */
static void
test_step_budget(void **state)
{
	static const struct {
		int	 paused;
		double	 cap, rate;
	} rows[] = {
		{ 0, 0, 3.25 }, { 0, 2.5, 2.5 }, { 1, 0, 0 }, { 1, 2.5, 0 },
	};
	static const double calm[] = { 0.1, 0.1, 0.1 };
	struct drain_opts opts = { 0 };
	struct drain_status st;
	struct config	 cfg;
	struct drain	*d;
	struct pace	*pc;
	char		*err = NULL;
	size_t		 i;

	memset(&cfg, 0, sizeof(cfg));
	for (i = 0; i < nitems(rows); i++) {
		pc = pace_new(&test_params);
		d = drain_new(&cfg, NULL, NULL, &opts);
		feed(pc, calm, nitems(calm), 0);
		pace_pause(pc, rows[i].paused);
		pace_set_cap(pc, rows[i].cap);
		assert_int_equal(pace_step(pc, d, 3.25, 1700000000, &err), 0);
		assert_null(err);
		drain_status(d, &st);
		if (fabs(st.rate - rows[i].rate) > 1e-9)
			fail_msg("row %zu: the drain got rate %g, want %g", i,
			    st.rate, rows[i].rate);
		/* the governor's: 3.25/s x 1 s assumed latency x 2 */
		assert_int_equal(st.window, 7);
		drain_free(&d);
		pace_free(&pc);
	}
}

/*
 * an idle drain (nothing parked) and what the milter took straight in
 * set the governor's cap: 2 messages in a second give 3/s, and the same
 * second with nothing stepped leaves the rate alone
 */
static void
test_idle_use(void **state)
{
	static const double calm[] = { 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1,
	    0.1, 0.1, 0.1, 0.1, 0.1 };
	struct drain_opts opts = { 0 };
	struct sensor_sample s = sample(0.1);
	struct config	 cfg;
	struct drain	*d;
	struct pace	*pc;
	char		*err = NULL;
	double		 t;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	pc = pace_new(&test_params);
	d = drain_new(&cfg, NULL, NULL, &opts);
	t = feed(pc, calm, nitems(calm), 0);
	assert_true(rate(pc) == 10);
	pace_sample(pc, &s, t++);		/* no step: not idle */
	assert_true(rate(pc) == 10);
	assert_int_equal(pace_step(pc, d, t - 0.5, 1700000000, &err), 0);
	pace_admitted(pc, 2);
	pace_sample(pc, &s, t++);
	assert_true(fabs(rate(pc) - 3) < 1e-9);
	drain_free(&d);
	pace_free(&pc);
	(void)err;
}

/* the queue disk or memory at its limit makes the budget full */
static void
test_full(void **state)
{
	static const struct {
		enum sensor_id	 id;
		double		 ratio;
		int		 want;
	} rows[] = {
		{ SENSOR_QUEUE_DISK, 0.99, ADMIT_FULL_NONE },
		{ SENSOR_QUEUE_DISK, 1, ADMIT_FULL_DISK },
		{ SENSOR_MEMORY, 1.5, ADMIT_FULL_MEMORY },
		{ SENSOR_LOAD, 3, ADMIT_FULL_NONE },	/* delivery side */
		{ SENSOR_TEMPERATURE, 1.2, ADMIT_FULL_NONE },
		{ SENSOR_MTA_QUEUE, 2, ADMIT_FULL_NONE },
	};
	struct sensor_sample s;
	struct budget	 b;
	struct pace	*pc;
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(rows); i++) {
		pc = pace_new(&test_params);
		s = sample(rows[i].ratio);
		s.r[rows[i].id].present = 1;
		s.r[rows[i].id].ratio = rows[i].ratio;
		pace_sample(pc, &s, 0);
		pace_budget(pc, &b);
		if (b.full != rows[i].want)
			fail_msg("row %zu: full %d, want %d", i, b.full,
			    rows[i].want);
		s.r[rows[i].id].present = 0;	/* absent: never full */
		pace_sample(pc, &s, 1);
		pace_budget(pc, &b);
		assert_int_equal(b.full, ADMIT_FULL_NONE);
		pace_free(&pc);
	}
}

static void
test_params_from_config(void **state)
{
	struct config		 cfg;
	struct pace_params	 pp;

	memset(&cfg, 0, sizeof(cfg));
	cfg.min_rate = 2;
	cfg.max_rate = 50;
	cfg.interval = 3;
	pace_params_from_config(&cfg, &pp);
	assert_true(pp.interval == 3);
	assert_true(pp.gov.min_rate == 2 && pp.gov.max_rate == 50);
	assert_int_equal(pp.gov.restart_hold, GOVERNOR_RESTART_TICKS * 3);
	cfg.interval = 0;
	pace_params_from_config(&cfg, &pp);
	assert_true(pp.interval == 1);
	pace_free(&(struct pace *){ NULL });	/* NULL is fine */
}

/* add_rows - one cmocka test per row of a table */
#define add_rows(tests, n, table, func) do {				\
	size_t	 i_;							\
	for (i_ = 0; i_ < nitems(table); i_++, (n)++) {			\
		memset(&(tests)[n], 0, sizeof((tests)[n]));		\
		(tests)[n].name = (table)[i_].name;			\
		(tests)[n].test_func = (func);				\
		(tests)[n].initial_state = (void *)&(table)[i_];	\
	}								\
} while (0)

int
main(void)
{
	static const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_reload_not_min_rate),
		cmocka_unit_test(test_step_budget),
		cmocka_unit_test(test_idle_use),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_params_from_config),
	};
	struct CMUnitTest tests[nitems(dues) + nitems(changes) +
	    nitems(caps) + nitems(reloads) + nitems(plain)];
	size_t		 i, n = 0;

	add_rows(tests, n, dues, run_due);
	add_rows(tests, n, changes, run_change);
	add_rows(tests, n, caps, run_cap);
	add_rows(tests, n, reloads, run_reload);
	for (i = 0; i < nitems(plain); i++)
		tests[n++] = plain[i];
	return _cmocka_run_group_tests("pace", tests, n, NULL, NULL);
}
