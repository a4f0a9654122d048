/*
 * listing.c - what "ebbctl list" shows, chosen from an index
 *
 * See listing.h. A limit is met with a bounded max-heap of the limit best
 * so far (its root the worst of them), so ebbd answers "list --limit 20"
 * over a million messages with one pass and no sort of them all.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ebb/index.h"
#include "ebb/listing.h"
#include "ebb/log.h"
#include "ebb/msg.h"
#include "ebb/mta.h"
#include "ebb/util.h"

static const char *const listing_sort_names[LISTING_SORT_COUNT] = {
	"deadline", "age", "size"
};

const char *
listing_sort_name(int sort)
{
	if (sort < 0 || sort >= LISTING_SORT_COUNT)
		return NULL;
	return listing_sort_names[sort];
}

int
listing_sort_lookup(const char *name)
{
	int	 i;

	for (i = 0; i < LISTING_SORT_COUNT; i++)
		if (strcmp(name, listing_sort_names[i]) == 0)
			return i;
	return -1;
}

char
listing_mark(const struct mta *mta, const struct msg *m)
{
	switch (mta_queue_role(mta, m->queue)) {
	case MSG_ROLE_LEAVING:
		return '*';
	case MSG_ROLE_HELD:
		return m->parked_by_ebb ? '~' : '!';
	case MSG_ROLE_ADMIN:
		return '!';
	default:
		return ' ';
	}
}

/* by_deadline - EDF; ties go to the older message, then the id */
static int
by_deadline(const struct msg *x, const struct msg *y)
{
	if (x->deadline != y->deadline)
		return x->deadline < y->deadline ? -1 : 1;
	if (x->arrival_time != y->arrival_time)
		return x->arrival_time < y->arrival_time ? -1 : 1;
	return strcmp(x->queue_id, y->queue_id);
}

/* by_age - oldest first */
static int
by_age(const struct msg *x, const struct msg *y)
{
	if (x->arrival_time != y->arrival_time)
		return x->arrival_time < y->arrival_time ? -1 : 1;
	return strcmp(x->queue_id, y->queue_id);
}

/* by_size - largest first */
static int
by_size(const struct msg *x, const struct msg *y)
{
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strcmp(x->queue_id, y->queue_id);
}

typedef int (*listing_cmp_fn)(const struct msg *, const struct msg *);

static const listing_cmp_fn listing_cmps[LISTING_SORT_COUNT] = {
	by_deadline, by_age, by_size
};

/* qsort's comparators of struct msg * */
static int
q_deadline(const void *a, const void *b)
{
	return by_deadline(*(const struct msg *const *)a,
	    *(const struct msg *const *)b);
}

static int
q_age(const void *a, const void *b)
{
	return by_age(*(const struct msg *const *)a,
	    *(const struct msg *const *)b);
}

static int
q_size(const void *a, const void *b)
{
	return by_size(*(const struct msg *const *)a,
	    *(const struct msg *const *)b);
}

static int (*const listing_qcmps[LISTING_SORT_COUNT])(const void *,
    const void *) = { q_deadline, q_age, q_size };

struct listing_walk {
	const struct mta *mta;
	int		 queue;
	listing_cmp_fn	 cmp;
	struct msg	**v;
	size_t		 n, cap;	/* cap: the limit; 0 none */
	struct listing_summary *sum;
};

/* sift_down - restore the max-heap (root: the last in order) from i */
static void
sift_down(struct listing_walk *w, size_t i)
{
	struct msg	*t;
	size_t		 c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= w->n)
			return;
		if (c + 1 < w->n && w->cmp(w->v[c + 1], w->v[c]) > 0)
			c++;
		if (w->cmp(w->v[c], w->v[i]) <= 0)
			return;
		t = w->v[c];
		w->v[c] = w->v[i];
		w->v[i] = t;
		i = c;
	}
}

static void
sift_up(struct listing_walk *w, size_t i)
{
	struct msg	*t;
	size_t		 p;

	while (i > 0) {
		p = (i - 1) / 2;
		if (w->cmp(w->v[i], w->v[p]) <= 0)
			return;
		t = w->v[p];
		w->v[p] = w->v[i];
		w->v[i] = t;
		i = p;
	}
}

static int
listing_one(struct msg *m, void *arg)
{
	struct listing_walk *w = arg;

	/* an unreadable file is only an id: counted as corrupt, not shown */
	if ((m->flags & MSG_F_UNREADABLE) != 0 ||
	    (w->queue >= 0 && m->queue != w->queue))
		return 0;
	w->sum->count++;
	w->sum->bytes += m->size;
	switch (listing_mark(w->mta, m)) {
	case '*':
		w->sum->active++;
		break;
	case '~':
		w->sum->parked++;
		break;
	case '!':
		w->sum->admin++;
		break;
	}
	if (w->cap == 0) {
		w->v[w->n++] = m;
	} else if (w->n < w->cap) {
		w->v[w->n++] = m;
		sift_up(w, w->n - 1);
	} else if (w->cmp(m, w->v[0]) < 0) {
		w->v[0] = m;
		sift_down(w, 0);
	}
	return 0;
}

struct msg **
listing_select(struct index *ix, const struct mta *mta, int queue, int sort,
    size_t limit, size_t *n_r, struct listing_summary *sum)
{
	struct listing_walk w;
	size_t		 all = index_count(ix);

	if (sort < 0 || sort >= LISTING_SORT_COUNT)
		sort = LISTING_SORT_DEADLINE;
	memset(sum, 0, sizeof(*sum));
	memset(&w, 0, sizeof(w));
	w.mta = mta;
	w.queue = queue;
	w.cmp = listing_cmps[sort];
	w.sum = sum;
	w.cap = limit > 0 && limit < all ? limit : 0;
	w.v = xreallocarray(NULL, MAXIMUM(w.cap > 0 ? w.cap : all, 1),
	    sizeof(*w.v));
	index_foreach(ix, listing_one, &w);
	qsort(w.v, w.n, sizeof(*w.v), listing_qcmps[sort]);
	*n_r = w.n;
	return w.v;
}

/* a string that JSON may not hold travels as {"hex": "..."} */
static json_t *
wire_str(const char *s)
{
	static const char digits[] = "0123456789abcdef";
	json_t		*j;
	char		*hex;
	size_t		 i, n;

	if ((j = json_string(s)) != NULL)
		return j;
	n = strlen(s);
	hex = xmalloc(2 * n + 1);
	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[(unsigned char)s[i] >> 4];
		hex[2 * i + 1] = digits[(unsigned char)s[i] & 0xf];
	}
	hex[2 * n] = '\0';
	j = json_pack("{ss}", "hex", hex);
	free(hex);
	return j;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* wire_str_parse - a string of wire_str, allocated; NULL if malformed */
static char *
wire_str_parse(json_t *j)
{
	const char	*hex;
	char		*s;
	size_t		 i, n;
	int		 hi, lo;

	if (json_is_string(j)) {
		if (strlen(json_string_value(j)) != json_string_length(j))
			return NULL;		/* a NUL inside */
		return xstrdup(json_string_value(j));
	}
	if (!json_is_object(j) || json_object_size(j) != 1 ||
	    !json_is_string(json_object_get(j, "hex")))
		return NULL;
	hex = json_string_value(json_object_get(j, "hex"));
	n = strlen(hex);
	if (n % 2 != 0)
		return NULL;
	s = xmalloc(n / 2 + 1);
	for (i = 0; i < n / 2; i++) {
		hi = hexval(hex[2 * i]);
		lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(s);
			return NULL;
		}
		s[i] = (char)(hi << 4 | lo);
	}
	s[n / 2] = '\0';
	return s;
}

json_t *
listing_msg_json(struct mta *mta, const struct msg *m)
{
	json_t		*o, *rcpt;
	char		 reason[MTA_REASON_MAX];
	uint32_t	 i;

	rcpt = json_array();
	for (i = 0; i < m->nrcpt; i++)
		json_array_append_new(rcpt, wire_str(m->rcpt[i]));
	o = json_pack("{sssssIsIsIsIsIsososbso}",
	    "id", m->queue_id,
	    "queue", mta_queue_name(mta, m->queue),
	    "arrival", (json_int_t)m->arrival_time,
	    "create", (json_int_t)m->create_time,
	    "deadline", (json_int_t)m->deadline,
	    "next_retry", (json_int_t)m->next_retry,
	    "size", (json_int_t)m->size,
	    "sender", wire_str(m->sender),
	    "rcpt", rcpt,
	    "parked", m->parked_by_ebb,
	    "reason", mta_reason(mta, m, reason, sizeof(reason)) == 0 ?
	    wire_str(reason) : json_null());
	if (o == NULL)
		log_fatal("out of memory");
	return o;
}

void
listing_msg_clear(struct msg *m)
{
	uint32_t	 i;

	free((char *)m->sender);
	free((char *)m->reason);
	for (i = 0; i < m->nrcpt; i++)
		free((char *)m->rcpt[i]);
	free(m->rcpt);
	memset(m, 0, sizeof(*m));
}

/* wire_time - an integer member into *t */
static int
wire_int(json_t *o, const char *key, json_int_t min, json_int_t *v)
{
	json_t	*j = json_object_get(o, key);

	if (!json_is_integer(j) || json_integer_value(j) < min)
		return -1;
	*v = json_integer_value(j);
	return 0;
}

int
listing_msg_parse(const struct mta *mta, json_t *o, struct msg *m,
    char **err_r)
{
	json_t		*id, *q, *rcpt, *v, *reason;
	json_int_t	 arrival, create, deadline, next_retry, size;
	const char	*what = "message";
	size_t		 i;
	int		 queue;

	memset(m, 0, sizeof(*m));
	id = json_object_get(o, "id");
	q = json_object_get(o, "queue");
	rcpt = json_object_get(o, "rcpt");
	reason = json_object_get(o, "reason");
	if (!json_is_object(o) || !json_is_string(id) ||
	    json_string_length(id) >= MSG_QUEUE_ID_MAX ||
	    !ebb_queue_id_valid(json_string_value(id))) {
		what = "queue id";
		goto fail;
	}
	ebb_strlcpy(m->queue_id, json_string_value(id), sizeof(m->queue_id));
	what = "queue";
	if (!json_is_string(q) ||
	    (queue = mta_queue_lookup(mta, json_string_value(q))) < 0)
		goto fail;
	m->queue = (uint8_t)queue;
	what = "time or size";
	if (wire_int(o, "arrival", 0, &arrival) == -1 ||
	    wire_int(o, "create", 0, &create) == -1 ||
	    wire_int(o, "deadline", 0, &deadline) == -1 ||
	    wire_int(o, "next_retry", 0, &next_retry) == -1 ||
	    wire_int(o, "size", 0, &size) == -1)
		goto fail;
	m->arrival_time = (time_t)arrival;
	m->create_time = (time_t)create;
	m->deadline = (time_t)deadline;
	m->next_retry = (time_t)next_retry;
	m->size = (uint64_t)size;
	what = "parked";
	if (!json_is_boolean(json_object_get(o, "parked")))
		goto fail;
	m->parked_by_ebb = json_is_true(json_object_get(o, "parked"));
	what = "sender";
	if ((m->sender = wire_str_parse(json_object_get(o, "sender"))) == NULL)
		goto fail;
	what = "reason";
	if (reason == NULL || (!json_is_null(reason) &&
	    (m->reason = wire_str_parse(reason)) == NULL))
		goto fail;
	m->flags |= MSG_F_REASON_TEXT;
	what = "recipients";
	if (!json_is_array(rcpt) || json_array_size(rcpt) > UINT32_MAX)
		goto fail;
	m->rcpt = xreallocarray(NULL, MAXIMUM(json_array_size(rcpt), 1),
	    sizeof(*m->rcpt));
	json_array_foreach(rcpt, i, v) {
		if ((m->rcpt[i] = wire_str_parse(v)) == NULL)
			goto fail;
		m->nrcpt++;
	}
	return 0;
fail:
	*err_r = xasprintf("a listed message with a bad %s", what);
	listing_msg_clear(m);
	return -1;
}
