/*
 * parent_handle.c - ebbd's privileged answers to the control commands
 *
 * The requests arrive checked (priv_decode_request); this file carries
 * them out on the drain and says what happened, as the JSON object that
 * ebbctl prints. pause, resume and rate change the budget the next
 * release step (a quarter second) uses; release and hold act at once and
 * only on what the ledger and the queue allow (drain.h).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ebb/config.h"
#include "ebb/control.h"
#include "ebb/drain.h"
#include "ebb/ledger.h"
#include "ebb/log.h"
#include "ebb/metrics.h"
#include "ebb/msg.h"
#include "ebb/mta.h"
#include "ebb/pace.h"
#include "ebb/qwatch.h"
#include "ebb/sensor.h"
#include "ebb/util.h"
#include "parent.h"
#include "parent_milter.h"

/* dump - a JSON object as allocated text; consumes o */
static char *
dump(json_t *o)
{
	char	*s, *text;

	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL)
		log_fatal("out of memory");
	text = xstrdup(s);
	free(s);
	json_decref(o);
	return text;
}

/* number - a finite double, or null */
static json_t *
number(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *
sensors_json(const struct sensor_sample *s)
{
	const struct sensor_reading *r;
	json_t		*a, *o;
	int		 i;

	a = json_array();
	for (i = 0; i < SENSOR_COUNT; i++) {
		r = &s->r[i];
		o = json_pack("{sssssb}", "name", sensor_name(i), "unit",
		    sensor_unit(i), "present", r->present);
		if (r->present) {
			json_object_set_new(o, "value", number(r->value));
			json_object_set_new(o, "limit", number(r->limit));
			json_object_set_new(o, "ratio", number(r->ratio));
		} else {
			json_object_set_new(o, "error", json_boolean(r->error));
			json_object_set_new(o, "why", json_string(r->why));
		}
		json_array_append_new(a, o);
	}
	return a;
}

/* the queue histograms: one struct metrics_hist per queue of the MTA */
struct hist_walk {
	struct parent	*p;
	struct metrics_hist h[MSG_QUEUE_MAX];
	time_t		 now;
};

static int
hist_one(void *arg, const struct msg *m)
{
	struct hist_walk *w = arg;

	if (m->queue < MSG_QUEUE_MAX)
		metrics_hist_add(&w->h[m->queue], (double)m->size,
		    m->arrival_time > 0 ? difftime(w->now, m->arrival_time) :
		    0);
	return 0;
}

static json_t *
buckets_json(const long *b, size_t n)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i <= n; i++)
		json_array_append_new(a, json_integer((json_int_t)b[i]));
	return a;
}

/* messages_json - per queue: count, size and age histograms */
static json_t *
messages_json(struct parent *p, time_t now)
{
	struct hist_walk *w = xcalloc(1, sizeof(*w));
	const struct metrics_hist *h;
	json_t		*o = json_object();
	int		 q;

	w->p = p;
	w->now = now;
	drain_foreach_msg(p->drain, hist_one, w);
	for (q = 0; q < mta_nqueues(p->mta) && q < MSG_QUEUE_MAX; q++) {
		h = &w->h[q];
		json_object_set_new(o, mta_queue_name(p->mta, q),
		    json_pack("{sIsfsfsoso}", "count", (json_int_t)h->count,
		    "size_sum", h->size_sum, "age_sum", h->age_sum,
		    "size", buckets_json(h->size, METRICS_SIZE_BUCKETS),
		    "age", buckets_json(h->age, METRICS_AGE_BUCKETS)));
	}
	free(w);
	return o;
}

char *
parent_status(struct parent *p)
{
	struct drain_status st;
	struct ledger_counts lc;
	struct qwatch_stats qs;
	struct budget	 b, gov;
	size_t		 q[MSG_QUEUE_MAX], r[MSG_ROLE_COUNT];
	size_t		 risk[DRAIN_RISK_COUNT];
	time_t		 now = time(NULL);
	json_t		*o, *queues, *roles;
	char		*err = NULL;
	int		 i;

	drain_status(p->drain, &st);
	drain_queue_counts(p->drain, q);
	drain_role_counts(p->drain, r);
	drain_at_risk(p->drain, now, risk);
	pace_budget(p->pace, &b);
	pace_governor_budget(p->pace, &gov);
	memset(&lc, 0, sizeof(lc));
	if (ledger_counts(p->ledger, &lc, &err) == -1) {
		log_warn("ledger: %s", err);
		free(err);
	}
	o = json_pack("{sbsIsIsb}", "ok", 1, "pid", (json_int_t)getpid(),
	    "uptime", (json_int_t)(now - p->started), "paused",
	    pace_paused(p->pace));
	json_object_set_new(o, "rate_cap", pace_cap(p->pace) > 0 ?
	    json_real(pace_cap(p->pace)) : json_null());
	json_object_set_new(o, "pressure", p->sample.npresent > 0 ?
	    number(p->sample.pressure) : json_null());
	json_object_set_new(o, "sensors", sensors_json(&p->sample));
	json_object_set_new(o, "rate", number(b.rate));
	json_object_set_new(o, "governor_rate", number(gov.rate));
	json_object_set_new(o, "window", json_integer(b.window));
	json_object_set_new(o, "cutoff", number(b.cutoff));
	json_object_set_new(o, "critical", json_boolean(b.critical));
	json_object_set_new(o, "stopped", json_boolean(b.stopped));
	/* by the MTA's own queue names, and by what they mean to ebb */
	queues = json_object();
	for (i = 0; i < mta_nqueues(p->mta); i++)
		json_object_set_new(queues, mta_queue_name(p->mta, i),
		    json_integer((json_int_t)q[i]));
	json_object_set_new(o, "queues", queues);
	roles = json_object();
	for (i = 0; i < MSG_ROLE_COUNT; i++)
		json_object_set_new(roles, msg_role_name(i),
		    json_integer((json_int_t)r[i]));
	json_object_set_new(o, "roles", roles);
	json_object_set_new(o, "parked", json_integer((json_int_t)st.parked));
	json_object_set_new(o, "admin_held",
	    json_integer((json_int_t)st.admin_held));
	json_object_set_new(o, "inflight",
	    json_integer((json_int_t)st.inflight));
	json_object_set_new(o, "released",
	    json_integer((json_int_t)st.released));
	json_object_set_new(o, "expired", json_integer((json_int_t)st.expired));
	json_object_set_new(o, "released_total",
	    json_integer((json_int_t)lc.released));
	json_object_set_new(o, "corrupt", json_integer((json_int_t)st.corrupt));
	json_object_set_new(o, "unreadable",
	    json_integer((json_int_t)st.unreadable));
	json_object_set_new(o, "stuck", json_integer((json_int_t)st.stuck));
	/* the proof of a hold: adopted on it, refused without it */
	json_object_set_new(o, "adopted", json_integer((json_int_t)st.adopted));
	json_object_set_new(o, "refused", json_integer((json_int_t)st.refused));
	json_object_set_new(o, "unproven",
	    json_integer((json_int_t)st.unproven));
	json_object_set_new(o, "at_risk", json_pack("{sIsIsIsIsI}",
	    "expired", (json_int_t)risk[DRAIN_RISK_EXPIRED],
	    "1h", (json_int_t)risk[DRAIN_RISK_1H],
	    "6h", (json_int_t)risk[DRAIN_RISK_6H],
	    "24h", (json_int_t)risk[DRAIN_RISK_24H],
	    "later", (json_int_t)risk[DRAIN_RISK_LATER]));
	json_object_set_new(o, "scan_duration", number(p->scan_duration));
	/* the live index (qwatch.h): drift is what a cross-check corrected */
	qwatch_stats(p->qwatch, &qs);
	json_object_set_new(o, "index_drift", json_integer((json_int_t)qs.drift));
	json_object_set_new(o, "index", json_pack("{sbsIsIsIsIsIsIsIsIsI}",
	    "live", qs.live, "watches", (json_int_t)qs.watches,
	    "events", (json_int_t)qs.events,
	    "live_updates", (json_int_t)qs.live_updates,
	    "refreshed", (json_int_t)qs.refreshed,
	    "full_scans", (json_int_t)qs.full_scans,
	    "checks", (json_int_t)qs.checks,
	    "overflows", (json_int_t)qs.overflows,
	    "drift", (json_int_t)qs.drift,
	    "watch_failures", (json_int_t)qs.watch_failures));
	/* how old the index behind list and backlog is (parent_query.c) */
	json_object_set_new(o, "index_age",
	    number(ebb_now_mono() - p->refreshed));
	json_object_set_new(o, "milter", parent_milter_json());
	json_object_set_new(o, "messages", messages_json(p, now));
	json_object_set_new(o, "outcomes", json_pack("{sIsI}", "left",
	    (json_int_t)st.left, "deferred_again",
	    (json_int_t)st.deferred_again));
	json_object_set_new(o, "incident", parent_incident_json(p));
	json_object_set_new(o, "eta", st.parked == 0 ? json_integer(0) :
	    b.rate > 0 ? json_integer((json_int_t)ceil(st.parked / b.rate)) :
	    json_null());
	return dump(o);
}

/* history walk: one point per step seconds at most */
struct history_walk {
	json_t	*points;
	time_t	 step, next;
	size_t	 n;
	struct ledger_sample last;	/* the newest seen; time 0: none */
	int	 last_in;		/* it is the newest point */
};

static json_t *
history_json(const struct ledger_sample *s)
{
	return json_pack("[IoIIfoo]", (json_int_t)s->time,
	    isnan(s->pressure) ? json_null() : json_real(s->pressure),
	    (json_int_t)(s->leaving + s->waiting + s->held + s->admin),
	    (json_int_t)s->parked, s->rate,
	    s->admitted >= 0 ? json_integer(s->admitted) : json_null(),
	    s->deferred >= 0 ? json_integer(s->deferred) : json_null());
}

static int
history_point(void *arg, const struct ledger_sample *s)
{
	struct history_walk *w = arg;

	w->last = *s;
	w->last_in = 0;
	if (s->time < w->next || w->n == PARENT_HISTORY_POINTS)
		return 0;
	w->next = s->time + w->step;
	json_array_append_new(w->points, history_json(s));
	w->last_in = 1;
	w->n++;
	return 0;
}

char *
parent_history(struct parent *p, time_t span, int *ok_r)
{
	struct history_walk w;
	time_t		 now = time(NULL);
	json_t		*o;
	char		*err = NULL, *s, *text;

	memset(&w, 0, sizeof(w));
	w.step = (span + PARENT_HISTORY_POINTS - 1) / PARENT_HISTORY_POINTS;
	if (w.step < 1)
		w.step = 1;
	w.points = json_array();
	if (ledger_history_since(p->ledger, now - span, history_point, &w,
	    &err) == -1) {
		json_decref(w.points);
		*ok_r = 0;
		return err;
	}
	/* the newest sample always ends the chart, however coarse the step */
	if (w.last.time != 0 && !w.last_in)
		json_array_append_new(w.points, history_json(&w.last));
	o = json_pack("{sbsIsIsIso}", "ok", 1, "now", (json_int_t)now, "step",
	    (json_int_t)w.step, "interval", (json_int_t)p->cfg->interval,
	    "points", w.points);
	json_object_set_new(o, "timeline", parent_timeline_json(p,
	    PARENT_TIMELINE_SHOWN));
	json_object_set_new(o, "incident", parent_incident_json(p));
	/*
	 * 361 points of 7 short numbers, about 20 kB, and at most
	 * PARENT_TIMELINE_SHOWN entries of LEDGER_EVENT_TEXT_MAX bytes
	 * (escaped, 6 for a control character, which a note cannot hold):
	 * under PRIV_TEXT_MAX
	 */
	if (o == NULL || (s = json_dumps(o, JSON_COMPACT |
	    JSON_REAL_PRECISION(5))) == NULL)
		log_fatal("out of memory");
	json_decref(o);
	text = xstrdup(s);
	free(s);
	*ok_r = 1;
	return text;
}

/* ids - the request's ids as the const char * array the drain takes */
static void
ids_of(const struct control_request *r, const char *ids[CONTROL_IDS_MAX])
{
	size_t	 i;

	for (i = 0; i < r->nids; i++)
		ids[i] = r->ids[i];
}

char *
parent_handle(struct parent *p, const struct control_request *r, int *ok_r)
{
	const char	*ids[CONTROL_IDS_MAX];
	char		*err = NULL;

	*ok_r = 1;
	switch (r->command) {
	case CONTROL_STATUS:
		return parent_status(p);
	case CONTROL_PAUSE:
		if (!pace_paused(p->pace))
			log_info("paused: no releases until \"ebbctl resume\"");
		pace_pause(p->pace, 1);
		return dump(json_pack("{sbsb}", "ok", 1, "paused", 1));
	case CONTROL_RESUME:
		if (pace_paused(p->pace))
			log_info("resumed");
		pace_pause(p->pace, 0);
		return dump(json_pack("{sbsb}", "ok", 1, "paused", 0));
	case CONTROL_RATE:
		pace_set_cap(p->pace, r->rate);
		if (r->rate > 0)
			log_info("rate capped at %.1f messages/s", r->rate);
		else
			log_info("rate cap removed");
		return dump(json_pack("{sbso}", "ok", 1, "rate_cap",
		    r->rate > 0 ? json_real(r->rate) : json_null()));
	case CONTROL_RELEASE:
		ids_of(r, ids);
		if (drain_release_ids(p->drain, ids, r->nids, time(NULL),
		    &err) == -1)
			break;
		return dump(json_pack("{sbsI}", "ok", 1, "released",
		    (json_int_t)r->nids));
	case CONTROL_HOLD:
		ids_of(r, ids);
		if (drain_hold_ids(p->drain, ids, r->nids, time(NULL),
		    &err) == -1)
			break;
		return dump(json_pack("{sbsI}", "ok", 1, "parked",
		    (json_int_t)r->nids));
	case CONTROL_FAILSAFE:
		return parent_failsafe(p, ok_r);
	case CONTROL_NOTE:
		return parent_note(p, r->note, ok_r);
	case CONTROL_BACKLOG:
		return parent_backlog(p, r, ok_r);
	case CONTROL_LIST:
		return parent_list(p, r, ok_r);
	default:
		err = xstrdup("unknown command");
		break;
	}
	*ok_r = 0;
	return err;
}
