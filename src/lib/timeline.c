/*
 * timeline.c - the incident timeline: what happened, in plain words
 *
 * A small state machine fed one observation per tick (timeline.h). The
 * words are for the people whose mail waits, not for the administrator:
 * no queue names, no "parked", no ratios.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ebb/timeline.h"
#include "ebb/util.h"

static const char *const kind_names[TIMELINE_KIND_COUNT] = {
	"found", "started", "paused", "resumed", "half", "expired",
	"cleared", "note"
};

static const char *const kind_titles[TIMELINE_KIND_COUNT] = {
	"Mail is waiting", "Delivery started", "Delivery paused by load",
	"Delivery resumed", "Half delivered", "Mail past its deadline",
	"Backlog cleared", "Note from the administrators"
};

const char *
timeline_kind_title(int kind)
{
	return kind >= 0 && kind < TIMELINE_KIND_COUNT ? kind_titles[kind] :
	    NULL;
}

const char *
timeline_kind_name(int kind)
{
	return kind >= 0 && kind < TIMELINE_KIND_COUNT ? kind_names[kind] :
	    NULL;
}

int
timeline_kind_lookup(const char *name)
{
	int	 i;

	for (i = 0; i < TIMELINE_KIND_COUNT; i++)
		if (strcmp(kind_names[i], name) == 0)
			return i;
	return -1;
}

/* plural - "" or "s" */
static const char *
plural(long n)
{
	return n == 1 ? "" : "s";
}

static struct timeline_event *
event(struct timeline_event *ev, size_t *n, int kind, long count)
{
	struct timeline_event *e = &ev[(*n)++];

	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->count = count;
	return e;
}

long
timeline_expired(const struct timeline *t, const struct timeline_obs *o)
{
	long	 n;

	if (!t->in_incident)
		return 0;
	n = o->expired_released - (t->based ? t->expired_base :
	    o->expired_released) + o->expired_parked;
	return MAXIMUM(n, t->expired_written);
}

/* base - the counts this incident's deliveries and expiries start from */
static void
base(struct timeline *t, const struct timeline_obs *o)
{
	t->based = 1;
	t->released_base = o->released;
	/* after a restart: what was written already stays counted */
	t->expired_base = o->expired_released -
	    MAXIMUM(t->expired_written - o->expired_parked, 0);
}

/* pause_state - the debounced pause and resume */
static void
pause_state(struct timeline *t, const struct timeline_obs *o,
    struct timeline_event *ev, size_t *n)
{
	struct timeline_event *e;

	if (o->blocked && o->waiting > 0) {
		t->running_since = 0;
		if (t->blocked_since == 0)
			t->blocked_since = o->now;
		if (t->paused || o->now - t->blocked_since < TIMELINE_SETTLE ||
		    (t->last_pause != 0 &&
		    o->now - t->last_pause < TIMELINE_QUIET))
			return;
		e = event(ev, n, TIMELINE_PAUSED, o->waiting);
		if (o->limit != NULL && *o->limit != '\0')
			snprintf(e->text, sizeof(e->text), "Delivery paused: "
			    "the mail server is under heavy load (its %s "
			    "limit is reached). %ld message%s wait safely "
			    "and go out when the load drops.", o->limit,
			    o->waiting, plural(o->waiting));
		else
			snprintf(e->text, sizeof(e->text), "Delivery paused: "
			    "the mail server is under heavy load. %ld "
			    "message%s wait safely and go out when the load "
			    "drops.", o->waiting, plural(o->waiting));
		t->paused = 1;
		t->last_pause = o->now;
		return;
	}
	t->blocked_since = 0;
	if (t->running_since == 0)
		t->running_since = o->now;
	if (!t->paused || o->now - t->running_since < TIMELINE_SETTLE)
		return;
	e = event(ev, n, TIMELINE_RESUMED, o->waiting);
	snprintf(e->text, sizeof(e->text), "Delivery resumed: the load has "
	    "dropped. %ld message%s still wait.", o->waiting,
	    plural(o->waiting));
	t->paused = 0;
}

size_t
timeline_observe(struct timeline *t, const struct timeline_obs *o,
    struct timeline_event ev[TIMELINE_EVENTS_MAX])
{
	struct timeline_event *e;
	size_t		 n = 0;
	long		 expired, delivered;

	if (!t->in_incident) {
		if (o->waiting < TIMELINE_FOUND_MIN)
			return 0;
		memset(t, 0, sizeof(*t));
		t->in_incident = 1;
		t->since = o->now;
		t->peak = o->waiting;
		base(t, o);
		e = event(ev, &n, TIMELINE_FOUND, o->waiting);
		snprintf(e->text, sizeof(e->text), "The mail server fell "
		    "behind: %ld message%s wait for delivery. They go out "
		    "as fast as the server can take, the most urgent first.",
		    o->waiting, plural(o->waiting));
	}
	if (!t->based)
		base(t, o);
	t->peak = MAXIMUM(t->peak, o->waiting);
	delivered = o->released - t->released_base;
	if (!t->started && delivered > 0) {
		t->started = 1;
		e = event(ev, &n, TIMELINE_STARTED, o->waiting);
		snprintf(e->text, sizeof(e->text), "Delivery of the waiting "
		    "mail has started.");
	}
	pause_state(t, o, ev, &n);
	if (!t->half && t->started && o->waiting <= t->peak / 2) {
		t->half = 1;
		e = event(ev, &n, TIMELINE_HALF, o->waiting);
		snprintf(e->text, sizeof(e->text), "Half of the waiting mail "
		    "has been delivered; %ld message%s still wait.",
		    o->waiting, plural(o->waiting));
	}
	expired = timeline_expired(t, o);
	if (expired > t->expired_written && n < TIMELINE_EVENTS_MAX &&
	    (t->last_expired == 0 ||
	    o->now - t->last_expired >= TIMELINE_QUIET)) {
		e = event(ev, &n, TIMELINE_EXPIRED, expired);
		snprintf(e->text, sizeof(e->text), "%ld message%s waited "
		    "past the time the server keeps trying: the server may "
		    "return %s to the sender%s as undeliverable. If your "
		    "mail comes back, please send it again.", expired,
		    plural(expired), expired == 1 ? "it" : "them",
		    plural(expired));
		t->expired_written = expired;
		t->last_expired = o->now;
	}
	if (o->waiting > 0) {
		t->empty_since = 0;
		return n;
	}
	if (t->empty_since == 0)
		t->empty_since = o->now;
	if (o->now - t->empty_since < TIMELINE_SETTLE ||
	    n == TIMELINE_EVENTS_MAX)
		return n;
	e = event(ev, &n, TIMELINE_CLEARED, MAXIMUM(delivered, 0));
	snprintf(e->text, sizeof(e->text), "All waiting mail has been "
	    "delivered (%ld message%s): mail flows normally again.",
	    MAXIMUM(delivered, 0), plural(delivered));
	memset(t, 0, sizeof(*t));
	return n;
}

void
timeline_restore(struct timeline *t, int kind, time_t when, long count)
{
	switch (kind) {
	case TIMELINE_FOUND:
		memset(t, 0, sizeof(*t));
		t->in_incident = 1;
		t->since = when;
		t->peak = count;
		break;
	case TIMELINE_STARTED:
		t->started = 1;
		break;
	case TIMELINE_PAUSED:
		t->paused = 1;
		t->last_pause = when;
		break;
	case TIMELINE_RESUMED:
		t->paused = 0;
		break;
	case TIMELINE_HALF:
		t->half = 1;
		break;
	case TIMELINE_EXPIRED:
		t->expired_written = count;
		t->last_expired = when;
		break;
	case TIMELINE_CLEARED:
		memset(t, 0, sizeof(*t));
		break;
	default:
		break;
	}
	/* the counts start again from what the next observation sees */
	t->based = 0;
}

void
timeline_local_time(time_t when, char *human, char *iso)
{
	struct tm	 tm;
	size_t		 n;

	if (localtime_r(&when, &tm) == NULL) {
		ebb_strlcpy(human, "?", 40);
		ebb_strlcpy(iso, "1970-01-01T00:00:00Z", 40);
		return;
	}
	if (strftime(human, 40, "%Y-%m-%d %H:%M %Z", &tm) == 0)
		ebb_strlcpy(human, "?", 40);
	/* %z is +0200; RFC 3339 wants +02:00 */
	n = strftime(iso, 40, "%Y-%m-%dT%H:%M:%S%z", &tm);
	if (n < 5) {
		ebb_strlcpy(iso, "1970-01-01T00:00:00Z", 40);
		return;
	}
	memmove(iso + n - 1, iso + n - 2, 3);
	iso[n - 2] = ':';
}
