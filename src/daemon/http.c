/*
 * http.c - ebbd's HTTP endpoint: the status page, /metrics, /status
 *
 * evhttp on the child's libevent loop, TLS through bufferevent_openssl
 * when [http] certificate and key are set (see http.h for who opens
 * what, and when). Every request is bounded by evhttp itself: GET and
 * HEAD only, HTTP_HEADERS_MAX bytes of headers, HTTP_BODY_MAX of body,
 * [http] idle_timeout per connection; and here: at most
 * HTTP_PENDING_MAX requests wait for the parent, the rest get 503, and
 * at most [http] max_connections connections are open at once.
 *
 * evhttp (libevent 2.1) has no cap on its connections and calls nobody
 * when one ends unless told to per connection, with a connection it only
 * hands out with a request (a client that never sends one is never seen).
 * So on_bev, which makes each accepted connection's bufferevent, counts
 * it in (the listen guard, listen_guard.h, stops accepting at the cap and
 * rests instead of spinning when accept(2) fails) and keeps a reference
 * to it; track, run from the loop right after the listener's callback,
 * before any event of the new connection can run, finds each one's
 * connection (the bufferevent's callback argument, checked) and sets its
 * close callback, which counts it out.
 */
#include "config.h"

#include <sys/socket.h>

#include <netdb.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ebb/config.h"
#include "ebb/http_allow.h"
#include "ebb/log.h"
#include "ebb/metrics.h"
#include "ebb/util.h"
#include "http.h"
#include "listen_guard.h"
#include "priv_proto.h"

enum route {
	ROUTE_PAGE, ROUTE_SUMMARY, ROUTE_HISTORY, ROUTE_METRICS, ROUTE_STATUS,
	ROUTE_FEED
};

enum { CACHE_STATUS, CACHE_HISTORY };

struct pending {
	struct http		*h;
	struct evhttp_request	*req;	/* NULL: answered already */
	enum route		 route;
	int			 next;	/* CACHE_*: the answer due */
	int			 left;		/* answers still due */
	char			*status;	/* the page: first answer */
};

struct http {
	struct http_allow	 allow;
	int			 listenfd;
	char			*listen;
	int			 idle;		/* seconds */
	struct listen_guard	*guard;
	struct event		*ev_track;	/* active: track fresh[] */
	struct bufferevent	**fresh;	/* accepted, not yet tracked */
	size_t			 nfresh;
	size_t			 max_conns;	/* fresh[] holds as many */
	SSL_CTX			*ssl;
	struct event_base	*base;
	struct evhttp		*evh;
	struct event		*ev_priv;
	int			 privfd;
	struct pending		 pending[HTTP_PENDING_MAX];
	size_t			 npending;
	/* the parent's last answers, status and history, for HTTP_CACHE s */
	char			*cache[2];
	double			 cache_at[2];
	char			 title[128];	/* [http] title, or host name */
};


static void	 track(evutil_socket_t, short, void *);

static void
cache_put(struct http *h, int which, const char *text)
{
	free(h->cache[which]);
	h->cache[which] = xstrdup(text);
	h->cache_at[which] = ebb_now_mono();
}

/* cache_get - a cached answer younger than HTTP_CACHE seconds, or NULL */
static const char *
cache_get(const struct http *h, int which)
{
	if (h->cache[which] == NULL ||
	    ebb_now_mono() - h->cache_at[which] >= HTTP_CACHE)
		return NULL;
	return h->cache[which];
}

/*
 * listen_addr - the address of "host:port", IPv6 as "[addr]:port"; the
 * host may be a name (the first address it resolves to is used). 0 and
 * *res_r (freeaddrinfo), or -1 and *err_r.
 */
static int
listen_addr(const char *spec, struct addrinfo **res_r, char **err_r)
{
	struct addrinfo	 hints;
	const char	*colon = strrchr(spec, ':'), *host = spec;
	char		 buf[256];
	size_t		 len;
	int		 rc;

	len = colon != NULL ? (size_t)(colon - spec) : 0;
	if (len >= 2 && spec[0] == '[' && spec[len - 1] == ']') {
		host++;
		len -= 2;
	}
	if (colon == NULL || len == 0 || len >= sizeof(buf)) {
		*err_r = xasprintf("\"%s\" is not host:port", spec);
		return -1;
	}
	memcpy(buf, host, len);
	buf[len] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(buf, colon + 1, &hints, res_r)) != 0) {
		*err_r = xasprintf("%s: %s", buf, gai_strerror(rc));
		return -1;
	}
	return 0;
}

/* listen_on - socket, bind, listen on "host:port" (listen_addr) */
static int
listen_on(const char *spec)
{
	struct addrinfo	*res;
	char		*err = NULL;
	int		 fd, on = 1;

	if (listen_addr(spec, &res, &err) == -1)
		log_fatal("[http] listen: %s", err);
	if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		log_fatal("http: socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1)
		log_fatal("http: bind %s: %s", spec, strerror(errno));
	freeaddrinfo(res);
	if (listen(fd, 64) == -1)
		log_fatal("http: listen %s: %s", spec, strerror(errno));
	return fd;
}

/* ssl_error - OpenSSL's own reason for the last failure */
static const char *
ssl_error(void)
{
	static char	 buf[256];

	ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
	return buf;
}

/*
 * ssl_load - a TLS context with cert and key; NULL, *key_r the key at
 * fault ("certificate" or "key") and *why_r (allocated)
 */
static SSL_CTX *
ssl_load(const char *cert, const char *key, const char **key_r,
    char **why_r)
{
	SSL_CTX		*ctx;

	ERR_clear_error();
	*key_r = "certificate";
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		*why_r = xasprintf("SSL_CTX_new: %s", ssl_error());
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		*why_r = xasprintf("%s: %s", cert, ssl_error());
		goto fail;
	}
	*key_r = "key";
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		*why_r = xasprintf("%s: %s", key, ssl_error());
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		*why_r = xasprintf("%s does not match certificate %s", key,
		    cert);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* check_fail - log one error about [http] key; counts it */
static int
check_fail(const struct config *cfg, const char *key, const char *why)
{
	char	*text = config_key_error(cfg, "http", key, "%s", why);

	log_err("%s", text);
	free(text);
	return 1;
}

int
http_check(const struct config *cfg)
{
	struct addrinfo	*res;
	SSL_CTX		*ctx;
	const char	*key;
	char		*why = NULL;
	int		 n = 0;

	if (cfg->http_listen[0] == '\0')
		return 0;
	if (listen_addr(cfg->http_listen, &res, &why) == 0)
		freeaddrinfo(res);
	else
		n += check_fail(cfg, "listen", why);
	free(why);
	why = NULL;
	if (cfg->http_certificate[0] != '\0' && cfg->http_key[0] != '\0') {
		if ((ctx = ssl_load(cfg->http_certificate, cfg->http_key, &key,
		    &why)) != NULL)
			SSL_CTX_free(ctx);
		else
			n += check_fail(cfg, key, why);
		free(why);
	}
	return n;
}

struct http *
http_new(const struct config *cfg)
{
	struct http	*h;
	const char	*which;
	char		*err = NULL;
	int		 cert = cfg->http_certificate[0] != '\0';
	int		 key = cfg->http_key[0] != '\0';

	if (cfg->http_listen[0] == '\0')
		return NULL;
	if (cert != key)
		log_fatal("[http] certificate and key go together: set both "
		    "for TLS, or neither");
	h = xcalloc(1, sizeof(*h));
	h->privfd = -1;
	if (http_allow_parse(cfg->http_allow, &h->allow, &err) == -1)
		log_fatal("[http] %s", err);
	if (cert && (h->ssl = ssl_load(cfg->http_certificate, cfg->http_key,
	    &which, &err)) == NULL)
		log_fatal("[http] %s %s", which, err);
	h->listenfd = listen_on(cfg->http_listen);
	h->listen = xstrdup(cfg->http_listen);
	h->idle = (int)cfg->http_idle_timeout;
	/* as root, before the sandbox: the host name as the page's title */
	if (cfg->http_title[0] != '\0')
		ebb_strlcpy(h->title, cfg->http_title, sizeof(h->title));
	else if (gethostname(h->title, sizeof(h->title) - 1) == -1 ||
	    !ebb_text_line_valid(h->title, strnlen(h->title,
	    sizeof(h->title))))
		ebb_strlcpy(h->title, "Mail", sizeof(h->title));
	h->title[sizeof(h->title) - 1] = '\0';
	return h;
}

void
http_free(struct http **hp)
{
	struct http	*h = *hp;
	size_t		 i;

	if (h == NULL)
		return;
	*hp = NULL;
	for (i = 0; i < h->npending; i++)
		free(h->pending[i].status);
	free(h->cache[CACHE_STATUS]);
	free(h->cache[CACHE_HISTORY]);
	if (h->ev_priv != NULL)
		event_free(h->ev_priv);
	track(-1, 0, h);
	if (h->ev_track != NULL)
		event_free(h->ev_track);
	free(h->fresh);
	/* before evhttp_free: its connections end after, counted out */
	listen_guard_free(&h->guard);
	if (h->evh != NULL)
		evhttp_free(h->evh);	/* closes the listening socket */
	else if (h->listenfd != -1)
		close(h->listenfd);
	if (h->ssl != NULL)
		SSL_CTX_free(h->ssl);
	free(h->listen);
	free(h);
}

static void
reply(struct evhttp_request *req, int code, const char *reason,
    const char *type, const char *body, size_t len)
{
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
	struct evbuffer	*out = evbuffer_new();

	evhttp_add_header(hdr, "Content-Type", type);
	evhttp_add_header(hdr, "Cache-Control", "no-store");
	evhttp_add_header(hdr, "X-Content-Type-Options", "nosniff");
	if (out == NULL) {
		evhttp_send_error(req, HTTP_SERVUNAVAIL, NULL);
		return;
	}
	evbuffer_add(out, body, len);
	evhttp_send_reply(req, code, reason, out);
	evbuffer_free(out);
}

static void
reply_text(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	reply(req, code, reason, "text/plain; charset=utf-8", text,
	    strlen(text));
}

/* answer - the parent's answer to the request at the head of the FIFO */
static void
answer(struct pending *pd, int ok, const char *text)
{
	struct metrics	 m;
	char		*err = NULL, *out = NULL, *summary;

	if (!ok) {
		log_warn("http: the parent refused: %s", text);
		if (pd->route == ROUTE_METRICS) {
			/* a scrape that says so: ebb_up 0 */
			out = metrics_render_down();
			reply(pd->req, HTTP_OK, "OK",
			    "text/plain; version=0.0.4; charset=utf-8", out,
			    strlen(out));
			free(out);
			return;
		}
		reply_text(pd->req, HTTP_SERVUNAVAIL, "Unavailable",
		    "ebbd cannot answer now\n");
		return;
	}
	switch (pd->route) {
	case ROUTE_FEED:
		out = http_feed(text, pd->h->title, time(NULL));
		reply(pd->req, HTTP_OK, "OK",
		    "application/atom+xml; charset=utf-8", out, strlen(out));
		break;
	case ROUTE_STATUS:
		out = xasprintf("%s\n", text);
		reply(pd->req, HTTP_OK, "OK", "application/json", out,
		    strlen(out));
		break;
	case ROUTE_HISTORY:
		reply(pd->req, HTTP_OK, "OK", "application/json", text,
		    strlen(text));
		break;
	case ROUTE_METRICS:
	case ROUTE_SUMMARY:
	case ROUTE_PAGE:
		if (metrics_from_status(pd->route == ROUTE_PAGE ? pd->status :
		    text, strlen(pd->route == ROUTE_PAGE ? pd->status : text),
		    &m, &err) == -1) {
			log_warn("http: %s", err);
			free(err);
			reply_text(pd->req, HTTP_INTERNAL, "Error",
			    "bad status\n");
			break;
		}
		ebb_strlcpy(m.title, pd->h->title, sizeof(m.title));
		if (pd->route == ROUTE_METRICS) {
			out = metrics_render(&m);
			reply(pd->req, HTTP_OK, "OK",
			    "text/plain; version=0.0.4; charset=utf-8", out,
			    strlen(out));
			break;
		}
		summary = metrics_summary(&m, time(NULL));
		if (pd->route == ROUTE_SUMMARY) {
			reply(pd->req, HTTP_OK, "OK", "application/json",
			    summary, strlen(summary));
		} else {
			out = http_page(summary, text);
			/* inline only: the page loads nothing from anywhere */
			evhttp_add_header(evhttp_request_get_output_headers(
			    pd->req), "Content-Security-Policy",
			    "default-src 'none'; script-src 'unsafe-inline'; "
			    "style-src 'unsafe-inline'; connect-src 'self'; "
			    "frame-ancestors 'none'");
			reply(pd->req, HTTP_OK, "OK",
			    "text/html; charset=utf-8", out, strlen(out));
		}
		free(summary);
		break;
	}
	free(out);
}

/* on_priv - the parent's answers, in the order asked */
static void
on_priv(evutil_socket_t fd, short ev, void *arg)
{
	static unsigned char buf[PRIV_MSG_MAX];
	struct http	*h = arg;
	struct pending	*pd;
	ssize_t		 n;
	char		*text = NULL, *err = NULL;
	int		 ok;

	(void)ev;
	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			/* the parent stops; the control side exits */
			event_del(h->ev_priv);
			return;
		}
		if (priv_decode_reply(buf, (size_t)n, &ok, &text, &err) == -1)
			log_panic("http: a bad answer from the parent: %s",
			    err);
		if (h->npending == 0)
			log_panic("http: an answer nobody asked for");
		pd = &h->pending[0];
		if (ok)
			cache_put(h, pd->next, text);
		if (--pd->left > 0) {
			/* the page's status; its history comes next */
			if (ok && pd->req != NULL)
				pd->status = text;
			else {
				if (pd->req != NULL)
					answer(pd, ok, text);
				pd->req = NULL;
				free(text);
			}
			pd->next = CACHE_HISTORY;
			continue;
		}
		if (pd->req != NULL)
			answer(pd, ok, text);
		free(pd->status);
		free(text);
		memmove(h->pending, h->pending + 1,
		    (h->npending - 1) * sizeof(*h->pending));
		h->npending--;
	}
}

/* ask - one packet to the parent; 0, or -1 when it could not be sent */
static int
ask(struct http *h, int history)
{
	struct control_request r;
	unsigned char	 buf[PRIV_HDR_LEN + 16];
	size_t		 n;

	if (history)
		n = priv_encode_history(HTTP_HISTORY_SPAN, buf, sizeof(buf));
	else {
		memset(&r, 0, sizeof(r));
		r.command = CONTROL_STATUS;
		n = priv_encode_request(&r, buf, sizeof(buf));
	}
	if (n == 0)
		log_panic("http: cannot encode a request");
	return send(h->privfd, buf, n, MSG_NOSIGNAL) == -1 ? -1 : 0;
}

/* answer_cached - answer from the cache when all it needs is fresh */
static int
answer_cached(struct http *h, struct evhttp_request *req, enum route route)
{
	struct pending	 pd;
	const char	*status = NULL, *history = NULL;

	int		 hist = route == ROUTE_HISTORY || route == ROUTE_FEED;

	if (!hist && (status = cache_get(h, CACHE_STATUS)) == NULL)
		return 0;
	if ((hist || route == ROUTE_PAGE) &&
	    (history = cache_get(h, CACHE_HISTORY)) == NULL)
		return 0;
	memset(&pd, 0, sizeof(pd));
	pd.h = h;
	pd.req = req;
	pd.route = route;
	pd.status = route == ROUTE_PAGE ? xstrdup(status) : NULL;
	answer(&pd, 1, route == ROUTE_PAGE || hist ? history : status);
	free(pd.status);
	return 1;
}

static enum route
route_of(const char *path, int *found_r)
{
	static const struct {
		const char	*path;
		enum route	 route;
	} routes[] = {
		{ "/", ROUTE_PAGE },
		{ "/index.html", ROUTE_PAGE },
		{ "/summary.json", ROUTE_SUMMARY },
		{ "/history.json", ROUTE_HISTORY },
		{ "/metrics", ROUTE_METRICS },
		{ "/status", ROUTE_STATUS },
		{ "/feed.atom", ROUTE_FEED },
	};
	size_t	 i;

	*found_r = 1;
	for (i = 0; i < nitems(routes); i++)
		if (strcmp(path, routes[i].path) == 0)
			return routes[i].route;
	*found_r = 0;
	return ROUTE_PAGE;
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct http	*h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const struct sockaddr *sa;
	const char	*path;
	struct pending	*pd;
	enum route	 route;
	int		 found, hist;

	path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	if (path == NULL || *path == '\0')
		path = "/";
	route = route_of(path, &found);
	if (!found) {
		reply_text(req, HTTP_NOTFOUND, "Not Found", "not found\n");
		return;
	}
	if (route == ROUTE_METRICS || route == ROUTE_STATUS) {
		sa = evhttp_connection_get_addr(
		    evhttp_request_get_connection(req));
		if (sa == NULL || !http_allow_match(&h->allow, sa)) {
			reply_text(req, 403, "Forbidden",
			    "forbidden: not in [http] allow\n");
			return;
		}
	}
	if (answer_cached(h, req, route))
		return;
	if (h->npending == HTTP_PENDING_MAX) {
		reply_text(req, HTTP_SERVUNAVAIL, "Busy", "busy\n");
		return;
	}
	hist = route == ROUTE_HISTORY || route == ROUTE_FEED;
	if (ask(h, hist) == -1) {
		reply_text(req, HTTP_SERVUNAVAIL, "Unavailable",
		    "ebbd is stopping\n");
		return;
	}
	pd = &h->pending[h->npending++];
	pd->h = h;
	pd->req = req;
	pd->route = route;
	pd->next = hist ? CACHE_HISTORY : CACHE_STATUS;
	pd->left = 1;
	pd->status = NULL;
	if (route == ROUTE_PAGE) {
		if (ask(h, 1) == 0)
			pd->left = 2;
		else {
			/* the status answer still comes, to no one */
			reply_text(req, HTTP_SERVUNAVAIL, "Unavailable",
			    "ebbd is stopping\n");
			pd->req = NULL;
		}
	}
}

/* conn_closed - evhttp frees a connection: one less open */
static void
conn_closed(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	listen_guard_closed(arg);
}

/*
 * track - for each connection on_bev counted in: give its connection a
 * close callback that counts it out, or count it out now when evhttp
 * has already freed it (its callbacks are gone); drop the reference
 */
static void
track(evutil_socket_t fd, short ev, void *arg)
{
	static int	 warned;
	struct http	*h = arg;
	struct bufferevent *bev;
	struct evhttp_connection *evcon;
	void		*cbarg;
	size_t		 i;

	(void)fd;
	(void)ev;
	for (i = 0; i < h->nfresh; i++) {
		bev = h->fresh[i];
		cbarg = NULL;
		bufferevent_getcb(bev, NULL, NULL, NULL, &cbarg);
		evcon = cbarg;
		if (evcon != NULL &&
		    evhttp_connection_get_bufferevent(evcon) == bev)
			evhttp_connection_set_closecb(evcon, conn_closed,
			    h->guard);
		else {
			if (evcon != NULL && !warned++)
				log_warn("http: this libevent hides its "
				    "connections: they go uncounted");
			listen_guard_closed(h->guard);
		}
		bufferevent_decref(bev);
	}
	h->nfresh = 0;
}

/*
 * on_bev - each accepted connection's bufferevent, TLS when it is on:
 * counted in, and kept (a reference) for track, which runs next. NULL
 * (no memory) makes evhttp use a plain one, uncounted.
 */
static struct bufferevent *
on_bev(struct event_base *base, void *arg)
{
	struct http	*h = arg;
	struct bufferevent *bev;
	SSL		*ssl;

	if (h->ssl != NULL) {
		if ((ssl = SSL_new(h->ssl)) == NULL)
			return NULL;
		bev = bufferevent_openssl_socket_new(base, -1, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	} else
		bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL || h->nfresh == h->max_conns)
		return bev;	/* at the cap the listener is off: not seen */
	bufferevent_incref(bev);
	h->fresh[h->nfresh++] = bev;
	listen_guard_opened(h->guard);
	event_active(h->ev_track, EV_TIMEOUT, 1);
	return bev;
}

void
http_start(struct http *h, struct event_base *base, int privfd,
    size_t max_connections)
{
	struct evhttp_bound_socket *bound;

	h->base = base;
	h->max_conns = max_connections > 0 ? max_connections : 1;
	h->fresh = xcalloc(h->max_conns, sizeof(*h->fresh));
	if ((h->ev_track = event_new(base, -1, 0, track, h)) == NULL)
		log_fatal("http: event_new failed");
	h->privfd = privfd;
	if ((h->evh = evhttp_new(base)) == NULL)
		log_fatal("http: evhttp_new failed");
	evhttp_set_allowed_methods(h->evh, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(h->evh, HTTP_HEADERS_MAX);
	evhttp_set_max_body_size(h->evh, HTTP_BODY_MAX);
	evhttp_set_timeout(h->evh, h->idle);
	evhttp_set_gencb(h->evh, on_request, h);
	evhttp_set_bevcb(h->evh, on_bev, h);
	if ((bound = evhttp_accept_socket_with_handle(h->evh,
	    h->listenfd)) == NULL)
		log_fatal("http: cannot serve on %s", h->listen);
	h->guard = listen_guard_new(base,
	    evhttp_bound_socket_get_listener(bound), "http", h->max_conns);
	h->ev_priv = event_new(base, privfd, EV_READ | EV_PERSIST, on_priv,
	    h);
	event_add(h->ev_priv, NULL);
	log_info("http: serving on %s%s", h->listen,
	    h->ssl != NULL ? " (TLS)" : "");
}
