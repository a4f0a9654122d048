/*
 * mta.h - the MTA backends behind one ops table
 *
 * Everything ebb does to a mail system goes through struct mta: scan its
 * queue into the index, park messages, release them, ask for delivery now,
 * and report the queue depth the sensors watch. The backend is chosen
 * once, from [general] mta, by mta_open; nothing else in ebb asks which
 * MTA it is talking to. One backend per file in src/mta/.
 *
 * The engine sees queue roles (msg.h), never an MTA's queue names. Each
 * backend lists its queues in its ops table, in the order a message moves
 * through them, with the name operators know and the role it plays:
 *
 *	role      Postfix            Sendmail               Exim
 *	leaving   incoming, active   (a -qI child running)  (a -M running)
 *	waiting   deferred           queue (qf, not q line) input (not frozen)
 *	held      hold               quarantine, reason     frozen, thawed by
 *	                             "ebb: parked ..."      ebb only per ledger
 *	admin     (none: the ledger  quarantine, any other  (none: the ledger
 *	           tells hold apart)  reason                  tells)
 *
 *	op        Postfix            Sendmail               Exim
 *	park      postsuper -h       -Q"ebb: parked" -qI    -Mf
 *	release   postsuper -H       -qQ -Q -qI             -Mt
 *	kick      due now + postkick -qI in a child,        -M in a child,
 *	                             a bounded number       a bounded number
 *	locate    which directory    qf/hf and a running    which spool file,
 *	          holds it; due:     child; due: never      due: never known
 *	          deferred mtime     known (no next retry)
 *	          in the past
 *	depth     incoming + active  -qI children running   deliveries running
 *	proof     hold file's N      hf file's H lines      -H file
 *	          records
 *
 * A scan adds new and changed messages to the index and removes the ones
 * that left the queue. Files that vanish mid-scan are normal; unreadable,
 * truncated or corrupt files are skipped, counted in scan_stats and logged
 * once per version of the file, never fatal. One exception keeps parked
 * mail from being stranded: a file in a queue of the held role that cannot
 * be read stays in the index, flagged MSG_F_UNREADABLE, so that the ledger
 * keeps its row and ebb can still release it by id.
 *
 * Queue ids passed to park, release and kick must satisfy
 * ebb_queue_id_valid (util.h); a call with an invalid id does nothing and
 * fails. Commands run by execve, never through a shell.
 */
#ifndef EBB_MTA_H
#define EBB_MTA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ebb/msg.h"

struct config;
struct index;
struct mta;
struct proof_search;

/* what one scan found */
struct scan_stats {
	size_t	 files;		/* complete queue files seen */
	size_t	 parsed;	/* read, because new or changed */
	size_t	 unchanged;	/* same (inode, size, mtime): not read */
	size_t	 incomplete;	/* still being written (no owner-x bit) */
	size_t	 vanished;	/* gone between listing and reading */
	size_t	 corrupt;	/* truncated or malformed: skipped */
	size_t	 removed;	/* left the queue since the last scan */
	size_t	 unreadable;	/* of corrupt, kept: in a held queue */
	size_t	 queue[MSG_QUEUE_MAX];	/* messages per queue after */
	int	 via_lister;	/* the scan used the MTA's own lister */
};

/* one queue of a backend: its name for operators and its role */
struct mta_queue {
	const char	*name;		/* "deferred" */
	int		 role;		/* enum msg_role */
};

/*
 * The backend interface. Every function that can fail returns 0, or -1 and
 * an allocated error string in *err_r (the caller frees it).
 */
struct mta_ops {
	const char	*name;		/* "postfix" */
	/* the queues, indexed by struct msg's queue; at most MSG_QUEUE_MAX */
	const struct mta_queue *queues;
	int		 nqueues;
	/* open: read the MTA's own settings (queue directory, lifetimes) */
	int		(*open)(struct mta *, const struct config *,
			    char **err_r);
	/* scan: bring the index up to date with the queue */
	int		(*scan)(struct mta *, struct index *,
			    struct scan_stats *, char **err_r);
	/* park: move the messages to a queue of the held role */
	int		(*park)(struct mta *, const char *const *ids, size_t n,
			    char **err_r);
	/*
	 * release: undo park, into the waiting role. It must work by id
	 * alone, for a file ebb cannot read; an id no longer held is not
	 * an error.
	 */
	int		(*release)(struct mta *, const char *const *ids,
			    size_t n, char **err_r);
	/*
	 * kick: have the MTA attempt delivery of released messages now,
	 * without waiting for it (a synchronous delivery runs in a child)
	 */
	int		(*kick)(struct mta *, const char *const *ids, size_t n,
			    char **err_r);
	/*
	 * locate: the queue holding one message now, -1 when none does
	 * (delivered, bounced or deleted). *due_r is 1 when the message
	 * waits for a retry that is due, so the MTA should be attempting
	 * it now; 0 when its retry lies ahead or the MTA cannot tell.
	 * Cheap: no scan.
	 */
	int		(*locate)(struct mta *, const char *id, int *due_r);
	/*
	 * proof: does the held message id carry ebb's proof of the hold
	 * (proof.h)? Find its file in a queue of the held role, begin ps
	 * with the arrival time the file records, feed ps the whole file
	 * in bounded reads and return proof_search_end's answer: PROOF_OK
	 * or PROOF_NONE. PROOF_ERROR and *err_r when it cannot tell: not
	 * held, bigger than PROOF_FILE_MAX, unreadable or malformed (the
	 * caller treats that as unproven). NULL when the backend cannot
	 * look: nothing is proven.
	 */
	int		(*proof)(struct mta *, const char *id,
			    struct proof_search *ps, char **err_r);
	const char	*(*queue_directory)(struct mta *);
	/* depth: messages on their way out (leaving); -1 on error */
	long		(*depth)(struct mta *);
	void		(*close)(struct mta *);
	/*
	 * reason: why the MTA last deferred msg, as it logged it (Postfix's
	 * delay_reason), into buf; 0, or -1 when it has none. Optional:
	 * NULL when the backend keeps no reasons.
	 */
	int		(*reason)(struct mta *, const struct msg *, char *buf,
			    size_t len);

	/*
	 * The live index (qwatch.h): optional, all four or none (NULL: the
	 * index is kept by full scans only).
	 *
	 * watch: call fn for each directory holding queue files, with how
	 * many levels of subdirectories below it hold them too; -1 and
	 * *err_r when the queue cannot be watched (Postfix listing through
	 * postqueue -j: it cannot read the files either).
	 */
	int		(*watch)(struct mta *, void (*fn)(void *arg,
			    const char *dir, int depth), void *arg,
			    char **err_r);
	/*
	 * watch_id: the queue id a file name in a watched directory stands
	 * for, into id_r; 0, or -1 for a name that is none ("tfABC", "pid")
	 */
	int		(*watch_id)(struct mta *, const char *name,
			    char id_r[MSG_QUEUE_ID_MAX]);
	/*
	 * refresh: bring the index's entry of one queue id up to date, as a
	 * scan would: find its file (first in dir, the directory an event
	 * named, when not NULL), read it again when its (inode, size, mtime)
	 * changed, keep an unreadable held one, and remove the entry when no
	 * queue holds the file (looking twice, as locate does, so that a
	 * file renamed meanwhile is not taken for gone). Counts into *st.
	 * 0, or -1 and *err_r when the queue cannot be read.
	 */
	int		(*refresh)(struct mta *, struct index *, const char *id,
			    const char *dir, struct scan_stats *,
			    char **err_r);
	/*
	 * refresh_begin: before a batch of refresh calls, call dirty for each
	 * id whose entry changed without a file changing (Sendmail: a
	 * delivery child of ebb's started or ended). NULL: nothing does.
	 */
	void		(*refresh_begin)(struct mta *, struct index *,
			    void (*dirty)(void *arg, const char *id),
			    void *arg);
	/*
	 * refresh_many: refresh ids[0..n) (dirs[i] as refresh's dir, NULL
	 * when none), as n refresh calls would, for a backend that does it
	 * cheaper in one (ebbd's scanner: one round trip per batch, not per
	 * id). Optional: NULL calls refresh n times.
	 */
	int		(*refresh_many)(struct mta *, struct index *,
			    const char *const *ids, const char *const *dirs,
			    size_t n, struct scan_stats *, char **err_r);
	/*
	 * cache_key: what the fields a scan derives depend on besides the
	 * files (Postfix: the queue lifetimes), as a string into buf; -1
	 * when it cannot tell. NULL: the backend's index is never cached.
	 */
	int		(*cache_key)(struct mta *, char *buf, size_t len);

	/*
	 * The split for ebbd's scanner (mta_remote.h), of a backend that
	 * keeps state across calls in the process that runs the MTA's
	 * commands (Sendmail: the delivery runs it starts, and when it
	 * asked for each). The scanner reads the files with a backend of
	 * its own, which has no such state; these ops, run in the parent
	 * with its backend, put that state back. Optional, all four or
	 * none: NULL for a backend whose files say everything and whose
	 * locate only stats (Postfix).
	 *
	 * settle: a message the scanner read, into the queue this
	 * process's state puts it in (Sendmail: a qf one of ebb's delivery
	 * runs has is "running")
	 */
	void		(*settle)(struct mta *, struct msg *);
	/*
	 * scanned: before (done 0) and after (done 1) a scan of ix through
	 * the scanner, what the scan op does besides reading (Sendmail:
	 * collect delivery runs; forget requests for messages gone)
	 */
	void		(*scanned)(struct mta *, struct index *, int done);
	/*
	 * find: locate's reading half, run in the scanner: the queue the
	 * files alone give (-1 when none holds the id), and into
	 * *attempt_r when its file records the last delivery attempt
	 * (0: none, or it does not say). With read 0, the parent's
	 * fallback when the scanner cannot answer: no file is opened, only
	 * stat'ed, and a message in a held queue is taken for ebb's, so
	 * that nothing held is ever taken for released.
	 */
	int		(*find)(struct mta *, const char *id, int read,
			    int64_t *attempt_r);
	/*
	 * found: locate's other half, run here on find's answer: what
	 * locate returns, and *due_r
	 */
	int		(*found)(struct mta *, const char *id, int queue,
			    int64_t attempt, int *due_r);
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

/*
 * mta_scan_threads - how many threads a scan reads the queue with:
 * [general] scan_threads, or with 0 the online CPUs, at most
 * CONFIG_SCAN_THREADS_MAX (reading files gains little from more)
 */
int		 mta_scan_threads(const struct config *cfg);

/*
 * mta_scan_cached - mta_scan for a run that scans once into an empty index
 * (ebbctl backlog, list): the index is first loaded from the cache file
 * MTA_SCAN_CACHE in [general] state_directory (index_cache.h), so that the
 * scan reads only the files that changed since, and the cache is written
 * back when the scan changed anything. A cache that cannot be used is
 * ignored with a warning; one that cannot be written is warned about. Set
 * EBB_SCAN_STATS in the environment for a line on stderr of what the scan
 * read and what it took from the cache.
 */
#define MTA_SCAN_CACHE	"scan-cache"
int		 mta_scan_cached(struct mta *, const struct config *,
		    struct index *, struct scan_stats *, char **err_r);

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
int		 mta_locate(struct mta *, const char *id, int *due_r);
/*
 * mta_proof - see the proof op: PROOF_OK, PROOF_NONE, or PROOF_ERROR and
 * *err_r (also for an invalid queue id and a backend without the op)
 */
int		 mta_proof(struct mta *, const char *id,
		    struct proof_search *ps, char **err_r);

/* mta_nqueues - how many queues the backend names */
/*
 * mta_reason - why the MTA last deferred m ("connect to mx.example[...]:25:
 * Connection refused"), cut to len - 1 bytes, control bytes as '?'.
 * 0, or -1 when there is none (never deferred, or a backend that keeps
 * none). MTA_REASON_MAX is enough for any line ebbctl shows.
 */
#define MTA_REASON_MAX	256
int		 mta_reason(struct mta *, const struct msg *, char *buf,
		    size_t len);

int		 mta_nqueues(const struct mta *);

/* mta_can_watch - 1 when the backend has the live index's ops */
int		 mta_can_watch(const struct mta *);
/* wrappers over watch, watch_id, refresh and refresh_begin (see above) */
int		 mta_watch(struct mta *, void (*fn)(void *, const char *, int),
		    void *arg, char **err_r);
int		 mta_watch_id(struct mta *, const char *name,
		    char id_r[MSG_QUEUE_ID_MAX]);
/* mta_refresh_many - the refresh_many op, or refresh for each id */
int		 mta_refresh_many(struct mta *, struct index *,
		    const char *const *ids, const char *const *dirs, size_t n,
		    struct scan_stats *, char **err_r);
int		 mta_refresh(struct mta *, struct index *, const char *id,
		    const char *dir, struct scan_stats *, char **err_r);
void		 mta_refresh_begin(struct mta *, struct index *,
		    void (*dirty)(void *, const char *), void *arg);
/* mta_queue_name - a queue's name, "unknown" out of range */
const char	*mta_queue_name(const struct mta *, int queue);
/* mta_queue_lookup - the queue of a name, -1 if the backend has none */
int		 mta_queue_lookup(const struct mta *, const char *name);
/*
 * mta_queue_lookup_cfg - the same, for the backend cfg names, before it is
 * opened (checking a command line); -1 also when that backend is not built
 */
int		 mta_queue_lookup_cfg(const struct config *cfg,
		    const char *name);
/* mta_queue_role - a queue's role (enum msg_role), -1 out of range */
int		 mta_queue_role(const struct mta *, int queue);
/* mta_locate_role - the role of where id is now, -1 gone (see locate) */
int		 mta_locate_role(struct mta *, const char *id, int *due_r);
/* mta_held_queue - the first queue of the held role, where ebb parks */
int		 mta_held_queue(const struct mta *);

/* the backends, for mta.c's table */
extern const struct mta_ops postfix_mta_ops;
extern const struct mta_ops sendmail_mta_ops;

#endif
