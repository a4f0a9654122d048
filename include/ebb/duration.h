/*
 * duration.h - durations as ebb.conf and ebb's logs write them
 *
 * A duration is a count of seconds written like Postfix's time values: a bare
 * number is seconds, and a number may carry one of the units s (seconds),
 * m (minutes), h (hours), d (days) or w (weeks). Several units may follow
 * each other from the largest down, so that "4h12m" reads back what
 * duration_format() writes.
 */
#ifndef EBB_DURATION_H
#define EBB_DURATION_H

#include <stddef.h>

/* room for any duration_format() result, "-106751991167300d15h30m7s" */
#define DURATION_BUFSZ	32

/*
 * duration_parse - read a duration such as "300", "300s", "5d" or "4h12m".
 *
 * Returns 0 and sets *secs_r, or -1 with errno EINVAL for a malformed text
 * (empty, negative, an unknown or repeated unit, units out of order, junk)
 * or ERANGE when the value does not fit in a long. *secs_r is untouched on
 * error.
 */
int	duration_parse(const char *, long *secs_r);

/*
 * duration_format - write secs compactly into buf: "5d", "4h12m", "1m30s",
 * "0s"; a negative value gets a leading "-" (a slack in the past). The
 * largest unit written is the day. buf is always NUL-terminated when len > 0;
 * DURATION_BUFSZ is always enough.
 */
void	duration_format(long secs, char *buf, size_t len);

#endif
