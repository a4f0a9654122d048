/*
 * deadline.c - bounce deadlines, slack and the remote sender's deadline
 *
 * The formulas are one line each; what needs care is the input. Lifetimes
 * come from postconf, sendmail.cf and ebb.conf, Received: headers from the
 * internet, so sums saturate at the ends of time_t instead of overflowing,
 * the domain_lifetimes table is bounded in pairs and bytes, and at most
 * REMOTE_RECEIVED_MAX headers are read per message.
 *
 * The domain_lifetimes table is kept sorted by lowercase domain, so a lookup
 * is a binary search per label of the sender's domain, longest suffix first:
 * the first hit is the closest listed parent.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ebb/deadline.h"
#include "ebb/duration.h"
#include "ebb/received.h"
#include "ebb/util.h"

#define LIFETIMES_SEPARATORS	" \t\r\n,"
#define ERR_TOKEN_MAX		80	/* bytes of a bad pair quoted back */

struct lifetime {
	char	*domain;		/* lowercase */
	long	 secs;
};

struct lifetimes {
	struct lifetime	*v;		/* sorted by domain */
	size_t		 n;
};

static time_t
time_max(void)
{
	return (time_t)(((uintmax_t)1 << (sizeof(time_t) * CHAR_BIT - 1)) - 1);
}

static time_t
time_min(void)
{
	return -time_max() - 1;
}

/* time_add - t + secs, saturated at the ends of time_t */
static time_t
time_add(time_t t, long secs)
{
	time_t	 r;

	if (!__builtin_add_overflow(t, secs, &r))
		return r;
	return secs > 0 ? time_max() : time_min();
}

time_t
deadline_postfix(time_t create_time, int is_null_sender,
    long maximal_lifetime, long bounce_lifetime)
{
	long	 lifetime = is_null_sender ? bounce_lifetime : maximal_lifetime;

	return time_add(create_time, MAXIMUM(lifetime, 0));
}

time_t
deadline_sendmail(time_t t, long queuereturn)
{
	return time_add(t, MAXIMUM(queuereturn, 0));
}

long
deadline_slack(time_t deadline, time_t now)
{
	long	 r;

	if (!__builtin_sub_overflow(deadline, now, &r))
		return r;
	return deadline > now ? LONG_MAX : LONG_MIN;
}

/* domain_valid - a host name of len bytes: letters, digits, '-' and dots */
static int
domain_valid(const char *s, size_t len)
{
	size_t	 i, label = 0;

	if (len == 0 || len > LIFETIMES_DOMAIN_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
		} else if (isalnum((unsigned char)s[i]) ||
		    (s[i] == '-' && label > 0)) {
			if (++label > 63)
				return 0;
		} else
			return 0;
	}
	return label > 0 && s[len - 1] != '-';
}

static int
lifetime_cmp(const void *a, const void *b)
{
	const struct lifetime *la = a, *lb = b;

	return strcmp(la->domain, lb->domain);
}

/* lifetimes_fail - set *err_r (when wanted) and free the partial table */
static int
lifetimes_fail(struct lifetimes **lp, char **err_r, char *why)
{
	lifetimes_free(lp);
	if (err_r != NULL)
		*err_r = why;
	else
		free(why);
	return -1;
}

int
lifetimes_parse(const char *s, struct lifetimes **r, char **err_r)
{
	struct lifetimes *l;
	struct lifetime	*e;
	const char	*p = s, *tok, *eq;
	char		 dur[DURATION_BUFSZ];
	size_t		 len, dlen, vlen, i;
	long		 secs;
	int		 bad;

	l = xcalloc(1, sizeof(*l));
	if (s == NULL)
		goto done;
	if (strnlen(s, LIFETIMES_TEXT_MAX + 1) > LIFETIMES_TEXT_MAX)
		return lifetimes_fail(&l, err_r, xasprintf("longer than %d "
		    "bytes", LIFETIMES_TEXT_MAX));
	for (;;) {
		p += strspn(p, LIFETIMES_SEPARATORS);
		if (*p == '\0')
			break;
		tok = p;
		len = strcspn(p, LIFETIMES_SEPARATORS);
		p += len;
		if ((eq = memchr(tok, '=', len)) == NULL)
			return lifetimes_fail(&l, err_r, xasprintf("\"%.*s\" "
			    "is not domain=duration",
			    (int)MINIMUM(len, ERR_TOKEN_MAX), tok));
		dlen = (size_t)(eq - tok);
		vlen = len - dlen - 1;
		if (!domain_valid(tok, dlen))
			return lifetimes_fail(&l, err_r, xasprintf("\"%.*s\": "
			    "not a domain name",
			    (int)MINIMUM(dlen, ERR_TOKEN_MAX), tok));
		bad = vlen == 0 || vlen >= sizeof(dur);
		if (!bad) {
			memcpy(dur, eq + 1, vlen);
			dur[vlen] = '\0';
			bad = duration_parse(dur, &secs) == -1 ||
			    secs < LIFETIME_MIN || secs > LIFETIME_MAX;
		}
		if (bad)
			return lifetimes_fail(&l, err_r, xasprintf("\"%.*s\": "
			    "not a duration from 1h to 30d",
			    (int)MINIMUM(len, ERR_TOKEN_MAX), tok));
		if (l->n == LIFETIMES_MAX)
			return lifetimes_fail(&l, err_r, xasprintf("more than "
			    "%d domain=duration pairs", LIFETIMES_MAX));
		l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
		e = &l->v[l->n++];
		e->domain = xstrndup(tok, dlen);
		e->secs = secs;
		for (i = 0; i < dlen; i++)
			e->domain[i] = (char)tolower((unsigned char)tok[i]);
	}
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), lifetime_cmp);
	for (i = 1; i < l->n; i++)
		if (strcmp(l->v[i - 1].domain, l->v[i].domain) == 0)
			return lifetimes_fail(&l, err_r, xasprintf("domain "
			    "\"%s\" is listed twice", l->v[i].domain));
done:
	*r = l;
	return 0;
}

long
lifetimes_lookup(const struct lifetimes *l, const char *sender_domain,
    long dflt)
{
	struct lifetime	 key, *hit;
	char		 buf[LIFETIMES_DOMAIN_MAX + 2];
	char		*q;
	size_t		 len, i;

	if (l == NULL || l->n == 0 || sender_domain == NULL)
		return dflt;
	len = strnlen(sender_domain, LIFETIMES_DOMAIN_MAX + 2);
	if (len > 0 && sender_domain[len - 1] == '.')
		len--;			/* the root: "gmail.com." */
	if (len == 0 || len > LIFETIMES_DOMAIN_MAX)
		return dflt;
	for (i = 0; i < len; i++)
		buf[i] = (char)tolower((unsigned char)sender_domain[i]);
	buf[len] = '\0';
	/* the domain, then each parent: the first hit is the longest match */
	for (q = buf;; q++) {
		key.domain = q;
		hit = bsearch(&key, l->v, l->n, sizeof(*l->v), lifetime_cmp);
		if (hit != NULL)
			return hit->secs;
		if ((q = strchr(q, '.')) == NULL)
			return dflt;
	}
}

size_t
lifetimes_count(const struct lifetimes *l)
{
	return l == NULL ? 0 : l->n;
}

void
lifetimes_free(struct lifetimes **lp)
{
	struct lifetimes *l = *lp;
	size_t		 i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		free(l->v[i].domain);
	free(l->v);
	free(l);
	*lp = NULL;
}

int
remote_deadline_estimate(const struct received_value *hdrs, size_t n,
    time_t now, long skew, long max_age, long lifetime,
    struct remote_estimate *r)
{
	time_t	 t, newest, oldest, first = 0;
	size_t	 i;

	memset(r, 0, sizeof(*r));
	if (hdrs == NULL)
		n = 0;
	newest = time_add(now, MAXIMUM(skew, 0));
	oldest = time_add(now, -MAXIMUM(max_age, 0));
	for (i = 0; i < n; i++) {
		if (i == REMOTE_RECEIVED_MAX) {
			r->skipped = n - i;
			break;
		}
		if (received_date(hdrs[i].value, hdrs[i].len, &t) == -1)
			r->unparsed++;
		else if (t > newest || t < oldest)
			r->insane++;
		else if (r->sane++ == 0 || t < first)
			first = t;
	}
	r->known = r->sane > 0;
	r->first_queued = r->known ? first : now;
	r->deadline = time_add(r->first_queued, MAXIMUM(lifetime, 0));
	return r->known;
}
