/*
 * cachebench.c - time writing and loading ebbctl's scan cache
 * (index_cache.h) for an index of N messages, without a queue
 *
 * cachebench DIR N RUNS; the messages are as bench/scan.sh's queue has
 * them: 12 senders, 4 recipient domains, one recipient each, 1 in 50 with
 * three. Prints one line per run: "save_seconds load_seconds file_bytes".
 */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ebb/index.h"
#include "ebb/index_cache.h"
#include "ebb/log.h"

#define IDENT	"cachebench\n"

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct index_stamp st;
	struct index	*ix, *ld;
	struct stat	 sb;
	struct msg	 m;
	const char	*rcpt[3];
	char		 path[4096], sender[64], r[3][64], *err = NULL;
	double		 t0, t1, t2;
	long		 n, i, runs, k;

	if (argc != 4 || (n = atol(argv[2])) < 1 ||
	    (runs = atol(argv[3])) < 1) {
		fprintf(stderr, "usage: cachebench DIR N RUNS\n");
		return 64;
	}
	log_init("cachebench", 1, 0);
	snprintf(path, sizeof(path), "%s/scan-cache", argv[1]);
	ix = index_new();
	for (i = 0; i < n; i++) {
		memset(&m, 0, sizeof(m));
		snprintf(m.queue_id, sizeof(m.queue_id), "%lX%013lX", i % 16,
		    i);
		m.queue = 2;
		m.arrival_time = m.create_time = 1700000000 + i % 86400;
		m.deadline = m.create_time + 432000;
		m.size = 600 + (uint64_t)(i % 500);
		snprintf(sender, sizeof(sender), "user%ld@senders%ld.test",
		    i % 3, i % 12);
		m.sender = sender;
		m.nrcpt = i % 50 == 0 ? 3 : 1;
		for (k = 0; k < (long)m.nrcpt; k++) {
			snprintf(r[k], sizeof(r[k]), "rcpt%ld@d%ld.test", k,
			    i % 4 + 1);
			rcpt[k] = r[k];
		}
		m.rcpt = rcpt;
		st.ino = (uint64_t)i + 1000;
		st.size = m.size + 300;
		st.mtime = m.create_time + 3600;
		st.mtime_nsec = (uint32_t)i;
		index_put(ix, &m, &st);
	}
	for (i = 0; i < runs; i++) {
		t0 = now();
		if (index_cache_save(path, IDENT, ix, &err) != 0)
			log_fatal("save: %s", err != NULL ? err : "busy");
		t1 = now();
		ld = index_new();
		if (index_cache_load(path, IDENT, ld, &err) != 1 ||
		    index_count(ld) != (size_t)n)
			log_fatal("load: %s", err != NULL ? err : "short");
		t2 = now();
		index_free(&ld);
		if (stat(path, &sb) == -1)
			log_fatal("%s: cannot stat", path);
		printf("%.4f %.4f %lld\n", t1 - t0, t2 - t1,
		    (long long)sb.st_size);
	}
	unlink(path);
	index_free(&ix);
	return 0;
}
