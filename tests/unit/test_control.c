/*
 * test_control.c - the control protocol's request lines
 *
 * A table of request lines, each with what control_request_parse must
 * make of it: the command and its arguments, or a refusal whose message
 * holds a given word. Malformed JSON, unknown commands and members, wrong
 * types, too many ids, invalid ids and oversized lines are all refused.
 * A second table does the same for backlog and list, whose members are
 * a queue name, an order and a count. Plus: a formatted request parses
 * back to itself, and control_request_check refuses what the parser
 * would (the struct also crosses from ebbd's child to its parent).
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

#include "ebb/backlog.h"
#include "ebb/control.h"
#include "ebb/listing.h"
#include "ebb/util.h"

struct row {
	const char	*line;
	int		 command;	/* -1: refused */
	double		 rate;
	size_t		 nids;
	const char	*id0;
	const char	*why;		/* for a refusal: part of the error */
};

static const struct row rows[] = {
	{ "{\"command\":\"status\"}", CONTROL_STATUS, 0, 0, NULL, NULL },
	{ " { \"command\" : \"pause\" } ", CONTROL_PAUSE, 0, 0, NULL, NULL },
	{ "{\"command\":\"resume\"}", CONTROL_RESUME, 0, 0, NULL, NULL },
	{ "{\"command\":\"failsafe\"}", CONTROL_FAILSAFE, 0, 0, NULL, NULL },
	{ "{\"command\":\"rate\",\"rate\":25.5}", CONTROL_RATE, 25.5, 0, NULL,
	  NULL },
	{ "{\"command\":\"rate\",\"rate\":0}", CONTROL_RATE, 0, 0, NULL, NULL },
	{ "{\"command\":\"rate\",\"rate\":7}", CONTROL_RATE, 7, 0, NULL, NULL },
	{ "{\"command\":\"release\",\"ids\":[\"3F1C2A7B\",\"4xYz\"]}",
	  CONTROL_RELEASE, 0, 2, "3F1C2A7B", NULL },
	{ "{\"ids\":[\"ABC\"],\"command\":\"hold\"}", CONTROL_HOLD, 0, 1, "ABC",
	  NULL },

	{ "", -1, 0, 0, NULL, "JSON" },
	{ "status", -1, 0, 0, NULL, "JSON" },
	{ "{\"command\":\"status\"", -1, 0, 0, NULL, "JSON" },
	{ "[\"status\"]", -1, 0, 0, NULL, "object" },
	{ "{}", -1, 0, 0, NULL, "command" },
	{ "{\"command\":5}", -1, 0, 0, NULL, "command" },
	{ "{\"command\":\"reboot\"}", -1, 0, 0, NULL, "unknown command" },
	{ "{\"command\":\"STATUS\"}", -1, 0, 0, NULL, "unknown command" },
	{ "{\"command\":\"status\",\"extra\":1}", -1, 0, 0, NULL, "unexpected" },
	{ "{\"command\":\"pause\",\"rate\":1}", -1, 0, 0, NULL, "unexpected" },
	{ "{\"command\":\"status\",\"command\":\"pause\"}", -1, 0, 0, NULL,
	  "JSON" },
	{ "{\"command\":\"rate\"}", -1, 0, 0, NULL, "rate" },
	{ "{\"command\":\"rate\",\"rate\":\"fast\"}", -1, 0, 0, NULL, "number" },
	{ "{\"command\":\"rate\",\"rate\":-1}", -1, 0, 0, NULL, "range" },
	{ "{\"command\":\"rate\",\"rate\":1e300}", -1, 0, 0, NULL, "range" },
	{ "{\"command\":\"release\"}", -1, 0, 0, NULL, "queue ids" },
	{ "{\"command\":\"release\",\"ids\":[]}", -1, 0, 0, NULL, "empty" },
	{ "{\"command\":\"release\",\"ids\":\"ABC\"}", -1, 0, 0, NULL, "array" },
	{ "{\"command\":\"release\",\"ids\":[1]}", -1, 0, 0, NULL, "strings" },
	{ "{\"command\":\"release\",\"ids\":[\"ABC;rm\"]}", -1, 0, 0, NULL,
	  "not a queue id" },
	{ "{\"command\":\"hold\",\"ids\":[\"-h\"]}", -1, 0, 0, NULL,
	  "not a queue id" },
	{ "{\"command\":\"hold\",\"ids\":[\"\"]}", -1, 0, 0, NULL,
	  "not a queue id" },
	{ "{\"command\":\"hold\",\"ids\":[\"../../etc\"]}", -1, 0, 0, NULL,
	  "not a queue id" },
	{ "{\"command\":\"hold\",\"ids\":[\"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\"]}",
	  -1, 0, 0, NULL, "not a queue id" },
	{ "{\"command\":\"status\",\"ids\":[\"ABC\"]}", -1, 0, 0, NULL,
	  "unexpected" },

	/* an administrator's note: one line of text, or nothing */
	{ "{\"command\":\"note\",\"text\":\"Mail flows <again> & \\\"ok\\\"\"}",
	  CONTROL_NOTE, 0, 0, NULL, NULL },
	{ "{\"command\":\"note\"}", -1, 0, 0, NULL, "no \"text\"" },
	{ "{\"command\":\"note\",\"text\":7}", -1, 0, 0, NULL, "string" },
	{ "{\"command\":\"note\",\"text\":\"\"}", -1, 0, 0, NULL, "1 to" },
	{ "{\"command\":\"note\",\"text\":\"   \"}", -1, 0, 0, NULL,
	  "one line" },
	{ "{\"command\":\"note\",\"text\":\"a\\nb\"}", -1, 0, 0, NULL,
	  "one line" },
	{ "{\"command\":\"note\",\"text\":\"esc\\u001b[2J\"}", -1, 0, 0, NULL,
	  "one line" },
	{ "{\"command\":\"note\",\"text\":\"nul\\u0000x\"}", -1, 0, 0, NULL,
	  "NUL" },
	{ "{\"command\":\"note\",\"text\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}", -1, 0, 0, NULL,
	  "at most" },
	{ "{\"command\":\"status\",\"text\":\"hi\"}", -1, 0, 0, NULL,
	  "unexpected" },
};

/* backlog and list: queue, order (by or sort) and count (top or limit) */
struct qrow {
	const char	*line;
	int		 command;	/* -1: refused */
	const char	*queue;
	int		 order;
	long		 count;
	const char	*why;
};

static const struct qrow qrows[] = {
	{ "{\"command\":\"backlog\"}", CONTROL_BACKLOG, "",
	  BACKLOG_BY_RCPT_DOMAIN, 0, NULL },
	{ "{\"command\":\"backlog\",\"queue\":\"deferred\",\"by\":"
	  "\"sender-domain\",\"top\":20}", CONTROL_BACKLOG, "deferred",
	  BACKLOG_BY_SENDER_DOMAIN, 20, NULL },
	{ "{\"command\":\"list\"}", CONTROL_LIST, "", LISTING_SORT_DEADLINE, 0,
	  NULL },
	{ "{\"command\":\"list\",\"queue\":\"hold\",\"sort\":\"size\","
	  "\"limit\":2000000000}", CONTROL_LIST, "hold", LISTING_SORT_SIZE,
	  2000000000, NULL },
	{ "{\"command\":\"list\",\"sort\":\"age\",\"limit\":0}",
	  CONTROL_LIST, "", LISTING_SORT_AGE, 0, NULL },
	{ "{\"command\":\"list\",\"queue\":\"mqueue-2_x\"}", CONTROL_LIST,
	  "mqueue-2_x", LISTING_SORT_DEADLINE, 0, NULL },
	{ "{\"command\":\"list\",\"queue\":\"quarantine-admin\"}",
	  CONTROL_LIST, "quarantine-admin", LISTING_SORT_DEADLINE, 0, NULL },

	{ "{\"command\":\"list\",\"limit\":-1}", -1, NULL, 0, 0, "limit" },
	{ "{\"command\":\"list\",\"limit\":2000000001}", -1, NULL, 0, 0,
	  "limit" },
	{ "{\"command\":\"list\",\"limit\":\"20\"}", -1, NULL, 0, 0,
	  "limit" },
	{ "{\"command\":\"list\",\"limit\":2.5}", -1, NULL, 0, 0, "limit" },
	{ "{\"command\":\"list\",\"sort\":\"name\"}", -1, NULL, 0, 0,
	  "sort" },
	{ "{\"command\":\"list\",\"sort\":1}", -1, NULL, 0, 0, "sort" },
	{ "{\"command\":\"list\",\"top\":1}", -1, NULL, 0, 0,
	  "unexpected" },
	{ "{\"command\":\"list\",\"by\":\"rcpt-domain\"}", -1, NULL, 0, 0,
	  "unexpected" },
	{ "{\"command\":\"backlog\",\"limit\":3}", -1, NULL, 0, 0,
	  "unexpected" },
	{ "{\"command\":\"backlog\",\"sort\":\"age\"}", -1, NULL, 0, 0,
	  "unexpected" },
	{ "{\"command\":\"backlog\",\"by\":\"ip\"}", -1, NULL, 0, 0, "by" },
	{ "{\"command\":\"backlog\",\"top\":1000001}", -1, NULL, 0, 0,
	  "top" },
	{ "{\"command\":\"backlog\",\"queue\":\"\"}", -1, NULL, 0, 0,
	  "queue" },
	{ "{\"command\":\"backlog\",\"queue\":\"../x\"}", -1, NULL, 0, 0,
	  "queue" },
	{ "{\"command\":\"backlog\",\"queue\":\"Hold\"}", -1, NULL, 0, 0,
	  "queue" },
	{ "{\"command\":\"backlog\",\"queue\":"
	  "\"abcdefghijklmnopqrstuvwxyz012345\"}", -1,
	  NULL, 0, 0, "queue" },
	{ "{\"command\":\"backlog\",\"queue\":\"ho\\u0000ld\"}", -1, NULL,
	  0, 0, "JSON" },
	{ "{\"command\":\"backlog\",\"queue\":[\"hold\"]}", -1, NULL, 0, 0,
	  "queue" },
	{ "{\"command\":\"status\",\"queue\":\"hold\"}", -1, NULL, 0, 0,
	  "unexpected" },
	{ "{\"command\":\"list\",\"ids\":[\"ABC\"]}", -1, NULL, 0, 0,
	  "unexpected" },
	{ "{\"command\":\"list\",\"rate\":1}", -1, NULL, 0, 0,
	  "unexpected" },
};

static void
run_qrow(void **state)
{
	const struct qrow *row = *state;
	struct control_request r;
	char		*err = NULL;
	int		 rc;

	rc = control_request_parse(row->line, strlen(row->line), &r, &err);
	if (row->command == -1) {
		assert_int_equal(rc, -1);
		assert_non_null(err);
		if (strstr(err, row->why) == NULL)
			fail_msg("error \"%s\" lacks \"%s\"", err, row->why);
		free(err);
		return;
	}
	if (rc == -1)
		fail_msg("refused: %s", err);
	assert_int_equal(r.command, row->command);
	assert_string_equal(r.queue, row->queue);
	assert_int_equal(r.order, row->order);
	assert_int_equal(r.count, row->count);
}

/* control_request_check: what the parser refuses, in a struct */
static void
test_check_query(void **state)
{
	struct control_request r;
	char		*err = NULL;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.command = CONTROL_LIST;
	assert_int_equal(control_request_check(&r, &err), 0);
	r.order = LISTING_SORT_COUNT;
	assert_int_equal(control_request_check(&r, &err), -1);
	free(err);
	r.order = 0;
	r.count = -1;
	assert_int_equal(control_request_check(&r, &err), -1);
	free(err);
	r.count = 0;
	memset(r.queue, 'a', sizeof(r.queue));	/* no NUL */
	assert_int_equal(control_request_check(&r, &err), -1);
	free(err);
	ebb_strlcpy(r.queue, "a b", sizeof(r.queue));
	assert_int_equal(control_request_check(&r, &err), -1);
	free(err);
	memset(&r, 0, sizeof(r));
	r.command = CONTROL_BACKLOG;
	r.order = 2;
	assert_int_equal(control_request_check(&r, &err), -1);
	free(err);
	r.order = 0;
	r.count = CONTROL_TOP_MAX + 1;
	assert_int_equal(control_request_check(&r, &err), -1);
	free(err);
	/* the others carry no queue, order or count */
	memset(&r, 0, sizeof(r));
	r.command = CONTROL_PAUSE;
	r.count = 1;
	assert_int_equal(control_request_check(&r, &err), -1);
	free(err);
	r.count = 0;
	ebb_strlcpy(r.queue, "hold", sizeof(r.queue));
	assert_int_equal(control_request_check(&r, &err), -1);
	free(err);
}

static void
run_row(void **state)
{
	const struct row *row = *state;
	struct control_request r;
	char		*err = NULL;
	int		 rc;

	rc = control_request_parse(row->line, strlen(row->line), &r, &err);
	if (row->command == -1) {
		assert_int_equal(rc, -1);
		assert_non_null(err);
		if (strstr(err, row->why) == NULL)
			fail_msg("error \"%s\" lacks \"%s\"", err, row->why);
		free(err);
		return;
	}
	if (rc == -1)
		fail_msg("refused: %s", err);
	assert_int_equal(r.command, row->command);
	assert_true(r.rate == row->rate);
	assert_int_equal(r.nids, row->nids);
	if (row->id0 != NULL)
		assert_string_equal(r.ids[0], row->id0);
}

/* requests whose errors would quote a newline or a CR */
static const char *const oneline[] = {
	"{\"command\":\"re\\nboot\"}",
	"{\"command\":\"list\",\"a\\r\\nb\":1}",
	"{\"command\":\"hold\",\"ids\":[\"A\\nB\"]}",
	"{\"command\":\"list\",\"a\\u00\n1b\":1}",
};

/* the line cap and NUL bytes, which the table cannot hold */
static void
test_bounds(void **state)
{
	struct control_request r;
	char		*line, *err = NULL;
	size_t		 i, len;

	(void)state;
	line = xmalloc(CONTROL_LINE_MAX + 16);
	len = (size_t)snprintf(line, CONTROL_LINE_MAX + 16,
	    "{\"command\":\"status\"}");
	memset(line + len, ' ', CONTROL_LINE_MAX + 16 - len);
	assert_int_equal(control_request_parse(line, CONTROL_LINE_MAX, &r,
	    &err), -1);
	assert_non_null(strstr(err, "too long"));
	free(err);
	assert_int_equal(control_request_parse(line, CONTROL_LINE_MAX - 1, &r,
	    &err), 0);
	assert_int_equal(r.command, CONTROL_STATUS);
	assert_int_equal(control_request_parse("{\"command\":\"status\"}\0x",
	    22, &r, &err), -1);
	free(err);

	/* an error is one line, whatever bytes the request quoted */
	for (i = 0; i < nitems(oneline); i++) {
		assert_int_equal(control_request_parse(oneline[i],
		    strlen(oneline[i]), &r, &err), -1);
		if (strchr(err, '\n') != NULL || strchr(err, '\r') != NULL)
			fail_msg("%s: a multi-line error: %s", oneline[i], err);
		free(err);
	}

	/* CONTROL_IDS_MAX ids are fine, one more is refused */
	len = (size_t)snprintf(line, 64, "{\"command\":\"hold\",\"ids\":[");
	for (i = 0; i < CONTROL_IDS_MAX; i++)
		len += (size_t)snprintf(line + len, 16, "%s\"A%zu\"",
		    i ? "," : "", i);
	snprintf(line + len, 8, "]}");
	assert_int_equal(control_request_parse(line, strlen(line), &r, &err),
	    0);
	assert_int_equal(r.nids, CONTROL_IDS_MAX);
	snprintf(line + len, 16, ",\"B\"]}");
	assert_int_equal(control_request_parse(line, strlen(line), &r, &err),
	    -1);
	assert_non_null(strstr(err, "more than"));
	free(err);
	free(line);
}

/* control_request_format parses back to the same request */
static void
test_round_trip(void **state)
{
	struct control_request r, back;
	char		*line, *err = NULL;
	int		 cmd;

	(void)state;
	for (cmd = 0; cmd < CONTROL_COMMAND_COUNT; cmd++) {
		memset(&r, 0, sizeof(r));
		r.command = cmd;
		if (cmd == CONTROL_RATE)
			r.rate = 12.25;
		if (cmd == CONTROL_NOTE)
			ebb_strlcpy(r.note, "Mail flows again \xe2\x9c\x94",
			    sizeof(r.note));
		if (cmd == CONTROL_RELEASE || cmd == CONTROL_HOLD) {
			ebb_strlcpy(r.ids[0], "4XyZ09", sizeof(r.ids[0]));
			ebb_strlcpy(r.ids[1], "B", sizeof(r.ids[1]));
			r.nids = 2;
		}
		if (cmd == CONTROL_BACKLOG || cmd == CONTROL_LIST) {
			ebb_strlcpy(r.queue, "deferred", sizeof(r.queue));
			r.order = 1;
			r.count = 20;
		}
		line = control_request_format(&r);
		if (control_request_parse(line, strlen(line), &back,
		    &err) == -1)
			fail_msg("%s: %s", line, err);
		assert_memory_equal(&r, &back, sizeof(r));
		free(line);
	}
	assert_null(control_command_name(CONTROL_COMMAND_COUNT));
	assert_int_equal(control_command_lookup("failsafe"), CONTROL_FAILSAFE);
	line = control_error_reply("bad \"thing\"");
	assert_string_equal(line, "{\"ok\":false,\"error\":\"bad \\\"thing\\\"\"}");
	free(line);
}

int
main(void)
{
	static const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_check_query),
	};
	struct CMUnitTest tests[nitems(rows) + nitems(qrows) + nitems(plain)];
	size_t		 i, n = 0;

	for (i = 0; i < nitems(rows); i++, n++) {
		memset(&tests[n], 0, sizeof(tests[n]));
		tests[n].name = rows[i].line;
		tests[n].test_func = run_row;
		tests[n].initial_state = (void *)&rows[i];
	}
	for (i = 0; i < nitems(qrows); i++, n++) {
		memset(&tests[n], 0, sizeof(tests[n]));
		tests[n].name = qrows[i].line;
		tests[n].test_func = run_qrow;
		tests[n].initial_state = (void *)&qrows[i];
	}
	for (i = 0; i < nitems(plain); i++, n++)
		tests[n] = plain[i];
	return _cmocka_run_group_tests("control", tests, n, NULL, NULL);
}
