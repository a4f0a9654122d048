/*
 * fake_mta.h - an in-memory MTA behind struct mta_ops, for unit tests
 *
 * The drain engine talks to an MTA only through the ops table (mta.h), so
 * a test can give it this one: a queue held in memory, with five queues
 * that cover every role (two leaving, one waiting, one held, and one of
 * the admin role that ebb must never touch). The test plays the MTA: it
 * adds messages, delivers them, defers them again, makes a held file
 * unreadable, and injects failures into any call of scan, park, release
 * or kick, either before the MTA acts (nothing moved) or after it (the
 * MTA moved the mail, the caller still sees -1: a crash or a lost answer
 * right after the command). It records every call and the ids passed, so
 * a test asserts on what the engine asked for and in which order.
 *
 * No clock: "due" is a flag the test sets, not a time.
 */
#ifndef EBB_TEST_FAKE_MTA_H
#define EBB_TEST_FAKE_MTA_H

#include <stddef.h>
#include <time.h>

struct mta;
struct fake_mta;

/* the queues, in the order a message moves through them */
enum fake_queue {
	FAKE_INCOMING,		/* leaving */
	FAKE_ACTIVE,		/* leaving */
	FAKE_DEFERRED,		/* waiting */
	FAKE_HOLD,		/* held: where ebb parks */
	FAKE_FROZEN,		/* admin: an administrator's hold only */
	FAKE_QUEUE_COUNT
};

/* the ops a test can count, inspect and make fail */
enum fake_op {
	FAKE_OP_SCAN,
	FAKE_OP_PARK,
	FAKE_OP_RELEASE,
	FAKE_OP_KICK,
	FAKE_OP_LOCATE,		/* counted only: it has no way to fail */
	FAKE_OP_PROOF,		/* counted only: unreadable is its failure */
	FAKE_OP_COUNT
};

/* when an injected failure strikes */
enum fake_when {
	FAKE_FAIL_BEFORE = 1,	/* return -1, change nothing */
	FAKE_FAIL_AFTER		/* act as usual, then return -1 */
};

/* fake_mta_new - an empty queue; kicks move mail to active. Never NULL. */
struct fake_mta	*fake_mta_new(void);

/* fake_mta_free - free *fp and set it NULL; NULL is fine */
void		 fake_mta_free(struct fake_mta **fp);

/* fake_mta_mta - the struct mta to give the engine (owned by the fake) */
struct mta	*fake_mta_mta(struct fake_mta *f);

/*
 * fake_mta_add - queue id in queue (enum fake_queue). A message added to
 * the deferred queue is not due. sender "" is the null sender.
 */
void		 fake_mta_add(struct fake_mta *f, const char *id, int queue,
		    time_t arrival, time_t deadline, const char *sender);

/*
 * fake_mta_rename - id is queued as new_id from now on, its contents
 * kept: a queue file copied or restored, which Postfix names anew
 */
void		 fake_mta_rename(struct fake_mta *f, const char *id,
		    const char *new_id);

/* fake_mta_queue_of - where id is now, -1 when it is gone (or unknown) */
int		 fake_mta_queue_of(const struct fake_mta *f, const char *id);

/* fake_mta_move - the MTA (or an administrator) moves id to queue */
void		 fake_mta_move(struct fake_mta *f, const char *id, int queue);

/*
 * fake_mta_set_unreadable - the file of id can (0) or cannot (1) be read:
 * the scan keeps a held one in the index by id, like the real backend,
 * and skips any other as corrupt
 */
void		 fake_mta_set_unreadable(struct fake_mta *f, const char *id,
		    int unreadable);

/*
 * fake_mta_set_content - the bytes of id's queue file (copied), which the
 * proof op feeds to the proof search in small chunks with id's arrival
 * time; none: an empty file. An unreadable file, or one not held, is a
 * PROOF_ERROR.
 */
void		 fake_mta_set_content(struct fake_mta *f, const char *id,
		    const void *buf, size_t len);

/* fake_mta_deliver - the MTA delivered id: it is gone */
/*
 * fake_mta_set_stuck - release leaves id held and reports no error, as
 * postsuper does with a hold file that lost its owner-execute bit
 */
void		 fake_mta_set_stuck(struct fake_mta *f, const char *id,
		    int stuck);

void		 fake_mta_deliver(struct fake_mta *f, const char *id);

/* fake_mta_deliver_all_leaving - deliver all leaving mail; how many */
size_t		 fake_mta_deliver_all_leaving(struct fake_mta *f);

/*
 * fake_mta_defer - a delivery attempt of id failed: back to deferred,
 * its next retry due now (due 1) or ahead (due 0)
 */
/*
 * fake_mta_retry_all_waiting - the MTA's own queue run: every waiting
 * message is attempted (moved to active); returns how many
 */
size_t		 fake_mta_retry_all_waiting(struct fake_mta *f);

void		 fake_mta_defer(struct fake_mta *f, const char *id, int due);

/*
 * fake_mta_set_kick_moves - 1 (the default): a kick moves the deferred
 * messages named to active, as qmgr would pick them up. 0: it only makes
 * them due and the kick is lost (a qmgr that did not wake up).
 */
void		 fake_mta_set_kick_moves(struct fake_mta *f, int moves);

/* fake_mta_count - messages in queue now */
size_t		 fake_mta_count(const struct fake_mta *f, int queue);

/*
 * fake_mta_fail - make the call-th call (from 1, counting every call of
 * op so far and later) of op fail, when: FAKE_FAIL_BEFORE or _AFTER. One
 * failure per op at a time; call 0 clears it.
 */
void		 fake_mta_fail(struct fake_mta *f, int op, size_t call,
		    int when);

/* fake_mta_failures - how many injected failures have struck */
size_t		 fake_mta_failures(const struct fake_mta *f);

/* fake_mta_calls - calls of op so far, failed ones included */
size_t		 fake_mta_calls(const struct fake_mta *f, int op);

/*
 * fake_mta_ids - the ids op acted on, in call and argument order: every
 * id of every call that reached the MTA (a failure "before" did not, one
 * "after" did). *n_r: how many. Valid until the next call of op.
 */
const char	*const *fake_mta_ids(const struct fake_mta *f, int op,
		    size_t *n_r);

/* fake_mta_id_count - how many times op acted on id */
size_t		 fake_mta_id_count(const struct fake_mta *f, int op,
		    const char *id);

/* fake_mta_reset_ids - forget the ids recorded for every op */
void		 fake_mta_reset_ids(struct fake_mta *f);

#endif
