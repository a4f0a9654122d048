/*
 * ebb-lab.c - the outage lab on the command line
 *
 *	ebb-lab run [--policy postfix|flush|ebb|all] [--messages N]
 *	    [--capacity R] [--tau S] [--base-load F] [--seed N]
 *	    [--deadlines FIRST:LAST] [--json] [--trace] [--tmpdir DIR]
 *	    [--config FILE] [--verbose]
 *	ebb-lab grid [--messages N] [--seed N] [--deadlines FIRST:LAST]
 *	    [--json] [--tmpdir DIR] [--config FILE] [--verbose]
 *
 * "run" drains one backlog on one modelled host under each policy asked
 * for and prints the scorecards side by side (--json: one object per
 * policy, one per line). "grid" sweeps the hosts of issue 13's grid
 * (capacity x thermal time constant x base load), all three policies in
 * each cell, and prints one row per cell and the worst cell of each
 * metric per policy. The simulation is sim.c's; this file only parses,
 * loops and prints. The engine's own log lines (parking, releases past
 * their deadline) go to stderr only with --verbose. "inbound" and
 * "inbound-grid" (the remote senders' flood) are in ebb-lab-inbound.c;
 * "senders" (the same senders over real SMTP) in ebb-lab-senders.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ebb/governor.h"
#include "ebb/log.h"
#include "ebb/sensor.h"
#include "ebb/util.h"
#include "lab/host.h"
#include "lab/pfmodel.h"
#include "lab/sim.h"
#include "ebb-lab.h"

static const double grid_capacity[] = { 5, 20, 100 };
static const double grid_tau[] = { 10, 30, 120 };
static const double grid_base[] = { 0, 0.3 };

struct opts {
	int	 policies[LAB_POLICY_COUNT];	/* which to run */
	int	 json;
	int	 trace;
	int	 verbose;
};

void
lab_usage(FILE *fp)
{
	fprintf(fp, "usage: ebb-lab run [--policy postfix|flush|ebb|all] "
	    "[--messages N]\n"
	    "           [--capacity R] [--tau S] [--base-load F] "
	    "[--seed N]\n"
	    "           [--deadlines FIRST:LAST] [--json] [--trace] "
	    "[--tmpdir DIR]\n"
	    "           [--config FILE] [--verbose]\n"
	    "       ebb-lab grid [--messages N] [--seed N] "
	    "[--deadlines FIRST:LAST] [--json]\n"
	    "           [--tmpdir DIR] [--config FILE] [--verbose]\n"
	    "       ebb-lab inbound [--policy postfix|ebb|ebb-tempfail|all] "
	    "[--senders N]\n"
	    "           [--messages N] [--mix mixed|cloud] [--capacity R] "
	    "[--tau S]\n"
	    "           [--front-work F] [--seed N] [--json] [--tmpdir DIR]\n"
	    "           [--config FILE] [--verbose]\n"
	    "       ebb-lab inbound-grid [--seed N] [--json] [--tmpdir DIR] "
	    "[--config FILE]\n"
	    "           [--verbose]\n"
	    "       ebb-lab senders --connect ADDR:PORT [--messages N] "
	    "[--senders N]\n"
	    "           [--mix mixed|cloud] [--seed N] [--compress C] "
	    "[--duration S]\n"
	    "           [--timeout S] [--rcpt-domain D] [--xclient] "
	    "[--events FILE]\n");
}

/* lab_usage_error - a bad command line: say why, then exit 64 */
void EBB_PRINTF(1, 2) EBB_NORETURN
lab_usage_error(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "ebb-lab: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	lab_usage(stderr);
	exit(EX_USAGE);
}

/* lab_number - optarg of option name as a double, or a usage error */
double
lab_number(const char *name, const char *s)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(v))
		lab_usage_error("--%s: \"%s\" is not a number", name, s);
	return v;
}

/* lab_integer - optarg of option name as a whole number in lo..hi */
long long
lab_integer(const char *name, const char *s, long long lo, long long hi)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0)
		lab_usage_error("--%s: \"%s\" is not a whole number", name, s);
	if (v < lo || v > hi)
		lab_usage_error("--%s: %lld is outside %lld..%lld", name, v, lo,
		    hi);
	return v;
}

/* deadlines - --deadlines FIRST:LAST, multiples of N/R */
static void
deadlines(const char *s, struct lab_scenario *sc)
{
	char	*end, *end2;

	errno = 0;
	sc->deadline_first = strtod(s, &end);
	if (end == s || *end != ':' || errno != 0)
		lab_usage_error("--deadlines: \"%s\" is not FIRST:LAST (e.g. "
		    "1.0:4.0)", s);
	sc->deadline_last = strtod(end + 1, &end2);
	if (end2 == end + 1 || *end2 != '\0' || errno != 0)
		lab_usage_error("--deadlines: \"%s\" is not FIRST:LAST (e.g. "
		    "1.0:4.0)", s);
}

/*
 * Keeping the engine quiet: its log goes to stderr, one line per message
 * released past its deadline; without --verbose stderr points at
 * /dev/null while a run goes.
 */
static int	 saved_stderr = -1;

void
lab_quiet_begin(int verbose)
{
	int	 fd;

	if (verbose || (fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		return;
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

void
lab_quiet_end(void)
{
	if (saved_stderr < 0)
		return;
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
}

/* run_one - one policy on sc; exits 1 when the lab itself fails */
static void
run_one(const struct opts *o, const struct lab_scenario *sc,
    enum lab_policy p, struct lab_scorecard *card)
{
	char	*err = NULL;
	int	 rc;

	lab_quiet_begin(o->verbose);
	rc = lab_sim_run(sc, p, card, &err);
	lab_quiet_end();
	if (rc == -1) {
		fprintf(stderr, "ebb-lab: %s: %s\n", lab_policy_name(p), err);
		free(err);
		exit(EXIT_FAILURE);
	}
}

/* on_trace - --trace: one line per simulated second and per sample */
static void
on_trace(void *arg, const struct lab_trace *tr)
{
	struct lab_host_state hs;
	struct pfmodel_stats ps;

	(void)arg;
	if (tr->kind == LAB_TRACE_FLUSH)
		return;
	lab_host_state(tr->host, &hs);
	pfmodel_stats(tr->pf, &ps);
	if (tr->kind == LAB_TRACE_SAMPLE) {
		printf("%s t=%.2f sample p=%.3f s=%.3f rate=%.2f window=%ld "
		    "stopped=%d\n", lab_policy_name(tr->policy), tr->time,
		    tr->sample->pressure, tr->budget->pressure,
		    tr->budget->rate, tr->budget->window,
		    tr->budget->stopped);
		return;
	}
	printf("%s t=%.0f up=%d temp=%.1f u=%.2f n=%ld load1=%.2f "
	    "deferred=%zu active=%zu hold=%zu delivered=%zu bounced=%zu "
	    "window=%ld\n", lab_policy_name(tr->policy), tr->time, hs.up,
	    hs.temperature, hs.utilization, hs.in_progress, hs.load1,
	    pfmodel_count(tr->pf, PFMODEL_S_DEFERRED),
	    pfmodel_count(tr->pf, PFMODEL_S_ACTIVE) +
	    pfmodel_count(tr->pf, PFMODEL_S_DELIVERING),
	    pfmodel_count(tr->pf, PFMODEL_S_HOLD),
	    pfmodel_count(tr->pf, PFMODEL_S_DELIVERED),
	    pfmodel_count(tr->pf, PFMODEL_S_BOUNCED), ps.window);
}

/* card_json - a scorecard as a JSON object */
static json_t *
card_json(const struct lab_scenario *sc, const struct lab_scorecard *c)
{
	json_t	*o = json_object();

	json_object_set_new(o, "policy", json_string(lab_policy_name(
	    c->policy)));
	json_object_set_new(o, "capacity", json_real(sc->host.capacity));
	json_object_set_new(o, "tau", json_real(sc->host.tau));
	json_object_set_new(o, "base_load", json_real(sc->host.base_load));
	json_object_set_new(o, "seed", json_integer((json_int_t)sc->seed));
	json_object_set_new(o, "messages", json_integer(c->messages));
	json_object_set_new(o, "on_time", json_integer(c->on_time));
	json_object_set_new(o, "late", json_integer(c->late));
	json_object_set_new(o, "bounced", json_integer(c->bounced));
	json_object_set_new(o, "left", json_integer(c->left));
	json_object_set_new(o, "reboots", json_integer(c->reboots));
	json_object_set_new(o, "temp_peak", json_real(c->temp_peak));
	json_object_set_new(o, "above_passive", json_real(c->above_passive));
	json_object_set_new(o, "drain_time", json_real(c->drain_time));
	json_object_set_new(o, "end_time", json_real(c->end_time));
	json_object_set_new(o, "nr", json_real(c->nr));
	json_object_set_new(o, "safe_rate", json_real(c->safe_rate));
	json_object_set_new(o, "safe_bound", json_real(c->safe_bound));
	json_object_set_new(o, "drain_nr", json_real(c->drain_nr));
	json_object_set_new(o, "drain_safe", json_real(c->drain_safe));
	json_object_set_new(o, "utilization", json_real(c->utilization));
	json_object_set_new(o, "edf_need", json_real(c->edf_need));
	json_object_set_new(o, "attempts", json_integer(c->postfix.attempts));
	json_object_set_new(o, "dead", json_integer(c->postfix.dead));
	if (c->policy == LAB_POLICY_EBB) {
		json_object_set_new(o, "samples", json_integer(c->samples));
		json_object_set_new(o, "pressure_run",
		    json_integer(c->pressure_run));
		json_object_set_new(o, "pressure_max",
		    json_real(c->pressure_max));
		json_object_set_new(o, "released", json_integer(c->released));
		json_object_set_new(o, "release_rate",
		    json_real(c->release_rate));
	}
	return o;
}

/* lab_print_json - one object on one line */
void
lab_print_json(json_t *o)
{
	char	*s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));

	printf("%s\n", s);
	free(s);
	json_decref(o);
}

/* lab_pct - share of n in total, percent */
double
lab_pct(long n, long total)
{
	return total > 0 ? 100.0 * (double)n / (double)total : 0;
}

/* print_cards - the scorecards of run side by side */
static void
print_cards(const struct lab_scenario *sc, const struct lab_scorecard *c,
    size_t n)
{
	const struct lab_host_params *h = &sc->host;
	size_t	 i;
	int	 ebb = -1;

	printf("host: capacity %g msg/s, %d CPUs, tau %g s, base load %g, "
	    "%g..%g C, trips %g/%g C, reboot %g s\n", h->capacity, h->cpus,
	    h->tau, h->base_load, h->temp_idle, h->temp_full,
	    h->trip_passive, h->trip_critical, h->reboot_time);
	printf("backlog: %ld messages, all due at 0, deadlines %.1f..%.1f x "
	    "N/R, seed %llu\n", sc->messages, sc->deadline_first,
	    sc->deadline_last, (unsigned long long)sc->seed);
	printf("N/R %.0f s; safe rate %.1f msg/s, safe-capacity bound "
	    "%.0f s; EDF meets every deadline at %.0f%% of capacity\n\n",
	    c[0].nr, c[0].safe_rate, c[0].safe_bound, 100 * c[0].edf_need);
	printf("%-26s", "");
	for (i = 0; i < n; i++) {
		printf("%16s", lab_policy_name(c[i].policy));
		if (c[i].policy == LAB_POLICY_EBB)
			ebb = (int)i;
	}
	printf("\n");
#define ROW(label, fmt, ...) do {					\
	printf("%-26s", label);						\
	for (i = 0; i < n; i++)						\
		printf(fmt, __VA_ARGS__);				\
	printf("\n");							\
} while (0)
	ROW("delivered on time", "%9ld %5.1f%%", c[i].on_time,
	    lab_pct(c[i].on_time, c[i].messages));
	ROW("delivered late", "%9ld %5.1f%%", c[i].late,
	    lab_pct(c[i].late, c[i].messages));
	ROW("bounced", "%9ld %5.1f%%", c[i].bounced,
	    lab_pct(c[i].bounced, c[i].messages));
	ROW("left in queue", "%9ld %5.1f%%", c[i].left,
	    lab_pct(c[i].left, c[i].messages));
	ROW("reboots", "%16ld", c[i].reboots);
	ROW("peak temperature (C)", "%16.1f", c[i].temp_peak);
	ROW("above passive trip (s)", "%16.0f", c[i].above_passive);
	ROW("drain time (s)", "%16.0f", c[i].drain_time);
	ROW("drain / (N/R)", "%16.2f", c[i].drain_nr);
	ROW("drain / safe bound", "%16.2f", c[i].drain_safe);
	ROW("mean utilization", "%16.2f", c[i].utilization);
	ROW("qmgr attempts", "%16ld", c[i].postfix.attempts);
	ROW("destination dead (times)", "%16ld", c[i].postfix.dead);
#undef ROW
	if (ebb < 0)
		return;
	printf("%-26s%*s%16ld\n", "p >= 1 in a row (samples)", 16 * ebb, "",
	    c[ebb].pressure_run);
	printf("%-26s%*s%16.2f\n", "peak pressure", 16 * ebb, "",
	    c[ebb].pressure_max);
	printf("%-26s%*s%16.2f\n", "mean release rate (msg/s)", 16 * ebb, "",
	    c[ebb].release_rate);
}

/* cmd_run - ebb-lab run */
static int
cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "policy",	required_argument,	NULL, 'p' },
		{ "messages",	required_argument,	NULL, 'n' },
		{ "capacity",	required_argument,	NULL, 'r' },
		{ "tau",	required_argument,	NULL, 't' },
		{ "base-load",	required_argument,	NULL, 'b' },
		{ "seed",	required_argument,	NULL, 's' },
		{ "deadlines",	required_argument,	NULL, 'D' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "trace",	no_argument,		NULL, 'T' },
		{ "tmpdir",	required_argument,	NULL, 'd' },
		{ "config",	required_argument,	NULL, 'c' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct lab_scorecard cards[LAB_POLICY_COUNT];
	struct lab_scenario sc;
	struct opts	 o;
	char		*err = NULL;
	size_t		 n = 0;
	int		 ch, p;

	memset(&o, 0, sizeof(o));
	lab_scenario_default(&sc);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (strcmp(optarg, "all") == 0) {
				for (p = 0; p < LAB_POLICY_COUNT; p++)
					o.policies[p] = 1;
			} else if ((p = lab_policy_lookup(optarg)) >= 0)
				o.policies[p] = 1;
			else
				lab_usage_error("--policy: \"%s\" is not postfix, "
				    "flush, ebb or all", optarg);
			break;
		case 'n':
			sc.messages = (long)lab_integer("messages", optarg, 1,
			    1000000);
			break;
		case 'r':
			sc.host.capacity = lab_number("capacity", optarg);
			break;
		case 't':
			sc.host.tau = lab_number("tau", optarg);
			break;
		case 'b':
			sc.host.base_load = lab_number("base-load", optarg);
			break;
		case 's':
			sc.seed = (uint64_t)lab_integer("seed", optarg, 0,
			    (1LL << 62));
			break;
		case 'D':
			deadlines(optarg, &sc);
			break;
		case 'j':
			o.json = 1;
			break;
		case 'T':
			o.trace = 1;
			break;
		case 'd':
			sc.tmpdir = optarg;
			break;
		case 'c':
			sc.config = optarg;
			break;
		case 'v':
			o.verbose = 1;
			break;
		case 'h':
			lab_usage(stdout);
			return 0;
		case ':':
			lab_usage_error("%s: %s needs a value", argv[0],
			    argv[optind - 1]);
		default:
			lab_usage_error("%s: unknown option \"%s\"", argv[0],
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		lab_usage_error("run: unexpected argument \"%s\"", argv[optind]);
	if (lab_scenario_check(&sc, &err) == -1) {
		fprintf(stderr, "ebb-lab: %s\n", err);
		free(err);
		return EX_USAGE;
	}
	for (p = 0; p < LAB_POLICY_COUNT; p++)
		if (o.policies[p])
			break;
	if (p == LAB_POLICY_COUNT)	/* none asked for: all */
		for (p = 0; p < LAB_POLICY_COUNT; p++)
			o.policies[p] = 1;
	if (o.trace) {
		sc.trace = on_trace;
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	}
	for (p = 0; p < LAB_POLICY_COUNT; p++) {
		if (!o.policies[p])
			continue;
		run_one(&o, &sc, (enum lab_policy)p, &cards[n]);
		if (o.json)
			lab_print_json(card_json(&sc, &cards[n]));
		n++;
	}
	if (!o.json)
		print_cards(&sc, cards, n);
	return 0;
}

/*
 * The grid's worst cells: for each metric, per policy, the worst value
 * and where.
 */
enum metric_id {
	M_ON_TIME, M_LATE, M_BOUNCED, M_LEFT, M_REBOOTS, M_TEMP, M_PASSIVE,
	M_DRAIN_NR, M_DRAIN_SAFE, M_UTIL, M_PRUN
};

struct metric {
	enum metric_id	 id;
	const char	*name;
	int		 higher_is_worse;
	int		 ebb_only;
	int		 decimals;
};

static const struct metric metrics[] = {
	{ M_ON_TIME, "on time %", 0, 0, 1 },
	{ M_LATE, "late %", 1, 0, 1 },
	{ M_BOUNCED, "bounced %", 1, 0, 1 },
	{ M_LEFT, "left %", 1, 0, 1 },
	{ M_REBOOTS, "reboots", 1, 0, 0 },
	{ M_TEMP, "peak temperature C", 1, 0, 1 },
	{ M_PASSIVE, "above passive s", 1, 0, 0 },
	{ M_DRAIN_NR, "drain / (N/R)", 1, 0, 2 },
	{ M_DRAIN_SAFE, "drain / safe bound", 1, 0, 2 },
	{ M_UTIL, "mean utilization", 0, 0, 2 },
	{ M_PRUN, "p >= 1 run (samples)", 1, 1, 0 },
};

/* metric_value - one metric of a scorecard; a drain with mail left: inf */
static double
metric_value(const struct lab_scorecard *c, enum metric_id id)
{
	switch (id) {
	case M_ON_TIME:
		return lab_pct(c->on_time, c->messages);
	case M_LATE:
		return lab_pct(c->late, c->messages);
	case M_BOUNCED:
		return lab_pct(c->bounced, c->messages);
	case M_LEFT:
		return lab_pct(c->left, c->messages);
	case M_REBOOTS:
		return (double)c->reboots;
	case M_TEMP:
		return c->temp_peak;
	case M_PASSIVE:
		return c->above_passive;
	case M_DRAIN_NR:
		return c->left > 0 ? HUGE_VAL : c->drain_nr;
	case M_DRAIN_SAFE:
		return c->left > 0 ? HUGE_VAL : c->drain_safe;
	case M_UTIL:
		return c->utilization;
	case M_PRUN:
		return (double)c->pressure_run;
	}
	return 0;
}

struct cell {
	struct lab_scenario sc;
	struct lab_scorecard card[LAB_POLICY_COUNT];
};

/* print_worst - for each metric and policy, the worst cell */
static void
print_worst(const struct cell *cells, size_t ncells, int json)
{
	const struct metric *m;
	const struct cell *w;
	size_t		 i, k;
	double		 v, wv;
	int		 p;
	json_t		*o;
	char		 buf[96], val[32];

	if (!json)
		printf("\nworst cell per metric (capacity/tau/base load; "
		    "drain is \"inf\" when mail was left)\n%-22s", "");
	if (!json) {
		for (p = 0; p < LAB_POLICY_COUNT; p++)
			printf("  %-20s", lab_policy_name((enum lab_policy)p));
		printf("\n");
	}
	for (k = 0; k < nitems(metrics); k++) {
		m = &metrics[k];
		if (!json)
			printf("%-22s", m->name);
		for (p = 0; p < LAB_POLICY_COUNT; p++) {
			if (m->ebb_only && p != LAB_POLICY_EBB) {
				if (!json)
					printf("  %-20s", "-");
				continue;
			}
			w = &cells[0];
			wv = metric_value(&cells[0].card[p], m->id);
			for (i = 1; i < ncells; i++) {
				v = metric_value(&cells[i].card[p], m->id);
				if (m->higher_is_worse ? v > wv : v < wv) {
					wv = v;
					w = &cells[i];
				}
			}
			if (json) {
				o = json_object();
				json_object_set_new(o, "worst",
				    json_string(m->name));
				json_object_set_new(o, "policy", json_string(
				    lab_policy_name((enum lab_policy)p)));
				json_object_set_new(o, "value", isfinite(wv) ?
				    json_real(wv) : json_null());
				json_object_set_new(o, "capacity",
				    json_real(w->sc.host.capacity));
				json_object_set_new(o, "tau",
				    json_real(w->sc.host.tau));
				json_object_set_new(o, "base_load",
				    json_real(w->sc.host.base_load));
				lab_print_json(o);
				continue;
			}
			if (isfinite(wv))
				snprintf(val, sizeof(val), "%7.*f",
				    m->decimals, wv);
			else
				snprintf(val, sizeof(val), "%7s", "inf");
			snprintf(buf, sizeof(buf), "%s %g/%g/%g", val,
			    w->sc.host.capacity, w->sc.host.tau,
			    w->sc.host.base_load);
			printf("  %-20s", buf);
		}
		if (!json)
			printf("\n");
	}
}

/* cmd_grid - ebb-lab grid */
static int
cmd_grid(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "messages",	required_argument,	NULL, 'n' },
		{ "seed",	required_argument,	NULL, 's' },
		{ "deadlines",	required_argument,	NULL, 'D' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "tmpdir",	required_argument,	NULL, 'd' },
		{ "config",	required_argument,	NULL, 'c' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct lab_scenario base;
	struct cell	*cells, *c;
	struct opts	 o;
	struct timespec	 t0, t1;
	size_t		 ncells, a, b, d;
	double		 nr;
	int		 ch, p, fixed_n = 0;

	memset(&o, 0, sizeof(o));
	lab_scenario_default(&base);
	nr = (double)base.messages / base.host.capacity;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			base.messages = (long)lab_integer("messages", optarg, 1,
			    1000000);
			fixed_n = 1;
			break;
		case 's':
			base.seed = (uint64_t)lab_integer("seed", optarg, 0,
			    (1LL << 62));
			break;
		case 'D':
			deadlines(optarg, &base);
			break;
		case 'j':
			o.json = 1;
			break;
		case 'd':
			base.tmpdir = optarg;
			break;
		case 'c':
			base.config = optarg;
			break;
		case 'v':
			o.verbose = 1;
			break;
		case 'h':
			lab_usage(stdout);
			return 0;
		case ':':
			lab_usage_error("%s: %s needs a value", argv[0],
			    argv[optind - 1]);
		default:
			lab_usage_error("%s: unknown option \"%s\"", argv[0],
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		lab_usage_error("grid: unexpected argument \"%s\"", argv[optind]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ncells = nitems(grid_capacity) * nitems(grid_tau) * nitems(grid_base);
	cells = xcalloc(ncells, sizeof(*cells));
	if (!o.json && fixed_n)
		printf("%ld messages per cell", base.messages);
	else if (!o.json)
		printf("N/R %.0f s in every cell (N = %.0f x capacity)", nr,
		    nr);
	if (!o.json)
		printf(", deadlines %.1f..%.1f x N/R\n"
		    "per policy: on time %% / bounced %% / reboots / drain x "
		    "N/R (+left: mail left at %.0f x N/R)\n"
		    "%5s %5s %4s %6s  %-27s %-27s %-27s %s\n",
		    base.deadline_first, base.deadline_last, base.run_limit,
		    "cap", "tau", "base", "N", "postfix", "flush", "ebb",
		    "ebb p>=1 run");
	c = cells;
	for (a = 0; a < nitems(grid_capacity); a++)
	for (b = 0; b < nitems(grid_tau); b++)
	for (d = 0; d < nitems(grid_base); d++, c++) {
		c->sc = base;
		c->sc.host.capacity = grid_capacity[a];
		if (!fixed_n)		/* the same N/R in every cell */
			c->sc.messages = lround(nr * grid_capacity[a]);
		c->sc.host.tau = grid_tau[b];
		c->sc.host.base_load = grid_base[d];
		for (p = 0; p < LAB_POLICY_COUNT; p++) {
			run_one(&o, &c->sc, (enum lab_policy)p, &c->card[p]);
			if (o.json)
				lab_print_json(card_json(&c->sc, &c->card[p]));
		}
		if (o.json)
			continue;
		printf("%5g %5g %4g %6ld ", c->sc.host.capacity,
		    c->sc.host.tau, c->sc.host.base_load, c->sc.messages);
		for (p = 0; p < LAB_POLICY_COUNT; p++) {
			const struct lab_scorecard *k = &c->card[p];

			printf(" %5.1f %5.1f %3ld %5.2f%-6s", lab_pct(k->on_time,
			    k->messages), lab_pct(k->bounced, k->messages),
			    k->reboots, k->drain_nr, k->left > 0 ? "+left" :
			    "");
		}
		printf(" %ld\n", c->card[LAB_POLICY_EBB].pressure_run);
		fflush(stdout);
	}
	print_worst(cells, ncells, o.json);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!o.json)
		printf("\n%zu cells x %d policies in %.1f s\n", ncells,
		    LAB_POLICY_COUNT, (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	free(cells);
	return 0;
}

int
main(int argc, char **argv)
{
	log_init("ebb-lab", 1, 0);
	if (argc < 2) {
		lab_usage(stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		lab_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "grid") == 0)
		return cmd_grid(argc - 1, argv + 1);
	if (strcmp(argv[1], "inbound") == 0)
		return lab_cmd_inbound(argc - 1, argv + 1);
	if (strcmp(argv[1], "inbound-grid") == 0)
		return lab_cmd_inbound_grid(argc - 1, argv + 1);
	if (strcmp(argv[1], "senders") == 0)
		return lab_cmd_senders(argc - 1, argv + 1);
	lab_usage_error("unknown command \"%s\"", argv[1]);
}
