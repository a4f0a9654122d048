/*
 * conn_limit.h - bounds on ebbd's connections, as pure arithmetic
 *
 * ebbd's unprivileged child serves the control socket and the HTTP
 * endpoint on one libevent loop, and the milter on libmilter's threads,
 * all out of one table of file descriptors (RLIMIT_NOFILE). libmilter has
 * no connection cap of its own and spins when accept(2) fails, so the
 * listeners ebbd owns must never take every descriptor: their caps are
 * fitted into half the table (conn_limit_share), the other half is the
 * milter's and the rest of the process's. When accept(2) fails all the
 * same (descriptors taken by the milter's clients, the system's file
 * table full), a listener rests a moment instead of trying again at once
 * (conn_limit_backoff) and says so at most once a while
 * (conn_limit_warn_due). The daemon applies these (listen_guard.h).
 */
#ifndef EBB_CONN_LIMIT_H
#define EBB_CONN_LIMIT_H

#include <stddef.h>

#define CONN_LIMIT_BACKOFF_MIN	100	/* ms, the first rest */
#define CONN_LIMIT_BACKOFF_MAX	1000	/* ms, the longest */
#define CONN_LIMIT_WARN_EVERY	60.0	/* seconds between warnings */

/*
 * conn_limit_share - fit n connection caps into nofile descriptors: want[i]
 * is what the configuration asks (0: a listener that is off), got_r[i]
 * what may be used. When their sum is at most half of nofile, got_r is
 * want; else the largest caps are lowered to one level, the highest at
 * which the sum fits (small caps stay whole), and never below 1. nofile
 * below 1 (no limit known) changes nothing. Returns 1 when a cap was
 * lowered, else 0.
 */
int	conn_limit_share(long nofile, const long *want, long *got_r,
	    size_t n);

/*
 * conn_limit_backoff - how long a listener rests after accept(2) failed,
 * in ms, given the rest it took after the previous failure in a row (0
 * for the first): CONN_LIMIT_BACKOFF_MIN, doubling each time up to
 * CONN_LIMIT_BACKOFF_MAX.
 */
long	conn_limit_backoff(long prev_ms);

/* a warning that may be logged at most once a period; zero it to start */
struct conn_limit_warn {
	double		 last;		/* when it was last logged */
	unsigned long	 held;		/* not logged since */
	int		 logged;	/* it was logged at least once */
};

/*
 * conn_limit_warn_due - the warning happened again at now (seconds, any
 * clock that does not go back): 1 when it may be logged, with *held_r the
 * number of times it happened since it was last logged and not logged;
 * 0 when it is held back (counted). The first time is always logged,
 * then at most once every "every" seconds.
 */
int	conn_limit_warn_due(struct conn_limit_warn *, double now,
	    double every, unsigned long *held_r);

#endif
