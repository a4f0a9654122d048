/*
 * drain.c - park a backlog and release it earliest deadline first
 *
 * The engine knows queues only by their role (msg.h): it parks what is
 * waiting for a retry into the held role, releases what it parked, and
 * watches what is leaving. Which directory, command or flag that is for
 * one MTA is the backend's business (mta.h).
 *
 * drain_start scans the queue into the index, settles the ledger against
 * it (ledger_reconcile; a parked message under a new queue id is found
 * by its fingerprint, drain_rebind.c), records the held messages that
 * carry ebb's proof of the hold but have no ledger row (drain_proof.c),
 * parks every waiting message ebb has not parked yet, records the
 * fingerprint of what it parked, and sorts what ebb has parked by
 * deadline (then arrival, then id).
 * drain_tick then releases from the front of that order, as many as the
 * token bucket and the window allow, in one batch per tick:
 *
 *	ledger: releasing  ->  MTA release + kick  ->  ledger: released
 *
 * so a crash between the steps is resolved by the next reconcile. The
 * messages in flight (released, not yet delivered or waiting again) are
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
#include "ebb/proof.h"
#include "ebb/util.h"
#include "drain_int.h"

#define DRAIN_BATCH_MAX	2000	/* ids per MTA command */
#define DRAIN_REKICK	5	/* seconds before a due message is kicked again */
#define DRAIN_RECENT	3600	/* seconds drain_refresh does not park
				   again what it released */

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
	d->stuck = index_new();
	d->unproven = index_new();
	if (opts->proof_key != NULL)
		d->ps = proof_search_new(opts->proof_key);
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
	index_free(&d->stuck);
	drain_proof_free(d);
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

int
drain_role(const struct drain *d, const struct msg *m)
{
	return mta_queue_role(d->mta, m->queue);
}

/*
 * in_queue - the ledger's view of the queue, through the index. A held
 * file that could not be read is in the index, so it stays parked.
 */
static int
in_queue(void *arg, const char *id, int *role_r)
{
	struct drain	*d = arg;
	struct msg	*m;

	if ((m = index_lookup(d->ix, id)) == NULL)
		return 0;
	*role_r = drain_role(d, m);
	return 1;
}

struct mark {
	struct mta	*mta;
	struct index	*ix;
};

/*
 * mark_parked - flag the index entry of a message ebb has parked. The
 * ledger's deadline wins when it is earlier: the milter records the
 * remote sender's deadline of what it held (drain_adopt), which is sooner
 * than the local bounce deadline of a message that just arrived. A file
 * that could not be read has no deadline but the ledger's.
 */
static int
mark_parked(void *arg, const char *id, time_t deadline)
{
	struct mark	*mk = arg;
	struct msg	*m;

	if ((m = index_lookup(mk->ix, id)) != NULL &&
	    mta_queue_role(mk->mta, m->queue) == MSG_ROLE_HELD) {
		m->parked_by_ebb = 1;
		if (deadline > 0 && (deadline < m->deadline ||
		    m->deadline <= 0))
			m->deadline = deadline;
	}
	return 0;
}

int
drain_mark_parked(struct ledger *ledger, struct mta *mta, struct index *ix,
    char **err_r)
{
	struct mark	 mk = { mta, ix };

	if (ledger == NULL)
		return 0;
	return ledger_foreach_parked(ledger, mark_parked, &mk, err_r);
}

struct collect {
	struct drain	*d;
	const char	**ids;
	time_t		*deadlines;
	size_t		 n;
	size_t		 cap;
};

/* collect_waiting - the messages waiting for a retry, to park */
static int
collect_waiting(struct msg *m, void *arg)
{
	struct collect	*c = arg;

	if (drain_role(c->d, m) != MSG_ROLE_WAITING ||
	    (m->flags & MSG_F_UNREADABLE))
		return 0;
	/* released lately and waiting again: the MTA retries it itself */
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
	int		 r = drain_role(d, m);

	if (r != MSG_ROLE_HELD && r != MSG_ROLE_ADMIN)
		return 0;
	if (!m->parked_by_ebb || r == MSG_ROLE_ADMIN) {
		d->admin_held++;
		return 0;
	}
	if (m->flags & MSG_F_UNREADABLE)
		d->unreadable++;
	/* the MTA would not release it: parked, counted, not tried again */
	if (index_lookup(d->stuck, m->queue_id) != NULL)
		return 0;
	d->order[d->norder++] = m;
	return 0;
}

/*
 * park - park the waiting backlog in batches: the ledger learns of each
 * batch before the MTA moves it, and confirms it after
 */
static int
park(struct drain *d, time_t now, char **err_r)
{
	struct collect	 c = { .d = d };
	size_t		 i, n;
	int		 rc = 0;

	index_foreach(d->ix, collect_waiting, &c);
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
		log_info("parked %zu messages waiting for a retry (held "
		    "until released)", c.n);
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
	if ((d->scanner != NULL ? d->scanner(d->scanner_arg, d->ix, &st,
	    err_r) : mta_scan(d->mta, d->ix, &st, err_r)) == -1)
		return -1;
	index_foreach(d->ix, clear_parked, NULL);
	d->corrupt = st.corrupt;
	return drain_mark_parked(d->ledger, d->mta, d->ix, err_r);
}

/* build_order - ebb's parked messages, not yet sorted */
static void
build_order(struct drain *d)
{
	d->order = xreallocarray(d->order, index_count(d->ix) + 1,
	    sizeof(*d->order));
	d->norder = d->next = 0;
	d->admin_held = d->unreadable = 0;
	index_foreach(d->ix, collect_parked, d);
}

static void	 remember_released(struct drain *, const char *, time_t);

/* what seed_recent gathers */
struct seed {
	struct drain	*d;
	const char	**kick;		/* released, waiting, not due */
	size_t		 nkick;
	size_t		 cap;
};

/*
 * seed_one - a release the ledger remembers, into recent; one that waits
 * for a retry that is not due was never attempted (the kick was lost with
 * the process that released it): it is kicked again below
 */
static int
seed_one(void *arg, const char *id, time_t released)
{
	struct seed	*sd = arg;
	struct msg	*m;
	int		 due;

	remember_released(sd->d, id, released);
	if ((m = index_lookup(sd->d->ix, id)) == NULL ||
	    drain_role(sd->d, m) != MSG_ROLE_WAITING ||
	    mta_locate_role(sd->d->mta, id, &due) != MSG_ROLE_WAITING || due)
		return 0;
	if (sd->nkick == sd->cap) {
		sd->cap = sd->cap ? sd->cap * 2 : 64;
		sd->kick = xreallocarray(sd->kick, sd->cap,
		    sizeof(*sd->kick));
	}
	sd->kick[sd->nkick++] = m->queue_id;
	return 0;
}

/*
 * seed_recent - the releases of the last DRAIN_RECENT seconds, from the
 * ledger: another run (a cron drain, ebbd before a restart) released them,
 * and one that is waiting again is the MTA's to retry, not ebb's to park
 * a second time; one whose kick was lost (waiting, not due: never
 * attempted) is kicked now rather than left to its old retry time
 */
static int
seed_recent(struct drain *d, time_t now, char **err_r)
{
	struct seed	 sd = { d, NULL, 0, 0 };
	char		*err = NULL;

	if (d->seeded || d->ledger == NULL)
		return 0;
	if (ledger_foreach_released(d->ledger, now - DRAIN_RECENT, seed_one,
	    &sd, err_r) == -1) {
		free(sd.kick);
		return -1;
	}
	d->seeded = 1;
	if (sd.nkick > 0 && !d->opts.failsafe) {
		log_info("kicking %zu messages released before a restart and "
		    "not attempted since", sd.nkick);
		if (mta_kick(d->mta, sd.kick, sd.nkick, &err) == -1) {
			/* the MTA's own retry delivers them, later */
			log_warn("%s", err);
			free(err);
		}
	}
	free(sd.kick);
	return 0;
}

void
drain_set_scanner(struct drain *d, int (*scanner)(void *, struct index *,
    struct scan_stats *, char **), void *arg)
{
	d->scanner = scanner;
	d->scanner_arg = arg;
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
	size_t	 rebound;

	/* a rescan frees what left the queue: no stale order survives it */
	d->norder = d->next = 0;
	if (rescan(d, err_r) == -1)
		return -1;
	if (!d->opts.dry_run) {
		/* a release a crash left half-recorded is settled here */
		rebound = d->rebound;
		if (ledger_reconcile(d->ledger, in_queue, drain_rebind, d, now,
		    err_r) == -1 ||
		    (d->rebound > rebound && drain_mark_parked(d->ledger,
		    d->mta, d->ix, err_r) == -1) ||
		    seed_recent(d, now, err_r) == -1 ||
		    drain_adopt_proven(d, now, err_r) == -1)
			return -1;
		if (!d->opts.failsafe &&
		    d->cfg->drain_mode == CONFIG_DRAIN_HOLD &&
		    park(d, now, err_r) == -1)
			return -1;
		if (rescan(d, err_r) == -1 ||
		    ledger_fingerprint(d->ledger, drain_fingerprint, d,
		    err_r) == -1)
			return -1;
	}
	build_order(d);
	if (d->opts.dry_run) {
		/* what the drain would park: the waiting backlog */
		struct collect	 c = { .d = d };
		size_t		 i;

		index_foreach(d->ix, collect_waiting, &c);
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
 * way: delivered (gone), bounced, or waiting again for a retry that lies
 * ahead. One still waiting and due DRAIN_REKICK seconds after its kick
 * was not picked up (the wake-up can be lost, e.g. while the MTA
 * reloads): kick it again rather than leave it to the MTA's next queue
 * scan, minutes away.
 */
static void
settle_inflight(struct drain *d, double mono)
{
	const char	**stale = NULL;
	size_t		 i, keep = 0, nstale = 0;
	char		*err = NULL;
	int		 r, due;

	for (i = 0; i < d->ninflight; i++) {
		r = mta_locate_role(d->mta, d->inflight[i].id, &due);
		if (r < 0) {		/* delivered (or bounced): it left */
			d->fb_delivered++;
			d->left++;
			d->fb_latency += MAXIMUM(mono -
			    d->inflight[i].released, 0);
			continue;
		}
		if (!(r == MSG_ROLE_LEAVING || (r == MSG_ROLE_WAITING && due))) {
			/* tried and deferred again (or held by someone) */
			d->deferred_again += r == MSG_ROLE_WAITING;
			continue;
		}
		/* entries below keep are final: point at them, not at i */
		d->inflight[keep] = d->inflight[i];
		if (r == MSG_ROLE_WAITING && !d->opts.failsafe &&
		    mono - d->inflight[keep].kicked >= DRAIN_REKICK) {
			if (stale == NULL)
				stale = xreallocarray(NULL, d->ninflight,
				    sizeof(*stale));
			d->inflight[keep].kicked = mono;
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

/*
 * keep_moved - after the MTA's release command, keep in ids[] (and ms[],
 * when given) only what left the held role, and return how many. The MTA
 * can decline one without an error (Postfix's postsuper skips a hold file
 * without its owner-execute bit): that one is still parked. Its ledger row
 * stays "releasing", which the next reconcile turns back into parked, so
 * it is neither stranded nor taken for released; this drain counts it as
 * stuck and does not try it again (the next drain or failsafe does).
 */
static size_t
keep_moved(struct drain *d, const char **ids, struct msg **ms, size_t n)
{
	struct msg	 s;
	size_t		 i, k = 0;
	int		 due;

	for (i = 0; i < n; i++) {
		if (mta_locate_role(d->mta, ids[i], &due) == MSG_ROLE_HELD) {
			memset(&s, 0, sizeof(s));
			ebb_strlcpy(s.queue_id, ids[i], sizeof(s.queue_id));
			index_put(d->stuck, &s, NULL);
			log_msg(LOG_WARNING, ids[i], "still held after the MTA's "
			    "release: kept parked (is the queue file damaged?)");
			continue;
		}
		ids[k] = ids[i];
		if (ms != NULL)
			ms[k] = ms[i];
		k++;
	}
	return k;
}

/*
 * release_ids - ids[0..n) through ledger and MTA: ledger releasing, the
 * MTA's release, the ledger's commit of what left the held role, then a
 * kick (not in failsafe). ids[] (and ms[], when given) are cut down to
 * what moved (keep_moved). *released_r is set once the MTA's release
 * command succeeded. Returns how many moved, or -1 and *err_r.
 */
static long
release_ids(struct drain *d, const char **ids, struct msg **ms, size_t n,
    time_t now, int *released_r, char **err_r)
{
	size_t	 nmoved;

	*released_r = 0;
	if (ledger_release_begin(d->ledger, ids, n, now, err_r) == -1 ||
	    mta_release(d->mta, ids, n, err_r) == -1)
		return -1;
	*released_r = 1;
	nmoved = keep_moved(d, ids, ms, n);
	/* released mail is the MTA's again: record that first, then kick */
	if (ledger_release_commit(d->ledger, ids, nmoved, now, err_r) == -1)
		return -1;
	if (!d->opts.failsafe && mta_kick(d->mta, ids, nmoved, err_r) == -1) {
		/* delivered later, on the MTA's own schedule: not lost */
		log_warn("%s", *err_r);
		free(*err_r);
		*err_r = NULL;
	}
	return (long)nmoved;
}

/* release_batch - release order[next .. next+n) through ledger and MTA */
static int
release_batch(struct drain *d, size_t n, double pressure, double mono,
    time_t now, char **err_r)
{
	const char	**ids;
	struct msg	*m, **ms;
	char		 slack[DURATION_BUFSZ];
	size_t		 i, nmoved;
	long		 got;
	int		 rc = -1, released;

	ids = xreallocarray(NULL, n, sizeof(*ids));
	ms = xreallocarray(NULL, n, sizeof(*ms));
	for (i = 0; i < n; i++) {
		ms[i] = d->order[d->next + i];
		ids[i] = ms[i]->queue_id;
	}
	got = release_ids(d, ids, ms, n, now, &released, err_r);
	/* what the MTA was told to release is out of the order either way */
	if (released)
		d->next += n;
	if (got == -1)
		goto out;
	nmoved = (size_t)got;
	d->inflight = xreallocarray(d->inflight, d->ninflight + nmoved + 1,
	    sizeof(*d->inflight));
	for (i = 0; i < nmoved; i++) {
		m = ms[i];
		remember_released(d, m->queue_id, now);
		ebb_strlcpy(d->inflight[d->ninflight].id, m->queue_id,
		    sizeof(d->inflight[d->ninflight].id));
		d->inflight[d->ninflight].released = mono;
		d->inflight[d->ninflight++].kicked = mono;
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
	d->released += nmoved;
	rc = 0;
out:
	free(ids);
	free(ms);
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

	settle_inflight(d, mono);
	if (rate <= 0 || d->next >= d->norder)
		return 0;
	n = d->norder - d->next;
	room = budget->window > (long)d->ninflight ?
	    (size_t)budget->window - d->ninflight : 0;
	n = MINIMUM(n, room);
	if (d->opts.limit > 0)
		n = MINIMUM(n, (size_t)d->opts.limit > d->released ?
		    (size_t)d->opts.limit - d->released : 0);
	n = MINIMUM(n, DRAIN_BATCH_MAX);
	n = bucket_take(&d->bucket, n, mono);
	if (n == 0)
		return 0;
	if (release_batch(d, n, budget->pressure, mono, now, err_r) == -1)
		return -1;
	return (long)n;
}

int
drain_release_all(struct drain *d, time_t now, char **err_r)
{
	struct budget	 all = { 0 };

	if (!d->opts.failsafe) {
		*err_r = xstrdup("drain_release_all: not a failsafe drain");
		return -1;
	}
	while (d->next < d->norder)
		if (drain_tick(d, &all, 0, now, err_r) == -1)
			return -1;
	return 0;
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
	r->unreadable = d->unreadable;
	r->stuck = index_count(d->stuck);
	r->parked += r->stuck;
	r->rate = d->rate;
	r->window = d->window;
	r->adopted = d->adopted;
	r->refused = d->refused;
	r->unproven = index_count(d->unproven);
	r->unchecked = d->unchecked;
	r->left = d->left;
	r->deferred_again = d->deferred_again;
}

struct foreach_msg {
	int	(*fn)(void *, const struct msg *);
	void	*arg;
};

static int
foreach_msg_one(struct msg *m, void *arg)
{
	struct foreach_msg *f = arg;

	return f->fn(f->arg, m);
}

int
drain_foreach_msg(const struct drain *d,
    int (*fn)(void *arg, const struct msg *m), void *arg)
{
	struct foreach_msg f = { fn, arg };

	return index_foreach(d->ix, foreach_msg_one, &f);
}

void
drain_feedback(struct drain *d, long *delivered_r, double *latency_sum_r,
    long *inflight_r)
{
	*delivered_r = d->fb_delivered;
	*latency_sum_r = d->fb_latency;
	*inflight_r = (long)d->ninflight;
	d->fb_delivered = 0;
	d->fb_latency = 0;
}

int
drain_done(const struct drain *d)
{
	return d->next >= d->norder && d->ninflight == 0;
}

int
drain_idle(const struct drain *d)
{
	return d->next >= d->norder;
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

const struct msg *const *
drain_order(const struct drain *d, size_t *n_r)
{
	*n_r = d->norder - d->next;
	return (const struct msg *const *)d->order + d->next;
}

struct index *
drain_index(struct drain *d)
{
	return d->ix;
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

/* drop_unparked - take what is no longer ebb's and held out of the order */
static void
drop_unparked(struct drain *d)
{
	size_t	 i, keep = d->next;

	for (i = d->next; i < d->norder; i++)
		if (drain_role(d, d->order[i]) == MSG_ROLE_HELD &&
		    d->order[i]->parked_by_ebb &&
		    index_lookup(d->stuck, d->order[i]->queue_id) == NULL)
			d->order[keep++] = d->order[i];
	d->norder = keep;
}

/*
 * relocate - after a command by request, put the index entry of id where
 * the MTA has it now, through the index (its counts per queue must stay
 * right: they feed the status and the history)
 */
static void
relocate(struct drain *d, const char *id)
{
	struct msg	*m;
	int		 q, due;

	if ((m = index_lookup(d->ix, id)) == NULL)
		return;
	if ((q = mta_locate(d->mta, id, &due)) >= 0)
		index_set_queue(d->ix, m, q);
}

int
drain_release_ids(struct drain *d, const char *const *ids, size_t n,
    time_t now, char **err_r)
{
	struct msg	*m;
	const char	**moved;
	size_t		 i;
	long		 nmoved;
	int		 q, due, released;

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
		if (q == 0 || mta_locate_role(d->mta, ids[i], &due) !=
		    MSG_ROLE_HELD) {
			*err_r = xasprintf("%s: not parked by ebb: not "
			    "released", ids[i]);
			return -1;
		}
	}
	moved = xreallocarray(NULL, n, sizeof(*moved));
	memcpy(moved, ids, n * sizeof(*moved));
	if ((nmoved = release_ids(d, moved, NULL, n, now, &released,
	    err_r)) == -1) {
		free(moved);
		return -1;
	}
	for (i = 0; i < (size_t)nmoved; i++) {
		log_msg(LOG_INFO, moved[i], "released by request");
		remember_released(d, moved[i], now);
		if ((m = index_lookup(d->ix, moved[i])) != NULL) {
			m->parked_by_ebb = 0;
			relocate(d, moved[i]);
		}
	}
	d->released += (size_t)nmoved;
	drop_unparked(d);
	free(moved);
	return 0;
}

int
drain_hold_ids(struct drain *d, const char *const *ids, size_t n,
    time_t now, char **err_r)
{
	struct msg	*m;
	time_t		*deadlines;
	size_t		 i;
	int		 rc = -1, due;

	if (n == 0 || d->ledger == NULL || d->opts.dry_run)
		return 0;
	for (i = 0; i < n; i++) {
		if (!ebb_queue_id_valid(ids[i])) {
			*err_r = xasprintf("\"%.40s\" is not a queue id",
			    ids[i]);
			return -1;
		}
		if (mta_locate_role(d->mta, ids[i], &due) !=
		    MSG_ROLE_WAITING) {
			*err_r = xasprintf("%s: not waiting for a retry: "
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
		    drain_role(d, m) != MSG_ROLE_WAITING ||
		    (m->flags & MSG_F_UNREADABLE)) {
			*err_r = xasprintf("%s: not waiting for a retry: "
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
		relocate(d, ids[i]);
		m = index_lookup(d->ix, ids[i]);
		m->parked_by_ebb = drain_role(d, m) == MSG_ROLE_HELD;
	}
	/* the index is up to date: their fingerprints are known */
	if (ledger_fingerprint(d->ledger, drain_fingerprint, d, err_r) == -1)
		goto out;
	build_order(d);
	qsort(d->order, d->norder, sizeof(*d->order), edf_cmp);
	d->total += n;
	rc = 0;
out:
	free(deadlines);
	return rc;
}

void
drain_queue_counts(const struct drain *d, size_t counts_r[MSG_QUEUE_MAX])
{
	int	 q;

	for (q = 0; q < MSG_QUEUE_MAX; q++)
		counts_r[q] = index_count_queue(d->ix, q);
}

void
drain_role_counts(const struct drain *d, size_t counts_r[MSG_ROLE_COUNT])
{
	int	 q, r;

	memset(counts_r, 0, MSG_ROLE_COUNT * sizeof(*counts_r));
	for (q = 0; q < mta_nqueues(d->mta); q++)
		if ((r = mta_queue_role(d->mta, q)) >= 0 &&
		    r < MSG_ROLE_COUNT)
			counts_r[r] += index_count_queue(d->ix, q);
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
