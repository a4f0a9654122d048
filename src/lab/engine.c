/*
 * engine.c - ebb's real engine on the outage lab's clock
 *
 * What ebbd's parent does (src/daemon/parent.c), on the simulated clock:
 * at the start drain_start (park the backlog) and a first sample; then
 * every LAB_ENGINE_STEP s a step: when a sample is due (pace_due, every
 * [sensors] interval) the host writes its fake /proc and /sys
 * (lab_host_write_proc), ebb reads it (sensor_sample_read, with the
 * model's queue depth), feeds it to pace_sample and, every
 * LAB_ENGINE_REFRESH s, rescans (drain_refresh); then pace_step releases
 * what the budget allows through the model's backend ops. ebbd's history
 * samples are left out; the milter is the caller's (lab/inbound.c).
 *
 * The configuration is config_defaults() (or the file named) with
 * proc_root, sys_root and state_directory in the engine's temporary
 * directory (lab_sim_tmpdir: a RAM file system when there is one, so that
 * the ledger's fsyncs and the fake /proc cost no disk time).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
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
#include "ebb/proof.h"
#include "ebb/sensor.h"
#include "ebb/util.h"
#include "engine.h"
#include "host.h"
#include "pfmodel.h"
#include "sim.h"

struct lab_engine {
	char		*dir;		/* temporary: proc/, sys/, state/ */
	char		*state;
	struct config	*cfg;
	struct ledger	*ledger;
	struct drain	*drain;
	struct pace	*pace;
	struct pfmodel	*pf;
	struct lab_host	*host;
	struct sensor_sample sample, prev;
	int		 have_sample;
	double		 next_step;
	double		 next_refresh;
	long		 run_now;	/* samples in a row at p >= 1 */
	struct lab_engine_stats st;
	lab_engine_hook_fn *hook;
	void		*hook_arg;
};

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

int
lab_engine_new(const char *tmpdir, const char *config,
    struct lab_engine **e_r, char **err_r)
{
	struct lab_engine *e = xcalloc(1, sizeof(*e));
	char		*tmpl;

	*e_r = NULL;
	if (tmpdir == NULL)
		tmpdir = lab_sim_tmpdir();
	tmpl = xasprintf("%s/ebb-lab.XXXXXX", tmpdir);
	if (mkdtemp(tmpl) == NULL) {
		*err_r = xasprintf("mkdtemp %s: %s", tmpl, strerror(errno));
		free(tmpl);
		free(e);
		return -1;
	}
	e->dir = tmpl;
	e->state = xasprintf("%s/state", e->dir);
	if (config == NULL)
		e->cfg = config_defaults();
	else if (config_load(config, &e->cfg, err_r) == -1)
		goto fail;
	set_path(&e->cfg->proc_root, e->dir);
	set_path(&e->cfg->sys_root, e->dir);
	set_path(&e->cfg->state_directory, e->state);
	if (ledger_open(e->state, &e->ledger, err_r) == -1)
		goto fail;
	*e_r = e;
	return 0;
fail:
	lab_engine_free(&e);
	return -1;
}

const char *
lab_engine_dir(const struct lab_engine *e)
{
	return e->dir;
}

struct config *
lab_engine_config(struct lab_engine *e)
{
	return e->cfg;
}

void
lab_engine_set_hook(struct lab_engine *e, lab_engine_hook_fn *fn, void *arg)
{
	e->hook = fn;
	e->hook_arg = arg;
}

/* tick - parent.c's tick: sample, govern, rescan every 5 s */
static int
tick(struct lab_engine *e, double t, char **err_r)
{
	struct mta	*mta = pfmodel_mta(e->pf);

	if (lab_host_write_proc(e->host, e->dir, err_r) == -1)
		return -1;
	sensor_sample_read(e->cfg, mta_queue_directory(mta), mta_depth(mta),
	    e->have_sample ? &e->prev : NULL, t, &e->sample);
	e->prev = e->sample;
	e->have_sample = 1;
	pace_sample(e->pace, &e->sample, t);
	e->st.samples++;
	if (e->sample.npresent > 0) {
		if (e->sample.pressure > e->st.pressure_max)
			e->st.pressure_max = e->sample.pressure;
		e->run_now = e->sample.pressure >= 1 ? e->run_now + 1 : 0;
		if (e->run_now > e->st.pressure_run)
			e->st.pressure_run = e->run_now;
	}
	if (t >= e->next_refresh) {
		e->next_refresh = t + LAB_ENGINE_REFRESH;
		drain_expire_recent(e->drain, pfmodel_wall(t));
		if (drain_refresh(e->drain, pfmodel_wall(t), err_r) == -1)
			return -1;
	}
	if (e->hook != NULL)
		e->hook(e->hook_arg, t);
	return 0;
}

/* the drain checks proofs only with a key; the model needs none */
static const struct proof_key lab_key;

int
lab_engine_start(struct lab_engine *e, struct pfmodel *pf,
    struct lab_host *host, double t, char **err_r)
{
	struct drain_opts opts;
	struct pace_params pp;

	e->pf = pf;
	e->host = host;
	memset(&opts, 0, sizeof(opts));
	opts.proof_key = &lab_key;	/* the model's holds carry no bytes */
	e->drain = drain_new(e->cfg, pfmodel_mta(pf), e->ledger, &opts);
	pace_params_from_config(e->cfg, &pp);
	e->pace = pace_new(&pp);
	if (drain_start(e->drain, pfmodel_wall(t), err_r) == -1)
		return -1;
	e->next_refresh = t + LAB_ENGINE_REFRESH;
	e->next_step = t + LAB_ENGINE_STEP;
	return tick(e, t, err_r);
}

double
lab_engine_next_step(const struct lab_engine *e)
{
	return e->next_step;
}

long
lab_engine_step(struct lab_engine *e, double t, char **err_r)
{
	long	 n;

	e->next_step += LAB_ENGINE_STEP;
	if (pace_due(e->pace, t) && tick(e, t, err_r) == -1)
		return -1;
	if ((n = pace_step(e->pace, e->drain, t, pfmodel_wall(t),
	    err_r)) == -1)
		return -1;
	if (n > 0) {
		e->st.released += n;
		e->st.last_release = t;
	}
	return n;
}

struct drain *
lab_engine_drain(struct lab_engine *e)
{
	return e->drain;
}

struct pace *
lab_engine_pace(struct lab_engine *e)
{
	return e->pace;
}

const struct sensor_sample *
lab_engine_sample(const struct lab_engine *e)
{
	return &e->sample;
}

void
lab_engine_stats(const struct lab_engine *e, struct lab_engine_stats *st_r)
{
	*st_r = e->st;
}

void
lab_engine_free(struct lab_engine **ep)
{
	struct lab_engine *e = *ep;

	if (e == NULL)
		return;
	drain_free(&e->drain);
	pace_free(&e->pace);
	ledger_close(&e->ledger);
	config_free(&e->cfg);
	if (e->dir != NULL)
		rm_tree(e->dir);
	free(e->dir);
	free(e->state);
	free(e);
	*ep = NULL;
}
