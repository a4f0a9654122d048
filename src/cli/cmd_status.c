/*
 * cmd_status.c - ebbctl status: what ebbd is doing
 *
 * ebbctl [--json] status [--watch [--count N]]
 *
 * Asks ebbd over its control socket (control.h) and prints what it is
 * doing (draining, PAUSED, stopped by pressure, or idle with nothing
 * parked), pressure and each sensor in the units "ebbctl sensors" uses,
 * the release rate, window and admission cutoff, the queues, what ebb has
 * parked and released, the parked mail at risk by time left to its
 * deadline, the milter's counters (when ebbd runs it), and the ETA.
 * --json prints ebbd's answer as one JSON object, its reals to 10
 * significant digits. --watch asks again every [sensors] interval (N
 * times with --count). Exit 0; 69 (EX_UNAVAILABLE) when ebbd is not
 * running; 1 on other errors.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ebb/config.h"
#include "ebb/control.h"
#include "ebb/duration.h"
#include "cmd.h"
#include "fmt.h"
#include "control_client.h"

static int	 cmd_status_exec(struct ebbctl *, int, char **);

const struct ebbctl_cmd cmd_status_entry = {
	"status", "[--watch [--count N]]", "what ebbd is doing (needs ebbd)",
	"  --watch      again every [sensors] interval, until interrupted\n"
	"  --count N    with --watch: stop after N\n"
	"  --json       ebbd's status object, one per line\n",
	cmd_status_exec
};

static json_int_t
geti(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* num - a number member as text, "-" when null or missing */
static const char *
num(json_t *o, const char *key, char *buf, size_t size)
{
	json_t	*v = json_object_get(o, key);

	if (!json_is_number(v))
		return "-";
	snprintf(buf, size, "%.2f", json_number_value(v));
	return buf;
}

/* print_milter - the milter's counters, when ebbd runs it */
static void
print_milter(json_t *m)
{
	if (!json_is_object(m))
		return;
	printf("milter: %lld connections, %lld messages: accepted %lld "
	    "(held %lld), tempfailed %lld, rejected %lld, rate limited %lld, "
	    "errors %lld\n", (long long)geti(m, "connections"),
	    (long long)geti(m, "messages"), (long long)geti(m, "accepted"),
	    (long long)geti(m, "held"), (long long)geti(m, "tempfailed"),
	    (long long)geti(m, "rejected"), (long long)geti(m, "rate_limited"),
	    (long long)geti(m, "errors"));
}

/* unit_num - a sensor's member in its unit, as "ebbctl sensors" shows it */
static const char *
unit_num(json_t *s, const char *key, char *buf, size_t size)
{
	json_t	*v = json_object_get(s, key);

	if (!json_is_number(v))
		return "-";
	fmt_unit_value(json_string_value(json_object_get(s, "unit")),
	    json_number_value(v), buf, size);
	return buf;
}

/*
 * state_word - what ebbd is doing: paused, stopped by pressure, draining
 * what it parked, or idle with nothing parked
 */
static const char *
state_word(json_t *o)
{
	if (json_is_true(json_object_get(o, "paused")))
		return "PAUSED";
	if (geti(o, "parked") == 0 && geti(o, "inflight") == 0)
		return "idle: nothing parked";
	if (json_is_true(json_object_get(o, "stopped")))
		return "stopped by pressure";
	if (geti(o, "parked") == 0)
		return "delivering its last releases";
	return "draining";
}

static void
print_status(json_t *o)
{
	json_t		*sensors, *s, *q, *r, *v;
	const char	*key, *sep;
	char		 a[32], b[32], c[32], d[32], eta[DURATION_BUFSZ];
	size_t		 i;

	printf("ebbd pid %lld, up %llds, %s\n", (long long)geti(o, "pid"),
	    (long long)geti(o, "uptime"), state_word(o));
	printf("pressure %s%s\n", num(o, "pressure", a, sizeof(a)),
	    json_is_true(json_object_get(o, "critical")) ? " (critical)" : "");
	sensors = json_object_get(o, "sensors");
	json_array_foreach(sensors, i, s) {
		if (!json_is_true(json_object_get(s, "present")))
			continue;
		printf("  %-12s %10s limit %10s ratio %s\n",
		    json_string_value(json_object_get(s, "name")),
		    unit_num(s, "value", a, sizeof(a)), unit_num(s, "limit",
		    b, sizeof(b)), num(s, "ratio", c, sizeof(c)));
	}
	printf("rate %s/s (governor %s/s, cap %s), window %lld, "
	    "cutoff %s\n", num(o, "rate", a, sizeof(a)),
	    num(o, "governor_rate", b, sizeof(b)),
	    json_is_number(json_object_get(o, "rate_cap")) ?
	    num(o, "rate_cap", c, sizeof(c)) : "none",
	    (long long)geti(o, "window"), num(o, "cutoff", d, sizeof(d)));
	/* the MTA's own queue names, in the order ebbd gave them */
	q = json_object_get(o, "queues");
	printf("queues:");
	sep = " ";
	json_object_foreach(q, key, v) {
		printf("%s%s %lld", sep, key, (long long)geti(q, key));
		sep = ", ";
	}
	printf("\n");
	printf("parked %lld (held by the administrator %lld), in flight "
	    "%lld, released %lld (%lld past deadline), all time %lld\n",
	    (long long)geti(o, "parked"), (long long)geti(o, "admin_held"),
	    (long long)geti(o, "inflight"), (long long)geti(o, "released"),
	    (long long)geti(o, "expired"),
	    (long long)geti(o, "released_total"));
	r = json_object_get(o, "at_risk");
	printf("at risk: expired %lld, within 1h %lld, 6h %lld, 24h %lld, "
	    "later %lld\n", (long long)geti(r, "expired"),
	    (long long)geti(r, "1h"), (long long)geti(r, "6h"),
	    (long long)geti(r, "24h"), (long long)geti(r, "later"));
	print_milter(json_object_get(o, "milter"));
	if (json_is_integer(json_object_get(o, "eta")))
		duration_format((long)geti(o, "eta"), eta, sizeof(eta));
	else
		snprintf(eta, sizeof(eta), "-");
	printf("ETA %s\n", eta);
}

static int
cmd_status_exec(struct ebbctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,		NULL, 'j' },
		{ "watch",	no_argument,		NULL, 'w' },
		{ "count",	required_argument,	NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	struct control_request r;
	json_t		*o;
	char		*end;
	long		 count = 0, n, interval;
	int		 ch, json = ctl->json, watch = 0, rc = 0;

	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'w':
			watch = 1;
			break;
		case 'n':
			errno = 0;
			count = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg ||
			    count < 1)
				return cmd_usage_error(&cmd_status_entry,
				    "--count: not a positive number: %s",
				    optarg);
			break;
		default:
			return cmd_usage_error(&cmd_status_entry,
			    "unknown option");
		}
	}
	if (optind != argc)
		return cmd_usage_error(&cmd_status_entry, "unexpected \"%s\"",
		    argv[optind]);
	if (count > 0 && !watch)
		return cmd_usage_error(&cmd_status_entry,
		    "--count needs --watch");
	if (!watch)
		count = 1;
	interval = ctl->cfg->interval > 0 ? ctl->cfg->interval : 1;
	for (n = 0; count == 0 || n < count; n++) {
		if (n > 0)
			sleep((unsigned)interval);
		memset(&r, 0, sizeof(r));
		r.command = CONTROL_STATUS;
		if ((rc = control_call(ctl->cfg, &r, &o)) != 0)
			break;
		/* ebbd's reals, without binary noise (1.32, not
		   1.3200000000000001) */
		if (json) {
			json_dumpf(o, stdout, JSON_COMPACT |
			    JSON_REAL_PRECISION(10));
			putchar('\n');
		} else {
			if (n > 0)
				putchar('\n');
			print_status(o);
		}
		json_decref(o);
		if (fflush(stdout) == EOF) {
			rc = 1;
			break;
		}
	}
	return rc;
}
