/*
 * admit.c - whether a message gets in at SMTP time, and how
 *
 * The admission rules of the milter, as one pure function of its inputs
 * (see admit.h for the rules and their order). The milter glue gathers the
 * inputs and applies the answer; the unit test walks a table of cases.
 */
#include "config.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "ebb/admit.h"
#include "ebb/deadline.h"
#include "ebb/util.h"

/* the replies; plain text, no '%' (libmilter and the MTA pass it on) */
#define TEXT_CRITICAL	"this host is overloaded while it recovers from " \
			"a backlog; please try again in 30 minutes"
#define TEXT_LOADED	"this host is recovering from a backlog and takes " \
			"the oldest mail first; please try again in 15 minutes"
#define TEXT_STOPPED	"this host is recovering from a backlog and " \
			"takes only mail close to bouncing; please try " \
			"again in 30 minutes"
#define TEXT_RATE	"too much mail from your address while this host " \
			"recovers from a backlog; please slow down"
#define TEXT_SPF_FAIL	"the sender's SPF record does not allow this " \
			"host to send its mail"
#define TEXT_SPF_TEMP	"the sender's SPF record could not be looked " \
			"up; please try again later"
#define TEXT_DISK	"this host is out of queue space; please try again " \
			"later"
#define TEXT_MEMORY	"this host is out of memory; please try again later"
#define TEXT_SPF_DEFER	"this host is recovering from a backlog and " \
			"takes mail that passes SPF first; please try " \
			"again later"

static const char *const reason_names[ADMIT_R_COUNT] = {
	"pass", "calm", "blind", "urgency", "urgent", "trickle", "critical",
	"loaded", "rate_ip", "rate_net", "spf_fail", "spf_temperror",
	"spf_defer", "full_disk", "full_memory", "backlog", "surge"
};

static const char *const spf_names[ADMIT_SPF_COUNT] = {
	"unchecked", "none", "neutral", "pass", "fail", "softfail",
	"temperror", "permerror"
};

const char *
admit_reason_name(enum admit_reason r)
{
	if ((unsigned)r >= ADMIT_R_COUNT)
		return "?";
	return reason_names[r];
}

const char *
admit_verdict_name(enum admit_verdict v)
{
	switch (v) {
	case ADMIT_CONTINUE:
		return "continue";
	case ADMIT_ACCEPT:
		return "accept";
	case ADMIT_HOLD:
		return "hold";
	case ADMIT_TEMPFAIL:
		return "tempfail";
	case ADMIT_REJECT:
		return "reject";
	}
	return "?";
}

const char *
admit_spf_name(enum admit_spf s)
{
	if ((unsigned)s >= ADMIT_SPF_COUNT)
		return "?";
	return spf_names[s];
}

/* refuse - fill out with a refusal */
static void
refuse(struct admit_decision *out, enum admit_verdict verdict,
    enum admit_reason reason, const char *rcode, const char *xcode,
    const char *text)
{
	out->verdict = verdict;
	out->reason = reason;
	out->rcode = rcode;
	out->xcode = xcode;
	out->text = text;
}

/* let_in - accept straight into the queue */
static void
let_in(struct admit_decision *out, enum admit_reason reason)
{
	out->verdict = ADMIT_ACCEPT;
	out->reason = reason;
}

/* hold - accept into the hold queue; the drain lets it out */
static void
hold(struct admit_decision *out, enum admit_reason reason)
{
	out->verdict = ADMIT_HOLD;
	out->reason = reason;
}

/* estimate - urgency and deadline of the message, from the Received: date */
static void
estimate(const struct admit_input *in, struct admit_decision *out)
{
	time_t	 first = in->received_known ? in->first_queued : in->now;
	long	 lifetime = MAXIMUM(in->lifetime, LIFETIME_MIN);
	double	 age;

	if (first > in->now)		/* skew: not older than now */
		first = in->now;
	age = difftime(in->now, first);
	out->urgency = age / (double)lifetime;
	out->deadline = first + (time_t)lifetime;
	if (out->deadline < first)	/* wrapped */
		out->deadline = first;
}

/* trickle_due - nothing from this client got in for trickle seconds */
static int
trickle_due(const struct admit_input *in)
{
	if (in->client_since <= 0 || in->client_since > in->now)
		return 0;
	return difftime(in->now, in->client_since) >= (double)in->trickle;
}

/* held_why - why hold mode holds a message it would not refuse */
static enum admit_reason
held_why(const struct admit_input *in, int loaded)
{
	if (!in->known && !loaded)
		return ADMIT_R_BLIND;
	if (in->critical)
		return ADMIT_R_CRITICAL;
	if (loaded)
		return ADMIT_R_LOADED;
	if (in->backlog)
		return ADMIT_R_BACKLOG;
	return ADMIT_R_SURGE;
}

void
admit_decide(const struct admit_input *in, struct admit_decision *out)
{
	double	 cutoff = in->cutoff;
	int	 loaded, spf_bad, urgent, open;

	memset(out, 0, sizeof(*out));
	if (isnan(cutoff) || cutoff > 1)
		cutoff = 1;
	else if (cutoff < 0)
		cutoff = 0;
	loaded = !(in->pressure < in->target_low) || in->critical;
	if (in->stage == ADMIT_AT_EOH)
		estimate(in, out);

	/* accepting itself is short: nothing can be taken, urgent or not */
	if (in->full == ADMIT_FULL_DISK) {
		refuse(out, ADMIT_TEMPFAIL, ADMIT_R_FULL_DISK, "452", "4.3.1",
		    TEXT_DISK);
		return;
	}
	if (in->full == ADMIT_FULL_MEMORY) {
		refuse(out, ADMIT_TEMPFAIL, ADMIT_R_FULL_MEMORY, "421",
		    "4.3.2", TEXT_MEMORY);
		return;
	}
	if (in->spf_checked && in->spf_enforce) {
		if (in->spf == ADMIT_SPF_FAIL) {
			refuse(out, ADMIT_REJECT, ADMIT_R_SPF_FAIL, "550",
			    "5.7.23", TEXT_SPF_FAIL);
			return;
		}
		if (in->spf == ADMIT_SPF_TEMPERROR) {
			refuse(out, ADMIT_TEMPFAIL, ADMIT_R_SPF_TEMPERROR,
			    "451", "4.4.3", TEXT_SPF_TEMP);
			return;
		}
	}
	/* the rest needs to know how close the sender is to giving up */
	if (in->stage == ADMIT_AT_MAIL) {
		out->verdict = ADMIT_CONTINUE;
		out->reason = ADMIT_R_PASS;
		return;
	}

	/*
	 * straight in only while calm; with hold, also only within the
	 * gate's safe rate and with no parked mail to overtake
	 */
	open = !loaded && (!in->hold ||
	    (in->known && !in->surge && !in->backlog));
	urgent = in->received_known &&
	    difftime(out->deadline, in->now) <= (double)in->urgent;
	if (urgent) {
		if (in->hold && !open)
			hold(out, ADMIT_R_URGENT);
		else
			let_in(out, ADMIT_R_URGENT);
		return;
	}
	if (in->bucket != ADMIT_BUCKET_OK) {
		refuse(out, ADMIT_TEMPFAIL,
		    in->bucket == ADMIT_BUCKET_IP_EMPTY ? ADMIT_R_RATE_IP :
		    ADMIT_R_RATE_NET, "451", "4.7.1", TEXT_RATE);
		return;
	}
	spf_bad = in->spf_checked && (in->spf == ADMIT_SPF_FAIL ||
	    in->spf == ADMIT_SPF_SOFTFAIL);
	if (loaded && spf_bad) {
		refuse(out, ADMIT_TEMPFAIL, ADMIT_R_SPF_DEFER, "451", "4.7.1",
		    TEXT_SPF_DEFER);
		return;
	}
	if (open) {
		let_in(out, in->known ? ADMIT_R_CALM : ADMIT_R_BLIND);
		return;
	}
	if (in->hold) {
		hold(out, held_why(in, loaded));
		return;
	}

	/* action = tempfail: what does not get in waits at the sender */
	if (in->critical) {
		refuse(out, ADMIT_TEMPFAIL, ADMIT_R_CRITICAL, "451", "4.3.2",
		    TEXT_CRITICAL);
		return;
	}
	if (out->urgency >= cutoff && (in->received_known || cutoff <= 0)) {
		let_in(out, ADMIT_R_URGENCY);
		return;
	}
	if (trickle_due(in)) {
		let_in(out, ADMIT_R_TRICKLE);
		return;
	}
	refuse(out, ADMIT_TEMPFAIL, ADMIT_R_LOADED, "451", "4.7.1",
	    in->pressure < 1 ? TEXT_LOADED : TEXT_STOPPED);
}

void
admit_gate_set(struct bucket *gate, double rate, double now)
{
	double	 burst;

	if (!isfinite(rate) || rate < 0)
		rate = 0;
	burst = MAXIMUM(ADMIT_GATE_BURST, rate);
	if (gate->burst < 1)		/* new: starts full */
		bucket_init(gate, rate, burst, now);
	else
		bucket_set_rate(gate, rate, burst, now);
}

int
admit_gate_shut(const struct bucket *gate, double now)
{
	return bucket_tokens(gate, now) == 0;
}

void
admit_gate_take(struct bucket *gate, double now)
{
	(void)bucket_take(gate, 1, now);
}
