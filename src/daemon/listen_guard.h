/*
 * listen_guard.h - a listening socket that never spins and never takes
 * every file descriptor
 *
 * ebbd's child wraps each of its libevent listeners (the control socket,
 * the HTTP endpoint) in a guard:
 *
 *	a cap     at most max connections at once; at the cap the listener
 *	          stops accepting until one closes, and new clients wait in
 *	          the kernel's backlog (each connection has an idle timeout,
 *	          so the wait is bounded)
 *	a rest    when accept(2) fails (no descriptor left, EMFILE or
 *	          ENFILE, no memory, any other error) the listener stops for
 *	          CONN_LIMIT_BACKOFF_MIN ms, doubling while it keeps failing,
 *	          up to CONN_LIMIT_BACKOFF_MAX, instead of trying again at
 *	          once; a warning is logged once a minute at most, with how
 *	          many were held back (conn_limit.h)
 *
 * The owner tells the guard of each connection it takes and of each that
 * ends. A guard may outlive its owner's loop teardown: connections that
 * end after listen_guard_free still call listen_guard_closed, and the last
 * of them frees it.
 */
#ifndef EBB_LISTEN_GUARD_H
#define EBB_LISTEN_GUARD_H

#include <stddef.h>

struct event_base;
struct evconnlistener;
struct listen_guard;

/*
 * listen_guard_new - guard lev, named name in log lines ("http",
 * "control"; not copied), serving at most max connections (at least 1).
 * Sets lev's error callback. Never NULL.
 */
struct listen_guard *listen_guard_new(struct event_base *,
		    struct evconnlistener *lev, const char *name, size_t max);

/* listen_guard_opened - a connection was accepted and is now served */
void		 listen_guard_opened(struct listen_guard *);

/* listen_guard_closed - a connection from listen_guard_opened ended */
void		 listen_guard_closed(struct listen_guard *);

/* listen_guard_count - connections open now */
size_t		 listen_guard_count(const struct listen_guard *);

/*
 * listen_guard_free - stop guarding (the listener itself is the caller's
 * to free, after this) and set *gp to NULL; the guard's memory goes when
 * its last connection closes. NULL is fine.
 */
void		 listen_guard_free(struct listen_guard **gp);

#endif
