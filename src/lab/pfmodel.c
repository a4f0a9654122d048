/*
 * pfmodel.c - the outage lab's model of Postfix's queue and scheduler
 *
 * What is modelled, as Postfix does it (qmgr(8), SCHEDULER_README,
 * postconf(5); REFERENCE.md for what was checked on a real instance):
 *
 * Queues. A message is deferred (waiting for its retry time, the deferred
 * file's mtime), active (qmgr has it: waiting for a delivery slot, or
 * being delivered), held, or gone (delivered or bounced). The lab adds no
 * new mail, so incoming stays empty.
 *
 * Scans. Every queue_run_delay qmgr scans the deferred queue and moves
 * every message whose retry time has come into the active queue, while
 * the active queue holds fewer than qmgr_message_active_limit. A kick
 * ("postkick public qmgr D") scans at once; the periodic scans keep their
 * schedule. The scan goes in queue-id order: the lab's ids are numbered in
 * the order the backlog was made, which has nothing to do with deadlines,
 * as Postfix's directory order has nothing to do with them. "postqueue -f"
 * also forgets a dead destination and moves every deferred message, due
 * or not.
 *
 * Delivery. All mail goes to one next hop, the modelled host (a relayhost
 * setup), so there is one destination queue: a FIFO of the active
 * messages, and a concurrency window. While fewer than the window (and
 * fewer than default_process_limit smtp processes) are busy, the next
 * message is offered to the host (lab_host_offer). The host takes it and
 * answers later (delivered, or dropped by a reboot: a lost connection,
 * a failed attempt), or refuses it: when it is down the connection hangs
 * for smtp_connect_timeout and then fails; when it is up but full it
 * answers 421 at once. Both are failed attempts.
 *
 * Concurrency feedback (Postfix 2.5 and later). The window starts at
 * initial_destination_concurrency. Each success adds positive_feedback /
 * window to a success counter, and each time that reaches 1 (within half
 * a step, as Postfix rounds) the window grows by 1, up to
 * default_destination_concurrency_limit: slow start, one more slot per
 * window's worth of deliveries. Each failure, likewise, takes
 * negative_feedback / window from a failure counter and shrinks the window
 * by 1 each time it goes below 0, never below 1. Each failure also adds
 * 1 / window to a count of failed cohorts, which a success resets; at
 * failed_cohort_limit cohorts in a row the destination is dead: the window
 * is 0, everything in its queue is deferred at once (a failed attempt
 * each), mail that enters the active queue for it meanwhile is deferred
 * at once, and it gets another chance after minimal_backoff_time (or at
 * the next "postqueue -f", or when a delivery still in progress
 * succeeds), at the initial concurrency again.
 *
 * Failure. A message whose attempt failed bounces when now >= its deadline
 * (create_time + maximal_queue_lifetime, bounce_queue_lifetime for the
 * null sender): expiry is checked only after a failed attempt, so mail
 * past its deadline that gets through is delivered late, not bounced.
 * Otherwise it is deferred, to retry after its age (now - create_time)
 * clamped to [minimal_backoff_time, maximal_backoff_time], with no jitter:
 * this is why a whole backlog comes due together after an outage.
 *
 * Hold. "postsuper -h" moves deferred mail to hold, keeping its mtime
 * (retry time); held mail does not expire (nothing attempts it);
 * "postsuper -H" puts it back in deferred with the same mtime, so mail
 * held through its retry time is due at once.
 *
 * New mail (pfmodel_receive, for the lab's remote senders): a message
 * accepted over SMTP now goes through incoming straight to the active
 * queue (qmgr takes incoming mail at once while the active queue has
 * room; the lab's never fills), or to hold when the milter quarantined
 * it. Its create_time is now. The SMTP sessions that bring it are the
 * host's front door (lab_host_offer_front): their events are handed to
 * the function pfmodel_set_front names.
 *
 * Not modelled: more than one destination, recipients (one per message),
 * the preemptive job scheduler (one recipient per message in one transport
 * makes it FIFO), connection reuse, rate delays, the incoming queue as a
 * place mail waits in, bounce messages, the time qmgr itself takes.
 *
 * Parameters. Postfix's defaults are pfmodel_params_postfix. The lab
 * (pfmodel_params_default) runs Postfix's clocks 30 times faster:
 *
 *	parameter                        Postfix     lab
 *	queue_run_delay                  300s        10s
 *	minimal_backoff_time             300s        10s
 *	maximal_backoff_time             4000s       133s
 *	maximal_queue_lifetime           5d          4h
 *	bounce_queue_lifetime            5d          4h
 *	smtp_connect_timeout             30s         1s
 *	qmgr_message_active_limit        20000       20000
 *	default_process_limit            100         100
 *	initial_destination_concurrency  5           5
 *	default_destination_concurrency_limit  20    20
 *	..._concurrency_positive_feedback  1/concurrency (the same)
 *	..._concurrency_negative_feedback  1/concurrency (the same)
 *	..._concurrency_failed_cohort_limit  1       1
 *
 * Why 30: the lab's default backlog (2400 messages at 20 msg/s) takes
 * N/R = 2 minutes at full capacity, so that a run lasts minutes; a real
 * backlog after a long outage takes an hour or more at that rate. At 30x,
 * the lab's 2 minutes stand for an hour, and Postfix's retries fall on the
 * lab's backlog as they fall on a real one: a message deferred once waits
 * maximal_backoff_time, about 1.1 N/R, in both. The host's physics (heat,
 * reboots, the load average) and ebb's own clocks (sensor interval,
 * release steps, rescans) are not compressed: they run in seconds, as
 * they do on a real host. Counts and feedback have no time in them and
 * keep Postfix's values.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ebb/index.h"
#include "ebb/log.h"
#include "ebb/msg.h"
#include "ebb/mta.h"
#include "ebb/proof.h"
#include "ebb/util.h"
#include "host.h"
#include "pfmodel.h"

#define ID_DIGITS	10		/* hex digits of a lab queue id */
#define MSG_SIZE	4096		/* bytes, for the index */

struct pmsg {
	char		 id[ID_DIGITS + 1];
	uint8_t		 state;		/* enum pfmodel_state */
	uint8_t		 proven;	/* held by the milter, with its proof */
	double		 create_time;
	double		 deadline;
	double		 next_retry;
	double		 done_at;
	long		 attempts;
	long		 park_calls, release_calls, parked, released;
	char		*sender;
	char		*rcpt;
};

/* a delivery hanging on a host that is down */
struct hang {
	size_t		 msg;
	double		 fails_at;
};

struct pfmodel {
	struct mta	 mta;		/* priv points back at us */
	struct pfmodel_params p;
	struct lab_host	*host;
	char		*queue_dir;
	double		 now;

	struct pmsg	*msgs;
	size_t		 n, cap;
	size_t		 count[PFMODEL_S_COUNT];

	size_t		*todo;		/* ring: the destination's queue */
	size_t		 todo_head, todo_n, todo_cap;
	struct hang	*hangs;		/* at most default_process_limit */
	size_t		 nhangs;

	long		 window;	/* 0: dead */
	double		 success, failure, cohorts;
	double		 revive_at;	/* dead: when, else HUGE_VAL */
	long		 busy;		/* deliveries in progress */
	double		 next_scan;

	lab_host_event_fn *front_fn;	/* the host's front-door events */
	void		*front_arg;

	struct pfmodel_stats st;
};

static const struct mta_ops pfmodel_mta_ops;

static void	 set_state(struct pfmodel *, struct pmsg *,
		    enum pfmodel_state);
static void	 todo_push(struct pfmodel *, size_t);

void
pfmodel_params_postfix(struct pfmodel_params *p)
{
	memset(p, 0, sizeof(*p));
	p->queue_run_delay = 300;
	p->minimal_backoff_time = 300;
	p->maximal_backoff_time = 4000;
	p->maximal_queue_lifetime = 5 * 86400;
	p->bounce_queue_lifetime = 5 * 86400;
	p->smtp_connect_timeout = 30;
	p->qmgr_message_active_limit = 20000;
	p->default_process_limit = 100;
	p->initial_destination_concurrency = 5;
	p->default_destination_concurrency_limit = 20;
	p->positive_feedback = 1;
	p->negative_feedback = 1;
	p->failed_cohort_limit = 1;
}

void
pfmodel_params_default(struct pfmodel_params *p)
{
	pfmodel_params_postfix(p);
	p->queue_run_delay = 10;
	p->minimal_backoff_time = 10;
	p->maximal_backoff_time = 133;
	p->maximal_queue_lifetime = 4 * 3600;
	p->bounce_queue_lifetime = 4 * 3600;
	p->smtp_connect_timeout = 1;
}

void
pfmodel_params_compressed(struct pfmodel_params *p, double factor)
{
	pfmodel_params_postfix(p);
	p->queue_run_delay /= factor;
	p->minimal_backoff_time /= factor;
	p->maximal_backoff_time /= factor;
	p->maximal_queue_lifetime /= factor;
	p->bounce_queue_lifetime /= factor;
	p->smtp_connect_timeout /= factor;
}

/* bad - *err_r for a field outside lo..hi; -1 */
static int
bad(char **err_r, const char *name, double v, double lo, double hi)
{
	*err_r = xasprintf("%s %.15g is outside %.15g..%.15g", name, v, lo,
	    hi);
	return -1;
}

/* in - lo <= v <= hi, false for NaN */
static int
in(double v, double lo, double hi)
{
	return v >= lo && v <= hi;
}

int
pfmodel_params_check(const struct pfmodel_params *p, char **err_r)
{
	const double	 year = 365 * 86400.0;

	if (!in(p->queue_run_delay, 0.001, year))
		return bad(err_r, "queue_run_delay", p->queue_run_delay,
		    0.001, year);
	if (!in(p->minimal_backoff_time, 0.001, year))
		return bad(err_r, "minimal_backoff_time",
		    p->minimal_backoff_time, 0.001, year);
	if (!in(p->maximal_backoff_time, p->minimal_backoff_time, year))
		return bad(err_r, "maximal_backoff_time",
		    p->maximal_backoff_time, p->minimal_backoff_time, year);
	if (!in(p->maximal_queue_lifetime, 0, year))
		return bad(err_r, "maximal_queue_lifetime",
		    p->maximal_queue_lifetime, 0, year);
	if (!in(p->bounce_queue_lifetime, 0, year))
		return bad(err_r, "bounce_queue_lifetime",
		    p->bounce_queue_lifetime, 0, year);
	if (!in(p->smtp_connect_timeout, 0.001, 3600))
		return bad(err_r, "smtp_connect_timeout",
		    p->smtp_connect_timeout, 0.001, 3600);
	if (p->qmgr_message_active_limit < 1 ||
	    p->qmgr_message_active_limit > 100000000)
		return bad(err_r, "qmgr_message_active_limit",
		    (double)p->qmgr_message_active_limit, 1, 1e8);
	if (p->default_process_limit < 1 ||
	    p->default_process_limit > 100000)
		return bad(err_r, "default_process_limit",
		    (double)p->default_process_limit, 1, 1e5);
	if (p->default_destination_concurrency_limit < 1 ||
	    p->default_destination_concurrency_limit > 100000)
		return bad(err_r, "default_destination_concurrency_limit",
		    (double)p->default_destination_concurrency_limit, 1, 1e5);
	if (p->initial_destination_concurrency < 1 ||
	    p->initial_destination_concurrency >
	    p->default_destination_concurrency_limit)
		return bad(err_r, "initial_destination_concurrency",
		    (double)p->initial_destination_concurrency, 1,
		    (double)p->default_destination_concurrency_limit);
	if (!in(p->positive_feedback, 0.001, 1))
		return bad(err_r, "positive_feedback", p->positive_feedback,
		    0.001, 1);
	if (!in(p->negative_feedback, 0, 1))
		return bad(err_r, "negative_feedback", p->negative_feedback,
		    0, 1);
	if (!in(p->failed_cohort_limit, 0, 1000))
		return bad(err_r, "failed_cohort_limit",
		    p->failed_cohort_limit, 0, 1000);
	return 0;
}

double
pfmodel_backoff(const struct pfmodel_params *p, double age)
{
	if (age > p->maximal_backoff_time)
		return p->maximal_backoff_time;
	if (age < p->minimal_backoff_time)
		return p->minimal_backoff_time;
	return age;
}

struct pfmodel *
pfmodel_new(const struct pfmodel_params *params, struct lab_host *host,
    const char *queue_dir, double now, char **err_r)
{
	struct pfmodel	*pf;

	if (pfmodel_params_check(params, err_r) == -1)
		return NULL;
	pf = xcalloc(1, sizeof(*pf));
	pf->mta.ops = &pfmodel_mta_ops;
	pf->mta.priv = pf;
	pf->p = *params;
	pf->host = host;
	pf->queue_dir = xstrdup(queue_dir);
	pf->now = now;
	pf->window = pf->p.initial_destination_concurrency;
	pf->revive_at = HUGE_VAL;
	pf->next_scan = now;
	pf->hangs = xreallocarray(NULL, (size_t)pf->p.default_process_limit,
	    sizeof(*pf->hangs));
	pf->st.window = pf->st.window_peak = pf->window;
	return pf;
}

void
pfmodel_free(struct pfmodel **pp)
{
	struct pfmodel	*pf = *pp;
	size_t		 i;

	if (pf == NULL)
		return;
	for (i = 0; i < pf->n; i++) {
		free(pf->msgs[i].sender);
		free(pf->msgs[i].rcpt);
	}
	free(pf->msgs);
	free(pf->todo);
	free(pf->hangs);
	free(pf->queue_dir);
	free(pf);
	*pp = NULL;
}

/* set_state - move m to state, keeping the counts */
static void
set_state(struct pfmodel *pf, struct pmsg *m, enum pfmodel_state state)
{
	size_t	 active;

	pf->count[m->state]--;
	pf->count[state]++;
	m->state = (uint8_t)state;
	active = pf->count[PFMODEL_S_ACTIVE] + pf->count[PFMODEL_S_DELIVERING];
	if ((long)active > pf->st.active_peak)
		pf->st.active_peak = (long)active;
}

size_t
pfmodel_add(struct pfmodel *pf, double create_time, double next_retry,
    const char *sender, const char *rcpt)
{
	struct pmsg	*m;

	if (pf->n == pf->cap) {
		pf->cap = pf->cap ? pf->cap * 2 : 256;
		pf->msgs = xreallocarray(pf->msgs, pf->cap, sizeof(*pf->msgs));
	}
	m = &pf->msgs[pf->n];
	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%0*zX", ID_DIGITS, pf->n);
	m->state = PFMODEL_S_DEFERRED;
	pf->count[PFMODEL_S_DEFERRED]++;
	m->create_time = create_time;
	m->deadline = create_time + (*sender == '\0' ?
	    pf->p.bounce_queue_lifetime : pf->p.maximal_queue_lifetime);
	m->next_retry = next_retry;
	m->sender = xstrdup(sender);
	m->rcpt = xstrdup(rcpt);
	return pf->n++;
}

size_t
pfmodel_receive(struct pfmodel *pf, const char *sender, const char *rcpt,
    int hold)
{
	size_t	 i = pfmodel_add(pf, pf->now, pf->now, sender, rcpt);

	if (hold) {
		set_state(pf, &pf->msgs[i], PFMODEL_S_HOLD);
		pf->msgs[i].proven = 1;	/* the milter's header */
	} else {
		set_state(pf, &pf->msgs[i], PFMODEL_S_ACTIVE);
		todo_push(pf, i);
	}
	pf->st.received++;
	return i;
}

void
pfmodel_set_front(struct pfmodel *pf, lab_host_event_fn *fn, void *arg)
{
	pf->front_fn = fn;
	pf->front_arg = arg;
}

int
pfmodel_admin_hold(struct pfmodel *pf, size_t i)
{
	if (i >= pf->n || pf->msgs[i].state != PFMODEL_S_DEFERRED)
		return -1;
	set_state(pf, &pf->msgs[i], PFMODEL_S_HOLD);
	return 0;
}

/*
 * The destination's concurrency window.
 */

/* revive - a dead destination gets another chance */
static void
revive(struct pfmodel *pf)
{
	pf->window = pf->p.initial_destination_concurrency;
	pf->success = pf->failure = pf->cohorts = 0;
	pf->revive_at = HUGE_VAL;
	pf->st.window = pf->window;
}

/* feedback_up - a delivery succeeded */
static void
feedback_up(struct pfmodel *pf)
{
	long	 limit = pf->p.default_destination_concurrency_limit;
	double	 fb;

	if (pf->window == 0) {		/* a success revives it at once */
		revive(pf);
		return;
	}
	pf->cohorts = 0;
	if (pf->window < limit) {
		fb = pf->p.positive_feedback / (double)pf->window;
		pf->success += fb;
		while (pf->success + fb / 2 >= 1 && pf->window < limit) {
			pf->window++;
			pf->success -= 1;
			pf->failure = 0;
		}
	}
	pf->st.window = pf->window;
	if (pf->window > pf->st.window_peak)
		pf->st.window_peak = pf->window;
}

static void	 requeue_failed(struct pfmodel *, size_t, double);

/* defer_todo - the destination is dead: all its queue fails at once */
static void
defer_todo(struct pfmodel *pf, double t)
{
	size_t	 i;

	while (pf->todo_n > 0) {
		i = pf->todo[pf->todo_head];
		pf->todo_head = (pf->todo_head + 1) % pf->todo_cap;
		pf->todo_n--;
		pf->msgs[i].attempts++;
		pf->st.attempts++;
		requeue_failed(pf, i, t);
	}
}

/* feedback_down - a delivery failed at t */
static void
feedback_down(struct pfmodel *pf, double t)
{
	double	 fb;

	if (pf->window == 0)		/* dead already */
		return;
	pf->cohorts += 1.0 / (double)pf->window;
	if (pf->p.failed_cohort_limit > 0 &&
	    pf->cohorts >= pf->p.failed_cohort_limit) {
		pf->window = 0;
		pf->success = pf->failure = 0;
		pf->revive_at = t + pf->p.minimal_backoff_time;
		pf->st.dead++;
		pf->st.window = 0;
		defer_todo(pf, t);
		return;
	}
	if (pf->window > 1) {
		fb = pf->p.negative_feedback / (double)pf->window;
		pf->failure -= fb;
		while (pf->failure - fb / 2 < 0 && pf->window > 1) {
			pf->window--;
			pf->success = 0;
			pf->failure += 1;
		}
	}
	pf->st.window = pf->window;
}

/*
 * Messages.
 */

/* requeue_failed - message i failed at t: bounce it or defer it */
static void
requeue_failed(struct pfmodel *pf, size_t i, double t)
{
	struct pmsg	*m = &pf->msgs[i];

	if (t >= m->deadline) {
		m->done_at = t;
		set_state(pf, m, PFMODEL_S_BOUNCED);
		pf->st.bounced++;
		return;
	}
	m->next_retry = t + pfmodel_backoff(&pf->p, t - m->create_time);
	set_state(pf, m, PFMODEL_S_DEFERRED);
	pf->st.deferrals++;
}

/* failed - the delivery of message i ended in failure at t */
static void
failed(struct pfmodel *pf, size_t i, double t)
{
	pf->busy--;
	feedback_down(pf, t);
	requeue_failed(pf, i, t);
}

/* todo_push - message i joins the destination's queue */
static void
todo_push(struct pfmodel *pf, size_t i)
{
	size_t	*ring, k;

	if (pf->todo_n == pf->todo_cap) {
		ring = xreallocarray(NULL, pf->todo_cap ? pf->todo_cap * 2 :
		    256, sizeof(*ring));
		for (k = 0; k < pf->todo_n; k++)
			ring[k] = pf->todo[(pf->todo_head + k) % pf->todo_cap];
		free(pf->todo);
		pf->todo = ring;
		pf->todo_head = 0;
		pf->todo_cap = pf->todo_cap ? pf->todo_cap * 2 : 256;
	}
	pf->todo[(pf->todo_head + pf->todo_n) % pf->todo_cap] = i;
	pf->todo_n++;
}

/* attempt - offer message i to the host now */
static void
attempt(struct pfmodel *pf, size_t i)
{
	struct lab_host_state hs;
	struct pmsg	*m = &pf->msgs[i];

	m->attempts++;
	pf->st.attempts++;
	set_state(pf, m, PFMODEL_S_DELIVERING);
	pf->busy++;
	if (lab_host_offer(pf->host, pf->now, (uint64_t)i))
		return;
	lab_host_state(pf->host, &hs);
	if (!hs.up) {			/* no answer: the connect times out */
		pf->st.refused_down++;
		pf->hangs[pf->nhangs].msg = i;
		pf->hangs[pf->nhangs].fails_at = pf->now +
		    pf->p.smtp_connect_timeout;
		pf->nhangs++;
		return;
	}
	pf->st.refused_busy++;		/* 421 at the greeting */
	failed(pf, i, pf->now);
}

/* dispatch - start deliveries while the window and the processes allow */
static void
dispatch(struct pfmodel *pf)
{
	size_t	 i;

	if (pf->window == 0) {
		defer_todo(pf, pf->now);
		return;
	}
	while (pf->todo_n > 0 && pf->window > 0 && pf->busy < pf->window &&
	    pf->busy < pf->p.default_process_limit) {
		i = pf->todo[pf->todo_head];
		pf->todo_head = (pf->todo_head + 1) % pf->todo_cap;
		pf->todo_n--;
		attempt(pf, i);
	}
	if (pf->window == 0)		/* died on the way */
		defer_todo(pf, pf->now);
}

/* scan - qmgr's deferred queue scan, in queue id order */
static void
scan(struct pfmodel *pf, int all)
{
	struct pmsg	*m;
	size_t		 i;

	pf->st.scans++;
	for (i = 0; i < pf->n; i++) {
		m = &pf->msgs[i];
		if (m->state != PFMODEL_S_DEFERRED ||
		    (!all && m->next_retry > pf->now))
			continue;
		if ((long)(pf->count[PFMODEL_S_ACTIVE] +
		    pf->count[PFMODEL_S_DELIVERING]) >=
		    pf->p.qmgr_message_active_limit)
			break;
		set_state(pf, m, PFMODEL_S_ACTIVE);
		todo_push(pf, i);
	}
}

/* on_host - the host's replies and reboots, in time order */
static void
on_host(void *arg, const struct lab_host_event *ev)
{
	struct pfmodel	*pf = arg;
	size_t		 i = (size_t)ev->msgid;

	if (ev->front) {
		if (pf->front_fn == NULL)
			log_panic("pfmodel: a front-door event, no one to "
			    "tell");
		pf->front_fn(pf->front_arg, ev);
		return;
	}
	switch (ev->kind) {
	case LAB_HOST_DELIVERED:
		if (i >= pf->n || pf->msgs[i].state != PFMODEL_S_DELIVERING)
			log_panic("pfmodel: delivery of %zu not in progress",
			    i);
		pf->busy--;
		pf->msgs[i].done_at = ev->time;
		set_state(pf, &pf->msgs[i], PFMODEL_S_DELIVERED);
		pf->st.delivered++;
		feedback_up(pf);
		break;
	case LAB_HOST_DROPPED:
		if (i >= pf->n || pf->msgs[i].state != PFMODEL_S_DELIVERING)
			log_panic("pfmodel: drop of %zu not in progress", i);
		pf->st.dropped++;
		failed(pf, i, ev->time);
		break;
	case LAB_HOST_DOWN:
	case LAB_HOST_UP:
		break;
	}
}

/* next_own - the model's own next timer: a scan, a hang, a revival */
static double
next_own(const struct pfmodel *pf)
{
	double	 t = MINIMUM(pf->next_scan, pf->revive_at);
	size_t	 k;

	for (k = 0; k < pf->nhangs; k++)
		t = MINIMUM(t, pf->hangs[k].fails_at);
	return t;
}

/* run_timers - the model's own timers due at pf->now */
static void
run_timers(struct pfmodel *pf)
{
	size_t	 k;

	for (k = 0; k < pf->nhangs;) {
		if (pf->hangs[k].fails_at <= pf->now) {
			size_t	 i = pf->hangs[k].msg;

			pf->hangs[k] = pf->hangs[--pf->nhangs];
			failed(pf, i, pf->now);
		} else
			k++;
	}
	if (pf->revive_at <= pf->now)
		revive(pf);
	if (pf->next_scan <= pf->now) {
		scan(pf, 0);
		while (pf->next_scan <= pf->now)
			pf->next_scan += pf->p.queue_run_delay;
	}
}

void
pfmodel_set_now(struct pfmodel *pf, double now)
{
	double	 t;

	if (!(now >= pf->now))
		log_panic("pfmodel_set_now: %.9g is before %.9g", now,
		    pf->now);
	for (;;) {
		t = MINIMUM(lab_host_next_event(pf->host), next_own(pf));
		if (t > now)
			break;
		if (t < pf->now)	/* a timer set for now, run late */
			t = pf->now;
		lab_host_advance(pf->host, t, on_host, pf);
		pf->now = t;
		run_timers(pf);
		dispatch(pf);
	}
	lab_host_advance(pf->host, now, on_host, pf);
	pf->now = now;
	dispatch(pf);
}

double
pfmodel_now(const struct pfmodel *pf)
{
	return pf->now;
}

double
pfmodel_next_event(const struct pfmodel *pf)
{
	return MINIMUM(lab_host_next_event(pf->host), next_own(pf));
}

void
pfmodel_scan(struct pfmodel *pf)
{
	scan(pf, 0);
	dispatch(pf);
}

void
pfmodel_flush(struct pfmodel *pf)
{
	pf->st.flushes++;
	if (pf->window == 0)
		revive(pf);
	scan(pf, 1);
	dispatch(pf);
}

struct mta *
pfmodel_mta(struct pfmodel *pf)
{
	return &pf->mta;
}

size_t
pfmodel_count(const struct pfmodel *pf, enum pfmodel_state state)
{
	return (unsigned)state < PFMODEL_S_COUNT ? pf->count[state] : 0;
}

size_t
pfmodel_nmsgs(const struct pfmodel *pf)
{
	return pf->n;
}

const char *
pfmodel_id(const struct pfmodel *pf, size_t i)
{
	return i < pf->n ? pf->msgs[i].id : "";
}

long
pfmodel_lookup(const struct pfmodel *pf, const char *id)
{
	unsigned long long v = 0;
	size_t		 k;
	int		 c;

	for (k = 0; k < ID_DIGITS; k++) {
		c = (unsigned char)id[k];
		if (c >= '0' && c <= '9')
			v = v * 16 + (unsigned)(c - '0');
		else if (c >= 'A' && c <= 'F')
			v = v * 16 + (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	if (id[ID_DIGITS] != '\0' || v >= pf->n)
		return -1;
	return (long)v;
}

void
pfmodel_msg_info(const struct pfmodel *pf, size_t i,
    struct pfmodel_msg_info *info_r)
{
	const struct pmsg *m;

	memset(info_r, 0, sizeof(*info_r));
	if (i >= pf->n)
		return;
	m = &pf->msgs[i];
	info_r->state = (enum pfmodel_state)m->state;
	info_r->create_time = m->create_time;
	info_r->deadline = m->deadline;
	info_r->next_retry = m->next_retry;
	info_r->done_at = m->done_at;
	info_r->attempts = m->attempts;
	info_r->park_calls = m->park_calls;
	info_r->release_calls = m->release_calls;
	info_r->parked = m->parked;
	info_r->released = m->released;
}

void
pfmodel_stats(const struct pfmodel *pf, struct pfmodel_stats *st_r)
{
	*st_r = pf->st;
}

/*
 * ebb's backend interface (include/ebb/mta.h), over the model
 */

static const struct mta_queue pfmodel_queues[PFMODEL_QUEUE_COUNT] = {
	[PFMODEL_INCOMING] = { "incoming", MSG_ROLE_LEAVING },
	[PFMODEL_ACTIVE] = { "active", MSG_ROLE_LEAVING },
	[PFMODEL_DEFERRED] = { "deferred", MSG_ROLE_WAITING },
	[PFMODEL_HOLD] = { "hold", MSG_ROLE_HELD },
};

/* queue_of - the queue a state is in; -1 when gone */
static int
queue_of(int state)
{
	switch (state) {
	case PFMODEL_S_DEFERRED:
		return PFMODEL_DEFERRED;
	case PFMODEL_S_ACTIVE:
	case PFMODEL_S_DELIVERING:
		return PFMODEL_ACTIVE;
	case PFMODEL_S_HOLD:
		return PFMODEL_HOLD;
	}
	return -1;
}

/* wall - a model time as the wall clock the engine and the index see */
static time_t
wall(double t)
{
	return (time_t)floor((double)PFMODEL_EPOCH + t);
}

time_t
pfmodel_wall(double t)
{
	return wall(t);
}

static struct pfmodel *
pf_of(struct mta *m)
{
	return m->priv;
}

static int
pfmodel_open(struct mta *m, const struct config *cfg, char **err_r)
{
	(void)m;
	(void)cfg;
	*err_r = xstrdup("pfmodel: made by pfmodel_new, not mta_open");
	return -1;
}

/* pfmodel_scan_op - fill the index as a directory walk would */
static int
pfmodel_scan_op(struct mta *mta, struct index *ix, struct scan_stats *st,
    char **err_r)
{
	struct pfmodel	*pf = pf_of(mta);
	struct index_stamp stamp;
	struct pmsg	*m;
	struct msg	 msg;
	const char	*rcpt[1];
	time_t		 retry;
	size_t		 i;
	int		 q;

	(void)err_r;
	index_scan_begin(ix);
	for (i = 0; i < pf->n; i++) {
		m = &pf->msgs[i];
		if ((q = queue_of(m->state)) < 0)
			continue;
		st->files++;
		/* a file keeps its inode and size; mtime is its retry time */
		memset(&stamp, 0, sizeof(stamp));
		stamp.ino = i + 1;
		stamp.size = MSG_SIZE;
		stamp.mtime = wall(m->next_retry);
		retry = q == PFMODEL_DEFERRED ? wall(m->next_retry) : 0;
		if (index_scan_unchanged(ix, m->id, &stamp, q, retry)) {
			st->unchanged++;
			continue;
		}
		st->parsed++;
		memset(&msg, 0, sizeof(msg));
		ebb_strlcpy(msg.queue_id, m->id, sizeof(msg.queue_id));
		msg.queue = (uint8_t)q;
		msg.nrcpt = 1;
		msg.arrival_time = wall(m->create_time);
		msg.create_time = wall(m->create_time);
		msg.deadline = wall(m->deadline);
		msg.next_retry = retry;
		msg.size = MSG_SIZE;
		msg.sender = m->sender;
		rcpt[0] = m->rcpt;
		msg.rcpt = rcpt;
		index_put(ix, &msg, &stamp);
	}
	st->removed = index_scan_end(ix);
	for (q = 0; q < PFMODEL_QUEUE_COUNT; q++)
		st->queue[q] = index_count_queue(ix, q);
	return 0;
}

/* pfmodel_park - postsuper -h: deferred mail to hold, mtime kept */
static int
pfmodel_park(struct mta *mta, const char *const *ids, size_t n,
    char **err_r)
{
	struct pfmodel	*pf = pf_of(mta);
	struct pmsg	*m;
	size_t		 k;
	long		 i;

	(void)err_r;
	for (k = 0; k < n; k++) {
		if ((i = pfmodel_lookup(pf, ids[k])) < 0)
			continue;
		m = &pf->msgs[i];
		m->park_calls++;
		if (m->state == PFMODEL_S_DEFERRED) {
			set_state(pf, m, PFMODEL_S_HOLD);
			m->parked++;
		}
	}
	return 0;
}

/* pfmodel_release - postsuper -H: hold to deferred, mtime kept */
static int
pfmodel_release(struct mta *mta, const char *const *ids, size_t n,
    char **err_r)
{
	struct pfmodel	*pf = pf_of(mta);
	struct pmsg	*m;
	size_t		 k;
	long		 i;

	(void)err_r;
	for (k = 0; k < n; k++) {
		if ((i = pfmodel_lookup(pf, ids[k])) < 0)
			continue;
		m = &pf->msgs[i];
		m->release_calls++;
		if (m->state == PFMODEL_S_HOLD) {
			set_state(pf, m, PFMODEL_S_DEFERRED);
			m->released++;
		}
	}
	return 0;
}

/* pfmodel_kick - due now (mtime), then "postkick public qmgr D" */
static int
pfmodel_kick(struct mta *mta, const char *const *ids, size_t n,
    char **err_r)
{
	struct pfmodel	*pf = pf_of(mta);
	struct pmsg	*m;
	size_t		 k;
	long		 i;

	(void)err_r;
	for (k = 0; k < n; k++) {
		if ((i = pfmodel_lookup(pf, ids[k])) < 0)
			continue;
		m = &pf->msgs[i];
		if (m->state == PFMODEL_S_DEFERRED && m->next_retry > pf->now)
			m->next_retry = pf->now;
	}
	pf->st.kicks++;
	pfmodel_scan(pf);
	return 0;
}

static int
pfmodel_locate(struct mta *mta, const char *id, int *due_r)
{
	struct pfmodel	*pf = pf_of(mta);
	long		 i;

	*due_r = 0;
	if ((i = pfmodel_lookup(pf, id)) < 0)
		return -1;
	*due_r = pf->msgs[i].state == PFMODEL_S_DEFERRED &&
	    pf->msgs[i].next_retry <= pf->now;
	return queue_of(pf->msgs[i].state);
}

/*
 * pfmodel_proof - the proof op (mta.h): a message taken into hold by the
 * milter carries ebb's proof header, an administrator's hold does not.
 * The model keeps no bytes, so it answers from the flag pfmodel_receive
 * set instead of searching the file: the drain's part, refusing what is
 * not proven and adopting what is, runs as it does on a real Postfix.
 */
static int
pfmodel_proof(struct mta *mta, const char *id, struct proof_search *ps,
    char **err_r)
{
	struct pfmodel	*pf = pf_of(mta);
	long		 i;

	(void)ps;
	if ((i = pfmodel_lookup(pf, id)) < 0 ||
	    pf->msgs[i].state != PFMODEL_S_HOLD) {
		*err_r = xstrdup("not in hold");
		return PROOF_ERROR;
	}
	return pf->msgs[i].proven ? PROOF_OK : PROOF_NONE;
}

static const char *
pfmodel_queue_directory(struct mta *mta)
{
	return pf_of(mta)->queue_dir;
}

static long
pfmodel_depth(struct mta *mta)
{
	struct pfmodel	*pf = pf_of(mta);

	return (long)(pf->count[PFMODEL_S_ACTIVE] +
	    pf->count[PFMODEL_S_DELIVERING]);
}

static void
pfmodel_close(struct mta *mta)
{
	(void)mta;			/* pfmodel_free owns it */
}

static const struct mta_ops pfmodel_mta_ops = {
	.name = "pfmodel",
	.queues = pfmodel_queues,
	.nqueues = PFMODEL_QUEUE_COUNT,
	.open = pfmodel_open,
	.scan = pfmodel_scan_op,
	.park = pfmodel_park,
	.release = pfmodel_release,
	.kick = pfmodel_kick,
	.locate = pfmodel_locate,
	.proof = pfmodel_proof,
	.queue_directory = pfmodel_queue_directory,
	.depth = pfmodel_depth,
	.close = pfmodel_close,
};
