/*
 * metrics.c - the status object as Prometheus text and as a public summary
 *
 * metrics_from_status reads what the parent reports (parent_handle.c) into
 * plain data; metrics_render and metrics_summary write it out. The
 * Prometheus families are fixed here, in one table-like function, so the
 * man page's list (ebbd(8), HTTP) has one place to agree with.
 *
 * The milter's part of the status (parent_milter.c) is counted by ebbd's
 * unprivileged child, so its names are bounded and checked here before
 * any becomes a label value, and a histogram that does not add up is left
 * out rather than written wrong.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ebb/metrics.h"
#include "ebb/util.h"

static const char *const risk_label[METRICS_RISK_COUNT] = {
	"expired", "lt1h", "lt6h", "lt24h", "later"
};
static const char *const risk_key[METRICS_RISK_COUNT] = {
	"expired", "1h", "6h", "24h", "later"
};

const double metrics_size_bounds[METRICS_SIZE_BUCKETS] = {
	1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9
};
const double metrics_age_bounds[METRICS_AGE_BUCKETS] = {
	1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8
};

/* bucket_of - the first bucket whose bound holds v; n: +Inf */
static size_t
bucket_of(const double *bounds, size_t n, double v)
{
	size_t	 i;

	for (i = 0; i < n && v > bounds[i]; i++)
		;
	return i;
}

void
metrics_hist_add(struct metrics_hist *h, double size, double age)
{
	if (!(size >= 0))
		size = 0;
	if (!(age >= 0))
		age = 0;	/* a clock that went back: as new */
	h->count++;
	h->size[bucket_of(metrics_size_bounds, METRICS_SIZE_BUCKETS,
	    size)]++;
	h->size_sum += size;
	h->age[bucket_of(metrics_age_bounds, METRICS_AGE_BUCKETS, age)]++;
	h->age_sum += age;
}

int
metrics_eta(long waiting, double rate, int paused, int stopped,
    double *eta_r, const char **why_r)
{
	*eta_r = 0;
	*why_r = NULL;
	if (waiting <= 0)
		return 1;
	if (paused)
		*why_r = "no estimate: delivery is paused by the "
		    "administrators";
	else if (stopped)
		*why_r = "no estimate: delivery waits for the server's load "
		    "to drop";
	else if (!(rate > 0))
		*why_r = "no estimate yet: delivery has not started";
	else if ((double)waiting / rate > METRICS_ETA_MAX)
		*why_r = "no estimate: too slow to tell";
	if (*why_r != NULL)
		return 0;
	*eta_r = ceil((double)waiting / rate);
	return 1;
}

const char *
metrics_risk_label(int bucket)
{
	return bucket >= 0 && bucket < METRICS_RISK_COUNT ?
	    risk_label[bucket] : NULL;
}

static double
get_real(json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* count_value - v as a count, or -1 when it is not one */
static long
count_value(json_t *v)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > (json_int_t)1e15)
		return -1;
	return (long)json_integer_value(v);
}

/* get_total - the count under key, or -1 when unknown */
static long
get_total(json_t *o, const char *key)
{
	return count_value(json_object_get(o, key));
}

/* get_count - the count under key, or 0 when unknown */
static long
get_count(json_t *o, const char *key)
{
	long	 n = get_total(o, key);

	return n < 0 ? 0 : n;
}

/*
 * label_ok - a name fit for a label value without escaping (a queue name
 * such as Sendmail's "quarantine-admin" has a hyphen)
 */
static int
label_ok(const char *s)
{
	size_t	 n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");

	return n > 0 && s[n] == '\0' && n < METRICS_NAME_MAX;
}

/*
 * read_counts - o's name: count members fit for labels into c[]; the
 * names are distinct, as the status is read with JSON_REJECT_DUPLICATES
 */
static size_t
read_counts(json_t *o, struct metrics_count *c)
{
	const char	*key;
	json_t		*v;
	size_t		 n = 0;
	long		 k;

	if (!json_is_object(o))
		return 0;
	json_object_foreach(o, key, v) {
		if (n == METRICS_LABELS_MAX)
			break;
		if (!label_ok(key) || (k = count_value(v)) == -1)
			continue;
		ebb_strlcpy(c[n].name, key, sizeof(c[n].name));
		c[n++].n = k;
	}
	return n;
}

/* bound_us - the bound of a "le_N" key (N > 0 µs, no leading 0), or -1 */
static long
bound_us(const char *key)
{
	size_t	 n;

	if (strncmp(key, "le_", 3) != 0)
		return -1;
	key += 3;
	n = strspn(key, "0123456789");
	if (n == 0 || n > 9 || key[n] != '\0' || key[0] == '0')
		return -1;
	return strtol(key, NULL, 10);
}

/*
 * read_latency - the "latency_us" object ("le_N": count, ..., "more":
 * count) into mm's buckets, sorted by bound; all of it or nothing
 */
static void
read_latency(json_t *o, struct metrics_milter *mm)
{
	long		 bound[METRICS_BUCKETS_MAX], count[METRICS_BUCKETS_MAX];
	long		 more = -1, b, c;
	const char	*key;
	json_t		*v;
	size_t		 n = 0, i;

	mm->nbuckets = 0;
	if (!json_is_object(o))
		return;
	json_object_foreach(o, key, v) {
		if ((c = count_value(v)) == -1)
			return;
		if (strcmp(key, "more") == 0) {
			more = c;
			continue;
		}
		if (n == METRICS_BUCKETS_MAX - 1 || (b = bound_us(key)) == -1)
			return;
		for (i = n; i > 0 && bound[i - 1] > b; i--) {
			bound[i] = bound[i - 1];
			count[i] = count[i - 1];
		}
		if (i > 0 && bound[i - 1] == b)
			return;
		bound[i] = b;
		count[i] = c;
		n++;
	}
	if (more == -1)
		return;
	memcpy(mm->bound_us, bound, n * sizeof(bound[0]));
	memcpy(mm->bucket, count, n * sizeof(count[0]));
	mm->bucket[n] = more;
	mm->nbuckets = n + 1;
}

/*
 * read_buckets - an array of exactly n + 1 counts into b[]; their sum, or
 * -1 when it is not such an array
 */
static long
read_buckets(json_t *a, long *b, size_t n)
{
	json_t	*v;
	size_t	 i;
	long	 sum = 0;

	if (!json_is_array(a) || json_array_size(a) != n + 1)
		return -1;
	json_array_foreach(a, i, v) {
		if ((b[i] = count_value(v)) == -1)
			return -1;
		sum += b[i];
	}
	return sum;
}

/*
 * read_hists - the status's "messages": per queue, histograms of size and
 * age. A queue whose buckets do not add up to its count is left out.
 */
static void
read_hists(json_t *o, struct metrics *m)
{
	struct metrics_hist *h;
	const char	*key;
	json_t		*v;

	if (!json_is_object(o))
		return;
	json_object_foreach(o, key, v) {
		if (m->nhists == METRICS_QUEUES_MAX)
			break;
		if (!label_ok(key) || !json_is_object(v))
			continue;
		h = &m->hist[m->nhists];
		memset(h, 0, sizeof(*h));
		ebb_strlcpy(h->name, key, sizeof(h->name));
		h->count = get_total(v, "count");
		h->size_sum = get_real(v, "size_sum");
		h->age_sum = get_real(v, "age_sum");
		if (h->count < 0 || !(h->size_sum >= 0) || !(h->age_sum >= 0) ||
		    read_buckets(json_object_get(v, "size"), h->size,
		    METRICS_SIZE_BUCKETS) != h->count ||
		    read_buckets(json_object_get(v, "age"), h->age,
		    METRICS_AGE_BUCKETS) != h->count)
			continue;
		m->nhists++;
	}
}

/* read_incident - the status's "incident", when there is one */
static void
read_incident(json_t *o, struct metrics *m)
{
	const char	*s;
	long		 since;

	if (!json_is_object(o) || (since = get_total(o, "since")) <= 0)
		return;
	s = json_string_value(json_object_get(o, "since_local"));
	/* shown on the page: a short plain line, or nothing */
	if (s == NULL || strlen(s) >= sizeof(m->since_local) ||
	    !ebb_text_line_valid(s, strlen(s)))
		s = "";
	m->since = since;
	ebb_strlcpy(m->since_local, s, sizeof(m->since_local));
	m->incident_expired = get_count(o, "expired");
}

/* read_milter - the status object's "milter", when it is an object */
static void
read_milter(json_t *o, struct metrics_milter *mm)
{
	if (!json_is_object(o))
		return;
	mm->present = 1;
	mm->connections = get_total(o, "connections");
	mm->messages = get_total(o, "messages");
	mm->accepted = get_total(o, "accepted");
	mm->held = get_total(o, "held");
	mm->tempfailed = get_total(o, "tempfailed");
	mm->rejected = get_total(o, "rejected");
	mm->rate_limited = get_total(o, "rate_limited");
	mm->errors = get_total(o, "errors");
	mm->nreasons = read_counts(json_object_get(o, "reasons"), mm->reason);
	mm->nspf = read_counts(json_object_get(o, "spf"), mm->spf);
	read_latency(json_object_get(o, "latency_us"), mm);
	mm->latency_sum_us = get_total(o, "latency_sum_us");
}

int
metrics_from_status(const char *text, size_t len, struct metrics *m,
    char **err_r)
{
	json_error_t	 je;
	json_t		*o, *a, *s, *q;
	const char	*name;
	size_t		 i;
	int		 k;

	memset(m, 0, sizeof(*m));
	m->pressure = m->rate = m->scan_duration = m->eta = NAN;
	m->left = m->deferred_again = -1;
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		*err_r = xasprintf("status: not a JSON object");
		return -1;
	}
	m->pressure = get_real(o, "pressure");
	m->rate = get_real(o, "rate");
	m->window = get_count(o, "window");
	m->parked = get_count(o, "parked");
	m->released_total = get_count(o, "released_total");
	m->expired_total = get_count(o, "expired");
	m->index_drift = get_count(o, "index_drift");
	m->scan_duration = get_real(o, "scan_duration");
	m->eta = get_real(o, "eta");
	/* it becomes an integer: out of range is unknown, not undefined */
	if (!(m->eta >= 0 && m->eta <= METRICS_ETA_MAX))
		m->eta = NAN;
	m->uptime = get_count(o, "uptime");
	m->paused = json_is_true(json_object_get(o, "paused"));
	m->stopped = json_is_true(json_object_get(o, "stopped"));
	/* the queues by the MTA's names, whatever MTA it is */
	m->nqueues = read_counts(json_object_get(o, "queues"), m->queue);
	q = json_object_get(o, "roles");
	for (k = 0; k < MSG_ROLE_COUNT; k++)
		m->role[k] = get_count(q, msg_role_name((int)k));
	q = json_object_get(o, "at_risk");
	for (k = 0; k < METRICS_RISK_COUNT; k++)
		m->at_risk[k] = get_count(q, risk_key[k]);
	a = json_object_get(o, "sensors");
	json_array_foreach(a, i, s) {
		struct metrics_sensor *ms;

		if (m->nsensors == METRICS_SENSORS_MAX)
			break;
		name = json_string_value(json_object_get(s, "name"));
		if (name == NULL || !label_ok(name))
			continue;
		ms = &m->sensor[m->nsensors++];
		ebb_strlcpy(ms->name, name, sizeof(ms->name));
		ms->present = json_is_true(json_object_get(s, "present"));
		ms->ratio = ms->present ? get_real(s, "ratio") : NAN;
		ms->value = ms->present ? get_real(s, "value") : NAN;
		ms->limit = ms->present ? get_real(s, "limit") : NAN;
	}
	read_milter(json_object_get(o, "milter"), &m->milter);
	read_hists(json_object_get(o, "messages"), m);
	q = json_object_get(o, "outcomes");
	m->left = get_total(q, "left");
	m->deferred_again = get_total(q, "deferred_again");
	read_incident(json_object_get(o, "incident"), m);
	json_decref(o);
	return 0;
}

/* out - a growing text buffer, never failing (xrealloc) */
struct out {
	char	*buf;
	size_t	 len, size;
};

static void out_printf(struct out *, const char *, ...) EBB_PRINTF(2, 3);

static void
out_printf(struct out *o, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if ((size_t)n < o->size - o->len)
			break;
		o->size = (o->size + (size_t)n + 1) * 2;
		o->buf = xreallocarray(o->buf, o->size, 1);
	}
	o->len += (size_t)n;
}

static void
family(struct out *o, const char *name, const char *type, const char *help)
{
	out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* gauge - one sample without labels, when known */
static void
gauge(struct out *o, const char *name, const char *type, const char *help,
    double v)
{
	if (isnan(v))
		return;
	family(o, name, type, help);
	out_printf(o, "%s %.17g\n", name, v);
}

/* out_label - name{label="value"}, the value escaped as the format asks */
static void
out_label(struct out *o, const char *name, const char *label,
    const char *value)
{
	size_t	 n;

	out_printf(o, "%s{%s=\"", name, label);
	for (;;) {
		n = strcspn(value, "\\\"\n");
		out_printf(o, "%.*s", (int)n, value);
		if (value[n] == '\0')
			break;
		out_printf(o, "\\%c", value[n] == '\n' ? 'n' : value[n]);
		value += n + 1;
	}
	out_printf(o, "\"}");
}

/* seconds - us microseconds as exact decimal seconds: "0.000025", "1" */
static const char *
seconds(long us, char *buf, size_t size)
{
	size_t	 n;

	snprintf(buf, size, "%ld.%06ld", us / 1000000, us % 1000000);
	n = strlen(buf);
	while (buf[n - 1] == '0')
		buf[--n] = '\0';
	if (buf[n - 1] == '.')
		buf[--n] = '\0';
	return buf;
}

/* total - one counter without labels, when known */
static void
total(struct out *o, const char *name, const char *help, long n)
{
	if (n < 0)
		return;
	family(o, name, "counter", help);
	out_printf(o, "%s %ld\n", name, n);
}

/* totals - a counter with one sample per named count, when there is one */
static void
totals(struct out *o, const char *name, const char *label, const char *help,
    const struct metrics_count *c, size_t n)
{
	size_t	 i;

	if (n == 0)
		return;
	family(o, name, "counter", help);
	for (i = 0; i < n; i++) {
		out_label(o, name, label, c[i].name);
		out_printf(o, " %ld\n", c[i].n);
	}
}

/* count_add - a named count into c[*n], when it is known */
static void
count_add(struct metrics_count *c, size_t *n, const char *name, long v)
{
	if (v < 0)
		return;
	ebb_strlcpy(c[*n].name, name, sizeof(c[*n].name));
	c[(*n)++].n = v;
}

/* render_decisions - the milter's answers by admit verdict, when known */
static void
render_decisions(struct out *o, const struct metrics_milter *mm)
{
	struct metrics_count c[4];
	size_t	 n = 0;

	/* "accepted" counts the held too: the verdicts must not overlap */
	count_add(c, &n, "accept", mm->held >= 0 &&
	    mm->held <= mm->accepted ? mm->accepted - mm->held : -1);
	count_add(c, &n, "hold", mm->held);
	count_add(c, &n, "tempfail", mm->tempfailed);
	count_add(c, &n, "reject", mm->rejected);
	totals(o, "ebb_milter_decisions_total", "verdict", "Messages the "
	    "milter accepted, accepted into hold, tempfailed or rejected.",
	    c, n);
}

/* render_latency - the decision latency as a cumulative histogram */
static void
render_latency(struct out *o, const struct metrics_milter *mm)
{
	static const char name[] = "ebb_milter_decision_seconds";
	char	 le[32];
	long	 sum = 0;
	size_t	 i;

	if (mm->nbuckets == 0)
		return;
	family(o, name, "histogram",
	    "Time the milter took to reach each admission decision.");
	for (i = 0; i < mm->nbuckets; i++) {
		sum += mm->bucket[i];
		if (i + 1 < mm->nbuckets)
			seconds(mm->bound_us[i], le, sizeof(le));
		else
			ebb_strlcpy(le, "+Inf", sizeof(le));
		out_printf(o, "%s_bucket{le=\"%s\"} %ld\n", name, le, sum);
	}
	if (mm->latency_sum_us >= 0)
		out_printf(o, "%s_sum %s\n", name,
		    seconds(mm->latency_sum_us, le, sizeof(le)));
	out_printf(o, "%s_count %ld\n", name, sum);
}

/* render_milter - the ebb_milter_ families */
static void
render_milter(struct out *o, const struct metrics_milter *mm)
{
	total(o, "ebb_milter_connections_total", "SMTP connections the "
	    "milter has seen.", mm->connections);
	total(o, "ebb_milter_messages_total", "Messages (MAIL FROM) the "
	    "milter has seen.", mm->messages);
	render_decisions(o, mm);
	totals(o, "ebb_milter_reason_total", "reason", "Admission decisions, "
	    "at MAIL FROM and at the end of the headers, by reason.",
	    mm->reason, mm->nreasons);
	totals(o, "ebb_milter_spf_total", "result", "SPF checks by result.",
	    mm->spf, mm->nspf);
	total(o, "ebb_milter_rate_limited_total", "Decisions refused by the "
	    "per-client rate limits.", mm->rate_limited);
	total(o, "ebb_milter_errors_total", "Internal milter errors, each "
	    "answered with a tempfail.", mm->errors);
	render_latency(o, mm);
}

/* which - what render_sensors writes of each sensor */
enum { SENSOR_RATIO, SENSOR_VALUE, SENSOR_LIMIT };

/* sensor_field - the field of a present sensor, NAN when absent */
static double
sensor_field(const struct metrics_sensor *ms, int which)
{
	if (!ms->present)
		return NAN;
	return which == SENSOR_RATIO ? ms->ratio : which == SENSOR_VALUE ?
	    ms->value : ms->limit;
}

/* render_sensors - one family, a sample per present sensor */
static void
render_sensors(struct out *o, const struct metrics *m, const char *name,
    int which, const char *help)
{
	size_t	 i;
	double	 v;

	family(o, name, "gauge", help);
	for (i = 0; i < m->nsensors; i++) {
		if (isnan(v = sensor_field(&m->sensor[i], which)))
			continue;
		out_label(o, name, "sensor", m->sensor[i].name);
		out_printf(o, " %.17g\n", v);
	}
}

/* render_hist - one histogram family, a series per queue */
static void
render_hist(struct out *o, const struct metrics *m, const char *name,
    const char *help, int age)
{
	const struct metrics_hist *h;
	const double	*bounds = age ? metrics_age_bounds :
	    metrics_size_bounds;
	size_t		 nb = age ? METRICS_AGE_BUCKETS : METRICS_SIZE_BUCKETS;
	size_t		 q, i;
	long		 sum;

	if (m->nhists == 0)
		return;
	family(o, name, "histogram", help);
	for (q = 0; q < m->nhists; q++) {
		h = &m->hist[q];
		sum = 0;
		for (i = 0; i <= nb; i++) {
			sum += age ? h->age[i] : h->size[i];
			if (i < nb)
				out_printf(o, "%s_bucket{queue=\"%s\","
				    "le=\"%.17g\"} %ld\n", name, h->name,
				    bounds[i], sum);
			else
				out_printf(o, "%s_bucket{queue=\"%s\","
				    "le=\"+Inf\"} %ld\n", name, h->name, sum);
		}
		out_printf(o, "%s_sum{queue=\"%s\"} %.17g\n", name, h->name,
		    age ? h->age_sum : h->size_sum);
		out_printf(o, "%s_count{queue=\"%s\"} %ld\n", name, h->name,
		    h->count);
	}
}

/* render_up - ebb_up and ebb_build_info, first in every rendering */
static void
render_up(struct out *o, int up)
{
	gauge(o, "ebb_up", "gauge", "1 when ebbd's drain answered this "
	    "scrape, 0 when it did not.", up);
	family(o, "ebb_build_info", "gauge",
	    "Always 1; the version of ebb that answers, as a label.");
	out_label(o, "ebb_build_info", "version", PACKAGE_VERSION);
	out_printf(o, " 1\n");
}

char *
metrics_render_down(void)
{
	struct out	 o = { NULL, 0, 0 };

	o.size = 512;
	o.buf = xmalloc(o.size);
	o.buf[0] = '\0';
	render_up(&o, 0);
	return o.buf;
}

char *
metrics_render(const struct metrics *m)
{
	struct out	 o = { NULL, 0, 0 };
	size_t		 i;
	int		 k;

	o.size = 4096;
	o.buf = xmalloc(o.size);
	o.buf[0] = '\0';
	render_up(&o, 1);
	gauge(&o, "ebb_pressure", "gauge", "Host pressure: the largest "
	    "sensor ratio (1 means a limit is reached).", m->pressure);
	render_sensors(&o, m, "ebb_sensor_ratio", SENSOR_RATIO,
	    "Each present sensor's reading divided by its limit.");
	render_sensors(&o, m, "ebb_sensor_value", SENSOR_VALUE,
	    "Each present sensor's raw reading, in its unit (ebbctl "
	    "sensors).");
	render_sensors(&o, m, "ebb_sensor_limit", SENSOR_LIMIT,
	    "Each present sensor's limit, in the unit of its reading.");
	family(&o, "ebb_sensor_present", "gauge",
	    "1 when the host has the sensor, 0 when it is absent.");
	for (i = 0; i < m->nsensors; i++) {
		out_label(&o, "ebb_sensor_present", "sensor",
		    m->sensor[i].name);
		out_printf(&o, " %d\n", m->sensor[i].present);
	}
	gauge(&o, "ebb_release_rate", "gauge",
	    "Releases per second the governor grants now.", m->rate);
	gauge(&o, "ebb_window", "gauge", "Most released messages in flight.",
	    (double)m->window);
	family(&o, "ebb_backlog", "gauge", "Messages in each MTA queue.");
	for (k = 0; (size_t)k < m->nqueues; k++)
		out_printf(&o, "ebb_backlog{queue=\"%s\"} %ld\n",
		    m->queue[k].name, m->queue[k].n);
	family(&o, "ebb_backlog_role", "gauge", "Messages by what their "
	    "queue means to ebb: leaving, waiting for a retry, held (ebb's "
	    "or the administrator's), held by the administrator only.");
	for (k = 0; k < MSG_ROLE_COUNT; k++)
		out_printf(&o, "ebb_backlog_role{role=\"%s\"} %ld\n",
		    msg_role_name((int)k), m->role[k]);
	gauge(&o, "ebb_parked", "gauge",
	    "Messages ebb parked in hold and has not released yet.",
	    (double)m->parked);
	gauge(&o, "ebb_released_total", "counter",
	    "Messages ebb released from hold, as the ledger counts them.",
	    (double)m->released_total);
	gauge(&o, "ebb_expired_total", "counter", "Messages this ebbd "
	    "released after their bounce deadline had passed.",
	    (double)m->expired_total);
	family(&o, "ebb_at_risk", "gauge",
	    "Parked messages by time left to their bounce deadline.");
	for (k = 0; k < METRICS_RISK_COUNT; k++)
		out_printf(&o, "ebb_at_risk{bucket=\"%s\"} %ld\n",
		    risk_label[k], m->at_risk[k]);
	if (m->left >= 0 && m->deferred_again >= 0) {
		family(&o, "ebb_release_outcomes_total", "counter", "What "
		    "the messages this ebbd released did next: left the queue "
		    "(delivered, or bounced: the queue cannot tell which), or "
		    "were tried and deferred again.");
		out_printf(&o, "ebb_release_outcomes_total{outcome=\"left\"} "
		    "%ld\n", m->left);
		out_printf(&o, "ebb_release_outcomes_total{outcome="
		    "\"deferred_again\"} %ld\n", m->deferred_again);
	}
	render_hist(&o, m, "ebb_queue_message_size_bytes", "Size of the "
	    "messages in each MTA queue, in bytes (postfix_exporter's "
	    "buckets).", 0);
	render_hist(&o, m, "ebb_queue_message_age_seconds", "Age of the "
	    "messages in each MTA queue since they arrived, in seconds "
	    "(postfix_exporter's buckets).", 1);
	gauge(&o, "ebb_scan_duration_seconds", "gauge",
	    "How long the last scan of the queue took.", m->scan_duration);
	gauge(&o, "ebb_index_drift_total", "counter", "Messages a cross-check "
	    "scan found ebbd's live index had wrong, missing or extra.",
	    (double)m->index_drift);
	gauge(&o, "ebb_paused", "gauge", "1 while \"ebbctl pause\" holds "
	    "releases.", m->paused);
	gauge(&o, "ebb_uptime_seconds", "gauge", "Seconds since ebbd started.",
	    (double)m->uptime);
	if (m->milter.present)
		render_milter(&o, &m->milter);
	return o.buf;
}

/* count_words - n with thousands separators, into buf */
static const char *
count_words(long n, char *buf, size_t size)
{
	char	 raw[32];
	size_t	 len, i, j = 0;

	snprintf(raw, sizeof(raw), "%ld", n < 0 ? 0 : n);
	len = strlen(raw);
	for (i = 0; i < len && j + 2 < size; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			buf[j++] = ',';
		buf[j++] = raw[i];
	}
	buf[j] = '\0';
	return buf;
}

/* duration_words - "about 3 hours", "a few minutes" */
static void
duration_words(double s, char *buf, size_t size)
{
	if (s < 120)
		snprintf(buf, size, "a few minutes");
	else if (s < 5400)
		snprintf(buf, size, "about %.0f minutes", s / 60);
	else if (s < 2 * 86400)
		snprintf(buf, size, "about %.0f hours", s / 3600);
	else
		snprintf(buf, size, "about %.0f days", s / 86400);
}

/* null_or - a JSON string, or null for "" */
static json_t *
null_or(const char *s)
{
	return s[0] != '\0' ? json_string(s) : json_null();
}

char *
metrics_summary(const struct metrics *m, time_t now)
{
	const char	*state, *why;
	char		 words[1024], n[32], eta[96], since[80];
	char		 lost[320], advice[256];
	long		 waiting = m->parked +
	    MAXIMUM(m->role[MSG_ROLE_WAITING], 0);
	long		 expired = MAXIMUM(m->incident_expired,
	    m->at_risk[METRICS_RISK_EXPIRED]);
	double		 secs;
	int		 have_eta;
	json_t		*o;
	char		*s, *text;

	count_words(waiting, n, sizeof(n));
	have_eta = metrics_eta(waiting, m->rate, m->paused, m->stopped,
	    &secs, &why);
	if (have_eta && waiting > 0)
		duration_words(secs, eta, sizeof(eta));
	else
		snprintf(eta, sizeof(eta), "%s", have_eta ? "done" : why);
	if (m->since > 0 && m->since_local[0] != '\0')
		snprintf(since, sizeof(since), " since %s", m->since_local);
	else
		since[0] = '\0';
	/* honest: "no mail is lost" only while none is past its deadline */
	advice[0] = '\0';
	if (expired > 0) {
		snprintf(lost, sizeof(lost), " %ld message%s waited past the "
		    "time the server keeps trying and may be returned to "
		    "%s sender%s as undeliverable.", expired,
		    expired == 1 ? "" : "s", expired == 1 ? "its" : "their",
		    expired == 1 ? "" : "s");
		snprintf(advice, sizeof(advice), "If you sent mail%s and it "
		    "came back as undeliverable, please send it again.",
		    since[0] != '\0' ? since : " recently");
	} else
		snprintf(lost, sizeof(lost), " No mail is lost: it waits "
		    "safely in the queue.");
	if (waiting == 0) {
		state = "normal";
		snprintf(words, sizeof(words), "Mail is flowing normally: "
		    "no backlog is waiting for delivery.%s",
		    expired > 0 ? lost : "");
	} else if (m->paused) {
		state = "paused";
		snprintf(words, sizeof(words), "%s message%s waiting. "
		    "Delivery of the backlog is paused by the administrators "
		    "for now.%s", n, waiting == 1 ? " is" : "s are", lost);
	} else if (m->stopped || !(m->rate > 0)) {
		state = "busy";
		snprintf(words, sizeof(words), "The mail server is under "
		    "heavy load%s. %s message%s waiting; delivery resumes as "
		    "soon as the load drops.%s", since, n,
		    waiting == 1 ? " is" : "s are", lost);
	} else {
		state = "recovering";
		snprintf(words, sizeof(words), "The mail server is catching "
		    "up after an outage%s. %s message%s waiting and being "
		    "delivered at about %.0f per second, the mail closest to "
		    "its deadline first. At this pace the backlog is gone in "
		    "%s.%s", since, n, waiting == 1 ? " is" : "s are",
		    m->rate < 1 ? 1 : m->rate,
		    have_eta ? eta : "a while", lost);
	}
	o = json_pack("{sssssIsI}", "state", state, "words", words,
	    "waiting", (json_int_t)waiting, "released_total",
	    (json_int_t)m->released_total);
	json_object_set_new(o, "rate", isnan(m->rate) ? json_null() :
	    json_real(m->rate));
	json_object_set_new(o, "eta", have_eta ?
	    json_integer((json_int_t)secs) : json_null());
	json_object_set_new(o, "eta_words", json_string(eta));
	json_object_set_new(o, "pressure", isnan(m->pressure) ? json_null() :
	    json_real(m->pressure));
	json_object_set_new(o, "time", json_integer((json_int_t)now));
	json_object_set_new(o, "title", json_string(m->title[0] != '\0' ?
	    m->title : "Mail delivery"));
	json_object_set_new(o, "since", m->since > 0 ?
	    json_integer((json_int_t)m->since) : json_null());
	json_object_set_new(o, "since_local", null_or(m->since > 0 ?
	    m->since_local : ""));
	json_object_set_new(o, "expired", json_integer((json_int_t)expired));
	json_object_set_new(o, "advice", json_string(advice));
	if ((s = json_dumps(o, JSON_COMPACT)) == NULL)
		abort();
	json_decref(o);
	text = xstrdup(s);
	free(s);
	return text;
}
