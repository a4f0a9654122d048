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
#define TEXT_SPF_DEFER	"this host is recovering from a backlog and " \
			"takes mail that passes SPF first; please try " \
			"again later"

static const char *const reason_names[ADMIT_R_COUNT] = {
	"pass", "calm", "blind", "urgency", "urgent", "trickle", "critical",
	"loaded", "rate_ip", "rate_net", "spf_fail", "spf_temperror",
	"spf_defer"
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

/* let_in - accept (into hold when asked and the host is full) */
static void
let_in(const struct admit_input *in, struct admit_decision *out,
    enum admit_reason reason)
{
	if (in->stage == ADMIT_AT_MAIL) {
		out->verdict = ADMIT_CONTINUE;
		out->reason = ADMIT_R_PASS;
		return;
	}
	out->reason = reason;
	out->verdict = in->hold && !(in->pressure < 1) ? ADMIT_HOLD :
	    ADMIT_ACCEPT;
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

void
admit_decide(const struct admit_input *in, struct admit_decision *out)
{
	double	 cutoff = in->cutoff;
	int	 loaded, spf_bad;

	memset(out, 0, sizeof(*out));
	if (isnan(cutoff) || cutoff > 1)
		cutoff = 1;
	else if (cutoff < 0)
		cutoff = 0;
	loaded = !(in->pressure < in->target_low);
	if (in->stage == ADMIT_AT_EOH)
		estimate(in, out);

	if (in->critical) {
		refuse(out, ADMIT_TEMPFAIL, ADMIT_R_CRITICAL, "451", "4.3.2",
		    TEXT_CRITICAL);
		return;
	}
	if (in->stage == ADMIT_AT_MAIL && in->bucket != ADMIT_BUCKET_OK) {
		refuse(out, ADMIT_TEMPFAIL,
		    in->bucket == ADMIT_BUCKET_IP_EMPTY ? ADMIT_R_RATE_IP :
		    ADMIT_R_RATE_NET, "451", "4.7.1", TEXT_RATE);
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
	spf_bad = in->spf_checked && (in->spf == ADMIT_SPF_FAIL ||
	    in->spf == ADMIT_SPF_SOFTFAIL);
	if (loaded && spf_bad) {
		refuse(out, ADMIT_TEMPFAIL, ADMIT_R_SPF_DEFER, "451", "4.7.1",
		    TEXT_SPF_DEFER);
		return;
	}
	if (!loaded) {
		let_in(in, out, in->known ? ADMIT_R_CALM : ADMIT_R_BLIND);
		return;
	}
	if (in->stage == ADMIT_AT_MAIL) {	/* the headers will tell */
		let_in(in, out, ADMIT_R_PASS);
		return;
	}

	if (out->urgency >= cutoff && (in->received_known || cutoff <= 0)) {
		let_in(in, out, ADMIT_R_URGENCY);
		return;
	}
	if (in->received_known &&
	    difftime(out->deadline, in->now) <= (double)in->urgent) {
		let_in(in, out, ADMIT_R_URGENT);
		return;
	}
	if (trickle_due(in)) {
		let_in(in, out, ADMIT_R_TRICKLE);
		return;
	}
	refuse(out, ADMIT_TEMPFAIL, ADMIT_R_LOADED, "451", "4.7.1",
	    in->pressure < 1 ? TEXT_LOADED : TEXT_STOPPED);
}
