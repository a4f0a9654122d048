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
#define FULL	.pressure = 1.2, .cutoff = 1
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
	{ "domain lifetime 1d makes 13h urgent enough",
	  IN(.lifetime = D, AGE(13 * H)), ACCEPT(URGENCY) },
	{ "null sender gets no favour", IN(.null_sender = 1), WAITS },
	{ "SIZE gets no favour", IN(.size = 10), WAITS },
	{ "NaN pressure is loaded", IN(.pressure = NAN), WAITS },
	{ "NaN cutoff is 1", IN(.cutoff = NAN, AGE(4 * D)), WAITS },
	{ "cutoff above 1 is 1", IN(.cutoff = 7, AGE(4 * D)), WAITS },
	{ "cutoff below 0 is 0", IN(.cutoff = -1), ACCEPT(URGENCY) },

	/* p >= 1: only urgent mail */
	{ "full: fresh waits", IN(FULL), WAITS },
	{ "full: 4 days old waits", IN(FULL, AGE(4 * D)), WAITS },
	{ "full: exactly urgent from the deadline",
	  IN(FULL, AGE(5 * D - 12 * H)), ACCEPT(URGENT) },
	{ "full: a second outside urgent",
	  IN(FULL, AGE(5 * D - 12 * H - 1)), WAITS },
	{ "full: past its deadline", IN(FULL, AGE(6 * D)), ACCEPT(URGENCY) },
	{ "full: no date is never urgent", IN(FULL, .received_known = 0,
	  .lifetime = H), WAITS },
	{ "urgent while loaded, below the cutoff",
	  IN(.cutoff = 0.95, AGE(4 * D + 13 * H)), ACCEPT(URGENT) },

	/* hold */
	{ "hold: urgent at p >= 1 is held",
	  IN(FULL, .hold = 1, AGE(5 * D - H)), HOLD(URGENT) },
	{ "hold: at exactly p = 1",
	  IN(.pressure = 1, .cutoff = 1, .hold = 1, AGE(5 * D - H)),
	  HOLD(URGENT) },
	{ "hold: below 1 is accepted", IN(.hold = 1, AGE(4 * D)),
	  ACCEPT(URGENCY) },
	{ "hold: calm is accepted", IN(CALM, .hold = 1), ACCEPT(CALM) },
	{ "hold: MAIL FROM passes", IN(FULL, MAIL, .hold = 1), PASS },
	{ "hold: trickle at p >= 1 is held",
	  IN(FULL, .hold = 1, .client_since = NOW - 2 * H), HOLD(TRICKLE) },

	/* critical */
	{ "critical tempfails at MAIL FROM", IN(MAIL, .pressure = 2,
	  .cutoff = 1, .critical = 1), LATER(CRITICAL, "4.3.2") },
	{ "critical beats urgent", IN(.pressure = 2, .cutoff = 1,
	  .critical = 1, AGE(5 * D - H)), LATER(CRITICAL, "4.3.2") },
	{ "critical beats trickle", IN(MAIL, .critical = 1,
	  .client_since = NOW - D), LATER(CRITICAL, "4.3.2") },
	{ "critical beats an empty bucket", IN(MAIL, .critical = 1,
	  .bucket = ADMIT_BUCKET_IP_EMPTY), LATER(CRITICAL, "4.3.2") },
	{ "critical while blind", IN(MAIL, .known = 0, .critical = 1),
	  LATER(CRITICAL, "4.3.2") },

	/* trickle */
	{ "trickle: an hour of nothing", IN(.client_since = NOW - H),
	  ACCEPT(TRICKLE) },
	{ "trickle: a second short", IN(.client_since = NOW - H + 1), WAITS },
	{ "trickle: unknown client", IN(.client_since = 0), WAITS },
	{ "trickle: since ahead of now", IN(.client_since = NOW + 10),
	  WAITS },
	{ "trickle: at p >= 1", IN(FULL, .client_since = NOW - 2 * H),
	  ACCEPT(TRICKLE) },
	{ "trickle: not for SPF fail", IN(.spf_checked = 1,
	  .spf = ADMIT_SPF_FAIL, .client_since = NOW - D),
	  LATER(SPF_DEFER, "4.7.1") },

	/* buckets */
	{ "address bucket empty", IN(MAIL, CALM,
	  .bucket = ADMIT_BUCKET_IP_EMPTY), LATER(RATE_IP, "4.7.1") },
	{ "network bucket empty", IN(MAIL, CALM,
	  .bucket = ADMIT_BUCKET_NET_EMPTY), LATER(RATE_NET, "4.7.1") },
	{ "bucket empty while loaded", IN(MAIL,
	  .bucket = ADMIT_BUCKET_IP_EMPTY), LATER(RATE_IP, "4.7.1") },
	{ "buckets are for MAIL FROM only", IN(CALM,
	  .bucket = ADMIT_BUCKET_IP_EMPTY), ACCEPT(CALM) },

	/* SPF */
	{ "enforce rejects fail", IN(MAIL, CALM, .spf_checked = 1,
	  .spf_enforce = 1, .spf = ADMIT_SPF_FAIL), NO(SPF_FAIL) },
	{ "enforce tempfails temperror", IN(MAIL, CALM, .spf_checked = 1,
	  .spf_enforce = 1, .spf = ADMIT_SPF_TEMPERROR),
	  LATER(SPF_TEMPERROR, "4.4.3") },
	{ "enforce passes softfail when calm", IN(MAIL, CALM,
	  .spf_checked = 1, .spf_enforce = 1, .spf = ADMIT_SPF_SOFTFAIL),
	  PASS },
	{ "enforce passes permerror", IN(MAIL, CALM, .spf_checked = 1,
	  .spf_enforce = 1, .spf = ADMIT_SPF_PERMERROR), PASS },
	{ "header mode lets fail in when calm", IN(MAIL, CALM,
	  .spf_checked = 1, .spf = ADMIT_SPF_FAIL), PASS },
	{ "loaded: softfail waits first", IN(MAIL, .spf_checked = 1,
	  .spf = ADMIT_SPF_SOFTFAIL), LATER(SPF_DEFER, "4.7.1") },
	{ "loaded: urgent fail waits", IN(.spf_checked = 1,
	  .spf = ADMIT_SPF_FAIL, AGE(4 * D)), LATER(SPF_DEFER, "4.7.1") },
	{ "loaded: pass is judged by age", IN(.spf_checked = 1,
	  .spf = ADMIT_SPF_PASS, AGE(4 * D)), ACCEPT(URGENCY) },
	{ "spf off ignores a fail", IN(MAIL, .spf = ADMIT_SPF_FAIL), PASS },
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

int
main(void)
{
	static const struct CMUnitTest plain[] = {
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
