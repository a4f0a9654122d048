/*
 * scanbench.c - time ebb's queue scan (bench/scan.sh runs it)
 *
 * scanbench CONFIG full|rescan N: N full scans into a fresh index each, or
 * one full scan then N rescans of the same index, each after changing the
 * mtime of a different 1% of the deferred files (as a retry would);
 * scanbench CONFIG touch K: only that change, the K-th 1% (for timing
 * ebbctl's rescan through its cache). Prints
 * one line per run: "seconds messages index_bytes string_bytes parsed
 * rss_growth_bytes cpu_seconds", rss_growth the process's resident size
 * after the scan less before it (what the kernel says, not what the index
 * counts; the first full scan is the one to read, later ones reuse freed
 * memory), cpu_seconds the user and system time of all its threads (on a
 * busy host, where wall time says little).
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ebb/config.h"
#include "ebb/index.h"
#include "ebb/log.h"
#include "ebb/mta.h"
#include "ebb/util.h"

/* touch_file - bump a file's mtime by a minute */
static void
touch_file(const char *file)
{
	struct timespec	 ts[2];
	struct stat	 st;

	if (stat(file, &st) == -1)
		return;
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	ts[1].tv_sec += 60;
	utimensat(AT_FDCWD, file, ts, 0);
}

/* touch_qf - Sendmail: every 100th qf file, from k on (a retry rewrites) */
static void
touch_qf(const char *queue_dir, int k)
{
	char		 file[4096 + 256];
	struct dirent	*de;
	DIR		*dp;
	long		 j = 0;

	if ((dp = opendir(queue_dir)) == NULL)
		log_fatal("%s: cannot open", queue_dir);
	while ((de = readdir(dp)) != NULL) {
		if (strncmp(de->d_name, "qf", 2) != 0 || j++ % 100 != k % 100)
			continue;
		snprintf(file, sizeof(file), "%s/%s", queue_dir, de->d_name);
		touch_file(file);
	}
	closedir(dp);
}

/* touch_share - bump the mtime of every 100th deferred file, from k on */
static void
touch_share(const char *queue_dir, int k)
{
	char		 dir[4096], path[4096 + 256];
	struct dirent	*sub, *de;
	struct timespec	 ts[2];
	struct stat	 st;
	DIR		*dp, *sp;
	long		 j = 0;

	snprintf(dir, sizeof(dir), "%s/deferred", queue_dir);
	if ((dp = opendir(dir)) == NULL)
		log_fatal("%s: cannot open", dir);
	while ((sub = readdir(dp)) != NULL) {
		if (sub->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, sub->d_name);
		if ((sp = opendir(path)) == NULL)
			continue;
		while ((de = readdir(sp)) != NULL) {
			char	 file[4096 + 512];

			if (de->d_name[0] == '.' || j++ % 100 != k % 100)
				continue;
			snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
			if (stat(file, &st) == -1)
				continue;
			ts[0] = st.st_atim;
			ts[1] = st.st_mtim;
			ts[1].tv_sec += 60;
			utimensat(AT_FDCWD, file, ts, 0);
		}
		closedir(sp);
	}
	closedir(dp);
}

/* rss - the resident set size in bytes, from /proc/self/statm */
static long
rss(void)
{
	FILE	*f;
	long	 size = 0, resident = 0;

	if ((f = fopen("/proc/self/statm", "r")) == NULL)
		return 0;
	if (fscanf(f, "%ld %ld", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

/* cpu - user and system seconds of the process, all threads */
static double
cpu(void)
{
	struct rusage	 ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return 0;
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

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
	struct config	*cfg;
	struct mta	*mta;
	struct index	*ix = NULL;
	struct scan_stats st;
	char		*err;
	double		 t0, c0;
	long		 rss0;
	int		 i, n, rescan;

	if (argc != 4 || (strcmp(argv[2], "full") != 0 &&
	    strcmp(argv[2], "rescan") != 0 && strcmp(argv[2], "touch") != 0)) {
		fprintf(stderr, "usage: scanbench CONFIG full|rescan|touch N\n");
		return 64;
	}
	log_init("scanbench", 1, 0);
	rescan = strcmp(argv[2], "rescan") == 0;
	n = atoi(argv[3]);
	if (config_load(argv[1], &cfg, &err) == -1 ||
	    mta_open(cfg, &mta, &err) == -1) {
		fprintf(stderr, "scanbench: %s\n", err);
		return 1;
	}
	if (strcmp(argv[2], "touch") == 0) {
		if (strcmp(mta_name(mta), "sendmail") == 0)
			touch_qf(mta_queue_directory(mta), n);
		else
			touch_share(mta_queue_directory(mta), n);
		mta_close(&mta);
		config_free(&cfg);
		return 0;
	}
	if (rescan) {
		ix = index_new();
		if (mta_scan(mta, ix, &st, &err) == -1)
			log_fatal("%s", err);
	}
	for (i = 0; i < n; i++) {
		if (!rescan)
			ix = index_new();
		else if (strcmp(mta_name(mta), "sendmail") == 0)
			touch_qf(mta_queue_directory(mta), i);
		else
			touch_share(mta_queue_directory(mta), i);
		memset(&st, 0, sizeof(st));
		rss0 = rss();
		c0 = cpu();
		t0 = now();
		if (mta_scan(mta, ix, &st, &err) == -1)
			log_fatal("%s", err);
		printf("%.4f %zu %zu %zu %zu %ld %.4f\n", now() - t0,
		    index_count(ix), index_memory(ix),
		    index_string_memory(ix), st.parsed, rss() - rss0,
		    cpu() - c0);
		if (!rescan)
			index_free(&ix);
	}
	index_free(&ix);
	mta_close(&mta);
	config_free(&cfg);
	return 0;
}
