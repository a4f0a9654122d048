/*
 * bucket.c - a token bucket with time passed in
 *
 * The level is computed lazily: tokens at time last, plus rate per second
 * since, capped at burst. Floating point makes ten steps of 0.1 s at 10/s
 * come to 0.9999999999, so a token short by less than BUCKET_EPSILON still
 * counts as whole.
 */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdint.h>

#include "ebb/bucket.h"
#include "ebb/util.h"

#define BUCKET_EPSILON	1e-9

static double
sane_rate(double rate)
{
	return isfinite(rate) && rate > 0 ? rate : 0;
}

static double
sane_burst(double burst)
{
	if (isnan(burst) || burst < 1)
		return 1;
	return isinf(burst) ? DBL_MAX : burst;
}

/* level - the tokens held at now; a clock that stepped back adds none */
static double
level(const struct bucket *b, double now)
{
	double	 dt = now - b->last, t = b->tokens;

	if (dt > 0 && b->rate > 0) {	/* false for NaN too */
		t += dt * b->rate;
		if (!(t <= b->burst))
			t = b->burst;
	}
	return t;
}

/* refill - bring the bucket to now */
static void
refill(struct bucket *b, double now)
{
	b->tokens = level(b, now);
	if (!isnan(now))
		b->last = now;
}

/* whole - how many of n tokens t covers */
static size_t
whole(double t, size_t n)
{
	double	 w = floor(t + BUCKET_EPSILON);

	return w >= (double)n ? n : (size_t)MAXIMUM(w, 0.0);
}

void
bucket_init(struct bucket *b, double rate, double burst, double now)
{
	b->rate = sane_rate(rate);
	b->burst = sane_burst(burst);
	b->tokens = b->burst;
	b->last = isnan(now) ? 0 : now;
}

void
bucket_set_rate(struct bucket *b, double rate, double burst, double now)
{
	refill(b, now);
	b->rate = sane_rate(rate);
	b->burst = sane_burst(burst);
	b->tokens = MINIMUM(b->tokens, b->burst);
}

size_t
bucket_take(struct bucket *b, size_t n, double now)
{
	size_t	 k;

	refill(b, now);
	k = whole(b->tokens, n);
	b->tokens = MAXIMUM(b->tokens - (double)k, 0.0);
	return k;
}

int
bucket_take_all(struct bucket *b, size_t n, double now)
{
	refill(b, now);
	if (whole(b->tokens, n) < n)
		return 0;
	b->tokens = MAXIMUM(b->tokens - (double)n, 0.0);
	return 1;
}

size_t
bucket_tokens(const struct bucket *b, double now)
{
	return whole(level(b, now), SIZE_MAX);
}

double
bucket_wait(const struct bucket *b, double now)
{
	double	 t = level(b, now);

	if (t + BUCKET_EPSILON >= 1)
		return 0;
	if (b->rate <= 0)
		return INFINITY;
	return (1 - t) / b->rate;
}
