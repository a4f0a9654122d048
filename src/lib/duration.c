/*
 * duration.c - parse and format durations ("5d", "4h12m", "300s")
 *
 * Used by the config parser for every duration key and by the logs for
 * deadlines and slack, so that an operator reads the same notation in
 * ebb.conf, in "ebbctl config" and in the log.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ebb/duration.h"
#include "ebb/util.h"

static const struct duration_unit {
	char	 name;
	long	 secs;
} duration_units[] = {		/* largest first: the order they must come */
	{ 'w', 7 * 86400L },
	{ 'd', 86400L },
	{ 'h', 3600L },
	{ 'm', 60L },
	{ 's', 1L },
};

int
duration_parse(const char *s, long *secs_r)
{
	const char	*p = s;
	size_t		 next = 0, u;
	long		 total = 0, n;
	int		 digits;

	if (*p == '\0') {
		errno = EINVAL;
		return -1;
	}
	while (*p != '\0') {
		n = 0;
		digits = 0;
		for (; *p >= '0' && *p <= '9'; p++, digits++) {
			if (n > (LONG_MAX - (*p - '0')) / 10) {
				errno = ERANGE;
				return -1;
			}
			n = n * 10 + (*p - '0');
		}
		if (digits == 0) {
			errno = EINVAL;		/* a sign, a unit alone, junk */
			return -1;
		}
		if (*p == '\0' && p - s == digits) {
			total = n;		/* a bare number is seconds */
			break;
		}
		for (u = next; u < nitems(duration_units); u++)
			if (duration_units[u].name == *p)
				break;
		if (u == nitems(duration_units)) {
			/* an unknown unit, or one repeated or out of order */
			errno = EINVAL;
			return -1;
		}
		if (n > (LONG_MAX - total) / duration_units[u].secs) {
			errno = ERANGE;
			return -1;
		}
		total += n * duration_units[u].secs;
		next = u + 1;
		p++;
	}
	*secs_r = total;
	return 0;
}

void
duration_format(long secs, char *buf, size_t len)
{
	unsigned long	 left, n;
	size_t		 u, off = 0;
	int		 w;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (secs < 0) {
		left = -(unsigned long)secs;	/* LONG_MIN too */
		off = ebb_strlcpy(buf, "-", len);
	} else
		left = secs;
	if (left == 0) {
		ebb_strlcpy(buf, "0s", len);
		return;
	}
	/* from the day down: weeks would read less plainly in a log */
	for (u = 1; u < nitems(duration_units) && off < len; u++) {
		n = left / duration_units[u].secs;
		if (n == 0)
			continue;
		left -= n * duration_units[u].secs;
		w = snprintf(buf + off, len - off, "%lu%c", n,
		    duration_units[u].name);
		if (w < 0)
			return;
		off += (size_t)w;
	}
}
