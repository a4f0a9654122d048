/*
 * drain_int.h - the drain's state, shared by drain.c (park, release),
 * drain_proof.c (adopting held messages by ebb's proof of the hold) and
 * drain_rebind.c (parked messages under a new queue id)
 *
 * Not a public header: everything else uses include/ebb/drain.h.
 */
#ifndef EBB_DRAIN_INT_H
#define EBB_DRAIN_INT_H

#include <stddef.h>
#include <time.h>

#include "ebb/bucket.h"
#include "ebb/drain.h"
#include "ebb/msg.h"

struct index;
struct proof_search;
struct scan_stats;

/* a message released by this drain and not yet known to be on its way out */
struct inflight {
	char	 id[MSG_QUEUE_ID_MAX];
	double	 kicked;	/* monotonic seconds of the last kick */
	double	 released;	/* monotonic seconds of the release */
};

struct drain {
	const struct config *cfg;
	struct mta	*mta;
	struct ledger	*ledger;
	struct drain_opts opts;
	struct index	*ix;
	struct index	*recent;	/* released lately: queue_id, and
					   arrival_time = when released */

	struct msg	**order;	/* ebb's parked messages, EDF */
	size_t		 norder;
	size_t		 next;		/* first not yet released */

	struct inflight	*inflight;
	size_t		 ninflight;

	struct bucket	 bucket;
	int		 bucket_started;
	double		 rate;
	long		 window;

	size_t		 total;
	size_t		 released;
	size_t		 expired;
	size_t		 admin_held;
	size_t		 corrupt;
	size_t		 unreadable;	/* parked, file unreadable */
	long		 fb_delivered;	/* since drain_feedback: left the */
	double		 fb_latency;	/* queue, and their time from release */
	size_t		 left;		/* released, then gone from the queue */
	size_t		 deferred_again; /* released, then waiting again */
	int		 seeded;	/* recent holds the ledger's */
	struct index	*stuck;		/* released, but the MTA kept them
					   held: parked, not tried again by
					   this drain */

	/* brings the index up to date; NULL: mta_scan (drain_set_scanner) */
	int		(*scanner)(void *, struct index *, struct scan_stats *,
			    char **);
	void		*scanner_arg;

	/* proofs of a hold (drain_proof.c) */
	struct proof_search *ps;	/* NULL: no key, nothing is proven */
	struct index	*unproven;	/* held, no ledger row, checked: not
					   ebb's. arrival_time as checked,
					   the reason (enum drain_kept) in
					   next_retry */
	size_t		 adopted;	/* by their proof, since drain_new */
	size_t		 refused;	/* hold notices without a proof */
	size_t		 unchecked;	/* held, no row, not checked yet */
	size_t		 rebound;	/* offered to the ledger under a new
					   queue id, since drain_new */
};

/* drain_role - what m's queue means to the engine (enum msg_role) */
int	drain_role(const struct drain *d, const struct msg *m);

/*
 * drain_adopt_proven - for drain_refresh, after the reconcile: adopt the
 * held messages without a ledger row that carry ebb's proof; at most
 * DRAIN_PROOF_MAX files read per call unless opts.failsafe or
 * opts.proof_all. 0, or -1 and *err_r (the ledger).
 */
int	drain_adopt_proven(struct drain *d, time_t now, char **err_r);

/* drain_proof_free - what drain_proof.c keeps in d */
void	drain_proof_free(struct drain *d);

struct ledger_gone;

/*
 * drain_rebind - ledger_rebind_fn for drain_refresh's reconcile (arg is
 * the drain): each gone row gets the held message without a row that has
 * its fingerprint, when the messages of that fingerprint are no more than
 * its rows; the others are logged, to be checked by hand
 */
int	drain_rebind(void *arg, struct ledger_gone *gone, size_t n);

/* drain_fingerprint - ledger_fingerprint_fn: a held message's, from d->ix */
int	drain_fingerprint(void *arg, const char *id, char fp[MSG_FP_LEN + 1]);

#endif
