/*
 * cmd_sensors.c - ebbctl sensors: this host as ebb sees it
 *
 * ebbctl [--json] sensors [--watch [--count N]] [--json]
 *
 * Reads every sensor once (sensor.c), prints each one's value, limit, ratio
 * and presence, the pressure, and the budget the governor (governor.c)
 * grants for it. With --watch it samples again every [sensors] interval,
 * ticking one governor, so the budget moves as it would in ebbd; --count
 * stops after N samples. With --json the output is one JSON object per
 * sample, one per line:
 *
 *   {"pressure": P, "sensors": [{"name", "present", "value", "limit",
 *    "ratio", "unit", "detail" | "why" | "error"}...], "npresent": N,
 *    "budget": {"rate", "window", "cutoff", "critical", "stopped", "known",
 *    "pressure"}}
 *
 * An absent or broken sensor has null value, limit and ratio, and "why" (or
 * "error") says what is missing; "pressure" is null when no sensor is
 * present. Needs no daemon and no privileges.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ebb/config.h"
#include "ebb/governor.h"
#include "ebb/log.h"
#include "ebb/mta.h"
#include "ebb/sensor.h"
#include "cmd.h"
#include "fmt.h"

static int	cmd_sensors_exec(struct ebbctl *, int, char **);

const struct ebbctl_cmd cmd_sensors_entry = {
	"sensors", "[--watch [--count N]]",
	"each sensor, the pressure and the governor's budget",
	"  --watch      sample again every [sensors] interval, until\n"
	"               interrupted\n"
	"  --count N    with --watch: stop after N samples\n"
	"  --json       one JSON object per sample\n",
	cmd_sensors_exec
};

/*
 * sensors_mta - the queue directory whose file system the queue_disk
 * sensor watches, and the MTA's queue depth (active + incoming) for the
 * mta_queue sensor, from the configured backend; NULL and -1 ("absent")
 * when the MTA cannot be opened, as on a host without one. Called once per
 * sample.
 */
static void
sensors_mta(struct mta *mta, const char **queue_dir_r, long *depth_r)
{
	*queue_dir_r = mta != NULL ? mta_queue_directory(mta) : NULL;
	*depth_r = mta != NULL ? mta_depth(mta) : -1;
}

/* print_table - the human form of one sample and its budget */
static void
print_table(const struct sensor_sample *s, const struct budget *b)
{
	const struct sensor_reading *r;
	char	 value[32], limit[32];
	int	 i;

	printf("%-12s %-8s %10s %10s %7s\n", "sensor", "present", "value",
	    "limit", "ratio");
	for (i = 0; i < SENSOR_COUNT; i++) {
		r = &s->r[i];
		if (r->present) {
			fmt_unit_value(r->unit, r->value, value, sizeof(value));
			fmt_unit_value(r->unit, r->limit, limit, sizeof(limit));
			printf("%-12s %-8s %10s %10s %7.2f  %s\n", r->name,
			    "yes", value, limit, r->ratio, r->detail);
		} else
			printf("%-12s %-8s %10s %10s %7s  %s\n", r->name,
			    r->error ? "error" : "absent", "-", "-", "-",
			    r->why);
	}
	if (s->npresent > 0)
		printf("pressure %.2f (%d of %d sensors)\n", s->pressure,
		    s->npresent, SENSOR_COUNT);
	else
		printf("pressure unknown (no sensor present)\n");
	printf("budget   rate %.1f/s  window %ld  cutoff %.2f  "
	    "critical %s%s%s\n", b->rate, b->window, b->cutoff,
	    b->critical ? "yes" : "no", b->stopped ? "  stopped" : "",
	    b->known ? "" : "  (blind: min_rate)");
}

/* json_number - a double, or null for an absent sensor */
static json_t *
json_number(int present, double v, int integral)
{
	if (!present)
		return json_null();
	if (integral && v < 9e15)
		return json_integer((json_int_t)v);
	return json_real(v);
}

/* print_json - one sample and its budget as one line of JSON */
static void
print_json(const struct sensor_sample *s, const struct budget *b)
{
	const struct sensor_reading *r;
	json_t	*root, *list, *o, *bo;
	int	 i, integral;

	list = json_array();
	for (i = 0; i < SENSOR_COUNT; i++) {
		r = &s->r[i];
		integral = strcmp(r->unit, "bytes") == 0 ||
		    strcmp(r->unit, "messages") == 0;
		o = json_object();
		json_object_set_new(o, "name", json_string(r->name));
		json_object_set_new(o, "present", json_boolean(r->present));
		json_object_set_new(o, "value",
		    json_number(r->present, r->value, integral));
		json_object_set_new(o, "limit",
		    json_number(r->present, r->limit, integral));
		json_object_set_new(o, "ratio",
		    json_number(r->present, r->ratio, 0));
		json_object_set_new(o, "unit", json_string(r->unit));
		if (r->present)
			json_object_set_new(o, "detail",
			    json_string(r->detail));
		else
			json_object_set_new(o, r->error ? "error" : "why",
			    json_string(r->why));
		json_array_append_new(list, o);
	}
	bo = json_object();
	json_object_set_new(bo, "rate", json_real(b->rate));
	json_object_set_new(bo, "window", json_integer(b->window));
	json_object_set_new(bo, "cutoff", json_real(b->cutoff));
	json_object_set_new(bo, "critical", json_boolean(b->critical));
	json_object_set_new(bo, "stopped", json_boolean(b->stopped));
	json_object_set_new(bo, "known", json_boolean(b->known));
	json_object_set_new(bo, "pressure", json_real(b->pressure));

	root = json_object();
	json_object_set_new(root, "pressure",
	    json_number(s->npresent > 0, s->pressure, 0));
	json_object_set_new(root, "npresent", json_integer(s->npresent));
	json_object_set_new(root, "sensors", list);
	json_object_set_new(root, "budget", bo);
	json_dumpf(root, stdout, JSON_COMPACT | JSON_REAL_PRECISION(10));
	putchar('\n');
	json_decref(root);
}

/* monotonic_now - seconds on a clock that does not jump, for the governor */
static time_t
monotonic_now(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return time(NULL);
	return ts.tv_sec;
}

static int
cmd_sensors_exec(struct ebbctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "watch",	no_argument,		NULL, 'w' },
		{ "count",	required_argument,	NULL, 'n' },
		{ "json",	no_argument,		NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	const struct ebbctl_cmd *cmd = &cmd_sensors_entry;
	struct sensor_sample	 samples[2];
	struct governor_params	 params;
	struct governor		*gov;
	struct budget		 budget;
	struct mta		*mta = NULL;
	const char		*queue_dir;
	char			*end, *err = NULL;
	long			 depth, count = 0, n, interval;
	int			 ch, watch = 0, json = ctl->json, cur = 0;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:wn:j", longopts, NULL)) != -1) {
		switch (ch) {
		case 'w':
			watch = 1;
			break;
		case 'n':
			errno = 0;
			count = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg ||
			    count < 1)
				return cmd_usage_error(cmd,
				    "--count: not a positive number: %s",
				    optarg);
			break;
		case 'j':
			json = 1;
			break;
		case ':':
			return cmd_usage_error(cmd, "%s: needs an argument",
			    argv[optind - 1]);
		default:
			return cmd_usage_error(cmd, "unknown option %s",
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cmd_usage_error(cmd, "unexpected argument %s",
		    argv[optind]);
	if (count > 0 && !watch)
		return cmd_usage_error(cmd, "--count needs --watch");
	if (!watch)
		count = 1;

	/* no MTA here (or not readable): its two sensors read as absent */
	if (mta_open(ctl->cfg, &mta, &err) == -1) {
		log_debug("no MTA backend: %s", err);
		free(err);
		mta = NULL;
	}
	interval = ctl->cfg->interval > 0 ? ctl->cfg->interval : 1;
	governor_params_from_config(ctl->cfg, &params);
	gov = governor_new(&params);
	for (n = 0; count == 0 || n < count; n++) {
		if (n > 0)
			sleep((unsigned)interval);
		sensors_mta(mta, &queue_dir, &depth);
		sensor_sample_read(ctl->cfg, queue_dir, depth,
		    n > 0 ? &samples[!cur] : NULL, monotonic_now(),
		    &samples[cur]);
		governor_tick(gov, samples[cur].pressure,
		    samples[cur].npresent > 0, monotonic_now(), &budget);
		if (json)
			print_json(&samples[cur], &budget);
		else {
			if (n > 0)
				putchar('\n');
			print_table(&samples[cur], &budget);
		}
		if (fflush(stdout) == EOF)
			break;
		cur = !cur;
	}
	governor_free(&gov);
	mta_close(&mta);
	if (ferror(stdout)) {
		fprintf(stderr, "ebbctl sensors: write error\n");
		return 1;
	}
	return 0;
}
