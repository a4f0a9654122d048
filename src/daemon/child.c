/*
 * child.c - ebbd's unprivileged process: the control socket
 *
 * Runs as [general] user on one libevent loop. Each ebbctl connection
 * writes request lines (control.h); each line is parsed and checked here,
 * turned into one packet for the parent (priv_proto.h) and answered with
 * the parent's answer, in order. A client has one request in flight at a
 * time; the parent answers in the order it was asked, so a queue of the
 * waiting clients pairs answers with clients. Bounded everywhere: a line
 * of more than CONTROL_LINE_MAX bytes is refused and the connection
 * closed, at most [control] max_connections connections (more wait in
 * the kernel's backlog: listen_guard.h), each idle at most [control]
 * idle_timeout.
 *
 * When the parent goes away (its end of the socketpair closes), the child
 * finishes writing what it has and exits.
 *
 * With [milter] enable it also runs the milter (child_milter.c): the
 * parent's PRIV_BUDGET notices go there, not to a waiting client.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "ebb/config.h"
#include "ebb/conn_limit.h"
#include "ebb/control.h"
#include "ebb/log.h"
#include "ebb/util.h"
#include "child_milter.h"
#include "ebbd.h"
#include "http.h"
#include "listen_guard.h"
#include "priv_proto.h"

struct client {
	struct child		*c;
	struct bufferevent	*bev;
	int			 waiting;	/* an answer is due */
	int			 closing;	/* close once written */
};

struct child {
	struct event_base	*base;
	struct evconnlistener	*listener;
	struct listen_guard	*guard;
	struct event		*ev_priv;
	int			 privfd;
	struct timeval		 idle;
	size_t			 max_clients;
	size_t			 nclients;
	/* clients waiting for the parent, oldest first (NULL: gone) */
	struct client		**pending;	/* max_clients of them */
	size_t			 npending;
};

static void
client_free(struct client *cl)
{
	struct child	*c = cl->c;
	size_t		 i;

	for (i = 0; i < c->npending; i++)
		if (c->pending[i] == cl)
			c->pending[i] = NULL;
	bufferevent_free(cl->bev);
	c->nclients--;
	listen_guard_closed(c->guard);
	free(cl);
}

/* client_write - one answer line; close after it when closing is set */
static void
client_write(struct client *cl, const char *text)
{
	struct evbuffer	*out = bufferevent_get_output(cl->bev);

	evbuffer_add(out, text, strlen(text));
	evbuffer_add(out, "\n", 1);
}

static void
client_error(struct client *cl, const char *why, int close_after)
{
	char	*text = control_error_reply(why);

	client_write(cl, text);
	free(text);
	if (close_after) {
		cl->closing = 1;
		bufferevent_disable(cl->bev, EV_READ);
	}
}

/* ask_parent - forward one checked request; the answer comes to on_priv */
static void
ask_parent(struct client *cl, const struct control_request *r)
{
	static unsigned char buf[PRIV_MSG_MAX];
	struct child	*c = cl->c;
	size_t		 n;

	if (c->npending == c->max_clients) {
		client_error(cl, "busy", 1);
		return;
	}
	if ((n = priv_encode_request(r, buf, sizeof(buf))) == 0) {
		client_error(cl, "request refused", 0);
		return;
	}
	if (send(c->privfd, buf, n, MSG_NOSIGNAL) == -1) {
		client_error(cl, "ebbd is stopping", 1);
		return;
	}
	c->pending[c->npending++] = cl;
	cl->waiting = 1;
	bufferevent_disable(cl->bev, EV_READ);
}

static void
on_client_read(struct bufferevent *bev, void *arg)
{
	struct client	*cl = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	struct control_request req;
	size_t		 len;
	char		*line, *err = NULL;

	while (!cl->waiting && !cl->closing) {
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
		if (line == NULL) {
			if (evbuffer_get_length(in) >= CONTROL_LINE_MAX)
				client_error(cl, "request too long", 1);
			return;
		}
		if (len >= CONTROL_LINE_MAX)
			client_error(cl, "request too long", 1);
		else if (control_request_parse(line, len, &req, &err) == -1) {
			client_error(cl, err, 0);
			free(err);
			err = NULL;
		} else
			ask_parent(cl, &req);
		free(line);
	}
}

static void
on_client_write(struct bufferevent *bev, void *arg)
{
	struct client	*cl = arg;

	if (cl->closing && !cl->waiting &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		client_free(cl);
}

static void
on_client_event(struct bufferevent *bev, short what, void *arg)
{
	struct client	*cl = arg;

	(void)bev;
	(void)what;		/* EOF, error or idle timeout: all end it */
	client_free(cl);
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct child	*c = arg;
	struct client	*cl;

	(void)l;
	(void)sa;
	(void)salen;
	if (c->nclients >= c->max_clients) {
		/* the guard stops the listener at the cap: not reached */
		close(fd);
		return;
	}
	cl = xcalloc(1, sizeof(*cl));
	cl->c = c;
	cl->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (cl->bev == NULL) {
		close(fd);
		free(cl);
		return;
	}
	c->nclients++;
	listen_guard_opened(c->guard);
	bufferevent_setcb(cl->bev, on_client_read, on_client_write,
	    on_client_event, cl);
	bufferevent_set_timeouts(cl->bev, &c->idle, &c->idle);
	/* stop reading past a line's worth; the rest waits in the kernel */
	bufferevent_setwatermark(cl->bev, EV_READ, 0, CONTROL_LINE_MAX + 1);
	bufferevent_enable(cl->bev, EV_READ | EV_WRITE);
}

/* on_priv - the parent's answers, to the oldest waiting client */
static void
on_priv(evutil_socket_t fd, short ev, void *arg)
{
	static unsigned char buf[PRIV_MSG_MAX];
	struct child	*c = arg;
	struct client	*cl;
	struct timeval	 flush = { 1, 0 };
	ssize_t		 n;
	char		*text = NULL, *err = NULL;
	int		 ok;

	(void)ev;
	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			/* the parent stops: write what is due, then exit */
			child_milter_stopping();
			event_del(c->ev_priv);
			evconnlistener_disable(c->listener);
			event_base_loopexit(c->base, &flush);
			return;
		}
		if (priv_packet_type(buf, (size_t)n) == PRIV_BUDGET) {
			child_milter_notice(buf, (size_t)n);	/* no answer */
			continue;
		}
		if (priv_decode_reply(buf, (size_t)n, &ok, &text, &err) == -1)
			log_panic("control: a bad answer from the parent: %s",
			    err);
		if (c->npending == 0)
			log_panic("control: an answer nobody asked for");
		cl = c->pending[0];
		memmove(c->pending, c->pending + 1,
		    (c->npending - 1) * sizeof(*c->pending));
		c->npending--;
		if (cl != NULL) {
			cl->waiting = 0;
			if (ok)
				client_write(cl, text);
			else
				client_error(cl, text, 0);
			if (!cl->closing) {
				bufferevent_enable(cl->bev, EV_READ);
				on_client_read(cl->bev, cl);
			}
		}
		free(text);
		text = NULL;
	}
}

void
child_limits(const struct config *cfg, struct child_limits *lim_r)
{
	struct rlimit	 rl;
	long		 want[2], got[2], nofile = -1;

	want[0] = cfg->control_max_connections;
	want[1] = cfg->http_listen[0] != '\0' ? cfg->http_max_connections : 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		nofile = rl.rlim_cur > LONG_MAX ? LONG_MAX : (long)rl.rlim_cur;
	if (conn_limit_share(nofile, want, got, 2))
		log_warn("only %ld file descriptors (ulimit -n): at most %ld "
		    "control and %ld HTTP connections at once, not %ld and "
		    "%ld, so that half of them stay for the milter", nofile,
		    got[0], got[1], want[0], want[1]);
	lim_r->control_max = (size_t)got[0];
	lim_r->control_idle = cfg->control_idle_timeout;
	lim_r->http_max = (size_t)got[1];
}

int
child_main(int listenfd, int privfd, struct http *http, int httpfd,
    const struct child_limits *lim)
{
	struct child	 c;

	memset(&c, 0, sizeof(c));
	c.max_clients = lim->control_max > 0 ? lim->control_max : 1;
	c.idle.tv_sec = lim->control_idle > 0 ? lim->control_idle : 1;
	c.pending = xcalloc(c.max_clients, sizeof(*c.pending));
	signal(SIGHUP, SIG_IGN);	/* the parent reloads */
	signal(SIGINT, SIG_IGN);	/* the parent stops us */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	c.privfd = privfd;
	if ((c.base = event_base_new()) == NULL)
		log_fatal("event_base_new failed");
	evutil_make_socket_nonblocking(listenfd);
	c.listener = evconnlistener_new(c.base, on_accept, &c,
	    LEV_OPT_CLOSE_ON_FREE, -1, listenfd);
	if (c.listener == NULL)
		log_fatal("control: cannot listen");
	c.guard = listen_guard_new(c.base, c.listener, "control",
	    c.max_clients);
	c.ev_priv = event_new(c.base, privfd, EV_READ | EV_PERSIST, on_priv,
	    &c);
	event_add(c.ev_priv, NULL);
	/* [http] listen: the endpoint, on its own channel (http.c) */
	if (http != NULL)
		http_start(http, c.base, httpfd, lim->http_max);
	child_milter_start(c.base, privfd);	/* before any other thread */
	event_base_dispatch(c.base);
	child_milter_stop();
	http_free(&http);		/* it lives on the base: first */
	event_free(c.ev_priv);
	listen_guard_free(&c.guard);
	evconnlistener_free(c.listener);
	event_base_free(c.base);
	free(c.pending);
	return 0;
}
