/*
 * test_lab_inbound.c - the outage lab's inbound flood (inbound.c)
 *
 * The host's front door first: a session costs front_work and ends before
 * a delivery offered with it, and a reboot cuts it. Then short surges (a
 * few hundred messages, simulated minutes, no sleeps): every message is
 * accepted, lost or still at its sender under every policy; messages
 * whose senders give up before they can offer them are lost without an
 * offer; a seed gives one result; and on a host that full load overheats,
 * Postfix alone reboots it while ebb (action = hold) does not, refuses no
 * message within [milter] urgent of its estimated deadline, holds what
 * it cannot take straight in and releases all of it.
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

#include "ebb/util.h"
#include "lab/host.h"
#include "lab/inbound.h"
#include "lab/senders.h"

struct seen {
	long	 answered, cut, delivered, dropped;
	double	 answered_at, delivered_at;
};

static void
on_event(void *arg, const struct lab_host_event *ev)
{
	struct seen	*s = arg;

	if (ev->front && ev->kind == LAB_HOST_DELIVERED) {
		s->answered++;
		s->answered_at = ev->time;
	} else if (ev->front && ev->kind == LAB_HOST_DROPPED)
		s->cut++;
	else if (ev->kind == LAB_HOST_DELIVERED) {
		s->delivered++;
		s->delivered_at = ev->time;
	} else if (ev->kind == LAB_HOST_DROPPED)
		s->dropped++;
}

/*
 * One CPU at 10 msg/s: a session of 0.1 of a message's work offered with
 * a delivery shares the CPU with it: both progress at 5 units/s, so the
 * session ends at 0.02 s; the delivery then has 0.9 left, alone at 10
 * units/s: done at 0.11 s (0.01 s later than alone).
 */
static void
test_front_door(void **state)
{
	struct lab_host_params p;
	struct lab_host_state st;
	struct lab_host	*h;
	struct seen	 s;
	char		*err = NULL;

	(void)state;
	memset(&s, 0, sizeof(s));
	lab_host_params_default(&p);
	p.capacity = 10;
	p.cpus = 1;
	p.base_load = 0;
	p.front_work = 0.1;
	if ((h = lab_host_new(&p, 0, &err)) == NULL)
		fail_msg("%s", err);
	assert_int_equal(lab_host_offer(h, 0, 1), 1);
	assert_int_equal(lab_host_offer_front(h, 0, 2), 1);
	lab_host_state(h, &st);
	assert_int_equal(st.in_progress, 1);
	assert_int_equal(st.front_in_progress, 1);
	assert_true(st.utilization == 1);
	lab_host_advance(h, 1, on_event, &s);
	assert_int_equal(s.answered, 1);
	assert_int_equal(s.delivered, 1);
	assert_true(fabs(s.answered_at - 0.02) < 1e-9);
	assert_true(fabs(s.delivered_at - 0.11) < 1e-9);
	lab_host_state(h, &st);
	assert_int_equal(st.front_answered, 1);
	assert_int_equal(st.delivered, 1);
	lab_host_free(&h);

	/* a reboot cuts a session in progress */
	memset(&s, 0, sizeof(s));
	p.temp_start = 89.99;
	p.temp_full = 200;
	p.front_work = 1;
	if ((h = lab_host_new(&p, 0, &err)) == NULL)
		fail_msg("%s", err);
	assert_int_equal(lab_host_offer_front(h, 0, 7), 1);
	lab_host_advance(h, 0.05, on_event, &s);
	assert_int_equal(s.cut, 1);
	assert_int_equal(s.answered, 0);
	assert_int_equal(lab_host_offer_front(h, 0.05, 8), 0);
	lab_host_free(&h);
}

/* small - a short surge: 300 messages from 10 senders */
static void
small(struct lab_inbound_scenario *sc)
{
	lab_inbound_default(sc);
	sc->senders.senders = 10;
	sc->senders.messages = 300;
	sc->run_limit = 900;
}

static void
run(const struct lab_inbound_scenario *sc, enum lab_inbound_policy p,
    struct lab_inbound_card *c)
{
	char	*err = NULL;

	if (lab_inbound_run(sc, p, c, &err) == -1)
		fail_msg("%s: %s", lab_inbound_policy_name(p), err);
}

/* every message is accepted, lost or still at a sender */
static void
test_conservation(void **state)
{
	struct lab_inbound_scenario sc;
	struct lab_inbound_card c;
	int		 p;

	(void)state;
	small(&sc);
	for (p = 0; p < LAB_INBOUND_COUNT; p++) {
		run(&sc, (enum lab_inbound_policy)p, &c);
		assert_int_equal(c.messages, 300);
		assert_int_equal(c.accepted + c.lost + c.pending, 300);
		assert_true(c.lost_offered <= c.lost);
		assert_true(c.lost_refused <= c.lost_offered);
		assert_true(c.offered <= c.messages);
		assert_true(c.accepted <= c.offered);
		assert_true(c.held <= c.accepted);
		assert_true(c.end_time <= sc.run_limit);
		if (p == LAB_INBOUND_POSTFIX) {
			assert_int_equal(c.tempfailed + c.rejected, 0);
			assert_int_equal(c.held, 0);
		}
		if (p == LAB_INBOUND_TEMPFAIL)
			assert_int_equal(c.held, 0);
	}
}

/*
 * One Exchange Online sender with 200 messages, every one within 60 s of
 * its sender's clock (2.5 s of the lab's) of giving up: its two
 * connections offer a few, the rest are lost without an offer.
 */
static void
test_lost_before_offered(void **state)
{
	struct lab_inbound_scenario sc;
	struct lab_inbound_card c;

	(void)state;
	lab_inbound_default(&sc);
	sc.senders.senders = 1;
	sc.senders.messages = 200;
	memset(sc.senders.mix, 0, sizeof(sc.senders.mix));
	sc.senders.mix[SENDER_EXCHANGE] = 1;
	sc.senders.near_share = 1;
	sc.senders.near_window = 60;
	run(&sc, LAB_INBOUND_POSTFIX, &c);
	assert_int_equal(c.accepted + c.lost, 200);
	assert_true(c.accepted > 0);
	assert_true(c.lost > 100);
	assert_int_equal(c.lost_offered, 0);	/* Postfix took all offered */
	assert_int_equal(c.offered, c.accepted);
	assert_int_equal(c.pending, 0);
	assert_true(c.accept_time < 2.5 + 1);
}

static void
test_determinism(void **state)
{
	struct lab_inbound_scenario sc;
	struct lab_inbound_card a, b;
	int		 p;

	(void)state;
	small(&sc);
	sc.senders.seed = 7;
	for (p = 0; p < LAB_INBOUND_COUNT; p++) {
		run(&sc, (enum lab_inbound_policy)p, &a);
		run(&sc, (enum lab_inbound_policy)p, &b);
		assert_int_equal(a.lost, b.lost);
		assert_int_equal(a.reboots, b.reboots);
		assert_memory_equal(&a, &b, sizeof(a));
	}
}

/*
 * A host that full load overheats (5 msg/s, tau 10 s, 60 s reboots):
 * Postfix alone takes the whole surge into its active queue and reboots
 * it; ebb holds the excess and paces it: no reboot, no urgent message
 * refused, every held message released and processed.
 */
static void
test_surge_hot_host(void **state)
{
	struct lab_inbound_scenario sc;
	struct lab_inbound_card pf, ebb;

	(void)state;
	small(&sc);
	sc.host.capacity = 5;
	sc.host.tau = 10;
	sc.run_limit = 1500;
	assert_true(lab_host_temp_equilibrium(&sc.host, 1) >
	    sc.host.trip_critical);
	run(&sc, LAB_INBOUND_POSTFIX, &pf);
	run(&sc, LAB_INBOUND_EBB, &ebb);
	assert_true(pf.reboots >= 1);
	assert_true(pf.temp_peak >= sc.host.trip_critical);
	assert_int_equal(ebb.reboots, 0);
	assert_true(ebb.temp_peak < sc.host.trip_critical);
	assert_int_equal(ebb.urgent_refusals, 0);
	assert_true(ebb.held > 0);
	assert_true(ebb.released >= ebb.held);
	assert_int_equal(ebb.undelivered, 0);
	assert_int_equal(pf.urgent_refusals, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_front_door),
		cmocka_unit_test(test_conservation),
		cmocka_unit_test(test_lost_before_offered),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_surge_hot_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
