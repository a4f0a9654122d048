/*
 * cmd_drain.c - ebbctl drain: one-shot, cron-friendly recovery drain
 *
 * ebbctl drain [--dry-run] [--limit N] [--max-rate R] [--for DURATION] [-v]
 *
 * Parks the deferred backlog and releases it earliest deadline first within
 * the governor's budget, sampling the host every [sensors] interval, until
 * the backlog is gone (exit 0), or --limit, --for, a signal, pressure that
 * holds releases longer than --for (or DRAIN_PATIENCE), or released mail
 * that stops leaving ([drain] stall_timeout: the MTA's queue manager is
 * down) stops
 * it with mail left (exit 75, EX_TEMPFAIL, so cron runs it again).
 * Pressure at or above 1, critical or not, pauses releases, with a line
 * naming the sensor, and they resume when it falls. A second drain while one runs exits 75 at once (a lock in the
 * state directory). Errors exit 1, and so does [drain] mode = nudge, which
 * is not built yet: nothing is touched then. Works without ebbd.
 *
 * On a TTY, progress is a bar redrawn every sample; a log line in between
 * (a message released past its deadline) takes the bar's place and the bar
 * is redrawn below it. Otherwise (cron) it is a key=value log line each
 * time another DRAIN_LOG_STEP of the backlog is released or
 * DRAIN_LOG_EVERY seconds passed with releases, and at the end, its
 * batch= counting the releases since the line before; one line each when
 * releases pause under pressure and when they resume.
 *
 * The loop (when to sample, the governor, the --max-rate cap, the release
 * step) is pace.c's, the same as ebbd's, on the monotonic clock; this file
 * reads the sensors, says what happens and decides when to stop.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ebb/config.h"
#include "ebb/drain.h"
#include "ebb/duration.h"
#include "ebb/governor.h"
#include "ebb/ledger.h"
#include "ebb/log.h"
#include "ebb/mta.h"
#include "ebb/pace.h"
#include "ebb/proof.h"
#include "ebb/sensor.h"
#include "ebb/util.h"
#include "cmd.h"
#include "fmt.h"

static int	 cmd_drain_exec(struct ebbctl *, int, char **);

const struct ebbctl_cmd cmd_drain_entry = {
	"drain", "[--dry-run] [--limit N] [--max-rate R] [--for DURATION] [-v]",
	"park the backlog, release it earliest deadline first within budget",
	"  --dry-run       what a drain would do now, changing nothing\n"
	"  --limit N       release at most N messages, then stop (exit 75\n"
	"                  with mail left)\n"
	"  --max-rate R    release at most R messages/s\n"
	"  --for DURATION  stop after DURATION (5m, 1h), exit 75 with mail "
	"left\n"
	"  -v, --verbose   a log line per message released\n"
	"  --json          with --dry-run: the plan as one JSON object\n",
	cmd_drain_exec
};

#define DRAIN_STEP	0.25	/* seconds between release batches */
#define DRAIN_PATIENCE	600	/* seconds a stop is waited out without
				   --for */
#define DRAIN_LOG_EVERY	30	/* seconds between progress lines, at most */
#define DRAIN_LOG_STEP	20	/* a progress line per 1/20 (5%) of the
				   backlog released */

static volatile sig_atomic_t drain_stop;

static void
on_signal(int sig)
{
	(void)sig;
	drain_stop = 1;
}

/* eta - time to release what is parked at the current rate, or why not */
static void
eta(const struct drain_status *st, char *buf, size_t len)
{
	if (st->rate > 0 && st->parked > 0)
		duration_format((long)ceil(st->parked / st->rate), buf, len);
	else
		ebb_strlcpy(buf, st->parked > 0 ? "paused" : "-", len);
}

/* progress_bar - the TTY status line, redrawn in place; final ends it */
static void
progress_bar(const struct drain_status *st, double pressure, int final)
{
	char	 left[DURATION_BUFSZ], bar[31];
	size_t	 i, fill;

	eta(st, left, sizeof(left));
	fill = st->total ? st->released * 30 / st->total : 30;
	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	fprintf(stderr, "\r[%s] %zu/%zu released  %6.1f/s  in flight %zu  "
	    "p=%.2f  ETA %s   %s", bar, st->released, st->total, st->rate,
	    st->inflight, pressure, left, final ? "\n" : "");
	fflush(stderr);
	log_status_line(!final);	/* a log line clears it first */
}

/*
 * progress_log - one key=value line for the n releases since the last
 * line (no TTY)
 */
static void
progress_log(const struct drain_status *st, long n, double pressure)
{
	char	 left[DURATION_BUFSZ];

	eta(st, left, sizeof(left));
	log_info("drain: batch=%ld released=%zu total=%zu expired=%zu "
	    "parked=%zu inflight=%zu rate=%.1f window=%ld p=%.2f eta=%s", n,
	    st->released, st->total, st->expired, st->parked, st->inflight,
	    st->rate, st->window, pressure, left);
}

/* top_sensor - the sensor of sample with the highest ratio, or NULL */
static const struct sensor_reading *
top_sensor(const struct sensor_sample *sample)
{
	const struct sensor_reading *top = NULL;
	int	 i;

	for (i = 0; i < SENSOR_COUNT; i++)
		if (sample->r[i].present &&
		    (top == NULL || sample->r[i].ratio > top->ratio))
			top = &sample->r[i];
	return top;
}

/* bar_end - end a drawn bar's line, leaving it shown above what follows */
static void
bar_end(void)
{
	if (log_status_line(0))
		fputc('\n', stderr);
}

/*
 * pause_log - say once that releases pause (a limit is reached, the
 * governor stopped, or pressure is critical), which sensor holds them and
 * how long the drain waits, and once that they resume
 */
static void
pause_log(int paused, int critical, const struct budget *budget,
    const struct sensor_sample *sample, double wait)
{
	const struct sensor_reading *top = top_sensor(sample);
	char	 left[DURATION_BUFSZ];

	duration_format((long)ceil(wait), left, sizeof(left));
	if (paused)
		log_info("drain: paused p=%.2f sensor=%s ratio=%.2f: %s, "
		    "releases wait until pressure falls (for up to %s)",
		    budget->pressure, top != NULL ? top->name : "-",
		    top != NULL ? top->ratio : 0.0, critical ?
		    "pressure is critical" : "a limit is reached", left);
	else
		log_info("drain: resumed p=%.2f rate=%.1f window=%ld",
		    budget->pressure, budget->rate, budget->window);
}

/* the drain's progress, for giving up when it has none */
struct progress {
	double	 held_since;	/* releases held (stop) since; 0 not */
	double	 moved;		/* last release or delivery */
	size_t	 released;
	size_t	 inflight;
};

/*
 * stalled - 1 (and why, logged) when the drain should give up: releases
 * held longer than patience, or released mail not leaving for stall
 * seconds (the MTA's queue manager down, a kick lost for good)
 */
static int
stalled(struct progress *pg, const struct drain_status *st,
    const struct budget *budget, double now, double patience, double stall)
{
	char	 how[DURATION_BUFSZ];

	if (st->released != pg->released || st->inflight < pg->inflight)
		pg->moved = now;
	pg->released = st->released;
	pg->inflight = st->inflight;
	if (budget->stopped && st->parked > 0) {
		if (pg->held_since == 0)
			pg->held_since = now;
		if (now - pg->held_since >= patience) {
			duration_format((long)patience, how, sizeof(how));
			log_warn("drain: pressure held releases for %s: "
			    "stopping with %zu messages parked", how,
			    st->parked);
			return 1;
		}
	} else
		pg->held_since = 0;
	if (st->inflight > 0 && !budget->stopped &&
	    now - pg->moved >= stall) {
		duration_format((long)stall, how, sizeof(how));
		log_warn("drain: no progress for %s: %zu released messages "
		    "are still waiting to be delivered; is the MTA's queue "
		    "manager running?", how, st->inflight);
		return 1;
	}
	return 0;
}

/*
 * drain_run - the loop: sample when due, release, until done or stopped;
 * max_rate (--max-rate) caps the budget, 0: no cap
 */
static int
drain_run(struct ebbctl *ctl, struct mta *mta, struct drain *d, double for_s,
    double max_rate)
{
	const struct config *cfg = ctl->cfg;
	struct pace_params pp;
	struct pace	*pc;
	struct sensor_sample sample, prev;
	struct budget	 budget;
	struct drain_status st;
	struct progress	 pg;
	double		 start = ebb_now_mono(), t, patience;
	long		 got;
	char		*err = NULL;
	int		 tty = isatty(STDERR_FILENO), rc = -1;
	int		 changed, sampled;
	/* progress lines without a TTY: releases not logged yet, when and
	   at which step of the backlog the last line was */
	long		 unlogged = 0;
	double		 logged_at = start;
	size_t		 step, logged_step = 0;

	pace_params_from_config(cfg, &pp);
	pc = pace_new(&pp);
	pace_set_cap(pc, max_rate);
	memset(&prev, 0, sizeof(prev));
	memset(&budget, 0, sizeof(budget));
	memset(&pg, 0, sizeof(pg));
	pg.moved = start;
	/* a stop is waited out: for --for, else DRAIN_PATIENCE */
	patience = for_s > 0 ? for_s : DRAIN_PATIENCE;
	while (rc == -1) {
		t = ebb_now_mono();
		sampled = 0;
		if (pace_due(pc, t)) {
			sensor_sample_read(cfg, mta_queue_directory(mta),
			    mta_depth(mta), &prev, t, &sample);
			prev = sample;
			changed = pace_sample(pc, &sample, t);
			/* the logs show the governor's own rate, uncapped */
			pace_governor_budget(pc, &budget);
			sampled = 1;
			if (changed & (PACE_STOPPED | PACE_RESUMED |
			    PACE_CRITICAL)) {
				bar_end();
				pause_log(budget.stopped || budget.critical,
				    budget.critical, &budget, &sample,
				    patience - (for_s > 0 ? t - start : 0));
			}
		}
		got = pace_step(pc, d, ebb_now_mono(), time(NULL), &err);
		if (got == -1) {
			log_err("drain: %s", err);
			free(err);
			rc = 1;
			break;
		}
		drain_status(d, &st);
		if (tty && (got > 0 || sampled))
			progress_bar(&st, budget.pressure, 0);
		else if (!tty && got > 0) {
			unlogged += got;
			step = st.total > 0 ? st.released * DRAIN_LOG_STEP /
			    st.total : DRAIN_LOG_STEP;
			t = ebb_now_mono();
			if (step > logged_step ||
			    t - logged_at >= DRAIN_LOG_EVERY) {
				progress_log(&st, unlogged, budget.pressure);
				unlogged = 0;
				logged_at = t;
				logged_step = step;
			}
		}
		if (drain_done(d))
			rc = 0;
		else if (drain_stop) {
			bar_end();
			log_warn("drain: interrupted");
			rc = EX_TEMPFAIL;
		} else if (stalled(&pg, &st, &budget, ebb_now_mono(),
		    patience, (double)cfg->stall_timeout)) {
			bar_end();
			rc = EX_TEMPFAIL;
		} else if (for_s > 0 && ebb_now_mono() - start >= for_s) {
			bar_end();
			log_info("drain: --for time is up");
			rc = EX_TEMPFAIL;
		} else if (drain_limit_reached(d) && st.inflight == 0)
			rc = st.parked > 0 ? EX_TEMPFAIL : 0;
		else
			usleep((useconds_t)(DRAIN_STEP * 1e6));
	}
	drain_status(d, &st);
	if (unlogged > 0)
		progress_log(&st, unlogged, budget.pressure);
	if (rc == 0 && st.stuck > 0) {
		log_warn("drain: %zu messages stay held: the MTA did not "
		    "release them (see the lines above)", st.stuck);
		rc = EX_TEMPFAIL;
	}
	if (tty)
		progress_bar(&st, budget.pressure, 1);
	if (st.parked > 0)
		log_info("drain: %zu messages stay parked in the hold queue: "
		    "run \"ebbctl drain\" again, or \"ebbctl failsafe\" to "
		    "release them all", st.parked);
	log_info("drain: done: released=%zu expired=%zu parked=%zu "
	    "admin_held=%zu corrupt=%zu elapsed=%.1fs", st.released,
	    st.expired, st.parked, st.admin_held, st.corrupt,
	    ebb_now_mono() - start);
	pace_free(&pc);
	return rc;
}

#define DRY_RUN_ROWS	20	/* messages a dry run lists without --limit */

/*
 * dry_run_json - the plan as one object: the budget, the sensor holding
 * releases (null when none does), the counts, and the messages it lists
 */
static void
dry_run_json(struct mta *mta, const struct budget *budget,
    const struct sensor_reading *held_by, size_t would, size_t backlog,
    size_t expired, size_t admin_held, const struct msg *const *order,
    size_t rows)
{
	json_t	*o, *list;
	size_t	 i;

	o = json_object();
	json_object_set_new(o, "dry_run", json_true());
	json_object_set_new(o, "pressure", json_real(budget->pressure));
	json_object_set_new(o, "rate", json_real(budget->rate));
	json_object_set_new(o, "window", json_integer(budget->window));
	json_object_set_new(o, "held_by", held_by != NULL ?
	    json_string(held_by->name) : json_null());
	json_object_set_new(o, "would_release",
	    json_integer((json_int_t)would));
	json_object_set_new(o, "backlog", json_integer((json_int_t)backlog));
	json_object_set_new(o, "expired", json_integer((json_int_t)expired));
	json_object_set_new(o, "admin_held",
	    json_integer((json_int_t)admin_held));
	json_object_set_new(o, "eta", budget->rate > 0 && would > 0 ?
	    json_integer((json_int_t)ceil(would / budget->rate)) :
	    json_null());
	list = json_array();
	for (i = 0; i < rows; i++)
		json_array_append_new(list, fmt_msg_json(mta, order[i]));
	json_object_set_new(o, "messages", list);
	json_dumpf(o, stdout, JSON_COMPACT | JSON_REAL_PRECISION(6));
	putchar('\n');
	json_decref(o);
}

/*
 * dry_run - what the drain would do, changing nothing: the budget now, and
 * the messages it would release in order, as "ebbctl list" shows them (the
 * first DRY_RUN_ROWS, or all --limit N it would release)
 */
static int
dry_run(struct ebbctl *ctl, struct mta *mta, struct drain_opts *opts)
{
	const struct sensor_reading *held_by = NULL;
	const struct msg *const *order;
	struct pace_params pp;
	struct pace	*pc;
	struct sensor_sample sample, prev;
	struct budget	 budget;
	struct drain_status st;
	struct ledger	*ledger = NULL;
	struct drain	*d;
	char		*err = NULL, span[FMT_BUFSZ];
	size_t		 n, i, would, rows, expired = 0;
	time_t		 now = time(NULL);
	int		 rc = 0;

	/* an existing ledger tells which holds are ebb's; none is created */
	if (ledger_open_existing(ctl->cfg->state_directory, &ledger,
	    &err) == -1) {
		log_err("%s", err);
		free(err);
		return 1;
	}
	d = drain_new(ctl->cfg, mta, ledger, opts);
	if (drain_start(d, now, &err) == -1) {
		log_err("drain: %s", err);
		free(err);
		rc = 1;
		goto out;
	}
	memset(&prev, 0, sizeof(prev));
	sensor_sample_read(ctl->cfg, mta_queue_directory(mta),
	    mta_depth(mta), &prev, ebb_now_mono(), &sample);
	pace_params_from_config(ctl->cfg, &pp);
	pc = pace_new(&pp);
	pace_set_cap(pc, opts->max_rate);
	pace_sample(pc, &sample, ebb_now_mono());
	pace_budget(pc, &budget);
	pace_free(&pc);
	if (budget.stopped || budget.critical || !(budget.rate > 0))
		held_by = top_sensor(&sample);

	order = drain_order(d, &n);
	drain_status(d, &st);
	for (i = 0; i < n; i++)
		if (order[i]->deadline <= now)
			expired++;
	would = opts->limit > 0 ? MINIMUM(n, (size_t)opts->limit) : n;
	rows = opts->limit > 0 ? would : MINIMUM(n, (size_t)DRY_RUN_ROWS);
	if (ctl->json) {
		dry_run_json(mta, &budget, held_by, would, n, expired,
		    st.admin_held, order, rows);
		goto out;
	}
	printf("dry run: nothing is parked or released\n");
	printf("pressure %.2f, rate %.1f/s, window %ld\n", budget.pressure,
	    budget.rate, budget.window);
	printf("would release %zu", would);
	if (would < n)
		printf(" of %zu", n);
	printf(" message%s earliest deadline first (%zu past their "
	    "deadline)\n", n == 1 ? "" : "s", expired);
	if (st.admin_held > 0)
		printf("%zu held by the administrator stay%s held\n",
		    st.admin_held, st.admin_held == 1 ? "s" : "");
	if (held_by != NULL)
		printf("no releases now: %s is at %.2f of its limit%s\n",
		    held_by->name, held_by->ratio, budget.critical ?
		    " (critical)" : "");
	else if (budget.rate > 0 && would > 0) {
		fmt_span((long)ceil(would / budget.rate), span, sizeof(span));
		printf("at %.1f messages/s now: about %s\n", budget.rate, span);
	}
	if (n == 0)
		goto out;
	fmt_msg_table(mta, order, rows, now);
	if (rows < n && opts->limit > 0)
		printf("-- %zu of %zu: %zu stay parked after --limit %ld\n",
		    rows, n, n - rows, opts->limit);
	else if (rows < n)
		printf("-- %zu of %zu shown (--limit N lists the N it would "
		    "release)\n", rows, n);
out:
	drain_free(&d);
	ledger_close(&ledger);
	return rc;
}

static int
cmd_drain_exec(struct ebbctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run",	no_argument,		NULL, 'n' },
		{ "limit",	required_argument,	NULL, 'l' },
		{ "max-rate",	required_argument,	NULL, 'r' },
		{ "for",	required_argument,	NULL, 'f' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	struct drain_opts opts = { 0 };
	struct proof_key key;
	struct sigaction sa;
	struct mta	*mta = NULL;
	struct ledger	*ledger = NULL;
	struct drain	*d = NULL;
	long		 for_s = 0;
	char		*end, *err = NULL;
	pid_t		 scanner = 0;
	int		 ch, lockfd = -1, rc = 1;

	while ((ch = getopt_long(argc, argv, "+v", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			opts.dry_run = 1;
			break;
		case 'l':
			errno = 0;
			opts.limit = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    opts.limit < 1)
				return cmd_usage_error(&cmd_drain_entry,
				    "--limit: \"%s\" is not a positive number",
				    optarg);
			break;
		case 'r':
			errno = 0;
			opts.max_rate = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(opts.max_rate > 0) || opts.max_rate > 1e6)
				return cmd_usage_error(&cmd_drain_entry,
				    "--max-rate: \"%s\" is not a rate in "
				    "messages/s", optarg);
			break;
		case 'f':
			if (duration_parse(optarg, &for_s) == -1 || for_s < 1)
				return cmd_usage_error(&cmd_drain_entry,
				    "--for: \"%s\" is not a duration", optarg);
			break;
		case 'v':
			opts.verbose = 1;
			break;
		default:
			return cmd_usage_error(&cmd_drain_entry,
			    "unknown option");
		}
	}
	if (optind != argc)
		return cmd_usage_error(&cmd_drain_entry, "unexpected \"%s\"",
		    argv[optind]);
	if (ctl->json && !opts.dry_run)
		return cmd_usage_error(&cmd_drain_entry, "--json goes with "
		    "--dry-run: a drain logs its progress");
	/* nudge is planned, not built: refuse it before touching anything */
	if (ctl->cfg->drain_mode != CONFIG_DRAIN_HOLD) {
		log_err("drain: [drain] mode = nudge is not implemented yet; "
		    "use mode = hold");
		return 1;
	}

	if (mta_open(ctl->cfg, &mta, &err) == -1) {
		log_err("%s", err);
		free(err);
		return 1;
	}
	if (opts.dry_run) {
		rc = dry_run(ctl, mta, &opts);
		mta_close(&mta);
		return rc;
	}

	switch (ledger_lock(ctl->cfg->state_directory, "drain", &lockfd,
	    &err)) {
	case 0:
		break;
	case 1:
		log_warn("another drain is running (lock %s/drain.lock): "
		    "not starting", ctl->cfg->state_directory);
		mta_close(&mta);
		return EX_TEMPFAIL;
	default:
		log_err("%s", err);
		free(err);
		mta_close(&mta);
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if (ledger_open(ctl->cfg->state_directory, &ledger, &err) == -1) {
		log_err("%s", err);
		free(err);
		goto out;
	}
	/* milter holds whose notice ebbd lost are released in turn too */
	(void)cmd_proof_key(ctl->cfg, &key, &opts);
	/* as root, the queue files are read by a scanner, as in ebbd */
	scanner = cmd_scanner(ctl->cfg, opts.proof_key, lockfd, &mta);
	opts.proof_all = 1;
	d = drain_new(ctl->cfg, mta, ledger, &opts);
	if (drain_start(d, time(NULL), &err) == -1) {
		log_err("drain: %s", err);
		free(err);
		goto out;
	}
	drain_ledger_warn(d);
	rc = drain_run(ctl, mta, d, (double)for_s, opts.max_rate);
out:
	drain_free(&d);
	ledger_close(&ledger);
	ledger_unlock(&lockfd);
	mta_close(&mta);
	cmd_scanner_end(scanner);
	return rc;
}
