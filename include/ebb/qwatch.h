/*
 * qwatch.h - keep the index live: inotify on the queue's directories
 *
 * A full scan stats every queue file, so bringing a big index up to date
 * by scanning costs a third of reading the queue, however little changed.
 * qwatch watches the directories the MTA backend names (mta.h, its watch
 * op), hash subdirectories included, and notes the queue id of every file
 * created, written, renamed, deleted or touched there. qwatch_update then
 * re-reads just those ids (the refresh op): the cost follows the change.
 *
 * Full scans remain, and say when the live path cannot be trusted:
 *	- the first update, and after the watches are set up again;
 *	- the kernel's event queue overflowed (IN_Q_OVERFLOW), or more ids
 *	  changed than re-reading one by one is worth;
 *	- a queue directory (or the directory holding it) was replaced,
 *	  moved or deleted: the watches are set up again on the new one;
 *	- a watch cannot be added (ENOSPC: fs.inotify.max_user_watches;
 *	  EMFILE: max_user_instances): every update is a full scan, and the
 *	  watches are tried again at each cross-check;
 *	- every check_interval seconds, a cross-check: the full scan runs on
 *	  the live index, and whatever it finds the live path had wrong,
 *	  missing or extra is drift, counted and logged.
 * A new hash subdirectory is watched as it appears, and what it already
 * holds is read. Events are only noted between updates, so the index (and
 * the pointers the drain holds into it) changes only in qwatch_update.
 *
 * The kernel is reached through struct qwatch_sys, which a unit test
 * replaces with a fake that hands out watch descriptors and event
 * buffers.
 */
#ifndef EBB_QWATCH_H
#define EBB_QWATCH_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

struct index;
struct mta;
struct qwatch;
struct scan_stats;

/* the kernel's inotify calls, or a test's fake */
struct qwatch_sys {
	int	(*init)(void *arg);	/* inotify_init1, non-blocking */
	int	(*add)(void *arg, int fd, const char *path, uint32_t mask);
	ssize_t	(*read)(void *arg, int fd, void *buf, size_t len);
	void	(*close)(void *arg, int fd);
	void	*arg;
};

/* what a qwatch did since qwatch_new */
struct qwatch_stats {
	int		 live;		/* 1: watching; 0: full scans only */
	size_t		 watches;	/* directories watched now */
	uint64_t	 events;	/* inotify events read */
	uint64_t	 live_updates;	/* updates by the live path */
	uint64_t	 refreshed;	/* ids re-read or dropped by it */
	uint64_t	 full_scans;	/* updates by a full scan */
	uint64_t	 checks;	/* of those, cross-checks */
	uint64_t	 overflows;	/* event queue overflows */
	uint64_t	 drift;		/* messages a cross-check found the
					   live index had wrong, missing or
					   extra */
	uint64_t	 watch_failures; /* watches that could not be added */
};

/*
 * qwatch_new - a watcher of mta's queue, which must outlive it; sys NULL
 * for the kernel. check_interval: seconds between cross-checks (> 0).
 * Never fails: without inotify, or for a backend without the ops, every
 * update is a full scan (qwatch_stats.live 0).
 */
struct qwatch	*qwatch_new(struct mta *mta, const struct qwatch_sys *sys,
		    double check_interval);

/* qwatch_free - free *qp, close its descriptor, set it NULL; NULL ok */
void		 qwatch_free(struct qwatch **qp);

/* qwatch_set_interval - cross-check every check_interval seconds now */
void		 qwatch_set_interval(struct qwatch *q, double check_interval);

/*
 * qwatch_fd - the descriptor to poll for events, -1 when not watching (it
 * changes when the watches are set up again)
 */
int		 qwatch_fd(const struct qwatch *q);

/*
 * qwatch_read - note the events waiting on the descriptor (the ids they
 * name), without touching any index; the event loop calls it when the
 * descriptor is readable, so that the kernel's queue does not overflow
 * between updates
 */
void		 qwatch_read(struct qwatch *q);

/*
 * qwatch_update - bring ix up to date with the queue at mono (monotonic
 * seconds): by the events noted since the last update, or by a full scan
 * (mta_scan) when one is due (above). *st is filled as mta_scan fills it:
 * after a live update, queue[] and corrupt are the index's now, the rest
 * count what the update read. 0, or -1 and *err_r when the queue cannot
 * be read (the next update scans it in full).
 */
int		 qwatch_update(struct qwatch *q, struct index *ix, double mono,
		    struct scan_stats *st, char **err_r);

/* qwatch_stats - the counters */
void		 qwatch_stats(const struct qwatch *q, struct qwatch_stats *r);

#endif
