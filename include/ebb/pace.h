/*
 * pace.h - the pacing loop of a drain: sample, govern, budget, release
 *
 * One loop for "ebbctl drain" and for ebbd: every [sensors] interval the
 * caller reads the sensors (I/O stays with it) and hands the sample to
 * pace_sample, which ticks the governor; several times a second pace_step
 * releases what the budget allows, after the operator's pause ("ebbctl
 * pause") and rate cap ("ebbctl rate", --max-rate). The pacer reads no
 * clock: mono, the monotonic clock in seconds, is passed in, and so is the
 * wall clock where the drain needs it. A reload (pace_set_params) keeps
 * what the governor has learnt.
 */
#ifndef EBB_PACE_H
#define EBB_PACE_H

#include <time.h>

#include "ebb/governor.h"

struct config;
struct drain;
struct pace;
struct sensor_sample;

/* what the pacer is tuned by; plain data */
struct pace_params {
	struct governor_params gov;
	double	 interval;	/* seconds between sensor samples, > 0 */
};

/* what a sample changed (pace_sample), for the caller's log lines */
#define PACE_STOPPED	0x01	/* a limit is reached: releases stop */
#define PACE_RESUMED	0x02	/* the governor releases again */
#define PACE_CRITICAL	0x04	/* pressure reached [limits] critical */
#define PACE_CALMER	0x08	/* pressure fell below critical again */

/* pace_params_from_config - [drain], [limits] and [sensors] interval */
void	 pace_params_from_config(const struct config *cfg,
	    struct pace_params *params_r);

/*
 * pace_new - a pacer with a new governor (idle at min_rate), not paused,
 * no cap, a sample due at once, and a budget of nothing until the first
 * sample. params are copied. Never NULL.
 */
struct pace	*pace_new(const struct pace_params *params);

/* pace_free - free *pp and set it to NULL; NULL is fine */
void	 pace_free(struct pace **pp);

/*
 * pace_set_params - use params from now on (a reload). The governor keeps
 * its rate (moved into the new min_rate..max_rate), its smoothed pressure
 * and a stop (governor_set_params); the pause, the cap and the budget stay;
 * the next sample is due one new interval after the last one.
 */
void	 pace_set_params(struct pace *p, const struct pace_params *params);

/* pace_due - 1 when a sample is due at mono (pace_next_sample), else 0 */
int	 pace_due(const struct pace *p, double mono);

/* pace_next_sample - when the next sample is due, monotonic seconds */
double	 pace_next_sample(const struct pace *p);

/*
 * pace_sample - feed the sample s taken at mono to the governor and keep
 * the budget it grants. The next sample is due an interval after the one
 * that was due, or an interval after mono when s came early or more than
 * an interval late.
 * Returns the PACE_* bits of what changed, 0 when nothing did. A stop and
 * a resume are not told while pressure is critical (critical says more).
 */
int	 pace_sample(struct pace *p, const struct sensor_sample *s,
	    double mono);

/*
 * pace_budget - the budget for releases: the governor's, with its rate 0
 * while paused and at most the cap
 */
void	 pace_budget(const struct pace *p, struct budget *b_r);

/* pace_governor_budget - the governor's own budget: no pause, no cap */
void	 pace_governor_budget(const struct pace *p, struct budget *b_r);

/* pace_pause - on 1: no releases until pace_pause(p, 0) */
void	 pace_pause(struct pace *p, int on);

/* pace_paused - 1 while paused */
int	 pace_paused(const struct pace *p);

/* pace_set_cap - release at most rate messages/s; 0 (or less): no cap */
void	 pace_set_cap(struct pace *p, double rate);

/* pace_cap - the cap in messages/s; 0: none */
double	 pace_cap(const struct pace *p);

/*
 * pace_step - one release step: drain_tick of d with pace_budget, mono
 * (monotonic) and now (wall clock). Returns what drain_tick returns: the
 * number released, or -1 and *err_r.
 */
long	 pace_step(struct pace *p, struct drain *d, double mono, time_t now,
	    char **err_r);

/*
 * pace_admitted - n messages went straight into the queue (the milter's
 * gate): they count with the releases as what the host was given, for
 * the governor's cap on an idle drain (governor_used).
 */
void	 pace_admitted(struct pace *p, long n);

#endif
