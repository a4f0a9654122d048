/*
 * drain.h - park a backlog and release it earliest deadline first
 *
 * The drain is the engine behind "ebbctl drain" and ebbd's continuous
 * drain. It parks the MTA's backlog of mail waiting for a retry (into the
 * held role: Postfix's hold queue, Sendmail's quarantine), records every
 * message it parks in the ledger, and on each tick
 * releases as many of them as the governor's budget allows, the one closest
 * to its bounce deadline first. It only ever releases what the ledger says
 * ebb parked; an administrator's own holds are never touched, and nothing
 * is ever deleted.
 *
 * Budget per tick: a token bucket paced at the governor's rate (capped by
 * --max-rate), and a window: released messages still on their way
 * (leaving, or waiting and due) count against the governor's window, so a
 * slow MTA slows the drain down by itself. The engine speaks only in queue
 * roles (msg.h); the backend maps them to its queues (mta.h).
 *
 * Crash safety comes from the ledger's two-step records (parking/parked,
 * releasing/released): a drain killed at any moment leaves every message
 * either where the MTA delivers it or parked and known to the ledger, and the
 * next drain (or "ebbctl failsafe") picks it up after reconciling.
 */
#ifndef EBB_DRAIN_H
#define EBB_DRAIN_H

#include <stddef.h>
#include <time.h>

#include "ebb/msg.h"

struct budget;
struct config;
struct drain;
struct index;
struct ledger;
struct mta;
struct proof_key;
struct scan_stats;

struct drain_opts {
	int	 dry_run;	/* plan only: change nothing */
	long	 limit;		/* release at most this many; 0: no limit */
	double	 max_rate;	/* messages/s ceiling besides [drain] max_rate;
				   0: none */
	int	 verbose;	/* a log line per released message */
	int	 failsafe;	/* park nothing; release all at once, without
				   pacing and without kicking (ebbctl failsafe) */
	/*
	 * the key of ebb's proof of a hold (proof.h), which must outlive
	 * the drain; NULL: nothing can be proven, and a held message with no
	 * ledger row is the administrator's
	 */
	const struct proof_key *proof_key;
	int	 proof_all;	/* check every held message without a ledger
				   row at each refresh, not DRAIN_PROOF_MAX
				   (so does failsafe) */
};

struct drain_status {
	size_t	 total;		/* parked by ebb at the start, plus since */
	size_t	 parked;	/* parked and not yet released */
	size_t	 admin_held;	/* held, not ebb's: never touched */
	size_t	 released;	/* released by this drain */
	size_t	 expired;	/* of those, released past their deadline */
	size_t	 inflight;	/* released and still on their way */
	size_t	 corrupt;	/* queue files skipped by the scan */
	size_t	 unreadable;	/* of parked, files that cannot be read:
				   kept parked, released by id */
	size_t	 stuck;		/* of parked, released but kept held by
				   the MTA: parked again at the next
				   reconcile */
	double	 rate;		/* messages/s this tick */
	long	 window;
	size_t	 adopted;	/* held with no ledger row, ebb's proof in
				   the message: recorded as parked */
	size_t	 refused;	/* hold notices refused: no proof */
	size_t	 unproven;	/* held, no ledger row, no proof: the
				   administrator's (of admin_held) */
	size_t	 unchecked;	/* held, no ledger row, not checked yet (no
				   key, or past DRAIN_PROOF_MAX) */
	/*
	 * what the released messages did, since drain_new: left the queue
	 * (delivered, or bounced: the queue cannot tell them apart), or
	 * tried and waiting for a retry again
	 */
	size_t	 left;
	size_t	 deferred_again;
};

/*
 * drain_new - a drain over an open MTA and ledger (both stay the caller's;
 * ledger may be NULL for a dry run). Never fails.
 */
struct drain	*drain_new(const struct config *cfg, struct mta *mta,
		    struct ledger *ledger, const struct drain_opts *opts);

/* drain_free - free *dp and set it to NULL; NULL is fine */
void		 drain_free(struct drain **dp);

/*
 * drain_start - scan the queue, reconcile the ledger with it, park the
 * waiting backlog (not with dry_run) and order everything ebb has parked
 * by deadline. Returns 0, or -1 and *err_r (allocated) when the queue
 * cannot be scanned or parking fails; mail is then where it was, or parked
 * and in the ledger.
 */
int		 drain_start(struct drain *d, time_t now, char **err_r);

/*
 * drain_tick - release what the budget allows: tokens at min(budget rate,
 * max_rate) since the last tick, within the window and the limit. mono
 * (monotonic seconds, with fractions) paces the tokens and the re-kicks;
 * now (the wall clock) is for deadlines and the ledger. Returns the
 * number released, or -1 and *err_r when the MTA refused; the messages of
 * a failed batch stay parked (or are resolved by the next reconcile).
 */
long		 drain_tick(struct drain *d, const struct budget *budget,
		    double mono, time_t now, char **err_r);

/*
 * drain_release_all - for a failsafe drain (opts.failsafe) after
 * drain_start: release everything ebb parked, in batches, unpaced and
 * unkicked: the MTA takes over. Returns 0, or -1 and *err_r; what a
 * failed batch held stays parked.
 */
int		 drain_release_all(struct drain *d, time_t now,
		    char **err_r);

/*
 * drain_refresh - for a drain that runs on (ebbd): drain_start again,
 * keeping the counts and what is in flight. Rescans (incrementally),
 * reconciles, parks what has been waiting since, except messages this drain
 * released in the last hour (waiting again: the MTA retries them on its
 * own schedule), and orders ebb's parked messages afresh. Returns as
 * drain_start.
 */
int		 drain_refresh(struct drain *d, time_t now, char **err_r);

/*
 * drain_set_scanner - bring the index up to date with scanner(arg, ix,
 * st, err_r) instead of mta_scan from now on (ebbd's live index,
 * qwatch.h): it returns as mta_scan does. NULL: mta_scan again.
 */
void		 drain_set_scanner(struct drain *d,
		    int (*scanner)(void *, struct index *,
		    struct scan_stats *, char **), void *arg);

/* drain_expire_recent - forget releases older than an hour (see refresh) */
void		 drain_expire_recent(struct drain *d, time_t now);

/*
 * drain_set_config - use cfg from now on (a reload); the old one may be
 * freed after this
 */
void		 drain_set_config(struct drain *d,
		    const struct config *cfg);

/*
 * drain_release_ids - release ids[0..n) now, out of turn ("ebbctl
 * release"): each must be valid, parked by ebb (an open ledger row) and
 * held, or nothing is released and -1 returned with *err_r. Kicked like a
 * paced release. Returns 0 or -1.
 */
int		 drain_release_ids(struct drain *d, const char *const *ids,
		    size_t n, time_t now, char **err_r);

/*
 * drain_hold_ids - park ids[0..n) now ("ebbctl hold"): each must be valid
 * and waiting for a retry, or nothing is parked and -1 returned with
 * *err_r. They are recorded in the ledger as ebb's and released in their
 * EDF turn. Returns 0 or -1.
 */
int		 drain_hold_ids(struct drain *d, const char *const *ids,
		    size_t n, time_t now, char **err_r);

/*
 * drain_adopt - the milter says it put id in hold, with its sender's
 * deadline. Believed only on proof: once the message is held, its queue
 * file must carry ebb's proof of the hold (proof.h, the MTA's proof op);
 * then it is recorded in the ledger as ebb's, parked, with this deadline
 * (an open row for it is replaced), and the drain releases it in its EDF
 * turn from the next drain_refresh. Returns 0 when recorded; 1 when it is
 * not held (yet: the MTA moves it there just after the milter answers;
 * ask again later); 2 when refused: no proof (logged "ID: not adopted: no
 * proof that ebb held it", counted, and not read again by a refresh); -1
 * and *err_r (an invalid id, the ledger).
 */
int		 drain_adopt(struct drain *d, const char *id, time_t deadline,
		    time_t now, char **err_r);

/*
 * At each refresh the drain also adopts, by the same proof, the held
 * messages that have no ledger row (a hold notice lost in a stop or a
 * crash), with the deadline the scan found: at most DRAIN_PROOF_MAX queue
 * files read per refresh (all of them with opts.failsafe or proof_all);
 * one found without a proof is remembered and not read again while it
 * stays in hold. A message ebb released once and someone held again is
 * not adopted again (ledger_settled_since).
 */
#define DRAIN_PROOF_MAX	200

/* why a held message stays in hold (drain_foreach_kept) */
enum drain_kept {
	DRAIN_KEPT_NO_PROOF,	/* no ledger row, no proof: the admin's */
	DRAIN_KEPT_UNREADABLE,	/* no ledger row, its proof unreadable */
	DRAIN_KEPT_RELEASED,	/* ebb released it once; held again since */
	DRAIN_KEPT_UNCHECKED,	/* no ledger row, no proof checked (no key,
				   or not yet) */
	DRAIN_KEPT_ADMIN,	/* in a queue of the admin role */
	DRAIN_KEPT_STUCK,	/* ebb's: the MTA did not release it */
	DRAIN_KEPT_PARKED,	/* ebb's, not released yet */
	DRAIN_KEPT_COUNT
};

/*
 * drain_kept_name - a short token for JSON ("no_proof"...);
 * drain_kept_reason - the reason in words, for operators
 */
const char	*drain_kept_name(enum drain_kept);
const char	*drain_kept_reason(enum drain_kept);

/*
 * drain_foreach_kept - call fn for every message the last refresh saw in
 * a queue of the held or admin role that this drain has not released,
 * with why it stays; fn returning non-zero stops the walk. Returns how
 * many were visited.
 */
size_t		 drain_foreach_kept(struct drain *d,
		    int (*fn)(void *arg, const char *id, enum drain_kept why),
		    void *arg);

/*
 * drain_ledger_warn - after drain_start over a ledger that this open made
 * (ledger_created: there was none, or an empty file) while hold holds
 * messages with ebb's proof, or held ones no key can check: say so
 * loudly (an error naming the counts and the way out), since what ebb's
 * drain had parked is no longer known as ebb's. The proven ones are
 * adopted already. Returns 1 when it said so, else 0.
 */
int		 drain_ledger_warn(struct drain *d);

/*
 * drain_failsafe_json - what a failsafe drain did, as a new JSON object
 * (jansson's json_t): "released", "expired", "admin_held", "stuck",
 * "adopted", and "kept": the first max_kept of drain_foreach_kept, each
 * {"queue_id", "reason" (drain_kept_name), "why" (drain_kept_reason)},
 * with "kept_total" all of them
 */
struct json_t	*drain_failsafe_json(struct drain *d, size_t max_kept);

/*
 * drain_queue_counts - messages per queue of the backend at the last scan
 * (names: mta_queue_name); drain_role_counts - the same by role
 */
void		 drain_queue_counts(const struct drain *d,
		    size_t counts_r[MSG_QUEUE_MAX]);
void		 drain_role_counts(const struct drain *d,
		    size_t counts_r[MSG_ROLE_COUNT]);

/* buckets of drain_at_risk: time left before the bounce deadline */
enum drain_risk {
	DRAIN_RISK_EXPIRED,	/* deadline passed */
	DRAIN_RISK_1H,		/* within an hour */
	DRAIN_RISK_6H,
	DRAIN_RISK_24H,
	DRAIN_RISK_LATER,
	DRAIN_RISK_COUNT
};

/* drain_at_risk - ebb's parked messages by time left to their deadline */
void		 drain_at_risk(const struct drain *d, time_t now,
		    size_t counts_r[DRAIN_RISK_COUNT]);

/*
 * drain_foreach_msg - call fn for every message of the last scan, in no
 * order; stops when fn returns non-zero and returns that (0: all seen)
 */
int		 drain_foreach_msg(const struct drain *d,
		    int (*fn)(void *arg, const struct msg *m), void *arg);

/* drain_status - counts for progress and the summary */
void		 drain_status(const struct drain *d, struct drain_status *r);

/*
 * drain_feedback - what the released messages did since the last call:
 * how many left the queue (delivered, or bounced), their time from release
 * together (seconds, monotonic), and how many are in flight now; then
 * start counting again. The governor's signal (governor_observe).
 */
void		 drain_feedback(struct drain *d, long *delivered_r,
		    double *latency_sum_r, long *inflight_r);

/* drain_done - 1 when nothing parked is left and nothing is in flight */
int		 drain_done(const struct drain *d);

/* drain_idle - 1 when nothing parked is left to release */
int		 drain_idle(const struct drain *d);

/* drain_limit_reached - 1 when --limit messages have been released */
int		 drain_limit_reached(const struct drain *d);

/*
 * drain_plan - print what a drain would do (dry run): counts, the first n
 * messages in release order with deadline and slack, and the time it would
 * take at rate messages/s.
 */
void		 drain_plan(const struct drain *d, double rate, size_t n,
		    time_t now);

/*
 * drain_order - the messages left to release, in release order (after
 * drain_start; in a dry run, what it would park and release), *n_r of
 * them. The drain owns them; they are valid until its next refresh.
 */
const struct msg *const *drain_order(const struct drain *d, size_t *n_r);

/*
 * drain_index - the drain's index of the whole queue, as its last refresh
 * left it, for ebbd's answers to "list" and "backlog": read it, do not
 * change it
 */
struct index	*drain_index(struct drain *d);

/*
 * drain_mark_parked - set parked_by_ebb on every held message of ix (roles
 * as mta maps them) that the ledger says ebb parked and has not released.
 * ledger may be NULL (nothing parked). Returns 0, or -1 and *err_r.
 */
int		 drain_mark_parked(struct ledger *ledger, struct mta *mta,
		    struct index *ix, char **err_r);

#endif
