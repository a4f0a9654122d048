/*
 * backlog.h - the backlog as a table: domains by age and time to deadline
 *
 * What "ebbctl backlog" prints: qshape's table (rows by recipient or
 * sender domain, columns by age in the queue) with, beside it, the time
 * left until each message bounces. Pure: it sees the messages one by one
 * (struct msg, msg.h) and the time passed in; no I/O but the output.
 *
 * Columns. Age is now - arrival_time, as qshape has it, in buckets of
 * doubling width: "5" counts ages in [0, 5) minutes, "10" [5, 10), "20"
 * [10, 20) ... "1280" [640, 1280), and "1280+" 1280 minutes and more (a
 * message from the future counts in "5"). Time to deadline is deadline -
 * now: "expired" (<= 0), "<1h", "<6h", "<24h", "<48h" and "later".
 *
 * Rows. The domain is what follows the last "@", lower-cased, without a
 * leading or trailing dot; an address without "@" is its own domain and
 * the null sender is "MAILER-DAEMON", as in qshape. Bytes outside printable
 * ASCII become "?" (a domain can come from anybody; the table must not
 * carry terminal escapes), and a domain is cut at BACKLOG_DOMAIN_MAX bytes.
 *
 * Counts are messages, where qshape counts recipients: ebb parks,
 * releases and bounces messages. A message counts once in TOTAL and once
 * in the row of each domain it has pending recipients in, so with
 * recipients in several domains the rows add up to more than TOTAL; a
 * message without pending recipients counts in TOTAL only. By sender
 * domain every message is in exactly one row.
 *
 * Rows are sorted by count, largest first, then by name; TOTAL comes
 * first.
 */
#ifndef EBB_BACKLOG_H
#define EBB_BACKLOG_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

struct backlog;
struct msg;

enum backlog_by {
	BACKLOG_BY_RCPT_DOMAIN,
	BACKLOG_BY_SENDER_DOMAIN
};

#define BACKLOG_AGE_BUCKETS		10
#define BACKLOG_DEADLINE_BUCKETS	6
#define BACKLOG_DOMAIN_MAX		255
#define BACKLOG_TOTAL			"TOTAL"

/* one row of the table: plain data, owned by the backlog */
struct backlog_row {
	const char	*domain;	/* BACKLOG_TOTAL for the totals */
	unsigned long	 total;
	unsigned long	 age[BACKLOG_AGE_BUCKETS];
	unsigned long	 deadline[BACKLOG_DEADLINE_BUCKETS];
};

/* backlog_new - an empty table by domain of kind by, at time now */
struct backlog	*backlog_new(enum backlog_by by, time_t now);

/* backlog_free - free *bp and its rows, set it NULL; NULL is fine */
void		 backlog_free(struct backlog **bp);

/* backlog_add - count one message; nothing of *m is kept */
void		 backlog_add(struct backlog *b, const struct msg *m);

/*
 * backlog_nrows - the rows, TOTAL included (so at least 1);
 * backlog_row - row i in display order (0 is TOTAL), NULL past the end.
 * Rows stay valid until the next backlog_add or backlog_free.
 */
size_t		 backlog_nrows(struct backlog *b);
const struct backlog_row *backlog_row(struct backlog *b, size_t i);

/*
 * backlog_print - the aligned text table: TOTAL and the first top domain
 * rows (top 0: all). Every column is as wide as its widest value, the
 * domain column as its longest domain shown. Write errors are left in fp.
 */
void		 backlog_print(struct backlog *b, size_t top, FILE *fp);

/*
 * backlog_json - the same as one JSON object (allocated, compact, no
 * newline; the caller frees it):
 *   {"now": T, "by": "rcpt-domain", "count": "messages",
 *    "age_buckets": ["5", ..., "1280+"],
 *    "deadline_buckets": ["expired", "<1h", ..., "later"],
 *    "rows": [{"domain": "TOTAL", "total": N, "age": [N, ...],
 *              "deadline": [N, ...]}, ...]}
 * with age and deadline in the order of the bucket lists.
 */
char		*backlog_json(struct backlog *b, size_t top);

/* backlog_to_json - backlog_json's object (the caller json_decref()s it) */
struct json_t	*backlog_to_json(struct backlog *b, size_t top);

/*
 * backlog_from_json - a backlog that holds the rows of o, an object of
 * backlog_json (as ebbd answers "backlog" on its control socket), at its
 * "now" and "by": backlog_print and backlog_json then write what they
 * would have for the backlog o came from, for as many rows as o has.
 * Returns NULL and *err_r (allocated) when o is malformed: a member
 * missing or of the wrong type, an unknown "by", a count negative, rows
 * that do not start with TOTAL, a domain repeated or not as backlog_add
 * makes them.
 */
struct backlog	*backlog_from_json(struct json_t *o, char **err_r);

/*
 * backlog_age_bucket, backlog_deadline_bucket - the column of an age or a
 * time left, in seconds (any value has one); the labels: NULL out of range
 */
int		 backlog_age_bucket(long long age_seconds);
int		 backlog_deadline_bucket(long long left_seconds);
const char	*backlog_age_label(int bucket);
const char	*backlog_deadline_label(int bucket);

/* backlog_by_name - "rcpt-domain", "sender-domain"; lookup: -1 unknown */
const char	*backlog_by_name(enum backlog_by by);
int		 backlog_by_lookup(const char *name);

#endif
