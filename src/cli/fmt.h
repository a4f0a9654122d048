/*
 * fmt.h - how ebbctl writes messages, durations and sizes
 *
 * list and drain --dry-run show the same messages; they write them the same
 * way: one row per message under one header, a duration in at most two
 * units ("3d4h", "4h12m", "45s"), a size as 812, 12K or 3.4M, a mark after
 * the queue id ("*" on its way out, "~" parked by ebb, "!" held by the
 * administrator), and with --json one object per message with the fields
 * DESIGN.md fixes.
 */
#ifndef EBB_CLI_FMT_H
#define EBB_CLI_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

struct mta;
struct msg;

#define FMT_BUFSZ	32	/* room for any fmt_span or fmt_size */

/* fmt_span - secs in at most two units; a negative span is "0s" */
void	fmt_span(long secs, char *buf, size_t len);

/* fmt_size - bytes as 812, 12K (below 10M), else 3.4M */
void	fmt_size(uint64_t size, char *buf, size_t len);

/*
 * fmt_unit_value - a sensor's value or limit in its unit ("fraction":
 * 42.0%, "celsius": 61.5 C, "messages": 120, "bytes": 3.2G, else 1.25),
 * as sensors and status show it
 */
void	fmt_unit_value(const char *unit, double v, char *buf, size_t len);

/*
 * fmt_mark - the mark of m after its queue id: '*' on its way out (the
 * leaving role), '~' parked by ebb, '!' held by the administrator, ' '
 * waiting for the MTA's retry
 */
char	fmt_mark(const struct mta *, const struct msg *);

/*
 * fmt_msg_table - the header and one row per message of v[0..n) on stdout:
 * QUEUE_ID and mark, QUEUE, AGE, DEADLINE (time left, "expired"), SIZE,
 * SENDER ("<>" for the null sender), RECIPIENT (the first, "+N" others),
 * and below a row, indented, the MTA's reason for the last deferral when
 * it has one
 */
void	fmt_msg_table(struct mta *, const struct msg *const *v, size_t n,
	    time_t now);

/* fmt_msg_json - m as a JSON object (the caller owns it) */
json_t	*fmt_msg_json(struct mta *, const struct msg *);

#endif
