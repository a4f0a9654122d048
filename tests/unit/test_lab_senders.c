/*
 * test_lab_senders.c - the outage lab's remote senders (senders.c)
 *
 * The schedules on a table of hand-computed cases: the n-th attempt of a
 * message retried on time from 0, the next attempt after a late one, each
 * kind's lifetime; Debian's Exim retry rule and the host record with its
 * cutoff and delay_after_cutoff; and the backlog: deterministic for a
 * seed, every message with one sender, ages within the outage and the
 * lifetime, the mix's kinds in order.
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
#include "lab/senders.h"

#define H	3600.0
#define D	SENDER_DAY

/* the n-th attempt after the first (at 0), every one failing on time */
static const struct {
	enum sender_kind kind;
	int		 n;
	double		 age;
} nth[] = {
	/* Postfix: age clamped to 300..4000 s: 300 600 1200 2400 4800 */
	{ SENDER_POSTFIX, 1, 300 },
	{ SENDER_POSTFIX, 2, 600 },
	{ SENDER_POSTFIX, 3, 1200 },
	{ SENDER_POSTFIX, 4, 2400 },
	{ SENDER_POSTFIX, 5, 4800 },
	{ SENDER_POSTFIX, 6, 8800 },
	{ SENDER_POSTFIX, 7, 12800 },
	/* Exim: every 15 min to 2 h, then 2 h x 1.5^k to 16 h, then 6 h */
	{ SENDER_EXIM, 1, 900 },
	{ SENDER_EXIM, 8, 2 * H },
	{ SENDER_EXIM, 9, 3 * H },
	{ SENDER_EXIM, 10, 4.5 * H },
	{ SENDER_EXIM, 11, 6.75 * H },
	{ SENDER_EXIM, 12, 10.125 * H },
	{ SENDER_EXIM, 13, 15.1875 * H },
	{ SENDER_EXIM, 14, 15.1875 * H + 7.59375 * H },
	{ SENDER_EXIM, 15, 15.1875 * H + 7.59375 * H + 6 * H },
	/* Exchange Online (assumed): every 15 min */
	{ SENDER_EXCHANGE, 1, 900 },
	{ SENDER_EXCHANGE, 96, 24 * H },
	/* qmail: (20 n)^2 */
	{ SENDER_QMAIL, 1, 400 },
	{ SENDER_QMAIL, 2, 1600 },
	{ SENDER_QMAIL, 3, 3600 },
	{ SENDER_QMAIL, 10, 40000 },
	{ SENDER_QMAIL, 38, 577600 },
	/* Gmail (assumed): 10 min doubling to a 2 h cap */
	{ SENDER_GMAIL, 1, 600 },
	{ SENDER_GMAIL, 2, 1800 },
	{ SENDER_GMAIL, 3, 4200 },
	{ SENDER_GMAIL, 4, 9000 },
	{ SENDER_GMAIL, 5, 16200 },
	{ SENDER_GMAIL, 6, 23400 },
};

static void
test_nth_attempt(void **state)
{
	double	 age;
	size_t	 i;
	int	 k;

	(void)state;
	for (i = 0; i < nitems(nth); i++) {
		age = 0;
		for (k = 0; k < nth[i].n; k++)
			age = sender_next_attempt(nth[i].kind, age);
		if (fabs(age - nth[i].age) > 1e-6)
			fail_msg("%s attempt %d: %.4f s, want %.4f s",
			    sender_kind_name(nth[i].kind), nth[i].n, age,
			    nth[i].age);
	}
}

/* after an attempt at any age (a late one), the next */
static const struct {
	enum sender_kind kind;
	double		 age;
	double		 next;
} late[] = {
	{ SENDER_POSTFIX, 100, 400 },		/* at least 300 */
	{ SENDER_POSTFIX, 1000, 2000 },		/* the age */
	{ SENDER_POSTFIX, 3 * D, 3 * D + 4000 },	/* at most 4000 */
	{ SENDER_EXIM, 30 * 60, 45 * 60 },
	{ SENDER_EXIM, 8 * H, 12 * H },		/* G: since / 2 */
	{ SENDER_EXIM, 2.5 * H, 3.75 * H },	/* at least 1 h */
	{ SENDER_EXIM, 3 * D, 3 * D + 6 * H },
	{ SENDER_EXCHANGE, 5 * H, 5 * H + 900 },
	{ SENDER_QMAIL, 1000, 1600 },		/* the next (20 n)^2 */
	{ SENDER_QMAIL, 1600, 3600 },
	{ SENDER_QMAIL, 3 * D, 270400 },	/* (20 x 26)^2 */
	{ SENDER_GMAIL, 1000, 2600 },
	{ SENDER_GMAIL, 2 * D, 2 * D + 7200 },
};

static void
test_late_attempt(void **state)
{
	double	 got;
	size_t	 i;

	(void)state;
	for (i = 0; i < nitems(late); i++) {
		got = sender_next_attempt(late[i].kind, late[i].age);
		if (fabs(got - late[i].next) > 1e-6)
			fail_msg("%s after %.0f s: %.4f, want %.4f",
			    sender_kind_name(late[i].kind), late[i].age, got,
			    late[i].next);
		assert_true(got > late[i].age);
	}
}

static void
test_lifetimes_and_names(void **state)
{
	int	 k;

	(void)state;
	assert_true(sender_lifetime(SENDER_POSTFIX) == 5 * D);
	assert_true(sender_lifetime(SENDER_EXIM) == 4 * D);
	assert_true(sender_lifetime(SENDER_EXCHANGE) == 1 * D);
	assert_true(sender_lifetime(SENDER_QMAIL) == 7 * D);
	assert_true(sender_lifetime(SENDER_GMAIL) == 3 * D);
	for (k = 0; k < SENDER_KIND_COUNT; k++)
		assert_int_equal(sender_kind_lookup(sender_kind_name(
		    (enum sender_kind)k)), k);
	assert_int_equal(sender_kind_lookup("sendmail"), -1);
}

/*
 * Exim's host record: connection failures from 0 follow the rule from
 * the first one; the last retry before the cutoff (4 d) is at the cutoff;
 * past it, with delay_after_cutoff, a queue run before the host's retry
 * time bounces the mail without trying (without the option it waits);
 * an answered session clears it all.
 */
static void
test_exim_host(void **state)
{
	struct sender_exim_host h;

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_int_equal(sender_exim_host_action(&h, 5 * D, 1),
	    SENDER_EXIM_TRY);
	sender_exim_host_fail(&h, 0);
	assert_true(h.failing && h.first == 0 && h.next == 900);
	assert_int_equal(sender_exim_host_action(&h, 600, 1),
	    SENDER_EXIM_WAIT);
	assert_int_equal(sender_exim_host_action(&h, 900, 1),
	    SENDER_EXIM_TRY);
	sender_exim_host_fail(&h, 3 * H);		/* G: +1.5 h */
	assert_true(h.first == 0 && h.next == 4.5 * H);
	sender_exim_host_fail(&h, 3 * D);
	assert_true(h.next == 3 * D + 6 * H);
	sender_exim_host_fail(&h, 4 * D - 1 * H);	/* capped */
	assert_true(h.next == 4 * D);
	assert_int_equal(sender_exim_host_action(&h, 4 * D - 0.5 * H, 1),
	    SENDER_EXIM_WAIT);
	assert_int_equal(sender_exim_host_action(&h, 4 * D, 1),
	    SENDER_EXIM_TRY);			/* the last chance */
	sender_exim_host_fail(&h, 4 * D);	/* failed: past the cutoff */
	assert_true(h.next == 4 * D + 6 * H);
	assert_int_equal(sender_exim_host_action(&h, 4 * D + 0.5 * H, 1),
	    SENDER_EXIM_BOUNCE);
	assert_int_equal(sender_exim_host_action(&h, 4 * D + 0.5 * H, 0),
	    SENDER_EXIM_WAIT);
	assert_int_equal(sender_exim_host_action(&h, 4 * D + 6 * H, 1),
	    SENDER_EXIM_TRY);
	sender_exim_host_ok(&h);
	assert_false(h.failing);
	assert_int_equal(sender_exim_host_action(&h, 4 * D + 0.5 * H, 1),
	    SENDER_EXIM_TRY);
}

/*
 * delay_after_cutoff on new mail: a host that failed 5 days ago and was
 * last tried an hour ago; a message queued now is bounced by the first
 * queue run, never tried
 */
static void
test_exim_new_mail_after_cutoff(void **state)
{
	struct sender_exim_host h;

	(void)state;
	memset(&h, 0, sizeof(h));
	sender_exim_host_fail(&h, -5 * D);
	sender_exim_host_fail(&h, -1 * H);
	assert_true(h.first == -5 * D && h.next == 5 * H);
	assert_int_equal(sender_exim_host_action(&h, 0, 1),
	    SENDER_EXIM_BOUNCE);
	assert_int_equal(sender_exim_interval(0), 900);
	assert_int_equal(sender_exim_interval(2 * H), 3600);
	assert_int_equal(sender_exim_interval(12 * H), 6 * H);
	assert_int_equal(sender_exim_interval(16 * H), 6 * H);
}

/* the backlog: one seed, one draw; the mix in order; ages in range */
static void
test_draw(void **state)
{
	struct lab_senders_params p;
	struct lab_sender *s, *s2;
	struct lab_sender_msg *m, *m2;
	long		 sum = 0, near = 0, j;
	char		*err = NULL;
	double		 life;

	(void)state;
	lab_senders_params_default(&p);
	assert_int_equal(lab_senders_params_check(&p, &err), 0);
	lab_senders_draw(&p, &s, &m);
	lab_senders_draw(&p, &s2, &m2);
	assert_memory_equal(s, s2, sizeof(*s) * (size_t)p.senders);
	assert_memory_equal(m, m2, sizeof(*m) * (size_t)p.messages);
	/* mixed: 35% postfix, 25% exim, 15% exchange, 10% qmail, 15% gmail */
	assert_int_equal(s[0].kind, SENDER_POSTFIX);
	assert_int_equal(s[13].kind, SENDER_POSTFIX);
	assert_int_equal(s[14].kind, SENDER_EXIM);
	assert_int_equal(s[24].kind, SENDER_EXCHANGE);
	assert_string_equal(s[24].domain, "outlook.com");
	assert_string_equal(s[25].domain, "exchange25.example");
	assert_int_equal(s[30].kind, SENDER_QMAIL);
	assert_int_equal(s[39].kind, SENDER_GMAIL);
	assert_string_equal(s[39].domain, "gmail.com");
	for (j = 0; j < p.senders; j++)
		sum += s[j].messages;
	assert_int_equal(sum, p.messages);
	for (j = 0; j < p.messages; j++) {
		assert_true(m[j].sender < (size_t)p.senders);
		life = sender_lifetime(s[m[j].sender].kind);
		assert_true(m[j].age >= 0 && m[j].age < p.outage);
		assert_true(fabs(m[j].age + m[j].left - life) < 1e-6);
		assert_true(m[j].left > 0);
		if (m[j].left <= p.near_window)
			near++;
	}
	/* 30% of the short-lived kinds' mail (55% of it) is near */
	assert_true(near > p.messages * 0.10 && near < p.messages * 0.25);
	free(s2);
	free(m2);
	p.seed = 2;
	lab_senders_draw(&p, &s2, &m2);
	assert_true(memcmp(m, m2, sizeof(*m) * (size_t)p.messages) != 0);
	free(s);
	free(m);
	free(s2);
	free(m2);
}

static void
test_params_check(void **state)
{
	struct lab_senders_params p;
	char		*err = NULL;

	(void)state;
	lab_senders_params_default(&p);
	p.mix[0] = 0.5;			/* no longer adds up to 1 */
	assert_int_equal(lab_senders_params_check(&p, &err), -1);
	assert_non_null(strstr(err, "add up"));
	free(err);
	lab_senders_params_default(&p);
	p.senders = 0;
	assert_int_equal(lab_senders_params_check(&p, &err), -1);
	free(err);
	assert_int_equal(lab_senders_mix("cloud", p.mix), 0);
	assert_int_equal(lab_senders_mix("nonesuch", p.mix), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nth_attempt),
		cmocka_unit_test(test_late_attempt),
		cmocka_unit_test(test_lifetimes_and_names),
		cmocka_unit_test(test_exim_host),
		cmocka_unit_test(test_exim_new_mail_after_cutoff),
		cmocka_unit_test(test_draw),
		cmocka_unit_test(test_params_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
