/*
 * ledger.h - what ebb parked, and the history of a recovery
 *
 * The ledger is an SQLite database (WAL, synchronous=FULL) in
 * STATE/ledger.db, STATE being [general] state_directory. It records every
 * message ebb parks in the MTA's hold queue (Postfix hold, Sendmail
 * quarantine): its queue id, deadline, when it was parked and when it was
 * released. ebb only ever releases what the ledger says it parked, so an
 * administrator's own holds are never touched, and "ebbctl failsafe" can
 * give back everything ebb parked after ebb itself is gone.
 *
 * The MTA command and the ledger cannot change in one transaction, so each
 * move is written down before it is made and confirmed after it:
 *
 *	park_begin      (none)      -> parking     before the MTA parks it
 *	park_commit     parking     -> parked      after it succeeded
 *	release_begin   parked      -> releasing   before the MTA releases it
 *	release_commit  releasing   -> released    after it succeeded
 *
 * A crash (or a failed command) between two steps leaves a parking or
 * releasing row, and ledger_reconcile settles it against the queue:
 *
 *	row         message in hold      elsewhere in queue   gone
 *	parking     parked               closed               closed
 *	parked      parked               closed (*)           closed
 *	releasing   parked               released             released
 *
 * (*) somebody else released it: it is not ebb's any more.
 *
 * "Gone" is one more question first. A queue file copied or restored from
 * a backup gets a new inode, and Postfix then renames it: the message
 * ebb parked is in hold under a new queue id, and its row's id is gone.
 * So each open row also keeps the message's fingerprint (msg.h), which
 * the copy keeps; reconcile hands the gone rows that have one to the
 * caller, and a row the caller finds again (a held message with its
 * fingerprint and no row, and no more such messages than such rows: see
 * drain_rebind) moves to the new queue id, parked. What the caller cannot
 * tell apart stays where it is, the row closed: never is a hold released
 * on a guess.
 *
 * parking, parked and releasing rows are open: one at most per queue id.
 * released and closed rows are settled: kept as a record until pruned,
 * never looked at again, so a message ebb released and an administrator
 * then held stays held. A queue id the MTA reuses later starts a new row.
 * Nothing ebb parks is lost track of: the intent is recorded durably
 * before the MTA command runs, and an open row is settled only once its
 * message is out of hold (reconcile) or the MTA said it released it
 * (release_commit). The one case the queue cannot tell apart is an
 * administrator holding a message between ebb recording the intent to park
 * it and the crash that kept ebb from confirming it; reconcile then counts
 * it as ebb's.
 *
 * Every queue id is checked with ebb_queue_id_valid (util.h) and must fit a
 * struct msg (shorter than MSG_QUEUE_ID_MAX) before it is stored, and
 * every value read back is checked again: a damaged database is an error
 * naming the file, never a crash and never an id passed on unchecked.
 *
 * The history table keeps one sample per second at most (pressure, rate,
 * queue counts) for "backlog and pressure over the last hours".
 *
 * Every function that can fail returns -1 and sets *err_r to an allocated
 * message (the caller frees it). A struct ledger is for one thread.
 */
#ifndef EBB_LEDGER_H
#define EBB_LEDGER_H

#include <stddef.h>
#include <time.h>

#include "ebb/msg.h"

struct ledger;

#define LEDGER_FILE		"ledger.db"
#define LEDGER_SCHEMA_VERSION	5	/* PRAGMA user_version */

/*
 * ledger_open - open STATE/ledger.db, creating the state directory (mode
 * 0750, one level) and the database (mode 0640) when missing, and bringing
 * an older schema up to date. Refuses a database of a newer schema (an
 * older ebb must not write to it), a file that is not an ebb ledger, and a
 * damaged one (PRAGMA quick_check: about 50 ms per 100,000 open rows).
 * Returns 0 and *ledger_r, or -1 and *err_r.
 */
int	ledger_open(const char *state_dir, struct ledger **ledger_r,
	    char **err_r);

/*
 * ledger_open_existing - like ledger_open, but create nothing: when there
 * is no STATE/ledger.db, returns 0 and sets *ledger_r to NULL (ebb has
 * parked nothing). For readers: a dry run, "ebbctl list"; it skips the
 * quick_check.
 */
int	ledger_open_existing(const char *state_dir, struct ledger **ledger_r,
	    char **err_r);

/* ledger_close - close *lp and set it to NULL; NULL is fine */
void	ledger_close(struct ledger **lp);

/* ledger_path - the database file, for messages */
const char *ledger_path(const struct ledger *);

/*
 * ledger_created - 1 when this open made the ledger: there was no file,
 * or an empty one (a first start, or a ledger deleted or truncated to
 * nothing, which the caller tells apart by what is in hold)
 */
int	ledger_created(const struct ledger *);

/*
 * ledger_park_begin - record the intent to park ids[0..n) (deadlines[i]
 * is the bounce deadline of ids[i]), durably, in one transaction, before
 * the MTA holds them. An open row for an id is replaced: it is about to be
 * parked again. Call it only for messages not held (the backlog waiting
 * for a retry): what ebb parks counts as ebb's. An invalid id fails the whole
 * batch and records nothing.
 */
int	ledger_park_begin(struct ledger *, const char *const *ids,
	    const time_t *deadlines, size_t n, time_t now, char **err_r);

/*
 * ledger_park_commit - the MTA held ids[0..n): parking -> parked. Ids not
 * in the parking state are left as they are.
 */
int	ledger_park_commit(struct ledger *, const char *const *ids, size_t n,
	    time_t now, char **err_r);

/*
 * ledger_release_begin - record the intent to release ids[0..n):
 * parked (or releasing, a retry) -> releasing. This is the guard that
 * keeps ebb's hands off other holds: if any id has no such row, the whole
 * batch fails, nothing changes, and the caller must not release them.
 */
int	ledger_release_begin(struct ledger *, const char *const *ids,
	    size_t n, time_t now, char **err_r);

/*
 * ledger_release_commit - the MTA released ids[0..n): releasing ->
 * released at now, counted as expired when its deadline <= now. Ids not
 * in the releasing state are left as they are.
 */
int	ledger_release_commit(struct ledger *, const char *const *ids,
	    size_t n, time_t now, char **err_r);

/*
 * The queue as reconcile sees it: return 1 and set *role_r (enum
 * msg_role, msg.h) when the message id is queued, 0 when it is not, -1 on
 * an error (reconcile then changes nothing). "In hold" in the table above
 * is the held role; a file there that ebb cannot read is still there (a
 * damaged file is not a delivered one), so the caller reports it held.
 */
typedef int	ledger_in_queue_fn(void *arg, const char *id, int *role_r);

/*
 * An open row whose message is gone, for the rebind function: its queue
 * id, fingerprint and deadline; new_id (empty) is where the function
 * puts the queue id the same message is held under now.
 */
struct ledger_gone {
	char	 id[MSG_QUEUE_ID_MAX];
	char	 fp[MSG_FP_LEN + 1];
	time_t	 deadline;
	char	 new_id[MSG_QUEUE_ID_MAX];
};

/*
 * Set gone[i].new_id for each row of gone[0..n) found again; 0, or -1 on
 * an error (reconcile then changes nothing). It must name only held
 * messages without an open row, each for one row at most.
 */
typedef int	ledger_rebind_fn(void *arg, struct ledger_gone *gone,
		    size_t n);

/*
 * ledger_reconcile - settle every open row against the queue as in_queue
 * reports it (the table above; the admin role counts as elsewhere), in
 * one transaction, at time now. An open row whose message is gone and
 * that has a fingerprint goes to rebind (NULL: none is looked for); one
 * it finds again moves to its new queue id, parked (logged per message).
 * Logs a summary line when anything changed. After it, every open row is
 * parked and held.
 */
int	ledger_reconcile(struct ledger *, ledger_in_queue_fn *in_queue,
	    ledger_rebind_fn *rebind, void *arg, time_t now, char **err_r);

/*
 * ledger_fingerprint - record the fingerprint of every open row that has
 * none yet: fn(arg, id, fp) returns 0 and fills fp (msg_fingerprint) for
 * a message it can tell, non-zero when it cannot (not held now, not
 * read). A row parked again (park_begin) loses its fingerprint until the
 * next call. Run after every park, and after reconcile: rows of an older
 * ledger get one too. Returns how many it recorded, or -1 and *err_r.
 */
typedef int	ledger_fingerprint_fn(void *arg, const char *id,
		    char fp[MSG_FP_LEN + 1]);
int	ledger_fingerprint(struct ledger *, ledger_fingerprint_fn *fn,
	    void *arg, char **err_r);

/*
 * ledger_foreach_parked - call fn for every open row (the messages ebb has
 * or may have in hold), earliest deadline first. After a reconcile they
 * are all parked; before one, a parking or releasing row is ebb's exactly
 * when its message is in hold, which is what reconcile would decide, so
 * readers that do not reconcile (a dry run) check the queue themselves.
 * The rows are read (and checked) before fn first runs, so fn may call
 * the ledger, release_begin included. Stops when fn returns non-zero. Returns 0 when every row was visited, 1
 * when fn stopped it, -1 on error.
 */
int	ledger_foreach_parked(struct ledger *,
	    int (*fn)(void *arg, const char *id, time_t deadline), void *arg,
	    char **err_r);

/*
 * ledger_is_parked - 1 when id has an open row (see foreach_parked), 0
 * when not (an invalid id is not), -1 on error
 */
int	ledger_is_parked(struct ledger *, const char *id, char **err_r);

struct ledger_counts {
	size_t	 parked;	/* open rows in the parked state */
	size_t	 pending;	/* parking or releasing: for reconcile */
	size_t	 released;	/* released by ebb, all time */
	size_t	 expired;	/* of those, released at or past deadline */
	size_t	 closed;	/* gone, or released by somebody else */
};

/*
 * ledger_counts - open rows by state and the all-time totals (kept apart
 * from the settled rows, so pruning does not change them); O(open rows)
 */
int	ledger_counts(struct ledger *, struct ledger_counts *r, char **err_r);

/*
 * ledger_settled_since - 1 when id has a settled row (released, or
 * closed) for a park at or after since: ebb parked that message and let
 * it go, so a hold of it since is someone else's; 0 when not (an invalid
 * id has none); -1 on error
 */
int	ledger_settled_since(struct ledger *, const char *id, time_t since,
	    char **err_r);

/*
 * ledger_foreach_released - call fn for every message released (settled
 * as released) at or after since, with when; fn returning non-zero stops
 * the walk (1 is returned). Returns 0, or -1 and *err_r.
 */
int	ledger_foreach_released(struct ledger *, time_t since,
	    int (*fn)(void *arg, const char *id, time_t released), void *arg,
	    char **err_r);

/*
 * ledger_prune_settled - forget the released and closed rows settled
 * before before (a record for the administrator; the totals do not
 * change); open rows are never pruned
 */
int	ledger_prune_settled(struct ledger *, time_t before, char **err_r);

/* one history sample */
struct ledger_sample {
	time_t	 time;
	double	 pressure;	/* NAN: no sensor was present */
	double	 rate;		/* releases per second granted */
	long	 leaving;	/* messages per queue role (msg.h) */
	long	 waiting;
	long	 held;
	long	 admin;
	long	 parked;	/* of held, parked by ebb */
	long	 admitted;	/* the milter's counts since ebbd started: */
	long	 deferred;	/* let in; tempfailed or held. -1: no milter */
};

/*
 * ledger_history_add - store a sample; a second sample for the same second
 * replaces the first. Counts must be >= 0, rate finite and >= 0, pressure
 * NAN or finite and >= 0.
 */
int	ledger_history_add(struct ledger *, const struct ledger_sample *s,
	    char **err_r);

/*
 * ledger_history_since - call fn for every sample with time >= since,
 * oldest first; stops when fn returns non-zero. fn must not call
 * ledger_history_since itself. Returns 0 when all were visited, 1 when fn
 * stopped it, -1 on error.
 */
int	ledger_history_since(struct ledger *, time_t since,
	    int (*fn)(void *arg, const struct ledger_sample *s), void *arg,
	    char **err_r);

/* ledger_history_prune - delete the samples older than before */
int	ledger_history_prune(struct ledger *, time_t before, char **err_r);

/*
 * The incident timeline (timeline.h): what ebbd saw happen, and the
 * administrator's notes, newest last. kind is a timeline_kind_name,
 * text at most LEDGER_EVENT_TEXT_MAX bytes of valid UTF-8 without
 * control characters, count what the event counts (messages; 0: none).
 */
#define LEDGER_EVENT_TEXT_MAX	512
#define LEDGER_EVENT_KIND_MAX	16
#define LEDGER_EVENTS_KEEP	200	/* entries kept; older ones go */

struct ledger_event {
	long	 id;
	time_t	 time;
	long	 count;
	char	 kind[LEDGER_EVENT_KIND_MAX];
	char	 text[LEDGER_EVENT_TEXT_MAX + 1];
};

/*
 * ledger_event_add - store an event (its id is ignored), then forget all
 * but the newest LEDGER_EVENTS_KEEP
 */
int	ledger_event_add(struct ledger *, const struct ledger_event *e,
	    char **err_r);

/*
 * ledger_events_recent - call fn for the newest max events, oldest of
 * them first; stops when fn returns non-zero. 0, 1 (stopped) or -1.
 */
int	ledger_events_recent(struct ledger *, size_t max,
	    int (*fn)(void *arg, const struct ledger_event *e), void *arg,
	    char **err_r);

/*
 * ledger_lock - take STATE/NAME.lock (flock, exclusive, not waiting),
 * creating the state directory and the file as ledger_open does, and
 * write the holder's pid into it. NAME is [a-z0-9_-], 1 to 32 characters.
 * Returns 0 and the descriptor holding the lock in *fd_r (close-on-exec),
 * 1 when another process holds it, -1 and *err_r on error. The lock goes
 * with the process: a crash releases it.
 */
int	ledger_lock(const char *state_dir, const char *name, int *fd_r,
	    char **err_r);

/* ledger_unlock - release a lock from ledger_lock and set *fdp to -1 */
void	ledger_unlock(int *fdp);

#endif
