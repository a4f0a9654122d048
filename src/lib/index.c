/*
 * index.c - the message index: queue id -> struct msg, interned strings
 *
 * Messages live in fixed-size entries allocated in chunks (no per-message
 * malloc, and a message never moves, so pointers to it stay valid); freed
 * entries go on a free list. A linear-probing hash table of entry pointers,
 * kept at most half full, finds them by queue id; deletion shifts the
 * following run back instead of leaving tombstones. Each entry carries the
 * stamp of its queue file and the number of the last scan that saw it.
 *
 * Strings are interned in a separate chained hash table of reference
 * counted nodes; an address node holds a reference to the node of its
 * lower-cased domain, which is how index_domain answers in O(1).
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ebb/index.h"
#include "ebb/log.h"
#include "ebb/util.h"

#define INDEX_CHUNK	256		/* entries per allocation */

struct istr {
	struct istr	*next;		/* hash chain */
	struct istr	*domain;	/* interned domain of an address */
	uint32_t	 hash;
	uint32_t	 refs;
	char		 s[];
};

struct ientry {
	struct msg	 msg;		/* first: a msg pointer is an entry */
	union {
		const char	*rcpt1;	/* msg.rcpt when one recipient */
		struct ientry	*next_free;
	} u;
	uint64_t	 ino;		/* the queue file's stamp */
	uint64_t	 size;
	int64_t		 mtime;
	uint32_t	 mtime_nsec;
	uint32_t	 gen;		/* last scan that saw it */
	uint32_t	 hash;		/* of the queue id */
	uint8_t		 stamped;	/* ino..mtime_nsec are known */
	uint8_t		 used;
};

struct index {
	struct ientry	**chunks;
	size_t		 nchunks;
	struct ientry	*free_list;

	struct ientry	**slots;	/* open addressing, power of 2 */
	size_t		 nslots;
	size_t		 count;
	size_t		 queue_count[MSG_QUEUE_MAX];
	size_t		 rcpt_bytes;	/* recipient arrays */
	uint32_t	 gen;

	struct istr	**sbuckets;	/* interned strings */
	size_t		 nsbuckets;
	size_t		 nstrings;
	size_t		 sbytes;
};

void
index_stamp_stat(struct index_stamp *st_r, const struct stat *sb)
{
	st_r->ino = sb->st_ino;
	st_r->size = (uint64_t)sb->st_size;
	st_r->mtime = sb->st_mtim.tv_sec;
	st_r->mtime_nsec = (uint32_t)sb->st_mtim.tv_nsec;
}

/* index_hash - FNV-1a over a string */
static uint32_t
index_hash(const char *s, size_t len)
{
	uint32_t	 h = 2166136261u;
	size_t		 i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

struct index *
index_new(void)
{
	struct index	*ix;

	ix = xcalloc(1, sizeof(*ix));
	ix->nslots = 64;
	ix->slots = xcalloc(ix->nslots, sizeof(*ix->slots));
	ix->nsbuckets = 64;
	ix->sbuckets = xcalloc(ix->nsbuckets, sizeof(*ix->sbuckets));
	ix->gen = 1;
	return ix;
}

/* --------------------------------------------------------------------- */
/* interned strings */

static struct istr *
istr_of(const char *s)
{
	return (struct istr *)(void *)(s - offsetof(struct istr, s));
}

static void
index_sgrow(struct index *ix)
{
	struct istr	**nb, *n, *next;
	size_t		 nn = ix->nsbuckets * 2, i;

	nb = xcalloc(nn, sizeof(*nb));
	for (i = 0; i < ix->nsbuckets; i++) {
		for (n = ix->sbuckets[i]; n != NULL; n = next) {
			next = n->next;
			n->next = nb[n->hash & (nn - 1)];
			nb[n->hash & (nn - 1)] = n;
		}
	}
	free(ix->sbuckets);
	ix->sbuckets = nb;
	ix->nsbuckets = nn;
}

static struct istr *index_intern_len(struct index *, const char *, size_t);

/* index_intern_domain - the interned lower-cased domain of an address */
static struct istr *
index_intern_domain(struct index *ix, const char *s, size_t len)
{
	const char	*at;
	char		 small[256], *low;
	struct istr	*d;
	size_t		 dlen, i;

	if ((at = memrchr(s, '@', len)) == NULL)
		return NULL;
	dlen = len - (size_t)(at + 1 - s);
	low = dlen < sizeof(small) ? small : xmalloc(dlen + 1);
	for (i = 0; i < dlen; i++)
		low[i] = (char)tolower((unsigned char)at[1 + i]);
	low[dlen] = '\0';
	d = index_intern_len(ix, low, dlen);
	if (low != small)
		free(low);
	return d;
}

/* index_intern_len - one more reference to the shared copy of s[0..len) */
static struct istr *
index_intern_len(struct index *ix, const char *s, size_t len)
{
	struct istr	*n;
	uint32_t	 h = index_hash(s, len);

	for (n = ix->sbuckets[h & (ix->nsbuckets - 1)]; n != NULL; n = n->next)
		if (n->hash == h && strncmp(n->s, s, len) == 0 &&
		    n->s[len] == '\0') {
			n->refs++;
			return n;
		}
	n = xmalloc(sizeof(*n) + len + 1);
	memcpy(n->s, s, len);
	n->s[len] = '\0';
	n->hash = h;
	n->refs = 1;
	n->domain = index_intern_domain(ix, s, len);
	if (ix->nstrings >= ix->nsbuckets)
		index_sgrow(ix);
	n->next = ix->sbuckets[h & (ix->nsbuckets - 1)];
	ix->sbuckets[h & (ix->nsbuckets - 1)] = n;
	ix->nstrings++;
	ix->sbytes += sizeof(*n) + len + 1;
	return n;
}

static const char *
index_intern(struct index *ix, const char *s)
{
	return index_intern_len(ix, s, strlen(s))->s;
}

/* index_release - drop one reference; the last one frees the string */
static void
index_release(struct index *ix, const char *s)
{
	struct istr	*n = istr_of(s), **pp;

	if (--n->refs > 0)
		return;
	for (pp = &ix->sbuckets[n->hash & (ix->nsbuckets - 1)]; *pp != n;
	    pp = &(*pp)->next)
		if (*pp == NULL)
			log_panic("index: interned string not in its table");
	*pp = n->next;
	ix->nstrings--;
	ix->sbytes -= sizeof(*n) + strlen(n->s) + 1;
	if (n->domain != NULL)
		index_release(ix, n->domain->s);
	free(n);
}

const char *
index_domain(const char *interned)
{
	struct istr	*n = istr_of(interned);

	return n->domain != NULL ? n->domain->s : "";
}

/* --------------------------------------------------------------------- */
/* entries and the hash table */

static struct ientry *
index_entry_alloc(struct index *ix)
{
	struct ientry	*chunk, *e;
	size_t		 i;

	if (ix->free_list == NULL) {
		chunk = xcalloc(INDEX_CHUNK, sizeof(*chunk));
		ix->chunks = xreallocarray(ix->chunks, ix->nchunks + 1,
		    sizeof(*ix->chunks));
		ix->chunks[ix->nchunks++] = chunk;
		for (i = INDEX_CHUNK; i-- > 0;) {
			chunk[i].u.next_free = ix->free_list;
			ix->free_list = &chunk[i];
		}
	}
	e = ix->free_list;
	ix->free_list = e->u.next_free;
	memset(e, 0, sizeof(*e));
	e->used = 1;
	return e;
}

/* index_slot - the slot holding id, or the empty slot where it would go */
static size_t
index_slot(const struct index *ix, const char *id, uint32_t h)
{
	size_t		 mask = ix->nslots - 1, i = h & mask;

	while (ix->slots[i] != NULL && (ix->slots[i]->hash != h ||
	    strcmp(ix->slots[i]->msg.queue_id, id) != 0))
		i = (i + 1) & mask;
	return i;
}

static void
index_grow(struct index *ix)
{
	struct ientry	**old = ix->slots;
	size_t		 nold = ix->nslots, i, j, mask;

	ix->nslots *= 2;
	mask = ix->nslots - 1;
	ix->slots = xcalloc(ix->nslots, sizeof(*ix->slots));
	for (i = 0; i < nold; i++) {
		if (old[i] == NULL)
			continue;
		for (j = old[i]->hash & mask; ix->slots[j] != NULL;
		    j = (j + 1) & mask)
			;
		ix->slots[j] = old[i];
	}
	free(old);
}

/* index_unslot - empty slot i and shift the rest of its run back */
static void
index_unslot(struct index *ix, size_t i)
{
	size_t		 mask = ix->nslots - 1, j = i, k;

	ix->slots[i] = NULL;
	for (;;) {
		j = (j + 1) & mask;
		if (ix->slots[j] == NULL)
			return;
		k = ix->slots[j]->hash & mask;
		/* leave slots[j] where it is if its home k lies in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		ix->slots[i] = ix->slots[j];
		ix->slots[j] = NULL;
		i = j;
	}
}

/* index_msg_strings_free - release a message's strings and array */
static void
index_msg_strings_free(struct index *ix, struct ientry *e)
{
	uint32_t	 i;

	if (e->msg.sender != NULL)
		index_release(ix, e->msg.sender);
	if (e->msg.reason != NULL)
		index_release(ix, e->msg.reason);
	for (i = 0; i < e->msg.nrcpt; i++)
		index_release(ix, e->msg.rcpt[i]);
	if (e->msg.rcpt != NULL && e->msg.rcpt != &e->u.rcpt1) {
		free(e->msg.rcpt);
		ix->rcpt_bytes -= e->msg.nrcpt * sizeof(char *) + 16;
	}
	e->msg.sender = NULL;
	e->msg.reason = NULL;
	e->msg.rcpt = NULL;
	e->msg.nrcpt = 0;
}

static void
index_entry_free(struct index *ix, struct ientry *e)
{
	index_msg_strings_free(ix, e);
	ix->queue_count[e->msg.queue]--;
	ix->count--;
	e->used = 0;
	e->u.next_free = ix->free_list;
	ix->free_list = e;
}

struct msg *
index_put(struct index *ix, const struct msg *m, const struct index_stamp *st)
{
	struct ientry	*e;
	struct msg	 in = *m;
	const char	*sender, *reason, **rcpt = NULL, *one = NULL, *r;
	size_t		 slot, len;
	uint32_t	 h, i;

	len = strnlen(in.queue_id, sizeof(in.queue_id));
	if (len == 0 || len == sizeof(in.queue_id))
		return NULL;
	if (in.queue >= MSG_QUEUE_MAX)
		return NULL;

	/* intern the new strings before the old ones are released */
	sender = index_intern(ix, in.sender != NULL ? in.sender : "");
	reason = in.reason != NULL ? index_intern(ix, in.reason) : NULL;
	if (in.nrcpt > 1) {
		rcpt = xreallocarray(NULL, in.nrcpt, sizeof(*rcpt));
		ix->rcpt_bytes += in.nrcpt * sizeof(char *) + 16;
	}
	for (i = 0; i < in.nrcpt; i++) {
		r = index_intern(ix, in.rcpt[i]);
		if (rcpt != NULL)
			rcpt[i] = r;
		else
			one = r;
	}

	h = index_hash(in.queue_id, len);
	slot = index_slot(ix, in.queue_id, h);
	if ((e = ix->slots[slot]) == NULL) {
		if ((ix->count + 1) * 2 > ix->nslots) {
			index_grow(ix);
			slot = index_slot(ix, in.queue_id, h);
		}
		e = index_entry_alloc(ix);
		e->hash = h;
		ix->slots[slot] = e;
		ix->count++;
	} else {
		in.parked_by_ebb = e->msg.parked_by_ebb;
		index_msg_strings_free(ix, e);
		ix->queue_count[e->msg.queue]--;
	}
	ix->queue_count[in.queue]++;
	if (in.nrcpt == 1) {		/* no array for one recipient */
		e->u.rcpt1 = one;
		rcpt = &e->u.rcpt1;
	}
	in.sender = sender;
	in.reason = reason;
	in.rcpt = rcpt;
	e->msg = in;
	if (st != NULL) {
		e->ino = st->ino;
		e->size = st->size;
		e->mtime = st->mtime;
		e->mtime_nsec = st->mtime_nsec;
		e->stamped = 1;
	} else
		e->stamped = 0;
	e->gen = ix->gen;
	return &e->msg;
}

void
index_reserve(struct index *ix, size_t n)
{
	while (n * 2 > ix->nslots)
		index_grow(ix);
}

static struct ientry *
index_find(const struct index *ix, const char *id, size_t *slot_r)
{
	size_t		 len = strnlen(id, MSG_QUEUE_ID_MAX), slot;

	if (len == MSG_QUEUE_ID_MAX)
		return NULL;
	slot = index_slot(ix, id, index_hash(id, len));
	if (slot_r != NULL)
		*slot_r = slot;
	return ix->slots[slot];
}

struct msg *
index_lookup(struct index *ix, const char *queue_id)
{
	struct ientry	*e = index_find(ix, queue_id, NULL);

	return e != NULL ? &e->msg : NULL;
}

int
index_remove(struct index *ix, const char *queue_id)
{
	struct ientry	*e;
	size_t		 slot;

	if ((e = index_find(ix, queue_id, &slot)) == NULL)
		return -1;
	index_unslot(ix, slot);
	index_entry_free(ix, e);
	return 0;
}

void
index_scan_begin(struct index *ix)
{
	if (++ix->gen == 0)		/* 0 never marks anything as seen */
		ix->gen = 1;
}

int
index_scan_unchanged(struct index *ix, const char *queue_id,
    const struct index_stamp *st, int queue, time_t next_retry)
{
	struct ientry	*e = index_find(ix, queue_id, NULL);

	if (e == NULL || !e->stamped || e->ino != st->ino ||
	    e->size != st->size || e->mtime != st->mtime ||
	    e->mtime_nsec != st->mtime_nsec || queue < 0 ||
	    queue >= MSG_QUEUE_MAX)
		return 0;
	if (e->msg.queue != queue) {
		ix->queue_count[e->msg.queue]--;
		ix->queue_count[queue]++;
		e->msg.queue = (uint8_t)queue;
	}
	e->msg.next_retry = next_retry;
	e->gen = ix->gen;
	return 1;
}

int
index_stamp_of(const struct msg *m, struct index_stamp *st_r)
{
	const struct ientry *e = (const struct ientry *)(const void *)m;

	if (!e->stamped)
		return 0;
	st_r->ino = e->ino;
	st_r->size = e->size;
	st_r->mtime = e->mtime;
	st_r->mtime_nsec = e->mtime_nsec;
	return 1;
}

struct msg *
index_keep_unreadable(struct index *ix, const char *queue_id, int queue)
{
	struct ientry	*e;
	struct msg	 m;

	if (queue < 0 || queue >= MSG_QUEUE_MAX)
		return NULL;
	if ((e = index_find(ix, queue_id, NULL)) == NULL) {
		memset(&m, 0, sizeof(m));
		if (strlen(queue_id) >= sizeof(m.queue_id))
			return NULL;
		ebb_strlcpy(m.queue_id, queue_id, sizeof(m.queue_id));
		m.queue = (uint8_t)queue;
		if (index_put(ix, &m, NULL) == NULL)
			return NULL;
		e = index_find(ix, queue_id, NULL);
	}
	index_set_queue(ix, &e->msg, queue);
	e->msg.flags |= MSG_F_UNREADABLE;
	e->stamped = 0;
	e->gen = ix->gen;
	return &e->msg;
}

void
index_set_queue(struct index *ix, struct msg *m, int queue)
{
	if (queue < 0 || queue >= MSG_QUEUE_MAX || m->queue == queue)
		return;
	ix->queue_count[m->queue]--;
	ix->queue_count[queue]++;
	m->queue = (uint8_t)queue;
}

size_t
index_scan_end(struct index *ix)
{
	struct ientry	*e;
	size_t		 c, i, removed = 0;

	for (c = 0; c < ix->nchunks; c++) {
		for (i = 0; i < INDEX_CHUNK; i++) {
			e = &ix->chunks[c][i];
			if (!e->used || e->gen == ix->gen)
				continue;
			index_remove(ix, e->msg.queue_id);
			removed++;
		}
	}
	return removed;
}

size_t
index_count(const struct index *ix)
{
	return ix->count;
}

size_t
index_count_queue(const struct index *ix, int queue)
{
	if (queue < 0 || queue >= MSG_QUEUE_MAX)
		return 0;
	return ix->queue_count[queue];
}

int
index_foreach(struct index *ix, int (*fn)(struct msg *, void *), void *arg)
{
	size_t		 c, i;
	int		 rc;

	for (c = 0; c < ix->nchunks; c++)
		for (i = 0; i < INDEX_CHUNK; i++)
			if (ix->chunks[c][i].used &&
			    (rc = fn(&ix->chunks[c][i].msg, arg)) != 0)
				return rc;
	return 0;
}

struct msg **
index_collect(struct index *ix, size_t *n_r)
{
	struct msg	**v;
	size_t		 c, i, n = 0;

	v = xreallocarray(NULL, ix->count + 1, sizeof(*v));
	for (c = 0; c < ix->nchunks; c++)
		for (i = 0; i < INDEX_CHUNK; i++)
			if (ix->chunks[c][i].used)
				v[n++] = &ix->chunks[c][i].msg;
	*n_r = n;
	return v;
}

size_t
index_memory(const struct index *ix)
{
	return sizeof(*ix) + ix->nchunks * (INDEX_CHUNK *
	    sizeof(struct ientry) + sizeof(*ix->chunks)) +
	    ix->nslots * sizeof(*ix->slots) + ix->rcpt_bytes;
}

size_t
index_string_memory(const struct index *ix)
{
	return ix->sbytes + ix->nsbuckets * sizeof(*ix->sbuckets);
}

size_t
index_string_count(const struct index *ix)
{
	return ix->nstrings;
}

void
index_free(struct index **ixp)
{
	struct index	*ix = *ixp;
	size_t		 c, i;

	if (ix == NULL)
		return;
	for (c = 0; c < ix->nchunks; c++) {
		for (i = 0; i < INDEX_CHUNK; i++)
			if (ix->chunks[c][i].used)
				index_msg_strings_free(ix, &ix->chunks[c][i]);
		free(ix->chunks[c]);
	}
	free(ix->chunks);
	free(ix->slots);
	free(ix->sbuckets);
	free(ix);
	*ixp = NULL;
}
