/*
 * mta.h - the MTA backends behind one ops table
 *
 * Everything ebb does to a mail system goes through struct mta: scan its
 * queue into the index, park messages (Postfix hold queue), release them,
 * ask for delivery now, and report the queue depth the sensors watch. The
 * backend is chosen once, from [general] mta, by mta_open; nothing else in
 * ebb asks which MTA it is talking to. One backend per file in src/mta/
 * (postfix.c; sendmail.c is planned).
 *
 * A scan adds new and changed messages to the index and removes the ones
 * that left the queue. Files that vanish mid-scan are normal; unreadable,
 * truncated or corrupt files are skipped, counted in scan_stats and logged
 * once per version of the file, never fatal.
 *
 * Queue ids passed to park, release and kick must satisfy
 * ebb_queue_id_valid (util.h); a call with an invalid id does nothing and
 * fails. Commands run by execve, never through a shell.
 */
#ifndef EBB_MTA_H
#define EBB_MTA_H

#include <stddef.h>
#include <time.h>

#include "ebb/msg.h"

struct config;
struct index;
struct mta;

/* what one scan found */
struct scan_stats {
	size_t	 files;		/* complete queue files seen */
	size_t	 parsed;	/* read, because new or changed */
	size_t	 unchanged;	/* same (inode, size, mtime): not read */
	size_t	 incomplete;	/* still being written (no owner-x bit) */
	size_t	 vanished;	/* gone between listing and reading */
	size_t	 corrupt;	/* truncated or malformed: skipped */
	size_t	 removed;	/* left the queue since the last scan */
	size_t	 queue[MSG_QUEUE_COUNT];	/* messages per queue after */
	int	 via_postqueue;	/* the scan used the MTA's lister */
};

/*
 * The backend interface. Every function that can fail returns 0, or -1 and
 * an allocated error string in *err_r (the caller frees it).
 */
struct mta_ops {
	const char	*name;		/* "postfix" */
	/* open: read the MTA's own settings (queue directory, lifetimes) */
	int		(*open)(struct mta *, const struct config *,
			    char **err_r);
	/* scan: bring the index up to date with the queue */
	int		(*scan)(struct mta *, struct index *,
			    struct scan_stats *, char **err_r);
	/* park: hold the messages (Postfix: postsuper -h) */
	int		(*park)(struct mta *, const char *const *ids, size_t n,
			    char **err_r);
	/* release: undo park (Postfix: postsuper -H, into deferred) */
	int		(*release)(struct mta *, const char *const *ids,
			    size_t n, char **err_r);
	/* kick: attempt delivery now (Postfix: due now + postkick qmgr) */
	int		(*kick)(struct mta *, const char *const *ids, size_t n,
			    char **err_r);
	/*
	 * locate: the queue holding one message now (enum msg_queue), -1
	 * when none does (delivered, bounced or deleted); *next_retry_r is
	 * its next retry time in deferred, else 0. Cheap: no scan.
	 */
	int		(*locate)(struct mta *, const char *id,
			    time_t *next_retry_r);
	const char	*(*queue_directory)(struct mta *);
	/* depth: messages in the active and incoming queues; -1 on error */
	long		(*depth)(struct mta *);
	void		(*close)(struct mta *);
};

/* the backend's handle; backends keep their state behind priv */
struct mta {
	const struct mta_ops *ops;
	void		*priv;
};

/*
 * mta_open - open the backend [general] mta names, for the MTA instance
 * the config points at (Postfix: [postfix] config_directory and scan).
 * Returns 0 and *mta_r, or -1 and *err_r (allocated) when the backend is
 * not available or the MTA's settings cannot be read.
 */
int		 mta_open(const struct config *cfg, struct mta **mta_r,
		    char **err_r);

/* mta_close - close *mp and set it to NULL; NULL is fine */
void		 mta_close(struct mta **mp);

/* wrappers over the ops, so callers never touch the table */
const char	*mta_name(struct mta *);
int		 mta_scan(struct mta *, struct index *, struct scan_stats *,
		    char **err_r);
int		 mta_park(struct mta *, const char *const *ids, size_t n,
		    char **err_r);
int		 mta_release(struct mta *, const char *const *ids, size_t n,
		    char **err_r);
int		 mta_kick(struct mta *, const char *const *ids, size_t n,
		    char **err_r);
const char	*mta_queue_directory(struct mta *);
long		 mta_depth(struct mta *);
/* mta_locate - see the locate op; -1 also for an invalid queue id */
int		 mta_locate(struct mta *, const char *id,
		    time_t *next_retry_r);

/* the backends, for mta.c's table */
extern const struct mta_ops postfix_mta_ops;

#endif
