/*
 * governor.h - turn host pressure into a release budget
 *
 * A pure controller: one pressure sample per tick in, a budget out (release
 * rate, window, admission cutoff, critical). No I/O, no clock of its own:
 * the caller passes the time, so the same code runs in ebbd, in
 * "ebbctl sensors --watch", in "ebbctl drain" and in a simulator, and tests
 * feed it pressure traces. The algorithm is described in governor.c.
 */
#ifndef EBB_GOVERNOR_H
#define EBB_GOVERNOR_H

#include <time.h>

struct config;
struct governor;

#define GOVERNOR_FALL		0.5	/* share of a pressure fall per tick */
#define GOVERNOR_RESTART_TICKS	1	/* calm intervals before a restart */
#define GOVERNOR_GROWTH		1.5	/* rate factor per tick, slow start */
#define GOVERNOR_GAIN		0.5	/* of the rate's log per unit of p */
#define GOVERNOR_LEAD		4.0	/* s, how far ahead s's trend is read */
#define GOVERNOR_STEP_MAX	1.25	/* rate factor per tick, at most */
#define GOVERNOR_SLOWER		0.8	/* leaving below this share: a
					   bottleneck */
#define GOVERNOR_HEADROOM	1.25	/* rate over what leaves, then */
#define GOVERNOR_LATENCY	1.0	/* s, release to delivery, assumed */
#define GOVERNOR_SMOOTH		0.3	/* share of a new observation taken */
#define GOVERNOR_LATENCY_DRIFT	0.01	/* the least latency creeps up by
					   this share per observation */

/* what the controller is tuned by; plain data */
struct governor_params {
	double	 min_rate;	/* messages/s, the floor while running */
	double	 max_rate;	/* messages/s */
	long	 window;	/* messages in flight, at most */
	double	 target_low;	/* slow start ends at it */
	double	 target_high;	/* the pressure held */
	double	 increase;	/* messages/s added per tick, at most */
	double	 decrease;	/* rate factor per tick, at least; and
				   the share of it a restart takes */
	double	 critical;	/* pressure at which all new mail waits */
	double	 fall;		/* share of a fall in pressure taken per tick */
	long	 restart_hold;	/* seconds calm after a stop before restart */
};

/* the answer of one tick; plain data */
struct budget {
	double	 rate;		/* messages/s to release; 0 when stopped */
	long	 window;	/* most released, not yet delivered */
	double	 cutoff;	/* admission: 0 admit all .. 1 only urgent */
	int	 critical;	/* pressure >= critical: all new mail waits */
	int	 stopped;	/* a limit was reached; no release */
	int	 known;		/* the pressure came from a sensor */
	int	 full;		/* enum admit_full: accepting itself is
				   short (pace_sample, from the sensors) */
	long	 parked;	/* ebb's parked mail (ebbd, for the milter) */
	double	 admit_rate;	/* the governor's own rate, before an
				   operator's pause or cap: the milter's
				   gate follows it */
	double	 pressure;	/* smoothed pressure the budget was made from */
};

/*
 * governor_params_from_config - [drain] and [limits] of cfg as params;
 * fall is GOVERNOR_FALL, restart_hold GOVERNOR_RESTART_TICKS intervals.
 */
void	 governor_params_from_config(const struct config *cfg,
	    struct governor_params *params_r);

/*
 * governor_new - a governor that starts idle at min_rate; params are
 * copied (values out of range are clamped). Never NULL.
 */
struct governor	*governor_new(const struct governor_params *params);

/*
 * governor_set_params - tune g by params from now on (a reload); params
 * are copied and clamped as by governor_new. What the governor has learnt
 * is kept: the rate (moved into the new min_rate..max_rate), the smoothed
 * pressure, and a stop with its wait for calm, so a reload neither resets
 * the rate to min_rate nor ends a stop early.
 */
void	 governor_set_params(struct governor *g,
	    const struct governor_params *params);

/*
 * governor_tick - advance by one sample and fill *budget_r.
 *
 * pressure is the sample's pressure (largest sensor ratio); have_pressure
 * is 0 when no sensor was present, and then pressure is ignored (as is a
 * NaN pressure). now is seconds, with fractions, on any clock that does
 * not jump (ebbd and ebbctl drain use CLOCK_MONOTONIC); it times the
 * restart after a stop.
 */
void	 governor_tick(struct governor *g, double pressure, int have_pressure,
	    double now, struct budget *budget_r);

/*
 * governor_observe - what the drain saw since the last call, at now (the
 * clock of governor_tick): delivered messages left the queue, taking
 * latency_sum seconds together from their release, and inflight are
 * released and not yet delivered. The next tick uses it (governor.c,
 * steps 6 and 7).
 */
void	 governor_observe(struct governor *g, long delivered,
	    double latency_sum, long inflight, double now);

/*
 * governor_used - what went into the host since the last call, at now:
 * used messages, released by the drain or taken straight in by the
 * milter; idle when the drain had nothing left to release all along. An
 * idle drain's rate is limited by what arrives, not by the host, and the
 * next tick caps it at GOVERNOR_GROWTH times what was used (at least
 * min_rate), as TCP keeps an application-limited window from growing
 * (RFC 7661): a rate never used is not known to be safe, and would open
 * the milter's gate to a surge.
 */
void	 governor_used(struct governor *g, long used, int idle, double now);

/* governor_free - free *gp and set it to NULL; NULL is fine */
void	 governor_free(struct governor **gp);

#endif
