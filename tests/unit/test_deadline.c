/*
 * test_deadline.c - bounce deadlines, domain_lifetimes, the remote estimate
 *
 * Tables: domain_lifetimes values that must parse or fail (with a word the
 * error must contain), lookups against one table, and Received: chains with
 * the estimate they must give. The rest check one rule each: the Postfix and
 * Sendmail formulas, saturation, slack and the header bound.
 */
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ebb/deadline.h"
#include "ebb/util.h"

#define H	3600L
#define D	86400L

/* Tue, 12 Mar 2024 10:00:00 +0000 */
#define NOW	((time_t)1710237600)

static void
test_postfix(void **state)
{
	(void)state;
	assert_int_equal(deadline_postfix(1000, 0, 5 * D, 5 * D), 1000 + 5 * D);
	assert_int_equal(deadline_postfix(1000, 1, 5 * D, 2 * D), 1000 + 2 * D);
	assert_int_equal(deadline_postfix(1000, 0, 5 * D, 2 * D), 1000 + 5 * D);
	/* 0: bounced after the first failed attempt */
	assert_int_equal(deadline_postfix(1000, 0, 0, 0), 1000);
	assert_int_equal(deadline_postfix(1000, 1, 5 * D, -1), 1000);
}

static void
test_sendmail(void **state)
{
	(void)state;
	assert_int_equal(deadline_sendmail(NOW, 5 * D), NOW + 5 * D);
	assert_int_equal(deadline_sendmail(NOW, 4 * H), NOW + 4 * H);
	assert_int_equal(deadline_sendmail(NOW, -5), NOW);
}

static void
test_saturate(void **state)
{
	time_t	 big = deadline_sendmail(0, LONG_MAX);

	(void)state;
	assert_true(big > 0);
	assert_int_equal(deadline_sendmail(big, LONG_MAX), big);
	assert_int_equal(deadline_postfix(big - 1, 0, 10, 10), big);
	assert_int_equal(deadline_slack(big, -big), LONG_MAX);
	assert_int_equal(deadline_slack(-big, big), LONG_MIN);
}

static void
test_slack(void **state)
{
	(void)state;
	assert_int_equal(deadline_slack(NOW + 4 * H, NOW), 4 * H);
	assert_int_equal(deadline_slack(NOW - 60, NOW), -60);
	assert_int_equal(deadline_slack(NOW, NOW), 0);
}

struct parse_case {
	const char	*name;
	const char	*in;
	size_t		 count;		/* pairs when it parses */
	const char	*err;		/* NULL: must parse; else in error */
};

static const struct parse_case parses[] = {
	{ "lifetimes: the default", "outlook.com=1d hotmail.com=1d "
	  "live.com=1d gmail.com=3d googlemail.com=3d", 5, NULL },
	{ "lifetimes: empty", "", 0, NULL },
	{ "lifetimes: separators only", " ,\t, \n", 0, NULL },
	{ "lifetimes: commas", "a.example=2h,b.example=4d", 2, NULL },
	{ "lifetimes: commas and spaces", " a.example=2h , b.example=4d ,", 2,
	  NULL },
	{ "lifetimes: compound duration", "x.example=1d12h", 1, NULL },
	{ "lifetimes: seconds", "x.example=3600", 1, NULL },
	{ "lifetimes: weeks", "x.example=2w", 1, NULL },
	{ "lifetimes: bounds", "a.example=1h b.example=30d", 2, NULL },
	{ "lifetimes: one label", "localhost=1d", 1, NULL },
	{ "lifetimes: digits and dashes", "mx-1.2example.com=1d", 1, NULL },
	{ "lifetimes: no =", "outlook.com", 0, "domain=duration" },
	{ "lifetimes: no domain", "=1d", 0, "domain" },
	{ "lifetimes: no duration", "outlook.com=", 0, "duration" },
	{ "lifetimes: bad unit", "outlook.com=1y", 0, "duration" },
	{ "lifetimes: negative", "outlook.com=-1d", 0, "duration" },
	{ "lifetimes: too short", "outlook.com=59m", 0, "1h to 30d" },
	{ "lifetimes: too long", "outlook.com=31d", 0, "1h to 30d" },
	{ "lifetimes: overflow", "outlook.com=99999999999999999999", 0,
	  "duration" },
	{ "lifetimes: duration too long", "a.example=1w1d1h1m1s1w1d1h1m1s1w1d",
	  0, "duration" },
	{ "lifetimes: two =", "a.example=1d=2d", 0, "duration" },
	{ "lifetimes: space around =", "a.example = 1d", 0, "domain=duration" },
	{ "lifetimes: underscore", "a_b.example=1d", 0, "domain" },
	{ "lifetimes: leading dot", ".example.com=1d", 0, "domain" },
	{ "lifetimes: trailing dot", "example.com.=1d", 0, "domain" },
	{ "lifetimes: empty label", "a..example=1d", 0, "domain" },
	{ "lifetimes: dash at label end", "a-.example=1d", 0, "domain" },
	{ "lifetimes: dash at label start", "-a.example=1d", 0, "domain" },
	{ "lifetimes: label of 64", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaa.example=1d", 0, "domain" },
	{ "lifetimes: listed twice", "a.example=1d b.example=2d A.Example=3d",
	  0, "twice" },
	{ "lifetimes: high bytes", "\xc3\xa9.example=1d", 0, "domain" },
};

static void
run_parse(void **state)
{
	const struct parse_case *c = *state;
	struct lifetimes *l = NULL;
	char		*err = NULL;
	int		 rc;

	rc = lifetimes_parse(c->in, &l, &err);
	if (c->err == NULL) {
		if (rc != 0)
			fail_msg("%s", err);
		assert_non_null(l);
		assert_int_equal(lifetimes_count(l), c->count);
		lifetimes_free(&l);
		assert_null(l);
		return;
	}
	assert_int_equal(rc, -1);
	assert_non_null(err);
	if (strstr(err, c->err) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, c->err);
	free(err);
}

static void
test_parse_bounds(void **state)
{
	struct lifetimes *l = NULL;
	char		*s, *p, *err = NULL;
	size_t		 i, n = LIFETIMES_MAX + 1, size = n * 32 + 1;

	(void)state;
	s = xmalloc(size);
	for (i = 0, p = s; i < n; i++)
		p += snprintf(p, size - (size_t)(p - s), "d%zu.example=1d ", i);
	/* LIFETIMES_MAX pairs are fine, one more is not */
	p = strrchr(s, 'd');
	while (p > s && p[-1] != ' ')
		p--;
	*p = '\0';
	assert_int_equal(lifetimes_parse(s, &l, &err), 0);
	assert_int_equal(lifetimes_count(l), LIFETIMES_MAX);
	lifetimes_free(&l);
	snprintf(p, size - (size_t)(p - s), "last.example=1d");
	assert_int_equal(lifetimes_parse(s, &l, &err), -1);
	assert_non_null(strstr(err, "more than"));
	free(err);
	free(s);

	/* an overlong text, and a NULL err_r */
	s = xmalloc(LIFETIMES_TEXT_MAX + 2);
	memset(s, ' ', LIFETIMES_TEXT_MAX + 1);
	s[LIFETIMES_TEXT_MAX + 1] = '\0';
	assert_int_equal(lifetimes_parse(s, &l, NULL), -1);
	s[LIFETIMES_TEXT_MAX] = '\0';
	assert_int_equal(lifetimes_parse(s, &l, NULL), 0);
	lifetimes_free(&l);
	assert_int_equal(lifetimes_parse("bad", &l, NULL), -1);
	free(s);

	assert_int_equal(lifetimes_parse(NULL, &l, NULL), 0);
	assert_int_equal(lifetimes_count(l), 0);
	lifetimes_free(&l);
	lifetimes_free(&l);		/* NULL is fine */
}

struct lookup_case {
	const char	*name;
	const char	*domain;
	long		 want;
};

#define DFLT	(5 * D)
static const char lookup_table[] = "outlook.com=1d gmail.com=3d "
    "eu.example.org=2d example.org=4d com=6d mx.deep.sub.example.net=2h";

static const struct lookup_case lookups[] = {
	{ "lookup: exact", "outlook.com", 1 * D },
	{ "lookup: subdomain", "mail.outlook.com", 1 * D },
	{ "lookup: deep subdomain", "a.b.c.gmail.com", 3 * D },
	{ "lookup: not a label boundary", "xgmail.com", 6 * D },
	{ "lookup: longest wins", "mx.eu.example.org", 2 * D },
	{ "lookup: parent of the longer", "us.example.org", 4 * D },
	{ "lookup: the longer itself", "eu.example.org", 2 * D },
	{ "lookup: a TLD entry", "anything.com", 6 * D },
	{ "lookup: case", "MAIL.OutLook.COM", 1 * D },
	{ "lookup: trailing dot", "gmail.com.", 3 * D },
	{ "lookup: no match", "example.net", DFLT },
	{ "lookup: parent of an entry", "sub.example.net", DFLT },
	{ "lookup: the deep entry", "mx.deep.sub.example.net", 2 * H },
	{ "lookup: empty", "", DFLT },
	{ "lookup: a dot", ".", DFLT },
	{ "lookup: NULL", NULL, DFLT },
	{ "lookup: suffix not label", "ook.com", 6 * D },
	{ "lookup: leading dot", ".gmail.com", 3 * D },
};

static void
run_lookup(void **state)
{
	const struct lookup_case *c = *state;
	struct lifetimes *l = NULL;
	char		*err = NULL;

	if (lifetimes_parse(lookup_table, &l, &err) != 0)
		fail_msg("%s", err);
	assert_int_equal(lifetimes_lookup(l, c->domain, DFLT), c->want);
	lifetimes_free(&l);
}

static void
test_lookup_edges(void **state)
{
	struct lifetimes *l = NULL, *empty = NULL;
	char		 big[600];

	(void)state;
	assert_int_equal(lifetimes_lookup(NULL, "gmail.com", 7), 7);
	assert_int_equal(lifetimes_parse("", &empty, NULL), 0);
	assert_int_equal(lifetimes_lookup(empty, "gmail.com", 7), 7);
	lifetimes_free(&empty);

	assert_int_equal(lifetimes_parse(lookup_table, &l, NULL), 0);
	/* an overlong domain (not NUL-terminated early) is no match */
	memset(big, 'a', sizeof(big));
	memcpy(big + sizeof(big) - 11, ".gmail.com", 11);
	assert_int_equal(lifetimes_lookup(l, big, 7), 7);
	/* 253 bytes is the longest that counts */
	assert_int_equal(lifetimes_lookup(l, big + sizeof(big) - 1 - 253, 7),
	    3 * D);
	assert_int_equal(lifetimes_lookup(l, big + sizeof(big) - 1 - 254, 7),
	    7);
	lifetimes_free(&l);
}

/* the remote estimate over Received: chains */
struct estimate_case {
	const char	*name;
	const char	*hdrs[6];	/* NULL-terminated */
	int		 known;
	time_t		 first;		/* when known */
	size_t		 sane, insane, unparsed;
};

#define RCV(date)	"from a by b with ESMTP id X; " date

static const struct estimate_case estimates[] = {
	{ "estimate: one hop", { RCV("Tue, 12 Mar 2024 09:00:00 +0000"),
	  NULL }, 1, NOW - H, 1, 0, 0 },
	{ "estimate: oldest of the chain", {
	  RCV("Tue, 12 Mar 2024 10:00:00 +0000"),
	  RCV("Mon, 11 Mar 2024 10:00:00 +0000"),
	  RCV("Sun, 10 Mar 2024 10:00:00 +0000"),
	  RCV("Mon, 11 Mar 2024 12:00:00 +0000"), NULL },
	  1, NOW - 2 * D, 4, 0, 0 },
	{ "estimate: zones compared in UTC", {
	  RCV("Tue, 12 Mar 2024 05:00:00 -0500"),
	  RCV("Tue, 12 Mar 2024 14:30:00 +0530"), NULL },
	  1, NOW - H, 2, 0, 0 },
	{ "estimate: future within skew", {
	  RCV("Tue, 12 Mar 2024 10:10:00 +0000"), NULL },
	  1, NOW + 600, 1, 0, 0 },
	{ "estimate: future beyond skew", {
	  RCV("Tue, 12 Mar 2024 10:20:00 +0000"),
	  RCV("Tue, 12 Mar 2024 09:00:00 +0000"), NULL },
	  1, NOW - H, 1, 1, 0 },
	{ "estimate: far future, year 2099", {
	  RCV("Thu, 12 Mar 2099 10:00:00 +0000"),
	  RCV("Tue, 12 Mar 2024 08:00:00 +0000"), NULL },
	  1, NOW - 2 * H, 1, 1, 0 },
	{ "estimate: older than 30 days", {
	  RCV("Tue, 12 Mar 2024 09:00:00 +0000"),
	  RCV("Fri, 9 Feb 2024 10:00:00 +0000"), NULL },
	  1, NOW - H, 1, 1, 0 },
	{ "estimate: just within 30 days", {
	  RCV("Sat, 11 Feb 2024 10:00:00 +0000"), NULL },
	  1, NOW - 30 * D, 1, 0, 0 },
	{ "estimate: epoch is insane", {
	  RCV("Thu, 1 Jan 1970 00:00:00 +0000"), NULL }, 0, 0, 0, 1, 0 },
	{ "estimate: broken dates skipped", {
	  RCV("Tue, 32 Mar 2024 10:00:00 +0000"), "from a by b",
	  RCV("garbage"), RCV("Tue, 12 Mar 2024 07:00:00 +0000"), NULL },
	  1, NOW - 3 * H, 1, 0, 3 },
	{ "estimate: none sane", { "from a by b",
	  RCV("Mon, 1 Jan 2001 00:00:00 +0000"), NULL }, 0, 0, 0, 1, 1 },
	{ "estimate: no headers", { NULL }, 0, 0, 0, 0, 0 },
};

static void
run_estimate(void **state)
{
	const struct estimate_case *c = *state;
	struct received_value v[6];
	struct remote_estimate r;
	size_t		 n;

	for (n = 0; c->hdrs[n] != NULL; n++) {
		v[n].value = c->hdrs[n];
		v[n].len = strlen(c->hdrs[n]);
	}
	assert_int_equal(remote_deadline_estimate(v, n, NOW, 15 * 60, 30 * D,
	    5 * D, &r), c->known);
	assert_int_equal(r.known, c->known);
	assert_int_equal(r.first_queued, c->known ? c->first : NOW);
	assert_int_equal(r.deadline, r.first_queued + 5 * D);
	assert_int_equal(r.sane, c->sane);
	assert_int_equal(r.insane, c->insane);
	assert_int_equal(r.unparsed, c->unparsed);
	assert_int_equal(r.skipped, 0);
}

static void
test_estimate_bounded(void **state)
{
	static const char old[] = RCV("Sun, 10 Mar 2024 10:00:00 +0000");
	static const char new[] = RCV("Tue, 12 Mar 2024 09:00:00 +0000");
	struct received_value *v;
	struct remote_estimate r;
	size_t		 i, n = REMOTE_RECEIVED_MAX + 50;

	(void)state;
	v = xcalloc(n, sizeof(*v));
	for (i = 0; i < n; i++) {
		/* the oldest date sits past the bound: not read */
		v[i].value = i == n - 1 ? old : new;
		v[i].len = strlen(v[i].value);
	}
	assert_int_equal(remote_deadline_estimate(v, n, NOW, 900, 30 * D, D,
	    &r), 1);
	assert_int_equal(r.first_queued, NOW - H);
	assert_int_equal(r.deadline, NOW - H + D);
	assert_int_equal(r.sane, REMOTE_RECEIVED_MAX);
	assert_int_equal(r.skipped, 50);
	free(v);

	/* NULL array, negative skew, age and lifetime are taken as 0 */
	assert_int_equal(remote_deadline_estimate(NULL, 3, NOW, -5, -5, -5,
	    &r), 0);
	assert_int_equal(r.deadline, NOW);
}

/* with a lifetime from the table, as the milter will use it */
static void
test_estimate_with_lifetimes(void **state)
{
	struct received_value v;
	struct remote_estimate r;
	struct lifetimes *l = NULL;
	long		 life;

	(void)state;
	v.value = RCV("Mon, 11 Mar 2024 12:00:00 +0000");
	v.len = strlen(v.value);
	assert_int_equal(lifetimes_parse("outlook.com=1d", &l, NULL), 0);
	life = lifetimes_lookup(l, "eur.outlook.com", 5 * D);
	assert_int_equal(remote_deadline_estimate(&v, 1, NOW, 900, 30 * D,
	    life, &r), 1);
	/* queued 22 h ago with a 24 h lifetime: 2 h left */
	assert_int_equal(deadline_slack(r.deadline, NOW), 2 * H);
	lifetimes_free(&l);
}

int
main(void)
{
	static const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_postfix),
		cmocka_unit_test(test_sendmail),
		cmocka_unit_test(test_saturate),
		cmocka_unit_test(test_slack),
		cmocka_unit_test(test_parse_bounds),
		cmocka_unit_test(test_lookup_edges),
		cmocka_unit_test(test_estimate_bounded),
		cmocka_unit_test(test_estimate_with_lifetimes),
	};
	struct CMUnitTest tests[nitems(parses) + nitems(lookups) +
	    nitems(estimates) + nitems(plain)];
	size_t		 i, n = 0;

	for (i = 0; i < nitems(plain); i++, n++)
		tests[n] = plain[i];
	for (i = 0; i < nitems(parses); i++, n++) {
		memset(&tests[n], 0, sizeof(tests[n]));
		tests[n].name = parses[i].name;
		tests[n].test_func = run_parse;
		tests[n].initial_state = (void *)&parses[i];
	}
	for (i = 0; i < nitems(lookups); i++, n++) {
		memset(&tests[n], 0, sizeof(tests[n]));
		tests[n].name = lookups[i].name;
		tests[n].test_func = run_lookup;
		tests[n].initial_state = (void *)&lookups[i];
	}
	for (i = 0; i < nitems(estimates); i++, n++) {
		memset(&tests[n], 0, sizeof(tests[n]));
		tests[n].name = estimates[i].name;
		tests[n].test_func = run_estimate;
		tests[n].initial_state = (void *)&estimates[i];
	}
	return _cmocka_run_group_tests("deadline", tests, n, NULL, NULL);
}
