/*
 * test_lab_sim.c - the outage lab's Postfix model and simulation
 *
 * The model of Postfix's queue (pfmodel.c) is checked on hand-computed
 * cases: backoff is the message's age clamped to [minimal_backoff_time,
 * maximal_backoff_time], a failed attempt at or past the deadline
 * bounces, held mail does not expire and keeps its retry time, a kick
 * and a flush move mail to the active queue, the concurrency window
 * slow-starts to its limit. The simulation (sim.c) is checked on short
 * scenarios (200 messages, a few simulated minutes, no sleeps): every
 * message is accounted for, a seed gives one result, Postfix alone
 * overheats a hot host, a host far above the backlog delivers everything
 * on time under every policy, ebb releases only what it parked, and the
 * flush makes deferred mail due every 30 s.
 */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ebb/msg.h"
#include "ebb/mta.h"
#include "ebb/util.h"
#include "lab/host.h"
#include "lab/pfmodel.h"
#include "lab/sim.h"

/*
 * The model alone, on a host that is up and has room for one message at
 * a time: a second offer is refused at once (421), a failed attempt at a
 * known time.
 */

struct bench {
	struct lab_host	*host;
	struct pfmodel	*pf;
};

/* bench_new - a model over a host of spec ("cool": never trips) */
static void
bench_new(struct bench *b, const struct pfmodel_params *pp, long conn_max)
{
	struct lab_host_params hp;
	char		*err = NULL;

	lab_host_params_default(&hp);
	hp.temp_full = 70;		/* never reaches a trip point */
	hp.conn_max = conn_max;
	if ((b->host = lab_host_new(&hp, 0, &err)) == NULL)
		fail_msg("host: %s", err);
	if ((b->pf = pfmodel_new(pp, b->host, "/", 0, &err)) == NULL)
		fail_msg("pfmodel: %s", err);
}

static void
bench_free(struct bench *b)
{
	pfmodel_free(&b->pf);
	lab_host_free(&b->host);
}

/* info - message i of b */
static struct pfmodel_msg_info
info(const struct bench *b, size_t i)
{
	struct pfmodel_msg_info mi;

	pfmodel_msg_info(b->pf, i, &mi);
	return mi;
}

static void
test_backoff_formula(void **state)
{
	struct pfmodel_params p;

	(void)state;
	pfmodel_params_postfix(&p);
	assert_true(pfmodel_backoff(&p, 100) == 300);	/* at least min */
	assert_true(pfmodel_backoff(&p, 1000) == 1000);	/* the age */
	assert_true(pfmodel_backoff(&p, 86400) == 4000);	/* at most max */
	pfmodel_params_default(&p);
	assert_true(pfmodel_backoff(&p, 5) == 10);
	assert_true(pfmodel_backoff(&p, 100) == 100);
	assert_true(pfmodel_backoff(&p, 14000) == 133);
}

/*
 * Postfix's defaults. At 0 qmgr scans: all five are due and go active.
 * The first takes the host's only connection; each other one is refused
 * at once and fails at 0: deferred to 0 + clamp(age), or bounced when 0
 * is at or past its deadline.
 */
static void
test_backoff_and_expiry(void **state)
{
	struct pfmodel_params pp;
	struct bench	 b;
	double		 life;

	(void)state;
	pfmodel_params_postfix(&pp);
	life = pp.maximal_queue_lifetime;
	bench_new(&b, &pp, 1);
	pfmodel_add(b.pf, -10, 0, "a@x.example", "r@y.example");
	pfmodel_add(b.pf, -100, 0, "a@x.example", "r@y.example");
	pfmodel_add(b.pf, -1000, 0, "a@x.example", "r@y.example");
	pfmodel_add(b.pf, -10000, 0, "a@x.example", "r@y.example");
	pfmodel_add(b.pf, -life, 0, "a@x.example", "r@y.example");
	assert_true(info(&b, 4).deadline == 0);
	pfmodel_set_now(b.pf, 0);

	assert_int_equal(info(&b, 0).state, PFMODEL_S_DELIVERING);
	assert_int_equal(info(&b, 1).state, PFMODEL_S_DEFERRED);
	assert_true(info(&b, 1).next_retry == 300);	/* age 100: min */
	assert_int_equal(info(&b, 2).state, PFMODEL_S_DEFERRED);
	assert_true(info(&b, 2).next_retry == 1000);	/* age 1000 */
	assert_int_equal(info(&b, 3).state, PFMODEL_S_DEFERRED);
	assert_true(info(&b, 3).next_retry == 4000);	/* age 10000: max */
	assert_int_equal(info(&b, 4).state, PFMODEL_S_BOUNCED);
	assert_true(info(&b, 4).done_at == 0);
	assert_int_equal(info(&b, 1).attempts, 1);

	/* the first is delivered one work unit later (cpus / capacity) */
	pfmodel_set_now(b.pf, 1);
	assert_int_equal(info(&b, 0).state, PFMODEL_S_DELIVERED);
	assert_true(fabs(info(&b, 0).done_at - 0.1) < 1e-9);
	bench_free(&b);
}

/* the null sender's deadline is bounce_queue_lifetime's */
static void
test_null_sender_lifetime(void **state)
{
	struct pfmodel_params pp;
	struct bench	 b;

	(void)state;
	pfmodel_params_postfix(&pp);
	pp.bounce_queue_lifetime = 3600;
	bench_new(&b, &pp, 100);
	pfmodel_add(b.pf, 50, 60, "", "r@y.example");
	pfmodel_add(b.pf, 50, 60, "s@x.example", "r@y.example");
	assert_true(info(&b, 0).deadline == 3650);
	assert_true(info(&b, 1).deadline == 50 + 5 * 86400.0);
	bench_free(&b);
}

/*
 * Through ebb's backend ops: park keeps the retry time; held mail does
 * not expire while held, and back in deferred it is due at once (its
 * retry time has passed); its next failed attempt bounces it. Message 0
 * only takes the host's one connection at 100.
 */
static void
test_hold_does_not_expire(void **state)
{
	struct pfmodel_params pp;
	struct bench	 b;
	struct mta	*mta;
	const char	*ids[1];
	char		*err = NULL;
	int		 due;

	(void)state;
	pfmodel_params_default(&pp);
	bench_new(&b, &pp, 1);
	mta = pfmodel_mta(b.pf);
	pfmodel_add(b.pf, 0, 100, "s@x.example", "r@y.example");
	/* deadline 40; due at 30 */
	pfmodel_add(b.pf, 40 - pp.maximal_queue_lifetime, 30, "s@x.example",
	    "r@y.example");
	ids[0] = pfmodel_id(b.pf, 1);
	assert_true(ebb_queue_id_valid(ids[0]));
	assert_int_equal(pfmodel_lookup(b.pf, ids[0]), 1);
	assert_int_equal(pfmodel_lookup(b.pf, "0000000002"), -1);
	assert_int_equal(pfmodel_lookup(b.pf, "00000000001"), -1);
	pfmodel_set_now(b.pf, 0);
	assert_int_equal(mta_locate(mta, ids[0], &due), PFMODEL_DEFERRED);
	assert_int_equal(due, 0);
	assert_int_equal(mta_park(mta, ids, 1, &err), 0);
	assert_int_equal(mta_locate_role(mta, ids[0], &due), MSG_ROLE_HELD);
	assert_true(info(&b, 1).next_retry == 30);

	pfmodel_set_now(b.pf, 100);		/* past its deadline, held */
	assert_int_equal(info(&b, 0).state, PFMODEL_S_DELIVERING);
	assert_int_equal(info(&b, 1).state, PFMODEL_S_HOLD);
	assert_int_equal(info(&b, 1).attempts, 0);
	assert_int_equal(mta_release(mta, ids, 1, &err), 0);
	assert_int_equal(mta_locate(mta, ids[0], &due), PFMODEL_DEFERRED);
	assert_int_equal(due, 1);
	assert_true(info(&b, 1).next_retry == 30);
	assert_int_equal(info(&b, 1).parked, 1);
	assert_int_equal(info(&b, 1).released, 1);

	/* the only connection is taken: this attempt fails, and bounces */
	pfmodel_scan(b.pf);
	assert_int_equal(info(&b, 1).state, PFMODEL_S_BOUNCED);
	assert_true(info(&b, 1).done_at == 100);
	assert_int_equal(info(&b, 1).attempts, 1);
	assert_int_equal(mta_locate(mta, ids[0], &due), -1);
	bench_free(&b);
}

/*
 * A kick makes a deferred message due now and scans at once; a scan does
 * not touch mail whose retry lies ahead; a flush moves it all.
 */
static void
test_kick_scan_flush(void **state)
{
	struct pfmodel_params pp;
	struct pfmodel_stats st;
	struct bench	 b;
	struct mta	*mta;
	const char	*ids[1];
	char		*err = NULL;
	size_t		 i;

	(void)state;
	pfmodel_params_default(&pp);
	bench_new(&b, &pp, 100);
	mta = pfmodel_mta(b.pf);
	for (i = 0; i < 10; i++)
		pfmodel_add(b.pf, 0, 500, "s@x.example", "r@y.example");
	pfmodel_set_now(b.pf, 0);
	pfmodel_scan(b.pf);
	assert_int_equal(pfmodel_count(b.pf, PFMODEL_S_DEFERRED), 10);
	ids[0] = pfmodel_id(b.pf, 3);
	assert_int_equal(mta_kick(mta, ids, 1, &err), 0);
	assert_int_equal(pfmodel_count(b.pf, PFMODEL_S_DEFERRED), 9);
	assert_int_equal(info(&b, 3).state, PFMODEL_S_DELIVERING);
	assert_int_equal(mta_depth(mta), 1);
	pfmodel_flush(b.pf);
	assert_int_equal(pfmodel_count(b.pf, PFMODEL_S_DEFERRED), 0);
	assert_int_equal(mta_depth(mta), 10);
	pfmodel_set_now(b.pf, 20);
	assert_int_equal(pfmodel_count(b.pf, PFMODEL_S_DELIVERED), 10);
	pfmodel_stats(b.pf, &st);
	assert_int_equal(st.flushes, 1);
	assert_int_equal(st.kicks, 1);
	bench_free(&b);
}

/*
 * Slow start: the window grows from initial_destination_concurrency by
 * one per window's worth of deliveries, to the limit and no further; a
 * reboot (a hot host) kills the destination, which defers its queue.
 */
static void
test_concurrency_window(void **state)
{
	struct pfmodel_params pp;
	struct pfmodel_stats st;
	struct bench	 b;
	size_t		 i;

	(void)state;
	pfmodel_params_default(&pp);
	bench_new(&b, &pp, 100);
	for (i = 0; i < 400; i++)
		pfmodel_add(b.pf, 0, 0, "s@x.example", "r@y.example");
	pfmodel_set_now(b.pf, 0);
	pfmodel_stats(b.pf, &st);
	assert_int_equal(st.window, 5);
	assert_int_equal(mta_depth(pfmodel_mta(b.pf)), 400);
	assert_int_equal(pfmodel_count(b.pf, PFMODEL_S_DELIVERING), 5);
	pfmodel_set_now(b.pf, 1000);
	pfmodel_stats(b.pf, &st);
	assert_int_equal(st.delivered, 400);
	assert_int_equal(st.window_peak, 20);
	assert_int_equal(st.dead, 0);
	bench_free(&b);
}

/*
 * The simulation
 */

/* small - the default scenario at 200 messages */
static void
small(struct lab_scenario *sc)
{
	lab_scenario_default(sc);
	sc->messages = 200;
}

/* run - one policy; fails the test on error */
static void
run(const struct lab_scenario *sc, enum lab_policy p,
    struct lab_scorecard *c)
{
	char	*err = NULL;

	if (lab_sim_run(sc, p, c, &err) == -1)
		fail_msg("%s: %s", lab_policy_name(p), err);
}

/* every message is on time, late, bounced or left, under every policy */
static void
test_conservation(void **state)
{
	struct lab_scenario sc;
	struct lab_scorecard c;
	const char	*hosts[] = { "default", "hot", "slow" };
	size_t		 h;
	int		 p;

	(void)state;
	for (h = 0; h < nitems(hosts); h++) {
		small(&sc);
		if (h == 1) {
			sc.host.tau = 10;
			sc.host.capacity = 5;
		} else if (h == 2) {
			sc.host.capacity = 2;
			sc.run_limit = 1.5;	/* stops with mail left */
		}
		for (p = 0; p < LAB_POLICY_COUNT; p++) {
			run(&sc, (enum lab_policy)p, &c);
			assert_int_equal(c.messages, 200);
			assert_int_equal(c.on_time + c.late + c.bounced +
			    c.left, 200);
			assert_true(c.end_time <= sc.run_limit * c.nr);
			if (h == 2)
				assert_true(c.left > 0);
		}
	}
}

/* card_equal - two scorecards of the same scenario are identical */
static void
card_equal(const struct lab_scorecard *a, const struct lab_scorecard *b)
{
	assert_int_equal(a->on_time, b->on_time);
	assert_int_equal(a->late, b->late);
	assert_int_equal(a->bounced, b->bounced);
	assert_int_equal(a->left, b->left);
	assert_int_equal(a->reboots, b->reboots);
	assert_true(a->drain_time == b->drain_time);
	assert_true(a->temp_peak == b->temp_peak);
	assert_true(a->utilization == b->utilization);
	assert_int_equal(a->released, b->released);
	assert_int_equal(a->postfix.attempts, b->postfix.attempts);
	assert_memory_equal(a, b, sizeof(*a));
}

static void
test_determinism(void **state)
{
	struct lab_scenario sc;
	struct lab_scorecard a, b;
	int		 p;

	(void)state;
	small(&sc);
	sc.host.tau = 10;		/* reboots: the hard case */
	sc.seed = 42;
	for (p = 0; p < LAB_POLICY_COUNT; p++) {
		run(&sc, (enum lab_policy)p, &a);
		run(&sc, (enum lab_policy)p, &b);
		card_equal(&a, &b);
	}
	sc.seed = 43;			/* another backlog */
	run(&sc, LAB_POLICY_POSTFIX, &b);
	assert_true(a.edf_need != b.edf_need);
}

/* Postfix alone on a host whose full load is past its critical trip */
static void
test_postfix_reboots_hot_host(void **state)
{
	struct lab_scenario sc;
	struct lab_scorecard c;

	(void)state;
	small(&sc);
	sc.host.capacity = 5;
	sc.host.tau = 10;
	sc.host.temp_full = 120;
	assert_true(lab_host_temp_equilibrium(&sc.host, 1) >
	    sc.host.trip_critical);
	run(&sc, LAB_POLICY_POSTFIX, &c);
	assert_true(c.reboots >= 1);
	assert_true(c.temp_peak >= sc.host.trip_critical);
	assert_true(c.postfix.dead >= 1);
	assert_true(c.postfix.dropped >= 1);
}

/* a host far above the backlog: everything on time, whatever drains it */
static void
test_big_host_all_on_time(void **state)
{
	struct lab_scenario sc;
	struct lab_scorecard c;
	int		 p;

	(void)state;
	small(&sc);
	sc.host.capacity = 200;		/* N/R = 1 s */
	sc.host.temp_full = 70;		/* never near a trip point */
	sc.deadline_first = 100;	/* 100 s .. 400 s */
	sc.deadline_last = 400;
	sc.run_limit = 600;
	for (p = 0; p < LAB_POLICY_COUNT; p++) {
		run(&sc, (enum lab_policy)p, &c);
		assert_int_equal(c.on_time, 200);
		assert_int_equal(c.reboots, 0);
		assert_true(c.drain_time < 100);
	}
}

/* ebb parks and releases its own, never the administrator's holds */
static void
test_ebb_releases_only_its_own(void **state)
{
	struct lab_scenario sc;
	struct lab_scorecard c;

	(void)state;
	small(&sc);
	sc.admin_held = 10;
	run(&sc, LAB_POLICY_EBB, &c);
	assert_int_equal(c.admin_held, 10);
	assert_int_equal(c.admin_touched, 0);
	assert_int_equal(c.foreign_released, 0);
	assert_true(c.released > 0);
	assert_true(c.released <= 200);
	assert_int_equal(c.on_time + c.late + c.bounced + c.left, 200);
}

/* FLUSH: at every flush, every deferred message is taken, due or not */
struct flushes {
	long		 n;
	int		 bad;
};

static void
on_flush(void *arg, const struct lab_trace *tr)
{
	struct flushes	*f = arg;

	if (tr->kind != LAB_TRACE_FLUSH)
		return;
	f->n++;
	if (tr->time != 30.0 * (double)f->n ||
	    pfmodel_count(tr->pf, PFMODEL_S_DEFERRED) != 0)
		f->bad = 1;
}

static void
test_flush_every_30s(void **state)
{
	struct lab_scenario sc;
	struct lab_scorecard c, pc;
	struct flushes	 f = { 0, 0 };

	(void)state;
	small(&sc);
	sc.host.capacity = 5;		/* N/R 40 s, reboots */
	sc.host.tau = 10;
	sc.trace = on_flush;
	sc.trace_arg = &f;
	run(&sc, LAB_POLICY_FLUSH, &c);
	assert_true(f.n >= 2);
	assert_int_equal(f.bad, 0);
	assert_int_equal(c.postfix.flushes, f.n);
	assert_int_equal((long)(c.end_time / 30), f.n);
	sc.trace = NULL;
	run(&sc, LAB_POLICY_POSTFIX, &pc);
	assert_int_equal(pc.postfix.flushes, 0);
	assert_true(c.postfix.attempts > pc.postfix.attempts);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_formula),
		cmocka_unit_test(test_backoff_and_expiry),
		cmocka_unit_test(test_null_sender_lifetime),
		cmocka_unit_test(test_hold_does_not_expire),
		cmocka_unit_test(test_kick_scan_flush),
		cmocka_unit_test(test_concurrency_window),
		cmocka_unit_test(test_conservation),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_postfix_reboots_hot_host),
		cmocka_unit_test(test_big_host_all_on_time),
		cmocka_unit_test(test_ebb_releases_only_its_own),
		cmocka_unit_test(test_flush_every_30s),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
