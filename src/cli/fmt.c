/*
 * fmt.c - how ebbctl writes messages, durations and sizes
 *
 * The shared writers of list and drain --dry-run (fmt.h), so that the two
 * show a message alike.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ebb/listing.h"
#include "ebb/msg.h"
#include "ebb/mta.h"
#include "ebb/util.h"
#include "fmt.h"

void
fmt_span(long secs, char *buf, size_t len)
{
	static const struct {
		long	 secs;
		char	 unit;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	size_t		 i;
	long		 hi, lo;

	if (secs < 0)
		secs = 0;
	for (i = 0; i + 1 < nitems(units) && secs < units[i].secs; i++)
		;
	hi = secs / units[i].secs;
	if (i + 1 < nitems(units) &&
	    (lo = secs % units[i].secs / units[i + 1].secs) > 0)
		snprintf(buf, len, "%ld%c%ld%c", hi, units[i].unit, lo,
		    units[i + 1].unit);
	else
		snprintf(buf, len, "%ld%c", hi, units[i].unit);
}

void
fmt_size(uint64_t size, char *buf, size_t len)
{
	if (size < 10000)
		snprintf(buf, len, "%llu", (unsigned long long)size);
	else if (size < 10000000)
		snprintf(buf, len, "%lluK", (unsigned long long)size / 1024);
	else
		snprintf(buf, len, "%.1fM", size / 1048576.0);
}

void
fmt_unit_value(const char *unit, double v, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	int	 i;

	if (unit == NULL)
		snprintf(buf, len, "%.2f", v);
	else if (strcmp(unit, "fraction") == 0)
		snprintf(buf, len, "%.1f%%", v * 100);
	else if (strcmp(unit, "celsius") == 0)
		snprintf(buf, len, "%.1f C", v);
	else if (strcmp(unit, "messages") == 0)
		snprintf(buf, len, "%.0f", v);
	else if (strcmp(unit, "bytes") == 0) {
		for (i = -1; v >= 1024 && units[i + 1] != '\0'; i++)
			v /= 1024;
		if (i < 0)
			snprintf(buf, len, "%.0f", v);
		else
			snprintf(buf, len, "%.1f%c", v, units[i]);
	} else
		snprintf(buf, len, "%.2f", v);
}

/*
 * fmt_reason - the MTA's reason for the last deferral into buf: what
 * ebbd read for a message it listed, else the backend's; -1 for none
 */
static int
fmt_reason(struct mta *mta, const struct msg *m, char *buf, size_t len)
{
	if ((m->flags & MSG_F_REASON_TEXT) == 0)
		return mta_reason(mta, m, buf, len);
	if (m->reason == NULL || m->reason[0] == '\0')
		return -1;
	ebb_strlcpy(buf, m->reason, len);
	return 0;
}

char
fmt_mark(const struct mta *mta, const struct msg *m)
{
	return listing_mark(mta, m);
}

void
fmt_msg_table(struct mta *mta, const struct msg *const *v, size_t n,
    time_t now)
{
	char		 age[FMT_BUFSZ], left[FMT_BUFSZ], size[FMT_BUFSZ];
	char		 more[32], reason[MTA_REASON_MAX];
	size_t		 i, wid = 9, wsender = 6;
	const struct msg *m;

	for (i = 0; i < n; i++) {
		wid = MAXIMUM(wid, strlen(v[i]->queue_id) + 1);
		wsender = MAXIMUM(wsender, MINIMUM(strlen(v[i]->sender),
		    (size_t)40));
	}
	printf("%-*s %-8s %6s %8s %6s %-*s %s\n", (int)wid, "QUEUE_ID",
	    "QUEUE", "AGE", "DEADLINE", "SIZE", (int)wsender, "SENDER",
	    "RECIPIENT");
	for (i = 0; i < n; i++) {
		m = v[i];
		fmt_span((long)(now - m->arrival_time), age, sizeof(age));
		if (m->deadline <= now)
			ebb_strlcpy(left, "expired", sizeof(left));
		else
			fmt_span((long)(m->deadline - now), left,
			    sizeof(left));
		fmt_size(m->size, size, sizeof(size));
		more[0] = '\0';
		if (m->nrcpt > 1)
			snprintf(more, sizeof(more), " +%u", m->nrcpt - 1);
		printf("%s%c%*s %-8s %6s %8s %6s %-*s %s%s\n", m->queue_id,
		    fmt_mark(mta, m), (int)(wid - strlen(m->queue_id) - 1),
		    "", mta_queue_name(mta, m->queue), age, left, size,
		    (int)wsender, m->sender[0] != '\0' ? m->sender : "<>",
		    m->nrcpt > 0 ? m->rcpt[0] : "-", more);
		if (fmt_reason(mta, m, reason, sizeof(reason)) == 0)
			printf("%*s (%s)\n", (int)wid, "", reason);
	}
}

/*
 * fmt_json_str - a JSON string for s; bytes that are not valid UTF-8
 * become "?" (postqueue prints non-printable bytes the same way)
 */
static json_t *
fmt_json_str(const char *s)
{
	json_t		*j;
	char		*copy;
	size_t		 i;

	if ((j = json_string(s)) != NULL)
		return j;
	copy = xstrdup(s);
	for (i = 0; copy[i] != '\0'; i++)
		if ((unsigned char)copy[i] >= 0x80)
			copy[i] = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

json_t *
fmt_msg_json(struct mta *mta, const struct msg *m)
{
	json_t		*o, *rcpt;
	char		 reason[MTA_REASON_MAX];
	uint32_t	 i;

	o = json_object();
	json_object_set_new(o, "queue_id", json_string(m->queue_id));
	json_object_set_new(o, "queue",
	    json_string(mta_queue_name(mta, m->queue)));
	json_object_set_new(o, "arrival_time", json_integer(m->arrival_time));
	json_object_set_new(o, "create_time", json_integer(m->create_time));
	json_object_set_new(o, "deadline", json_integer(m->deadline));
	json_object_set_new(o, "next_retry", json_integer(m->next_retry));
	json_object_set_new(o, "size", json_integer((json_int_t)m->size));
	json_object_set_new(o, "sender", fmt_json_str(m->sender));
	rcpt = json_array();
	for (i = 0; i < m->nrcpt; i++)
		json_array_append_new(rcpt, fmt_json_str(m->rcpt[i]));
	json_object_set_new(o, "recipients", rcpt);
	json_object_set_new(o, "parked_by_ebb",
	    json_boolean(m->parked_by_ebb));
	json_object_set_new(o, "held_by_admin",
	    json_boolean(fmt_mark(mta, m) == '!'));
	json_object_set_new(o, "delay_reason",
	    fmt_reason(mta, m, reason, sizeof(reason)) == 0 ?
	    fmt_json_str(reason) : json_null());
	return o;
}
