/*
 * test_http_metrics.c - what ebbd's HTTP endpoint renders
 *
 * A status object (as parent_handle.c writes it) read into struct
 * metrics; its Prometheus text checked line by line against the text
 * format (every sample preceded by its family's # HELP and # TYPE, names
 * and labels well formed, values numbers) and for the families ebbd(8)
 * lists; the public summary (state words, no addresses); the page (the
 * data embedded, '<' escaped); the HTTP channel's history request.
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

#include "ebb/metrics.h"
#include "ebb/util.h"
#include "http.h"
#include "priv_proto.h"

static const char status[] =
	"{\"ok\":true,\"pid\":42,\"uptime\":3600,\"paused\":false,"
	"\"rate_cap\":null,\"pressure\":0.5,\"sensors\":["
	"{\"name\":\"load\",\"unit\":\"load/cpu\",\"present\":true,"
	"\"value\":1.0,\"limit\":2.0,\"ratio\":0.5},"
	"{\"name\":\"psi_cpu\",\"unit\":\"fraction\",\"present\":false,"
	"\"error\":false,\"why\":\"no PSI\"},"
	"{\"name\":\"bad name\\\"}\",\"present\":true,\"ratio\":9}],"
	"\"rate\":12.5,\"governor_rate\":12.5,\"window\":100,\"cutoff\":1,"
	"\"critical\":false,\"stopped\":false,\"queues\":{\"incoming\":1,"
	"\"active\":2,\"deferred\":3,\"hold\":4000},\"parked\":3990,"
	"\"admin_held\":10,\"inflight\":5,\"released\":700,\"expired\":7,"
	"\"released_total\":1700,\"corrupt\":0,\"at_risk\":{\"expired\":1,"
	"\"1h\":2,\"6h\":3,\"24h\":4,\"later\":3980},\"scan_duration\":0.25,"
	"\"eta\":320}";

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
	assert_int_equal(m.backlog[METRICS_HOLD], 4000);
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
}

static int
name_char(int c, int first)
{
	return isalpha(c) || c == '_' || c == ':' || (!first && isdigit(c));
}

/* check_prometheus - the text format, line by line; families seen */
static void
check_prometheus(const char *text, char seen[][64], size_t *nseen)
{
	char		 help[64] = "", type[64] = "", name[64];
	const char	*p = text, *eol, *q;
	char		*end;
	size_t		 n;

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
			n = strcspn(p + 7, " ");
			snprintf(type, sizeof(type), "%.*s", (int)n, p + 7);
			assert_string_equal(type, help);
			q = p + 7 + n + 1;
			if (strncmp(q, "gauge\n", 6) != 0 &&
			    strncmp(q, "counter\n", 8) != 0)
				fail_msg("bad TYPE line: %.*s", (int)(eol - p),
				    p);
			snprintf(seen[(*nseen)++], 64, "%s", type);
			continue;
		}
		assert_true(*p != '#');
		for (q = p; name_char((unsigned char)*q, q == p); q++)
			;
		snprintf(name, sizeof(name), "%.*s", (int)(q - p), p);
		assert_true(q > p);
		if (strcmp(name, type) != 0)
			fail_msg("sample %s outside its family %s", name, type);
		if (*q == '{') {
			/* label="value" pairs, no escapes needed here */
			while (*q != '}') {
				q++;
				while (name_char((unsigned char)*q, 0))
					q++;
				assert_true(q[0] == '=' && q[1] == '"');
				q = strchr(q + 2, '"');
				assert_non_null(q);
				q++;
				assert_true(*q == ',' || *q == '}');
			}
			q++;
		}
		assert_true(*q == ' ');
		strtod(q + 1, &end);
		if (end != eol)
			fail_msg("bad value: %.*s", (int)(eol - p), p);
	}
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
	char		 seen[32][64], *text;
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
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_page),
		cmocka_unit_test(test_history_packet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
