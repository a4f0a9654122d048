/*
 * pace.c - the pacing loop of a drain: sample, govern, budget, release
 *
 * ebbd and "ebbctl drain" both run the same loop, and run it through this
 * file so that they cannot drift apart:
 *
 *	every interval	the caller reads the sensors; pace_sample ticks the
 *			governor and keeps its budget
 *	every step	pace_step: drain_tick with that budget, after the
 *			operator's pause and rate cap
 *
 * Everything here is timed by the monotonic clock the caller passes in, so
 * a step of the wall clock (NTP, an administrator) neither bursts nor
 * stalls releases. The governor lives as long as the pacer: a reload tunes
 * it (governor_set_params) instead of making a new one, which would drop
 * the rate to min_rate and end a stop without its wait for calm.
 */
#include "config.h"

#include <stdlib.h>

#include "ebb/admit.h"
#include "ebb/config.h"
#include "ebb/drain.h"
#include "ebb/governor.h"
#include "ebb/pace.h"
#include "ebb/sensor.h"
#include "ebb/util.h"

struct pace {
	struct pace_params params;
	struct governor	*gov;
	struct budget	 budget;	/* the governor's, uncapped */
	double		 next;		/* next sample due, monotonic */
	int		 sampled;	/* next is set */
	int		 stopped;	/* as last told (PACE_STOPPED) */
	int		 critical;	/* as last told (PACE_CRITICAL) */
	int		 paused;	/* "ebbctl pause" */
	double		 cap;		/* messages/s; 0: none */
	long		 delivered;	/* since the last sample (feedback) */
	double		 latency;
	long		 inflight;
	long		 used;		/* released + admitted, this interval */
	int		 stepped;	/* a step ran this interval ... */
	int		 idle;		/* ... and every one found nothing */
};

void
pace_params_from_config(const struct config *cfg, struct pace_params *params_r)
{
	governor_params_from_config(cfg, &params_r->gov);
	params_r->interval = cfg->interval > 0 ? (double)cfg->interval : 1;
}

/* pace_interval - the interval of params, 1 s unless it is above 0 */
static double
pace_interval(const struct pace_params *params)
{
	return params->interval > 0 ? params->interval : 1;
}

struct pace *
pace_new(const struct pace_params *params)
{
	struct pace	*p;

	p = xcalloc(1, sizeof(*p));
	p->params = *params;
	p->params.interval = pace_interval(params);
	p->gov = governor_new(&params->gov);
	return p;
}

void
pace_free(struct pace **pp)
{
	if (*pp == NULL)
		return;
	governor_free(&(*pp)->gov);
	free(*pp);
	*pp = NULL;
}

void
pace_set_params(struct pace *p, const struct pace_params *params)
{
	double	 interval = pace_interval(params);

	governor_set_params(p->gov, &params->gov);
	if (p->sampled)
		p->next += interval - p->params.interval;
	p->params = *params;
	p->params.interval = interval;
}

int
pace_due(const struct pace *p, double mono)
{
	return !p->sampled || mono >= p->next;
}

double
pace_next_sample(const struct pace *p)
{
	return p->sampled ? p->next : 0;
}

/*
 * pace_full - whether accepting mail itself is short: the queue disk or
 * memory at its limit (the milter then refuses all mail; admit.h)
 */
static int
pace_full(const struct sensor_sample *s)
{
	const struct sensor_reading *disk = &s->r[SENSOR_QUEUE_DISK];
	const struct sensor_reading *mem = &s->r[SENSOR_MEMORY];

	if (disk->present && disk->ratio >= 1)
		return ADMIT_FULL_DISK;
	if (mem->present && mem->ratio >= 1)
		return ADMIT_FULL_MEMORY;
	return ADMIT_FULL_NONE;
}

int
pace_sample(struct pace *p, const struct sensor_sample *s, double mono)
{
	int	 changed = 0;

	/* what the released mail did is the governor's fastest signal */
	governor_observe(p->gov, p->delivered, p->latency, p->inflight, mono);
	governor_used(p->gov, p->used, p->stepped && p->idle, mono);
	p->delivered = 0;
	p->latency = 0;
	p->used = 0;
	p->stepped = 0;
	governor_tick(p->gov, s->pressure, s->npresent > 0, mono, &p->budget);
	p->budget.full = pace_full(s);
	/*
	 * keep the cadence of samples taken when due, so a step that comes
	 * a little late does not delay all that follow; one taken early, or
	 * more than an interval late, starts the cadence again from mono
	 */
	if (!p->sampled || mono < p->next ||
	    mono >= p->next + p->params.interval)
		p->next = mono + p->params.interval;
	else
		p->next += p->params.interval;
	p->sampled = 1;
	if (p->budget.critical != p->critical) {
		p->critical = p->budget.critical;
		changed |= p->critical ? PACE_CRITICAL : PACE_CALMER;
	}
	if (!p->critical && p->budget.stopped != p->stopped) {
		p->stopped = p->budget.stopped;
		changed |= p->stopped ? PACE_STOPPED : PACE_RESUMED;
	}
	return changed;
}

void
pace_budget(const struct pace *p, struct budget *b_r)
{
	*b_r = p->budget;
	if (p->paused)
		b_r->rate = 0;
	else if (p->cap > 0 && b_r->rate > p->cap)
		b_r->rate = p->cap;
}

void
pace_governor_budget(const struct pace *p, struct budget *b_r)
{
	*b_r = p->budget;
}

void
pace_pause(struct pace *p, int on)
{
	p->paused = on != 0;
}

int
pace_paused(const struct pace *p)
{
	return p->paused;
}

void
pace_set_cap(struct pace *p, double rate)
{
	p->cap = rate > 0 ? rate : 0;
}

double
pace_cap(const struct pace *p)
{
	return p->cap;
}

long
pace_step(struct pace *p, struct drain *d, double mono, time_t now,
    char **err_r)
{
	struct budget	 b;
	double		 latency;
	long		 n, delivered, inflight;

	pace_budget(p, &b);
	n = drain_tick(d, &b, mono, now, err_r);
	/* gathered for the next sample's governor_observe */
	drain_feedback(d, &delivered, &latency, &inflight);
	p->delivered += delivered;
	p->latency += latency;
	p->inflight = inflight;
	if (n > 0)
		p->used += n;
	p->idle = (p->stepped ? p->idle : 1) && drain_idle(d);
	p->stepped = 1;
	return n;
}

void
pace_admitted(struct pace *p, long n)
{
	if (n > 0)
		p->used += n;
}
