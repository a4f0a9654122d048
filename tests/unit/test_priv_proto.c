/*
 * test_priv_proto.c - the packets between ebbd's child and its parent
 *
 * Every request survives encode and decode unchanged; the parent's
 * decoder refuses what a compromised child could send instead: short,
 * long and truncated packets, lengths that disagree with the packet,
 * unknown types (answers included), payloads of the wrong size, rates
 * that are not finite or out of range, and queue ids that are empty, too
 * long, not NUL-terminated, too many, or hold anything but [0-9A-Za-z].
 * The notices (budget, milter hold, milter counters) likewise.
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

#include "ebb/control.h"
#include "ebb/governor.h"
#include "ebb/milter.h"
#include "ebb/msg.h"
#include "ebb/util.h"
#include "priv_proto.h"

static unsigned char buf[PRIV_MSG_MAX + 16];

/* packet - header type/len and payload p (n bytes) into buf */
static size_t
packet(uint32_t type, uint32_t len, const void *p, size_t n)
{
	memcpy(buf, &type, 4);
	memcpy(buf + 4, &len, 4);
	if (n > 0)
		memcpy(buf + PRIV_HDR_LEN, p, n);
	return PRIV_HDR_LEN + n;
}

static void
refused(size_t len, const char *why)
{
	struct control_request r;
	char	*err = NULL;

	if (priv_decode_request(buf, len, &r, &err) != -1)
		fail_msg("accepted a packet that is %s", why);
	assert_non_null(err);
	free(err);
}

static void
test_round_trip(void **state)
{
	struct control_request r, back;
	char	*err = NULL;
	size_t	 n, i;
	int	 cmd;

	(void)state;
	for (cmd = 0; cmd < CONTROL_COMMAND_COUNT; cmd++) {
		memset(&r, 0, sizeof(r));
		r.command = cmd;
		if (cmd == CONTROL_RATE)
			r.rate = 0.5;
		if (cmd == CONTROL_NOTE)
			ebb_strlcpy(r.note, "Mail flows again \xe2\x9c\x94",
			    sizeof(r.note));
		if (cmd == CONTROL_RELEASE || cmd == CONTROL_HOLD) {
			for (i = 0; i < CONTROL_IDS_MAX; i++)
				snprintf(r.ids[i], sizeof(r.ids[i]),
				    "4F%zuxyz", i);
			r.nids = CONTROL_IDS_MAX;
		}
		if (cmd == CONTROL_BACKLOG || cmd == CONTROL_LIST) {
			ebb_strlcpy(r.queue, "deferred", sizeof(r.queue));
			r.order = 1;
			r.count = CONTROL_TOP_MAX;
		}
		n = priv_encode_request(&r, buf, sizeof(buf));
		assert_true(n >= PRIV_HDR_LEN);
		if (priv_decode_request(buf, n, &back, &err) == -1)
			fail_msg("%s: %s", control_command_name(cmd), err);
		assert_memory_equal(&r, &back, sizeof(r));
	}
}

static void
test_encode_refuses(void **state)
{
	struct control_request r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.command = CONTROL_HOLD;		/* no ids */
	assert_int_equal(priv_encode_request(&r, buf, sizeof(buf)), 0);
	r.nids = 1;
	ebb_strlcpy(r.ids[0], "A;B", sizeof(r.ids[0]));
	assert_int_equal(priv_encode_request(&r, buf, sizeof(buf)), 0);
	r.command = 42;
	assert_int_equal(priv_encode_request(&r, buf, sizeof(buf)), 0);
	memset(&r, 0, sizeof(r));
	r.command = CONTROL_RATE;
	r.rate = NAN;
	assert_int_equal(priv_encode_request(&r, buf, sizeof(buf)), 0);
	r.rate = 1;
	assert_int_equal(priv_encode_request(&r, buf, 4), 0);
	/* each request fits the least room it needs: a status in a header
	   alone (HTTP asks with such a buffer), a rate in 8 bytes more */
	assert_int_equal(priv_encode_request(&r, buf, PRIV_HDR_LEN + 7), 0);
	assert_int_equal(priv_encode_request(&r, buf, PRIV_HDR_LEN + 8),
	    PRIV_HDR_LEN + 8);
	memset(&r, 0, sizeof(r));
	r.command = CONTROL_STATUS;
	assert_int_equal(priv_encode_request(&r, buf, PRIV_HDR_LEN),
	    PRIV_HDR_LEN);
	r.command = CONTROL_LIST;
	assert_int_equal(priv_encode_request(&r, buf, PRIV_HDR_LEN +
	    PRIV_QUERY_LEN - 1), 0);
	assert_int_equal(priv_encode_request(&r, buf, PRIV_HDR_LEN +
	    PRIV_QUERY_LEN), PRIV_HDR_LEN + PRIV_QUERY_LEN);
}

static void
test_framing(void **state)
{
	(void)state;
	refused(0, "empty");
	refused(packet(PRIV_STATUS, 0, NULL, 0) - 1, "shorter than a header");
	refused(packet(PRIV_STATUS, 1, NULL, 0), "shorter than its length");
	refused(packet(PRIV_STATUS, 0, "x", 1), "longer than its length");
	refused(packet(PRIV_STATUS, UINT32_MAX, NULL, 0), "of length 4G");
	refused(packet(PRIV_RELEASE, PRIV_TEXT_MAX + 8, NULL, 0) +
	    PRIV_TEXT_MAX + 8, "larger than PRIV_MSG_MAX");
}

static void
test_types(void **state)
{
	static const uint32_t bad[] = {
		0, PRIV_FAILSAFE + 1, 99, PRIV_OK, PRIV_ERR, UINT32_MAX
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < nitems(bad); i++)
		refused(packet(bad[i], 0, NULL, 0), "of an unknown type");
	refused(packet(PRIV_STATUS, 1, "", 1), "a status with a payload");
	refused(packet(PRIV_FAILSAFE, 2, "AB", 2), "a failsafe with payload");
}

static void
test_rate(void **state)
{
	double	 v[] = { NAN, INFINITY, -1, CONTROL_RATE_MAX * 2 };
	double	 ok = 3;
	size_t	 i;

	(void)state;
	for (i = 0; i < nitems(v); i++)
		refused(packet(PRIV_RATE, 8, &v[i], 8), "a bad rate");
	refused(packet(PRIV_RATE, 4, &ok, 4), "a short rate");
	refused(packet(PRIV_RATE, 0, NULL, 0), "a rate without payload");
}

static void
test_ids(void **state)
{
	static const struct {
		const char	*p;
		size_t		 n;
		const char	*why;
	} bad[] = {
		{ "", 0, "without ids" },
		{ "ABC", 3, "not NUL-terminated" },
		{ "ABC\0DEF", 7, "not NUL-terminated at the end" },
		{ "\0", 1, "an empty id" },
		{ "ABC\0\0", 5, "an empty id after one" },
		{ "AB-C\0", 5, "an id with a dash" },
		{ "-h\0", 3, "an option as an id" },
		{ "../x\0", 5, "a path as an id" },
		{ "A B\0", 4, "an id with a space" },
		{ "A\nB\0", 4, "an id with a newline" },
		{ "\xc3\xa9\0", 3, "a non-ASCII id" },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\0", 37, "a long id" },
	};
	char	 many[(CONTROL_IDS_MAX + 1) * 2];
	size_t	 i;

	(void)state;
	for (i = 0; i < nitems(bad); i++) {
		refused(packet(PRIV_RELEASE, (uint32_t)bad[i].n, bad[i].p,
		    bad[i].n), bad[i].why);
		refused(packet(PRIV_HOLD, (uint32_t)bad[i].n, bad[i].p,
		    bad[i].n), bad[i].why);
	}
	for (i = 0; i < CONTROL_IDS_MAX + 1; i++) {
		many[2 * i] = 'A';
		many[2 * i + 1] = '\0';
	}
	refused(packet(PRIV_RELEASE, sizeof(many), many, sizeof(many)),
	    "too many ids");
}

/* query - a backlog or list payload: order, count, queue bytes */
static size_t
query(uint32_t type, int32_t order, int64_t count, const char *q, size_t qn,
    size_t len)
{
	unsigned char	 p[PRIV_QUERY_LEN + 8];

	memset(p, 0, sizeof(p));
	memcpy(p, &order, 4);
	memcpy(p + 4, &count, 8);
	memcpy(p + 12, q, MINIMUM(qn, CONTROL_QUEUE_MAX));
	return packet(type, (uint32_t)len, p, len);
}

static void
test_query(void **state)
{
	struct control_request r;
	char	*err = NULL;
	size_t	 n;

	(void)state;
	n = query(PRIV_LIST, 2, 20, "hold", 4, PRIV_QUERY_LEN);
	if (priv_decode_request(buf, n, &r, &err) == -1)
		fail_msg("refused a good list: %s", err);
	assert_int_equal(r.command, CONTROL_LIST);
	assert_string_equal(r.queue, "hold");
	assert_int_equal(r.order, 2);
	assert_int_equal(r.count, 20);
	n = query(PRIV_BACKLOG, 1, 0, "", 0, PRIV_QUERY_LEN);
	if (priv_decode_request(buf, n, &r, &err) == -1)
		fail_msg("refused a good backlog: %s", err);
	assert_int_equal(r.command, CONTROL_BACKLOG);

	refused(query(PRIV_LIST, 0, 0, "", 0, PRIV_QUERY_LEN - 1),
	    "a short query");
	refused(query(PRIV_LIST, 0, 0, "", 0, PRIV_QUERY_LEN + 1),
	    "a long query");
	refused(packet(PRIV_BACKLOG, 0, NULL, 0), "a query without payload");
	refused(query(PRIV_LIST, 3, 0, "", 0, PRIV_QUERY_LEN),
	    "a list in an unknown order");
	refused(query(PRIV_BACKLOG, 2, 0, "", 0, PRIV_QUERY_LEN),
	    "a backlog by an unknown kind");
	refused(query(PRIV_LIST, -1, 0, "", 0, PRIV_QUERY_LEN),
	    "a negative order");
	refused(query(PRIV_LIST, 0, -1, "", 0, PRIV_QUERY_LEN),
	    "a negative limit");
	refused(query(PRIV_LIST, 0, INT64_MAX, "", 0, PRIV_QUERY_LEN),
	    "a limit past CONTROL_LIMIT_MAX");
	refused(query(PRIV_BACKLOG, 0, CONTROL_TOP_MAX + 1, "", 0,
	    PRIV_QUERY_LEN), "a top past CONTROL_TOP_MAX");
	refused(query(PRIV_LIST, 0, 0, "abcdefghijklmnopqrstuvwxyz012345", 32,
	    PRIV_QUERY_LEN),
	    "a queue name without its NUL");
	refused(query(PRIV_LIST, 0, 0, "hold\0x", 6, PRIV_QUERY_LEN),
	    "bytes after the queue name's NUL");
	refused(query(PRIV_LIST, 0, 0, "../x", 4, PRIV_QUERY_LEN),
	    "a path as a queue name");
	refused(query(PRIV_LIST, 0, 0, "Hold", 4, PRIV_QUERY_LEN),
	    "a queue name in capitals");
	refused(query(PRIV_HISTORY, 0, 0, "", 0, PRIV_QUERY_LEN),
	    "a history on the control channel");
}

static void
test_reply(void **state)
{
	char	*text = NULL, *err = NULL, *big;
	size_t	 n;
	int	 ok = -1;

	(void)state;
	n = priv_encode_reply(1, "{\"ok\":true}", buf, sizeof(buf));
	assert_int_equal(priv_decode_reply(buf, n, &ok, &text, &err), 0);
	assert_int_equal(ok, 1);
	assert_string_equal(text, "{\"ok\":true}");
	free(text);
	n = priv_encode_reply(0, "no", buf, sizeof(buf));
	assert_int_equal(priv_decode_reply(buf, n, &ok, &text, &err), 0);
	assert_int_equal(ok, 0);
	free(text);

	/* cut at PRIV_TEXT_MAX */
	big = xmalloc(PRIV_TEXT_MAX + 100);
	memset(big, 'x', PRIV_TEXT_MAX + 99);
	big[PRIV_TEXT_MAX + 99] = '\0';
	n = priv_encode_reply(1, big, buf, PRIV_MSG_MAX);
	assert_int_equal(n, PRIV_MSG_MAX);
	assert_int_equal(priv_decode_reply(buf, n, &ok, &text, &err), 0);
	assert_int_equal(strlen(text), PRIV_TEXT_MAX);
	free(text);
	free(big);

	assert_int_equal(priv_decode_reply(buf, 3, &ok, &text, &err), -1);
	free(err);
	n = packet(PRIV_STATUS, 0, NULL, 0);
	assert_int_equal(priv_decode_reply(buf, n, &ok, &text, &err), -1);
	free(err);
	n = packet(PRIV_OK, 3, "a\0b", 3);
	assert_int_equal(priv_decode_reply(buf, n, &ok, &text, &err), -1);
	free(err);
	n = packet(PRIV_OK, 5, "abc", 3);
	assert_int_equal(priv_decode_reply(buf, n, &ok, &text, &err), -1);
	free(err);
}

static void
test_budget(void **state)
{
	struct budget	 b = { .rate = 12.5, .window = 40, .cutoff = 0.75,
	    .critical = 0, .stopped = 1, .known = 1, .pressure = 1.25,
	    .full = ADMIT_FULL_DISK, .parked = 7, .admit_rate = 30.5 }, back;
	char		*err = NULL;
	size_t		 n, full;
	double		 bad;
	int64_t		 big;
	unsigned char	 saved[128];

	(void)state;
	n = priv_budget_encode(&b, buf, sizeof(buf));
	assert_true(n > PRIV_HDR_LEN);
	assert_int_equal(priv_packet_type(buf, n), PRIV_BUDGET);
	assert_int_equal(priv_budget_decode(buf, n, &back, &err), 0);
	assert_true(back.rate == 12.5 && back.window == 40 &&
	    back.cutoff == 0.75 && !back.critical && back.stopped &&
	    back.known && back.pressure == 1.25 &&
	    back.full == ADMIT_FULL_DISK && back.parked == 7 &&
	    back.admit_rate == 30.5);
	full = n;
	memcpy(saved, buf, n);
	assert_int_equal(priv_budget_encode(&b, buf, n - 1), 0);

	/* truncated, long, another type, out of range */
	assert_int_equal(priv_budget_decode(buf, n - 1, &back, &err), -1);
	free(err);
	assert_int_equal(priv_packet_type(buf, 3), 0);
	n = packet(PRIV_BUDGET, 0, NULL, 0);
	assert_int_equal(priv_budget_decode(buf, n, &back, &err), -1);
	free(err);
	memcpy(buf, saved, sizeof(saved));
	bad = NAN;
	memcpy(buf + PRIV_HDR_LEN, &bad, sizeof(bad));
	assert_int_equal(priv_budget_decode(buf, full, &back, &err), -1);
	free(err);
	memcpy(buf, saved, sizeof(saved));
	bad = 1.5;			/* cutoff above 1 */
	memcpy(buf + PRIV_HDR_LEN + 8, &bad, sizeof(bad));
	assert_int_equal(priv_budget_decode(buf, full, &back, &err), -1);
	free(err);
	memcpy(buf, saved, sizeof(saved));
	buf[PRIV_HDR_LEN + 32] = 0x80;	/* an unknown flag */
	assert_int_equal(priv_budget_decode(buf, full, &back, &err), -1);
	free(err);
	memcpy(buf, saved, sizeof(saved));
	buf[PRIV_HDR_LEN + 32] |= 0x18;	/* a full kind past memory */
	assert_int_equal(priv_budget_decode(buf, full, &back, &err), -1);
	free(err);
	memcpy(buf, saved, sizeof(saved));
	bad = -1;			/* a negative admit rate */
	memcpy(buf + PRIV_HDR_LEN + 36, &bad, sizeof(bad));
	assert_int_equal(priv_budget_decode(buf, full, &back, &err), -1);
	free(err);
	memcpy(buf, saved, sizeof(saved));
	big = -5;			/* a negative parked count */
	memcpy(buf + PRIV_HDR_LEN + 44, &big, sizeof(big));
	assert_int_equal(priv_budget_decode(buf, full, &back, &err), -1);
	free(err);
	memcpy(buf, saved, sizeof(saved));
	assert_int_equal(priv_budget_decode(buf, full, &back, &err), 0);
	b.full = 3;			/* not a kind: not sent */
	assert_int_equal(priv_budget_encode(&b, buf, sizeof(buf)), 0);
	/* a request is not a budget */
	n = packet(PRIV_STATUS, 0, NULL, 0);
	assert_int_equal(priv_budget_decode(buf, n, &back, &err), -1);
	free(err);
}

static void
test_hold(void **state)
{
	char		 id[MSG_QUEUE_ID_MAX], *err = NULL;
	unsigned char	 p[64];
	time_t		 deadline = 0;
	int64_t		 d = 1700000000;
	size_t		 n;

	(void)state;
	n = priv_hold_encode("4Xy9Zk1LqWz", 1700000000, buf, sizeof(buf));
	assert_int_equal(priv_packet_type(buf, n), PRIV_MILTER_HOLD);
	assert_int_equal(priv_hold_decode(buf, n, id, &deadline, &err), 0);
	assert_string_equal(id, "4Xy9Zk1LqWz");
	assert_int_equal(deadline, 1700000000);
	assert_int_equal(priv_hold_encode("../x", 1, buf, sizeof(buf)), 0);
	assert_int_equal(priv_hold_encode("", 1, buf, sizeof(buf)), 0);

	/* ids a compromised child could send */
	memcpy(p, &d, sizeof(d));
	memcpy(p + 8, "AB/C", 5);
	n = packet(PRIV_MILTER_HOLD, 13, p, 13);
	assert_int_equal(priv_hold_decode(buf, n, id, &deadline, &err), -1);
	free(err);
	memcpy(p + 8, "ABCD", 4);		/* no NUL */
	n = packet(PRIV_MILTER_HOLD, 12, p, 12);
	assert_int_equal(priv_hold_decode(buf, n, id, &deadline, &err), -1);
	free(err);
	memcpy(p + 8, "AB\0C", 5);		/* a NUL inside */
	n = packet(PRIV_MILTER_HOLD, 13, p, 13);
	assert_int_equal(priv_hold_decode(buf, n, id, &deadline, &err), -1);
	free(err);
	memset(p + 8, 'A', 40);			/* too long */
	p[48] = '\0';
	n = packet(PRIV_MILTER_HOLD, 49, p, 49);
	assert_int_equal(priv_hold_decode(buf, n, id, &deadline, &err), -1);
	free(err);
	d = -5;					/* a bad deadline */
	memcpy(p, &d, sizeof(d));
	memcpy(p + 8, "ABCD", 5);
	n = packet(PRIV_MILTER_HOLD, 13, p, 13);
	assert_int_equal(priv_hold_decode(buf, n, id, &deadline, &err), -1);
	free(err);
	n = packet(PRIV_MILTER_HOLD, 20, p, 13);	/* length disagrees */
	assert_int_equal(priv_hold_decode(buf, n, id, &deadline, &err), -1);
	free(err);
}

static void
test_stats(void **state)
{
	struct milter_counters c, back;
	char		*err = NULL;
	size_t		 n;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.connections = 7;
	c.errors = 3;
	c.reason[ADMIT_R_COUNT - 1] = 11;
	c.spf[0] = 5;
	c.latency[MILTER_LATENCY_BUCKETS - 1] = 1ULL << 40;
	n = priv_stats_encode(&c, buf, sizeof(buf));
	assert_int_equal(priv_packet_type(buf, n), PRIV_MILTER_STATS);
	assert_int_equal(priv_stats_decode(buf, n, &back, &err), 0);
	assert_memory_equal(&c, &back, sizeof(c));
	assert_int_equal(priv_stats_decode(buf, n - 8, &back, &err), -1);
	free(err);
	n = packet(PRIV_MILTER_STATS, 8, "12345678", 8);
	assert_int_equal(priv_stats_decode(buf, n, &back, &err), -1);
	free(err);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_hold),
		cmocka_unit_test(test_stats),
	};

	return cmocka_run_group_tests_name("priv_proto", tests, NULL, NULL);
}
