/*
 * parent_timeline.c - the incident timeline, as ebbd's parent keeps it
 *
 * Each sample (parent.c's tick) becomes one observation for the timeline
 * (timeline.h) and what it writes goes to the ledger at once, so the
 * page, its Atom feed and the next start all read the same entries. The
 * times are formatted here, in the parent, with the host's time zone: the
 * unprivileged child and the reader's browser may have another.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ebb/drain.h"
#include "ebb/ledger.h"
#include "ebb/log.h"
#include "ebb/pace.h"
#include "ebb/sensor.h"
#include "ebb/timeline.h"
#include "ebb/util.h"
#include "parent.h"

static int
restore_one(void *arg, const struct ledger_event *e)
{
	struct parent	*p = arg;
	int		 kind = timeline_kind_lookup(e->kind);

	if (kind >= 0)
		timeline_restore(&p->timeline, kind, e->time, e->count);
	return 0;
}

void
parent_timeline_restore(struct parent *p)
{
	char	*err = NULL;

	memset(&p->timeline, 0, sizeof(p->timeline));
	if (ledger_events_recent(p->ledger, LEDGER_EVENTS_KEEP, restore_one,
	    p, &err) == -1) {
		log_warn("timeline: %s", err);
		free(err);
		memset(&p->timeline, 0, sizeof(p->timeline));
	}
}

/* store - one entry into the ledger; a failure is a log line */
static void
store(struct parent *p, time_t now, const char *kind, long count,
    const char *text, char **err_r)
{
	struct ledger_event e;

	memset(&e, 0, sizeof(e));
	e.time = now;
	e.count = count;
	ebb_strlcpy(e.kind, kind, sizeof(e.kind));
	ebb_strlcpy(e.text, text, sizeof(e.text));
	if (ledger_event_add(p->ledger, &e, err_r) == 0)
		*err_r = NULL;
}

/* limit_name - the present sensor nearest its limit, or NULL */
static const char *
limit_name(const struct sensor_sample *s)
{
	const char	*name = NULL;
	double		 most = -1;
	int		 i;

	for (i = 0; i < SENSOR_COUNT; i++)
		if (s->r[i].present && s->r[i].ratio > most) {
			most = s->r[i].ratio;
			name = sensor_name(i);
		}
	return name;
}

void
parent_timeline_tick(struct parent *p, time_t now)
{
	struct timeline_event ev[TIMELINE_EVENTS_MAX];
	struct timeline_obs *o = &p->seen;
	struct drain_status st;
	struct budget	 b;
	size_t		 r[MSG_ROLE_COUNT], risk[DRAIN_RISK_COUNT], n, i;
	char		*err = NULL;

	drain_status(p->drain, &st);
	drain_role_counts(p->drain, r);
	drain_at_risk(p->drain, now, risk);
	pace_budget(p->pace, &b);
	memset(o, 0, sizeof(*o));
	o->now = now;
	o->waiting = (long)(st.parked + r[MSG_ROLE_WAITING]);
	o->released = (long)st.released;
	o->expired_released = (long)st.expired;
	o->expired_parked = (long)risk[DRAIN_RISK_EXPIRED];
	/* the administrator's pause is not the load's */
	o->blocked = b.stopped && !pace_paused(p->pace);
	o->limit = p->sample.npresent > 0 ? limit_name(&p->sample) : NULL;
	n = timeline_observe(&p->timeline, o, ev);
	for (i = 0; i < n; i++) {
		log_info("timeline: %s", ev[i].text);
		store(p, now, timeline_kind_name(ev[i].kind), ev[i].count,
		    ev[i].text, &err);
		if (err != NULL) {
			log_warn("timeline: %s", err);
			free(err);
			err = NULL;
		}
	}
}

struct json_t *
parent_incident_json(struct parent *p)
{
	char	 human[40], iso[40];

	if (!p->timeline.in_incident)
		return json_null();
	timeline_local_time(p->timeline.since, human, iso);
	return json_pack("{sIsssssI}", "since",
	    (json_int_t)p->timeline.since, "since_local", human, "since_iso",
	    iso, "expired", (json_int_t)timeline_expired(&p->timeline,
	    &p->seen));
}

static int
entry_json(void *arg, const struct ledger_event *e)
{
	json_t	*a = arg;
	char	 human[40], iso[40];

	timeline_local_time(e->time, human, iso);
	/* newest first: each older one goes in front */
	json_array_insert_new(a, 0, json_pack("{sIsIssssssss}", "id",
	    (json_int_t)e->id, "time", (json_int_t)e->time, "local", human,
	    "iso", iso, "kind", e->kind, "text", e->text));
	return 0;
}

struct json_t *
parent_timeline_json(struct parent *p, size_t max)
{
	json_t	*a = json_array();
	char	*err = NULL;

	if (ledger_events_recent(p->ledger, max, entry_json, a, &err) == -1) {
		log_warn("timeline: %s", err);
		free(err);
	}
	return a;
}

char *
parent_note(struct parent *p, const char *text, int *ok_r)
{
	char	*err = NULL;
	json_t	*o;
	char	*s, *out;

	store(p, time(NULL), "note", 0, text, &err);
	if (err != NULL) {
		*ok_r = 0;
		return err;
	}
	log_info("timeline: the administrator's note added");
	o = json_pack("{sbss}", "ok", 1, "note", text);
	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL)
		log_fatal("out of memory");
	json_decref(o);
	out = xstrdup(s);
	free(s);
	*ok_r = 1;
	return out;
}
