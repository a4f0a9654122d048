/*
 * drain_proof.c - the drain believes a milter hold only on proof
 *
 * The milter writes ebb's proof into every message it holds (proof.h).
 * A hold notice from the milter (drain_adopt) and a held message the
 * ledger does not know (a notice lost in a stop or a crash, or a ledger
 * made anew) are recorded as ebb's only when the queue file carries it;
 * everything else in hold is the administrator's, and stays there.
 *
 * Reading queue files costs, so a running drain reads at most
 * DRAIN_PROOF_MAX per refresh, and remembers each message it found
 * without a proof (by queue id and arrival time: a new message under a
 * reused id is read again) until it leaves hold; failsafe and "ebbctl
 * adopt" read them all. A message ebb released once and someone held
 * again still carries the proof; the ledger's settled rows say it was
 * released, so it is not taken back (ledger_settled_since).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <jansson.h>

#include "ebb/index.h"
#include "ebb/ledger.h"
#include "ebb/log.h"
#include "ebb/mta.h"
#include "ebb/proof.h"
#include "ebb/util.h"
#include "drain_int.h"

static const struct {
	const char	*name;
	const char	*reason;
} kept_words[DRAIN_KEPT_COUNT] = {
	[DRAIN_KEPT_NO_PROOF] = { "no_proof",
	    "no ledger row, no proof: the administrator's" },
	[DRAIN_KEPT_UNREADABLE] = { "unreadable",
	    "no ledger row, its queue file unreadable: no proof" },
	[DRAIN_KEPT_RELEASED] = { "released_before",
	    "ebb released it once and it was held again: the "
	    "administrator's" },
	[DRAIN_KEPT_UNCHECKED] = { "unchecked",
	    "no ledger row, proof not checked (no key, or not yet)" },
	[DRAIN_KEPT_ADMIN] = { "admin_queue",
	    "in the administrator's queue" },
	[DRAIN_KEPT_STUCK] = { "stuck",
	    "ebb's, but the MTA did not release it" },
	[DRAIN_KEPT_PARKED] = { "parked", "ebb's, parked" },
};

const char *
drain_kept_name(enum drain_kept k)
{
	return (unsigned)k < DRAIN_KEPT_COUNT ? kept_words[k].name :
	    "unknown";
}

const char *
drain_kept_reason(enum drain_kept k)
{
	return (unsigned)k < DRAIN_KEPT_COUNT ? kept_words[k].reason :
	    "unknown";
}

void
drain_proof_free(struct drain *d)
{
	proof_search_free(&d->ps);
	index_free(&d->unproven);
}

/* remember - m is not ebb's, for why: not read again while held */
static void
remember(struct drain *d, const char *id, time_t arrival,
    enum drain_kept why)
{
	struct msg	 r;

	memset(&r, 0, sizeof(r));
	ebb_strlcpy(r.queue_id, id, sizeof(r.queue_id));
	r.arrival_time = arrival;
	r.next_retry = (time_t)why;
	index_put(d->unproven, &r, NULL);
}

/* memo - the reason remembered for m, or -1 (not checked, or stale) */
static int
memo(struct drain *d, const struct msg *m)
{
	const struct msg *r;

	if ((r = index_lookup(d->unproven, m->queue_id)) == NULL ||
	    r->arrival_time != m->arrival_time)
		return -1;
	return (int)r->next_retry;
}

/*
 * check - ebb's proof for the held message id: PROOF_OK when it has one
 * and ebb has not released it since it arrived (the arrival time its
 * file records), else PROOF_NONE with *why_r; PROOF_ERROR only for the
 * ledger (*err_r)
 */
static int
check(struct drain *d, const char *id, enum drain_kept *why_r, char **err_r)
{
	char	*err = NULL;
	int	 r;

	r = mta_proof(d->mta, id, d->ps, &err);
	if (r == PROOF_ERROR) {
		log_msg(LOG_WARNING, id, "proof of a hold not checked: %s",
		    err);
		free(err);
		*why_r = DRAIN_KEPT_UNREADABLE;
		return PROOF_NONE;
	}
	if (r == PROOF_NONE) {
		*why_r = DRAIN_KEPT_NO_PROOF;
		return PROOF_NONE;
	}
	switch (ledger_settled_since(d->ledger, id,
	    proof_search_arrival(d->ps), err_r)) {
	case -1:
		return PROOF_ERROR;
	case 1:
		*why_r = DRAIN_KEPT_RELEASED;
		return PROOF_NONE;
	default:
		return PROOF_OK;
	}
}

/* record - ids[0..n) are ebb's: parked, in one transaction */
static int
record(struct drain *d, const char *const *ids, const time_t *deadlines,
    size_t n, time_t now, char **err_r)
{
	if (n == 0)
		return 0;
	if (ledger_park_begin(d->ledger, ids, deadlines, n, now,
	    err_r) == -1 ||
	    ledger_park_commit(d->ledger, ids, n, now, err_r) == -1)
		return -1;
	return 0;
}

int
drain_adopt(struct drain *d, const char *id, time_t deadline, time_t now,
    char **err_r)
{
	const char	*ids[1] = { id };
	struct msg	*m;
	enum drain_kept	 why;
	int		 due, was, r;

	if (!ebb_queue_id_valid(id)) {
		*err_r = xasprintf("\"%.40s\" is not a queue id", id);
		return -1;
	}
	if (d->ledger == NULL || d->opts.dry_run)
		return 0;
	/* the MTA parks it just after the milter's answer */
	if (mta_locate_role(d->mta, id, &due) != MSG_ROLE_HELD)
		return 1;
	if ((was = ledger_is_parked(d->ledger, id, err_r)) == -1)
		return -1;
	m = index_lookup(d->ix, id);
	if (d->ps == NULL) {
		why = DRAIN_KEPT_UNCHECKED;
		r = PROOF_NONE;
	} else if ((r = check(d, id, &why, err_r)) == PROOF_ERROR)
		return -1;
	if (r != PROOF_OK) {
		d->refused++;
		log_msg(LOG_WARNING, id, "not adopted: no proof that ebb held "
		    "it (%s)", drain_kept_reason(why));
		if (m != NULL && drain_role(d, m) == MSG_ROLE_HELD)
			remember(d, id, m->arrival_time, why);
		return 2;
	}
	if (record(d, ids, &deadline, 1, now, err_r) == -1)
		return -1;
	log_msg(LOG_INFO, id, "parked by the milter deadline=%lld",
	    (long long)deadline);
	if (!was)
		d->total++;
	return 0;
}

/* what adopt_proven gathers: held messages with no ledger row */
struct orphans {
	struct drain	*d;
	struct msg	**m;
	size_t		 n;
	size_t		 cap;
};

/* push - one more message in o */
static void
push(struct orphans *o, struct msg *m)
{
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 64;
		o->m = xreallocarray(o->m, o->cap, sizeof(*o->m));
	}
	o->m[o->n++] = m;
}

static int
collect_orphan(struct msg *m, void *arg)
{
	struct orphans	*o = arg;

	if (!m->parked_by_ebb && drain_role(o->d, m) == MSG_ROLE_HELD &&
	    memo(o->d, m) == -1)
		push(o, m);
	return 0;
}

/* stale - a remembered message no longer held as it was checked */
static int
collect_stale(struct msg *r, void *arg)
{
	struct orphans	*o = arg;
	struct msg	*m;

	m = index_lookup(o->d->ix, r->queue_id);
	if (m == NULL || m->arrival_time != r->arrival_time ||
	    m->parked_by_ebb || drain_role(o->d, m) != MSG_ROLE_HELD)
		push(o, r);
	return 0;
}

/* forget_stale - drop what left hold (or became ebb's) from the memo */
static void
forget_stale(struct drain *d)
{
	struct orphans	 o = { d, NULL, 0, 0 };
	char		(*ids)[MSG_QUEUE_ID_MAX];
	size_t		 i;

	index_foreach(d->unproven, collect_stale, &o);
	if (o.n == 0)
		return;
	/* copies: removing frees the entries the pointers point at */
	ids = xreallocarray(NULL, o.n, sizeof(*ids));
	for (i = 0; i < o.n; i++)
		ebb_strlcpy(ids[i], o.m[i]->queue_id, sizeof(ids[i]));
	for (i = 0; i < o.n; i++)
		index_remove(d->unproven, ids[i]);
	free(ids);
	free(o.m);
}

int
drain_adopt_proven(struct drain *d, time_t now, char **err_r)
{
	struct orphans	 o = { d, NULL, 0, 0 };
	enum drain_kept	 why;
	const char	**ids;
	time_t		*deadlines;
	size_t		 i, n, nproven = 0;
	int		 rc = 0, r;

	forget_stale(d);
	index_foreach(d->ix, collect_orphan, &o);
	d->unchecked = o.n;
	if (d->ps == NULL || d->ledger == NULL || d->opts.dry_run ||
	    o.n == 0) {
		free(o.m);
		return 0;
	}
	n = d->opts.failsafe || d->opts.proof_all ? o.n :
	    MINIMUM(o.n, DRAIN_PROOF_MAX);
	ids = xreallocarray(NULL, n, sizeof(*ids));
	deadlines = xreallocarray(NULL, n, sizeof(*deadlines));
	for (i = 0; i < n; i++) {
		r = check(d, o.m[i]->queue_id, &why, err_r);
		if (r == PROOF_ERROR) {
			rc = -1;
			break;
		}
		if (r == PROOF_NONE) {
			remember(d, o.m[i]->queue_id, o.m[i]->arrival_time,
			    why);
			continue;
		}
		ids[nproven] = o.m[i]->queue_id;
		deadlines[nproven++] = o.m[i]->deadline;
	}
	d->unchecked = o.n - i;
	if (rc == 0 && (rc = record(d, ids, deadlines, nproven, now,
	    err_r)) == 0) {
		for (i = 0; i < nproven; i++)
			log_msg(LOG_INFO, ids[i], "adopted: held with ebb's "
			    "proof and no ledger row deadline=%lld",
			    (long long)deadlines[i]);
		if (nproven > 0)
			log_info("adopted %zu held messages by ebb's proof of "
			    "the hold", nproven);
		d->adopted += nproven;
		d->total += nproven;
	}
	free(ids);
	free(deadlines);
	free(o.m);
	return rc;
}

/* what drain_foreach_kept walks with */
struct kept {
	struct drain	*d;
	int		(*fn)(void *, const char *, enum drain_kept);
	void		*arg;
	size_t		 n;
};

static int
kept_one(struct msg *m, void *arg)
{
	struct kept	*k = arg;
	struct drain	*d = k->d;
	int		 r = drain_role(d, m), why;

	if (r != MSG_ROLE_HELD && r != MSG_ROLE_ADMIN)
		return 0;
	if (r == MSG_ROLE_ADMIN)
		why = DRAIN_KEPT_ADMIN;
	else if (m->parked_by_ebb) {
		if (index_lookup(d->stuck, m->queue_id) != NULL)
			why = DRAIN_KEPT_STUCK;
		else if (index_lookup(d->recent, m->queue_id) != NULL)
			return 0;		/* released by this drain */
		else
			why = DRAIN_KEPT_PARKED;
	} else if ((why = memo(d, m)) == -1)
		why = DRAIN_KEPT_UNCHECKED;
	k->n++;
	return k->fn(k->arg, m->queue_id, (enum drain_kept)why);
}

size_t
drain_foreach_kept(struct drain *d,
    int (*fn)(void *arg, const char *id, enum drain_kept why), void *arg)
{
	struct kept	 k = { d, fn, arg, 0 };

	index_foreach(d->ix, kept_one, &k);
	return k.n;
}

int
drain_ledger_warn(struct drain *d)
{
	if (d->ledger == NULL || !ledger_created(d->ledger) ||
	    (d->adopted == 0 && d->unchecked == 0))
		return 0;
	if (d->adopted > 0)
		log_err("ledger %s was missing or empty and is made anew, "
		    "while the hold queue holds %zu messages with ebb's proof "
		    "of the hold: recorded as ebb's again (\"ebbctl adopt "
		    "--proven\" does the same); %zu other held messages carry "
		    "no proof and stay held: any of them ebb's drain parked "
		    "is not known as ebb's any more (check, then release by "
		    "hand)", ledger_path(d->ledger), d->adopted,
		    index_count(d->unproven) + d->unchecked);
	else
		log_err("ledger %s was missing or empty and is made anew, "
		    "while the hold queue holds %zu messages no key can show "
		    "to be ebb's (no proof key): they stay held",
		    ledger_path(d->ledger), d->unchecked);
	return 1;
}

/* what drain_failsafe_json gathers */
struct kept_json {
	json_t		*a;
	size_t		 max;
};

static int
kept_add(void *arg, const char *id, enum drain_kept why)
{
	struct kept_json *k = arg;

	if (json_array_size(k->a) < k->max)
		json_array_append_new(k->a, json_pack("{ssssss}", "queue_id",
		    id, "reason", drain_kept_name(why), "why",
		    drain_kept_reason(why)));
	return 0;
}

json_t *
drain_failsafe_json(struct drain *d, size_t max_kept)
{
	struct drain_status st;
	struct kept_json k = { json_array(), max_kept };
	size_t		 total;

	drain_status(d, &st);
	total = drain_foreach_kept(d, kept_add, &k);
	return json_pack("{sIsIsIsIsIsosI}",
	    "released", (json_int_t)st.released,
	    "expired", (json_int_t)st.expired,
	    "admin_held", (json_int_t)st.admin_held,
	    "stuck", (json_int_t)st.stuck,
	    "adopted", (json_int_t)st.adopted,
	    "kept", k.a,
	    "kept_total", (json_int_t)total);
}
