/*
 * test_backlog.c - the backlog table: bucket edges, domains, counting,
 * order, --top, text alignment and the JSON shape
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
#include <jansson.h>

#include "ebb/backlog.h"
#include "ebb/msg.h"
#include "ebb/util.h"

/* queue numbers as a backend would give them (the index does not care) */
enum { Q_INCOMING, Q_ACTIVE, Q_DEFERRED, Q_HOLD };

#define NOW	1700000000
#define MIN	60
#define HOUR	3600

/* add - one message of age seconds, left seconds to its deadline */
static void
add(struct backlog *b, const char *sender, long age, long left, size_t n,
    ...)
{
	struct msg	 m;
	const char	*rcpt[8];
	va_list		 ap;
	size_t		 i;

	memset(&m, 0, sizeof(m));
	snprintf(m.queue_id, sizeof(m.queue_id), "ID%ld", age);
	m.queue = Q_DEFERRED;
	m.arrival_time = NOW - age;
	m.create_time = m.arrival_time;
	m.deadline = NOW + left;
	m.sender = sender;
	va_start(ap, n);
	for (i = 0; i < n && i < nitems(rcpt); i++)
		rcpt[i] = va_arg(ap, const char *);
	va_end(ap);
	m.rcpt = rcpt;
	m.nrcpt = (uint32_t)n;
	backlog_add(b, &m);
}

/* row - the row of a domain, or NULL */
static const struct backlog_row *
row(struct backlog *b, const char *domain)
{
	const struct backlog_row *r;
	size_t		 i;

	for (i = 0; (r = backlog_row(b, i)) != NULL; i++)
		if (strcmp(r->domain, domain) == 0)
			return r;
	return NULL;
}

/* print - the text table into an allocated string */
static char *
print(struct backlog *b, size_t top)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;

	assert_non_null(fp = open_memstream(&buf, &len));
	backlog_print(b, top, fp);
	assert_int_equal(fclose(fp), 0);
	return buf;
}

static void
test_age_buckets(void **state)
{
	static const struct {
		long long	 age;
		const char	*label;
	} cases[] = {
		{ -3600, "5" },			/* from the future */
		{ 0, "5" },
		{ 5 * MIN - 1, "5" },
		{ 5 * MIN, "10" },		/* exactly 5 minutes */
		{ 10 * MIN - 1, "10" },
		{ 10 * MIN, "20" },
		{ 39 * MIN, "40" },
		{ 40 * MIN, "80" },
		{ 640 * MIN - 1, "640" },
		{ 640 * MIN, "1280" },
		{ 1280 * MIN - 1, "1280" },
		{ 1280 * MIN, "1280+" },	/* exactly 1280 minutes */
		{ 30LL * 86400, "1280+" },
		{ INT64_MAX, "1280+" },
	};
	size_t	 i;

	for (i = 0; i < nitems(cases); i++)
		assert_string_equal(backlog_age_label(
		    backlog_age_bucket(cases[i].age)), cases[i].label);
	assert_null(backlog_age_label(-1));
	assert_null(backlog_age_label(BACKLOG_AGE_BUCKETS));
}

static void
test_deadline_buckets(void **state)
{
	static const struct {
		long long	 left;
		const char	*label;
	} cases[] = {
		{ -86400, "expired" },
		{ -1, "expired" },
		{ 0, "expired" },		/* due now: bounces next try */
		{ 1, "<1h" },
		{ HOUR - 1, "<1h" },
		{ HOUR, "<6h" },
		{ 6 * HOUR - 1, "<6h" },
		{ 6 * HOUR, "<24h" },
		{ 24 * HOUR, "<48h" },
		{ 48 * HOUR - 1, "<48h" },
		{ 48 * HOUR, "later" },
		{ 5LL * 86400, "later" },
	};
	size_t	 i;

	for (i = 0; i < nitems(cases); i++)
		assert_string_equal(backlog_deadline_label(
		    backlog_deadline_bucket(cases[i].left)), cases[i].label);
	assert_null(backlog_deadline_label(BACKLOG_DEADLINE_BUCKETS));
}

static void
test_counts(void **state)
{
	struct backlog	*b = backlog_new(BACKLOG_BY_RCPT_DOMAIN, NOW);
	const struct backlog_row *r;

	/* two domains, two recipients in one of them: once per row */
	add(b, "a@s.test", 5 * MIN, -1, 3, "x@Example.ORG", "y@example.org",
	    "z@other.test");
	add(b, "a@s.test", 2 * HOUR, 3 * HOUR, 1, "w@example.org");
	add(b, "a@s.test", 0, 72 * HOUR, 0);	/* no pending recipient */

	assert_int_equal(backlog_nrows(b), 3);
	r = backlog_row(b, 0);
	assert_string_equal(r->domain, "TOTAL");
	assert_int_equal(r->total, 3);
	assert_int_equal(r->age[0], 1);		/* "5" */
	assert_int_equal(r->age[1], 1);		/* "10" */
	assert_int_equal(r->age[5], 1);		/* "160": [80, 160) min */
	assert_int_equal(r->deadline[0], 1);	/* expired */
	assert_int_equal(r->deadline[2], 1);	/* <6h */
	assert_int_equal(r->deadline[5], 1);	/* later */

	r = backlog_row(b, 1);
	assert_string_equal(r->domain, "example.org");
	assert_int_equal(r->total, 2);
	assert_int_equal(r->age[1], 1);
	assert_int_equal(r->age[5], 1);
	assert_int_equal(r->deadline[0], 1);
	r = backlog_row(b, 2);
	assert_string_equal(r->domain, "other.test");
	assert_int_equal(r->total, 1);
	assert_null(backlog_row(b, 3));

	/* a later add re-sorts */
	add(b, "", 0, HOUR, 2, "p@other.test", "q@third.test");
	add(b, "", 0, HOUR, 1, "p@other.test");
	assert_string_equal(backlog_row(b, 1)->domain, "other.test");
	assert_int_equal(backlog_row(b, 1)->total, 3);
	assert_int_equal(backlog_row(b, 0)->total, 5);
	backlog_free(&b);
	assert_null(b);
	backlog_free(&b);
}

static void
test_domains(void **state)
{
	struct backlog	*b = backlog_new(BACKLOG_BY_SENDER_DOMAIN, NOW);

	add(b, "", 0, HOUR, 2, "a@x.test", "b@y.test");	/* null sender */
	add(b, "User@Mail.Example.COM.", 0, HOUR, 1, "a@x.test");
	add(b, "user@mail.example.com", 0, HOUR, 1, "a@x.test");
	add(b, "root", 0, HOUR, 1, "a@x.test");		/* no domain */
	add(b, "odd@we\x1b[31mird", 0, HOUR, 1, "a@x.test");
	add(b, "a\"@b\"@c.test", 0, HOUR, 1, "a@x.test");	/* last @ */
	add(b, "x@", 0, HOUR, 1, "a@x.test");

	/* by sender: one row per message, rows add up to TOTAL */
	assert_int_equal(backlog_row(b, 0)->total, 7);
	assert_non_null(row(b, "MAILER-DAEMON"));
	assert_int_equal(row(b, "MAILER-DAEMON")->total, 1);
	assert_int_equal(row(b, "mail.example.com")->total, 2);
	assert_non_null(row(b, "root"));
	assert_non_null(row(b, "we?[31mird"));
	assert_non_null(row(b, "c.test"));
	assert_non_null(row(b, "(none)"));
	assert_null(row(b, "x.test"));
	assert_int_equal(backlog_nrows(b), 7);
	backlog_free(&b);

	/* a domain longer than any real one is cut */
	{
		char	 addr[600];

		b = backlog_new(BACKLOG_BY_RCPT_DOMAIN, NOW);
		memset(addr, 'a', sizeof(addr) - 1);
		addr[sizeof(addr) - 1] = '\0';
		addr[10] = '@';
		add(b, "", 0, HOUR, 1, addr);
		assert_int_equal(strlen(backlog_row(b, 1)->domain),
		    BACKLOG_DOMAIN_MAX);
		backlog_free(&b);
	}
}

static void
test_by_names(void **state)
{
	assert_int_equal(backlog_by_lookup("rcpt-domain"),
	    BACKLOG_BY_RCPT_DOMAIN);
	assert_int_equal(backlog_by_lookup("sender-domain"),
	    BACKLOG_BY_SENDER_DOMAIN);
	assert_int_equal(backlog_by_lookup("recipient"), -1);
	assert_string_equal(backlog_by_name(BACKLOG_BY_SENDER_DOMAIN),
	    "sender-domain");
}

/* five domains with 5, 4, 4, 2, 1 messages */
static struct backlog *
five(void)
{
	struct backlog	*b = backlog_new(BACKLOG_BY_RCPT_DOMAIN, NOW);
	static const struct {
		const char	*rcpt;
		int		 n;
	} d[] = {
		{ "a@e.test", 1 }, { "a@b.test", 4 }, { "a@a.test", 4 },
		{ "a@big.test", 5 }, { "a@d.test", 2 },
	};
	size_t	 i;
	int	 k;

	for (i = 0; i < nitems(d); i++)
		for (k = 0; k < d[i].n; k++)
			add(b, "s@s.test", k * 10 * MIN, k * HOUR, 1,
			    d[i].rcpt);
	return b;
}

static void
test_order_and_top(void **state)
{
	struct backlog	*b = five();
	char		*out, *line;
	int		 lines = 0;

	/* by count, ties by name */
	assert_string_equal(backlog_row(b, 1)->domain, "big.test");
	assert_string_equal(backlog_row(b, 2)->domain, "a.test");
	assert_string_equal(backlog_row(b, 3)->domain, "b.test");
	assert_string_equal(backlog_row(b, 4)->domain, "d.test");
	assert_string_equal(backlog_row(b, 5)->domain, "e.test");

	out = print(b, 2);
	for (line = out; (line = strchr(line, '\n')) != NULL; line++)
		lines++;
	assert_int_equal(lines, 2 + 3);		/* 2 headers, TOTAL, 2 */
	assert_non_null(strstr(out, "big.test"));
	assert_non_null(strstr(out, "a.test"));
	assert_null(strstr(out, "b.test"));
	/* TOTAL still counts everything */
	assert_non_null(strstr(out, "TOTAL  16"));
	free(out);

	out = print(b, 0);
	assert_non_null(strstr(out, "e.test"));
	free(out);
	out = print(b, 100);
	assert_non_null(strstr(out, "e.test"));
	free(out);
	backlog_free(&b);
}

/* column - where c is in line, -1 if not */
static long
column(const char *line, char c)
{
	const char	*p = strchr(line, c);

	return p != NULL ? p - line : -1;
}

static void
test_alignment(void **state)
{
	struct backlog	*b = backlog_new(BACKLOG_BY_RCPT_DOMAIN, NOW);
	char		 longdom[80], addr[96], *out, *line, *save = NULL;
	size_t		 len = 0, n = 0, i;
	long		 bar = -1, c;
	int		 k;

	/* a 60-character domain */
	for (i = 0; i < 60; i++)
		longdom[i] = (char)('a' + i % 26);
	memcpy(longdom + 56, ".com", 5);
	snprintf(addr, sizeof(addr), "u@%s", longdom);
	add(b, "", 0, -1, 1, addr);
	add(b, "", 3 * 86400, HOUR, 1, "u@x.test");
	/* a big count in one column widens that column only */
	for (k = 0; k < 12345; k++)
		add(b, "", 30 * MIN, 30 * HOUR, 1, "v@y.test");

	out = print(b, 0);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), n++) {
		c = column(line, '|');
		if (bar < 0)
			bar = c;
		assert_int_equal(c, bar);	/* same column on every line */
		if (n > 0) {
			if (len == 0)
				len = strlen(line);
			assert_int_equal(strlen(line), len);
		}
		assert_true(line[strlen(line) - 1] != ' ');
	}
	assert_int_equal(n, 2 + 4);
	free(out);

	/* domains are right-aligned, as in qshape */
	out = print(b, 0);
	assert_non_null(strstr(out, longdom));
	line = strstr(out, "x.test");
	assert_non_null(line);
	assert_true(line - out >= 60);
	assert_true(line[-1] == ' ');
	free(out);
	backlog_free(&b);
}

static void
test_json(void **state)
{
	struct backlog	*b = five();
	json_error_t	 jerr;
	json_t		*o, *rows, *r, *a;
	char		*s;
	size_t		 i;
	json_int_t	 sum;

	add(b, "", 0, -5, 1, "x@big.test");
	s = backlog_json(b, 3);
	assert_null(strchr(s, '\n'));
	o = json_loads(s, 0, &jerr);
	if (o == NULL)
		fail_msg("%s: %s", s, jerr.text);
	free(s);
	assert_int_equal(json_integer_value(json_object_get(o, "now")), NOW);
	assert_string_equal(json_string_value(json_object_get(o, "by")),
	    "rcpt-domain");
	assert_string_equal(json_string_value(json_object_get(o, "count")),
	    "messages");
	a = json_object_get(o, "age_buckets");
	assert_int_equal(json_array_size(a), BACKLOG_AGE_BUCKETS);
	assert_string_equal(json_string_value(json_array_get(a, 0)), "5");
	assert_string_equal(json_string_value(json_array_get(a, 9)), "1280+");
	a = json_object_get(o, "deadline_buckets");
	assert_int_equal(json_array_size(a), BACKLOG_DEADLINE_BUCKETS);
	assert_string_equal(json_string_value(json_array_get(a, 0)),
	    "expired");

	rows = json_object_get(o, "rows");
	assert_int_equal(json_array_size(rows), 1 + 3);
	r = json_array_get(rows, 0);
	assert_string_equal(json_string_value(json_object_get(r, "domain")),
	    "TOTAL");
	assert_int_equal(json_integer_value(json_object_get(r, "total")), 17);
	r = json_array_get(rows, 1);
	assert_string_equal(json_string_value(json_object_get(r, "domain")),
	    "big.test");
	assert_int_equal(json_integer_value(json_object_get(r, "total")), 6);
	a = json_object_get(r, "deadline");
	assert_int_equal(json_array_size(a), BACKLOG_DEADLINE_BUCKETS);
	assert_int_equal(json_integer_value(json_array_get(a, 0)), 2);
	a = json_object_get(r, "age");
	assert_int_equal(json_array_size(a), BACKLOG_AGE_BUCKETS);
	for (i = 0, sum = 0; i < json_array_size(a); i++)
		sum += json_integer_value(json_array_get(a, i));
	assert_int_equal(sum, 6);
	json_decref(o);
	backlog_free(&b);
}

/* an empty queue: TOTAL with zeros, nothing else */
static void
test_empty(void **state)
{
	struct backlog	*b = backlog_new(BACKLOG_BY_SENDER_DOMAIN, NOW);
	char		*out;

	assert_int_equal(backlog_nrows(b), 1);
	assert_int_equal(backlog_row(b, 0)->total, 0);
	out = print(b, 0);
	assert_non_null(strstr(out, "TOTAL   0"));
	free(out);
	out = backlog_json(b, 0);
	assert_non_null(strstr(out, "\"by\":\"sender-domain\""));
	free(out);
	backlog_free(&b);
}

/* from_json - b as ebbd sends it (top rows), read back */
static struct backlog *
from_json(struct backlog *b, size_t top)
{
	json_error_t	 jerr;
	struct backlog	*back;
	json_t		*o;
	char		*s, *err = NULL;

	s = backlog_json(b, top);
	assert_non_null(o = json_loads(s, 0, &jerr));
	free(s);
	if ((back = backlog_from_json(o, &err)) == NULL)
		fail_msg("refused: %s", err);
	json_decref(o);
	return back;
}

/* ebbd's table, read back by ebbctl, prints as the one it came from */
static void
test_from_json(void **state)
{
	struct backlog	*b = five(), *back;
	char		*a, *c;
	size_t		 top;

	(void)state;
	add(b, "", 0, -5, 3, "x@big.test", "y@Big.Test", "z@new.test");
	for (top = 0; top < 7; top++) {
		back = from_json(b, top);
		a = print(b, top);
		c = print(back, top);
		assert_string_equal(a, c);
		free(a);
		free(c);
		a = backlog_json(b, top);
		c = backlog_json(back, top);
		assert_string_equal(a, c);
		free(a);
		free(c);
		backlog_free(&back);
	}
	backlog_free(&b);
}

/* what ebbd could not have sent is refused */
static void
test_from_json_bad(void **state)
{
	static const char *const bad[] = {
		"{}",
		"{\"now\":1,\"by\":\"rcpt-domain\",\"rows\":[]}",
		"{\"now\":1,\"by\":\"ip\",\"rows\":[{\"domain\":\"TOTAL\","
		    "\"total\":0,\"age\":[0,0,0,0,0,0,0,0,0,0],"
		    "\"deadline\":[0,0,0,0,0,0]}]}",
		"{\"now\":\"1\",\"by\":\"rcpt-domain\",\"rows\":[]}",
		/* the first row is not TOTAL */
		"{\"now\":1,\"by\":\"rcpt-domain\",\"rows\":[{\"domain\":"
		    "\"a.test\",\"total\":1,\"age\":[1,0,0,0,0,0,0,0,0,0],"
		    "\"deadline\":[1,0,0,0,0,0]}]}",
		/* a count short, negative, not a number */
		"{\"now\":1,\"by\":\"rcpt-domain\",\"rows\":[{\"domain\":"
		    "\"TOTAL\",\"total\":1,\"age\":[1,0,0,0,0,0,0,0,0],"
		    "\"deadline\":[1,0,0,0,0,0]}]}",
		"{\"now\":1,\"by\":\"rcpt-domain\",\"rows\":[{\"domain\":"
		    "\"TOTAL\",\"total\":-1,\"age\":[1,0,0,0,0,0,0,0,0,0],"
		    "\"deadline\":[1,0,0,0,0,0]}]}",
		"{\"now\":1,\"by\":\"rcpt-domain\",\"rows\":[{\"domain\":"
		    "\"TOTAL\",\"total\":1,\"age\":[1,0,0,0,0,0,0,0,0,\"0\"],"
		    "\"deadline\":[1,0,0,0,0,0]}]}",
		/* a domain repeated, TOTAL again, with a space, empty */
		"{\"now\":1,\"by\":\"rcpt-domain\",\"rows\":[{\"domain\":"
		    "\"TOTAL\",\"total\":1,\"age\":[1,0,0,0,0,0,0,0,0,0],"
		    "\"deadline\":[1,0,0,0,0,0]},{\"domain\":\"a.test\","
		    "\"total\":1,\"age\":[1,0,0,0,0,0,0,0,0,0],\"deadline\":"
		    "[1,0,0,0,0,0]},{\"domain\":\"a.test\",\"total\":1,"
		    "\"age\":[1,0,0,0,0,0,0,0,0,0],\"deadline\":[1,0,0,0,0,0]}]}",
		"{\"now\":1,\"by\":\"rcpt-domain\",\"rows\":[{\"domain\":"
		    "\"TOTAL\",\"total\":1,\"age\":[1,0,0,0,0,0,0,0,0,0],"
		    "\"deadline\":[1,0,0,0,0,0]},{\"domain\":\"TOTAL\","
		    "\"total\":1,\"age\":[1,0,0,0,0,0,0,0,0,0],\"deadline\":"
		    "[1,0,0,0,0,0]}]}",
		"{\"now\":1,\"by\":\"rcpt-domain\",\"rows\":[{\"domain\":"
		    "\"TOTAL\",\"total\":1,\"age\":[1,0,0,0,0,0,0,0,0,0],"
		    "\"deadline\":[1,0,0,0,0,0]},{\"domain\":\"a test\","
		    "\"total\":1,\"age\":[1,0,0,0,0,0,0,0,0,0],\"deadline\":"
		    "[1,0,0,0,0,0]}]}",
		"{\"now\":1,\"by\":\"rcpt-domain\",\"rows\":[{\"domain\":"
		    "\"TOTAL\",\"total\":1,\"age\":[1,0,0,0,0,0,0,0,0,0],"
		    "\"deadline\":[1,0,0,0,0,0]},{\"domain\":\"\","
		    "\"total\":1,\"age\":[1,0,0,0,0,0,0,0,0,0],\"deadline\":"
		    "[1,0,0,0,0,0]}]}",
	};
	json_error_t	 jerr;
	json_t		*o;
	char		*err = NULL;
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(bad); i++) {
		if ((o = json_loads(bad[i], 0, &jerr)) == NULL)
			fail_msg("%zu: %s", i, jerr.text);
		if (backlog_from_json(o, &err) != NULL)
			fail_msg("accepted %s", bad[i]);
		assert_non_null(err);
		free(err);
		err = NULL;
		json_decref(o);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_age_buckets),
		cmocka_unit_test(test_deadline_buckets),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_domains),
		cmocka_unit_test(test_by_names),
		cmocka_unit_test(test_order_and_top),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_from_json),
		cmocka_unit_test(test_from_json_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
