/*
 * rescanbench.c - the cost of bringing the index up to date after 1% of
 * the queue changed, three ways (bench/rescan.sh runs it)
 *
 * rescanbench CONFIG N: two indexes of the same queue, one kept by ebbd's
 * live path (qwatch.h: inotify, then only the files events name are
 * read), one by rescans (mta_scan on the same index: every file stat'ed,
 * the changed ones read). N runs of: change the mtime of a different 1% of
 * the queue files (as a retry would), update each index, time each; then
 * a full scan into a fresh index, timed. One line per run: "live rescan
 * full messages changed refreshed", seconds and counts; a live update
 * that fell back to a full scan is an error, not a number.
 *
 * rescanbench CONFIG N remote: the same with the queue read as ebbd reads
 * it, by a scanner process over a socket (mta_remote.h), forked here
 * without changing user: what the scanner adds to each way is the
 * difference between the two runs. The full scan then asks a new scanner
 * each time (started, and answering, before the clock starts), whose own
 * index is empty: a scan as at ebbd's start.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ebb/config.h"
#include "ebb/index.h"
#include "ebb/log.h"
#include "ebb/mta.h"
#include "ebb/mta_remote.h"
#include "ebb/qwatch.h"
#include "ebb/util.h"

struct files {
	char	**path;
	size_t	 n, cap;
};

/* list - every regular file under dir, recursively */
static void
list(struct files *f, const char *dir)
{
	struct dirent	*de;
	struct stat	 sb;
	char		 path[4096];
	DIR		*dp;

	if ((dp = opendir(dir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &sb) == -1)
			continue;
		if (S_ISDIR(sb.st_mode))
			list(f, path);
		else if (S_ISREG(sb.st_mode)) {
			if (f->n == f->cap) {
				f->cap = f->cap ? f->cap * 2 : 1024;
				f->path = xreallocarray(f->path, f->cap,
				    sizeof(*f->path));
			}
			f->path[f->n++] = xstrdup(path);
		}
	}
	closedir(dp);
}

/* change - move the mtime of every 100th file, from k on, a minute on */
static size_t
change(const struct files *f, int k)
{
	struct timespec	 ts[2];
	struct stat	 sb;
	size_t		 i, n = 0;

	for (i = (size_t)k % 100; i < f->n; i += 100) {
		if (stat(f->path[i], &sb) == -1)
			continue;
		ts[0] = sb.st_atim;
		ts[1] = sb.st_mtim;
		ts[1].tv_sec += 60;
		if (utimensat(AT_FDCWD, f->path[i], ts, 0) == 0)
			n++;
	}
	return n;
}

/* scanner - the backend read by a forked scanner, through the proxy */
static struct mta *
scanner(const struct config *cfg, struct mta *inner, pid_t *pid_r)
{
	struct mta	*mta;
	char		*err = NULL;
	int		 sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1 ||
	    (*pid_r = fork()) == -1) {
		perror("rescanbench: scanner");
		exit(1);
	}
	if (*pid_r == 0) {
		close(sp[0]);
		if (mta_open(cfg, &mta, &err) == -1) {
			fprintf(stderr, "rescanbench: scanner: %s\n", err);
			_exit(1);
		}
		_exit(mta_remote_serve(mta, sp[1]) == 0 ? 0 : 1);
	}
	close(sp[1]);
	return mta_remote_new(inner, sp[0], 0, NULL);
}

/* ready - wait until a new scanner answers (a reason it has not) */
static void
ready(struct mta *mta)
{
	struct msg	 m;
	char		 buf[64];

	memset(&m, 0, sizeof(m));
	snprintf(m.queue_id, sizeof(m.queue_id), "NOSUCHID");
	(void)mta_reason(mta, &m, buf, sizeof(buf));
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
	struct qwatch_stats qs0, qs;
	struct scan_stats st;
	struct files	 f = { NULL, 0, 0 };
	struct config	*cfg;
	struct qwatch	*q;
	struct index	*live, *scanned, *fresh;
	struct mta	*mta, *full, *inner;
	char		*err = NULL, dir[4096];
	double		 t0, t_live, t_rescan, t_full;
	size_t		 changed;
	pid_t		 pid = 0, fpid;
	int		 i, n, status;

	if ((argc != 3 && (argc != 4 || strcmp(argv[3], "remote") != 0)) ||
	    (n = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: rescanbench CONFIG N [remote]\n");
		return 64;
	}
	log_init("rescanbench", 1, 0);
	if (config_load(argv[1], &cfg, &err) == -1 ||
	    mta_open(cfg, &mta, &err) == -1) {
		fprintf(stderr, "rescanbench: %s\n", err);
		return 1;
	}
	if (argc == 4)
		mta = scanner(cfg, mta, &pid);
	snprintf(dir, sizeof(dir), "%s/deferred", mta_queue_directory(mta));
	list(&f, dir);
	if (f.n == 0) {
		snprintf(dir, sizeof(dir), "%s", mta_queue_directory(mta));
		list(&f, dir);		/* Sendmail: qf and df files */
	}
	live = index_new();
	scanned = index_new();
	q = qwatch_new(mta, NULL, 1e9);
	if (qwatch_update(q, live, now(), &st, &err) == -1 ||
	    mta_scan(mta, scanned, &st, &err) == -1) {
		fprintf(stderr, "rescanbench: %s\n", err);
		return 1;
	}
	qwatch_stats(q, &qs0);
	if (!qs0.live) {
		fprintf(stderr, "rescanbench: cannot watch the queue\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		changed = change(&f, i);
		t0 = now();
		if (qwatch_update(q, live, now(), &st, &err) == -1) {
			fprintf(stderr, "rescanbench: %s\n", err);
			return 1;
		}
		t_live = now() - t0;
		qwatch_stats(q, &qs);
		if (qs.full_scans != qs0.full_scans) {
			fprintf(stderr, "rescanbench: the live update fell "
			    "back to a full scan\n");
			return 1;
		}
		t0 = now();
		if (mta_scan(mta, scanned, &st, &err) == -1) {
			fprintf(stderr, "rescanbench: %s\n", err);
			return 1;
		}
		t_rescan = now() - t0;
		fresh = index_new();
		full = mta;
		if (argc == 4) {
			if (mta_open(cfg, &inner, &err) == -1) {
				fprintf(stderr, "rescanbench: %s\n", err);
				return 1;
			}
			full = scanner(cfg, inner, &fpid);
			ready(full);
		}
		t0 = now();
		if (mta_scan(full, fresh, &st, &err) == -1) {
			fprintf(stderr, "rescanbench: %s\n", err);
			return 1;
		}
		t_full = now() - t0;
		if (full != mta) {
			mta_close(&full);
			waitpid(fpid, &status, 0);
		}
		if (index_count(fresh) != index_count(live)) {
			fprintf(stderr, "rescanbench: the live index has %zu "
			    "messages, a full scan %zu\n", index_count(live),
			    index_count(fresh));
			return 1;
		}
		printf("%.6f %.6f %.6f %zu %zu %llu\n", t_live, t_rescan,
		    t_full, index_count(fresh), changed,
		    (unsigned long long)(qs.refreshed - qs0.refreshed));
		qs0 = qs;
		index_free(&fresh);
	}
	qwatch_free(&q);
	index_free(&live);
	index_free(&scanned);
	mta_close(&mta);		/* the scanner reads the end */
	if (pid > 0 && (waitpid(pid, &status, 0) != pid ||
	    !WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		fprintf(stderr, "rescanbench: the scanner failed\n");
		return 1;
	}
	config_free(&cfg);
	return 0;
}
