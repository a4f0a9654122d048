/*
 * inbound.c - the outage lab's inbound flood and its scorecard
 *
 * One event loop per run, as sim.c's: time jumps to the earliest of the
 * model's next event (the host's deliveries, front-door answers, reboots;
 * qmgr's timers), the senders' next (a session's network part ending, a
 * connection timing out, a message coming due, a sender giving up, an
 * Exim queue run) and ebb's next step. At each time the model is brought
 * there first, then ebb's engine steps, then the senders act.
 *
 * A session: a sender with a message due and fewer than
 * SENDER_CONNECTIONS sessions open connects. A host that is down does
 * not answer: the attempt fails after connect_timeout. Otherwise after
 * the network part of the session (session s: greeting, MAIL, RCPT, DATA)
 * the host's MTA decides: Postfix alone takes everything; ebb's milter
 * decides as src/milter/milter.c does, at MAIL FROM and at the end of the
 * headers (milter_decide below). Either way the session then costs the
 * host's front door front_work (lab_host_offer_front), and its answer
 * comes when that work is done: the message is queued (active, or hold
 * for ebb's HOLD, which the drain adopts into the ledger with the
 * milter's deadline estimate, as src/daemon/parent_milter.c does), or the
 * sender hears 4xx/5xx. A reboot cuts the sessions in progress.
 *
 * The senders: a refused or cut session, or a failed connection, puts
 * the message back on its sender's schedule (senders.c), on the senders'
 * clock: age and schedule are divided by compress. A message whose
 * sender's lifetime runs out before it is accepted is lost (at that
 * moment; a session in progress is let finish). Exim senders keep their
 * host's retry record: a failed connection or a cut session extends it,
 * an answered session clears it, and while it fails nothing is tried
 * before its retry time; past its cutoff every 30-minute queue run bounces
 * the waiting mail (delay_after_cutoff). At the start every sender's
 * record shows the outage, and its retry time has come.
 *
 * The milter's inputs: the budget is pace_budget's (what ebbd's parent
 * sends the child each tick), the client is the sender's own address
 * (10.x.y.1, a /24 each) in a client_limit table with ebb's [milter]
 * client and net rates (rates are throughput, which the lab does not
 * compress), the Received: chain gives the message's first-queued time
 * exactly (received_known = 1), and the lifetime is ebb's configured
 * one for the sender's domain, not the sender's true lifetime. urgent,
 * trickle, remote_lifetime and domain_lifetimes are divided by compress.
 *
 * Scorecard: a message is accepted when its session is answered 250; the
 * pipeline time is the last processing of an accepted message by the
 * host (Postfix's delivery to it), and the safe-capacity bound is the
 * accepted messages over lab_sim_safe_rate (the front door's own work is
 * not in it). The run stops when every message is accepted or lost and
 * every accepted one is processed, or at run_limit.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ebb/admit.h"
#include "ebb/bucket.h"
#include "ebb/client_limit.h"
#include "ebb/config.h"
#include "ebb/deadline.h"
#include "ebb/drain.h"
#include "ebb/governor.h"
#include "ebb/log.h"
#include "ebb/pace.h"
#include "ebb/util.h"
#include "engine.h"
#include "host.h"
#include "inbound.h"
#include "pfmodel.h"
#include "senders.h"
#include "sim.h"

#define CLIENT_SLOTS	4096

static const char *const policy_names[LAB_INBOUND_COUNT] = {
	[LAB_INBOUND_POSTFIX] = "postfix",
	[LAB_INBOUND_EBB] = "ebb",
	[LAB_INBOUND_TEMPFAIL] = "ebb-tempfail",
};

const char *
lab_inbound_policy_name(enum lab_inbound_policy p)
{
	return (unsigned)p < LAB_INBOUND_COUNT ? policy_names[p] : "unknown";
}

int
lab_inbound_policy_lookup(const char *name)
{
	int	 i;

	for (i = 0; i < LAB_INBOUND_COUNT; i++)
		if (strcmp(policy_names[i], name) == 0)
			return i;
	return -1;
}

void
lab_inbound_default(struct lab_inbound_scenario *sc)
{
	memset(sc, 0, sizeof(*sc));
	lab_host_params_default(&sc->host);
	sc->host.front_work = 0.05;
	lab_senders_params_default(&sc->senders);
	sc->compress = LAB_INBOUND_COMPRESS;
	sc->session = 0.2;
	sc->connect_timeout = 1;
	sc->run_limit = 1800;
	sc->delay_after_cutoff = 1;
}

int
lab_inbound_check(const struct lab_inbound_scenario *sc, char **err_r)
{
	if (lab_host_params_check(&sc->host, err_r) == -1 ||
	    lab_senders_params_check(&sc->senders, err_r) == -1)
		return -1;
	if (!(sc->compress >= 1 && sc->compress <= 1000)) {
		*err_r = xasprintf("compress %g is outside 1..1000",
		    sc->compress);
		return -1;
	}
	if (!(sc->session >= 0.001 && sc->session <= 60)) {
		*err_r = xasprintf("session %g s is outside 0.001..60",
		    sc->session);
		return -1;
	}
	if (!(sc->connect_timeout >= 0.001 && sc->connect_timeout <= 600)) {
		*err_r = xasprintf("connect_timeout %g s is outside "
		    "0.001..600", sc->connect_timeout);
		return -1;
	}
	if (!(sc->run_limit >= 1 && sc->run_limit <= 86400)) {
		*err_r = xasprintf("run limit %g s is outside 1..86400",
		    sc->run_limit);
		return -1;
	}
	return 0;
}

enum mstate { M_QUEUED, M_SESSION, M_ACCEPTED, M_LOST };

/* one message at its sender; times are lab seconds */
struct imsg {
	size_t		 sender;
	uint8_t		 state;		/* enum mstate */
	uint8_t		 offered, refused;
	double		 queued;	/* first queued (negative) */
	double		 deadline;	/* its sender gives up */
	double		 next;		/* due */
	long		 pf;		/* in the model once accepted */
};

struct isender {
	enum sender_kind kind;
	const char	*domain;
	struct client_addr addr;
	size_t		*msgs;		/* its messages' numbers */
	size_t		 n;
	int		 open;		/* sessions */
	struct sender_exim_host exim;	/* the senders' seconds */
	double		 next_run;	/* Exim's next queue run, lab s */
};

enum sphase { S_FREE, S_CONNECT, S_DIALOG, S_FRONT, S_ANSWERED, S_CUT };

/* one session slot: SENDER_CONNECTIONS per sender */
struct slot {
	uint8_t		 phase;		/* enum sphase */
	size_t		 msg;
	double		 until;		/* CONNECT, DIALOG: when it ends */
	struct admit_decision d;	/* FRONT: the answer to give */
	double		 est_deadline;	/* the milter's, lab s */
};

struct run {
	const struct lab_inbound_scenario *sc;
	enum lab_inbound_policy policy;
	struct lab_inbound_card *card;
	double		 c;		/* compress */
	struct lab_host	*host;
	struct pfmodel	*pf;
	struct lab_engine *eng;
	struct config	*cfg;		/* EBB: the engine's */
	struct client_limit *clients;
	struct bucket	 gate;		/* the milter's (admit_gate_*) */

	struct lab_sender *ls;
	struct lab_sender_msg *lm;
	struct isender	*s;
	struct imsg	*m;
	struct slot	*slots;
	size_t		 ns, nm, nslots;
	long		 resolved;	/* accepted or lost */
};

/* sender_time - lab time t on the senders' clock */
static double
sender_time(const struct run *r, double t)
{
	return t * r->c;
}

/* lose - message i is lost at t */
static void
lose(struct run *r, size_t i, int cutoff)
{
	struct imsg	*m = &r->m[i];

	m->state = M_LOST;
	r->resolved++;
	r->card->lost++;
	if (m->offered)
		r->card->lost_offered++;
	if (m->refused)
		r->card->lost_refused++;
	if (cutoff)
		r->card->lost_cutoff++;
}

/* requeue - message i failed at t: its sender's next attempt */
static void
requeue(struct run *r, size_t i, double t)
{
	struct imsg	*m = &r->m[i];
	enum sender_kind k = r->s[m->sender].kind;
	double		 age = sender_time(r, t - m->queued);

	m->state = M_QUEUED;
	m->next = m->queued + sender_next_attempt(k, age) / r->c;
	if (t >= m->deadline)		/* it gave up on it meanwhile */
		lose(r, i, 0);
}

/* host_failed - an Exim sender's connection failed at t */
static void
host_failed(struct run *r, struct isender *s, double t)
{
	if (s->kind == SENDER_EXIM)
		sender_exim_host_fail(&s->exim, sender_time(r, t));
}

/* host_ok - a sender's session was answered */
static void
host_ok(struct isender *s)
{
	if (s->kind == SENDER_EXIM)
		sender_exim_host_ok(&s->exim);
}

/*
 * input_base - milter.c's input_base at t: the budget ebbd's parent hands
 * the child (parent_milter_tick: pace_budget, with ebb's parked mail),
 * and [milter] with its durations on the senders' clock; the governor's
 * rate for the gate into *rate_r
 */
static void
input_base(struct run *r, struct admit_input *in, enum admit_stage stage,
    double t, double *rate_r)
{
	const struct config *cfg = r->cfg;
	struct drain_status st;
	struct budget	 b;

	pace_budget(lab_engine_pace(r->eng), &b);
	drain_status(lab_engine_drain(r->eng), &st);
	b.parked = (long)st.parked;
	memset(in, 0, sizeof(*in));
	in->stage = stage;
	in->now = pfmodel_wall(t);
	in->pressure = b.pressure;
	in->cutoff = b.cutoff;
	in->critical = b.critical;
	in->known = b.known;
	in->target_low = cfg->target_low;
	in->full = (enum admit_full)b.full;
	in->backlog = b.parked > 0;
	*rate_r = b.admit_rate;
	in->hold = cfg->milter_action == CONFIG_MILTER_HOLD;
	in->urgent = (long)((double)cfg->urgent / r->c);
	in->trickle = (long)((double)cfg->trickle / r->c);
	in->size = -1;
}

/*
 * milter_decide - what ebb's milter answers at t to message m of sender
 * s: ebb_envfrom, then ebb_eoh, of src/milter/milter.c (SPF off). What
 * goes straight into the queue is told to the pacer at once
 * (pace_admitted; ebbd's parent learns it from the milter's counters).
 */
static void
milter_decide(struct run *r, struct isender *s, struct imsg *m, double t,
    struct admit_decision *d)
{
	struct admit_input in;
	enum admit_bucket bucket;
	double		 rate;

	input_base(r, &in, ADMIT_AT_MAIL, t, &rate);
	bucket = client_limit_check(r->clients, &s->addr, in.now,
	    &in.client_since);
	in.bucket = bucket;
	admit_decide(&in, d);
	if (d->verdict != ADMIT_CONTINUE)
		return;
	if (bucket == ADMIT_BUCKET_OK)
		client_limit_take(r->clients, &s->addr, in.now);

	input_base(r, &in, ADMIT_AT_EOH, t, &rate);
	in.lifetime = (long)((double)config_domain_lifetime(r->cfg,
	    s->domain) / r->c);
	in.received_known = 1;
	in.first_queued = pfmodel_wall(m->queued);
	in.bucket = bucket;
	client_limit_check(r->clients, &s->addr, in.now, &in.client_since);
	admit_gate_set(&r->gate, rate, t);
	in.surge = admit_gate_shut(&r->gate, t);
	admit_decide(&in, d);
	if (d->verdict == ADMIT_ACCEPT || d->verdict == ADMIT_HOLD)
		client_limit_accepted(r->clients, &s->addr, in.now);
	if (d->verdict == ADMIT_ACCEPT) {
		admit_gate_take(&r->gate, t);
		pace_admitted(lab_engine_pace(r->eng), 1);
	}
}

/* est_deadline - the milter's estimate of message i's deadline, lab s */
static double
est_deadline(const struct run *r, const struct imsg *m)
{
	long	 life;

	if (r->cfg == NULL)
		return HUGE_VAL;
	life = (long)((double)config_domain_lifetime(r->cfg,
	    r->s[m->sender].domain) / r->c);
	return m->queued + (double)MAXIMUM(life, LIFETIME_MIN);
}

/* decide - the end of slot k's dialog at t: the MTA's answer */
static void
decide(struct run *r, size_t k, double t)
{
	struct slot	*sl = &r->slots[k];
	struct imsg	*m = &r->m[sl->msg];
	struct isender	*s = &r->s[m->sender];
	struct lab_host_state hs;

	lab_host_state(r->host, &hs);
	if (!hs.up) {			/* it went down meanwhile */
		r->card->cut++;
		host_failed(r, s, t);
		sl->phase = S_FREE;
		s->open--;
		requeue(r, sl->msg, t);
		return;
	}
	memset(&sl->d, 0, sizeof(sl->d));
	sl->d.verdict = ADMIT_ACCEPT;
	sl->est_deadline = HUGE_VAL;
	if (r->eng != NULL) {
		milter_decide(r, s, m, t, &sl->d);
		sl->est_deadline = est_deadline(r, m);
		r->card->reasons[sl->d.reason]++;
	}
	m->offered = 1;
	if (!lab_host_offer_front(r->host, t, (uint64_t)k))
		log_panic("inbound: the front door refused a session");
	sl->phase = S_FRONT;
}

/* on_front - the host answered or cut a session (inside the model) */
static void
on_front(void *arg, const struct lab_host_event *ev)
{
	struct run	*r = arg;
	size_t		 k = (size_t)ev->msgid;

	if (k >= r->nslots || r->slots[k].phase != S_FRONT)
		log_panic("inbound: an answer for session %zu, not open", k);
	r->slots[k].phase = ev->kind == LAB_HOST_DELIVERED ? S_ANSWERED :
	    S_CUT;
	r->slots[k].until = ev->time;
}

/* accept_msg - message i is queued at t, directly or into hold */
static int
accept_msg(struct run *r, size_t i, const struct admit_decision *d,
    double t, char **err_r)
{
	struct imsg	*m = &r->m[i];
	char		 rcpt[64];
	char		*sender;
	int		 hold = d->verdict == ADMIT_HOLD, rc;

	snprintf(rcpt, sizeof(rcpt), "box%zu@dest.example", i);
	sender = xasprintf("user%zu@%s", i % 97, r->s[m->sender].domain);
	m->pf = (long)pfmodel_receive(r->pf, sender, rcpt, hold);
	free(sender);
	m->state = M_ACCEPTED;
	r->resolved++;
	r->card->accepted++;
	if (t > r->card->accept_time)
		r->card->accept_time = t;
	if (!hold)
		return 0;
	r->card->held++;
	rc = drain_adopt(lab_engine_drain(r->eng), pfmodel_id(r->pf,
	    (size_t)m->pf), d->deadline, pfmodel_wall(t), err_r);
	if (rc == 1) {
		*err_r = xasprintf("%s: held, but not in the hold queue",
		    pfmodel_id(r->pf, (size_t)m->pf));
		return -1;
	}
	return rc;
}

/* answered - slot k's session ended at t: apply its answer */
static int
answered(struct run *r, size_t k, double t, char **err_r)
{
	struct slot	*sl = &r->slots[k];
	struct imsg	*m = &r->m[sl->msg];
	struct isender	*s = &r->s[m->sender];
	int		 cut = sl->phase == S_CUT;

	sl->phase = S_FREE;
	s->open--;
	if (cut) {
		r->card->cut++;
		host_failed(r, s, t);
		requeue(r, sl->msg, t);
		return 0;
	}
	/* a 421 drops the connection: to Exim a failure of the host */
	if (sl->d.rcode != NULL && strcmp(sl->d.rcode, "421") == 0)
		host_failed(r, s, t);
	else
		host_ok(s);
	switch (sl->d.verdict) {
	case ADMIT_ACCEPT:
	case ADMIT_HOLD:
	case ADMIT_CONTINUE:
		return accept_msg(r, sl->msg, &sl->d, t, err_r);
	case ADMIT_TEMPFAIL:
	case ADMIT_REJECT:
		break;
	}
	m->refused = 1;
	if (sl->est_deadline - t <= (double)r->cfg->urgent / r->c)
		r->card->urgent_refusals++;
	if (sl->d.verdict == ADMIT_REJECT) {
		r->card->rejected++;
		lose(r, sl->msg, 0);
		return 0;
	}
	r->card->tempfailed++;
	requeue(r, sl->msg, t);
	return 0;
}

/* free_slot - a free session slot of sender j, or -1 */
static long
free_slot(const struct run *r, size_t j)
{
	size_t	 k;

	for (k = j * SENDER_CONNECTIONS; k < (j + 1) * SENDER_CONNECTIONS;
	    k++)
		if (r->slots[k].phase == S_FREE)
			return (long)k;
	return -1;
}

/* exim_gate - when an Exim sender's host lets a message be tried */
static double
exim_gate(const struct run *r, const struct isender *s)
{
	if (s->kind != SENDER_EXIM || !s->exim.failing)
		return -HUGE_VAL;
	return s->exim.next / r->c;
}

/* sender_act - sender j at t: give up, queue runs, start sessions */
static void
sender_act(struct run *r, size_t j, double t)
{
	struct isender	*s = &r->s[j];
	struct lab_host_state hs;
	struct imsg	*m, *best;
	enum sender_exim_action a;
	size_t		 x, bi = 0;
	long		 k;

	for (x = 0; x < s->n; x++) {
		m = &r->m[s->msgs[x]];
		if (m->state == M_QUEUED && t >= m->deadline)
			lose(r, s->msgs[x], 0);
	}
	if (s->kind == SENDER_EXIM && t >= s->next_run) {
		while (s->next_run <= t)
			s->next_run += SENDER_EXIM_QUEUE_RUN / r->c;
		a = sender_exim_host_action(&s->exim, sender_time(r, t),
		    r->sc->delay_after_cutoff);
		for (x = 0; a == SENDER_EXIM_BOUNCE && x < s->n; x++)
			if (r->m[s->msgs[x]].state == M_QUEUED)
				lose(r, s->msgs[x], 1);
	}
	if (t < exim_gate(r, s))
		return;
	while ((k = free_slot(r, j)) >= 0) {
		best = NULL;
		for (x = 0; x < s->n; x++) {
			m = &r->m[s->msgs[x]];
			if (m->state != M_QUEUED || m->next > t)
				continue;
			if (best == NULL || m->next < best->next) {
				best = m;
				bi = s->msgs[x];
			}
		}
		if (best == NULL)
			return;
		best->state = M_SESSION;
		s->open++;
		r->card->sessions++;
		r->slots[k].msg = bi;
		lab_host_state(r->host, &hs);
		if (hs.up) {
			r->slots[k].phase = S_DIALOG;
			r->slots[k].until = t + r->sc->session;
		} else {
			r->slots[k].phase = S_CONNECT;
			r->slots[k].until = t + r->sc->connect_timeout;
		}
	}
}

/* senders_next - when the senders next do something on their own */
static double
senders_next(const struct run *r)
{
	const struct isender *s;
	const struct imsg *m;
	double		 t = HUGE_VAL, gate;
	size_t		 j, x, k;

	for (k = 0; k < r->nslots; k++)
		if (r->slots[k].phase == S_CONNECT ||
		    r->slots[k].phase == S_DIALOG)
			t = MINIMUM(t, r->slots[k].until);
	for (j = 0; j < r->ns; j++) {
		s = &r->s[j];
		gate = exim_gate(r, s);
		if (s->kind == SENDER_EXIM && s->exim.failing)
			t = MINIMUM(t, s->next_run);
		for (x = 0; x < s->n; x++) {
			m = &r->m[s->msgs[x]];
			if (m->state != M_QUEUED)
				continue;
			t = MINIMUM(t, m->deadline);
			if (s->open < SENDER_CONNECTIONS)
				t = MINIMUM(t, MAXIMUM(m->next, gate));
		}
	}
	return t;
}

/* senders_act - the sessions that end at t, then every sender */
static int
senders_act(struct run *r, double t, char **err_r)
{
	struct slot	*sl;
	size_t		 k, j;

	for (k = 0; k < r->nslots; k++) {
		sl = &r->slots[k];
		switch (sl->phase) {
		case S_CONNECT:
			if (sl->until > t)
				break;
			r->card->connect_failed++;
			sl->phase = S_FREE;
			r->s[r->m[sl->msg].sender].open--;
			host_failed(r, &r->s[r->m[sl->msg].sender], t);
			requeue(r, sl->msg, t);
			break;
		case S_DIALOG:
			if (sl->until <= t)
				decide(r, k, t);
			break;
		case S_ANSWERED:
		case S_CUT:
			if (answered(r, k, t, err_r) == -1)
				return -1;
			break;
		default:
			break;
		}
	}
	for (j = 0; j < r->ns; j++)
		sender_act(r, j, t);
	return 0;
}

/* make_senders - draw the backlog; every message due at 0 */
static void
make_senders(struct run *r)
{
	const struct lab_senders_params *p = &r->sc->senders;
	struct isender	*s;
	struct imsg	*m;
	char		 ip[32];
	size_t		 i, j;

	lab_senders_draw(p, &r->ls, &r->lm);
	r->ns = (size_t)p->senders;
	r->nm = (size_t)p->messages;
	r->s = xcalloc(r->ns, sizeof(*r->s));
	r->m = xcalloc(r->nm, sizeof(*r->m));
	r->nslots = r->ns * SENDER_CONNECTIONS;
	r->slots = xcalloc(r->nslots, sizeof(*r->slots));
	for (j = 0; j < r->ns; j++) {
		s = &r->s[j];
		s->kind = r->ls[j].kind;
		s->domain = r->ls[j].domain;
		snprintf(ip, sizeof(ip), "10.%zu.%zu.1", (j >> 8) & 255,
		    j & 255);
		client_addr_parse(ip, &s->addr);
		s->msgs = xreallocarray(NULL, (size_t)r->ls[j].messages + 1,
		    sizeof(*s->msgs));
		/* the outage: failing since it began, retry time come */
		s->exim.failing = 1;
		s->exim.first = -p->outage;
		s->exim.next = 0;
		s->next_run = 0;
	}
	for (i = 0; i < r->nm; i++) {
		m = &r->m[i];
		m->sender = r->lm[i].sender;
		m->queued = -r->lm[i].age / r->c;
		m->deadline = r->lm[i].left / r->c;
		m->next = 0;
		m->pf = -1;
		s = &r->s[m->sender];
		s->msgs[s->n++] = i;
	}
}

/* done - everything is accepted or lost, and processed */
static int
done(const struct run *r)
{
	return r->resolved == (long)r->nm &&
	    (long)(pfmodel_count(r->pf, PFMODEL_S_DELIVERED) +
	    pfmodel_count(r->pf, PFMODEL_S_BOUNCED)) >= r->card->accepted;
}

/* score - the rest of the scorecard at the end */
static void
score(struct run *r, double end)
{
	struct lab_inbound_card *c = r->card;
	struct pfmodel_msg_info mi;
	struct lab_host_state hs;
	struct lab_engine_stats es;
	size_t		 i;

	for (i = 0; i < r->nm; i++) {
		if (r->m[i].state == M_QUEUED || r->m[i].state == M_SESSION)
			c->pending++;
		if (r->m[i].offered)
			c->offered++;
		if (r->m[i].pf < 0)
			continue;
		pfmodel_msg_info(r->pf, (size_t)r->m[i].pf, &mi);
		if (mi.state != PFMODEL_S_DELIVERED) {
			c->undelivered++;
			continue;
		}
		if (mi.done_at > c->pipeline_time)
			c->pipeline_time = mi.done_at;
	}
	lab_host_state(r->host, &hs);
	c->reboots = hs.reboots;
	c->temp_peak = hs.temp_peak;
	c->above_passive = hs.above_passive;
	c->utilization = hs.utilization_avg;
	c->end_time = end;
	c->safe_bound = c->safe_rate > 0 ? (double)c->accepted /
	    c->safe_rate : HUGE_VAL;
	c->pipeline_safe = c->safe_bound > 0 ? c->pipeline_time /
	    c->safe_bound : 0;
	if (r->eng != NULL) {
		lab_engine_stats(r->eng, &es);
		c->released = es.released;
		c->pressure_max = es.pressure_max;
		c->pressure_run = es.pressure_run;
	}
}

/* loop - the event loop; the end time into *end_r */
static int
loop(struct run *r, double *end_r, char **err_r)
{
	double	 t;

	for (;;) {
		t = MINIMUM(pfmodel_next_event(r->pf), senders_next(r));
		if (r->eng != NULL)
			t = MINIMUM(t, lab_engine_next_step(r->eng));
		if (t > r->sc->run_limit) {
			pfmodel_set_now(r->pf, r->sc->run_limit);
			*end_r = r->sc->run_limit;
			return 0;
		}
		if (t < pfmodel_now(r->pf))
			t = pfmodel_now(r->pf);
		pfmodel_set_now(r->pf, t);
		if (r->eng != NULL && t >= lab_engine_next_step(r->eng) &&
		    lab_engine_step(r->eng, t, err_r) == -1)
			return -1;
		if (senders_act(r, t, err_r) == -1)
			return -1;
		if (done(r)) {
			*end_r = t;
			return 0;
		}
	}
}

/* ebb_open - the engine with the milter's action, and its client table */
static int
ebb_open(struct run *r, char **err_r)
{
	struct client_limit_params cp;

	if (lab_engine_new(r->sc->tmpdir, r->sc->config, &r->eng,
	    err_r) == -1)
		return -1;
	r->cfg = lab_engine_config(r->eng);
	r->cfg->milter_enable = 1;
	r->cfg->milter_action = r->policy == LAB_INBOUND_EBB ?
	    CONFIG_MILTER_HOLD : CONFIG_MILTER_TEMPFAIL;
	memset(&cp, 0, sizeof(cp));
	cp.ip_rate = r->cfg->client_rate;
	cp.ip_burst = (double)r->cfg->client_burst;
	cp.net_rate = r->cfg->net_rate;
	cp.net_burst = (double)r->cfg->net_burst;
	cp.slots = CLIENT_SLOTS;
	cp.seed = 1;
	r->clients = client_limit_new(&cp);
	return 0;
}

int
lab_inbound_run(const struct lab_inbound_scenario *sc,
    enum lab_inbound_policy policy, struct lab_inbound_card *card,
    char **err_r)
{
	struct pfmodel_params pp;
	struct run	 r;
	double		 end = 0;
	size_t		 j;
	int		 rc = -1;

	memset(card, 0, sizeof(*card));
	if (lab_inbound_check(sc, err_r) == -1)
		return -1;
	if ((unsigned)policy >= LAB_INBOUND_COUNT) {
		*err_r = xasprintf("policy %d: no such policy", (int)policy);
		return -1;
	}
	memset(&r, 0, sizeof(r));
	r.sc = sc;
	r.policy = policy;
	r.card = card;
	r.c = sc->compress;
	card->policy = policy;
	card->messages = sc->senders.messages;
	if (lab_sim_safe_rate(&sc->host, sc->config, &card->safe_rate,
	    err_r) == -1)
		return -1;
	if ((r.host = lab_host_new(&sc->host, 0, err_r)) == NULL)
		return -1;
	if (policy != LAB_INBOUND_POSTFIX && ebb_open(&r, err_r) == -1)
		goto out;
	pfmodel_params_compressed(&pp, r.c);
	if ((r.pf = pfmodel_new(&pp, r.host, r.eng != NULL ?
	    lab_engine_dir(r.eng) : "/", 0, err_r)) == NULL)
		goto out;
	pfmodel_set_front(r.pf, on_front, &r);
	make_senders(&r);
	if (r.eng != NULL && lab_engine_start(r.eng, r.pf, r.host, 0,
	    err_r) == -1)
		goto out;
	if (loop(&r, &end, err_r) == -1)
		goto out;
	score(&r, end);
	rc = 0;
out:
	lab_engine_free(&r.eng);
	client_limit_free(&r.clients);
	pfmodel_free(&r.pf);
	lab_host_free(&r.host);
	for (j = 0; j < r.ns; j++)
		free(r.s[j].msgs);
	free(r.s);
	free(r.m);
	free(r.slots);
	free(r.ls);
	free(r.lm);
	return rc;
}
