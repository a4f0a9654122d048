/*
 * ebb-lab-inbound.c - the inbound flood on ebb-lab's command line
 *
 *	ebb-lab inbound [--policy postfix|ebb|ebb-tempfail|all]
 *	    [--senders N] [--messages N] [--mix mixed|cloud] [--capacity R]
 *	    [--tau S] [--front-work F] [--seed N] [--json] [--tmpdir DIR]
 *	    [--config FILE] [--verbose]
 *	ebb-lab inbound-grid [--seed N] [--json] [--tmpdir DIR]
 *	    [--config FILE] [--verbose]
 *
 * "inbound" runs one surge of remote senders (lab/inbound.c) against each
 * policy asked for and prints the inbound scorecards side by side
 * (--json: one object per policy, one per line). "inbound-grid" sweeps
 * surge sizes x sender mixes x pipeline capacities, every policy in each
 * cell, and prints one row per cell and the worst cell of each metric per
 * policy.
 */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <jansson.h>

#include "ebb/admit.h"
#include "ebb/util.h"
#include "lab/inbound.h"
#include "lab/senders.h"
#include "ebb-lab.h"

static const long grid_messages[] = { 1200, 2400 };
static const char *const grid_mix[] = { "mixed", "cloud" };
static const double grid_capacity[] = { 10, 20, 50 };

struct iopts {
	int	 policies[LAB_INBOUND_COUNT];
	int	 json;
	int	 verbose;
	const char *mix;
};

/* run_one - one policy on sc; exits 1 when the lab itself fails */
static void
run_one(const struct iopts *o, const struct lab_inbound_scenario *sc,
    enum lab_inbound_policy p, struct lab_inbound_card *card)
{
	char	*err = NULL;
	int	 rc;

	lab_quiet_begin(o->verbose);
	rc = lab_inbound_run(sc, p, card, &err);
	lab_quiet_end();
	if (rc == -1) {
		fprintf(stderr, "ebb-lab: %s: %s\n",
		    lab_inbound_policy_name(p), err);
		free(err);
		exit(EXIT_FAILURE);
	}
}

/* card_json - an inbound scorecard as a JSON object */
static json_t *
card_json(const struct lab_inbound_scenario *sc, const char *mix,
    const struct lab_inbound_card *c)
{
	json_t	*o = json_object(), *rs;
	int	 i;

#define I(k, v)	json_object_set_new(o, k, json_integer((json_int_t)(v)))
#define R(k, v)	json_object_set_new(o, k, isfinite(v) ? json_real(v) : \
	    json_null())
	json_object_set_new(o, "policy", json_string(
	    lab_inbound_policy_name(c->policy)));
	json_object_set_new(o, "mix", json_string(mix));
	R("capacity", sc->host.capacity);
	R("tau", sc->host.tau);
	R("front_work", sc->host.front_work);
	I("senders", sc->senders.senders);
	I("seed", sc->senders.seed);
	R("compress", sc->compress);
	I("messages", c->messages);
	I("offered", c->offered);
	I("accepted", c->accepted);
	I("lost", c->lost);
	I("lost_offered", c->lost_offered);
	I("lost_refused", c->lost_refused);
	I("lost_cutoff", c->lost_cutoff);
	I("pending", c->pending);
	I("held", c->held);
	I("sessions", c->sessions);
	I("connect_failed", c->connect_failed);
	I("cut", c->cut);
	I("tempfailed", c->tempfailed);
	I("rejected", c->rejected);
	I("urgent_refusals", c->urgent_refusals);
	I("reboots", c->reboots);
	R("temp_peak", c->temp_peak);
	R("above_passive", c->above_passive);
	R("utilization", c->utilization);
	R("accept_time", c->accept_time);
	R("pipeline_time", c->pipeline_time);
	I("undelivered", c->undelivered);
	R("end_time", c->end_time);
	R("safe_rate", c->safe_rate);
	R("safe_bound", c->safe_bound);
	R("pipeline_safe", c->pipeline_safe);
	if (c->policy != LAB_INBOUND_POSTFIX) {
		I("released", c->released);
		R("pressure_max", c->pressure_max);
		I("pressure_run", c->pressure_run);
		rs = json_object();
		for (i = 0; i < ADMIT_R_COUNT; i++)
			if (c->reasons[i] > 0)
				json_object_set_new(rs, admit_reason_name(
				    (enum admit_reason)i), json_integer(
				    (json_int_t)c->reasons[i]));
		json_object_set_new(o, "reasons", rs);
	}
#undef I
#undef R
	return o;
}

/* print_cards - the scorecards of one surge side by side */
static void
print_cards(const struct lab_inbound_scenario *sc, const char *mix,
    const struct lab_inbound_card *c, size_t n)
{
	const struct lab_host_params *h = &sc->host;
	size_t	 i;
	int	 r;

	printf("host: capacity %g msg/s, %d CPUs, tau %g s, base load %g, "
	    "trips %g/%g C, front door %g of a message's work\n",
	    h->capacity, h->cpus, h->tau, h->base_load, h->trip_passive,
	    h->trip_critical, h->front_work);
	printf("surge: %ld messages from %ld senders (mix %s), outage "
	    "%.1f d, seed %llu; the senders' clock runs %gx\n",
	    sc->senders.messages, sc->senders.senders, mix,
	    sc->senders.outage / SENDER_DAY,
	    (unsigned long long)sc->senders.seed, sc->compress);
	printf("safe rate %.1f msg/s\n\n", c[0].safe_rate);
	printf("%-30s", "");
	for (i = 0; i < n; i++)
		printf("%16s", lab_inbound_policy_name(c[i].policy));
	printf("\n");
#define ROW(label, fmt, ...) do {					\
	printf("%-30s", label);						\
	for (i = 0; i < n; i++)						\
		printf(fmt, __VA_ARGS__);				\
	printf("\n");							\
} while (0)
	ROW("offered", "%16ld", c[i].offered);
	ROW("accepted", "%16ld", c[i].accepted);
	ROW("lost", "%9ld %5.1f%%", c[i].lost,
	    lab_pct(c[i].lost, c[i].messages));
	ROW("  of them offered once", "%16ld", c[i].lost_offered);
	ROW("  of them refused once", "%16ld", c[i].lost_refused);
	ROW("  Exim delay_after_cutoff", "%16ld", c[i].lost_cutoff);
	ROW("still at a sender", "%16ld", c[i].pending);
	ROW("held by ebb", "%16ld", c[i].held);
	ROW("SMTP sessions", "%16ld", c[i].sessions);
	ROW("tempfailed sessions", "%16ld", c[i].tempfailed);
	ROW("rejected sessions", "%16ld", c[i].rejected);
	ROW("urgent refusals", "%16ld", c[i].urgent_refusals);
	ROW("connect failed / cut", "%9ld/%-6ld", c[i].connect_failed,
	    c[i].cut);
	ROW("reboots", "%16ld", c[i].reboots);
	ROW("peak temperature (C)", "%16.1f", c[i].temp_peak);
	ROW("above passive trip (s)", "%16.0f", c[i].above_passive);
	ROW("last acceptance (s)", "%16.1f", c[i].accept_time);
	ROW("all accepted in pipeline (s)", "%16.1f", c[i].pipeline_time);
	ROW("accepted / safe rate (s)", "%16.1f", c[i].safe_bound);
	ROW("pipeline / safe bound", "%16.2f", c[i].pipeline_safe);
	ROW("accepted, not processed", "%16ld", c[i].undelivered);
	ROW("mean utilization", "%16.2f", c[i].utilization);
#undef ROW
	for (i = 0; i < n; i++) {
		if (c[i].policy == LAB_INBOUND_POSTFIX)
			continue;
		printf("\n%s: released %ld, peak pressure %.2f, p >= 1 run "
		    "%ld samples; decisions:", lab_inbound_policy_name(
		    c[i].policy), c[i].released, c[i].pressure_max,
		    c[i].pressure_run);
		for (r = 0; r < ADMIT_R_COUNT; r++)
			if (c[i].reasons[r] > 0)
				printf(" %s %ld", admit_reason_name(
				    (enum admit_reason)r), c[i].reasons[r]);
		printf("\n");
	}
}

/* common_opt - an option both commands take; 0 when ch is not one */
static int
common_opt(int ch, struct lab_inbound_scenario *sc, struct iopts *o)
{
	switch (ch) {
	case 's':
		sc->senders.seed = (uint64_t)lab_integer("seed", optarg, 0,
		    (1LL << 62));
		return 1;
	case 'j':
		o->json = 1;
		return 1;
	case 'd':
		sc->tmpdir = optarg;
		return 1;
	case 'c':
		sc->config = optarg;
		return 1;
	case 'v':
		o->verbose = 1;
		return 1;
	}
	return 0;
}

/* check - the scenario can run, or exit 64 */
static void
check(const struct lab_inbound_scenario *sc)
{
	char	*err = NULL;

	if (lab_inbound_check(sc, &err) == -1) {
		fprintf(stderr, "ebb-lab: %s\n", err);
		free(err);
		exit(EX_USAGE);
	}
}

int
lab_cmd_inbound(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "policy",	required_argument,	NULL, 'p' },
		{ "senders",	required_argument,	NULL, 'S' },
		{ "messages",	required_argument,	NULL, 'n' },
		{ "mix",	required_argument,	NULL, 'm' },
		{ "capacity",	required_argument,	NULL, 'r' },
		{ "tau",	required_argument,	NULL, 't' },
		{ "front-work",	required_argument,	NULL, 'f' },
		{ "seed",	required_argument,	NULL, 's' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "tmpdir",	required_argument,	NULL, 'd' },
		{ "config",	required_argument,	NULL, 'c' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct lab_inbound_card cards[LAB_INBOUND_COUNT];
	struct lab_inbound_scenario sc;
	struct iopts	 o;
	size_t		 n = 0;
	int		 ch, p;

	memset(&o, 0, sizeof(o));
	o.mix = "mixed";
	lab_inbound_default(&sc);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (common_opt(ch, &sc, &o))
			continue;
		switch (ch) {
		case 'p':
			if (strcmp(optarg, "all") == 0) {
				for (p = 0; p < LAB_INBOUND_COUNT; p++)
					o.policies[p] = 1;
			} else if ((p = lab_inbound_policy_lookup(optarg)) >= 0)
				o.policies[p] = 1;
			else
				lab_usage_error("--policy: \"%s\" is not "
				    "postfix, ebb, ebb-tempfail or all",
				    optarg);
			break;
		case 'S':
			sc.senders.senders = (long)lab_integer("senders",
			    optarg, 1, 10000);
			break;
		case 'n':
			sc.senders.messages = (long)lab_integer("messages",
			    optarg, 1, 1000000);
			break;
		case 'm':
			if (lab_senders_mix(optarg, sc.senders.mix) == -1)
				lab_usage_error("--mix: \"%s\" is not one of "
				    "%s", optarg, LAB_SENDERS_MIXES);
			o.mix = optarg;
			break;
		case 'r':
			sc.host.capacity = lab_number("capacity", optarg);
			break;
		case 't':
			sc.host.tau = lab_number("tau", optarg);
			break;
		case 'f':
			sc.host.front_work = lab_number("front-work", optarg);
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
		lab_usage_error("inbound: unexpected argument \"%s\"",
		    argv[optind]);
	check(&sc);
	for (p = 0; p < LAB_INBOUND_COUNT; p++)
		if (o.policies[p])
			break;
	if (p == LAB_INBOUND_COUNT)	/* none asked for: all */
		for (p = 0; p < LAB_INBOUND_COUNT; p++)
			o.policies[p] = 1;
	for (p = 0; p < LAB_INBOUND_COUNT; p++) {
		if (!o.policies[p])
			continue;
		run_one(&o, &sc, (enum lab_inbound_policy)p, &cards[n]);
		if (o.json)
			lab_print_json(card_json(&sc, o.mix, &cards[n]));
		n++;
	}
	if (!o.json)
		print_cards(&sc, o.mix, cards, n);
	return 0;
}

/*
 * The grid's worst cells: for each metric, per policy, the worst value
 * and where.
 */
enum metric_id {
	M_LOST, M_LOST_EXCESS, M_REBOOTS, M_URGENT, M_TEMP, M_PIPE_SAFE,
	M_PENDING
};

struct metric {
	enum metric_id	 id;
	const char	*name;
	int		 decimals;
};

static const struct metric metrics[] = {
	{ M_LOST, "lost %", 2 },
	{ M_LOST_EXCESS, "lost % - postfix's", 2 },
	{ M_REBOOTS, "reboots", 0 },
	{ M_URGENT, "urgent refusals", 0 },
	{ M_TEMP, "peak temperature C", 1 },
	{ M_PIPE_SAFE, "pipeline / safe bound", 2 },
	{ M_PENDING, "still at a sender", 0 },
};

struct cell {
	struct lab_inbound_scenario sc;
	const char	*mix;
	struct lab_inbound_card card[LAB_INBOUND_COUNT];
};

/* metric_value - one metric of policy p in a cell; higher is worse */
static double
metric_value(const struct cell *c, int p, enum metric_id id)
{
	const struct lab_inbound_card *k = &c->card[p];

	switch (id) {
	case M_LOST:
		return lab_pct(k->lost, k->messages);
	case M_LOST_EXCESS:
		return lab_pct(k->lost, k->messages) - lab_pct(
		    c->card[LAB_INBOUND_POSTFIX].lost, k->messages);
	case M_REBOOTS:
		return (double)k->reboots;
	case M_URGENT:
		return (double)k->urgent_refusals;
	case M_TEMP:
		return k->temp_peak;
	case M_PIPE_SAFE:
		return k->undelivered > 0 ? HUGE_VAL : k->pipeline_safe;
	case M_PENDING:
		return (double)k->pending;
	}
	return 0;
}

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

	if (!json) {
		printf("\nworst cell per metric (messages/mix/capacity; "
		    "pipeline is \"inf\" when accepted mail was left)\n%-24s",
		    "");
		for (p = 0; p < LAB_INBOUND_COUNT; p++)
			printf("  %-22s", lab_inbound_policy_name(
			    (enum lab_inbound_policy)p));
		printf("\n");
	}
	for (k = 0; k < nitems(metrics); k++) {
		m = &metrics[k];
		if (!json)
			printf("%-24s", m->name);
		for (p = 0; p < LAB_INBOUND_COUNT; p++) {
			w = &cells[0];
			wv = metric_value(&cells[0], p, m->id);
			for (i = 1; i < ncells; i++) {
				v = metric_value(&cells[i], p, m->id);
				if (v > wv) {
					wv = v;
					w = &cells[i];
				}
			}
			if (json) {
				o = json_object();
				json_object_set_new(o, "worst",
				    json_string(m->name));
				json_object_set_new(o, "policy", json_string(
				    lab_inbound_policy_name(
				    (enum lab_inbound_policy)p)));
				json_object_set_new(o, "value", isfinite(wv) ?
				    json_real(wv) : json_null());
				json_object_set_new(o, "messages",
				    json_integer(w->sc.senders.messages));
				json_object_set_new(o, "mix",
				    json_string(w->mix));
				json_object_set_new(o, "capacity",
				    json_real(w->sc.host.capacity));
				lab_print_json(o);
				continue;
			}
			if (isfinite(wv))
				snprintf(val, sizeof(val), "%6.*f",
				    m->decimals, wv);
			else
				snprintf(val, sizeof(val), "%6s", "inf");
			snprintf(buf, sizeof(buf), "%s %ld/%s/%g", val,
			    w->sc.senders.messages, w->mix,
			    w->sc.host.capacity);
			printf("  %-22s", buf);
		}
		if (!json)
			printf("\n");
	}
}

int
lab_cmd_inbound_grid(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seed",	required_argument,	NULL, 's' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "tmpdir",	required_argument,	NULL, 'd' },
		{ "config",	required_argument,	NULL, 'c' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct lab_inbound_scenario base;
	struct cell	*cells, *c;
	struct iopts	 o;
	struct timespec	 t0, t1;
	size_t		 ncells, a, b, d;
	int		 ch, p;

	memset(&o, 0, sizeof(o));
	lab_inbound_default(&base);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (common_opt(ch, &base, &o))
			continue;
		switch (ch) {
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
		lab_usage_error("inbound-grid: unexpected argument \"%s\"",
		    argv[optind]);
	check(&base);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ncells = nitems(grid_messages) * nitems(grid_mix) *
	    nitems(grid_capacity);
	cells = xcalloc(ncells, sizeof(*cells));
	if (!o.json)
		printf("%ld senders, seed %llu; per policy: lost %% / "
		    "reboots / urgent refusals / pipeline x safe bound\n"
		    "%6s %-6s %4s  %-26s %-26s %-26s\n", base.senders.senders,
		    (unsigned long long)base.senders.seed, "N", "mix", "cap",
		    "postfix", "ebb", "ebb-tempfail");
	c = cells;
	for (a = 0; a < nitems(grid_messages); a++)
	for (b = 0; b < nitems(grid_mix); b++)
	for (d = 0; d < nitems(grid_capacity); d++, c++) {
		c->sc = base;
		c->sc.senders.messages = grid_messages[a];
		c->mix = grid_mix[b];
		lab_senders_mix(c->mix, c->sc.senders.mix);
		c->sc.host.capacity = grid_capacity[d];
		for (p = 0; p < LAB_INBOUND_COUNT; p++) {
			run_one(&o, &c->sc, (enum lab_inbound_policy)p,
			    &c->card[p]);
			if (o.json)
				lab_print_json(card_json(&c->sc, c->mix,
				    &c->card[p]));
		}
		if (o.json)
			continue;
		printf("%6ld %-6s %4g ", c->sc.senders.messages, c->mix,
		    c->sc.host.capacity);
		for (p = 0; p < LAB_INBOUND_COUNT; p++) {
			const struct lab_inbound_card *k = &c->card[p];

			printf(" %6.2f %3ld %5ld %5.2f%-5s",
			    lab_pct(k->lost, k->messages), k->reboots,
			    k->urgent_refusals, k->pipeline_safe,
			    k->undelivered > 0 ? "+left" : "");
		}
		printf("\n");
		fflush(stdout);
	}
	print_worst(cells, ncells, o.json);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!o.json)
		printf("\n%zu cells x %d policies in %.1f s\n", ncells,
		    LAB_INBOUND_COUNT, (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	free(cells);
	return 0;
}
