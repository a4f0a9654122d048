/*
 * cmd_status.c - ebbctl status: what ebbd is doing
 *
 * ebbctl [--json] status [--json]
 *
 * Asks ebbd over its control socket (control.h) and prints pressure and
 * each sensor, the release rate, window and admission cutoff, whether it
 * is paused, the queues, what ebb has parked and released, the parked
 * mail at risk by time left to its deadline, the milter's counters (when
 * ebbd runs it), and the ETA. --json prints
 * ebbd's answer as it came: one JSON object. Exit 0; 69 (EX_UNAVAILABLE)
 * when ebbd is not running; 1 on other errors.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ebb/control.h"
#include "ebb/duration.h"
#include "cmd.h"
#include "control_client.h"

static int	 cmd_status_exec(struct ebbctl *, int, char **);

const struct ebbctl_cmd cmd_status_entry = {
	"status", "", "what ebbd is doing (needs ebbd)",
	"  --json       ebbd's status object as it sends it\n",
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

static void
print_status(json_t *o)
{
	json_t		*sensors, *s, *q, *r, *v;
	const char	*key, *sep;
	char		 a[32], b[32], c[32], d[32], eta[DURATION_BUFSZ];
	size_t		 i;

	printf("ebbd pid %lld, up %llds, %s\n", (long long)geti(o, "pid"),
	    (long long)geti(o, "uptime"),
	    json_is_true(json_object_get(o, "paused")) ? "PAUSED" :
	    json_is_true(json_object_get(o, "stopped")) ?
	    "stopped by pressure" : "draining");
	printf("pressure %s%s\n", num(o, "pressure", a, sizeof(a)),
	    json_is_true(json_object_get(o, "critical")) ? " (critical)" : "");
	sensors = json_object_get(o, "sensors");
	json_array_foreach(sensors, i, s) {
		if (!json_is_true(json_object_get(s, "present")))
			continue;
		printf("  %-12s %10s limit %10s ratio %s\n",
		    json_string_value(json_object_get(s, "name")),
		    num(s, "value", a, sizeof(a)), num(s, "limit", b,
		    sizeof(b)), num(s, "ratio", c, sizeof(c)));
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
		{ "json",	no_argument,	NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct control_request r;
	json_t		*o;
	int		 ch, json = ctl->json, rc;

	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		if (ch != 'j')
			return cmd_usage_error(&cmd_status_entry,
			    "unknown option");
		json = 1;
	}
	if (optind != argc)
		return cmd_usage_error(&cmd_status_entry, "unexpected \"%s\"",
		    argv[optind]);
	memset(&r, 0, sizeof(r));
	r.command = CONTROL_STATUS;
	if ((rc = control_call(ctl->cfg, &r, &o)) != 0)
		return rc;
	if (json)
		json_dumpf(o, stdout, JSON_COMPACT);
	if (json)
		putchar('\n');
	else
		print_status(o);
	json_decref(o);
	return 0;
}
