/*
 * http.h - ebbd's HTTP endpoint ([http] listen), in the unprivileged child
 *
 * ebbd.c calls http_new as root, before the fork: it parses [http] allow,
 * binds the listening socket (so a port below 1024 works) and, with
 * [http] certificate and key, loads them into an OpenSSL context (so the
 * key may stay readable by root only). The child then serves on its
 * libevent loop with http_start, asking the parent for data over its own
 * socketpair, which the parent answers read-only (priv_proto.h:
 * PRIV_STATUS and PRIV_HISTORY, nothing else). Changing any [http] key
 * takes a restart; SIGHUP does not rebind.
 *
 *	/              the status page (public): one self-contained HTML
 *	               document, charts of backlog and pressure, a summary
 *	               in plain words
 *	/summary.json  the page's summary (public): no ids, no addresses
 *	/history.json  backlog and pressure over the last hours (public)
 *	/feed.atom     the incident timeline as an Atom feed (public)
 *	/metrics       Prometheus text (allow-listed)
 *	/status        the JSON of "ebbctl status --json" (allow-listed)
 */
#ifndef EBB_HTTP_H
#define EBB_HTTP_H

#include <stddef.h>
#include <time.h>

struct config;
struct event_base;
struct http;

#define HTTP_HEADERS_MAX	8192	/* bytes of request line + headers */
#define HTTP_BODY_MAX		1024	/* GET and HEAD only: no body */
#define HTTP_PENDING_MAX	64	/* requests waiting for the parent */
#define HTTP_HISTORY_SPAN	(6 * 3600)	/* what the page charts */
#define HTTP_CACHE		1	/* seconds an answer is reused */

/*
 * http_new - as root: NULL when [http] listen is empty, else the bound
 * endpoint, not yet serving. Fatal (log_fatal) on a bad listen address or
 * allow list, a port that cannot be bound, or a certificate or key that
 * does not load.
 */
struct http	*http_new(const struct config *cfg);

/*
 * http_check - what http_new would refuse, without binding: the listen
 * address resolves, the certificate and key load and match (the allow
 * list is checked as the configuration loads). Logs each error
 * (log_err, "FILE:LINE: key: why"); returns their number. For "ebbd -n"
 * and the start alike.
 */
int		 http_check(const struct config *cfg);

/*
 * http_start - serve on base, asking the parent over privfd, at most
 * max_connections at once
 */
void		 http_start(struct http *, struct event_base *base,
		    int privfd, size_t max_connections);

/* http_free - close and free *hp and set it to NULL; NULL is fine */
void		 http_free(struct http **hp);

/*
 * http_page - the status page: one HTML document embedding summary and
 * history (JSON texts; '<' is escaped so neither can end the script).
 * Returns allocated text.
 */
char		*http_page(const char *summary, const char *history);

/*
 * http_feed - the history answer's timeline as an Atom feed under title,
 * every text escaped; now dates an empty feed. Returns allocated text.
 */
char		*http_feed(const char *history, const char *title, time_t now);

#endif
