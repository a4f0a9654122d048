/*
 * deadline.h - when a message bounces, and when a remote sender gives up
 *
 * Every queued message has a bounce deadline, and ebb delivers the mail
 * closest to it first. For mail in our own queue the MTA's rule is known
 * (Postfix: create_time + maximal_queue_lifetime, or bounce_queue_lifetime
 * for the null sender; Sendmail: T + Timeout.queuereturn). For mail a remote
 * MTA is still trying to hand us, the milter estimates the remote deadline:
 * the oldest sane Received: date (when the remote first queued it) plus the
 * remote's queue lifetime, [milter] remote_lifetime or a per-domain override
 * from [milter] domain_lifetimes.
 *
 * Everything here is pure: time is passed in, nothing is global. Sums
 * saturate instead of overflowing.
 */
#ifndef EBB_DEADLINE_H
#define EBB_DEADLINE_H

#include <stddef.h>
#include <time.h>

#include "ebb/received.h"

/* a domain_lifetimes duration must lie in [LIFETIME_MIN, LIFETIME_MAX] */
#define LIFETIME_MIN		3600L
#define LIFETIME_MAX		(30 * 86400L)
#define LIFETIMES_MAX		256	/* domain=duration pairs */
#define LIFETIMES_TEXT_MAX	16384	/* bytes of the whole value */
#define LIFETIMES_DOMAIN_MAX	253

/* Received: headers looked at per message; Postfix's hop_count_limit is 50 */
#define REMOTE_RECEIVED_MAX	100

/*
 * deadline_postfix - when Postfix bounces a message: create_time plus
 * bounce_lifetime for the null sender, else maximal_lifetime (seconds; a
 * negative lifetime counts as 0, which Postfix reads as "after the first
 * failed attempt"). As qmgr_active.c decides it.
 */
time_t	deadline_postfix(time_t create_time, int is_null_sender,
	    long maximal_lifetime, long bounce_lifetime);

/* deadline_sendmail - T (the qf creation time) + Timeout.queuereturn */
time_t	deadline_sendmail(time_t t, long queuereturn);

/*
 * deadline_slack - seconds left before deadline at now: negative once it
 * has passed. Clamped to the range of a long.
 */
long	deadline_slack(time_t deadline, time_t now);

/* lifetimes: the parsed [milter] domain_lifetimes table (opaque) */
struct lifetimes;

/*
 * lifetimes_parse - read "domain=duration" pairs separated by whitespace or
 * commas, e.g. "outlook.com=1d gmail.com=3d". Domains are host names (letters,
 * digits, '-' and dots, at most LIFETIMES_DOMAIN_MAX bytes, case does not
 * matter, each listed once); durations are what duration_parse() reads, from
 * LIFETIME_MIN to LIFETIME_MAX; at most LIFETIMES_MAX pairs and
 * LIFETIMES_TEXT_MAX bytes. NULL or an empty text is an empty table.
 *
 * Returns 0 and sets *r (free with lifetimes_free), or -1 and, when err_r is
 * not NULL, an allocated message naming the bad pair in *err_r (caller
 * frees). The config module calls it to validate the key.
 */
int	lifetimes_parse(const char *s, struct lifetimes **r, char **err_r);

/*
 * lifetimes_lookup - the lifetime for a sender in sender_domain: the entry
 * for the domain itself or its closest listed parent ("mx.gmail.com" takes
 * gmail.com's, "xgmail.com" does not), case-insensitive, a trailing dot
 * ignored; dflt when none matches, when the domain is NULL, empty, too long
 * or the table is NULL. Looks at most LIFETIMES_DOMAIN_MAX + 1 bytes of
 * sender_domain; O(labels * log entries).
 */
long	lifetimes_lookup(const struct lifetimes *, const char *sender_domain,
	    long dflt);

/* lifetimes_count - the number of pairs in the table (0 for NULL) */
size_t	lifetimes_count(const struct lifetimes *);

/* lifetimes_free - free *lp and set it to NULL; NULL is fine */
void	lifetimes_free(struct lifetimes **lp);

/* what remote_deadline_estimate() found */
struct remote_estimate {
	int	 known;		/* 1: a sane Received: date was found */
	time_t	 first_queued;	/* the oldest sane one; now when unknown */
	time_t	 deadline;	/* first_queued + lifetime */
	size_t	 sane;		/* dates within [now - max_age, now + skew] */
	size_t	 insane;	/* dates outside it */
	size_t	 unparsed;	/* headers with no date that parses */
	size_t	 skipped;	/* headers past REMOTE_RECEIVED_MAX */
};

/*
 * remote_deadline_estimate - when the remote sender of a message gives up.
 *
 * hdrs are the n values of the message's Received: headers, untrusted (only
 * the first REMOTE_RECEIVED_MAX are read). A date is sane when it is at most
 * skew seconds in the future of now and at most max_age seconds in its past;
 * the oldest sane one is when the remote first queued the message. Fills *r
 * and returns 1 with r->deadline = oldest + lifetime; when no date is sane,
 * returns 0 and estimates as if the message had been queued at now (the
 * latest deadline it can have), with r->known 0.
 */
int	remote_deadline_estimate(const struct received_value *hdrs, size_t n,
	    time_t now, long skew, long max_age, long lifetime,
	    struct remote_estimate *r);

#endif
