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
 *		simulated clock: at the start drain_start (park the backlog)
 *		and a first sample; then every 0.25 s a step: when a sample
 *		is due (pace_due, every [sensors] interval) the host writes
 *		its fake /proc and /sys (lab_host_write_proc), ebb reads it
 *		(sensor_sample_read, with the model's queue depth), feeds it
 *		to pace_sample and, every 5 s, rescans (drain_refresh); then
 *		pace_step releases what the budget allows through the model's
 *		backend ops. ebbd's history samples and milter are left out.
 *
 * ebb starts before qmgr's first scan: ebbd is running when the host
 * comes back, so it parks the backlog before Postfix attempts it. The
 * configuration is config_defaults() with proc_root, sys_root and
 * state_directory in the run's temporary directory (lab_sim_tmpdir: a
 * RAM file system when there is one, so that the ledger's fsyncs and the
 * fake /proc cost no disk time): ebb as a new user installs it. The engine's wall clock is pfmodel_wall (a fixed date plus
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

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ebb/config.h"
#include "ebb/drain.h"
#include "ebb/governor.h"
#include "ebb/ledger.h"
#include "ebb/mta.h"
#include "ebb/pace.h"
#include "ebb/sensor.h"
#include "ebb/util.h"
#include "host.h"
#include "pfmodel.h"
#include "sim.h"

#define SIM_STEP	0.25	/* s, parent.c's PARENT_STEP */
#define SIM_REFRESH	5.0	/* s, parent.c's PARENT_REFRESH */

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

	/* EBB */
	char		*dir;		/* temporary: proc/, sys/, state/ */
	char		*state;
	struct config	*cfg;
	struct ledger	*ledger;
	struct drain	*drain;
	struct pace	*pace;
	struct sensor_sample sample, prev;
	int		 have_sample;
	double		 next_step;
	double		 next_refresh;
	double		 last_release;
	long		 run_now;	/* samples in a row at p >= 1 */
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

/* rm_entry - nftw's callback for rm_tree */
static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)f;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* rm_tree - remove dir and everything in it; errors are ignored */
static void
rm_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* set_path - replace the config string *slot by a copy of v */
static void
set_path(char **slot, const char *v)
{
	free(*slot);
	*slot = xstrdup(v);
}

/* ebb_trace - a SAMPLE trace */
static void
ebb_trace(struct run *r, double t)
{
	struct lab_trace tr;
	struct budget	 b;

	if (r->sc->trace == NULL)
		return;
	pace_governor_budget(r->pace, &b);
	memset(&tr, 0, sizeof(tr));
	tr.kind = LAB_TRACE_SAMPLE;
	tr.policy = r->policy;
	tr.time = t;
	tr.pf = r->pf;
	tr.host = r->host;
	tr.sample = &r->sample;
	tr.budget = &b;
	r->sc->trace(r->sc->trace_arg, &tr);
}

/* ebb_tick - parent.c's tick: sample, govern, rescan every 5 s */
static int
ebb_tick(struct run *r, double t, char **err_r)
{
	struct mta	*mta = pfmodel_mta(r->pf);
	struct lab_scorecard *card = r->card;

	if (lab_host_write_proc(r->host, r->dir, err_r) == -1)
		return -1;
	sensor_sample_read(r->cfg, mta_queue_directory(mta), mta_depth(mta),
	    r->have_sample ? &r->prev : NULL, t, &r->sample);
	r->prev = r->sample;
	r->have_sample = 1;
	pace_sample(r->pace, &r->sample, t);
	card->samples++;
	if (r->sample.npresent > 0) {
		if (r->sample.pressure > card->pressure_max)
			card->pressure_max = r->sample.pressure;
		r->run_now = r->sample.pressure >= 1 ? r->run_now + 1 : 0;
		if (r->run_now > card->pressure_run)
			card->pressure_run = r->run_now;
	}
	if (t >= r->next_refresh) {
		r->next_refresh = t + SIM_REFRESH;
		drain_expire_recent(r->drain, pfmodel_wall(t));
		if (drain_refresh(r->drain, pfmodel_wall(t), err_r) == -1)
			return -1;
	}
	ebb_trace(r, t);
	return 0;
}

/* ebb_step - parent.c's on_step: a sample when due, then release */
static int
ebb_step(struct run *r, double t, char **err_r)
{
	long	 n;

	if (pace_due(r->pace, t) && ebb_tick(r, t, err_r) == -1)
		return -1;
	if ((n = pace_step(r->pace, r->drain, t, pfmodel_wall(t),
	    err_r)) == -1)
		return -1;
	if (n > 0) {
		r->card->released += n;
		r->last_release = t;
	}
	return 0;
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

/* ebb_mkdir - the run's temporary directory: queue, proc/, sys/, state/ */
static int
ebb_mkdir(struct run *r, char **err_r)
{
	const char	*tmp = r->sc->tmpdir;
	char		*tmpl;

	if (tmp == NULL)
		tmp = lab_sim_tmpdir();
	tmpl = xasprintf("%s/ebb-lab.XXXXXX", tmp);
	if (mkdtemp(tmpl) == NULL) {
		*err_r = xasprintf("mkdtemp %s: %s", tmpl, strerror(errno));
		free(tmpl);
		return -1;
	}
	r->dir = tmpl;
	r->state = xasprintf("%s/state", r->dir);
	return 0;
}

/* ebb_start - ebbd comes up: config, ledger, park, a first sample */
static int
ebb_start(struct run *r, char **err_r)
{
	struct drain_opts opts;
	struct pace_params pp;

	if (r->sc->config == NULL)
		r->cfg = config_defaults();
	else if (config_load(r->sc->config, &r->cfg, err_r) == -1)
		return -1;
	set_path(&r->cfg->proc_root, r->dir);
	set_path(&r->cfg->sys_root, r->dir);
	set_path(&r->cfg->state_directory, r->state);
	if (ledger_open(r->state, &r->ledger, err_r) == -1)
		return -1;
	memset(&opts, 0, sizeof(opts));
	r->drain = drain_new(r->cfg, pfmodel_mta(r->pf), r->ledger, &opts);
	pace_params_from_config(r->cfg, &pp);
	r->pace = pace_new(&pp);
	if (drain_start(r->drain, pfmodel_wall(0), err_r) == -1)
		return -1;
	r->next_refresh = SIM_REFRESH;
	r->next_step = SIM_STEP;
	return ebb_tick(r, 0, err_r);
}

/* ebb_stop - free the engine and remove its files */
static void
ebb_stop(struct run *r)
{
	drain_free(&r->drain);
	pace_free(&r->pace);
	ledger_close(&r->ledger);
	config_free(&r->cfg);
	if (r->dir != NULL)
		rm_tree(r->dir);
	free(r->dir);
	free(r->state);
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
		t = MINIMUM(t, r->next_step);
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
	if (r->policy == LAB_POLICY_EBB && t >= r->next_step) {
		r->next_step += SIM_STEP;
		if (ebb_step(r, t, err_r) == -1)
			return -1;
	}
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
	if (r->policy == LAB_POLICY_EBB && r->last_release > 0)
		c->release_rate = (double)c->released / r->last_release;
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
lab_sim_run(const struct lab_scenario *sc, enum lab_policy policy,
    struct lab_scorecard *card, char **err_r)
{
	struct run	 r;
	struct config	*defaults;
	struct lab_host_params safe;
	double		 limit;
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
	if (sc->config == NULL)
		defaults = config_defaults();
	else if (config_load(sc->config, &defaults, err_r) == -1)
		return -1;
	safe = sc->host;
	limit = defaults->temperature > 0 ? defaults->temperature :
	    safe.trip_passive - defaults->temperature_margin;
	if (limit < safe.trip_passive)
		safe.trip_passive = limit;
	card->safe_rate = lab_host_safe_rate(&safe, defaults->load_per_cpu);
	config_free(&defaults);
	card->safe_bound = card->safe_rate > 0 ?
	    (double)sc->messages / card->safe_rate : HUGE_VAL;
	r.nr = card->nr;
	r.t_end = sc->run_limit * r.nr;
	r.next_second = 0;
	r.next_flush = sc->flush_interval;
	if ((r.host = lab_host_new(&sc->host, 0, err_r)) == NULL)
		return -1;
	/* ebb's queue_disk sensor looks at the queue directory: its own */
	if (policy == LAB_POLICY_EBB && ebb_mkdir(&r, err_r) == -1)
		goto out;
	if ((r.pf = pfmodel_new(&sc->postfix, r.host, r.dir != NULL ? r.dir :
	    "/", 0, err_r)) == NULL)
		goto out;
	make_backlog(&r);
	if (policy == LAB_POLICY_EBB && ebb_start(&r, err_r) == -1)
		goto out;
	if (loop(&r, &end, err_r) == -1)
		goto out;
	score(&r, end);
	rc = 0;
out:
	if (policy == LAB_POLICY_EBB)
		ebb_stop(&r);
	pfmodel_free(&r.pf);
	lab_host_free(&r.host);
	return rc;
}
