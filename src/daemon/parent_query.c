/*
 * parent_query.c - ebbd's answers to "backlog" and "list" from its index
 *
 * The drain keeps an index of the whole queue (drain_index), so ebbctl
 * need not scan a queue of a million messages for a table ebbd can count
 * in a pass over memory. The answers are what "ebbctl backlog" and
 * "ebbctl list" would print (backlog.h, listing.h), cut to fit in one
 * control answer (CONTROL_REPLY_MAX) and saying so; ebbctl then scans for
 * itself rather than print less than it was asked for.
 *
 * Fresh: an index older than QUERY_FRESH seconds is brought up to date
 * first when its last refresh was cheap (QUERY_FRESH_SCAN), so a message
 * queued a moment ago is listed; when a rescan is dear (a huge queue
 * without a live index) the answer says how old the index is instead.
 * Every answer carries "source": "ebbd", "index_age" and "index_messages".
 *
 * The answers name senders and recipients: they go only to whoever may
 * use the control socket ([control] group), as the queue files do.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ebb/backlog.h"
#include "ebb/control.h"
#include "ebb/drain.h"
#include "ebb/index.h"
#include "ebb/listing.h"
#include "ebb/log.h"
#include "ebb/msg.h"
#include "ebb/mta.h"
#include "ebb/util.h"
#include "parent.h"
#include "priv_proto.h"

#define QUERY_FRESH		2.0	/* seconds an index may be old */
#define QUERY_FRESH_SCAN	0.5	/* seconds a refresh may take first */
#define QUERY_ENVELOPE		512	/* bytes kept for the members around */
#define QUERY_ROW_MIN		70	/* bytes of the shortest backlog row */

struct query {
	struct index	*ix;
	int		 queue;		/* -1: all */
	double		 started;	/* monotonic */
};

/*
 * query_start - a fresh enough index and the queue asked for; -1 and
 * *err_r (allocated) for a queue the MTA does not have
 */
static int
query_start(struct parent *p, const struct control_request *r,
    struct query *q, char **err_r)
{
	q->started = ebb_now_mono();
	q->queue = -1;
	if (r->queue[0] != '\0' &&
	    (q->queue = mta_queue_lookup(p->mta, r->queue)) < 0) {
		*err_r = xasprintf("unknown queue \"%s\"", r->queue);
		return -1;
	}
	if (q->started - p->refreshed > QUERY_FRESH &&
	    p->scan_duration < QUERY_FRESH_SCAN)
		parent_refresh(p);
	q->ix = drain_index(p->drain);
	return 0;
}

/* query_end - the members every answer has; text of o (consumed) */
static char *
query_end(struct parent *p, const struct query *q, json_t *o,
    const char *what)
{
	double	 now = ebb_now_mono();
	char	*s, *text;

	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "source", json_string("ebbd"));
	json_object_set_new(o, "index_age", json_real(now - p->refreshed));
	json_object_set_new(o, "index_messages",
	    json_integer((json_int_t)index_count(q->ix)));
	json_object_set_new(o, "answer_seconds", json_real(now - q->started));
	if ((s = json_dumps(o, JSON_COMPACT)) == NULL)
		log_fatal("%s: out of memory", what);
	json_decref(o);
	text = xstrdup(s);
	free(s);
	if (now - q->started > 0.1)
		log_info("control: %s took %.3fs", what, now - q->started);
	return text;
}

struct backlog_walk {
	struct backlog	*b;
	int		 queue;
};

static int
backlog_one(struct msg *m, void *arg)
{
	struct backlog_walk *w = arg;

	if ((m->flags & MSG_F_UNREADABLE) == 0 &&
	    (w->queue < 0 || m->queue == w->queue))
		backlog_add(w->b, m);
	return 0;
}

char *
parent_backlog(struct parent *p, const struct control_request *r, int *ok_r)
{
	const size_t	 budget = PRIV_TEXT_MAX - QUERY_ENVELOPE;
	struct backlog_walk w;
	struct query	 q;
	json_t		*o;
	size_t		 domains, want, k, len;
	char		*err = NULL, *s;

	if (query_start(p, r, &q, &err) == -1) {
		*ok_r = 0;
		return err;
	}
	w.b = backlog_new(r->order, time(NULL));
	w.queue = q.queue;
	index_foreach(q.ix, backlog_one, &w);
	domains = backlog_nrows(w.b) - 1;
	want = r->count == 0 || (size_t)r->count > domains ? domains :
	    (size_t)r->count;
	/* no more rows than could fit, then fewer until they do */
	k = MINIMUM(want, budget / QUERY_ROW_MIN);
	for (;;) {
		o = backlog_to_json(w.b, k);
		if ((s = json_dumps(o, JSON_COMPACT)) == NULL)
			log_fatal("backlog: out of memory");
		len = strlen(s);
		free(s);
		if (len <= budget || k <= 1)
			break;
		json_decref(o);
		/* a row is at most a few hundred bytes: one always fits */
		k = MAXIMUM(1, MINIMUM(k - 1,
		    (size_t)((double)k * budget / len * 0.95)));
	}
	backlog_free(&w.b);
	json_object_set_new(o, "domains", json_integer((json_int_t)domains));
	json_object_set_new(o, "truncated", json_boolean(k < want));
	*ok_r = 1;
	return query_end(p, &q, o, "backlog");
}

char *
parent_list(struct parent *p, const struct control_request *r, int *ok_r)
{
	const size_t	 budget = PRIV_TEXT_MAX - QUERY_ENVELOPE;
	struct listing_summary sum;
	struct query	 q;
	struct msg	**v;
	json_t		*o, *a, *m;
	size_t		 n, i, want, len = 0, mlen;
	char		*err = NULL, *s;

	if (query_start(p, r, &q, &err) == -1) {
		*ok_r = 0;
		return err;
	}
	want = r->count == 0 ? CONTROL_LIST_MAX :
	    MINIMUM((size_t)r->count, CONTROL_LIST_MAX);
	v = listing_select(q.ix, p->mta, q.queue, r->order, want, &n, &sum);
	a = json_array();
	for (i = 0; i < n; i++) {
		m = listing_msg_json(p->mta, v[i]);
		if ((s = json_dumps(m, JSON_COMPACT)) == NULL)
			log_fatal("list: out of memory");
		mlen = strlen(s) + 1;
		free(s);
		if (len + mlen > budget) {
			json_decref(m);
			break;
		}
		len += mlen;
		json_array_append_new(a, m);
	}
	free(v);
	/* fewer than asked for (a limit, or all of them) */
	want = r->count == 0 ? sum.count :
	    MINIMUM((size_t)r->count, sum.count);
	o = json_pack("{sosIsIsIsIsIsb}", "messages", a,
	    "total", (json_int_t)sum.count, "bytes", (json_int_t)sum.bytes,
	    "active", (json_int_t)sum.active,
	    "parked", (json_int_t)sum.parked,
	    "admin", (json_int_t)sum.admin,
	    "truncated", json_array_size(a) < want);
	*ok_r = 1;
	return query_end(p, &q, o, "list");
}
