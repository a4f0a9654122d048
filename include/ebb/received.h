/*
 * received.h - the date of a Received: header, and RFC 5322 dates in general
 *
 * The milter estimates when a remote sender first queued a message from the
 * dates at the end of its Received: headers ("...; Tue, 12 Mar 2024 10:00:00
 * +0000"). Those headers come from the internet: the parser takes a pointer
 * and a length (never a NUL-terminated string), reads nothing past the
 * length, accepts any byte values, keeps no state and allocates nothing, so
 * it is safe from any thread.
 *
 * Accepted, besides strict RFC 5322 (section 3.3 and the obsolete syntax of
 * 4.3): a missing or full weekday ("Tuesday"), 1-digit days and hours, full
 * month names, 2-digit years (< 50 is 20xx, else 19xx) and 3-digit years
 * (+1900), a missing seconds field, zones written +hh:mm, the obsolete zones
 * UT GMT EST EDT CST CDT MST MDT PST PDT, military letters and other short
 * alphabetic zones (UTC, as RFC 5322 says an unknown zone means -0000), a
 * missing zone (UTC), comments anywhere (nested, bounded depth), folding
 * whitespace, and asctime/date(1) order ("Tue Mar 12 10:00:00 [UTC] 2024").
 * Rejected: a field out of range (day 32 or past the month's end, hour 24,
 * minute 60, second 61, month 13, zone +9999), a year before 1900, and
 * anything after the zone that is not a comment.
 */
#ifndef EBB_RECEIVED_H
#define EBB_RECEIVED_H

#include <stddef.h>
#include <time.h>

/* nesting of comments beyond this is not a date ("((((...") */
#define RECEIVED_COMMENT_DEPTH	16

/* one header value, as the milter hands it over: not NUL-terminated */
struct received_value {
	const char	*value;
	size_t		 len;
};

/*
 * rfc5322_date_parse - the instant that the date-time in s[0..len) names.
 *
 * Returns 0 and sets *when_r (seconds since the epoch, UTC), or -1 when s is
 * not a date-time this parser accepts (see the top of this file); *when_r is
 * untouched on error. Leading and trailing whitespace and comments are fine.
 */
int	rfc5322_date_parse(const char *s, size_t len, time_t *when_r);

/*
 * received_date - the date of one Received: header value[0..len).
 *
 * The date follows the last ';' that is not inside a comment; when that does
 * not parse, the last ';' of all is tried. Returns 0 and sets *when_r, or -1
 * when there is no ';' or no date after it.
 */
int	received_date(const char *value, size_t len, time_t *when_r);

#endif
