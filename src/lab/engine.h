/*
 * engine.h - ebb's real engine on the outage lab's clock
 *
 * What ebbd's parent runs (src/daemon/parent.c), brought up on a modelled
 * Postfix (lab/pfmodel.h) and host (lab/host.h) for a simulation: the
 * configuration, the ledger, the drain, the pacer with its governor, and
 * the sensors reading the host's fake /proc and /sys. Its files (the fake
 * /proc and /sys, the ledger) live in a temporary directory that
 * lab_engine_free removes. The engine's wall clock is pfmodel_wall of the
 * simulated time, its monotonic clock the simulated time.
 *
 *	lab_engine_new(tmpdir, config, &e, &err);     config, ledger
 *	pf = pfmodel_new(..., lab_engine_dir(e), ...);
 *	lab_engine_start(e, pf, host, 0, &err);       park, a first sample
 *	loop: at lab_engine_next_step(e): lab_engine_step(e, t, &err);
 *	lab_engine_free(&e);
 */
#ifndef EBB_LAB_ENGINE_H
#define EBB_LAB_ENGINE_H

struct budget;
struct config;
struct drain;
struct lab_engine;
struct lab_host;
struct pace;
struct pfmodel;
struct sensor_sample;

#define LAB_ENGINE_STEP		0.25	/* s, parent.c's PARENT_STEP */
#define LAB_ENGINE_REFRESH	5.0	/* s, parent.c's PARENT_REFRESH */

/* what the engine did; plain data */
struct lab_engine_stats {
	long	 samples;	/* sensor samples */
	long	 pressure_run;	/* most samples in a row at p >= 1 */
	double	 pressure_max;
	long	 released;	/* by the drain */
	double	 last_release;	/* s, the time of the last one */
};

/* called after each sensor sample */
typedef void	 lab_engine_hook_fn(void *arg, double t);

/*
 * lab_engine_new - a directory under tmpdir (NULL: lab_sim_tmpdir()), the
 * configuration (config_load of config; NULL: config_defaults) with its
 * sensor roots and state directory in that directory, and the ledger
 * there. Returns 0 and *e_r, or -1 and *err_r (allocated).
 */
int	 lab_engine_new(const char *tmpdir, const char *config,
	    struct lab_engine **e_r, char **err_r);

/* lab_engine_dir - the engine's directory (for the model's queue_dir) */
const char	*lab_engine_dir(const struct lab_engine *e);

/*
 * lab_engine_config - the configuration, which the caller may change
 * before lab_engine_start
 */
struct config	*lab_engine_config(struct lab_engine *e);

/*
 * lab_engine_start - ebbd comes up at t: the drain over pf's backend ops,
 * the pacer, drain_start (park the waiting backlog) and a first sample of
 * host. Returns 0, or -1 and *err_r.
 */
int	 lab_engine_start(struct lab_engine *e, struct pfmodel *pf,
	    struct lab_host *host, double t, char **err_r);

/* lab_engine_set_hook - fn(arg, t) after each sample from now on */
void	 lab_engine_set_hook(struct lab_engine *e, lab_engine_hook_fn *fn,
	    void *arg);

/* lab_engine_next_step - when the next step is due */
double	 lab_engine_next_step(const struct lab_engine *e);

/*
 * lab_engine_step - parent.c's step at t (>= lab_engine_next_step): a
 * sample when one is due (the host writes its fake /proc and /sys, the
 * sensors read them, the pacer ticks the governor, and every
 * LAB_ENGINE_REFRESH s the drain rescans), then the releases the budget
 * allows. Returns the number released, or -1 and *err_r.
 */
long	 lab_engine_step(struct lab_engine *e, double t, char **err_r);

/* the parts, for a caller that acts as the rest of ebbd (the milter) */
struct drain	*lab_engine_drain(struct lab_engine *e);
struct pace	*lab_engine_pace(struct lab_engine *e);
const struct sensor_sample *lab_engine_sample(const struct lab_engine *e);

/* lab_engine_stats - what it did so far into *st_r */
void	 lab_engine_stats(const struct lab_engine *e,
	    struct lab_engine_stats *st_r);

/* lab_engine_free - free *ep, remove its files, set it to NULL; NULL ok */
void	 lab_engine_free(struct lab_engine **ep);

#endif
