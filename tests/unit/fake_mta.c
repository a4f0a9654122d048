/*
 * fake_mta.c - an in-memory MTA behind struct mta_ops, for unit tests
 *
 * Mirrors the contract of the Postfix backend (src/mta/postfix.c) with no
 * files and no commands: park moves waiting mail to hold (postsuper -h),
 * release moves what is in hold, and only that, to deferred, due
 * (postsuper -H: other ids are ignored, not an error), kick has the MTA
 * pick released mail up now, locate says where a message is, and scan
 * fills the index as the directory walk does, keeping an unreadable held
 * file by id, and proof reads the bytes a test gave a held file. A
 * handful of messages per test: linear lookups are fine.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ebb/index.h"
#include "ebb/msg.h"
#include "ebb/mta.h"
#include "ebb/proof.h"
#include "ebb/util.h"
#include "fake_mta.h"

static const struct mta_queue fake_queues[FAKE_QUEUE_COUNT] = {
	[FAKE_INCOMING] = { "incoming", MSG_ROLE_LEAVING },
	[FAKE_ACTIVE] = { "active", MSG_ROLE_LEAVING },
	[FAKE_DEFERRED] = { "deferred", MSG_ROLE_WAITING },
	[FAKE_HOLD] = { "hold", MSG_ROLE_HELD },
	[FAKE_FROZEN] = { "frozen", MSG_ROLE_ADMIN },
};

struct fake_msg {
	char	 id[MSG_QUEUE_ID_MAX];
	int	 queue;		/* -1: gone */
	int	 due;		/* deferred: its retry is due */
	int	 unreadable;
	int	 stuck;		/* release leaves it held, no error */
	time_t	 arrival;
	time_t	 deadline;
	char	*sender;
	char	*content;	/* the queue file's bytes */
	size_t	 ncontent;
};

/* what one op did: calls, the ids it acted on, an armed failure */
struct fake_opstate {
	size_t	 calls;
	char	**ids;
	size_t	 nids;
	size_t	 fail_call;	/* 0: none armed */
	int	 fail_when;
};

struct fake_mta {
	struct mta	 mta;		/* first: priv points back at us */
	struct fake_msg	*msgs;
	size_t		 nmsgs;
	int		 kick_moves;
	size_t		 failures;
	struct fake_opstate op[FAKE_OP_COUNT];
};

static struct fake_mta *
fake_of(struct mta *m)
{
	return m->priv;
}

static struct fake_msg *
find(const struct fake_mta *f, const char *id)
{
	size_t	 i;

	for (i = 0; i < f->nmsgs; i++)
		if (f->msgs[i].queue >= 0 && strcmp(f->msgs[i].id, id) == 0)
			return &f->msgs[i];
	return NULL;
}

static int
role_of(int queue)
{
	return fake_queues[queue].role;
}

/*
 * enter - count a call of op; 1 when an armed failure strikes now, with
 * *when_r saying before or after, and *err_r set
 */
static int
enter(struct fake_mta *f, int op, int *when_r, char **err_r)
{
	struct fake_opstate *o = &f->op[op];

	o->calls++;
	*when_r = 0;
	if (o->fail_call == 0 || o->calls != o->fail_call)
		return 0;
	*when_r = o->fail_when;
	f->failures++;
	*err_r = xasprintf("fake %s: injected failure (call %zu, %s)",
	    op == FAKE_OP_SCAN ? "scan" : op == FAKE_OP_PARK ? "park" :
	    op == FAKE_OP_RELEASE ? "release" : "kick", o->calls,
	    o->fail_when == FAKE_FAIL_BEFORE ? "before" : "after");
	return 1;
}

/* record - op acted on ids[0..n) */
static void
record(struct fake_mta *f, int op, const char *const *ids, size_t n)
{
	struct fake_opstate *o = &f->op[op];
	size_t	 i;

	o->ids = xreallocarray(o->ids, o->nids + n, sizeof(*o->ids));
	for (i = 0; i < n; i++)
		o->ids[o->nids++] = xstrdup(ids[i]);
}

/*
 * act - the common frame of park, release and kick: count, maybe fail
 * before, record the ids, move each one by fn, maybe fail after
 */
static int
act(struct mta *m, int op, const char *const *ids, size_t n,
    void (*fn)(struct fake_mta *, struct fake_msg *), char **err_r)
{
	struct fake_mta	*f = fake_of(m);
	struct fake_msg	*fm;
	size_t		 i;
	int		 when;

	if (enter(f, op, &when, err_r) && when == FAKE_FAIL_BEFORE)
		return -1;
	record(f, op, ids, n);
	for (i = 0; i < n; i++)
		if ((fm = find(f, ids[i])) != NULL)
			fn(f, fm);
	return when == FAKE_FAIL_AFTER ? -1 : 0;
}

/* park_one - postsuper -h: waiting mail goes to hold */
static void
park_one(struct fake_mta *f, struct fake_msg *fm)
{
	(void)f;
	if (role_of(fm->queue) == MSG_ROLE_WAITING)
		fm->queue = FAKE_HOLD;
}

/* release_one - postsuper -H: only what is in hold, to deferred, due */
static void
release_one(struct fake_mta *f, struct fake_msg *fm)
{
	(void)f;
	if (fm->queue == FAKE_HOLD && !fm->stuck) {
		fm->queue = FAKE_DEFERRED;
		fm->due = 1;
	}
}

/* kick_one - made due now; qmgr picks it up unless the kick is lost */
static void
kick_one(struct fake_mta *f, struct fake_msg *fm)
{
	if (fm->queue != FAKE_DEFERRED)
		return;
	fm->due = 1;
	if (f->kick_moves)
		fm->queue = FAKE_ACTIVE;
}

static int
fake_park(struct mta *m, const char *const *ids, size_t n, char **err_r)
{
	return act(m, FAKE_OP_PARK, ids, n, park_one, err_r);
}

static int
fake_release(struct mta *m, const char *const *ids, size_t n, char **err_r)
{
	return act(m, FAKE_OP_RELEASE, ids, n, release_one, err_r);
}

static int
fake_kick(struct mta *m, const char *const *ids, size_t n, char **err_r)
{
	return act(m, FAKE_OP_KICK, ids, n, kick_one, err_r);
}

/* fake_scan - as postfix_scan_direct: mark, put or keep, sweep, count */
static int
fake_scan(struct mta *m, struct index *ix, struct scan_stats *st,
    char **err_r)
{
	struct fake_mta	*f = fake_of(m);
	struct fake_msg	*fm;
	struct msg	 msg;
	size_t		 i;
	int		 q, when;

	if (enter(f, FAKE_OP_SCAN, &when, err_r) && when == FAKE_FAIL_BEFORE)
		return -1;
	index_scan_begin(ix);
	for (i = 0; i < f->nmsgs; i++) {
		fm = &f->msgs[i];
		if (fm->queue < 0)
			continue;
		st->files++;
		if (fm->unreadable) {
			st->corrupt++;
			if (role_of(fm->queue) == MSG_ROLE_HELD) {
				st->unreadable++;
				index_keep_unreadable(ix, fm->id, fm->queue);
			}
			continue;
		}
		st->parsed++;
		memset(&msg, 0, sizeof(msg));
		ebb_strlcpy(msg.queue_id, fm->id, sizeof(msg.queue_id));
		msg.queue = (uint8_t)fm->queue;
		msg.arrival_time = fm->arrival;
		msg.create_time = fm->arrival;
		msg.deadline = fm->deadline;
		msg.sender = fm->sender;
		index_put(ix, &msg, NULL);
	}
	st->removed = index_scan_end(ix);
	for (q = 0; q < FAKE_QUEUE_COUNT; q++)
		st->queue[q] = index_count_queue(ix, q);
	return when == FAKE_FAIL_AFTER ? -1 : 0;
}

static int
fake_locate(struct mta *m, const char *id, int *due_r)
{
	struct fake_mta	*f = fake_of(m);
	struct fake_msg	*fm;

	f->op[FAKE_OP_LOCATE].calls++;
	*due_r = 0;
	if ((fm = find(f, id)) == NULL)
		return -1;
	*due_r = fm->queue == FAKE_DEFERRED && fm->due;
	return fm->queue;
}

/* fake_proof - feed the held file to ps, 7 bytes at a time */
static int
fake_proof(struct mta *m, const char *id, struct proof_search *ps,
    char **err_r)
{
	struct fake_mta	*f = fake_of(m);
	struct fake_msg	*fm;
	size_t		 off, n;

	f->op[FAKE_OP_PROOF].calls++;
	if ((fm = find(f, id)) == NULL ||
	    role_of(fm->queue) != MSG_ROLE_HELD) {
		*err_r = xstrdup("not in hold");
		return PROOF_ERROR;
	}
	if (fm->unreadable) {
		*err_r = xstrdup("unreadable");
		return PROOF_ERROR;
	}
	proof_search_begin(ps, id, fm->arrival);
	for (off = 0; off < fm->ncontent; off += n) {
		n = MINIMUM(7, fm->ncontent - off);
		if (proof_search_feed(ps, fm->content + off, n))
			break;
	}
	return proof_search_end(ps) ? PROOF_OK : PROOF_NONE;
}

static int
fake_open(struct mta *m, const struct config *cfg, char **err_r)
{
	(void)m;
	(void)cfg;
	(void)err_r;
	return 0;
}

static const char *
fake_queue_directory(struct mta *m)
{
	(void)m;
	return "/nonexistent/fake-mta";
}

static long
fake_depth(struct mta *m)
{
	struct fake_mta	*f = fake_of(m);

	return (long)(fake_mta_count(f, FAKE_INCOMING) +
	    fake_mta_count(f, FAKE_ACTIVE));
}

static void
fake_close(struct mta *m)
{
	(void)m;
}

static const struct mta_ops fake_mta_ops = {
	.name = "fake",
	.queues = fake_queues,
	.nqueues = FAKE_QUEUE_COUNT,
	.open = fake_open,
	.scan = fake_scan,
	.park = fake_park,
	.release = fake_release,
	.kick = fake_kick,
	.locate = fake_locate,
	.proof = fake_proof,
	.queue_directory = fake_queue_directory,
	.depth = fake_depth,
	.close = fake_close,
};

struct fake_mta *
fake_mta_new(void)
{
	struct fake_mta	*f = xcalloc(1, sizeof(*f));

	f->mta.ops = &fake_mta_ops;
	f->mta.priv = f;
	f->kick_moves = 1;
	return f;
}

void
fake_mta_free(struct fake_mta **fp)
{
	struct fake_mta	*f = *fp;
	size_t		 i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nmsgs; i++) {
		free(f->msgs[i].sender);
		free(f->msgs[i].content);
	}
	free(f->msgs);
	fake_mta_reset_ids(f);
	free(f);
	*fp = NULL;
}

struct mta *
fake_mta_mta(struct fake_mta *f)
{
	return &f->mta;
}

void
fake_mta_add(struct fake_mta *f, const char *id, int queue, time_t arrival,
    time_t deadline, const char *sender)
{
	struct fake_msg	*fm;

	f->msgs = xreallocarray(f->msgs, f->nmsgs + 1, sizeof(*f->msgs));
	fm = &f->msgs[f->nmsgs++];
	memset(fm, 0, sizeof(*fm));
	ebb_strlcpy(fm->id, id, sizeof(fm->id));
	fm->queue = queue;
	fm->arrival = arrival;
	fm->deadline = deadline;
	fm->sender = xstrdup(sender);
}

int
fake_mta_queue_of(const struct fake_mta *f, const char *id)
{
	const struct fake_msg *fm = find(f, id);

	return fm != NULL ? fm->queue : -1;
}

void
fake_mta_rename(struct fake_mta *f, const char *id, const char *new_id)
{
	struct fake_msg	*fm;

	if ((fm = find(f, id)) != NULL)
		ebb_strlcpy(fm->id, new_id, sizeof(fm->id));
}

void
fake_mta_move(struct fake_mta *f, const char *id, int queue)
{
	struct fake_msg	*fm;

	if ((fm = find(f, id)) != NULL)
		fm->queue = queue;
}

void
fake_mta_set_unreadable(struct fake_mta *f, const char *id, int unreadable)
{
	struct fake_msg	*fm;

	if ((fm = find(f, id)) != NULL)
		fm->unreadable = unreadable;
}

void
fake_mta_set_content(struct fake_mta *f, const char *id, const void *buf,
    size_t len)
{
	struct fake_msg	*fm;

	if ((fm = find(f, id)) == NULL)
		return;
	free(fm->content);
	fm->content = xmalloc(len);
	memcpy(fm->content, buf, len);
	fm->ncontent = len;
}

void
fake_mta_set_stuck(struct fake_mta *f, const char *id, int stuck)
{
	struct fake_msg	*fm;

	if ((fm = find(f, id)) != NULL)
		fm->stuck = stuck;
}

void
fake_mta_deliver(struct fake_mta *f, const char *id)
{
	struct fake_msg	*fm;

	if ((fm = find(f, id)) != NULL)
		fm->queue = -1;
}

size_t
fake_mta_deliver_all_leaving(struct fake_mta *f)
{
	size_t	 i, n = 0;

	for (i = 0; i < f->nmsgs; i++)
		if (f->msgs[i].queue >= 0 &&
		    role_of(f->msgs[i].queue) == MSG_ROLE_LEAVING) {
			f->msgs[i].queue = -1;
			n++;
		}
	return n;
}

size_t
fake_mta_retry_all_waiting(struct fake_mta *f)
{
	size_t	 i, n = 0;

	for (i = 0; i < f->nmsgs; i++)
		if (f->msgs[i].queue >= 0 &&
		    role_of(f->msgs[i].queue) == MSG_ROLE_WAITING) {
			f->msgs[i].queue = FAKE_ACTIVE;
			n++;
		}
	return n;
}

void
fake_mta_defer(struct fake_mta *f, const char *id, int due)
{
	struct fake_msg	*fm;

	if ((fm = find(f, id)) != NULL) {
		fm->queue = FAKE_DEFERRED;
		fm->due = due;
	}
}

void
fake_mta_set_kick_moves(struct fake_mta *f, int moves)
{
	f->kick_moves = moves;
}

size_t
fake_mta_count(const struct fake_mta *f, int queue)
{
	size_t	 i, n = 0;

	for (i = 0; i < f->nmsgs; i++)
		if (f->msgs[i].queue >= 0 && f->msgs[i].queue == queue)
			n++;
	return n;
}

void
fake_mta_fail(struct fake_mta *f, int op, size_t call, int when)
{
	f->op[op].fail_call = call;
	f->op[op].fail_when = when;
}

size_t
fake_mta_failures(const struct fake_mta *f)
{
	return f->failures;
}

size_t
fake_mta_calls(const struct fake_mta *f, int op)
{
	return f->op[op].calls;
}

const char *const *
fake_mta_ids(const struct fake_mta *f, int op, size_t *n_r)
{
	*n_r = f->op[op].nids;
	return (const char *const *)f->op[op].ids;
}

size_t
fake_mta_id_count(const struct fake_mta *f, int op, const char *id)
{
	size_t	 i, n = 0;

	for (i = 0; i < f->op[op].nids; i++)
		if (strcmp(f->op[op].ids[i], id) == 0)
			n++;
	return n;
}

void
fake_mta_reset_ids(struct fake_mta *f)
{
	size_t	 op, i;

	for (op = 0; op < FAKE_OP_COUNT; op++) {
		for (i = 0; i < f->op[op].nids; i++)
			free(f->op[op].ids[i]);
		free(f->op[op].ids);
		f->op[op].ids = NULL;
		f->op[op].nids = 0;
	}
}
