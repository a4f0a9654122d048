/*
 * governor.c - turn host pressure into a release budget
 *
 * The governor is a pure controller: it sees one pressure sample per tick
 * (p, the largest ratio of a sensor's value to its limit, with load and
 * temperature already looking ahead: sensor.h, "Outlook"), and what the
 * drain saw since the last tick (messages delivered, how long they took,
 * how many are in flight), and answers how fast the backlog may be
 * released, how much of it may be in flight, and how strict the milter's
 * admission is. It does no I/O and reads no clock, so a trace always gives
 * the same budgets. Its job is to find the host's safe capacity and hold
 * it, without bursts and without long stops.
 *
 * Each tick:
 *
 * 1. Smooth. s is the pressure the decisions use. A rise is taken at once
 *    (s = p when p >= s); a fall is followed a share at a time
 *    (s -= fall * (s - p), fall 0.5 by default). Its trend is how fast s
 *    moved since the last tick (ds/dt).
 *
 * 2. Stop. At s >= 1 a limit is reached, or (temperature) will be within
 *    its horizon: the rate and the window are 0 in this same tick.
 *
 * 3. Resume. While stopped, the governor waits until s has stayed below
 *    target_high for restart_hold seconds (one sample interval by
 *    default: the signals are fast, a stop lasts as long as they say),
 *    then resumes at decrease times the rate it had, at least min_rate.
 *
 * 4. Start slowly. From min_rate the rate grows by half each tick (slow
 *    start), no more than increase messages/s a tick, until s first
 *    reaches target_low or a stop.
 *
 * 5. Hold the target. Then each tick multiplies the rate by
 *    e^(GOVERNOR_GAIN * (target_high - (s + GOVERNOR_LEAD * ds/dt))),
 *    within decrease .. 1.25 and at most increase messages/s more: a
 *    gentle integral controller that holds s at target_high, on the
 *    pressure read GOVERNOR_LEAD seconds ahead. The lead is the
 *    derivative term of a PID controller: s answers a change of the rate
 *    only seconds later (the host's queue drains, the temperature's trend
 *    is smoothed over SENSOR_SLOPE_TAU), so a controller that waits for s
 *    itself to reach the target has by then released too much, overshoots
 *    into a stop, restarts at half the rate and swings between bursts and
 *    stops (outage lab, issue 13). Read ahead, a rise eases the rate
 *    while s is still below the target, and a fall (after a stop) lets
 *    it grow back sooner. The gain stays low for the same reason.
 *
 * 6. Deliveries. When the drain keeps a full window in flight and the
 *    messages leave more slowly than they are released (the MTA or the
 *    host behind it is the bottleneck, whatever the sensors say), the
 *    rate comes down to 1.25 times the rate they leave at.
 *
 * 6b. Use. While the drain has nothing left to release (an idle ebbd),
 *    the rate is capped at GOVERNOR_GROWTH times what went in lately
 *    (released plus taken straight in by the milter), at least min_rate:
 *    a rate never used is not known to be safe (RFC 7661), and the
 *    milter's gate follows the rate, so a quiet day must not leave it
 *    open at max_rate for the first surge. A surge then grows it by slow
 *    start, while the excess waits in hold.
 *
 * 7. Derive. window = rate * latency * 2 (Little's law, with room for
 *    jitter), latency being the least time from release to delivery seen
 *    lately (BBR's minimum round trip: what the path takes without a
 *    queue; GOVERNOR_LATENCY before any is measured), at least 1 while
 *    the rate is above 0, at most [drain] window, 0 when stopped. A
 *    window sized by the latency a queue has inflated would feed that
 *    queue: in the lab it grew to 400 messages on a 5 msg/s host. The admission
 *    cutoff rises linearly from 0 at s = target_low to 1 at s = 1 (0
 *    admits all mail, 1 only mail near its sender's deadline). critical
 *    is s >= [limits] critical (1.5): all new mail waits.
 *
 * The constants, and what the outage lab showed for them (ebb-lab grid:
 * 18 hosts, capacity 5/20/100 msg/s x thermal tau 10/30/120 s x base
 * load 0/0.3; "worst" is the worst cell's drain time over the safe-
 * capacity bound, "run" the most samples in a row with p >= 1 (the target
 * is at most 2); every setting below had 0 reboots, 0 bounces and 100%
 * on time):
 *   GOVERNOR_LEAD 4 s: without a lead, target_high 0.85 gave worst 1.23
 *     and 0.9 gave 1.42 (a stop every 12 s on the tau 10 s hosts: s
 *     trails the rate by about 4 s); with target_high 0.95, a lead of
 *     2 s gave 1.11 with run 5, 3 s 1.108 with run 5, 4 s 1.110 with
 *     run 2, 5 s 1.112, 6 s 1.114;
 *   target_high 0.95 (with the lead): 0.93 gave 1.13, 0.97 1.11 with run
 *     5. Steady at 0.95 the host runs at about 0.95 of its safe capacity;
 *     0.85 cost at least 1/0.85 = 1.18 of the bound by itself;
 *   GOVERNOR_GAIN 0.5: 1 gave 1.114 with run 5 (without the lead: 0.25
 *     gave 1.24, 1 and 2 1.37);
 *   the window from the least latency: from the smoothed one, pressure
 *     stayed >= 1 for 48 samples in a row on a 5 msg/s host, the window
 *     grown to 416; from the least, 2 at most anywhere;
 *   the temperature_horizon of the sensors (10 s): 1 minute gave 2.52,
 *     20 s 1.53, 10 s 1.23 (before the lead).
 * With these the worst cell (100 msg/s, tau 10 s) drains in 1.11 times
 * the bound, the default host (20 msg/s, tau 30 s) in 1.01; the
 * inbound grid's worst pipeline time went from 1.29 to 1.14 of it.
 *
 * No pressure at all (every sensor absent or broken, or a NaN sample): the
 * governor flies blind. It keeps s, releases a trickle at min_rate so mail
 * still moves, stays stopped if it was (a restart needs calm samples), and
 * says budget.known = 0 so the caller can log it once.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ebb/config.h"
#include "ebb/governor.h"
#include "ebb/util.h"

struct governor {
	struct governor_params p;
	double		 rate;		/* messages/s */
	double		 smoothed;	/* s */
	int		 started;	/* out of slow start */
	int		 stopped;
	double		 rate_stop;	/* the rate when it stopped */
	int		 calm;		/* stopped and s < target_high ... */
	double		 calm_since;	/* ... since then */
	/* what the drain saw (governor_observe) */
	double		 latency;	/* s, the least lately; 0: none */
	double		 delivered;	/* messages/s leaving, smoothed */
	double		 last_obs;	/* when the last observation came */
	int		 have_obs;	/* 0 none, -1 one, 1 a rate */
	long		 inflight;
	long		 window;	/* the last window granted */
	/* what went in (governor_used) */
	double		 used_rate;	/* messages/s, the last interval */
	double		 last_used;
	int		 have_used;	/* 0 none, -1 one call, 1 a rate */
	int		 idle;		/* the drain had nothing to release */
	/* the trend of s (step 5) */
	double		 trend;		/* ds/dt at the last tick, 1/s */
	double		 last_s;
	double		 last_tick;
	int		 have_tick;
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
	else
		g->rate_stop = clamp(g->rate_stop, g->p.min_rate,
		    g->p.max_rate);
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

/* governor_trend - step 1: how fast s moved since the last tick */
static void
governor_trend(struct governor *g, double now)
{
	if (g->have_tick && now > g->last_tick)
		g->trend = (g->smoothed - g->last_s) / (now - g->last_tick);
	else
		g->trend = 0;	/* the first tick, or the clock went back */
	g->have_tick = 1;
	g->last_s = g->smoothed;
	g->last_tick = now;
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

/* governor_grow - steps 4 and 5: the rate's change while running */
static void
governor_grow(struct governor *g)
{
	const struct governor_params *p = &g->p;
	double	 factor, rate;

	if (g->smoothed >= p->target_low)
		g->started = 1;
	if (!g->started)
		factor = GOVERNOR_GROWTH;
	else
		factor = clamp(exp(GOVERNOR_GAIN * (p->target_high -
		    (g->smoothed + GOVERNOR_LEAD * g->trend))), p->decrease,
		    GOVERNOR_STEP_MAX);
	rate = g->rate * factor;
	if (rate > g->rate + p->increase)
		rate = g->rate + p->increase;
	g->rate = clamp(rate, p->min_rate, p->max_rate);
}

/*
 * governor_bottleneck - step 6: a full window that leaves more slowly
 * than it is released is a bottleneck the sensors do not see
 */
static void
governor_bottleneck(struct governor *g)
{
	double	 cap;

	if (g->have_obs != 1 || g->window <= 0 || g->inflight < g->window ||
	    !(g->delivered < g->rate * GOVERNOR_SLOWER))
		return;
	cap = MAXIMUM(g->delivered * GOVERNOR_HEADROOM, g->p.min_rate);
	if (cap < g->rate)
		g->rate = cap;
}

/* governor_app_limit - step 6b: an idle drain's rate follows its use */
static void
governor_app_limit(struct governor *g)
{
	double	 cap;

	if (g->have_used != 1 || !g->idle)
		return;
	cap = MAXIMUM(g->used_rate * GOVERNOR_GROWTH, g->p.min_rate);
	if (cap < g->rate)
		g->rate = cap;
}

/* governor_budget - step 7 */
static void
governor_budget(struct governor *g, int known, struct budget *b)
{
	const struct governor_params *p = &g->p;
	double	 s = g->smoothed, latency;

	memset(b, 0, sizeof(*b));	/* full and parked are the caller's */
	b->rate = g->rate;
	b->admit_rate = g->rate;
	b->stopped = g->stopped;
	b->known = known;
	b->pressure = s;
	latency = g->latency > 0 ? g->latency : GOVERNOR_LATENCY;
	if (g->rate <= 0)
		b->window = 0;
	else
		b->window = (long)clamp(ceil(g->rate * latency * 2), 1,
		    (double)MAXIMUM(p->window, 1));
	g->window = b->window;
	if (s >= 1)
		b->cutoff = 1;
	else if (s <= p->target_low)
		b->cutoff = 0;
	else
		b->cutoff = (s - p->target_low) / (1 - p->target_low);
	b->critical = s >= p->critical;
}

void
governor_observe(struct governor *g, long delivered, double latency_sum,
    long inflight, double now)
{
	double	 dt, a;

	g->inflight = MAXIMUM(inflight, 0);
	/*
	 * the least latency lately, as BBR keeps the least round trip: the
	 * time through an idle path. What queueing adds on top is the host
	 * saturating; sizing the window by it would feed the queue. The
	 * least creeps up a little each look, so a path that really got
	 * slower is followed.
	 */
	if (delivered > 0 && latency_sum >= 0 && isfinite(latency_sum)) {
		a = latency_sum / (double)delivered;
		g->latency = g->latency > 0 ? MINIMUM(g->latency *
		    (1 + GOVERNOR_LATENCY_DRIFT), a) : a;
	}
	if (g->have_obs == 0 || now < g->last_obs) {
		/* a rate needs a second look */
		g->have_obs = -1;
		g->last_obs = now;
		g->delivered = -1;
		return;
	}
	if ((dt = now - g->last_obs) <= 0)
		return;
	a = (double)MAXIMUM(delivered, 0) / dt;
	g->delivered = g->delivered < 0 ? a : g->delivered +
	    GOVERNOR_SMOOTH * (a - g->delivered);
	g->have_obs = 1;
	g->last_obs = now;
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
	governor_trend(g, now);
	if (g->smoothed >= 1) {		/* a limit is reached: stop at once */
		if (!g->stopped)
			g->rate_stop = g->rate;
		g->rate = 0;
		g->stopped = 1;
		g->started = 1;
		g->calm = 0;
	} else if (g->stopped) {
		if (governor_restart(g, now)) {
			g->stopped = 0;
			g->calm = 0;
			g->rate = clamp(g->rate_stop * p->decrease, p->min_rate,
			    p->max_rate);
		}
	} else {
		governor_grow(g);
		governor_bottleneck(g);
		governor_app_limit(g);
	}
	governor_budget(g, 1, budget_r);
}

void
governor_used(struct governor *g, long used, int idle, double now)
{
	double	 dt;

	g->idle = idle != 0;
	if (g->have_used == 0 || now < g->last_used) {
		g->have_used = -1;	/* a rate needs a second look */
		g->last_used = now;
		return;
	}
	if ((dt = now - g->last_used) <= 0)
		return;
	g->used_rate = (double)MAXIMUM(used, 0) / dt;
	g->have_used = 1;
	g->last_used = now;
}

void
governor_free(struct governor **gp)
{
	if (*gp == NULL)
		return;
	free(*gp);
	*gp = NULL;
}
