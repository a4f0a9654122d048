/*
 * inbound.h - the outage lab's inbound flood and its scorecard
 *
 * One scenario: a modelled host (lab/host.h) with its own Postfix
 * (lab/pfmodel.h) comes back from an outage, and the remote senders
 * (lab/senders.h) come back at once with their backlog for it. Each
 * SMTP session costs the host's front door a little (front_work); each
 * message taken in costs the full processing when Postfix delivers it to
 * the pipeline. The same surge meets one of three policies:
 *
 *	POSTFIX		Postfix alone: every message offered is accepted
 *	EBB		ebb's milter decides each offer (admit_decide, as
 *			src/milter/milter.c calls it, with the budget of ebb's
 *			real engine: drain, pace, governor, sensors, ledger)
 *			with [milter] action = hold: mail it holds goes to
 *			the hold queue, is adopted into the ledger as
 *			ebbd's parent does, and the drain releases it
 *			earliest deadline first
 *	TEMPFAIL	the same with action = tempfail
 *
 * and the run is scored: offered, accepted, lost (the sender's lifetime
 * ran out first), held, refusals, urgent refusals, reboots, heat, and the
 * time until every accepted message reached the pipeline against the
 * safe-capacity bound.
 *
 * Time: the senders' schedules and lifetimes are days long, a lab run is
 * minutes. The senders' clock runs compress (24) times faster than the
 * host's: their times, Postfix's own times and the durations of ebb's
 * [milter] section ([milter] remote_lifetime, domain_lifetimes, urgent,
 * trickle) are divided by it; the host, ebb's sensors and governor, and
 * the SMTP sessions run in real seconds. At 24, a lab hour is a day.
 *
 * Deterministic; EBB's files go under a temporary directory it removes.
 */
#ifndef EBB_LAB_INBOUND_H
#define EBB_LAB_INBOUND_H

#include <stdint.h>

#include "ebb/admit.h"
#include "lab/host.h"
#include "lab/senders.h"

enum lab_inbound_policy {
	LAB_INBOUND_POSTFIX,
	LAB_INBOUND_EBB,
	LAB_INBOUND_TEMPFAIL,
	LAB_INBOUND_COUNT
};

#define LAB_INBOUND_COMPRESS	24.0	/* the senders' clock, x the host's */

/* lab_inbound_policy_name - "postfix", "ebb", "ebb-tempfail"; lookup: -1 */
const char	*lab_inbound_policy_name(enum lab_inbound_policy);
int		 lab_inbound_policy_lookup(const char *name);

/* one experiment; plain data. Lab times are the host's seconds. */
struct lab_inbound_scenario {
	struct lab_host_params host;	/* with its front_work */
	struct lab_senders_params senders; /* the senders' seconds */
	double		 compress;	/* the senders' clock, 1..1000 */
	double		 session;	/* lab s of an SMTP session's network
					   part, before its decision */
	double		 connect_timeout; /* lab s a sender waits on a host
					   that is down */
	double		 run_limit;	/* lab s at the latest */
	int		 delay_after_cutoff; /* Exim's option */
	const char	*tmpdir;	/* NULL: lab_sim_tmpdir() */
	const char	*config;	/* EBB's ebb.conf; NULL: defaults */
};

/*
 * lab_inbound_default - the lab's default host with front_work 0.05,
 * lab_senders_params_default, compress 24, sessions of 0.2 s, a connect
 * timeout of 1 s, at most 1800 s, delay_after_cutoff on
 */
void	 lab_inbound_default(struct lab_inbound_scenario *sc);

/*
 * lab_inbound_check - 0 when sc can run, else -1 and an allocated
 * message naming the bad field in *err_r
 */
int	 lab_inbound_check(const struct lab_inbound_scenario *sc,
	    char **err_r);

/* the result of one run; plain data */
struct lab_inbound_card {
	enum lab_inbound_policy policy;
	long		 messages;	/* the senders' backlog, N */
	long		 offered;	/* reached the front door at least once */
	long		 accepted;	/* taken in (directly or into hold) */
	long		 lost;		/* the sender gave up first */
	long		 lost_offered;	/* of those, offered at least once */
	long		 lost_refused;	/* ... refused by the milter once */
	long		 lost_cutoff;	/* ... bounced by Exim's
					   delay_after_cutoff */
	long		 pending;	/* at a sender still, at the end */
	long		 held;		/* accepted into hold by ebb */
	long		 sessions;	/* SMTP sessions started */
	long		 connect_failed; /* to a host that was down */
	long		 cut;		/* cut by a reboot */
	long		 tempfailed;	/* sessions the milter refused, 4xx */
	long		 rejected;	/* ... 5xx */
	long		 urgent_refusals; /* refused within [milter] urgent of
					   the milter's estimated deadline */
	long		 reasons[ADMIT_R_COUNT]; /* final decisions */
	long		 reboots;
	double		 temp_peak;	/* C */
	double		 above_passive;	/* s */
	double		 utilization;	/* the host's mean */
	double		 accept_time;	/* lab s, the last acceptance */
	double		 pipeline_time;	/* lab s, the last accepted message
					   processed by the pipeline */
	long		 undelivered;	/* accepted, not processed at the end */
	double		 end_time;
	double		 safe_rate;	/* lab_sim_safe_rate, msg/s */
	double		 safe_bound;	/* accepted / safe_rate, s */
	double		 pipeline_safe;	/* pipeline_time / safe_bound */
	/* EBB and TEMPFAIL */
	long		 released;
	double		 pressure_max;
	long		 pressure_run;
};

/*
 * lab_inbound_run - run sc under policy and fill *card. Returns 0, or -1
 * and *err_r (allocated): sc does not pass lab_inbound_check, or ebb's
 * engine failed (its files, the ledger).
 */
int	 lab_inbound_run(const struct lab_inbound_scenario *sc,
	    enum lab_inbound_policy policy, struct lab_inbound_card *card,
	    char **err_r);

#endif
