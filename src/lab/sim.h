/*
 * sim.h - the outage lab's discrete-event simulation and its scorecard
 *
 * One scenario: a modelled host (lab/host.h) comes back from an outage
 * with a backlog of N messages in Postfix's deferred queue (lab/pfmodel.h),
 * all due at once, their bounce deadlines spread between two multiples of
 * N/R after the start (R: the host's capacity). The same backlog is
 * drained by one of three policies:
 *
 *	POSTFIX	Postfix on its own schedule
 *	FLUSH	the same, with "postqueue -f" every flush_interval seconds
 *	EBB	ebb's real engine (drain, pace, governor, sensors, ledger),
 *		run as ebbd's parent runs it, driving the model through
 *		ebb's backend interface and reading the host's fake /proc
 *
 * and the run is scored: on time, late, bounced, left, reboots, heat, and
 * the drain time against N/R and against the host's safe capacity.
 *
 * Deterministic: the same scenario gives the same scorecard, whatever the
 * machine, its load or its clock. EBB writes files (the fake /proc, the
 * ledger) under a temporary directory it removes.
 */
#ifndef EBB_LAB_SIM_H
#define EBB_LAB_SIM_H

#include <stdint.h>

#include "lab/host.h"
#include "lab/pfmodel.h"

struct budget;
struct sensor_sample;

enum lab_policy {
	LAB_POLICY_POSTFIX,
	LAB_POLICY_FLUSH,
	LAB_POLICY_EBB,
	LAB_POLICY_COUNT
};

/* lab_policy_name - "postfix", "flush", "ebb"; lab_policy_lookup: -1 */
const char	*lab_policy_name(enum lab_policy);
int		 lab_policy_lookup(const char *name);

/* what a trace function sees; valid during the call only */
enum lab_trace_kind {
	LAB_TRACE_SECOND,	/* every whole second of simulated time */
	LAB_TRACE_FLUSH,	/* FLUSH: just after a "postqueue -f" */
	LAB_TRACE_SAMPLE	/* EBB: just after a sensor sample */
};

struct lab_trace {
	enum lab_trace_kind kind;
	enum lab_policy	 policy;
	double		 time;
	const struct pfmodel *pf;
	const struct lab_host *host;
	const struct sensor_sample *sample;	/* SAMPLE, else NULL */
	const struct budget *budget;		/* SAMPLE, else NULL */
};

typedef void	 lab_trace_fn(void *arg, const struct lab_trace *);

/* one experiment; plain data */
struct lab_scenario {
	struct lab_host_params host;
	struct pfmodel_params postfix;
	long		 messages;	/* N, the backlog */
	double		 deadline_first; /* deadlines spread uniformly over */
	double		 deadline_last;	/* [first, last] x N/R after start */
	double		 run_limit;	/* stop at this x N/R at the latest */
	double		 flush_interval; /* s, FLUSH's postqueue -f */
	uint64_t	 seed;		/* of the deadlines */
	long		 admin_held;	/* more messages an administrator
					   holds; not in N, never released */
	const char	*tmpdir;	/* EBB's files go under it; NULL:
					   lab_sim_tmpdir() */
	const char	*config;	/* EBB's ebb.conf; NULL: the defaults
					   ([sensors] roots and the state
					   directory are the lab's) */
	lab_trace_fn	*trace;		/* NULL: none */
	void		*trace_arg;
};

/*
 * lab_scenario_default - the lab's default scenario into *sc: the default
 * host (lab_host_params_default), Postfix with the lab's times
 * (pfmodel_params_default), 2400 messages, deadlines from 1.0 to 4.0 N/R,
 * at most 6 N/R, a flush every 30 s, seed 1
 */
void	 lab_scenario_default(struct lab_scenario *sc);

/*
 * lab_scenario_check - 0 when sc can run, else -1 and an allocated message
 * naming the bad field in *err_r
 */
int	 lab_scenario_check(const struct lab_scenario *sc, char **err_r);

/*
 * lab_sim_tmpdir - where EBB's scratch files go by default: $TMPDIR when
 * set, else /dev/shm when it is a writable directory, else /tmp
 */
const char	*lab_sim_tmpdir(void);

/* the result of one run; plain data */
struct lab_scorecard {
	enum lab_policy	 policy;
	long		 messages;	/* N */
	long		 on_time;	/* delivered at or before deadline */
	long		 late;		/* delivered after it */
	long		 bounced;
	long		 left;		/* still queued at the end */
	long		 reboots;
	double		 temp_peak;	/* C */
	double		 above_passive;	/* s above the passive trip */
	double		 drain_time;	/* s, the last delivery */
	double		 end_time;	/* s, when the run stopped */
	double		 nr;		/* N / capacity, s */
	double		 safe_rate;	/* lab_host_safe_rate, msg/s */
	double		 safe_bound;	/* N / safe_rate, s */
	double		 drain_nr;	/* drain_time / nr */
	double		 drain_safe;	/* drain_time / safe_bound */
	double		 utilization;	/* host's mean, start to end */
	double		 edf_need;	/* share of capacity an EDF drain
					   from 0 needs to meet every
					   deadline (the backlog's, the same
					   for every policy) */
	struct pfmodel_stats postfix;	/* what qmgr did */
	long		 admin_held;
	long		 admin_touched;	/* admin's holds parked or released */
	long		 foreign_released; /* released, never parked by ebb */
	/* EBB only (0 otherwise) */
	long		 samples;	/* sensor samples */
	long		 pressure_run;	/* most samples in a row at p >= 1 */
	double		 pressure_max;
	long		 released;	/* by ebb's drain */
	double		 release_rate;	/* released / time of the last one */
};

/*
 * lab_sim_safe_rate - the rate, msg/s, that holds host at the highest
 * utilization it sustains below its passive trip and below ebb's limits
 * in config (NULL: the defaults): load_per_cpu, and [limits] temperature
 * or the passive trip less temperature_margin when that is lower. The
 * safe-capacity bound of N messages is N / *rate_r. Returns 0, or -1 and
 * *err_r when config cannot be loaded.
 */
int	 lab_sim_safe_rate(const struct lab_host_params *host,
	    const char *config, double *rate_r, char **err_r);

/*
 * lab_sim_run - run sc under policy and fill *card. Returns 0, or -1 and
 * *err_r (allocated): sc does not pass lab_scenario_check, or EBB's
 * engine failed (its files, the ledger).
 */
int	 lab_sim_run(const struct lab_scenario *sc, enum lab_policy policy,
	    struct lab_scorecard *card, char **err_r);

#endif
