/*
 * sim.c - the outage lab's discrete-event simulation and its scorecard
 *
 * One event loop per run. Time jumps to the earliest of: the host's next
 * event and qmgr's next timer (both through pfmodel_next_event), the
 * policy's own timers, and a whole second (the trace's; it runs in every
 * run so that tracing cannot change a result). At each time the model is
 * brought there first (pfmodel_set_now: the host's deliveries and
 * reboots, qmgr's scans, its connect timeouts), then the policy acts:
 *
 *	POSTFIX	nothing: qmgr's own scans do it all
 *	FLUSH	every flush_interval seconds "postqueue -f" (pfmodel_flush)
 *	EBB	what ebbd's parent does (src/daemon/parent.c), on the
 *		simulated clock (lab/engine.c): at the start drain_start
 *		(park the backlog) and a first sample; then every 0.25 s a
 *		step: a sample of the host's fake /proc and /sys when one is
 *		due, a rescan every 5 s, and the releases the budget allows
 *		through the model's backend ops. ebbd's history samples and
 *		milter are left out.
 *
 * ebb starts before qmgr's first scan: ebbd is running when the host
 * comes back, so it parks the backlog before Postfix attempts it. The
 * configuration is config_defaults() with proc_root, sys_root and
 * state_directory in the run's temporary directory: ebb as a new user
 * installs it. The engine's wall clock is pfmodel_wall (a fixed date plus
 * the simulated time); its monotonic clock is the simulated time.
 *
 * The backlog: N messages, deferred and due at 0, ids in the order they
 * were made; message k's deadline is drawn uniformly from [first, last] x
 * N/R by a 64-bit generator seeded by the scenario (splitmix64), rounded
 * to a whole second, and its create_time is the deadline less Postfix's
 * maximal_queue_lifetime. The run stops when every message of the backlog
 * is delivered or bounced, or at run_limit x N/R.
 *
 * Scorecard: a message delivered at or before its deadline is on time,
 * after it late (Postfix only bounces after a failed attempt); drain time
 * is the time of the last delivery. The safe-capacity bound is N /
 * lab_host_safe_rate with ebb's limits (the scenario's configuration, else
 * the defaults): load_per_cpu, and the temperature it keeps below, its
 * [limits] temperature or the passive trip less temperature_margin when
 * that is lower than the passive trip (issue 13: "without crossing its
 * passive trip or a configured limit").
 */
#include "config.h"

#include <sys/stat.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ebb/config.h"
#include "ebb/governor.h"
#include "ebb/pace.h"
#include "ebb/util.h"
#include "engine.h"
#include "host.h"
#include "pfmodel.h"
#include "sim.h"

static const char *const policy_names[LAB_POLICY_COUNT] = {
	[LAB_POLICY_POSTFIX] = "postfix",
	[LAB_POLICY_FLUSH] = "flush",
	[LAB_POLICY_EBB] = "ebb",
};

const char *
lab_policy_name(enum lab_policy p)
{
	return (unsigned)p < LAB_POLICY_COUNT ? policy_names[p] : "unknown";
}

int
lab_policy_lookup(const char *name)
{
	int	 i;

	for (i = 0; i < LAB_POLICY_COUNT; i++)
		if (strcmp(policy_names[i], name) == 0)
			return i;
	return -1;
}

void
lab_scenario_default(struct lab_scenario *sc)
{
	memset(sc, 0, sizeof(*sc));
	lab_host_params_default(&sc->host);
	pfmodel_params_default(&sc->postfix);
	sc->messages = 2400;
	sc->deadline_first = 1.0;
	sc->deadline_last = 4.0;
	sc->run_limit = 6.0;
	sc->flush_interval = 30;
	sc->seed = 1;
}

int
lab_scenario_check(const struct lab_scenario *sc, char **err_r)
{
	if (lab_host_params_check(&sc->host, err_r) == -1 ||
	    pfmodel_params_check(&sc->postfix, err_r) == -1)
		return -1;
	if (sc->messages < 1 || sc->messages > 1000000) {
		*err_r = xasprintf("messages %ld is outside 1..1000000",
		    sc->messages);
		return -1;
	}
	if (!(sc->deadline_first >= 0 && sc->deadline_last >=
	    sc->deadline_first && sc->deadline_last <= 1000)) {
		*err_r = xasprintf("deadlines %g..%g x N/R: want 0 <= first "
		    "<= last <= 1000", sc->deadline_first, sc->deadline_last);
		return -1;
	}
	if (!(sc->run_limit > 0 && sc->run_limit <= 1000)) {
		*err_r = xasprintf("run limit %g x N/R is outside 0..1000",
		    sc->run_limit);
		return -1;
	}
	if (!(sc->flush_interval >= 1 && sc->flush_interval <= 86400)) {
		*err_r = xasprintf("flush interval %g s is outside 1..86400",
		    sc->flush_interval);
		return -1;
	}
	if (sc->admin_held < 0 || sc->admin_held > 1000000) {
		*err_r = xasprintf("admin_held %ld is outside 0..1000000",
		    sc->admin_held);
		return -1;
	}
	return 0;
}

/* splitmix64 - the next number of a seeded 64-bit sequence */
static uint64_t
splitmix64(uint64_t *state)
{
	uint64_t	 z = (*state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* one run's state */
struct run {
	const struct lab_scenario *sc;
	enum lab_policy	 policy;
	struct lab_scorecard *card;
	struct lab_host	*host;
	struct pfmodel	*pf;
	double		 nr;
	double		 t_end;
	double		 next_second;
	double		 next_flush;

	struct lab_engine *eng;		/* EBB */
};

/* cmp_double - qsort: ascending */
static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * edf_need - the least share of capacity at which an earliest-deadline-
 * first drain from 0 meets every deadline: the k-th deadline in order
 * must come no sooner than k / rate, so rate >= max k / deadline_k
 */
static double
edf_need(const double *deadlines, size_t n, double capacity)
{
	double	*d = xreallocarray(NULL, n, sizeof(*d)), need = 0;
	size_t	 k;

	memcpy(d, deadlines, n * sizeof(*d));
	qsort(d, n, sizeof(*d), cmp_double);
	for (k = 0; k < n; k++) {
		if (d[k] <= 0) {
			need = HUGE_VAL;
			break;
		}
		need = MAXIMUM(need, (double)(k + 1) / d[k]);
	}
	free(d);
	return need / capacity;
}

/* make_backlog - the N messages and the administrator's holds */
static void
make_backlog(struct run *r)
{
	const struct lab_scenario *sc = r->sc;
	uint64_t	 state = sc->seed;
	double		 u, deadline, life = sc->postfix.maximal_queue_lifetime;
	char		 sender[64], rcpt[64];
	double		*deadlines;
	long		 k;
	size_t		 i;

	deadlines = xreallocarray(NULL, (size_t)sc->messages,
	    sizeof(*deadlines));
	for (k = 0; k < sc->messages + sc->admin_held; k++) {
		u = (double)(splitmix64(&state) >> 11) * 0x1.0p-53;
		deadline = round(r->nr * (sc->deadline_first +
		    (sc->deadline_last - sc->deadline_first) * u));
		snprintf(sender, sizeof(sender), "user%ld@sender%ld.example",
		    k % 50, k % 7);
		snprintf(rcpt, sizeof(rcpt), "box%ld@dest%ld.example", k,
		    k % 3);
		i = pfmodel_add(r->pf, deadline - life, 0, sender, rcpt);
		if (k >= sc->messages)
			pfmodel_admin_hold(r->pf, i);
		else
			deadlines[k] = deadline;
	}
	r->card->edf_need = edf_need(deadlines, (size_t)sc->messages,
	    sc->host.capacity);
	free(deadlines);
}

const char *
lab_sim_tmpdir(void)
{
	struct stat	 sb;
	const char	*tmp;

	if ((tmp = getenv("TMPDIR")) != NULL && *tmp != '\0')
		return tmp;
	if (stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    access("/dev/shm", W_OK | X_OK) == 0)
		return "/dev/shm";
	return "/tmp";
}

/* ebb_trace - the engine's hook: a SAMPLE trace */
static void
ebb_trace(void *arg, double t)
{
	struct run	*r = arg;
	struct lab_trace tr;
	struct budget	 b;

	pace_governor_budget(lab_engine_pace(r->eng), &b);
	memset(&tr, 0, sizeof(tr));
	tr.kind = LAB_TRACE_SAMPLE;
	tr.policy = r->policy;
	tr.time = t;
	tr.pf = r->pf;
	tr.host = r->host;
	tr.sample = lab_engine_sample(r->eng);
	tr.budget = &b;
	r->sc->trace(r->sc->trace_arg, &tr);
}

/* trace - a trace of kind at t, outside EBB's samples */
static void
trace(struct run *r, enum lab_trace_kind kind, double t)
{
	struct lab_trace tr;

	if (r->sc->trace == NULL)
		return;
	memset(&tr, 0, sizeof(tr));
	tr.kind = kind;
	tr.policy = r->policy;
	tr.time = t;
	tr.pf = r->pf;
	tr.host = r->host;
	r->sc->trace(r->sc->trace_arg, &tr);
}

/* policy_next - the policy's next timer, and the trace's second */
static double
policy_next(const struct run *r)
{
	double	 t = r->next_second;

	if (r->policy == LAB_POLICY_FLUSH)
		t = MINIMUM(t, r->next_flush);
	if (r->policy == LAB_POLICY_EBB)
		t = MINIMUM(t, lab_engine_next_step(r->eng));
	return t;
}

/* policy_act - what is due at t */
static int
policy_act(struct run *r, double t, char **err_r)
{
	if (r->policy == LAB_POLICY_FLUSH && t >= r->next_flush) {
		pfmodel_flush(r->pf);
		r->next_flush += r->sc->flush_interval;
		trace(r, LAB_TRACE_FLUSH, t);
	}
	if (r->policy == LAB_POLICY_EBB && t >= lab_engine_next_step(r->eng) &&
	    lab_engine_step(r->eng, t, err_r) == -1)
		return -1;
	if (t >= r->next_second) {
		r->next_second += 1;
		trace(r, LAB_TRACE_SECOND, t);
	}
	return 0;
}

/* drained - every message of the backlog has left the queue */
static int
drained(const struct run *r)
{
	return (long)(pfmodel_count(r->pf, PFMODEL_S_DELIVERED) +
	    pfmodel_count(r->pf, PFMODEL_S_BOUNCED)) >= r->sc->messages;
}

/* score - fill the scorecard at the end of the run */
static void
score(struct run *r, double end)
{
	struct lab_scorecard *c = r->card;
	struct pfmodel_msg_info mi;
	struct lab_host_state hs;
	struct lab_engine_stats es;
	size_t		 i, n = pfmodel_nmsgs(r->pf);

	for (i = 0; i < n; i++) {
		pfmodel_msg_info(r->pf, i, &mi);
		if (mi.release_calls > 0 && mi.parked == 0)
			c->foreign_released++;
		if ((long)i >= r->sc->messages) {
			c->admin_held++;
			if (mi.park_calls > 0 || mi.release_calls > 0 ||
			    mi.state != PFMODEL_S_HOLD)
				c->admin_touched++;
			continue;
		}
		switch (mi.state) {
		case PFMODEL_S_DELIVERED:
			if (mi.done_at <= mi.deadline)
				c->on_time++;
			else
				c->late++;
			if (mi.done_at > c->drain_time)
				c->drain_time = mi.done_at;
			break;
		case PFMODEL_S_BOUNCED:
			c->bounced++;
			break;
		default:
			c->left++;
			break;
		}
	}
	lab_host_state(r->host, &hs);
	c->reboots = hs.reboots;
	c->temp_peak = hs.temp_peak;
	c->above_passive = hs.above_passive;
	c->utilization = hs.utilization_avg;
	c->end_time = end;
	c->drain_nr = c->drain_time / c->nr;
	c->drain_safe = c->safe_bound > 0 ? c->drain_time / c->safe_bound :
	    HUGE_VAL;
	pfmodel_stats(r->pf, &c->postfix);
	if (r->policy == LAB_POLICY_EBB) {
		lab_engine_stats(r->eng, &es);
		c->samples = es.samples;
		c->pressure_run = es.pressure_run;
		c->pressure_max = es.pressure_max;
		c->released = es.released;
		if (es.last_release > 0)
			c->release_rate = (double)es.released /
			    es.last_release;
	}
}

/* loop - the event loop, from 0 to the end; returns the end time */
static int
loop(struct run *r, double *end_r, char **err_r)
{
	double	 t;

	for (;;) {
		t = MINIMUM(pfmodel_next_event(r->pf), policy_next(r));
		if (t > r->t_end) {
			pfmodel_set_now(r->pf, r->t_end);
			*end_r = r->t_end;
			return 0;
		}
		pfmodel_set_now(r->pf, t);
		if (policy_act(r, t, err_r) == -1)
			return -1;
		if (drained(r)) {
			*end_r = t;
			return 0;
		}
	}
}

int
lab_sim_safe_rate(const struct lab_host_params *host, const char *config,
    double *rate_r, char **err_r)
{
	struct config	*cfg;
	struct lab_host_params safe;
	double		 limit;

	if (config == NULL)
		cfg = config_defaults();
	else if (config_load(config, &cfg, err_r) == -1)
		return -1;
	safe = *host;
	limit = cfg->temperature > 0 ? cfg->temperature :
	    safe.trip_passive - cfg->temperature_margin;
	if (limit < safe.trip_passive)
		safe.trip_passive = limit;
	*rate_r = lab_host_safe_rate(&safe, cfg->load_per_cpu);
	config_free(&cfg);
	return 0;
}

int
lab_sim_run(const struct lab_scenario *sc, enum lab_policy policy,
    struct lab_scorecard *card, char **err_r)
{
	struct run	 r;
	double		 end = 0;
	int		 rc = -1;

	memset(card, 0, sizeof(*card));
	if (lab_scenario_check(sc, err_r) == -1)
		return -1;
	if ((unsigned)policy >= LAB_POLICY_COUNT) {
		*err_r = xasprintf("policy %d: no such policy", (int)policy);
		return -1;
	}
	memset(&r, 0, sizeof(r));
	r.sc = sc;
	r.policy = policy;
	r.card = card;
	card->policy = policy;
	card->messages = sc->messages;
	card->nr = (double)sc->messages / sc->host.capacity;
	if (lab_sim_safe_rate(&sc->host, sc->config, &card->safe_rate,
	    err_r) == -1)
		return -1;
	card->safe_bound = card->safe_rate > 0 ?
	    (double)sc->messages / card->safe_rate : HUGE_VAL;
	r.nr = card->nr;
	r.t_end = sc->run_limit * r.nr;
	r.next_second = 0;
	r.next_flush = sc->flush_interval;
	if ((r.host = lab_host_new(&sc->host, 0, err_r)) == NULL)
		return -1;
	/* ebb's queue_disk sensor looks at the queue directory: its own */
	if (policy == LAB_POLICY_EBB && lab_engine_new(sc->tmpdir, sc->config,
	    &r.eng, err_r) == -1)
		goto out;
	if ((r.pf = pfmodel_new(&sc->postfix, r.host, r.eng != NULL ?
	    lab_engine_dir(r.eng) : "/", 0, err_r)) == NULL)
		goto out;
	make_backlog(&r);
	if (r.eng != NULL && sc->trace != NULL)
		lab_engine_set_hook(r.eng, ebb_trace, &r);
	if (r.eng != NULL && lab_engine_start(r.eng, r.pf, r.host, 0,
	    err_r) == -1)
		goto out;
	if (loop(&r, &end, err_r) == -1)
		goto out;
	score(&r, end);
	rc = 0;
out:
	lab_engine_free(&r.eng);
	pfmodel_free(&r.pf);
	lab_host_free(&r.host);
	return rc;
}
