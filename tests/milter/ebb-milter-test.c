/*
 * ebb-milter-test.c - host ebb's milter without ebbd, for the milter tests
 *
 * ebb-milter-test [-c FILE] [-v]
 *
 * Does what ebbd's child will do for the milter, and nothing else: reads
 * the config, samples the sensors (under [sensors] proc_root, a fake tree
 * in the tests) and ticks a governor every [sensors] interval, hands the
 * budget to the milter through struct milter_env, and logs to stderr. A
 * message put on hold is logged as "hold-recorded ID deadline=T" where
 * ebbd would write the ledger. SIGTERM or SIGINT stops it; the counters
 * are logged on the way out ("counters accepted=N ...").
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ebb/admit.h"
#include "ebb/config.h"
#include "ebb/governor.h"
#include "ebb/log.h"
#include "ebb/milter.h"
#include "ebb/sensor.h"
#include "ebb/util.h"

static pthread_mutex_t	 budget_lock = PTHREAD_MUTEX_INITIALIZER;
static struct budget	 current;
static atomic_int	 stopped;

static void
host_budget(void *arg, struct budget *budget_r)
{
	(void)arg;
	pthread_mutex_lock(&budget_lock);
	*budget_r = current;
	pthread_mutex_unlock(&budget_lock);
}

static void
host_hold(void *arg, const char *queue_id, time_t deadline)
{
	(void)arg;
	log_msg(LOG_INFO, queue_id, "hold-recorded deadline=%lld",
	    (long long)deadline);
}

static void
host_stopped(void *arg)
{
	(void)arg;
	atomic_store(&stopped, 1);
}

/* tick - one sensor sample and governor tick into the shared budget */
static void
tick(const struct config *cfg, struct governor *g,
    struct sensor_sample *prev, int first)
{
	struct sensor_sample	 s;
	struct timespec		 ts;
	struct budget		 b;

	sensor_sample_read(cfg, NULL, -1, first ? NULL : prev, &s);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	governor_tick(g, s.pressure, s.npresent > 0, ts.tv_sec, &b);
	pthread_mutex_lock(&budget_lock);
	if (b.pressure != current.pressure || b.critical != current.critical)
		log_debug("budget p=%.2f cutoff=%.2f critical=%d",
		    b.pressure, b.cutoff, b.critical);
	current = b;
	pthread_mutex_unlock(&budget_lock);
	*prev = s;
}

static void
log_counters(void)
{
	struct milter_counters c;
	char	 reasons[512];
	size_t	 used = 0;
	int	 i;

	milter_counters(&c);
	reasons[0] = '\0';
	for (i = 0; i < ADMIT_R_COUNT && used < sizeof(reasons); i++)
		used += snprintf(reasons + used, sizeof(reasons) - used,
		    " %s=%llu", admit_reason_name(i), c.reason[i]);
	log_info("counters connections=%llu messages=%llu accepted=%llu "
	    "held=%llu tempfailed=%llu rejected=%llu rate_limited=%llu "
	    "errors=%llu%s", c.connections, c.messages, c.accepted, c.held,
	    c.tempfailed, c.rejected, c.rate_limited, c.errors, reasons);
}

int
main(int argc, char **argv)
{
	struct milter_env	 env = { host_budget, host_hold, host_stopped,
				    NULL };
	struct governor_params	 gp;
	struct sensor_sample	 prev;
	struct governor		*g;
	struct config		*cfg;
	const char		*path = NULL;
	char			*err = NULL;
	sigset_t		 set;
	long			 waited;
	int			 ch, verbose = 0;

	while ((ch = getopt(argc, argv, "c:v")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'v':
			verbose++;
			break;
		default:
			fprintf(stderr, "usage: ebb-milter-test [-c FILE] "
			    "[-v]\n");
			return 2;
		}
	}
	log_init("ebb-milter-test", 1, verbose);
	if (config_load(path, &cfg, &err) == -1)
		log_fatal("%s", err);

	/* REFERENCE.md: before any thread, block what libmilter sigwaits */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	governor_params_from_config(cfg, &gp);
	g = governor_new(&gp);
	memset(&prev, 0, sizeof(prev));
	tick(cfg, g, &prev, 1);
	if (milter_start(cfg, &env, &err) == -1)
		log_fatal("%s", err);
	while (!atomic_load(&stopped)) {
		for (waited = 0; waited < cfg->interval * 10 &&
		    !atomic_load(&stopped); waited++)
			usleep(100000);
		tick(cfg, g, &prev, 0);
		milter_flush();
	}
	milter_stop();
	log_counters();
	governor_free(&g);
	config_free(&cfg);
	return 0;
}
