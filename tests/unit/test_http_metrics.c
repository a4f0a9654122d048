/*
 * test_http_metrics.c - what ebbd's HTTP endpoint renders
 *
 * A status object (as parent_handle.c writes it) read into struct
 * metrics; its Prometheus text checked line by line against the text
 * format (every sample preceded by its family's # HELP and # TYPE, each
 * family once, counters named _total, names and escaped labels well
 * formed, values numbers, histogram buckets cumulative up to +Inf and
 * _count) and for the families ebbd(8) lists; the milter's families to
 * the byte, and what an odd milter object from the child leaves out; the
 * public summary (state words, no addresses); the page (the data
 * embedded, '<' escaped); the HTTP channel's history request.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ebb/admit.h"
#include "ebb/metrics.h"
#include "ebb/milter.h"
#include "ebb/util.h"
#include "http.h"
#include "priv_proto.h"

#define SEEN_MAX	48	/* families check_prometheus records */

/* what parent_milter_json writes fits in struct metrics_milter */
_Static_assert(ADMIT_R_COUNT <= METRICS_LABELS_MAX, "reasons");
_Static_assert(ADMIT_SPF_COUNT <= METRICS_LABELS_MAX, "SPF results");
_Static_assert(MILTER_LATENCY_BUCKETS <= METRICS_BUCKETS_MAX, "buckets");

#define STATUS_BASE \
	"\"ok\":true,\"pid\":42,\"uptime\":3600,\"paused\":false," \
	"\"rate_cap\":null,\"pressure\":0.5,\"sensors\":[" \
	"{\"name\":\"load\",\"unit\":\"load/cpu\",\"present\":true," \
	"\"value\":1.0,\"limit\":2.0,\"ratio\":0.5}," \
	"{\"name\":\"psi_cpu\",\"unit\":\"fraction\",\"present\":false," \
	"\"error\":false,\"why\":\"no PSI\"}," \
	"{\"name\":\"bad name\\\"}\",\"present\":true,\"ratio\":9}]," \
	"\"rate\":12.5,\"governor_rate\":12.5,\"window\":100,\"cutoff\":1," \
	"\"critical\":false,\"stopped\":false,\"queues\":{\"incoming\":1," \
	"\"active\":2,\"deferred\":3,\"hold\":4000},\"roles\":{" \
	"\"leaving\":3,\"waiting\":3,\"held\":4000,\"admin\":0}," \
	"\"parked\":3990," \
	"\"admin_held\":10,\"inflight\":5,\"released\":700,\"expired\":7," \
	"\"released_total\":1700,\"corrupt\":0,\"at_risk\":{\"expired\":1," \
	"\"1h\":2,\"6h\":3,\"24h\":4,\"later\":3980},\"scan_duration\":0.25," \
	"\"eta\":320,\"outcomes\":{\"left\":600,\"deferred_again\":90}," \
	"\"messages\":{\"deferred\":{\"count\":3,\"size_sum\":3500.0," \
	"\"age_sum\":700.0,\"size\":[1,2,0,0,0,0,0,0]," \
	"\"age\":[0,1,2,0,0,0,0,0,0]},\"hold\":{\"count\":1," \
	"\"size_sum\":2e9,\"age_sum\":5,\"size\":[0,0,0,0,0,0,0,1]," \
	"\"age\":[1,0,0,0,0,0,0,0,0]},\"active\":{\"count\":9," \
	"\"size_sum\":1,\"age_sum\":1,\"size\":[1,0,0,0,0,0,0,0]," \
	"\"age\":[1,0,0,0,0,0,0,0,0]}}"

static const char status[] = "{" STATUS_BASE "}";

/* as parent_milter_json writes it, with the latency sum it lacks */
static const char status_milter[] = "{" STATUS_BASE ",\"milter\":{"
	"\"connections\":40,\"messages\":35,\"accepted\":20,\"held\":5,"
	"\"tempfailed\":8,\"rejected\":2,\"rate_limited\":3,\"errors\":1,"
	"\"reasons\":{\"pass\":30,\"calm\":12,\"blind\":0,\"rate_ip\":2,"
	"\"spf_temperror\":1},\"spf\":{\"unchecked\":0,\"pass\":25,"
	"\"softfail\":4},\"latency_us\":{\"le_10\":4,\"le_25\":10,"
	"\"le_50\":20,\"le_100\":15,\"le_250\":3,\"le_1000\":2,"
	"\"le_10000\":1,\"more\":1},\"latency_sum_us\":4567}}";

/* what status_milter renders, from the first milter family to the end */
static const char milter_text[] =
	"# HELP ebb_milter_connections_total SMTP connections the milter "
	"has seen.\n"
	"# TYPE ebb_milter_connections_total counter\n"
	"ebb_milter_connections_total 40\n"
	"# HELP ebb_milter_messages_total Messages (MAIL FROM) the milter "
	"has seen.\n"
	"# TYPE ebb_milter_messages_total counter\n"
	"ebb_milter_messages_total 35\n"
	"# HELP ebb_milter_decisions_total Messages the milter accepted, "
	"accepted into hold, tempfailed or rejected.\n"
	"# TYPE ebb_milter_decisions_total counter\n"
	"ebb_milter_decisions_total{verdict=\"accept\"} 15\n"
	"ebb_milter_decisions_total{verdict=\"hold\"} 5\n"
	"ebb_milter_decisions_total{verdict=\"tempfail\"} 8\n"
	"ebb_milter_decisions_total{verdict=\"reject\"} 2\n"
	"# HELP ebb_milter_reason_total Admission decisions, at MAIL FROM "
	"and at the end of the headers, by reason.\n"
	"# TYPE ebb_milter_reason_total counter\n"
	"ebb_milter_reason_total{reason=\"pass\"} 30\n"
	"ebb_milter_reason_total{reason=\"calm\"} 12\n"
	"ebb_milter_reason_total{reason=\"blind\"} 0\n"
	"ebb_milter_reason_total{reason=\"rate_ip\"} 2\n"
	"ebb_milter_reason_total{reason=\"spf_temperror\"} 1\n"
	"# HELP ebb_milter_spf_total SPF checks by result.\n"
	"# TYPE ebb_milter_spf_total counter\n"
	"ebb_milter_spf_total{result=\"unchecked\"} 0\n"
	"ebb_milter_spf_total{result=\"pass\"} 25\n"
	"ebb_milter_spf_total{result=\"softfail\"} 4\n"
	"# HELP ebb_milter_rate_limited_total Decisions refused by the "
	"per-client rate limits.\n"
	"# TYPE ebb_milter_rate_limited_total counter\n"
	"ebb_milter_rate_limited_total 3\n"
	"# HELP ebb_milter_errors_total Internal milter errors, each "
	"answered with a tempfail.\n"
	"# TYPE ebb_milter_errors_total counter\n"
	"ebb_milter_errors_total 1\n"
	"# HELP ebb_milter_decision_seconds Time the milter took to reach "
	"each admission decision.\n"
	"# TYPE ebb_milter_decision_seconds histogram\n"
	"ebb_milter_decision_seconds_bucket{le=\"0.00001\"} 4\n"
	"ebb_milter_decision_seconds_bucket{le=\"0.000025\"} 14\n"
	"ebb_milter_decision_seconds_bucket{le=\"0.00005\"} 34\n"
	"ebb_milter_decision_seconds_bucket{le=\"0.0001\"} 49\n"
	"ebb_milter_decision_seconds_bucket{le=\"0.00025\"} 52\n"
	"ebb_milter_decision_seconds_bucket{le=\"0.001\"} 54\n"
	"ebb_milter_decision_seconds_bucket{le=\"0.01\"} 55\n"
	"ebb_milter_decision_seconds_bucket{le=\"+Inf\"} 56\n"
	"ebb_milter_decision_seconds_sum 0.004567\n"
	"ebb_milter_decision_seconds_count 56\n";

static struct metrics
load(const char *text)
{
	struct metrics	 m;
	char		*err = NULL;

	if (metrics_from_status(text, strlen(text), &m, &err) != 0)
		fail_msg("metrics_from_status: %s", err);
	return m;
}

static void
test_from_status(void **state)
{
	struct metrics	 m = load(status);
	char		*err = NULL;

	(void)state;
	assert_true(m.pressure == 0.5);
	assert_int_equal(m.nsensors, 2);	/* the bad name is skipped */
	assert_string_equal(m.sensor[0].name, "load");
	assert_int_equal(m.sensor[1].present, 0);
	assert_true(m.rate == 12.5);
	assert_int_equal(m.nqueues, 4);
	assert_string_equal(m.queue[3].name, "hold");
	assert_int_equal(m.queue[3].n, 4000);
	assert_int_equal(m.role[MSG_ROLE_HELD], 4000);
	assert_int_equal(m.role[MSG_ROLE_WAITING], 3);
	assert_int_equal(m.parked, 3990);
	assert_int_equal(m.released_total, 1700);
	assert_int_equal(m.expired_total, 7);
	assert_int_equal(m.at_risk[METRICS_RISK_1H], 2);
	assert_true(m.scan_duration == 0.25);
	assert_true(m.eta == 320);
	assert_int_equal(metrics_from_status("[1]", 3, &m, &err), -1);
	free(err);
	assert_int_equal(metrics_from_status("{\"x\"", 4, &m, &err), -1);
	free(err);
	/* unknown stays unknown */
	m = load("{\"pressure\":null,\"queues\":7,\"sensors\":{}}");
	assert_true(isnan(m.pressure));
	assert_true(isnan(m.rate));
	assert_int_equal(m.nsensors, 0);
	/* an ETA past any integer (the fuzzer's find) or below 0: unknown */
	m = load("{\"eta\":3.7e46}");
	assert_true(isnan(m.eta));
	m = load("{\"eta\":-5}");
	assert_true(isnan(m.eta));
}

static int
name_char(int c, int first)
{
	return isalpha(c) || c == '_' || c == ':' || (!first && isdigit(c));
}

/* label_value - past a label value's closing quote; the value unescaped */
static const char *
label_value(const char *q, char *buf, size_t size)
{
	size_t	 n = 0;
	int	 c;

	for (; *q != '"'; q++) {
		assert_true(*q != '\n' && *q != '\0');
		if ((c = *q) == '\\') {
			c = *++q;
			if (c == 'n')
				c = '\n';
			else if (c != '\\' && c != '"')
				fail_msg("bad escape in a label: \\%c", c);
		}
		assert_true(n + 1 < size);
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	return q + 1;
}

/* the histogram family check_prometheus is in */
struct hist {
	int	 open;		/* its # TYPE seen */
	int	 inf;		/* its +Inf bucket seen */
	int	 counted;	/* its _count seen */
	double	 le, last;	/* the last bucket's bound and count */
};

static void
hist_close(struct hist *h)
{
	if (h->open && (h->inf || !h->counted))
		fail_msg("a histogram without its +Inf bucket or _count");
	memset(h, 0, sizeof(*h));
	h->le = -INFINITY;
}

/* hist_sample - a histogram's sample: suffix, le, cumulative, _count */
static void
hist_sample(struct hist *h, const char *suffix, const char *le, double v)
{
	char	*end;
	double	 x;

	if (strcmp(suffix, "_bucket") == 0) {
		assert_true(le[0] != '\0');
		assert_false(h->inf);
		if (strcmp(le, "+Inf") == 0) {
			h->inf = 1;
		} else {
			x = strtod(le, &end);
			assert_true(end != le && *end == '\0' && x > h->le);
			h->le = x;
		}
		if (v < h->last)
			fail_msg("bucket le=\"%s\" not cumulative", le);
		h->last = v;
	} else if (strcmp(suffix, "_count") == 0) {
		assert_true(h->inf && v == h->last);
		/* the series ends; another (other labels) may follow */
		h->counted = 1;
		h->inf = 0;
		h->le = -INFINITY;
		h->last = 0;
	} else if (strcmp(suffix, "_sum") != 0)
		fail_msg("histogram sample with suffix %s", suffix);
}

/* check_prometheus - the text format, line by line; families seen */
static void
check_prometheus(const char *text, char seen[][64], size_t *nseen)
{
	char		 help[64] = "", type[64] = "", name[64], label[64];
	char		 value[64], le[64];
	const char	*p = text, *eol, *q, *l;
	char		*end;
	struct hist	 h = { 0, 0, 0, -INFINITY, 0 };
	size_t		 n, i;
	double		 v;

	*nseen = 0;
	assert_true(text[strlen(text) - 1] == '\n');
	for (; *p != '\0'; p = eol + 1) {
		eol = strchr(p, '\n');
		assert_non_null(eol);
		if (strncmp(p, "# HELP ", 7) == 0) {
			n = strcspn(p + 7, " ");
			snprintf(help, sizeof(help), "%.*s", (int)n, p + 7);
			continue;
		}
		if (strncmp(p, "# TYPE ", 7) == 0) {
			hist_close(&h);
			n = strcspn(p + 7, " ");
			snprintf(type, sizeof(type), "%.*s", (int)n, p + 7);
			assert_string_equal(type, help);
			q = p + 7 + n + 1;
			if (strncmp(q, "counter\n", 8) == 0) {
				if (n < 6 ||
				    strcmp(type + n - 6, "_total") != 0)
					fail_msg("counter %s not _total",
					    type);
			} else if (strncmp(q, "histogram\n", 10) == 0)
				h.open = 1;
			else if (strncmp(q, "gauge\n", 6) != 0)
				fail_msg("bad TYPE line: %.*s", (int)(eol - p),
				    p);
			for (i = 0; i < *nseen; i++)
				if (strcmp(seen[i], type) == 0)
					fail_msg("family %s twice", type);
			assert_true(*nseen < SEEN_MAX);
			snprintf(seen[(*nseen)++], 64, "%s", type);
			continue;
		}
		assert_true(*p != '#');
		for (q = p; name_char((unsigned char)*q, q == p); q++)
			;
		snprintf(name, sizeof(name), "%.*s", (int)(q - p), p);
		assert_true(q > p);
		n = strlen(type);
		if (h.open ? strncmp(name, type, n) != 0 :
		    strcmp(name, type) != 0)
			fail_msg("sample %s outside its family %s", name, type);
		le[0] = '\0';
		if (*q == '{') {
			/* label="value" pairs, values escaped */
			while (*q != '}') {
				l = ++q;
				while (name_char((unsigned char)*q, q == l))
					q++;
				assert_true(q > l);
				snprintf(label, sizeof(label), "%.*s",
				    (int)(q - l), l);
				assert_true(q[0] == '=' && q[1] == '"');
				q = label_value(q + 2, value, sizeof(value));
				if (strcmp(label, "le") == 0)
					snprintf(le, sizeof(le), "%s", value);
				assert_true(*q == ',' || *q == '}');
			}
			q++;
		}
		assert_true(*q == ' ');
		v = strtod(q + 1, &end);
		if (end != eol)
			fail_msg("bad value: %.*s", (int)(eol - q), q);
		if (h.open)
			hist_sample(&h, name + n, le, v);
	}
	hist_close(&h);
}

static void
test_render(void **state)
{
	static const char *const want[] = {
		"ebb_pressure", "ebb_sensor_ratio", "ebb_release_rate",
		"ebb_window", "ebb_backlog", "ebb_parked",
		"ebb_released_total", "ebb_expired_total", "ebb_at_risk",
		"ebb_scan_duration_seconds"
	};
	struct metrics	 m = load(status);
	char		 seen[SEEN_MAX][64], *text;
	size_t		 nseen, i, j;

	(void)state;
	text = metrics_render(&m);
	check_prometheus(text, seen, &nseen);
	for (i = 0; i < nitems(want); i++) {
		for (j = 0; j < nseen; j++)
			if (strcmp(seen[j], want[i]) == 0)
				break;
		if (j == nseen)
			fail_msg("family %s missing", want[i]);
	}
	assert_non_null(strstr(text, "\nebb_sensor_ratio{sensor=\"load\"} "
	    "0.5\n"));
	assert_null(strstr(text, "ebb_sensor_ratio{sensor=\"psi_cpu\"}"));
	assert_non_null(strstr(text, "ebb_sensor_present{sensor=\"psi_cpu\"}"
	    " 0\n"));
	assert_non_null(strstr(text, "\nebb_backlog{queue=\"deferred\"} 3\n"));
	assert_non_null(strstr(text,
	    "\nebb_backlog_role{role=\"held\"} 4000\n"));
	assert_non_null(strstr(text, "\nebb_at_risk{bucket=\"lt1h\"} 2\n"));
	assert_non_null(strstr(text, "\nebb_released_total 1700\n"));
	assert_non_null(strstr(text, "# TYPE ebb_released_total counter\n"));
	assert_non_null(strstr(text, "\nebb_scan_duration_seconds 0.25\n"));
	free(text);
	/* unknown values are left out, the text stays valid */
	m = load("{}");
	text = metrics_render(&m);
	check_prometheus(text, seen, &nseen);
	assert_null(strstr(text, "ebb_pressure "));
	assert_null(strstr(text, "nan"));
	assert_null(strstr(text, "ebb_milter_"));
	free(text);
}

/* man_families - the ebb_ names in ebbd(8)'s list under /metrics */
static char *
man_families(void)
{
	const char	*top = getenv("top_srcdir");
	char		*path, *text, *start, *end;
	size_t		 len;
	FILE		*fp;

	path = xasprintf("%s/man/ebbd.8", top != NULL ? top : ".");
	if ((fp = fopen(path, "r")) == NULL)
		fail_msg("cannot open %s", path);
	text = xmalloc(256 * 1024);
	len = fread(text, 1, 256 * 1024 - 1, fp);
	fclose(fp);
	free(path);
	text[len] = '\0';
	if ((start = strstr(text, "\n.It Pa /metrics\n")) == NULL ||
	    (end = strstr(start, "\n.It Pa /status\n")) == NULL)
		fail_msg("ebbd(8): no /metrics entry before /status");
	*end = '\0';
	memmove(text, start, (size_t)(end - start) + 1);
	return text;
}

/* word_in - name in text as a whole word */
static int
word_in(const char *text, const char *name)
{
	const char	*p;
	size_t		 n = strlen(name);

	for (p = text; (p = strstr(p, name)) != NULL; p += n)
		if ((p == text || !name_char((unsigned char)p[-1], 0)) &&
		    !name_char((unsigned char)p[n], 0))
			return 1;
	return 0;
}

static void
test_render_milter(void **state)
{
	static const char *const want[] = {
		"ebb_milter_connections_total", "ebb_milter_messages_total",
		"ebb_milter_decisions_total", "ebb_milter_reason_total",
		"ebb_milter_spf_total", "ebb_milter_rate_limited_total",
		"ebb_milter_errors_total", "ebb_milter_decision_seconds"
	};
	struct metrics	 m = load(status_milter), base = load(status);
	char		 seen[SEEN_MAX][64], *text, *before, *man, *p, *q;
	size_t		 nseen, i, j;

	(void)state;
	assert_int_equal(m.milter.present, 1);
	assert_int_equal(base.milter.present, 0);
	assert_int_equal(m.milter.accepted, 20);
	assert_int_equal(m.milter.nreasons, 5);
	assert_int_equal(m.milter.nbuckets, 8);
	assert_int_equal(m.milter.bound_us[1], 25);
	assert_int_equal(m.milter.bucket[7], 1);
	assert_int_equal(m.milter.latency_sum_us, 4567);
	text = metrics_render(&m);
	check_prometheus(text, seen, &nseen);
	for (i = 0; i < nitems(want); i++) {
		for (j = 0; j < nseen; j++)
			if (strcmp(seen[j], want[i]) == 0)
				break;
		if (j == nseen)
			fail_msg("family %s missing", want[i]);
	}
	/* the milter's families come last, the rest as without them */
	p = strstr(text, "# HELP ebb_milter_");
	assert_non_null(p);
	assert_string_equal(p, milter_text);
	before = metrics_render(&base);
	assert_int_equal(strlen(before), (size_t)(p - text));
	assert_memory_equal(before, text, strlen(before));
	free(before);
	/* ebbd(8) lists every family, and no other */
	man = man_families();
	for (i = 0; i < nseen; i++)
		if (!word_in(man, seen[i]))
			fail_msg("ebbd(8) does not list %s", seen[i]);
	for (p = man; (p = strstr(p, "ebb_")) != NULL; p = q) {
		for (q = p; name_char((unsigned char)*q, 0); q++)
			;
		for (j = 0; j < nseen; j++)
			if (strlen(seen[j]) == (size_t)(q - p) &&
			    strncmp(seen[j], p, (size_t)(q - p)) == 0)
				break;
		if (j == nseen)
			fail_msg("ebbd(8) lists %.*s, not rendered",
			    (int)(q - p), p);
	}
	free(man);
	free(text);
}

/* render_with - the checked text for a status whose "milter" is milter */
static char *
render_with(const char *milter)
{
	struct metrics	 m;
	char		 seen[SEEN_MAX][64], *st, *text;
	size_t		 nseen;

	st = xasprintf("{\"milter\":%s}", milter);
	m = load(st);
	free(st);
	text = metrics_render(&m);
	check_prometheus(text, seen, &nseen);
	return text;
}

/* occurrences - how many times s is in text */
static size_t
occurrences(const char *text, const char *s)
{
	size_t	 n = 0;

	for (; (text = strstr(text, s)) != NULL; text++)
		n++;
	return n;
}

/* assert_latency - the histogram rendered for a "latency_us" object */
static void
assert_latency(const char *latency, const char *want)
{
	char	*milter, *text;

	milter = xasprintf("{\"latency_us\":%s}", latency);
	text = render_with(milter);
	free(milter);
	if (want == NULL) {
		if (strstr(text, "ebb_milter_decision_seconds") != NULL)
			fail_msg("a histogram from %s", latency);
	} else if (strstr(text, want) == NULL)
		fail_msg("from %s, not\n%s\nbut\n%s", latency, want, text);
	free(text);
}

static void
test_milter_odd(void **state)
{
	static const char *const none[] = { "null", "[]", "7", "{}" };
	char	*text, *milter, *p;
	int	 i;

	(void)state;
	/* no milter, or not an object, or nothing known: no families */
	for (i = 0; i < (int)nitems(none); i++) {
		text = render_with(none[i]);
		assert_null(strstr(text, "ebb_milter_"));
		free(text);
	}
	/* names unfit for a label, counts that are not counts */
	text = render_with("{\"reasons\":{\"calm\":1,\"bad name\":2,"
	    "\"qu\\\"ote\":3,\"\":4,\"nl\\n\":5,\"neg\":-1,\"half\":1.5,"
	    "\"big\":1000000000000001,\"str\":\"1\",\"trop\":null,"
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":6,"
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":7,\"ok_2\":8},"
	    "\"spf\":[1],\"connections\":-3,\"messages\":\"2\"}");
	assert_non_null(strstr(text, "# TYPE ebb_milter_reason_total counter\n"
	    "ebb_milter_reason_total{reason=\"calm\"} 1\n"
	    "ebb_milter_reason_total{reason="
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"} 7\n"
	    "ebb_milter_reason_total{reason=\"ok_2\"} 8\n"));
	assert_int_equal(occurrences(text, "ebb_milter_reason_total{"), 3);
	assert_null(strstr(text, "ebb_milter_spf_total"));
	assert_null(strstr(text, "ebb_milter_connections_total"));
	assert_null(strstr(text, "ebb_milter_messages_total"));
	free(text);
	/* at most METRICS_LABELS_MAX names, the first ones */
	milter = xstrdup("{\"spf\":{");
	for (i = 0; i < METRICS_LABELS_MAX + 8; i++) {
		p = xasprintf("%s%s\"r%d\":%d", milter, i > 0 ? "," : "", i,
		    i);
		free(milter);
		milter = p;
	}
	p = xasprintf("%s}}", milter);
	free(milter);
	text = render_with(p);
	free(p);
	assert_int_equal(occurrences(text, "ebb_milter_spf_total{"),
	    METRICS_LABELS_MAX);
	assert_non_null(strstr(text, "{result=\"r31\"} 31\n"));
	assert_null(strstr(text, "{result=\"r32\"}"));
	free(text);
	/* held beyond accepted: no accept count rather than a wrong one */
	text = render_with("{\"accepted\":1,\"held\":2,\"tempfailed\":0}");
	assert_non_null(strstr(text, "# TYPE ebb_milter_decisions_total "
	    "counter\nebb_milter_decisions_total{verdict=\"hold\"} 2\n"
	    "ebb_milter_decisions_total{verdict=\"tempfail\"} 0\n"));
	assert_null(strstr(text, "verdict=\"accept\""));
	assert_null(strstr(text, "verdict=\"reject\""));
	free(text);
	/* the histogram: sorted, exact bounds, whole or not at all */
	assert_latency("{\"more\":2,\"le_1500000\":1,\"le_100\":3,"
	    "\"le_10\":1,\"le_1000000\":0}",
	    "# TYPE ebb_milter_decision_seconds histogram\n"
	    "ebb_milter_decision_seconds_bucket{le=\"0.00001\"} 1\n"
	    "ebb_milter_decision_seconds_bucket{le=\"0.0001\"} 4\n"
	    "ebb_milter_decision_seconds_bucket{le=\"1\"} 4\n"
	    "ebb_milter_decision_seconds_bucket{le=\"1.5\"} 5\n"
	    "ebb_milter_decision_seconds_bucket{le=\"+Inf\"} 7\n"
	    "ebb_milter_decision_seconds_count 7\n");
	assert_latency("{\"more\":0}",
	    "ebb_milter_decision_seconds_bucket{le=\"+Inf\"} 0\n"
	    "ebb_milter_decision_seconds_count 0\n");
	assert_latency("{\"le_999999999\":1,\"more\":0}",
	    "{le=\"999.999999\"} 1\n");
	assert_latency("{\"le_010\":1,\"more\":1}", NULL);
	assert_latency("{\"le_0\":1,\"more\":1}", NULL);
	assert_latency("{\"le_1000000000\":1,\"more\":1}", NULL);
	assert_latency("{\"le_-5\":1,\"more\":1}", NULL);
	assert_latency("{\"le_10\":1}", NULL);
	assert_latency("{\"le_10\":-1,\"more\":1}", NULL);
	assert_latency("{\"le_10\":1,\"more\":1.5}", NULL);
	assert_latency("{\"le_10\":1,\"le_x\":1,\"more\":1}", NULL);
	assert_latency("[1,2]", NULL);
	/* METRICS_BUCKETS_MAX buckets with "more", not one more */
	for (i = 0; i < 2; i++) {
		int	 k, nbounds = METRICS_BUCKETS_MAX - 1 + i;

		milter = xstrdup("{");
		for (k = 0; k < nbounds; k++) {
			p = xasprintf("%s\"le_%d\":1,", milter, k + 1);
			free(milter);
			milter = p;
		}
		p = xasprintf("%s\"more\":1}", milter);
		free(milter);
		assert_latency(p, i == 0 ?
		    "ebb_milter_decision_seconds_count 16\n" : NULL);
		free(p);
	}
	/* _sum only from a sum the status has */
	text = render_with("{\"latency_us\":{\"more\":1},"
	    "\"latency_sum_us\":2500000}");
	assert_non_null(strstr(text, "\nebb_milter_decision_seconds_sum 2.5\n"
	    "ebb_milter_decision_seconds_count 1\n"));
	free(text);
	text = render_with("{\"latency_us\":{\"more\":0},"
	    "\"latency_sum_us\":0}");
	assert_non_null(strstr(text, "\nebb_milter_decision_seconds_sum 0\n"));
	free(text);
	text = render_with("{\"latency_us\":{\"more\":1},"
	    "\"latency_sum_us\":-1}");
	assert_null(strstr(text, "_sum"));
	assert_non_null(strstr(text, "_count 1\n"));
	free(text);
}

/* test_milter_tables - every name and bound parent_milter_json can write */
static void
test_milter_tables(void **state)
{
	static const long bounds[] = MILTER_LATENCY_BOUNDS;
	json_t		*o, *reasons, *spf, *lat;
	char		 key[32], line[128], *dump, *text;
	size_t		 i;

	(void)state;
	reasons = json_object();
	for (i = 0; i < ADMIT_R_COUNT; i++)
		json_object_set_new(reasons, admit_reason_name(i),
		    json_integer((json_int_t)i + 1));
	spf = json_object();
	for (i = 0; i < ADMIT_SPF_COUNT; i++)
		json_object_set_new(spf, admit_spf_name(i),
		    json_integer((json_int_t)i + 100));
	lat = json_object();
	for (i = 0; i < MILTER_LATENCY_BUCKETS; i++) {
		if (i < nitems(bounds))
			snprintf(key, sizeof(key), "le_%ld", bounds[i]);
		else
			snprintf(key, sizeof(key), "more");
		json_object_set_new(lat, key, json_integer(1));
	}
	o = json_pack("{so so so}", "reasons", reasons, "spf", spf,
	    "latency_us", lat);
	assert_non_null(o);
	dump = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	text = render_with(dump);
	free(dump);
	for (i = 0; i < ADMIT_R_COUNT; i++) {
		snprintf(line, sizeof(line), "\nebb_milter_reason_total"
		    "{reason=\"%s\"} %zu\n", admit_reason_name(i), i + 1);
		if (strstr(text, line) == NULL)
			fail_msg("reason %s not rendered",
			    admit_reason_name(i));
	}
	for (i = 0; i < ADMIT_SPF_COUNT; i++) {
		snprintf(line, sizeof(line), "\nebb_milter_spf_total"
		    "{result=\"%s\"} %zu\n", admit_spf_name(i), i + 100);
		if (strstr(text, line) == NULL)
			fail_msg("SPF result %s not rendered",
			    admit_spf_name(i));
	}
	assert_int_equal(occurrences(text,
	    "ebb_milter_decision_seconds_bucket"), MILTER_LATENCY_BUCKETS);
	snprintf(line, sizeof(line), "\nebb_milter_decision_seconds_count "
	    "%d\n", MILTER_LATENCY_BUCKETS);
	assert_non_null(strstr(text, line));
	free(text);
}

static json_t *
summary(const char *st, const char *want_state)
{
	struct metrics	 m = load(st);
	json_error_t	 je;
	json_t		*o;
	char		*text;

	text = metrics_summary(&m, 1700000000);
	assert_null(strchr(text, '@'));
	o = json_loads(text, 0, &je);
	free(text);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "state")),
	    want_state);
	return o;
}

static void
test_summary(void **state)
{
	json_t	*o;

	(void)state;
	o = summary(status, "recovering");
	assert_int_equal(json_integer_value(json_object_get(o, "waiting")),
	    3993);
	assert_non_null(strstr(json_string_value(json_object_get(o, "words")),
	    "3,993 messages are waiting"));
	assert_non_null(strstr(json_string_value(json_object_get(o, "words")),
	    "about 5 minutes"));
	assert_int_equal(json_integer_value(json_object_get(o, "time")),
	    1700000000);
	json_decref(o);
	json_decref(summary("{\"parked\":0}", "normal"));
	json_decref(summary("{\"parked\":1,\"paused\":true,\"rate\":0}",
	    "paused"));
	o = summary("{\"parked\":1,\"stopped\":true,\"rate\":0}", "busy");
	assert_non_null(strstr(json_string_value(json_object_get(o, "words")),
	    "1 message is waiting"));
	json_decref(o);
}

/* the queue histograms: cumulative, postfix_exporter's bounds */
static void
test_render_queues(void **state)
{
	struct metrics	 m = load(status);
	char		*text;

	(void)state;
	/* "active" does not add up: left out, not written wrong */
	assert_int_equal(m.nhists, 2);
	text = metrics_render(&m);
	assert_non_null(strstr(text, "# TYPE ebb_queue_message_size_bytes "
	    "histogram\n"));
	assert_non_null(strstr(text, "ebb_queue_message_size_bytes_bucket{"
	    "queue=\"deferred\",le=\"1000\"} 1\n"
	    "ebb_queue_message_size_bytes_bucket{queue=\"deferred\","
	    "le=\"10000\"} 3\n"));
	assert_non_null(strstr(text, "ebb_queue_message_size_bytes_bucket{"
	    "queue=\"hold\",le=\"1000000000\"} 0\n"
	    "ebb_queue_message_size_bytes_bucket{queue=\"hold\","
	    "le=\"+Inf\"} 1\n"
	    "ebb_queue_message_size_bytes_sum{queue=\"hold\"} 2000000000\n"
	    "ebb_queue_message_size_bytes_count{queue=\"hold\"} 1\n"));
	assert_non_null(strstr(text, "ebb_queue_message_age_seconds_bucket{"
	    "queue=\"deferred\",le=\"100000000\"} 3\n"));
	assert_null(strstr(text, "queue=\"active\",le="));
	assert_non_null(strstr(text, "ebb_release_outcomes_total{outcome="
	    "\"left\"} 600\nebb_release_outcomes_total{outcome="
	    "\"deferred_again\"} 90\n"));
	assert_non_null(strstr(text, "ebb_sensor_value{sensor=\"load\"} 1\n"));
	assert_non_null(strstr(text, "ebb_sensor_limit{sensor=\"load\"} 2\n"));
	assert_null(strstr(text, "ebb_sensor_value{sensor=\"psi_cpu\"}"));
	assert_non_null(strstr(text, "ebb_up 1\n"));
	assert_non_null(strstr(text, "ebb_build_info{version=\""
	    PACKAGE_VERSION "\"} 1\n"));
	free(text);
	text = metrics_render_down();
	assert_non_null(strstr(text, "ebb_up 0\n"));
	assert_null(strstr(text, "ebb_pressure"));
	free(text);
}

/* metrics_hist_add: a value on a bound is in that bucket */
static void
test_hist_add(void **state)
{
	static const struct {
		double	 size, age;
		int	 sb, ab;
	} t[] = {
		{ 0, 0, 0, 0 }, { 1000, 10, 0, 0 }, { 1001, 11, 1, 1 },
		{ 1e9, 1e8, 6, 7 }, { 1e9 + 1, 1e8 + 1, 7, 8 },
		{ -5, -5, 0, 0 },
	};
	struct metrics_hist h;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&h, 0, sizeof(h));
		metrics_hist_add(&h, t[i].size, t[i].age);
		assert_int_equal(h.count, 1);
		if (h.size[t[i].sb] != 1 || h.age[t[i].ab] != 1)
			fail_msg("size %g age %g: not in buckets %d, %d",
			    t[i].size, t[i].age, t[i].sb, t[i].ab);
	}
}

/* the ETA of the banner: an estimate, or why there is none */
static void
test_eta(void **state)
{
	static const struct {
		long		 waiting;
		double		 rate;
		int		 paused, stopped, have;
		double		 eta;
		const char	*why;
	} t[] = {
		{ 0, NAN, 0, 0, 1, 0, NULL },
		{ 0, 0, 1, 1, 1, 0, NULL },
		{ 100, 10, 0, 0, 1, 10, NULL },
		{ 101, 10, 0, 0, 1, 11, NULL },
		{ 100, 10, 1, 0, 0, 0, "paused" },
		{ 100, 10, 0, 1, 0, 0, "load" },
		{ 100, 0, 0, 0, 0, 0, "not started" },
		{ 100, NAN, 0, 0, 0, 0, "not started" },
		{ 1000000000, 1e-3, 0, 0, 0, 0, "too slow" },
	};
	const char	*why;
	double		 eta;
	size_t		 i;
	int		 have;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		have = metrics_eta(t[i].waiting, t[i].rate, t[i].paused,
		    t[i].stopped, &eta, &why);
		if (have != t[i].have || (have && eta != t[i].eta) ||
		    (!have && (why == NULL || strstr(why, t[i].why) == NULL)))
			fail_msg("case %zu: have %d eta %g why %s", i, have,
			    eta, why != NULL ? why : "-");
	}
}

/* the banner is honest: mail past its deadline is said, and what to do */
static void
test_summary_honest(void **state)
{
	static const char inc[] = "{\"parked\":50,\"rate\":5,"
	    "\"incident\":{\"since\":1699990000,\"since_local\":"
	    "\"2023-11-14 20:26 CET\",\"expired\":%d}}";
	char		 st[512];
	struct metrics	 m;
	json_t		*o;
	const char	*words, *advice;
	char		*text;

	(void)state;
	snprintf(st, sizeof(st), inc, 0);
	o = summary(st, "recovering");
	words = json_string_value(json_object_get(o, "words"));
	assert_non_null(strstr(words, "since 2023-11-14 20:26 CET"));
	assert_non_null(strstr(words, "No mail is lost"));
	assert_null(strstr(words, "park"));
	assert_null(strstr(words, "ebb"));
	assert_string_equal(json_string_value(json_object_get(o, "advice")),
	    "");
	assert_string_equal(json_string_value(json_object_get(o, "eta_words")),
	    "a few minutes");
	assert_int_equal(json_integer_value(json_object_get(o, "since")),
	    1699990000);
	json_decref(o);
	snprintf(st, sizeof(st), inc, 12);
	o = summary(st, "recovering");
	words = json_string_value(json_object_get(o, "words"));
	advice = json_string_value(json_object_get(o, "advice"));
	assert_null(strstr(words, "No mail is lost"));
	assert_non_null(strstr(words, "12 messages waited past"));
	assert_non_null(strstr(advice, "send it again"));
	assert_non_null(strstr(advice, "since 2023-11-14 20:26 CET"));
	assert_int_equal(json_integer_value(json_object_get(o, "expired")),
	    12);
	json_decref(o);
	/* the title, and a paused drain: no estimate, and why */
	m = load("{\"parked\":5,\"paused\":true,\"rate\":3}");
	ebb_strlcpy(m.title, "mx1.example.org", sizeof(m.title));
	text = metrics_summary(&m, 1700000000);
	o = json_loads(text, 0, NULL);
	free(text);
	assert_string_equal(json_string_value(json_object_get(o, "title")),
	    "mx1.example.org");
	assert_true(json_is_null(json_object_get(o, "eta")));
	assert_non_null(strstr(json_string_value(json_object_get(o,
	    "eta_words")), "paused"));
	json_decref(o);
	/* a since_local that is not a plain line is not shown */
	m = load("{\"parked\":5,\"incident\":{\"since\":5,"
	    "\"since_local\":\"a\\nb\"}}");
	assert_string_equal(m.since_local, "");
}

/* the Atom feed: every text escaped, ids stable, an empty feed valid */
static void
test_feed(void **state)
{
	static const char hist[] = "{\"ok\":true,\"timeline\":["
	    "{\"id\":7,\"time\":1714651380,\"local\":\"2024-05-02 14:03 "
	    "CEST\",\"iso\":\"2024-05-02T14:03:00+02:00\",\"kind\":\"note\","
	    "\"text\":\"<script>x</script> & \\\"q\\\" 'a' ]]>\"},"
	    "{\"id\":3,\"time\":1714650000,\"local\":\"l\",\"iso\":"
	    "\"2024-05-02T13:40:00+02:00\",\"kind\":\"found\","
	    "\"text\":\"The mail server fell behind\"}]}";
	char	*feed;

	(void)state;
	feed = http_feed(hist, "mx1.example.org <&>", 0);
	assert_non_null(strstr(feed, "<feed xmlns=\"http://www.w3.org/2005/"
	    "Atom\">"));
	assert_non_null(strstr(feed, "<title>mx1.example.org &lt;&amp;&gt;: "
	    "mail delivery status</title>"));
	assert_non_null(strstr(feed, "<id>urn:ebb:status:mx1.example.org</id>"));
	assert_non_null(strstr(feed, "<updated>2024-05-02T14:03:00+02:00"
	    "</updated>"));
	assert_non_null(strstr(feed, "<id>urn:ebb:status:mx1.example.org:"
	    "entry:7</id>\n<title>Note from the administrators</title>"));
	assert_non_null(strstr(feed, "&lt;script&gt;x&lt;/script&gt; &amp; "
	    "&quot;q&quot; &apos;a&apos; ]]&gt;"));
	assert_null(strstr(feed, "<script>"));
	assert_true(strstr(feed, "entry:7") < strstr(feed, "entry:3"));
	free(feed);
	feed = http_feed("not json", "t", 0);
	assert_non_null(strstr(feed, "<updated>1970-01-01T00:00:00Z</updated>"));
	assert_null(strstr(feed, "<entry>"));
	assert_non_null(strstr(feed, "</feed>\n"));
	free(feed);
}

static void
test_page(void **state)
{
	char	*page;

	(void)state;
	page = http_page("{\"words\":\"</script><b>\"}",
	    "{\"points\":[[1,0.5,10,5,1]]}");
	assert_non_null(strstr(page, "<!DOCTYPE html>"));
	assert_non_null(strstr(page, "\\u003c/script>\\u003cb>"));
	assert_null(strstr(page, "</script><b>"));
	assert_non_null(strstr(page,
	    "\"history\":{\"points\":[[1,0.5,10,5,1]]}"));
	assert_non_null(strstr(page, "<canvas id=\"backlog\">"));
	/* nothing external */
	assert_null(strstr(page, "src="));
	assert_null(strstr(page, "href="));
	assert_null(strstr(page, "//"));
	assert_non_null(strstr(page, "</html>\n"));
	free(page);
}

static void
test_history_packet(void **state)
{
	unsigned char	 buf[PRIV_MSG_MAX];
	struct control_request r;
	int64_t		 span;
	uint32_t	 t, len;
	size_t		 n;
	char		*err = NULL;

	(void)state;
	assert_int_equal(priv_encode_history(0, buf, sizeof(buf)), 0);
	assert_int_equal(priv_encode_history(PRIV_HISTORY_SPAN_MAX + 1, buf,
	    sizeof(buf)), 0);
	n = priv_encode_history(3600, buf, sizeof(buf));
	assert_int_equal(n, PRIV_HDR_LEN + 8);
	assert_int_equal(priv_packet_type(buf, n), PRIV_HISTORY);
	assert_int_equal(priv_decode_history(buf, n, &span, &err), 0);
	assert_int_equal(span, 3600);
	/* the control channel refuses it */
	assert_int_equal(priv_decode_request(buf, n, &r, &err), -1);
	free(err);
	/* short, long, a span out of range, another type */
	assert_int_equal(priv_decode_history(buf, n - 1, &span, &err), -1);
	free(err);
	assert_int_equal(priv_decode_history(buf, n + 1, &span, &err), -1);
	free(err);
	span = -5;
	memcpy(buf + PRIV_HDR_LEN, &span, sizeof(span));
	assert_int_equal(priv_decode_history(buf, n, &span, &err), -1);
	free(err);
	t = PRIV_STATUS;
	memcpy(buf, &t, sizeof(t));
	assert_int_equal(priv_decode_history(buf, n, &span, &err), -1);
	free(err);
	t = PRIV_HISTORY;
	len = 4;
	memcpy(buf, &t, sizeof(t));
	memcpy(buf + 4, &len, sizeof(len));
	assert_int_equal(priv_decode_history(buf, n, &span, &err), -1);
	free(err);
	assert_int_equal(priv_packet_type(buf, 3), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_status),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_render_milter),
		cmocka_unit_test(test_milter_odd),
		cmocka_unit_test(test_milter_tables),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_render_queues),
		cmocka_unit_test(test_hist_add),
		cmocka_unit_test(test_eta),
		cmocka_unit_test(test_summary_honest),
		cmocka_unit_test(test_feed),
		cmocka_unit_test(test_page),
		cmocka_unit_test(test_history_packet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
