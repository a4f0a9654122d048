/*
 * drain.c - park a backlog and release it earliest deadline first
 *
 * drain_start scans the queue into the index, settles the ledger against
 * it (ledger_reconcile), parks every deferred message ebb does not already
 * hold, and sorts what ebb has parked by deadline (then arrival, then id).
 * drain_tick then releases from the front of that order, as many as the
 * token bucket and the window allow, in one batch per tick:
 *
 *	ledger: releasing  ->  MTA release + kick  ->  ledger: released
 *
 * so a crash between the steps is resolved by the next reconcile. The
 * messages in flight (released, not yet delivered or deferred again) are
 * tracked by id and located in the queue each tick, which costs a couple
 * of stat calls per message in the window, not a rescan.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "ebb/bucket.h"
#include "ebb/config.h"
#include "ebb/drain.h"
#include "ebb/duration.h"
#include "ebb/governor.h"
#include "ebb/index.h"
#include "ebb/ledger.h"
#include "ebb/log.h"
#include "ebb/msg.h"
#include "ebb/mta.h"
#include "ebb/util.h"

#define DRAIN_BATCH_MAX	2000	/* ids per MTA command */
#define DRAIN_REKICK	5	/* seconds before a due message is kicked again */
#define DRAIN_RECENT	3600	/* seconds drain_refresh does not park
				   again what it released */

/* a message released by this drain and not yet known to be on its way out */
struct inflight {
	char	 id[MSG_QUEUE_ID_MAX];
	double	 released;	/* monotonic seconds */
};

struct drain {
	const struct config *cfg;
	struct mta	*mta;
	struct ledger	*ledger;
	struct drain_opts opts;
	struct index	*ix;
	struct index	*recent;	/* released lately: queue_id, and
					   arrival_time = when released */

	struct msg	**order;	/* ebb's parked messages, EDF */
	size_t		 norder;
	size_t		 next;		/* first not yet released */

	struct inflight	*inflight;
	size_t		 ninflight;

	struct bucket	 bucket;
	int		 bucket_started;
	double		 rate;
	long		 window;

	size_t		 total;
	size_t		 released;
	size_t		 expired;
	size_t		 admin_held;
	size_t		 corrupt;
};

struct drain *
drain_new(const struct config *cfg, struct mta *mta, struct ledger *ledger,
    const struct drain_opts *opts)
{
	struct drain	*d;

	d = xcalloc(1, sizeof(*d));
	d->cfg = cfg;
	d->mta = mta;
	d->ledger = ledger;
	d->opts = *opts;
	d->ix = index_new();
	d->recent = index_new();
	return d;
}

void
drain_free(struct drain **dp)
{
	struct drain	*d = *dp;

	if (d == NULL)
		return;
	free(d->order);
	free(d->inflight);
	index_free(&d->ix);
	index_free(&d->recent);
	free(d);
	*dp = NULL;
}

/* edf_cmp - earliest deadline first, then the older message, then the id */
static int
edf_cmp(const void *a, const void *b)
{
	const struct msg *ma = *(const struct msg *const *)a;
	const struct msg *mb = *(const struct msg *const *)b;

	if (ma->deadline != mb->deadline)
		return ma->deadline < mb->deadline ? -1 : 1;
	if (ma->arrival_time != mb->arrival_time)
		return ma->arrival_time < mb->arrival_time ? -1 : 1;
	return strcmp(ma->queue_id, mb->queue_id);
}

/* in_queue - the ledger's view of the queue, through the index */
static int
in_queue(void *arg, const char *id, int *queue_r)
{
	struct drain	*d = arg;
	struct msg	*m;

	if ((m = index_lookup(d->ix, id)) == NULL)
		return 0;
	*queue_r = m->queue;
	return 1;
}

/*
 * mark_parked - flag the index entry of a message ebb has parked. The
 * ledger's deadline wins when it is earlier: the milter records the
 * remote sender's deadline of what it held (drain_adopt), which is sooner
 * than the local bounce deadline of a message that just arrived.
 */
static int
mark_parked(void *arg, const char *id, time_t deadline)
{
	struct index	*ix = arg;
	struct msg	*m;

	if ((m = index_lookup(ix, id)) != NULL &&
	    m->queue == MSG_QUEUE_HOLD) {
		m->parked_by_ebb = 1;
		if (deadline > 0 && deadline < m->deadline)
			m->deadline = deadline;
	}
	return 0;
}

int
drain_mark_parked(struct ledger *ledger, struct index *ix, char **err_r)
{
	if (ledger == NULL)
		return 0;
	return ledger_foreach_parked(ledger, mark_parked, ix, err_r);
}

struct collect {
	struct drain	*d;
	const char	**ids;
	time_t		*deadlines;
	size_t		 n;
	size_t		 cap;
};

/* collect_deferred - the deferred messages to park */
static int
collect_deferred(struct msg *m, void *arg)
{
	struct collect	*c = arg;

	if (m->queue != MSG_QUEUE_DEFERRED)
		return 0;
	/* released lately and deferred again: the MTA retries it itself */
	if (index_lookup(c->d->recent, m->queue_id) != NULL)
		return 0;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->ids = xreallocarray(c->ids, c->cap, sizeof(*c->ids));
		c->deadlines = xreallocarray(c->deadlines, c->cap,
		    sizeof(*c->deadlines));
	}
	c->ids[c->n] = m->queue_id;
	c->deadlines[c->n] = m->deadline;
	c->n++;
	return 0;
}

/* collect_parked - ebb's parked messages, for the release order */
static int
collect_parked(struct msg *m, void *arg)
{
	struct drain	*d = arg;

	if (m->queue != MSG_QUEUE_HOLD)
		return 0;
	if (!m->parked_by_ebb) {
		d->admin_held++;
		return 0;
	}
	d->order[d->norder++] = m;
	return 0;
}

/*
 * park - park the deferred backlog in batches: the ledger learns of each
 * batch before the MTA moves it, and confirms it after
 */
static int
park(struct drain *d, time_t now, char **err_r)
{
	struct collect	 c = { .d = d };
	size_t		 i, n;
	int		 rc = 0;

	index_foreach(d->ix, collect_deferred, &c);
	for (i = 0; i < c.n && rc == 0; i += n) {
		n = MINIMUM(c.n - i, DRAIN_BATCH_MAX);
		if (ledger_park_begin(d->ledger, c.ids + i, c.deadlines + i,
		    n, now, err_r) == -1 ||
		    mta_park(d->mta, c.ids + i, n, err_r) == -1 ||
		    ledger_park_commit(d->ledger, c.ids + i, n, now,
		    err_r) == -1)
			rc = -1;
	}
	if (c.n > 0 && rc == 0)
		log_info("parked %zu deferred messages in the hold queue",
		    c.n);
	free(c.ids);
	free(c.deadlines);
	return rc;
}

/* clear_parked - forget the marks: the ledger says afresh what is ebb's */
static int
clear_parked(struct msg *m, void *arg)
{
	(void)arg;
	m->parked_by_ebb = 0;
	return 0;
}

/* rescan - bring the index up to date and mark what ebb has parked */
static int
rescan(struct drain *d, char **err_r)
{
	struct scan_stats st;

	memset(&st, 0, sizeof(st));
	if (mta_scan(d->mta, d->ix, &st, err_r) == -1)
		return -1;
	index_foreach(d->ix, clear_parked, NULL);
	d->corrupt = st.corrupt;
	return drain_mark_parked(d->ledger, d->ix, err_r);
}

/* build_order - ebb's parked messages, not yet sorted */
static void
build_order(struct drain *d)
{
	d->order = xreallocarray(d->order, index_count(d->ix) + 1,
	    sizeof(*d->order));
	d->norder = d->next = 0;
	d->admin_held = 0;
	index_foreach(d->ix, collect_parked, d);
}

int
drain_start(struct drain *d, time_t now, char **err_r)
{
	if (drain_refresh(d, now, err_r) == -1)
		return -1;
	d->total = d->norder;
	return 0;
}

int
drain_refresh(struct drain *d, time_t now, char **err_r)
{
	/* a rescan frees what left the queue: no stale order survives it */
	d->norder = d->next = 0;
	if (rescan(d, err_r) == -1)
		return -1;
	if (!d->opts.dry_run) {
		if (ledger_reconcile(d->ledger, in_queue, d, now, err_r) == -1)
			return -1;
		if (!d->opts.failsafe &&
		    d->cfg->drain_mode == CONFIG_DRAIN_HOLD &&
		    park(d, now, err_r) == -1)
			return -1;
		if (rescan(d, err_r) == -1)
			return -1;
	}
	build_order(d);
	if (d->opts.dry_run) {
		/* what the drain would park: the deferred backlog */
		struct collect	 c = { .d = d };
		size_t		 i;

		index_foreach(d->ix, collect_deferred, &c);
		d->order = xreallocarray(d->order, d->norder + c.n + 1,
		    sizeof(*d->order));
		for (i = 0; i < c.n; i++)
			d->order[d->norder++] = index_lookup(d->ix, c.ids[i]);
		free(c.ids);
		free(c.deadlines);
	}
	qsort(d->order, d->norder, sizeof(*d->order), edf_cmp);
	d->total = d->released + d->norder;
	return 0;
}

/*
 * settle_inflight - forget released messages that are no longer on their
 * way: delivered (gone), bounced, or deferred again with a future retry.
 * One still due in deferred DRAIN_REKICK seconds after its kick was not
 * picked up (the wake-up can be lost, e.g. while the MTA reloads): kick it
 * again rather than leave it to the MTA's next queue scan, minutes away.
 */
static void
settle_inflight(struct drain *d, double mono, time_t now)
{
	const char	**stale = NULL;
	size_t		 i, keep = 0, nstale = 0;
	time_t		 retry;
	char		*err = NULL;
	int		 q;

	for (i = 0; i < d->ninflight; i++) {
		q = mta_locate(d->mta, d->inflight[i].id, &retry);
		if (!(q == MSG_QUEUE_ACTIVE || q == MSG_QUEUE_INCOMING ||
		    (q == MSG_QUEUE_DEFERRED && retry <= now)))
			continue;
		/* entries below keep are final: point at them, not at i */
		d->inflight[keep] = d->inflight[i];
		if (q == MSG_QUEUE_DEFERRED && !d->opts.failsafe &&
		    mono - d->inflight[keep].released >= DRAIN_REKICK) {
			if (stale == NULL)
				stale = xreallocarray(NULL, d->ninflight,
				    sizeof(*stale));
			d->inflight[keep].released = mono;
			stale[nstale++] = d->inflight[keep].id;
		}
		keep++;
	}
	d->ninflight = keep;
	if (nstale > 0 && mta_kick(d->mta, stale, nstale, &err) == -1) {
		log_warn("%s", err);
		free(err);
	}
	free(stale);
}

/* remember_released - keep drain_refresh from parking id again soon */
static void
remember_released(struct drain *d, const char *id, time_t now)
{
	struct msg	 r;

	memset(&r, 0, sizeof(r));
	ebb_strlcpy(r.queue_id, id, sizeof(r.queue_id));
	r.arrival_time = now;
	index_put(d->recent, &r, NULL);
}

/* release_batch - release order[next .. next+n) through ledger and MTA */
static int
release_batch(struct drain *d, size_t n, double pressure, double mono,
    time_t now, char **err_r)
{
	const char	**ids;
	struct msg	*m;
	char		 slack[DURATION_BUFSZ];
	size_t		 i;
	int		 rc = -1;

	ids = xreallocarray(NULL, n, sizeof(*ids));
	for (i = 0; i < n; i++)
		ids[i] = d->order[d->next + i]->queue_id;
	if (ledger_release_begin(d->ledger, ids, n, now, err_r) == -1)
		goto out;
	if (mta_release(d->mta, ids, n, err_r) == -1)
		goto out;
	/* released mail is the MTA's again: record that first, then kick */
	if (ledger_release_commit(d->ledger, ids, n, now, err_r) == -1)
		goto out;
	if (!d->opts.failsafe && mta_kick(d->mta, ids, n, err_r) == -1) {
		/* delivered later, on the MTA's own schedule: not lost */
		log_warn("%s", *err_r);
		free(*err_r);
		*err_r = NULL;
	}
	d->inflight = xreallocarray(d->inflight, d->ninflight + n,
	    sizeof(*d->inflight));
	for (i = 0; i < n; i++) {
		m = d->order[d->next + i];
		remember_released(d, m->queue_id, now);
		ebb_strlcpy(d->inflight[d->ninflight].id, m->queue_id,
		    sizeof(d->inflight[d->ninflight].id));
		d->inflight[d->ninflight++].released = mono;
		duration_format((long)(m->deadline - now), slack,
		    sizeof(slack));
		if (m->deadline <= now) {
			d->expired++;
			log_msg(LOG_WARNING, m->queue_id, "released expired "
			    "deadline=%lld overdue=%s: this attempt is its "
			    "last chance", (long long)m->deadline, slack + 1);
		} else if (d->opts.verbose)
			log_msg(LOG_INFO, m->queue_id, "released deadline=%lld "
			    "slack=%s rate=%.1f p=%.2f", (long long)m->deadline,
			    slack, d->rate, pressure);
	}
	d->next += n;
	d->released += n;
	rc = 0;
out:
	free(ids);
	return rc;
}

long
drain_tick(struct drain *d, const struct budget *budget, double mono,
    time_t now, char **err_r)
{
	size_t	 n, room;
	double	 rate;

	if (d->opts.failsafe) {
		/* everything, in batches, no pacing: the MTA takes over */
		n = MINIMUM(d->norder - d->next, DRAIN_BATCH_MAX);
		if (n > 0 && release_batch(d, n, 0, mono, now, err_r) == -1)
			return -1;
		d->ninflight = 0;
		return (long)n;
	}
	rate = budget->rate;
	if (d->opts.max_rate > 0 && rate > d->opts.max_rate)
		rate = d->opts.max_rate;
	d->rate = rate;
	d->window = budget->window;
	if (!d->bucket_started) {
		bucket_init(&d->bucket, rate, MAXIMUM(1.0, rate), mono);
		d->bucket_started = 1;
	} else
		bucket_set_rate(&d->bucket, rate, MAXIMUM(1.0, rate), mono);

	settle_inflight(d, mono, now);
	if (rate <= 0 || d->next >= d->norder)
		return 0;
	n = d->norder - d->next;
	room = budget->window > (long)d->ninflight ?
	    (size_t)budget->window - d->ninflight : 0;
	n = MINIMUM(n, room);
	if (d->opts.limit > 0)
		n = MINIMUM(n, (size_t)d->opts.limit - d->released);
	n = MINIMUM(n, DRAIN_BATCH_MAX);
	n = bucket_take(&d->bucket, n, mono);
	if (n == 0)
		return 0;
	if (release_batch(d, n, budget->pressure, mono, now, err_r) == -1)
		return -1;
	return (long)n;
}

void
drain_status(const struct drain *d, struct drain_status *r)
{
	memset(r, 0, sizeof(*r));
	r->total = d->total;
	r->parked = d->norder - d->next;
	r->admin_held = d->admin_held;
	r->released = d->released;
	r->expired = d->expired;
	r->inflight = d->ninflight;
	r->corrupt = d->corrupt;
	r->rate = d->rate;
	r->window = d->window;
}

int
drain_done(const struct drain *d)
{
	return d->next >= d->norder && d->ninflight == 0;
}

int
drain_limit_reached(const struct drain *d)
{
	return d->opts.limit > 0 && d->released >= (size_t)d->opts.limit;
}

void
drain_plan(const struct drain *d, double rate, size_t n, time_t now)
{
	char	 slack[DURATION_BUFSZ], age[DURATION_BUFSZ], eta[DURATION_BUFSZ];
	size_t	 i, expired = 0;

	for (i = 0; i < d->norder; i++)
		if (d->order[i]->deadline <= now)
			expired++;
	printf("would release %zu messages earliest deadline first "
	    "(%zu past their deadline); %zu held by the administrator "
	    "stay held\n", d->norder, expired, d->admin_held);
	if (rate > 0) {
		duration_format((long)ceil(d->norder / rate), eta, sizeof(eta));
		printf("at %.1f messages/s now: about %s\n", rate, eta);
	} else
		printf("pressure allows no releases now\n");
	if (d->norder == 0)
		return;
	printf("%-16s %-9s %-9s %s\n", "queue_id", "age", "slack", "sender");
	for (i = 0; i < d->norder && i < n; i++) {
		const struct msg *m = d->order[i];

		duration_format((long)(now - m->arrival_time), age,
		    sizeof(age));
		if (m->deadline <= now)
			ebb_strlcpy(slack, "expired", sizeof(slack));
		else
			duration_format((long)(m->deadline - now), slack,
			    sizeof(slack));
		printf("%-16s %-9s %-9s %s\n", m->queue_id, age, slack,
		    m->sender[0] != '\0' ? m->sender : "<>");
	}
	if (d->norder > n)
		printf("... and %zu more\n", d->norder - n);
}

/* forget_old - drop the recent releases older than DRAIN_RECENT */
struct forget {
	time_t		 before;
	char		(*ids)[MSG_QUEUE_ID_MAX];
	size_t		 n;
};

static int
collect_old(struct msg *m, void *arg)
{
	struct forget	*f = arg;

	if (m->arrival_time < f->before) {
		f->ids = xreallocarray(f->ids, f->n + 1, sizeof(*f->ids));
		ebb_strlcpy(f->ids[f->n++], m->queue_id, sizeof(*f->ids));
	}
	return 0;
}

void
drain_expire_recent(struct drain *d, time_t now)
{
	struct forget	 f = { now - DRAIN_RECENT, NULL, 0 };
	size_t		 i;

	index_foreach(d->recent, collect_old, &f);
	for (i = 0; i < f.n; i++)
		index_remove(d->recent, f.ids[i]);
	free(f.ids);
}

void
drain_set_config(struct drain *d, const struct config *cfg)
{
	d->cfg = cfg;
}

/* drop_unparked - take what is no longer ebb's in hold out of the order */
static void
drop_unparked(struct drain *d)
{
	size_t	 i, keep = d->next;

	for (i = d->next; i < d->norder; i++)
		if (d->order[i]->queue == MSG_QUEUE_HOLD &&
		    d->order[i]->parked_by_ebb)
			d->order[keep++] = d->order[i];
	d->norder = keep;
}

int
drain_release_ids(struct drain *d, const char *const *ids, size_t n,
    time_t now, char **err_r)
{
	struct msg	*m;
	time_t		 retry;
	size_t		 i;
	int		 q;

	if (n == 0 || d->ledger == NULL || d->opts.dry_run)
		return 0;
	for (i = 0; i < n; i++) {
		if (!ebb_queue_id_valid(ids[i])) {
			*err_r = xasprintf("\"%.40s\" is not a queue id",
			    ids[i]);
			return -1;
		}
		q = ledger_is_parked(d->ledger, ids[i], err_r);
		if (q == -1)
			return -1;
		if (q == 0 || mta_locate(d->mta, ids[i], &retry) !=
		    MSG_QUEUE_HOLD) {
			*err_r = xasprintf("%s: not parked by ebb: not "
			    "released", ids[i]);
			return -1;
		}
	}
	if (ledger_release_begin(d->ledger, ids, n, now, err_r) == -1 ||
	    mta_release(d->mta, ids, n, err_r) == -1 ||
	    ledger_release_commit(d->ledger, ids, n, now, err_r) == -1)
		return -1;
	if (mta_kick(d->mta, ids, n, err_r) == -1) {
		log_warn("%s", *err_r);
		free(*err_r);
		*err_r = NULL;
	}
	for (i = 0; i < n; i++) {
		log_msg(LOG_INFO, ids[i], "released by request");
		remember_released(d, ids[i], now);
		if ((m = index_lookup(d->ix, ids[i])) != NULL) {
			m->queue = MSG_QUEUE_DEFERRED;
			m->parked_by_ebb = 0;
		}
	}
	d->released += n;
	drop_unparked(d);
	return 0;
}

int
drain_hold_ids(struct drain *d, const char *const *ids, size_t n,
    time_t now, char **err_r)
{
	struct msg	*m;
	time_t		*deadlines, retry;
	size_t		 i;
	int		 rc = -1;

	if (n == 0 || d->ledger == NULL || d->opts.dry_run)
		return 0;
	for (i = 0; i < n; i++) {
		if (!ebb_queue_id_valid(ids[i])) {
			*err_r = xasprintf("\"%.40s\" is not a queue id",
			    ids[i]);
			return -1;
		}
		if (mta_locate(d->mta, ids[i], &retry) != MSG_QUEUE_DEFERRED) {
			*err_r = xasprintf("%s: not in the deferred queue: "
			    "not parked", ids[i]);
			return -1;
		}
	}
	/* the deadlines come from the index: bring it up to date */
	d->norder = d->next = 0;
	if (rescan(d, err_r) == -1)
		return -1;
	build_order(d);
	qsort(d->order, d->norder, sizeof(*d->order), edf_cmp);
	deadlines = xreallocarray(NULL, n, sizeof(*deadlines));
	for (i = 0; i < n; i++) {
		if ((m = index_lookup(d->ix, ids[i])) == NULL ||
		    m->queue != MSG_QUEUE_DEFERRED) {
			*err_r = xasprintf("%s: not in the deferred queue: "
			    "not parked", ids[i]);
			goto out;
		}
		deadlines[i] = m->deadline;
	}
	if (ledger_park_begin(d->ledger, ids, deadlines, n, now,
	    err_r) == -1 || mta_park(d->mta, ids, n, err_r) == -1 ||
	    ledger_park_commit(d->ledger, ids, n, now, err_r) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		log_msg(LOG_INFO, ids[i], "parked by request deadline=%lld",
		    (long long)deadlines[i]);
		index_remove(d->recent, ids[i]);
		m = index_lookup(d->ix, ids[i]);
		m->queue = MSG_QUEUE_HOLD;
		m->parked_by_ebb = 1;
	}
	build_order(d);
	qsort(d->order, d->norder, sizeof(*d->order), edf_cmp);
	d->total += n;
	rc = 0;
out:
	free(deadlines);
	return rc;
}

void
drain_queue_counts(const struct drain *d, size_t counts_r[MSG_QUEUE_COUNT])
{
	int	 q;

	for (q = 0; q < MSG_QUEUE_COUNT; q++)
		counts_r[q] = index_count_queue(d->ix, q);
}

void
drain_at_risk(const struct drain *d, time_t now,
    size_t counts_r[DRAIN_RISK_COUNT])
{
	static const long bounds[DRAIN_RISK_COUNT - 1] = {
		0, 3600, 6 * 3600, 24 * 3600
	};
	size_t	 i, b;
	long	 slack;

	memset(counts_r, 0, DRAIN_RISK_COUNT * sizeof(*counts_r));
	for (i = d->next; i < d->norder; i++) {
		slack = (long)(d->order[i]->deadline - now);
		for (b = 0; b < DRAIN_RISK_COUNT - 1; b++)
			if (slack <= bounds[b])
				break;
		counts_r[b]++;
	}
}

int
drain_held_before(const struct drain *d, const char *id)
{
	const struct msg *m;

	m = index_lookup(d->ix, id);
	return m != NULL && m->queue == MSG_QUEUE_HOLD && !m->parked_by_ebb;
}

int
drain_adopt(struct drain *d, const char *id, time_t deadline, time_t now,
    char **err_r)
{
	const char	*ids[1] = { id };
	time_t		 retry;

	if (!ebb_queue_id_valid(id)) {
		*err_r = xasprintf("\"%.40s\" is not a queue id", id);
		return -1;
	}
	if (d->ledger == NULL || d->opts.dry_run)
		return 0;
	/* the MTA moves it to hold just after the milter's answer */
	if (mta_locate(d->mta, id, &retry) != MSG_QUEUE_HOLD)
		return 1;
	if (ledger_park_begin(d->ledger, ids, &deadline, 1, now,
	    err_r) == -1 ||
	    ledger_park_commit(d->ledger, ids, 1, now, err_r) == -1)
		return -1;
	log_msg(LOG_INFO, id, "parked by the milter deadline=%lld",
	    (long long)deadline);
	d->total++;
	return 0;
}
