/*
 * admit.h - whether a message gets in at SMTP time, and how
 *
 * The milter (src/milter/milter.c) asks twice per message: at MAIL FROM,
 * the cheapest place to say no (critical pressure, an empty per-client
 * token bucket, SPF enforce), and at the end of the headers, once the
 * Received: chain tells how close the sender is to giving up (urgency,
 * the urgent window, the trickle). The answer is plain data: a verdict,
 * the SMTP reply for a refusal and a reason tag for counters and logs.
 *
 * Everything here is pure: the caller gathers the inputs (the budget,
 * the remote deadline estimate, the client's history and buckets, the SPF
 * result) and passes the time; nothing is read or remembered, so one
 * table of cases tests every rule.
 *
 * The rules, in the order they are tried:
 *
 *   critical  budget.critical: tempfail 451 4.3.2, at either stage.
 *   rate      a per-client bucket is empty (MAIL FROM): tempfail 451 4.7.1.
 *   spf       spf = enforce: fail is rejected 550 5.7.23 and temperror
 *             tempfailed 451 4.4.3 (MAIL FROM); while loaded, fail and
 *             softfail are tempfailed first (any mode but off).
 *   calm      pressure below target_low: accept. When no sensor reads
 *             (known 0) the governor keeps its last pressure, and so
 *             does admission; at start that is 0, so a blind ebb fails
 *             open (reason "blind").
 *   urgency   loaded, at the end of headers: accept when age / lifetime
 *             >= cutoff, where age counts from the oldest sane Received:
 *             date; a message with no sane date is fresh (age 0).
 *   urgent    accept when the estimated deadline is at most urgent seconds
 *             away; never for a message with no sane date.
 *   trickle   accept when nothing from this client got in for trickle
 *             seconds (counted from its first attempt when nothing ever
 *             did), so no sender sees only failures for days.
 *   loaded    otherwise tempfail 451 4.7.1 "recovering from a backlog".
 *
 * With action = hold, what is accepted at the end of headers while the
 * pressure is >= 1 is accepted into hold (ADMIT_HOLD) instead.
 */
#ifndef EBB_ADMIT_H
#define EBB_ADMIT_H

#include <time.h>

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
	enum admit_bucket bucket;	/* MAIL FROM */
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

/* admit_reason_name - "calm", "rate_ip", ...; static */
const char	*admit_reason_name(enum admit_reason);

/* admit_verdict_name - "continue", "accept", "hold", ...; static */
const char	*admit_verdict_name(enum admit_verdict);

/* admit_spf_name - "pass", "softfail", ... as in Received-SPF; static */
const char	*admit_spf_name(enum admit_spf);

#endif
