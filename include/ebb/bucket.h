/*
 * bucket.h - a token bucket: at most rate events per second, burst at once
 *
 * The drain paces its releases with one, and the milter gives each client a
 * minimum trickle with one per client. The bucket is plain data, pure and
 * cheap (no allocation, no clock): time is passed in as seconds in a double
 * from any monotonic clock, and a clock that steps back is taken as no time
 * passing. Tokens are fractional; only whole ones are handed out.
 */
#ifndef EBB_BUCKET_H
#define EBB_BUCKET_H

#include <stddef.h>

struct bucket {
	double	 rate;		/* tokens per second, >= 0 */
	double	 burst;		/* most tokens held, >= 1 */
	double	 tokens;	/* held at time last, 0..burst */
	double	 last;		/* when tokens was computed */
};

/*
 * bucket_init - a full bucket at now. A rate that is negative, NaN or
 * infinite counts as 0 (no refill); a burst below 1 (or NaN) counts as 1, so
 * that a token can be handed out at all; an infinite one as the largest
 * double.
 */
void	bucket_init(struct bucket *, double rate, double burst, double now);

/*
 * bucket_set_rate - change rate and burst at now: the tokens earned so far
 * at the old rate are kept, and cut to the new burst. Same clamps as
 * bucket_init.
 */
void	bucket_set_rate(struct bucket *, double rate, double burst, double now);

/*
 * bucket_take - take up to n whole tokens at now; returns how many were
 * granted, 0 to n (the drain releases that many).
 */
size_t	bucket_take(struct bucket *, size_t n, double now);

/* bucket_take_all - take n tokens if all n are there: 1, else 0 and none */
int	bucket_take_all(struct bucket *, size_t n, double now);

/* bucket_tokens - the whole tokens there at now, taking none */
size_t	bucket_tokens(const struct bucket *, double now);

/*
 * bucket_wait - seconds from now until a token is there: 0 when one is,
 * INFINITY when the rate is 0 and the bucket is empty.
 */
double	bucket_wait(const struct bucket *, double now);

#endif
