/*
 * pfmodel.h - the outage lab's model of Postfix's queue and scheduler
 *
 * A Postfix instance reduced to what decides how a backlog meets a sick
 * host: the deferred queue with its retry times, qmgr's deferred-queue
 * scans, the active queue, the per-destination concurrency window with
 * Postfix's feedback and dead-destination rule, backoff and expiry. Every
 * message goes to one destination, the modelled host (lab/host.h), as
 * through a relayhost: one next hop, one concurrency window. The rules and
 * the parameters are described in pfmodel.c.
 *
 * Pure and deterministic: time is passed in (seconds on the simulation's
 * clock, 0 at the start), no randomness, no I/O. The model drives its host:
 * pfmodel_set_now advances the host to now, takes its replies (delivered,
 * dropped in a reboot), runs qmgr's own timers due by now and starts the
 * deliveries the window allows. A discrete-event driver jumps from
 * pfmodel_next_event to pfmodel_next_event.
 *
 * It also implements ebb's backend interface (include/ebb/mta.h), so ebb's
 * real drain engine can drive it as it drives Postfix: queues incoming and
 * active (leaving), deferred (waiting; due when its retry time has come),
 * hold (held). The ops act at the time of the last pfmodel_set_now.
 *
 *	pf = pfmodel_new(&params, host, queue_dir, 0, &err);
 *	pfmodel_add(pf, create_time, next_retry, sender, rcpt);   the backlog
 *	loop:
 *		pfmodel_set_now(pf, now);
 *		engine: mta_park(pfmodel_mta(pf), ...), mta_release, mta_kick
 *		now = MIN(pfmodel_next_event(pf), the driver's own timers);
 */
#ifndef EBB_LAB_PFMODEL_H
#define EBB_LAB_PFMODEL_H

#include <stddef.h>
#include <time.h>

#include "ebb/msg.h"
#include "lab/host.h"

struct lab_host;
struct mta;
struct pfmodel;

/*
 * the wall clock the engine and the index see: PFMODEL_EPOCH + model time
 * (2026-01-01 00:00:00 UTC; any fixed date would do)
 */
#define PFMODEL_EPOCH	1767225600

/* pfmodel_wall - model time t on that wall clock, whole seconds down */
time_t	 pfmodel_wall(double t);

/* the queues, as the mta_ops table numbers them */
enum pfmodel_queue {
	PFMODEL_INCOMING,	/* leaving (the lab puts nothing there) */
	PFMODEL_ACTIVE,		/* leaving: qmgr has it */
	PFMODEL_DEFERRED,	/* waiting for its retry time */
	PFMODEL_HOLD,		/* held: postsuper -h */
	PFMODEL_QUEUE_COUNT
};

/*
 * where a message is; DELIVERED and BOUNCED have left the queue. ACTIVE
 * and DELIVERING are both in the active queue.
 */
enum pfmodel_state {
	PFMODEL_S_DEFERRED,
	PFMODEL_S_ACTIVE,	/* in the active queue, waiting for a slot */
	PFMODEL_S_DELIVERING,	/* a delivery agent has it */
	PFMODEL_S_HOLD,
	PFMODEL_S_DELIVERED,
	PFMODEL_S_BOUNCED,
	PFMODEL_S_COUNT
};

/*
 * Postfix's parameters, by their main.cf names; plain data. Times are
 * seconds. pfmodel_params_postfix gives Postfix's defaults,
 * pfmodel_params_default the lab's (pfmodel.c says why).
 */
struct pfmodel_params {
	double	 queue_run_delay;		/* deferred queue scans */
	double	 minimal_backoff_time;
	double	 maximal_backoff_time;
	double	 maximal_queue_lifetime;
	double	 bounce_queue_lifetime;		/* the null sender's */
	double	 smtp_connect_timeout;		/* a dead host costs this */
	long	 qmgr_message_active_limit;
	long	 default_process_limit;		/* smtp processes */
	long	 initial_destination_concurrency;
	long	 default_destination_concurrency_limit;
	double	 positive_feedback;	/* x 1/concurrency, per success */
	double	 negative_feedback;	/* x 1/concurrency, per failure */
	double	 failed_cohort_limit;	/* failed cohorts at concurrency
					   1 that make it dead; 0: never */
};

/* pfmodel_params_postfix - Postfix 3.7's defaults into *p */
void	 pfmodel_params_postfix(struct pfmodel_params *p);

/*
 * pfmodel_params_compressed - Postfix's defaults with every time divided
 * by factor (> 0): the clock of the lab's remote senders
 */
void	 pfmodel_params_compressed(struct pfmodel_params *p, double factor);

/* pfmodel_params_default - the lab's defaults (Postfix's, time 30x) */
void	 pfmodel_params_default(struct pfmodel_params *p);

/*
 * pfmodel_params_check - 0 when every field is in range, else -1 and an
 * allocated message naming the field in *err_r
 */
int	 pfmodel_params_check(const struct pfmodel_params *p, char **err_r);

/*
 * pfmodel_new - an empty queue delivering to host (which stays the
 * caller's, and which the model advances from now on: the caller must not
 * advance it or offer it anything itself), with qmgr's first deferred scan
 * due at now. queue_dir is what the queue_directory op reports (the
 * sensors statvfs it); copied. NULL and *err_r when params are bad.
 */
struct pfmodel	*pfmodel_new(const struct pfmodel_params *params,
		    struct lab_host *host, const char *queue_dir, double now,
		    char **err_r);

/* pfmodel_free - free *pp and set it to NULL; NULL is fine */
void	 pfmodel_free(struct pfmodel **pp);

/*
 * pfmodel_add - one message into the deferred queue, retry at next_retry,
 * deadline create_time + maximal_queue_lifetime (bounce_queue_lifetime
 * for the null sender ""). Strings are copied. Returns its number, 0..;
 * its queue id is pfmodel_id of that.
 */
size_t	 pfmodel_add(struct pfmodel *pf, double create_time,
	    double next_retry, const char *sender, const char *rcpt);

/*
 * pfmodel_receive - a message accepted over SMTP at the model's time: into
 * the active queue (through incoming), or into hold when hold is 1 (the
 * milter quarantined it). create_time is now. Returns its number.
 */
size_t	 pfmodel_receive(struct pfmodel *pf, const char *sender,
	    const char *rcpt, int hold);

/*
 * pfmodel_set_front - the host's front-door events (lab_host_offer_front:
 * sessions answered or cut) go to fn(arg, event) from now on, as
 * pfmodel_set_now meets them; fn must not offer the host anything, nor
 * call pfmodel_set_now. Without it such an event is a bug.
 */
void	 pfmodel_set_front(struct pfmodel *pf, lab_host_event_fn *fn,
	    void *arg);

/*
 * pfmodel_admin_hold - an administrator's "postsuper -h" of message i
 * (not an op of ebb's: it is not counted as a park). Deferred mail only;
 * 0 when held, -1 when it was elsewhere.
 */
int	 pfmodel_admin_hold(struct pfmodel *pf, size_t i);

/*
 * pfmodel_set_now - run the model and its host up to now (never back in
 * time): deliveries, drops and reboots of the host, qmgr's scans,
 * connect timeouts and its revival of a dead destination, in time order;
 * then start what the concurrency window allows. The ops act at now.
 */
void	 pfmodel_set_now(struct pfmodel *pf, double now);

/* pfmodel_now - the model's time */
double	 pfmodel_now(const struct pfmodel *pf);

/*
 * pfmodel_next_event - when the model or its host next does something of
 * its own; HUGE_VAL when nothing is coming
 */
double	 pfmodel_next_event(const struct pfmodel *pf);

/*
 * pfmodel_scan - "postkick public qmgr D": a deferred-queue scan now, then
 * start deliveries. The periodic scans keep their schedule.
 */
void	 pfmodel_scan(struct pfmodel *pf);

/*
 * pfmodel_flush - "postqueue -f": a dead destination is revived and every
 * deferred message is moved to the active queue, due or not; then start
 * deliveries
 */
void	 pfmodel_flush(struct pfmodel *pf);

/* pfmodel_mta - the model behind ebb's backend interface; the model's */
struct mta	*pfmodel_mta(struct pfmodel *pf);

/* pfmodel_count - messages in a state now */
size_t	 pfmodel_count(const struct pfmodel *pf, enum pfmodel_state state);

/* pfmodel_nmsgs - messages added */
size_t	 pfmodel_nmsgs(const struct pfmodel *pf);

/* pfmodel_id - the queue id of message i (valid while pf lives) */
const char	*pfmodel_id(const struct pfmodel *pf, size_t i);

/* pfmodel_lookup - the number of the message with queue id id, -1: none */
long	 pfmodel_lookup(const struct pfmodel *pf, const char *id);

/* one message; plain data */
struct pfmodel_msg_info {
	enum pfmodel_state state;
	double	 create_time;
	double	 deadline;	/* when a failed attempt bounces it */
	double	 next_retry;	/* deferred and held: the deferred mtime */
	double	 done_at;	/* delivered or bounced: when */
	long	 attempts;	/* delivery attempts, deferrals by a dead
				   destination included */
	long	 park_calls;	/* the park op named it */
	long	 release_calls;	/* the release op named it */
	long	 parked;	/* park moved it to hold */
	long	 released;	/* release moved it out of hold */
};

/* pfmodel_msg_info - message i into *info_r */
void	 pfmodel_msg_info(const struct pfmodel *pf, size_t i,
	    struct pfmodel_msg_info *info_r);

/* what qmgr did; plain data */
struct pfmodel_stats {
	long	 attempts;	/* deliveries started (or deferred dead) */
	long	 delivered;
	long	 bounced;
	long	 deferrals;	/* failed attempts put back in deferred */
	long	 refused_down;	/* offers to a host that was down */
	long	 refused_busy;	/* offers the host turned away (421) */
	long	 dropped;	/* deliveries lost in a reboot */
	long	 dead;		/* times the destination was declared dead */
	long	 scans;		/* deferred scans, periodic and kicked */
	long	 kicks;		/* kick ops */
	long	 flushes;
	long	 received;	/* pfmodel_receive */
	long	 window;	/* the concurrency window now (0: dead) */
	long	 window_peak;
	long	 active_peak;	/* most messages in the active queue */
};

/* pfmodel_stats - the counts so far into *st_r */
void	 pfmodel_stats(const struct pfmodel *pf, struct pfmodel_stats *st_r);

/*
 * pfmodel_backoff - the delay Postfix gives a message of age seconds that
 * failed: age clamped to [minimal_backoff_time, maximal_backoff_time]
 */
double	 pfmodel_backoff(const struct pfmodel_params *p, double age);

#endif
