/*
 * releasebench.c - ebb's own release throughput (bench/release.sh runs it)
 *
 * releasebench CONFIG: parks the deferred backlog through the drain engine,
 * then releases all of it with an unlimited budget (no pacing, no window),
 * and prints "parked seconds released seconds": what ebb itself costs per
 * message (ledger, postsuper -H, kick), without waiting for delivery.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ebb/config.h"
#include "ebb/drain.h"
#include "ebb/governor.h"
#include "ebb/ledger.h"
#include "ebb/log.h"
#include "ebb/mta.h"

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct drain_opts opts = { 0 };
	struct drain_status st;
	struct budget	 b;
	struct config	*cfg;
	struct mta	*mta;
	struct ledger	*ledger;
	struct drain	*d;
	char		*err;
	double		 t0, t1, t;

	if (argc != 2) {
		fprintf(stderr, "usage: releasebench CONFIG\n");
		return 64;
	}
	log_init("releasebench", 1, 0);
	if (config_load(argv[1], &cfg, &err) == -1 ||
	    mta_open(cfg, &mta, &err) == -1 ||
	    ledger_open(cfg->state_directory, &ledger, &err) == -1) {
		fprintf(stderr, "releasebench: %s\n", err);
		return 1;
	}
	d = drain_new(cfg, mta, ledger, &opts);
	t0 = now();
	if (drain_start(d, (time_t)t0, &err) == -1)
		log_fatal("%s", err);
	t1 = now();
	drain_status(d, &st);
	printf("%zu %.4f ", st.parked, t1 - t0);
	memset(&b, 0, sizeof(b));
	b.rate = 1e9;
	b.window = 1L << 40;
	t = t1;
	while (st.parked > 0) {
		t += 1;		/* a full bucket every call */
		if (drain_tick(d, &b, t, time(NULL), &err) == -1)
			log_fatal("%s", err);
		drain_status(d, &st);
	}
	printf("%zu %.4f\n", st.released, now() - t1);
	drain_free(&d);
	ledger_close(&ledger);
	mta_close(&mta);
	config_free(&cfg);
	return 0;
}
