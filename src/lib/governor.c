/*
 * governor.c - turn host pressure into a release budget
 *
 * The governor is a pure controller: it sees one pressure sample per tick
 * (p, the largest ratio of a sensor's value to its limit) and answers how
 * fast the backlog may be released, how much of it may be in flight, and
 * how strict the milter's admission is. It does no I/O and reads no clock,
 * so a pressure trace always gives the same budgets.
 *
 * Each tick:
 *
 * 1. Smooth. s is the pressure the decisions use. A rise is taken at once
 *    (s = p when p >= s); a fall is followed a share at a time
 *    (s -= fall * (s - p), fall 0.3 by default), so one calm sample between
 *    loaded ones does not undo a decrease: the rate cannot flap.
 *
 * 2. Stop. At s >= 1 some limit is reached: the rate and the window are 0
 *    in this same tick, and the governor is stopped.
 *
 * 3. Restart cautiously. While stopped, the governor waits until s has
 *    stayed below target_high for restart_hold seconds (5 sample intervals
 *    by default; s at or above target_high starts the wait again), then
 *    resumes at min_rate, not at the rate it had before the stop.
 *
 * 4. AIMD. Running, above the band (s > target_high) the rate is multiplied
 *    by decrease, never below min_rate; below it (s < target_low) increase
 *    is added, never above max_rate; inside the band the rate holds.
 *
 * 5. Derive. window = [drain] window * rate / max_rate, rounded, at least 1
 *    while the rate is above 0, and 0 when stopped. The admission cutoff
 *    rises linearly from 0 at s = target_low to 1 at s = 1 (0 admits all
 *    mail, 1 only mail near its sender's deadline). critical is
 *    s >= [limits] critical (1.5): all new mail waits.
 *
 * No pressure at all (every sensor absent or broken, or a NaN sample): the
 * governor flies blind. It keeps s, releases a trickle at min_rate so mail
 * still moves, stays stopped if it was (a restart needs calm samples), and
 * says budget.known = 0 so the caller can log it once.
 *
 * A reload (governor_set_params) takes new parameters and keeps the state:
 * the rate, moved into the new min_rate..max_rate, the smoothed pressure
 * and a stop with its wait for calm. A governor made afresh would forget
 * them, jump back to min_rate and restart without the wait.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "ebb/config.h"
#include "ebb/governor.h"
#include "ebb/util.h"

struct governor {
	struct governor_params p;
	double		 rate;		/* messages/s */
	double		 smoothed;	/* s */
	int		 stopped;
	int		 calm;		/* stopped and s < target_high ... */
	double		 calm_since;	/* ... since then */
};

void
governor_params_from_config(const struct config *cfg,
    struct governor_params *params_r)
{
	params_r->min_rate = cfg->min_rate;
	params_r->max_rate = cfg->max_rate;
	params_r->window = cfg->window;
	params_r->target_low = cfg->target_low;
	params_r->target_high = cfg->target_high;
	params_r->increase = cfg->increase;
	params_r->decrease = cfg->decrease;
	params_r->critical = cfg->critical;
	params_r->fall = GOVERNOR_FALL;
	params_r->restart_hold = GOVERNOR_RESTART_TICKS *
	    (cfg->interval > 0 ? cfg->interval : 1);
}

/* clamp - v within lo..hi; NaN becomes lo */
static double
clamp(double v, double lo, double hi)
{
	if (!(v >= lo))
		return lo;
	return v > hi ? hi : v;
}

/* governor_clamp_params - bring values out of range back into it */
static void
governor_clamp_params(struct governor_params *p)
{
	p->max_rate = clamp(p->max_rate, 0, HUGE_VAL);
	p->min_rate = clamp(p->min_rate, 0, p->max_rate);
	p->window = MAXIMUM(p->window, 0);
	p->target_high = clamp(p->target_high, 0, 1);
	p->target_low = clamp(p->target_low, 0, p->target_high);
	p->increase = clamp(p->increase, 0, HUGE_VAL);
	p->decrease = clamp(p->decrease, 0, 1);
	p->critical = clamp(p->critical, 1, HUGE_VAL);
	if (!(p->fall > 0 && p->fall <= 1))
		p->fall = GOVERNOR_FALL;
	p->restart_hold = MAXIMUM(p->restart_hold, 0);
}

struct governor *
governor_new(const struct governor_params *params)
{
	struct governor	*g;

	g = xcalloc(1, sizeof(*g));
	g->p = *params;
	governor_clamp_params(&g->p);
	g->rate = g->p.min_rate;
	return g;
}

void
governor_set_params(struct governor *g, const struct governor_params *params)
{
	g->p = *params;
	governor_clamp_params(&g->p);
	/* stopped stays stopped: the restart waits for calm as before */
	if (!g->stopped)
		g->rate = clamp(g->rate, g->p.min_rate, g->p.max_rate);
}

/* governor_smooth - step 1: rises at once, falls a share per tick */
static void
governor_smooth(struct governor *g, double pressure)
{
	if (pressure < 0)
		pressure = 0;
	if (pressure >= g->smoothed)
		g->smoothed = pressure;
	else
		g->smoothed -= g->p.fall * (g->smoothed - pressure);
}

/* governor_restart - step 3: true once calm has lasted restart_hold */
static int
governor_restart(struct governor *g, double now)
{
	if (g->smoothed >= g->p.target_high) {
		g->calm = 0;
		return 0;
	}
	if (!g->calm || now < g->calm_since) {
		g->calm = 1;
		g->calm_since = now;
	}
	return now - g->calm_since >= g->p.restart_hold;
}

/* governor_budget - step 5 */
static void
governor_budget(const struct governor *g, int known, struct budget *b)
{
	const struct governor_params *p = &g->p;
	double	 s = g->smoothed;

	b->rate = g->rate;
	b->stopped = g->stopped;
	b->known = known;
	b->pressure = s;
	if (g->rate <= 0)
		b->window = 0;
	else if (p->max_rate <= 0)
		b->window = p->window;
	else
		b->window = MAXIMUM(1, lround(p->window * g->rate /
		    p->max_rate));
	if (s >= 1)
		b->cutoff = 1;
	else if (s <= p->target_low)
		b->cutoff = 0;
	else
		b->cutoff = (s - p->target_low) / (1 - p->target_low);
	b->critical = s >= p->critical;
}

void
governor_tick(struct governor *g, double pressure, int have_pressure,
    double now, struct budget *budget_r)
{
	const struct governor_params *p = &g->p;
	int	 known = have_pressure && !isnan(pressure);

	if (!known) {			/* blind: a trickle, no restart */
		if (!g->stopped)
			g->rate = p->min_rate;
		governor_budget(g, 0, budget_r);
		return;
	}
	governor_smooth(g, pressure);
	if (g->smoothed >= 1) {		/* a limit is reached: stop at once */
		g->rate = 0;
		g->stopped = 1;
		g->calm = 0;
	} else if (g->stopped) {
		if (governor_restart(g, now)) {
			g->stopped = 0;
			g->calm = 0;
			g->rate = p->min_rate;
		}
	} else if (g->smoothed > p->target_high) {
		g->rate = MAXIMUM(g->rate * p->decrease, p->min_rate);
	} else if (g->smoothed < p->target_low) {
		g->rate = MINIMUM(g->rate + p->increase, p->max_rate);
	}
	governor_budget(g, 1, budget_r);
}

void
governor_free(struct governor **gp)
{
	if (*gp == NULL)
		return;
	free(*gp);
	*gp = NULL;
}
