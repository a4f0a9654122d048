/*
 * ebb-milter-test.c - host ebb's milter without ebbd, for the milter tests
 *
 * ebb-milter-test [-c FILE] [-v] [-z ZONE]
 *
 * Does what ebbd's child will do for the milter, and nothing else: reads
 * the config, samples the sensors (under [sensors] proc_root, a fake tree
 * in the tests) and ticks a pacer every [sensors] interval, hands the
 * budget to the milter through struct milter_env, and logs to stderr. A
 * message put on hold is logged as "hold-recorded ID deadline=T" where
 * ebbd would write the ledger, and carries the proof of a hold under a
 * fixed key (32 bytes of 0x5a). SIGTERM or SIGINT stops it; the counters
 * are logged on the way out ("counters accepted=N ...").
 *
 * -z ZONE (with libspf2) answers the SPF lookups from a file instead of
 * DNS, through libspf2's zone layer, so that SPF tests run offline: one
 * record a line, "NAME TYPE ANSWER [DATA...]", TYPE one of TXT A AAAA MX
 * PTR, ANSWER "ok" (then DATA) or NO_DATA, HOST_NOT_FOUND, TRY_AGAIN,
 * NO_RECOVERY; "#" starts a comment. This is a test build's program only:
 * ebbd always asks the real resolver.
 */
#include "config.h"

#include <errno.h>
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
#include "ebb/pace.h"
#include "ebb/log.h"
#include "ebb/milter.h"
#include "ebb/proof.h"
#include "ebb/sensor.h"
#include "ebb/util.h"

#ifdef HAVE_SPF2
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>

#include <spf2/spf.h>
#include <spf2/spf_dns_zone.h>
#endif

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

/*
 * tick - one sensor sample and pace tick into the shared budget, as
 * ebbd's parent makes it; the state directory stands in for the queue's
 * file system (queue_disk), so a config can make the disk full
 */
static void
tick(const struct config *cfg, struct pace *pc,
    struct sensor_sample *prev, int first)
{
	struct sensor_sample	 s;
	struct budget		 b;
	double			 mono = ebb_now_mono();

	sensor_sample_read(cfg, cfg->state_directory, -1,
	    first ? NULL : prev, mono, &s);
	pace_sample(pc, &s, mono);
	pace_budget(pc, &b);
	pthread_mutex_lock(&budget_lock);
	if (b.pressure != current.pressure || b.critical != current.critical)
		log_debug("budget p=%.2f cutoff=%.2f critical=%d",
		    b.pressure, b.cutoff, b.critical);
	current = b;
	pthread_mutex_unlock(&budget_lock);
	*prev = s;
}

#ifdef HAVE_SPF2
/* zone_word - the index of word w in names[], or -1 */
static int
zone_word(const char *w, const char *const *names, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(w, names[i]) == 0)
			return (int)i;
	return -1;
}

/* zone_load - an SPF server over an offline zone read from path (-z) */
static SPF_server_t *
zone_load(const char *path, SPF_dns_server_t **dns_r)
{
	static const char *const types[] = { "TXT", "A", "AAAA", "MX", "PTR" };
	static const ns_type type_codes[] = { ns_t_txt, ns_t_a, ns_t_aaaa,
	    ns_t_mx, ns_t_ptr };
	static const char *const answers[] = { "ok", "NO_DATA",
	    "HOST_NOT_FOUND", "TRY_AGAIN", "NO_RECOVERY" };
	static const int answer_codes[] = { NETDB_SUCCESS, NO_DATA,
	    HOST_NOT_FOUND, TRY_AGAIN, NO_RECOVERY };
	SPF_dns_server_t *dns;
	SPF_server_t	*server;
	FILE		*f;
	char		 line[1024], *name, *type, *answer, *data, *save;
	int		 t, a, lineno = 0;

	if ((f = fopen(path, "r")) == NULL)
		log_fatal("%s: %s", path, strerror(errno));
	if ((dns = SPF_dns_zone_new(NULL, "ebb-test", 0)) == NULL)
		log_fatal("%s: cannot make a DNS zone", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		line[strcspn(line, "#\n")] = '\0';
		if ((name = strtok_r(line, " \t", &save)) == NULL)
			continue;
		type = strtok_r(NULL, " \t", &save);
		answer = strtok_r(NULL, " \t", &save);
		data = strtok_r(NULL, "", &save);
		if (data != NULL)
			data += strspn(data, " \t");
		if (type == NULL || answer == NULL ||
		    (t = zone_word(type, types, 5)) == -1 ||
		    (a = zone_word(answer, answers, 5)) == -1 ||
		    (a == 0) != (data != NULL && *data != '\0'))
			log_fatal("%s:%d: want NAME TYPE ANSWER [DATA]", path,
			    lineno);
		if (SPF_dns_zone_add_str(dns, name, type_codes[t],
		    answer_codes[a], a == 0 ? data : NULL) != SPF_E_SUCCESS)
			log_fatal("%s:%d: libspf2 refused the record", path,
			    lineno);
	}
	fclose(f);
	if ((server = SPF_server_new_dns(dns, 0)) == NULL)
		log_fatal("%s: cannot make an SPF server", path);
	*dns_r = dns;
	return server;
}
#endif

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
	for (i = 0; i < ADMIT_SPF_COUNT && used < sizeof(reasons); i++)
		used += snprintf(reasons + used, sizeof(reasons) - used,
		    " spf.%s=%llu", admit_spf_name(i), c.spf[i]);
	log_info("counters connections=%llu messages=%llu accepted=%llu "
	    "held=%llu tempfailed=%llu rejected=%llu rate_limited=%llu "
	    "errors=%llu%s", c.connections, c.messages, c.accepted, c.held,
	    c.tempfailed, c.rejected, c.rate_limited, c.errors, reasons);
}

int
main(int argc, char **argv)
{
	struct milter_env	 env = { host_budget, host_hold, host_stopped,
				    NULL, NULL, NULL };
	static struct proof_key	 key;	/* a fixed one: held mail is proven */
	struct pace_params	 pp;
	struct sensor_sample	 prev;
	struct pace		*pc;
	struct config		*cfg;
	const char		*path = NULL, *zone = NULL;
	char			*err = NULL;
	sigset_t		 set;
	long			 waited;
	int			 ch, verbose = 0;

#ifdef HAVE_SPF2
	SPF_dns_server_t	*dns = NULL;
#endif

	while ((ch = getopt(argc, argv, "c:vz:")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'z':
			zone = optarg;
			break;
		default:
			fprintf(stderr, "usage: ebb-milter-test [-c FILE] "
			    "[-v] [-z ZONE]\n");
			return 2;
		}
	}
	log_init("ebb-milter-test", 1, verbose);
	if (config_load(path, &cfg, &err) == -1)
		log_fatal("%s", err);
	if (zone != NULL) {
#ifdef HAVE_SPF2
		env.spf = zone_load(zone, &dns);
#else
		log_fatal("-z: built without libspf2");
#endif
	}

	/* REFERENCE.md: before any thread, block what libmilter sigwaits */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	pace_params_from_config(cfg, &pp);
	pc = pace_new(&pp);
	memset(&prev, 0, sizeof(prev));
	tick(cfg, pc, &prev, 1);
	memset(key.k, 0x5a, sizeof(key.k));
	env.key = &key;
	if (milter_start(cfg, &env, &err) == -1)
		log_fatal("%s", err);
	while (!atomic_load(&stopped)) {
		for (waited = 0; waited < cfg->interval * 10 &&
		    !atomic_load(&stopped); waited++)
			usleep(100000);
		tick(cfg, pc, &prev, 0);
		milter_flush();
	}
	milter_stop();
	log_counters();
#ifdef HAVE_SPF2
	if (env.spf != NULL) {
		SPF_server_free(env.spf);
		SPF_dns_free(dns);
	}
#endif
	pace_free(&pc);
	config_free(&cfg);
	return 0;
}
