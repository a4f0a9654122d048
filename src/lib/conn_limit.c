/*
 * conn_limit.c - bounds on ebbd's connections, as pure arithmetic
 *
 * See conn_limit.h: sharing the descriptor table between the listeners,
 * the rest a listener takes after accept(2) failed, and warnings that are
 * logged once a while however often their cause happens.
 */
#include "config.h"

#include "ebb/conn_limit.h"

/* shared - what the caps want take when none may exceed level */
static long double
shared(const long *want, size_t n, long level)
{
	long double	 sum = 0;
	size_t		 i;

	for (i = 0; i < n; i++)
		if (want[i] > 0)
			sum += want[i] < level ? want[i] : level;
	return sum;
}

int
conn_limit_share(long nofile, const long *want, long *got_r, size_t n)
{
	long		 lo = 1, hi = 1, mid, room = nofile / 2;
	size_t		 i;
	int		 lowered = 0;

	for (i = 0; i < n; i++) {
		got_r[i] = want[i];
		if (want[i] > hi)
			hi = want[i];
	}
	if (nofile < 1 || shared(want, n, hi) <= room)
		return 0;
	/* the highest level at which they fit; the small caps stay whole */
	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		if (shared(want, n, mid) <= room)
			lo = mid;
		else
			hi = mid - 1;
	}
	for (i = 0; i < n; i++) {
		if (want[i] > lo) {
			got_r[i] = lo;
			lowered = 1;
		}
	}
	return lowered;
}

long
conn_limit_backoff(long prev_ms)
{
	if (prev_ms < CONN_LIMIT_BACKOFF_MIN)
		return CONN_LIMIT_BACKOFF_MIN;
	if (prev_ms >= CONN_LIMIT_BACKOFF_MAX / 2)
		return CONN_LIMIT_BACKOFF_MAX;
	return prev_ms * 2;
}

int
conn_limit_warn_due(struct conn_limit_warn *w, double now, double every,
    unsigned long *held_r)
{
	if (w->logged && now - w->last < every) {
		w->held++;
		return 0;
	}
	*held_r = w->held;
	w->held = 0;
	w->last = now;
	w->logged = 1;
	return 1;
}
