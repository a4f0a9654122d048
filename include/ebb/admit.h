/*
 * admit.h - whether a message gets in at SMTP time, and how
 *
 * The milter (src/milter/milter.c) asks twice per message: at MAIL FROM,
 * where only a full queue disk or memory, or an SPF fail under enforce,
 * turns mail away, and at the end of the headers, once the Received: chain
 * tells how close the sender is to giving up. The answer is plain data: a
 * verdict, the SMTP reply for a refusal and a reason tag for counters and
 * logs.
 *
 * Everything here is pure: the caller gathers the inputs (the budget,
 * the remote deadline estimate, the client's history and buckets, the SPF
 * result, whether the gate has a token) and passes the time; nothing is
 * read or remembered, so one table of cases tests every rule.
 *
 * Accepting a message costs the host little; scanning and delivering it
 * is what overheats it. So what ebb refuses depends on which side of the
 * host is short:
 *
 *   accepting   the queue disk or memory is at its limit (full): every
 *               message is refused, at MAIL FROM, 452 4.3.1 for the disk
 *               and 421 4.3.2 (the client is dropped) for memory.
 *   delivering  load, PSI, temperature, the MTA's queue: with action =
 *               hold the mail is taken into hold and the drain lets it
 *               out earliest deadline first at the rate the governor
 *               finds safe; with action = tempfail it is refused with 451
 *               unless close to its sender's deadline.
 *
 * The gate (action = hold). Mail accepted straight into the queue while
 * calm must not outrun the governor either: the caller keeps a token
 * bucket at the governor's safe rate (admit_gate below) and says when it
 * is empty (surge); then the excess goes into hold. And while ebb holds
 * parked mail (backlog), new mail is held too, so it does not overtake
 * older mail that waits for the same capacity. With action = tempfail
 * there is nowhere to put the excess, and calm mail is taken as it comes.
 *
 * The rules, in the order they are tried:
 *
 *   full      the queue disk (452 4.3.1) or memory (421 4.3.2) is at its
 *             limit: tempfail, at either stage, urgent mail too.
 *   spf       spf = enforce: fail is rejected 550 5.7.23 and temperror
 *             tempfailed 451 4.4.3.
 *   MAIL FROM otherwise continue: the rest needs the headers.
 *   urgent    the estimated deadline is at most urgent seconds away (never
 *             for a message with no sane date): taken, into hold if the
 *             gate is shut (hold), else straight in. Never refused.
 *   rate      a per-client bucket was empty at MAIL FROM: tempfail 451
 *             4.7.1.
 *   spf       while loaded, fail and softfail wait first (451 4.7.1; any
 *             spf mode but off).
 *   calm      pressure below target_low, not critical (and, with hold,
 *             the gate open and no backlog): accept. When no sensor reads,
 *             or the budget is stale (known 0), the governor keeps its
 *             last pressure, and so does admission; at start that is 0.
 *             With tempfail a blind ebb fails open (reason "blind"); with
 *             hold it cannot know the gate's rate, and takes the mail
 *             into hold (reason "blind"): a parent too busy to send a
 *             budget must not open the gate to a surge.
 *   hold      action = hold: everything else is accepted into hold,
 *             reason blind, critical, loaded, backlog or surge.
 *   critical  action = tempfail, budget.critical: 451 4.3.2.
 *   urgency   loaded: accept when age / lifetime >= cutoff, where age
 *             counts from the oldest sane Received: date; a message with
 *             no sane date is fresh (age 0).
 *   trickle   accept when nothing from this client got in for trickle
 *             seconds (counted from its first attempt when nothing ever
 *             did), so no sender sees only failures for days.
 *   loaded    otherwise tempfail 451 4.7.1 "recovering from a backlog".
 */
#ifndef EBB_ADMIT_H
#define EBB_ADMIT_H

#include <time.h>

#include "ebb/bucket.h"

enum admit_stage {
	ADMIT_AT_MAIL,			/* MAIL FROM: no headers yet */
	ADMIT_AT_EOH			/* end of headers: the final word */
};

enum admit_verdict {
	ADMIT_CONTINUE,			/* passed MAIL FROM: ask at EOH */
	ADMIT_ACCEPT,
	ADMIT_HOLD,			/* accept into the hold queue */
	ADMIT_TEMPFAIL,
	ADMIT_REJECT
};

/* why; names by admit_reason_name(), for counters and log lines */
enum admit_reason {
	ADMIT_R_PASS,			/* MAIL FROM passed */
	ADMIT_R_CALM,
	ADMIT_R_BLIND,			/* no pressure known: fail open */
	ADMIT_R_URGENCY,
	ADMIT_R_URGENT,
	ADMIT_R_TRICKLE,
	ADMIT_R_CRITICAL,
	ADMIT_R_LOADED,
	ADMIT_R_RATE_IP,
	ADMIT_R_RATE_NET,
	ADMIT_R_SPF_FAIL,		/* enforce: rejected */
	ADMIT_R_SPF_TEMPERROR,		/* enforce: tempfailed */
	ADMIT_R_SPF_DEFER,		/* loaded: fail/softfail wait first */
	ADMIT_R_FULL_DISK,		/* the queue disk is at its limit */
	ADMIT_R_FULL_MEMORY,		/* memory is at its limit */
	ADMIT_R_BACKLOG,		/* hold: parked mail goes first */
	ADMIT_R_SURGE,			/* the gate is shut */
	ADMIT_R_COUNT
};

/* an SPF result as libspf2 names them; ADMIT_SPF_UNCHECKED when off */
enum admit_spf {
	ADMIT_SPF_UNCHECKED,
	ADMIT_SPF_NONE,
	ADMIT_SPF_NEUTRAL,
	ADMIT_SPF_PASS,
	ADMIT_SPF_FAIL,
	ADMIT_SPF_SOFTFAIL,
	ADMIT_SPF_TEMPERROR,
	ADMIT_SPF_PERMERROR,
	ADMIT_SPF_COUNT
};

/* what makes accepting itself impossible (the budget's full) */
enum admit_full {
	ADMIT_FULL_NONE,
	ADMIT_FULL_DISK,		/* [limits] queue_disk_free_min */
	ADMIT_FULL_MEMORY		/* [limits] mem_available_min */
};

/* the per-client token buckets, as client_limit_check() found them */
enum admit_bucket {
	ADMIT_BUCKET_OK,
	ADMIT_BUCKET_IP_EMPTY,
	ADMIT_BUCKET_NET_EMPTY
};

/* everything a decision depends on; plain data, filled by the caller */
struct admit_input {
	enum admit_stage stage;
	time_t		 now;		/* wall clock, seconds */

	/* the governor's budget and [drain] target_low */
	double		 pressure;	/* smoothed */
	double		 cutoff;	/* 0 admit all .. 1 only urgent */
	int		 critical;
	int		 known;		/* 0: no sensor read */
	double		 target_low;	/* loaded from here up */
	enum admit_full	 full;		/* accepting is what is short */
	int		 backlog;	/* ebb holds parked mail */
	int		 surge;		/* the gate has no token */

	/* [milter] */
	int		 hold;		/* action = hold */
	int		 spf_enforce;	/* spf = enforce */
	int		 spf_checked;	/* spf != off */
	long		 urgent;	/* seconds */
	long		 trickle;	/* seconds */

	/* the message (EOH): the remote deadline estimate */
	int		 received_known; /* a sane Received: date */
	time_t		 first_queued;	/* the oldest sane one */
	long		 lifetime;	/* seconds, >= LIFETIME_MIN */

	/* the client */
	enum admit_bucket bucket;	/* as found at MAIL FROM */
	time_t		 client_since;	/* nothing got in since; 0: ? */
	enum admit_spf	 spf;
	int		 null_sender;
	long long	 size;		/* SIZE=, -1 when not given */
};

/* the answer; reply fields are static strings, NULL unless refused */
struct admit_decision {
	enum admit_verdict verdict;
	enum admit_reason reason;
	const char	*rcode;		/* "451" */
	const char	*xcode;		/* "4.7.1" */
	const char	*text;		/* no CR, LF or '%' */
	double		 urgency;	/* age / lifetime (EOH) */
	time_t		 deadline;	/* estimated (EOH), else 0 */
};

/*
 * admit_decide - apply the rules at the top of this file to *in and fill
 * *out. Pure and thread-safe. A NaN pressure counts as loaded and a NaN
 * cutoff as 1; the cutoff is clamped to 0..1 (never admits by mistake).
 */
void		 admit_decide(const struct admit_input *in,
		    struct admit_decision *out);

/*
 * The gate: a token bucket at the governor's safe rate for mail that goes
 * straight into the queue. The caller keeps one per milter, under its
 * lock, and passes the time from a monotonic clock.
 *
 * admit_gate_set - follow the budget's rate (messages/s); the gate holds
 * at most max(ADMIT_GATE_BURST, one second of rate) tokens. A rate of 0
 * (stopped, paused) shuts it.
 * admit_gate_shut - 1 when no whole token is there at now.
 * admit_gate_take - one token (call after an ACCEPT of reason calm).
 */
#define ADMIT_GATE_BURST	2.0

void		 admit_gate_set(struct bucket *gate, double rate, double now);
int		 admit_gate_shut(const struct bucket *gate, double now);
void		 admit_gate_take(struct bucket *gate, double now);

/* admit_reason_name - "calm", "rate_ip", ...; static */
const char	*admit_reason_name(enum admit_reason);

/* admit_verdict_name - "continue", "accept", "hold", ...; static */
const char	*admit_verdict_name(enum admit_verdict);

/* admit_spf_name - "pass", "softfail", ... as in Received-SPF; static */
const char	*admit_spf_name(enum admit_spf);

#endif
