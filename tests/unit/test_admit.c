/*
 * test_admit.c - the admission rules, one table row per case
 *
 * Each row starts from a loaded host at the end of headers (pressure 0.8,
 * cutoff 0.5, target_low 0.6, lifetime 5d, urgent 12h, trickle 1h, a
 * client first seen just now, a fresh message) and changes what the case
 * is about; it names the verdict, the reason and the reply code it wants.
 * The band edges, the urgent and trickle boundaries, unknown and insane
 * Received: dates, SPF and the buckets each have rows of their own.
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
#include "ebb/util.h"

#define NOW	1700000000L
#define H	3600L
#define D	86400L

/* rows override the base input's fields: a later initializer wins */
#pragma GCC diagnostic ignored "-Woverride-init"
#define IN(...) { .stage = ADMIT_AT_EOH, .now = NOW, .pressure = 0.8,	\
	.cutoff = 0.5, .critical = 0, .known = 1, .target_low = 0.6,	\
	.hold = 0, .spf_enforce = 0, .spf_checked = 0, .urgent = 12 * H, \
	.trickle = H, .received_known = 1, .first_queued = NOW,	\
	.lifetime = 5 * D, .bucket = ADMIT_BUCKET_OK, .client_since = NOW, \
	.spf = ADMIT_SPF_UNCHECKED, .null_sender = 0, .size = -1, __VA_ARGS__ }

#define MAIL	.stage = ADMIT_AT_MAIL
#define CALM	.pressure = 0.1, .cutoff = 0
#define STOP	.pressure = 1.2, .cutoff = 1
#define CRIT	.pressure = 2, .cutoff = 1, .critical = 1
#define HOLDS	.hold = 1
#define URGENT	AGE(5 * D - H)		/* an hour from its deadline */
#define AGE(s)	.first_queued = NOW - (s)

struct row {
	const char		*name;
	struct admit_input	 in;
	enum admit_verdict	 verdict;
	enum admit_reason	 reason;
	const char		*rcode;		/* NULL: no reply */
	const char		*xcode;
};

#define ACCEPT(r)	ADMIT_ACCEPT, ADMIT_R_##r, NULL, NULL
#define HOLD(r)		ADMIT_HOLD, ADMIT_R_##r, NULL, NULL
#define PASS		ADMIT_CONTINUE, ADMIT_R_PASS, NULL, NULL
#define LATER(r, x)	ADMIT_TEMPFAIL, ADMIT_R_##r, "451", x
#define NO(r)		ADMIT_REJECT, ADMIT_R_##r, "550", "5.7.23"
#define DISK		ADMIT_TEMPFAIL, ADMIT_R_FULL_DISK, "452", "4.3.1"
#define MEMORY		ADMIT_TEMPFAIL, ADMIT_R_FULL_MEMORY, "421", "4.3.2"
#define WAITS		LATER(LOADED, "4.7.1")

static const struct row rows[] = {
	/* calm */
	{ "calm accepts a fresh message", IN(CALM), ACCEPT(CALM) },
	{ "calm passes MAIL FROM", IN(CALM, MAIL), PASS },
	{ "calm: no Received date", IN(CALM, .received_known = 0),
	  ACCEPT(CALM) },
	{ "just below the band is calm", IN(.pressure = 0.5999, .cutoff = 0),
	  ACCEPT(CALM) },
	{ "at the band's edge, cutoff 0 admits all",
	  IN(.pressure = 0.6, .cutoff = 0), ACCEPT(URGENCY) },
	{ "at the band's edge, no date, cutoff 0",
	  IN(.pressure = 0.6, .cutoff = 0, .received_known = 0),
	  ACCEPT(URGENCY) },
	{ "blind at start fails open", IN(.known = 0, .pressure = 0,
	  .cutoff = 0), ACCEPT(BLIND) },
	{ "blind keeps the last pressure", IN(.known = 0), WAITS },
	{ "tempfail: calm ignores the gate", IN(CALM, .surge = 1,
	  .backlog = 1), ACCEPT(CALM) },

	/* loaded: urgency */
	{ "loaded passes MAIL FROM", IN(MAIL), PASS },
	{ "loaded accepts an old message", IN(AGE(3 * D + 12 * H)),
	  ACCEPT(URGENCY) },
	{ "urgency exactly the cutoff", IN(AGE(2 * D + 12 * H)),
	  ACCEPT(URGENCY) },
	{ "urgency a second short", IN(AGE(2 * D + 12 * H - 1)), WAITS },
	{ "loaded tempfails a fresh message", IN(), WAITS },
	{ "no Received date is fresh", IN(.received_known = 0), WAITS },
	{ "a date ahead of now is fresh", IN(.first_queued = NOW + 600),
	  WAITS },
	{ "a lifetime of 0 counts as an hour", IN(.lifetime = 0,
	  .urgent = 60, AGE(10)),
	  WAITS },
	{ "domain lifetime 2d makes 25h urgent enough",
	  IN(.lifetime = 2 * D, AGE(25 * H)), ACCEPT(URGENCY) },
	{ "null sender gets no favour", IN(.null_sender = 1), WAITS },
	{ "SIZE gets no favour", IN(.size = 10), WAITS },
	{ "NaN pressure is loaded", IN(.pressure = NAN), WAITS },
	{ "NaN cutoff is 1", IN(.cutoff = NAN, AGE(4 * D)), WAITS },
	{ "cutoff above 1 is 1", IN(.cutoff = 7, AGE(4 * D)), WAITS },
	{ "cutoff below 0 is 0", IN(.cutoff = -1), ACCEPT(URGENCY) },

	/* p >= 1: only urgent mail */
	{ "stopped: fresh waits", IN(STOP), WAITS },
	{ "stopped: 4 days old waits", IN(STOP, AGE(4 * D)), WAITS },
	{ "stopped: exactly urgent from the deadline",
	  IN(STOP, AGE(5 * D - 12 * H)), ACCEPT(URGENT) },
	{ "stopped: a second outside urgent",
	  IN(STOP, AGE(5 * D - 12 * H - 1)), WAITS },
	{ "stopped: past its deadline", IN(STOP, AGE(6 * D)),
	  ACCEPT(URGENT) },
	{ "stopped: no date is never urgent", IN(STOP,
	  .received_known = 0, .lifetime = H), WAITS },
	{ "urgent while loaded, below the cutoff",
	  IN(.cutoff = 0.95, AGE(4 * D + 13 * H)), ACCEPT(URGENT) },

	/* critical, with action = tempfail: urgent mail still gets in */
	{ "critical passes MAIL FROM: the headers tell",
	  IN(MAIL, CRIT), PASS },
	{ "critical tempfails a fresh message", IN(CRIT),
	  LATER(CRITICAL, "4.3.2") },
	{ "critical takes urgent mail", IN(CRIT, URGENT), ACCEPT(URGENT) },
	{ "critical beats urgency", IN(CRIT, AGE(4 * D)),
	  LATER(CRITICAL, "4.3.2") },
	{ "critical beats trickle", IN(CRIT, .client_since = NOW - D),
	  LATER(CRITICAL, "4.3.2") },
	{ "critical while blind", IN(CRIT, .known = 0),
	  LATER(CRITICAL, "4.3.2") },

	/* hold: delivery pressure takes mail into hold, never refuses it */
	{ "hold: calm, the gate open, nothing parked",
	  IN(CALM, HOLDS), ACCEPT(CALM) },
	{ "hold: calm, the gate shut", IN(CALM, HOLDS, .surge = 1),
	  HOLD(SURGE) },
	{ "hold: calm, parked mail first", IN(CALM, HOLDS, .backlog = 1),
	  HOLD(BACKLOG) },
	{ "hold: blind holds: the gate's rate is not known",
	  IN(HOLDS, .known = 0, .pressure = 0), HOLD(BLIND) },
	{ "hold: blind, loaded by the last pressure",
	  IN(HOLDS, .known = 0), HOLD(LOADED) },
	{ "hold: loaded, fresh", IN(HOLDS), HOLD(LOADED) },
	{ "hold: loaded, past the cutoff", IN(HOLDS, AGE(4 * D)),
	  HOLD(LOADED) },
	{ "hold: loaded, no date", IN(HOLDS, .received_known = 0),
	  HOLD(LOADED) },
	{ "hold: stopped", IN(HOLDS, STOP), HOLD(LOADED) },
	{ "hold: critical", IN(HOLDS, CRIT), HOLD(CRITICAL) },
	{ "hold: critical, urgent", IN(HOLDS, CRIT, URGENT), HOLD(URGENT) },
	{ "hold: at exactly p = 1, urgent",
	  IN(.pressure = 1, .cutoff = 1, HOLDS, URGENT), HOLD(URGENT) },
	{ "hold: calm, urgent, the gate open", IN(CALM, HOLDS, URGENT),
	  ACCEPT(URGENT) },
	{ "hold: calm, urgent, the gate shut",
	  IN(CALM, HOLDS, URGENT, .surge = 1), HOLD(URGENT) },
	{ "hold: MAIL FROM passes at critical", IN(HOLDS, CRIT, MAIL),
	  PASS },
	{ "hold: a client over its limits waits",
	  IN(HOLDS, .bucket = ADMIT_BUCKET_IP_EMPTY),
	  LATER(RATE_IP, "4.7.1") },
	{ "hold: a client over its limits, urgent",
	  IN(HOLDS, URGENT, .bucket = ADMIT_BUCKET_NET_EMPTY),
	  HOLD(URGENT) },
	{ "hold: loaded, softfail waits",
	  IN(HOLDS, .spf_checked = 1, .spf = ADMIT_SPF_SOFTFAIL),
	  LATER(SPF_DEFER, "4.7.1") },
	{ "hold: loaded, urgent softfail",
	  IN(HOLDS, URGENT, .spf_checked = 1, .spf = ADMIT_SPF_SOFTFAIL),
	  HOLD(URGENT) },

	/* full: accepting itself is short, and everything waits */
	{ "disk full: MAIL FROM", IN(MAIL, CALM, .full = ADMIT_FULL_DISK),
	  DISK },
	{ "disk full: urgent too", IN(URGENT, .full = ADMIT_FULL_DISK),
	  DISK },
	{ "disk full: with hold", IN(HOLDS, CALM, .full = ADMIT_FULL_DISK),
	  DISK },
	{ "memory full: the client is dropped",
	  IN(MAIL, .full = ADMIT_FULL_MEMORY), MEMORY },
	{ "memory full: urgent, with hold",
	  IN(HOLDS, URGENT, .full = ADMIT_FULL_MEMORY), MEMORY },
	{ "full beats SPF enforce", IN(MAIL, .full = ADMIT_FULL_DISK,
	  .spf_checked = 1, .spf_enforce = 1, .spf = ADMIT_SPF_FAIL), DISK },

	/* trickle */
	{ "trickle: an hour of nothing", IN(.client_since = NOW - H),
	  ACCEPT(TRICKLE) },
	{ "trickle: a second short", IN(.client_since = NOW - H + 1), WAITS },
	{ "trickle: unknown client", IN(.client_since = 0), WAITS },
	{ "trickle: since ahead of now", IN(.client_since = NOW + 10),
	  WAITS },
	{ "trickle: at p >= 1", IN(STOP, .client_since = NOW - 2 * H),
	  ACCEPT(TRICKLE) },
	{ "trickle: not for SPF fail", IN(.spf_checked = 1,
	  .spf = ADMIT_SPF_FAIL, .client_since = NOW - D),
	  LATER(SPF_DEFER, "4.7.1") },

	/* buckets: found at MAIL FROM, judged with the headers */
	{ "address bucket empty passes MAIL FROM", IN(MAIL, CALM,
	  .bucket = ADMIT_BUCKET_IP_EMPTY), PASS },
	{ "address bucket empty", IN(CALM,
	  .bucket = ADMIT_BUCKET_IP_EMPTY), LATER(RATE_IP, "4.7.1") },
	{ "network bucket empty", IN(CALM,
	  .bucket = ADMIT_BUCKET_NET_EMPTY), LATER(RATE_NET, "4.7.1") },
	{ "bucket empty while loaded", IN(
	  .bucket = ADMIT_BUCKET_IP_EMPTY), LATER(RATE_IP, "4.7.1") },
	{ "bucket empty, urgent gets in", IN(URGENT,
	  .bucket = ADMIT_BUCKET_IP_EMPTY), ACCEPT(URGENT) },

	/* SPF */
	{ "enforce rejects fail", IN(MAIL, CALM, .spf_checked = 1,
	  .spf_enforce = 1, .spf = ADMIT_SPF_FAIL), NO(SPF_FAIL) },
	{ "enforce rejects urgent fail", IN(URGENT, .spf_checked = 1,
	  .spf_enforce = 1, .spf = ADMIT_SPF_FAIL), NO(SPF_FAIL) },
	{ "enforce tempfails temperror", IN(MAIL, CALM, .spf_checked = 1,
	  .spf_enforce = 1, .spf = ADMIT_SPF_TEMPERROR),
	  LATER(SPF_TEMPERROR, "4.4.3") },
	{ "enforce passes softfail when calm", IN(MAIL, CALM,
	  .spf_checked = 1, .spf_enforce = 1, .spf = ADMIT_SPF_SOFTFAIL),
	  PASS },
	{ "enforce passes permerror", IN(MAIL, CALM, .spf_checked = 1,
	  .spf_enforce = 1, .spf = ADMIT_SPF_PERMERROR), PASS },
	{ "header mode lets fail in when calm", IN(CALM,
	  .spf_checked = 1, .spf = ADMIT_SPF_FAIL), ACCEPT(CALM) },
	{ "loaded: softfail passes MAIL FROM", IN(MAIL, .spf_checked = 1,
	  .spf = ADMIT_SPF_SOFTFAIL), PASS },
	{ "loaded: softfail waits first", IN(.spf_checked = 1,
	  .spf = ADMIT_SPF_SOFTFAIL), LATER(SPF_DEFER, "4.7.1") },
	{ "loaded: old fail waits", IN(.spf_checked = 1,
	  .spf = ADMIT_SPF_FAIL, AGE(4 * D)), LATER(SPF_DEFER, "4.7.1") },
	{ "loaded: urgent fail gets in", IN(.spf_checked = 1,
	  .spf = ADMIT_SPF_FAIL, URGENT), ACCEPT(URGENT) },
	{ "loaded: pass is judged by age", IN(.spf_checked = 1,
	  .spf = ADMIT_SPF_PASS, AGE(4 * D)), ACCEPT(URGENCY) },
	{ "spf off ignores a fail", IN(.spf = ADMIT_SPF_FAIL, AGE(4 * D)),
	  ACCEPT(URGENCY) },
	{ "enforce beats trickle", IN(MAIL, .spf_checked = 1,
	  .spf_enforce = 1, .spf = ADMIT_SPF_FAIL, .client_since = NOW - D),
	  NO(SPF_FAIL) },
};

static void
run_row(void **state)
{
	const struct row *r = *state;
	struct admit_decision d;

	memset(&d, 0x5a, sizeof(d));
	admit_decide(&r->in, &d);
	if (d.verdict != r->verdict || d.reason != r->reason)
		fail_msg("got %s/%s, want %s/%s", admit_verdict_name(d.verdict),
		    admit_reason_name(d.reason),
		    admit_verdict_name(r->verdict),
		    admit_reason_name(r->reason));
	if (r->rcode == NULL) {
		assert_null(d.rcode);
		assert_null(d.xcode);
		assert_null(d.text);
		return;
	}
	assert_non_null(d.rcode);
	assert_string_equal(d.rcode, r->rcode);
	assert_string_equal(d.xcode, r->xcode);
	assert_non_null(d.text);
	assert_null(strpbrk(d.text, "%\r\n"));
	assert_true(strlen(d.text) < 200);
}

/* the EOH answer carries the estimate it was made from */
static void
test_estimate(void **state)
{
	struct admit_input in = IN(AGE(D));
	struct admit_decision d;

	(void)state;
	admit_decide(&in, &d);
	assert_true(fabs(d.urgency - 0.2) < 1e-9);
	assert_int_equal(d.deadline, NOW - D + 5 * D);
	in.received_known = 0;
	admit_decide(&in, &d);
	assert_true(d.urgency == 0);
	assert_int_equal(d.deadline, NOW + 5 * D);
}

/* a backlog reply says so and says when to retry */
static void
test_texts(void **state)
{
	struct admit_input in = IN();
	struct admit_decision d;

	(void)state;
	admit_decide(&in, &d);
	assert_non_null(strstr(d.text, "backlog"));
	assert_non_null(strstr(d.text, "try again in"));
	in.pressure = 1;
	admit_decide(&in, &d);
	assert_non_null(strstr(d.text, "backlog"));
	assert_non_null(strstr(d.text, "try again in"));
}

/* every reason, verdict and SPF result has a distinct name */
static void
test_names(void **state)
{
	int	 i, j;

	(void)state;
	for (i = 0; i < ADMIT_R_COUNT; i++)
		for (j = 0; j < i; j++)
			assert_string_not_equal(admit_reason_name(i),
			    admit_reason_name(j));
	for (i = 0; i < ADMIT_SPF_COUNT; i++)
		for (j = 0; j < i; j++)
			assert_string_not_equal(admit_spf_name(i),
			    admit_spf_name(j));
	assert_string_equal(admit_reason_name(ADMIT_R_COUNT), "?");
	assert_string_equal(admit_spf_name(ADMIT_SPF_SOFTFAIL), "softfail");
	assert_string_equal(admit_verdict_name(ADMIT_HOLD), "hold");
}

/*
 * a sweep over pressure, cutoff and age: a message that is not urgent and
 * whose urgency is below the cutoff never gets in while loaded
 */
static void
test_never_by_mistake(void **state)
{
	struct admit_input in = IN();
	struct admit_decision d;
	double	 p, age;

	(void)state;
	for (p = 0.6; p <= 1.5; p += 0.01) {
		in.pressure = p;
		in.cutoff = p >= 1 ? 1 : (p - 0.6) / 0.4;
		for (age = 0; age < 5 * D; age += 1800) {
			in.first_queued = NOW - (time_t)age;
			admit_decide(&in, &d);
			if (d.verdict == ADMIT_TEMPFAIL)
				continue;
			assert_true(d.urgency >= in.cutoff ||
			    d.deadline - NOW <= 12 * H);
		}
	}
}

/*
 * a sweep over everything but a full host and SPF enforce: mail within
 * urgent of its deadline is never refused, whatever the pressure, the
 * gate, the backlog, the client's buckets or its SPF result say
 */
static void
test_urgent_never_refused(void **state)
{
	static const double pressures[] = { 0, 0.3, 0.7, 0.99, 1, 1.4, 3 };
	static const enum admit_bucket buckets[] = { ADMIT_BUCKET_OK,
	    ADMIT_BUCKET_IP_EMPTY, ADMIT_BUCKET_NET_EMPTY };
	struct admit_input in = IN();
	struct admit_decision d;
	size_t	 i, b, n = 0;
	int	 bits, spf;
	long	 before;

	(void)state;
	for (i = 0; i < nitems(pressures); i++)
	for (b = 0; b < nitems(buckets); b++)
	for (spf = 0; spf < ADMIT_SPF_COUNT; spf++)
	for (bits = 0; bits < 32; bits++)
	for (before = 0; before <= 12 * H; before += 3 * H) {
		in.pressure = pressures[i];
		in.cutoff = pressures[i] >= 1 ? 1 : 0.5;
		in.critical = pressures[i] >= 1.5;
		in.bucket = buckets[b];
		in.spf = (enum admit_spf)spf;
		in.spf_checked = spf != ADMIT_SPF_UNCHECKED;
		in.hold = (bits & 1) != 0;
		in.surge = (bits & 2) != 0;
		in.backlog = (bits & 4) != 0;
		in.known = (bits & 8) != 0;
		in.client_since = bits & 16 ? NOW - D : NOW;
		in.first_queued = NOW - 5 * D + before;
		admit_decide(&in, &d);
		if (d.verdict != ADMIT_ACCEPT && d.verdict != ADMIT_HOLD)
			fail_msg("urgent refused: p %.2f bucket %zu spf %d "
			    "bits %d: %s/%s", in.pressure, b, spf, bits,
			    admit_verdict_name(d.verdict),
			    admit_reason_name(d.reason));
		n++;
	}
	assert_true(n > 10000);
}

/*
 * with hold, mail goes straight into the queue only through an open gate:
 * calm, a known budget, a token, nothing parked; and delivery pressure
 * alone never refuses it
 */
static void
test_hold_gate(void **state)
{
	static const double pressures[] = { 0, 0.59, 0.6, 0.9, 1, 2 };
	struct admit_input in = IN(HOLDS);
	struct admit_decision d;
	size_t	 i;
	int	 bits, open;

	(void)state;
	for (i = 0; i < nitems(pressures); i++)
	for (bits = 0; bits < 16; bits++) {
		in.pressure = pressures[i];
		in.critical = pressures[i] >= 1.5;
		in.surge = (bits & 1) != 0;
		in.backlog = (bits & 2) != 0;
		in.known = (bits & 4) != 0;
		in.received_known = (bits & 8) != 0;
		admit_decide(&in, &d);
		open = pressures[i] < 0.6 && in.known && !in.surge &&
		    !in.backlog;
		assert_int_equal(d.verdict, open ? ADMIT_ACCEPT : ADMIT_HOLD);
	}
}

/* the gate follows the rate, holds a second of it, and shuts at 0 */
static void
test_gate(void **state)
{
	struct bucket	 g;
	int		 i, n;

	(void)state;
	memset(&g, 0, sizeof(g));
	admit_gate_set(&g, 10, 100);
	for (n = 0; !admit_gate_shut(&g, 100); n++)
		admit_gate_take(&g, 100);
	assert_int_equal(n, 10);		/* a second's worth */
	assert_true(admit_gate_shut(&g, 100.05));
	assert_false(admit_gate_shut(&g, 100.1));
	admit_gate_set(&g, 0, 101);		/* stopped: shut for good */
	for (i = 0; i < 5; i++)
		admit_gate_take(&g, 101);
	assert_true(admit_gate_shut(&g, 101));
	assert_true(admit_gate_shut(&g, 1000));
	memset(&g, 0, sizeof(g));
	admit_gate_set(&g, 0.1, 5);		/* slow: still a burst of 2 */
	admit_gate_take(&g, 5);
	admit_gate_take(&g, 5);
	assert_true(admit_gate_shut(&g, 5));
	admit_gate_set(&g, NAN, 6);
	assert_true(admit_gate_shut(&g, 60));
}

int
main(void)
{
	static const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_urgent_never_refused),
		cmocka_unit_test(test_hold_gate),
		cmocka_unit_test(test_gate),
		cmocka_unit_test(test_estimate),
		cmocka_unit_test(test_texts),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_never_by_mistake),
	};
	struct CMUnitTest tests[nitems(rows) + nitems(plain)];
	size_t		 i, n = 0;

	for (i = 0; i < nitems(rows); i++, n++) {
		memset(&tests[n], 0, sizeof(tests[n]));
		tests[n].name = rows[i].name;
		tests[n].test_func = run_row;
		tests[n].initial_state = (void *)&rows[i];
	}
	for (i = 0; i < nitems(plain); i++)
		tests[n++] = plain[i];
	return _cmocka_run_group_tests("admit", tests, n, NULL, NULL);
}
