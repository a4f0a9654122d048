/*
 * test_timeline.c - the incident timeline: what a sequence of
 * observations writes, tables of steps with the time passed in
 *
 * Each case is a script of observations (seconds from the start,
 * waiting, released, expired released, expired parked, blocked) and the
 * entries expected from the whole run, in order, as one string of kind
 * names. The flapping cases are the debouncing: a load pause flipping
 * every few seconds for hours writes nothing, one flipping every few
 * minutes at most two entries per TIMELINE_QUIET.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ebb/timeline.h"
#include "ebb/util.h"

#define T0	1700000000

struct step {
	long	 at, waiting, released, exp_rel, exp_parked;
	int	 blocked;
};

struct tcase {
	const char	*name;
	struct step	 steps[16];
	const char	*want;		/* kinds, space separated */
};

static const struct tcase cases[] = {
	{ "a small queue is no incident",
	    { { 0, 9, 0, 0, 0, 0 }, { 100, 3, 0, 0, 0, 0 },
	      { 300, 0, 0, 0, 0, 0 }, { -1, 0, 0, 0, 0, 0 } }, "" },
	{ "a whole incident, start to end",
	    { { 0, 100, 5, 0, 0, 0 }, { 5, 100, 6, 0, 0, 0 },
	      { 600, 50, 56, 0, 0, 0 }, { 1200, 0, 106, 0, 0, 0 },
	      { 1230, 0, 106, 0, 0, 0 }, { 1260, 0, 106, 0, 0, 0 },
	      { -1, 0, 0, 0, 0, 0 } }, "found started half cleared" },
	{ "empty for less than a minute is not cleared",
	    { { 0, 20, 0, 0, 0, 0 }, { 10, 0, 20, 0, 0, 0 },
	      { 40, 0, 20, 0, 0, 0 }, { 50, 5, 20, 0, 0, 0 },
	      { 200, 5, 20, 0, 0, 0 }, { -1, 0, 0, 0, 0, 0 } }, "found started half" },
	{ "a pause by load, held a minute, and its resume",
	    { { 0, 100, 0, 0, 0, 1 }, { 30, 100, 0, 0, 0, 1 },
	      { 60, 100, 0, 0, 0, 1 }, { 61, 100, 1, 0, 0, 0 },
	      { 100, 99, 2, 0, 0, 0 }, { 121, 98, 3, 0, 0, 0 },
	      { -1, 0, 0, 0, 0, 0 } }, "found paused started resumed" },
	{ "past the deadline: written, then again after the quiet time",
	    { { 0, 100, 0, 0, 3, 0 }, { 60, 100, 0, 0, 5, 0 },
	      { 300, 100, 1, 1, 4, 0 }, { 600, 100, 1, 1, 9, 0 },
	      { 700, 100, 1, 1, 9, 0 }, { -1, 0, 0, 0, 0, 0 } },
	    "found expired started expired" },
	{ "expired counts only this incident's releases",
	    { { 0, 50, 100, 40, 0, 0 }, { 10, 50, 100, 40, 0, 0 },
	      { -1, 0, 0, 0, 0, 0 } }, "found" },
};

static void
kinds_of(const struct tcase *c, char *out, size_t size, long *pauses_r)
{
	struct timeline	 t;
	struct timeline_obs o;
	struct timeline_event ev[TIMELINE_EVENTS_MAX];
	const struct step *s;
	size_t		 n, i;

	memset(&t, 0, sizeof(t));
	out[0] = '\0';
	*pauses_r = 0;
	for (s = c->steps; s->at >= 0; s++) {
		memset(&o, 0, sizeof(o));
		o.now = T0 + s->at;
		o.waiting = s->waiting;
		o.released = s->released;
		o.expired_released = s->exp_rel;
		o.expired_parked = s->exp_parked;
		o.blocked = s->blocked;
		o.limit = "load";
		n = timeline_observe(&t, &o, ev);
		for (i = 0; i < n; i++) {
			if (out[0] != '\0')
				strncat(out, " ", size - strlen(out) - 1);
			strncat(out, timeline_kind_name(ev[i].kind),
			    size - strlen(out) - 1);
			assert_true(ebb_text_line_valid(ev[i].text,
			    strlen(ev[i].text)));
		}
	}
}

static void
test_cases(void **state)
{
	char	 got[512];
	long	 p;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kinds_of(&cases[i], got, sizeof(got), &p);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].name,
			    got, cases[i].want);
	}
}

/* flap - hours of a pause flipping every period seconds: the entries */
static void
flap(long period, long hours, long *paused_r, long *resumed_r)
{
	struct timeline	 t;
	struct timeline_obs o;
	struct timeline_event ev[TIMELINE_EVENTS_MAX];
	size_t		 n, i;
	long		 s;

	memset(&t, 0, sizeof(t));
	*paused_r = *resumed_r = 0;
	for (s = 0; s < hours * 3600; s++) {
		memset(&o, 0, sizeof(o));
		o.now = T0 + s;
		o.waiting = 1000;
		o.released = s / 10;
		o.blocked = (s / period) % 2 == 1;
		o.limit = "psi_io";
		n = timeline_observe(&t, &o, ev);
		for (i = 0; i < n; i++) {
			if (ev[i].kind == TIMELINE_PAUSED)
				(*paused_r)++;
			if (ev[i].kind == TIMELINE_RESUMED)
				(*resumed_r)++;
		}
	}
}

static void
test_flapping(void **state)
{
	static const struct {
		long	 period, hours, max_pauses;
	} t[] = {
		{ 3, 6, 0 },		/* every few seconds: nothing */
		{ 30, 6, 0 },		/* under TIMELINE_SETTLE: nothing */
		{ 90, 6, 6 * 3600 / TIMELINE_QUIET },
		{ 240, 24, 24 * 3600 / TIMELINE_QUIET },
	};
	long	 p, r;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		flap(t[i].period, t[i].hours, &p, &r);
		if (p > t[i].max_pauses || r > p || p - r > 1)
			fail_msg("flapping every %lds: %ld pauses, %ld "
			    "resumes (at most %ld)", t[i].period, p, r,
			    t[i].max_pauses);
		if (t[i].max_pauses > 0 && p == 0)
			fail_msg("flapping every %lds: no pause written",
			    t[i].period);
	}
}

/* the pause names the limit; none of the words is jargon */
static void
test_words(void **state)
{
	struct timeline	 t;
	struct timeline_obs o;
	struct timeline_event ev[TIMELINE_EVENTS_MAX];
	size_t		 n, i;
	long		 s;
	int		 named = 0;

	(void)state;
	memset(&t, 0, sizeof(t));
	for (s = 0; s <= 61; s++) {
		memset(&o, 0, sizeof(o));
		o.now = T0 + s;
		o.waiting = 40;
		o.blocked = 1;
		o.limit = "memory";
		o.expired_parked = 2;
		n = timeline_observe(&t, &o, ev);
		for (i = 0; i < n; i++) {
			assert_null(strstr(ev[i].text, "park"));
			assert_null(strstr(ev[i].text, "ebb"));
			if (ev[i].kind == TIMELINE_PAUSED)
				named = strstr(ev[i].text, "memory") != NULL;
			if (ev[i].kind == TIMELINE_EXPIRED)
				assert_non_null(strstr(ev[i].text,
				    "send it again"));
		}
	}
	assert_true(named);
}

/* a restart picks the incident up: no second "found" or "started" */
static void
test_restore(void **state)
{
	struct timeline	 t;
	struct timeline_obs o;
	struct timeline_event ev[TIMELINE_EVENTS_MAX];
	size_t		 n;

	(void)state;
	memset(&t, 0, sizeof(t));
	timeline_restore(&t, TIMELINE_FOUND, T0, 100);
	timeline_restore(&t, TIMELINE_STARTED, T0 + 5, 99);
	timeline_restore(&t, TIMELINE_EXPIRED, T0 + 9, 4);
	memset(&o, 0, sizeof(o));
	o.now = T0 + 3600;
	o.waiting = 80;
	o.released = 500;
	o.expired_released = 300;
	o.expired_parked = 1;
	n = timeline_observe(&t, &o, ev);
	assert_int_equal(n, 0);
	assert_int_equal(t.since, T0);
	assert_int_equal(timeline_expired(&t, &o), 4);
	o.now += 30;
	o.waiting = 40;
	n = timeline_observe(&t, &o, ev);
	assert_int_equal(n, 1);
	assert_int_equal(ev[0].kind, TIMELINE_HALF);
	o.now += TIMELINE_QUIET;
	o.expired_parked = 3;
	n = timeline_observe(&t, &o, ev);
	assert_int_equal(n, 1);
	assert_int_equal(ev[0].kind, TIMELINE_EXPIRED);
	assert_int_equal(ev[0].count, 6);
	timeline_restore(&t, TIMELINE_CLEARED, T0 + 7200, 0);
	assert_false(t.in_incident);
}

static void
test_text_valid(void **state)
{
	static const struct {
		const char	*s;
		int		 ok;
	} t[] = {
		{ "mail flows again", 1 },
		{ "Zürich: Störung behoben \xe2\x9c\x94", 1 },
		{ "", 0 },
		{ "   ", 0 },
		{ "two\nlines", 0 },
		{ "tab\there", 0 },
		{ "del\x7f", 0 },
		{ "c1 \xc2\x85", 0 },
		{ "overlong \xc0\xbc", 0 },
		{ "surrogate \xed\xa0\x80", 0 },
		{ "cut \xe2\x9c", 0 },
		{ "bad \xff", 0 },
		{ "<script>alert(1)</script>", 1 },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (ebb_text_line_valid(t[i].s, strlen(t[i].s)) != t[i].ok)
			fail_msg("\"%s\": want %d", t[i].s, t[i].ok);
}

static void
test_local_time(void **state)
{
	char	 human[40], iso[40];

	(void)state;
	setenv("TZ", "Europe/Zurich", 1);
	tzset();
	timeline_local_time(1714651380, human, iso);	/* 12:03 UTC */
	assert_string_equal(iso, "2024-05-02T14:03:00+02:00");
	assert_string_equal(human, "2024-05-02 14:03 CEST");
	setenv("TZ", "UTC", 1);
	tzset();
	timeline_local_time(1714651380, human, iso);
	assert_string_equal(iso, "2024-05-02T12:03:00+00:00");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_flapping),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_text_valid),
		cmocka_unit_test(test_local_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
