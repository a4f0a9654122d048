/*
 * listen_guard.c - a listening socket that never spins and never takes
 * every file descriptor
 *
 * See listen_guard.h. The listener is enabled exactly when the guard is
 * not resting and below its cap (update). libevent calls a listener's
 * error callback with the listener's user data, which for evhttp's
 * listener is evhttp's own, so the guards are found by listener in a
 * small table instead.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "ebb/conn_limit.h"
#include "ebb/log.h"
#include "ebb/util.h"
#include "listen_guard.h"

#define GUARDS_MAX	8		/* listeners of one process */

struct listen_guard {
	struct evconnlistener	*lev;	/* NULL once freed by its owner */
	struct event		*ev_rest;
	const char		*name;
	size_t			 max;
	size_t			 open;
	int			 enabled;	/* lev accepts */
	int			 resting;	/* after a failed accept */
	long			 rest_ms;	/* the last rest, 0: none */
	struct conn_limit_warn	 warn_accept;
	struct conn_limit_warn	 warn_cap;
};

static struct listen_guard *guards[GUARDS_MAX];

/* held_text - " (N more since, not logged)", or "" when none */
static const char *
held_text(unsigned long held)
{
	static char	 buf[64];

	if (held == 0)
		return "";
	snprintf(buf, sizeof(buf), " (%lu more since, not logged)", held);
	return buf;
}

/* update - accept exactly when not resting and below the cap */
static void
update(struct listen_guard *g)
{
	int	 want;

	if (g->lev == NULL)
		return;
	want = !g->resting && g->open < g->max;
	if (want == g->enabled)
		return;
	if (want)
		evconnlistener_enable(g->lev);
	else
		evconnlistener_disable(g->lev);
	g->enabled = want;
}

static void
on_rest_over(evutil_socket_t fd, short ev, void *arg)
{
	struct listen_guard *g = arg;

	(void)fd;
	(void)ev;
	g->resting = 0;
	update(g);
}

/*
 * on_accept_error - accept(2) failed with something else than EAGAIN,
 * EINTR or ECONNABORTED (libevent retries those itself): trying again at
 * once would fail again at once, so rest
 */
static void
on_accept_error(struct evconnlistener *lev, void *arg)
{
	struct listen_guard *g = NULL;
	struct timeval	 tv;
	unsigned long	 held;
	size_t		 i;
	int		 err = errno;

	(void)arg;
	for (i = 0; i < GUARDS_MAX; i++)
		if (guards[i] != NULL && guards[i]->lev == lev)
			g = guards[i];
	if (g == NULL) {
		evconnlistener_disable(lev);	/* not ours: never spin */
		return;
	}
	g->rest_ms = conn_limit_backoff(g->rest_ms);
	g->resting = 1;
	update(g);
	tv.tv_sec = g->rest_ms / 1000;
	tv.tv_usec = (g->rest_ms % 1000) * 1000;
	evtimer_add(g->ev_rest, &tv);
	if (conn_limit_warn_due(&g->warn_accept, ebb_now_mono(),
	    CONN_LIMIT_WARN_EVERY, &held))
		log_warn("%s: accept: %s: not accepting for %ld ms, %zu "
		    "connections open%s", g->name, strerror(err), g->rest_ms,
		    g->open, held_text(held));
}

struct listen_guard *
listen_guard_new(struct event_base *base, struct evconnlistener *lev,
    const char *name, size_t max)
{
	struct listen_guard *g;
	size_t		 i;

	g = xcalloc(1, sizeof(*g));
	g->lev = lev;
	g->name = name;
	g->max = max > 0 ? max : 1;
	g->enabled = 1;			/* a new listener accepts */
	if ((g->ev_rest = evtimer_new(base, on_rest_over, g)) == NULL)
		log_fatal("%s: cannot make a timer", name);
	for (i = 0; i < GUARDS_MAX; i++)
		if (guards[i] == NULL)
			break;
	if (i == GUARDS_MAX)
		log_panic("listen_guard: more than %d listeners", GUARDS_MAX);
	guards[i] = g;
	evconnlistener_set_error_cb(lev, on_accept_error);
	return g;
}

void
listen_guard_opened(struct listen_guard *g)
{
	unsigned long	 held;

	g->open++;
	g->rest_ms = 0;			/* accept works again */
	if (g->open >= g->max && g->lev != NULL) {
		if (conn_limit_warn_due(&g->warn_cap, ebb_now_mono(),
		    CONN_LIMIT_WARN_EVERY, &held))
			log_warn("%s: %zu connections, the most allowed: new "
			    "ones wait until one ends%s", g->name, g->open,
			    held_text(held));
	}
	update(g);
}

void
listen_guard_closed(struct listen_guard *g)
{
	if (g->open == 0)
		log_panic("%s: a connection closed twice", g->name);
	g->open--;
	if (g->lev == NULL) {
		if (g->open == 0)
			free(g);	/* the owner is gone: the last one */
		return;
	}
	update(g);
}

size_t
listen_guard_count(const struct listen_guard *g)
{
	return g->open;
}

void
listen_guard_free(struct listen_guard **gp)
{
	struct listen_guard *g = *gp;
	size_t		 i;

	if (g == NULL)
		return;
	*gp = NULL;
	for (i = 0; i < GUARDS_MAX; i++)
		if (guards[i] == g)
			guards[i] = NULL;
	evconnlistener_set_error_cb(g->lev, NULL);
	event_free(g->ev_rest);
	g->ev_rest = NULL;
	g->lev = NULL;
	if (g->open == 0)
		free(g);
}
