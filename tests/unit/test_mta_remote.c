/*
 * test_mta_remote.c - the wire between ebbd's parent and its scanner
 *
 * A message record survives the trip whole (fields, stamp, strings,
 * recipients, an unreadable one); a record cut anywhere, or carrying a
 * value the parent must not take (an id that is no queue id, a queue out
 * of range, a string with a NUL inside or none at its end, more
 * recipients than bytes), is refused without reading past it. Then the
 * proxy against a scanner that lies: each hostile answer in the table
 * makes the scan fail, leaves the parent's index unswept, and breaks the
 * proxy for good. A scanner holds no proof key: the proxy checks the
 * candidates it sends, so neither a claimed proof nor a forged header
 * proves a hold, and only a header made with the key does. A backend
 * with state in the parent (Sendmail) settles what the scanner read, and
 * locates through it, falling back to stat when it cannot answer.
 * Refreshes go in batches, answered in order, each applied to its own id.
 * (test_drain_remote runs the engine's tests through an honest scanner.)
 * No root, no sleeps.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ebb/index.h"
#include "ebb/msg.h"
#include "ebb/mta.h"
#include "ebb/mta_remote.h"
#include "ebb/proof.h"
#include "ebb/util.h"

/* a message: rcpts recipients, a reason or none */
static struct msg
sample(const char *id, const char **rcpt, uint32_t nrcpt, const char *reason)
{
	struct msg	 m;

	memset(&m, 0, sizeof(m));
	ebb_strlcpy(m.queue_id, id, sizeof(m.queue_id));
	m.queue = 3;
	m.flags = 0;
	m.arrival_usec = 123456;
	m.arrival_time = 1700000000;
	m.create_time = 1699999999;
	m.deadline = 1700432000;
	m.next_retry = 1700000600;
	m.size = 4096;
	m.sender = "alice@example.org";
	m.rcpt = rcpt;
	m.nrcpt = nrcpt;
	m.reason = reason;
	return m;
}

static void
assert_msg_equal(const struct msg *a, const struct msg *b)
{
	uint32_t	 i;

	assert_string_equal(a->queue_id, b->queue_id);
	assert_int_equal(a->queue, b->queue);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->arrival_usec, b->arrival_usec);
	assert_int_equal(a->arrival_time, b->arrival_time);
	assert_int_equal(a->create_time, b->create_time);
	assert_int_equal(a->deadline, b->deadline);
	assert_int_equal(a->next_retry, b->next_retry);
	assert_int_equal(a->size, b->size);
	assert_string_equal(a->sender, b->sender);
	if (a->reason == NULL)
		assert_null(b->reason);
	else
		assert_string_equal(a->reason, b->reason);
	assert_int_equal(a->nrcpt, b->nrcpt);
	for (i = 0; i < a->nrcpt; i++)
		assert_string_equal(a->rcpt[i], b->rcpt[i]);
}

static void
test_round_trip(void **state)
{
	static const char *one[] = { "bob@example.net" };
	static const char *three[] = { "a@x.test", "", "c@z.test" };
	struct index_stamp st = { 77, 4096, 1700000001, 999999999 }, got_st;
	struct {
		struct msg	 m;
		int		 stamped;
	} cases[4];
	struct wire_buf	 b = { NULL, 0, 0 };
	struct wire_rd	 r;
	struct msg	 got;
	const char	**rcpt;
	int		 stamped;
	size_t		 i;

	(void)state;
	cases[0].m = sample("3F1C2A7B", NULL, 0, NULL);
	cases[0].stamped = 1;
	cases[1].m = sample("ABCDEF012345", one, 1, "connect: refused");
	cases[1].stamped = 0;
	cases[2].m = sample("Z9", three, 3, "");
	cases[2].m.sender = "";		/* the null sender */
	cases[2].stamped = 1;
	cases[3].m = sample("4Xyz", NULL, 0, NULL);
	cases[3].m.flags = MSG_F_UNREADABLE;
	cases[3].stamped = 0;
	for (i = 0; i < nitems(cases); i++)
		wire_put_msg(&b, &cases[i].m, cases[i].stamped ? &st : NULL);

	memset(&r, 0, sizeof(r));
	r.p = b.p;
	r.len = b.len;
	for (i = 0; i < nitems(cases); i++) {
		assert_int_equal(wire_get_msg(&r, &got, &rcpt, &got_st,
		    &stamped), 0);
		assert_msg_equal(&cases[i].m, &got);
		assert_int_equal(stamped, cases[i].stamped);
		if (stamped) {
			assert_int_equal(got_st.ino, 77);
			assert_int_equal(got_st.size, 4096);
			assert_int_equal(got_st.mtime, 1700000001);
			assert_int_equal(got_st.mtime_nsec, 999999999);
		}
		free(rcpt);
	}
	assert_int_equal(r.off, r.len);
	wire_buf_free(&b);
}

/* every cut of a record is refused, and nothing past the cut is read */
static void
test_truncated(void **state)
{
	static const char *two[] = { "a@x.test", "b@y.test" };
	struct index_stamp st = { 1, 2, 3, 4 }, got_st;
	struct msg	 m = sample("3F1C2A7B", two, 2, "why"), got;
	struct wire_buf	 b = { NULL, 0, 0 };
	struct wire_rd	 r;
	const char	**rcpt;
	unsigned char	*copy;
	size_t		 cut;
	int		 stamped;

	(void)state;
	wire_put_msg(&b, &m, &st);
	for (cut = 0; cut < b.len; cut++) {
		copy = xmalloc(cut + 1);	/* exactly cut bytes: ASan */
		memcpy(copy, b.p, cut);
		memset(&r, 0, sizeof(r));
		r.p = copy;
		r.len = cut;
		assert_int_equal(wire_get_msg(&r, &got, &rcpt, &got_st,
		    &stamped), -1);
		free(rcpt);
		free(copy);
	}
	wire_buf_free(&b);
}

/* records the parent must refuse, each damaged in one place */
enum damage {
	D_ID_BAD,		/* "AB;C": not a queue id */
	D_ID_EMPTY,
	D_QUEUE,		/* MSG_QUEUE_MAX */
	D_FLAGS,		/* above 16 bits */
	D_STAMPED,		/* 2 */
	D_NUL_INSIDE,		/* the sender "a\0b" */
	D_NO_NUL,		/* the sender's NUL replaced */
	D_REASON_FLAG,		/* 7 */
	D_NRCPT,		/* 1,000,000 recipients in a few bytes */
	D_STR_LEN		/* a length past the end */
};

static void
put_damaged(struct wire_buf *b, enum damage d)
{
	size_t	 at;

	wire_put_str(b, d == D_ID_BAD ? "AB;C" : d == D_ID_EMPTY ? "" :
	    "3F1C2A7B");
	wire_put_u8(b, d == D_QUEUE ? MSG_QUEUE_MAX : 2);
	wire_put_u32(b, d == D_FLAGS ? 0x10000 : 0);
	wire_put_u32(b, 0);
	wire_put_u64(b, 1);
	wire_put_u64(b, 2);
	wire_put_u64(b, 3);
	wire_put_u64(b, 4);
	wire_put_u64(b, 5);
	wire_put_u8(b, d == D_STAMPED ? 2 : 0);
	if (d == D_NUL_INSIDE) {
		wire_put_u32(b, 3);
		wire_put_u8(b, 'a');
		wire_put_u8(b, 0);
		wire_put_u8(b, 'b');
		wire_put_u8(b, 0);
	} else if (d == D_STR_LEN) {
		wire_put_u32(b, 1000);
		wire_put_u8(b, 'a');
		wire_put_u8(b, 0);
	} else {
		at = b->len;
		wire_put_str(b, "alice@example.org");
		if (d == D_NO_NUL)
			b->p[b->len - 1] = 'x';
		(void)at;
	}
	wire_put_u8(b, d == D_REASON_FLAG ? 7 : 0);
	wire_put_u32(b, d == D_NRCPT ? 1000000 : 1);
	wire_put_str(b, "bob@example.net");
}

static void
test_hostile_records(void **state)
{
	static const enum damage all[] = { D_ID_BAD, D_ID_EMPTY, D_QUEUE,
	    D_FLAGS, D_STAMPED, D_NUL_INSIDE, D_NO_NUL, D_REASON_FLAG,
	    D_NRCPT, D_STR_LEN };
	struct index_stamp got_st;
	struct wire_buf	 b = { NULL, 0, 0 };
	struct wire_rd	 r;
	struct msg	 got;
	const char	**rcpt;
	size_t		 i;
	int		 stamped;

	(void)state;
	for (i = 0; i < nitems(all); i++) {
		b.len = 0;
		put_damaged(&b, all[i]);
		memset(&r, 0, sizeof(r));
		r.p = b.p;
		r.len = b.len;
		if (wire_get_msg(&r, &got, &rcpt, &got_st, &stamped) != -1)
			fail_msg("damage %zu was taken", i);
		free(rcpt);
	}
	wire_buf_free(&b);
}

/* --------------------------------------------------------------------- */
/* the proxy against a lying scanner */

/* a backend whose reading the proxy replaces: nothing of it is called */
static const struct mta_queue queues[] = {
	{ "deferred", MSG_ROLE_WAITING }, { "hold", MSG_ROLE_HELD },
};

static void
noop_close(struct mta *m)
{
	(void)m;
}

static const struct mta_ops inner_ops = {
	.name = "inner",
	.queues = queues,
	.nqueues = 2,
	.close = noop_close,
};

/* never called: only its presence makes the proxy ask for proofs */
static int
noop_proof(struct mta *m, const char *id, struct proof_search *ps,
    char **err_r)
{
	(void)m;
	(void)id;
	(void)ps;
	(void)err_r;
	return PROOF_ERROR;
}

static const struct mta_ops proof_ops = {
	.name = "inner",
	.queues = queues,
	.nqueues = 2,
	.close = noop_close,
	.proof = noop_proof,
};

/* the lies: what a scanner answers a scan with, frame by frame */
enum lie {
	L_BAD_RECORD,		/* an id that is no queue id */
	L_UNKNOWN_FRAME,	/* a frame of kind 9 */
	L_GONE_IN_SCAN,		/* "gone" answers only a refresh */
	L_HUGE_FRAME,		/* a length over MTA_REMOTE_FRAME_MAX */
	L_CLOSED,		/* the scanner dies mid-answer */
	L_SHORT_END		/* a result cut short */
};

static void
frame(int fd, const struct wire_buf *b)
{
	uint32_t	 n = (uint32_t)b->len;

	assert_int_equal(write(fd, &n, 4), 4);
	assert_int_equal(write(fd, b->p, b->len), (ssize_t)b->len);
}

static void
lie(int fd, enum lie l)
{
	struct wire_buf	 b = { NULL, 0, 0 };
	struct msg	 m = sample("GOOD1", NULL, 0, NULL);
	uint32_t	 huge = MTA_REMOTE_FRAME_MAX + 1;

	/* one honest record first: it may land, but nothing is swept */
	wire_put_u8(&b, 1);
	wire_put_msg(&b, &m, NULL);
	frame(fd, &b);
	b.len = 0;
	switch (l) {
	case L_BAD_RECORD:
		wire_put_u8(&b, 1);
		put_damaged(&b, D_ID_BAD);
		break;
	case L_UNKNOWN_FRAME:
		wire_put_u8(&b, 9);
		break;
	case L_GONE_IN_SCAN:
		wire_put_u8(&b, 2);
		wire_put_str(&b, "OLD1");
		break;
	case L_HUGE_FRAME:
		assert_int_equal(write(fd, &huge, 4), 4);
		break;
	case L_CLOSED:
		break;
	case L_SHORT_END:
		wire_put_u8(&b, 3);
		wire_put_u32(&b, 0);
		break;
	}
	if (b.len > 0)
		frame(fd, &b);
	wire_buf_free(&b);
}

static void
test_lying_scanner(void **state)
{
	static const enum lie all[] = { L_BAD_RECORD, L_UNKNOWN_FRAME,
	    L_GONE_IN_SCAN, L_HUGE_FRAME, L_CLOSED, L_SHORT_END };
	struct scan_stats st;
	struct index	*ix;
	struct msg	 old = sample("OLD1", NULL, 0, NULL);
	struct mta	*inner, *proxy;
	char		*err;
	size_t		 i;
	int		 sp[2];

	(void)state;
	for (i = 0; i < nitems(all); i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
		inner = xcalloc(1, sizeof(*inner));
		inner->ops = &inner_ops;
		proxy = mta_remote_new(inner, sp[0], 0, NULL);
		ix = index_new();
		old.queue = 0;
		assert_non_null(index_put(ix, &old, NULL));
		/* the answer waits in the socket before the request is sent */
		lie(sp[1], all[i]);
		if (all[i] == L_CLOSED)
			close(sp[1]);
		err = NULL;
		if (mta_scan(proxy, ix, &st, &err) != -1)
			fail_msg("lie %zu was taken", i);
		assert_non_null(err);
		free(err);
		/* a failed scan sweeps nothing: OLD1 is still there */
		assert_non_null(index_lookup(ix, "OLD1"));
		/* and the proxy asks no more */
		err = NULL;
		assert_int_equal(mta_scan(proxy, ix, &st, &err), -1);
		assert_string_equal(err, "the scanner process is gone");
		free(err);
		index_free(&ix);
		mta_close(&proxy);
		if (all[i] != L_CLOSED)
			close(sp[1]);
	}
}

/* a result as a scanner sends it: rc, the arrival, the candidates */
static void
answer(int fd, int rc, int64_t arrival, const char *const *cand, size_t n)
{
	struct wire_buf	 b = { NULL, 0, 0 };
	size_t		 i;

	wire_put_u8(&b, 3);
	wire_put_u32(&b, (uint32_t)rc);
	for (i = 0; i < 16; i++)
		wire_put_u64(&b, 0);
	wire_put_u8(&b, 0);
	wire_put_u64(&b, (uint64_t)arrival);
	wire_put_str(&b, "");
	wire_put_str(&b, "");
	wire_put_u32(&b, (uint32_t)n);
	for (i = 0; i < n; i++)
		wire_put_bytes(&b, cand[i], strlen(cand[i]));
	frame(fd, &b);
	wire_buf_free(&b);
}

/* a proof's result: rc, the file's arrival, the candidates */
static void
proof_answer(int fd, int rc, const char *const *cand, size_t n)
{
	answer(fd, rc, 1765000000, cand, n);
}

static void
test_proof_answers(void **state)
{
	struct proof_key key;
	char		 good[PROOF_VALUE_MAX], other[PROOF_VALUE_MAX];
	const char	*forged = "v1 t=1765000000 h="
	    "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef";
	struct {
		const char	*name;
		int		 rc;		/* what the scanner claims */
		const char	*cand[3];
		size_t		 n;
		int		 want;
	} cases[] = {
		{ "an honest proof", PROOF_NONE, { forged, good }, 2,
		    PROOF_OK },
		{ "a claimed proof", PROOF_OK, { NULL }, 0, PROOF_ERROR },
		{ "a claim with a forged header", PROOF_OK, { forged }, 1,
		    PROOF_ERROR },
		{ "a forged header", PROOF_NONE, { forged }, 1, PROOF_NONE },
		{ "another id's proof", PROOF_NONE, { other }, 1,
		    PROOF_NONE },
		{ "none", PROOF_NONE, { NULL }, 0, PROOF_NONE },
		{ "unreadable", PROOF_ERROR, { good }, 1, PROOF_ERROR },
	};
	struct proof_search *ps;
	struct mta	*inner, *proxy;
	char		*err;
	size_t		 i;
	int		 sp[2], got;

	(void)state;
	memset(&key, 0x5a, sizeof(key));
	assert_int_equal(proof_value(&key, "3F1C2A7B", 1765000010, good,
	    sizeof(good)), 0);
	assert_int_equal(proof_value(&key, "3F1C2A7C", 1765000010, other,
	    sizeof(other)), 0);
	cases[0].cand[1] = good;
	cases[4].cand[0] = other;
	cases[6].cand[0] = good;
	ps = proof_search_new(&key);
	for (i = 0; i < nitems(cases); i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
		inner = xcalloc(1, sizeof(*inner));
		inner->ops = &proof_ops;
		proxy = mta_remote_new(inner, sp[0], 0, &key);
		proof_answer(sp[1], cases[i].rc, cases[i].cand, cases[i].n);
		err = NULL;
		got = mta_proof(proxy, "3F1C2A7B", ps, &err);
		if (got != cases[i].want)
			fail_msg("%s: %d, want %d", cases[i].name, got,
			    cases[i].want);
		assert_int_equal(proof_search_arrival(ps), 1765000000);
		free(err);
		mta_close(&proxy);
		close(sp[1]);
	}
	proof_search_free(&ps);
}

/* --------------------------------------------------------------------- */
/* a backend with state of its own in the parent (Sendmail's split) */

static const struct mta_queue split_queues[] = {
	{ "running", MSG_ROLE_LEAVING }, { "queue", MSG_ROLE_WAITING },
	{ "quarantine", MSG_ROLE_HELD },
};

/* what the parent's half was asked */
static struct {
	int		 begun, ended;	/* scanned */
	int		 finds;		/* find in the parent: read 0 only */
	int		 find_read;
	int		 found_q;
	int64_t		 found_attempt;
} calls;

/* RUN1 is being delivered: the parent's state says "running" */
static void
split_settle(struct mta *m, struct msg *msg)
{
	(void)m;
	if (msg->queue == 1 && strcmp(msg->queue_id, "RUN1") == 0)
		msg->queue = 0;
}

static void
split_scanned(struct mta *m, struct index *ix, int done)
{
	(void)m;
	(void)ix;
	if (done)
		calls.ended++;
	else
		calls.begun++;
}

/* the parent's fallback, by stat: the file is in quarantine */
static int
split_find(struct mta *m, const char *id, int read, int64_t *attempt_r)
{
	(void)m;
	(void)id;
	calls.finds++;
	calls.find_read = read;
	*attempt_r = 0;
	return 2;
}

/* due: asked for at 1000, not attempted since */
static int
split_found(struct mta *m, const char *id, int queue, int64_t attempt,
    int *due_r)
{
	(void)m;
	(void)id;
	calls.found_q = queue;
	calls.found_attempt = attempt;
	*due_r = queue == 1 && attempt < 1000;
	return queue;
}

static const struct mta_ops split_ops = {
	.name = "split",
	.queues = split_queues,
	.nqueues = 3,
	.close = noop_close,
	.settle = split_settle,
	.scanned = split_scanned,
	.find = split_find,
	.found = split_found,
};

static struct mta *
split_proxy(int sp[2])
{
	struct mta	*inner;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	inner = xcalloc(1, sizeof(*inner));
	inner->ops = &split_ops;
	memset(&calls, 0, sizeof(calls));
	return mta_remote_new(inner, sp[0], 0, NULL);
}

static void
test_split_scan(void **state)
{
	struct wire_buf	 b = { NULL, 0, 0 };
	struct scan_stats st;
	struct index	*ix = index_new();
	struct msg	 m;
	struct mta	*proxy;
	char		*err = NULL;
	int		 sp[2];

	(void)state;
	proxy = split_proxy(sp);
	wire_put_u8(&b, 1);
	m = sample("RUN1", NULL, 0, NULL);
	m.queue = 1;
	wire_put_msg(&b, &m, NULL);
	m = sample("WAIT1", NULL, 0, NULL);
	m.queue = 1;
	wire_put_msg(&b, &m, NULL);
	frame(sp[1], &b);
	wire_buf_free(&b);
	answer(sp[1], 0, 0, NULL, 0);
	if (mta_scan(proxy, ix, &st, &err) != 0)
		fail_msg("scan: %s", err);
	/* the scanner's backend cannot know RUN1 runs: the parent's says */
	assert_int_equal(index_lookup(ix, "RUN1")->queue, 0);
	assert_int_equal(index_lookup(ix, "WAIT1")->queue, 1);
	assert_int_equal(st.queue[0], 1);
	assert_int_equal(st.queue[1], 1);
	assert_int_equal(calls.begun, 1);
	assert_int_equal(calls.ended, 1);
	assert_int_equal(calls.finds, 0);
	index_free(&ix);
	mta_close(&proxy);
	close(sp[1]);
}

static void
test_split_locate(void **state)
{
	struct {
		const char	*name;
		int		 rc;		/* the scanner's answer */
		int64_t		 attempt;
		int		 closed;	/* the scanner died instead */
		int		 want, want_due;
		int		 fallback;	/* located by stat here */
	} cases[] = {
		{ "waiting, asked for since", 1, 900, 0, 1, 1, 0 },
		{ "waiting, attempted since", 1, 1100, 0, 1, 0, 0 },
		{ "quarantined", 2, 0, 0, 2, 0, 0 },
		{ "gone", -1, 0, 0, -1, 0, 0 },
		{ "a queue past the last", 3, 0, 0, 2, 0, 1 },
		{ "a queue below none", -2, 0, 0, 2, 0, 1 },
		{ "a scanner that died", 0, 0, 1, 2, 0, 1 },
	};
	struct mta	*proxy;
	size_t		 i;
	int		 sp[2], got, due;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		proxy = split_proxy(sp);
		if (cases[i].closed)
			close(sp[1]);
		else
			answer(sp[1], cases[i].rc, cases[i].attempt, NULL, 0);
		due = -1;
		got = mta_locate(proxy, "3F1C2A7B", &due);
		if (got != cases[i].want || due != cases[i].want_due)
			fail_msg("%s: %d due %d, want %d due %d",
			    cases[i].name, got, due, cases[i].want,
			    cases[i].want_due);
		/* the parent reads no file: its find, if at all, stats */
		assert_int_equal(calls.finds, cases[i].fallback);
		assert_int_equal(calls.find_read, 0);
		if (!cases[i].fallback)
			assert_true(calls.found_attempt == cases[i].attempt);
		if (cases[i].fallback) {
			/* and asks that scanner no more */
			got = mta_locate(proxy, "3F1C2A7B", &due);
			assert_int_equal(got, 2);
			assert_int_equal(calls.finds, 2);
		}
		mta_close(&proxy);
		if (!cases[i].closed)
			close(sp[1]);
	}
}

/* --------------------------------------------------------------------- */
/* refreshes asked in batches */

/* never called: only its presence gives the proxy its refreshes */
static int
noop_refresh(struct mta *m, struct index *ix, const char *id,
    const char *dir, struct scan_stats *st, char **err_r)
{
	(void)m;
	(void)ix;
	(void)id;
	(void)dir;
	(void)st;
	(void)err_r;
	return -1;
}

static const struct mta_ops refresh_ops = {
	.name = "inner",
	.queues = queues,
	.nqueues = 2,
	.close = noop_close,
	.refresh = noop_refresh,
};

/* an answer to a refresh of id: 0 the record, 1 "gone", 2 nothing new */
static void
refresh_answer(int fd, const char *id, int kind, int rc)
{
	struct wire_buf	 b = { NULL, 0, 0 };
	struct msg	 m = sample(id, NULL, 0, NULL);

	if (kind == 0) {
		m.queue = 1;
		wire_put_u8(&b, 1);
		wire_put_msg(&b, &m, NULL);
		frame(fd, &b);
	} else if (kind == 1) {
		wire_put_u8(&b, 2);
		wire_put_str(&b, id);
		frame(fd, &b);
	}
	wire_buf_free(&b);
	answer(fd, rc, 0, NULL, 0);
}

static void
test_refresh_pipeline(void **state)
{
	enum { N = 150, FAIL = 101, ASKED = 128 };	/* two batches of 64 */
	char		 idv[N][16], got[MSG_QUEUE_ID_MAX];
	const char	*ids[N], *dirs[N];
	struct scan_stats st;
	struct index	*ix = index_new();
	struct msg	 m;
	struct mta	*inner, *proxy;
	unsigned char	 buf[256];
	uint32_t	 len;
	char		*err = NULL;
	size_t		 i;
	pid_t		 pid;
	int		 sp[2], status;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	inner = xcalloc(1, sizeof(*inner));
	inner->ops = &refresh_ops;
	proxy = mta_remote_new(inner, sp[0], 0, NULL);
	for (i = 0; i < N; i++) {
		snprintf(idv[i], sizeof(idv[i]), "ID%03zu", i);
		ids[i] = idv[i];
		dirs[i] = i % 2 ? "/q/deferred/A" : NULL;
		m = sample(ids[i], NULL, 0, NULL);
		m.queue = 0;
		assert_non_null(index_put(ix, &m, NULL));
	}
	/*
	 * the answers, written by a child (more than a socket's buffer
	 * holds): the batch with FAIL is the last asked; then the answer
	 * to one more refresh
	 */
	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		for (i = 0; i < ASKED; i++)
			refresh_answer(sp[1], ids[i], i % 3, i == FAIL);
		refresh_answer(sp[1], ids[N - 1], 0, 0);
		_exit(0);
	}
	memset(&st, 0, sizeof(st));
	assert_int_equal(mta_refresh_many(proxy, ix, ids, dirs, N, &st, &err),
	    -1);
	assert_non_null(err);
	free(err);
	/* asked, in order, each once: the batches up to the failure */
	for (i = 0; i < ASKED; i++) {
		assert_int_equal(recv(sp[1], &len, 4, MSG_DONTWAIT), 4);
		assert_true(len < sizeof(buf));
		assert_int_equal(recv(sp[1], buf, len, MSG_DONTWAIT),
		    (ssize_t)len);
		assert_int_equal(buf[0], 2);		/* OP_REFRESH */
		memcpy(got, buf + 5, strlen(ids[i]) + 1);
		assert_string_equal(got, ids[i]);
		assert_int_equal(buf[5 + strlen(ids[i]) + 1], i % 2);
	}
	/* each answer applied to its own id, the failing batch's too */
	for (i = 0; i < ASKED; i++)
		switch (i % 3) {
		case 0:
			assert_int_equal(index_lookup(ix, ids[i])->queue, 1);
			break;
		case 1:
			assert_null(index_lookup(ix, ids[i]));
			break;
		default:
			assert_int_equal(index_lookup(ix, ids[i])->queue, 0);
		}
	/* and no more: the batch after the failure was not asked */
	assert_int_equal(recv(sp[1], &len, 4, MSG_DONTWAIT), -1);
	for (i = ASKED; i < N; i++)
		assert_int_equal(index_lookup(ix, ids[i])->queue, 0);
	assert_int_equal(st.removed, (ASKED + 1) / 3);
	/* in step still: the next refresh is answered and taken */
	err = NULL;
	if (mta_refresh_many(proxy, ix, &ids[N - 1], &dirs[N - 1], 1, &st,
	    &err) != 0)
		fail_msg("after the failure: %s", err);
	assert_int_equal(index_lookup(ix, ids[N - 1])->queue, 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	index_free(&ix);
	mta_close(&proxy);
	close(sp[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_hostile_records),
		cmocka_unit_test(test_lying_scanner),
		cmocka_unit_test(test_proof_answers),
		cmocka_unit_test(test_split_scan),
		cmocka_unit_test(test_split_locate),
		cmocka_unit_test(test_refresh_pipeline),
	};

	signal(SIGPIPE, SIG_IGN);	/* as ebbd: a dead scanner is EPIPE */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
