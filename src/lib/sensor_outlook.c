/*
 * sensor_outlook.c - the pressure from where load and heat are heading
 *
 * The readings of one sample say where the host is; the governor needs to
 * know where it is going, soon enough to act before a limit is crossed and
 * without waiting for a lagging average to decay once the host is calm.
 * sensor_outlook turns the load and temperature readings into ratios that
 * look ahead, as sensor.h ("Outlook") describes, and carries what that
 * takes (smoothed running tasks, the temperature's trend and baseline) in
 * the sample for the next one. Pure: the time is passed in.
 *
 * Why the temperature rule is safe. For a zone that heats and cools like a
 * first-order system, dT/dt = (Teq - T) / tau, where Teq follows the work
 * put in at once. Keeping T + H dT/dt below the limit L means dT/dt <=
 * (L - T) / H: T may approach L no faster than an exponential with time
 * constant H, so it never crosses L (a control barrier), whatever tau is.
 * Early on, far below L, it allows a fast rise: a host's thermal inertia is
 * headroom to use, not only a lag to fear.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ebb/config.h"
#include "ebb/sensor.h"
#include "ebb/util.h"

/* smooth - one step of an exponential average with time constant tau */
static double
smooth(double avg, double v, double dt, double tau)
{
	if (!(dt > 0))
		return avg;
	return avg + (1 - exp(-dt / tau)) * (v - avg);
}

/* outlook_load - the smaller of the 1-minute average and the run queue */
static void
outlook_load(const struct sensor_trend *was, double dt,
    struct sensor_reading *r, struct sensor_trend *t)
{
	double	 running, eff;

	t->running = -1;
	if (!r->present || r->ncpu <= 0 || r->running < 0)
		return;
	/* a rise is taken at once (the average still has to agree), a
	   fall over SENSOR_RUNNING_TAU: one idle instant is not calm */
	running = was != NULL && was->running >= 0 &&
	    r->running < was->running ?
	    smooth(was->running, r->running, dt, SENSOR_RUNNING_TAU) :
	    r->running;
	t->running = running;
	eff = MINIMUM(r->load1, running);
	r->value = eff / (double)r->ncpu;
	r->ratio = sensor_ratio(SENSOR_LOAD, r->value, r->limit);
	snprintf(r->detail, sizeof(r->detail), "%ld cpu%s, loadavg %.2f, "
	    "running %.1f", r->ncpu, r->ncpu == 1 ? "" : "s", r->load1,
	    running);
}

/* outlook_temperature - the share of headroom used H seconds from now */
static void
outlook_temperature(const struct config *cfg, const struct sensor_trend *was,
    double dt, struct sensor_reading *r, struct sensor_trend *t)
{
	double	 temp = r->value, limit = r->limit, base, slope = 0, ahead;
	double	 room, now_ratio;

	t->temp = NAN;
	t->slope = 0;
	t->base = NAN;
	if (!r->present || !(limit > 0))
		return;
	if (cfg->temperature_idle > 0)
		base = cfg->temperature_idle;
	else if (was != NULL && !isnan(was->base))
		base = MINIMUM(was->base, temp);
	else
		base = temp;
	if (was != NULL && !isnan(was->temp) && dt > 0)
		slope = smooth(was->slope, (temp - was->temp) / dt, dt,
		    SENSOR_SLOPE_TAU);
	t->temp = temp;
	t->slope = slope;
	t->base = base;
	/* too hot to learn an idle baseline: assume the least headroom */
	base = MINIMUM(base, limit - SENSOR_HEADROOM_MIN);
	room = limit - base;
	ahead = temp + (double)cfg->temperature_horizon * slope;
	r->ratio = (ahead - base) / room;
	now_ratio = (temp - base) / room;
	if (temp >= limit && r->ratio < now_ratio)
		r->ratio = now_ratio;
	if (!(r->ratio >= 0))
		r->ratio = 0;
	if (r->ratio > SENSOR_RATIO_MAX)
		r->ratio = SENSOR_RATIO_MAX;
}

void
sensor_outlook(const struct config *cfg, const struct sensor_sample *prev,
    double mono, struct sensor_sample *s)
{
	const struct sensor_trend *was = NULL;
	double	 dt = 0;

	if (prev != NULL && prev->trend.have) {
		was = &prev->trend;
		dt = mono - was->mono;
		if (!(dt > 0))		/* the clock went back: start over */
			was = NULL;
	}
	memset(&s->trend, 0, sizeof(s->trend));
	s->trend.have = 1;
	s->trend.mono = mono;
	outlook_load(was, dt, &s->r[SENSOR_LOAD], &s->trend);
	outlook_temperature(cfg, was, dt, &s->r[SENSOR_TEMPERATURE],
	    &s->trend);
	sensor_sample_pressure(s);
}
