/*
 * senders.c - the outage lab's remote senders: their retry schedules and
 * lifetimes, and a backlog spread over them
 *
 * The schedules, on the senders' own clock (REFERENCE.md, "When remote
 * senders give up"; where a sender publishes none, the assumption is
 * marked so):
 *
 *	Postfix		a failed attempt at age a is retried a + clamp(a,
 *			minimal_backoff_time 300 s, maximal_backoff_time
 *			4000 s) later: from a first attempt at 0, 300, 600,
 *			1200, 2400, 4800, then every 4000 s (the age doubles
 *			up to the cap); gives up after maximal_queue_lifetime
 *			5 d. qmgr's 300 s scan grain is left out.
 *	Exim		Debian's retry rule "* * F,2h,15m; G,16h,1h,1.5;
 *			F,4d,6h": every 15 min for 2 h, then intervals of 1 h
 *			growing by 1.5 until 16 h (retries at 2 h x 1.5^k,
 *			so the interval is half the time since the first
 *			failure, at least 1 h), then every 6 h; gives up
 *			4 d after the first failure. Connection failures go
 *			to a retry record per host (struct sender_exim_host):
 *			while the host fails, no message to it is tried
 *			before the host's retry time, and once it has failed
 *			past its cutoff a queue run (every 30 min, Debian's
 *			QUEUEINTERVAL) bounces the mail to it without trying
 *			(delay_after_cutoff, true by default). Assumed: the
 *			host's last retry before the cutoff is at the cutoff
 *			at the latest; an answered session clears the record,
 *			whatever the answer; a 4xx to one message is that
 *			message's own retry (Exim keys it on host + message),
 *			on the same rule from the message's first failure.
 *	Exchange Online	gives up after 24 h. Assumed: a retry every 15 min
 *			(Microsoft documents no schedule for Exchange Online;
 *			15 min sits between Exchange Server's 10 min
 *			TransientFailureRetryInterval and what delay notices
 *			show).
 *	qmail		attempt n (from 0) at (20 n)^2 s after the message was
 *			queued, whenever the last one failed; queuelifetime
 *			7 d.
 *	Gmail		gives up after about 72 h (unverified: the
 *			Will-Retry-Until of its delay notices). Assumed: an
 *			exponential backoff from 10 min, doubling, capped at
 *			2 h: attempts at 0, 600, 1800, 4200, 9000 s, then
 *			every 7200 s.
 *
 * Every schedule is a function of the message's age alone, so a message
 * tried late (its sender's connections were busy) keeps the rhythm.
 *
 * The backlog: senders come back at once when the host does, each with
 * its share of the messages, all of them due at that moment (the issue's
 * lab measured it so: Postfix alone was offered nearly all of them within
 * seconds). Ages are spread over the outage: a message's age is uniform
 * over [0, min(outage, lifetime)) (older mail has bounced already). After
 * an outage longer than a sender's lifetime, its oldest mail sits right at
 * its deadline; to give the lab a measurable share of mail about to
 * bounce, near_share of such messages are placed within near_window of
 * their deadline (default: 30% within 2 h). Without it Postfix alone
 * loses almost nothing and no policy can be told apart from another.
 *
 * Sender weights: sender j's share of the messages is proportional to a
 * weight uniform in [0.25, 1.75], and each message picks its sender by
 * those weights, from a splitmix64 sequence of the seed.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ebb/util.h"
#include "senders.h"

#define EXIM_CUTOFF	(4 * SENDER_DAY)

static const char *const kind_names[SENDER_KIND_COUNT] = {
	[SENDER_POSTFIX] = "postfix",
	[SENDER_EXIM] = "exim",
	[SENDER_EXCHANGE] = "exchange",
	[SENDER_QMAIL] = "qmail",
	[SENDER_GMAIL] = "gmail",
};

static const double lifetimes[SENDER_KIND_COUNT] = {
	[SENDER_POSTFIX] = 5 * SENDER_DAY,
	[SENDER_EXIM] = EXIM_CUTOFF,
	[SENDER_EXCHANGE] = 1 * SENDER_DAY,
	[SENDER_QMAIL] = 7 * SENDER_DAY,
	[SENDER_GMAIL] = 3 * SENDER_DAY,
};

/* the lab's sender mixes, shares in kind order */
static const struct {
	const char	*name;
	double		 mix[SENDER_KIND_COUNT];
} mixes[] = {
	/* postfix exim exchange qmail gmail */
	{ "mixed", { 0.35, 0.25, 0.15, 0.10, 0.15 } },
	{ "cloud", { 0.15, 0.10, 0.40, 0.05, 0.30 } },
};

const char *
sender_kind_name(enum sender_kind k)
{
	return (unsigned)k < SENDER_KIND_COUNT ? kind_names[k] : "unknown";
}

int
sender_kind_lookup(const char *name)
{
	int	 i;

	for (i = 0; i < SENDER_KIND_COUNT; i++)
		if (strcmp(kind_names[i], name) == 0)
			return i;
	return -1;
}

double
sender_lifetime(enum sender_kind k)
{
	return (unsigned)k < SENDER_KIND_COUNT ? lifetimes[k] : 0;
}

double
sender_exim_interval(double since)
{
	if (since < 2 * 3600.0)
		return 15 * 60.0;
	if (since < 16 * 3600.0)
		return MAXIMUM(3600.0, since / 2);
	return 6 * 3600.0;
}

double
sender_next_attempt(enum sender_kind k, double age)
{
	double	 n;

	if (!(age >= 0))
		age = 0;
	switch (k) {
	case SENDER_POSTFIX:
		return age + MAXIMUM(300.0, MINIMUM(age, 4000.0));
	case SENDER_EXIM:
		return age + sender_exim_interval(age);
	case SENDER_EXCHANGE:
		return age + 15 * 60.0;
	case SENDER_QMAIL:
		/* attempt n at (20 n)^2: the first one after age */
		n = floor(sqrt(age) / 20) + 1;
		return 400 * n * n;
	case SENDER_GMAIL:
		/* 10 min doubling: attempts at 600, 1800, 4200, 9000 */
		return age + MINIMUM(age + 600, 7200.0);
	case SENDER_KIND_COUNT:
		break;
	}
	return age + 3600;
}

void
sender_exim_host_fail(struct sender_exim_host *h, double t)
{
	double	 cutoff;

	if (!h->failing) {
		h->failing = 1;
		h->first = t;
	}
	cutoff = h->first + EXIM_CUTOFF;
	h->next = t + sender_exim_interval(t - h->first);
	if (t < cutoff && h->next > cutoff)
		h->next = cutoff;
}

void
sender_exim_host_ok(struct sender_exim_host *h)
{
	memset(h, 0, sizeof(*h));
}

enum sender_exim_action
sender_exim_host_action(const struct sender_exim_host *h, double t,
    int delay_after_cutoff)
{
	if (!h->failing || t >= h->next)
		return SENDER_EXIM_TRY;
	if (delay_after_cutoff && t >= h->first + EXIM_CUTOFF)
		return SENDER_EXIM_BOUNCE;
	return SENDER_EXIM_WAIT;
}

void
lab_senders_params_default(struct lab_senders_params *p)
{
	memset(p, 0, sizeof(*p));
	p->senders = 40;
	p->messages = 2400;
	lab_senders_mix("mixed", p->mix);
	p->outage = 4.5 * SENDER_DAY;
	p->near_share = 0.3;
	p->near_window = 2 * 3600.0;
	p->seed = 1;
}

int
lab_senders_mix(const char *name, double mix_r[SENDER_KIND_COUNT])
{
	size_t	 i;

	for (i = 0; i < nitems(mixes); i++)
		if (strcmp(mixes[i].name, name) == 0) {
			memcpy(mix_r, mixes[i].mix, sizeof(mixes[i].mix));
			return 0;
		}
	return -1;
}

int
lab_senders_params_check(const struct lab_senders_params *p, char **err_r)
{
	double	 sum = 0;
	int	 k;

	if (p->senders < 1 || p->senders > 10000) {
		*err_r = xasprintf("senders %ld is outside 1..10000",
		    p->senders);
		return -1;
	}
	if (p->messages < 1 || p->messages > 1000000) {
		*err_r = xasprintf("messages %ld is outside 1..1000000",
		    p->messages);
		return -1;
	}
	for (k = 0; k < SENDER_KIND_COUNT; k++) {
		if (!(p->mix[k] >= 0 && p->mix[k] <= 1)) {
			*err_r = xasprintf("mix: %s's share %g is outside "
			    "0..1", kind_names[k], p->mix[k]);
			return -1;
		}
		sum += p->mix[k];
	}
	if (fabs(sum - 1) > 1e-6) {
		*err_r = xasprintf("mix: the shares add up to %g, not 1", sum);
		return -1;
	}
	if (!(p->outage >= 3600 && p->outage <= 30 * SENDER_DAY)) {
		*err_r = xasprintf("outage %g s is outside 3600..%g",
		    p->outage, 30 * SENDER_DAY);
		return -1;
	}
	if (!(p->near_share >= 0 && p->near_share <= 1)) {
		*err_r = xasprintf("near_share %g is outside 0..1",
		    p->near_share);
		return -1;
	}
	if (!(p->near_window > 0 && p->near_window <= SENDER_DAY)) {
		*err_r = xasprintf("near_window %g s is outside 0..%g",
		    p->near_window, SENDER_DAY);
		return -1;
	}
	return 0;
}

/* splitmix64 - the next number of a seeded 64-bit sequence */
static uint64_t
splitmix64(uint64_t *state)
{
	uint64_t	 z = (*state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* uniform - the next number of the sequence in [0, 1) */
static double
uniform(uint64_t *state)
{
	return (double)(splitmix64(state) >> 11) * 0x1.0p-53;
}

/* kind_of - the kind of sender j of n: the mix's shares, in order */
static enum sender_kind
kind_of(const double *mix, long j, long n)
{
	double	 cum = 0, x = ((double)j + 0.5) / (double)n;
	int	 k;

	for (k = 0; k < SENDER_KIND_COUNT; k++) {
		cum += mix[k];
		if (x < cum)
			return (enum sender_kind)k;
	}
	for (k = SENDER_KIND_COUNT - 1; k > 0 && mix[k] <= 0; k--)
		;
	return (enum sender_kind)k;
}

void
lab_senders_draw(const struct lab_senders_params *p,
    struct lab_sender **senders_r, struct lab_sender_msg **msgs_r)
{
	struct lab_sender *s;
	struct lab_sender_msg *m;
	uint64_t	 state = p->seed;
	double		*cum, total = 0, u, life, span;
	long		 j, i, lo, hi, mid;

	s = xcalloc((size_t)p->senders, sizeof(*s));
	m = xcalloc((size_t)p->messages, sizeof(*m));
	cum = xreallocarray(NULL, (size_t)p->senders, sizeof(*cum));
	for (j = 0; j < p->senders; j++) {
		s[j].kind = kind_of(p->mix, j, p->senders);
		switch (s[j].kind) {
		case SENDER_GMAIL:
			ebb_strlcpy(s[j].domain, "gmail.com",
			    sizeof(s[j].domain));
			break;
		case SENDER_EXCHANGE:
			if (j % 2 == 0) {
				ebb_strlcpy(s[j].domain, "outlook.com",
				    sizeof(s[j].domain));
				break;
			}
			/* FALLTHROUGH */
		default:
			snprintf(s[j].domain, sizeof(s[j].domain),
			    "%s%ld.example", kind_names[s[j].kind], j);
			break;
		}
		total += 0.25 + 1.5 * uniform(&state);
		cum[j] = total;
	}
	for (i = 0; i < p->messages; i++) {
		u = uniform(&state) * total;
		for (lo = 0, hi = p->senders - 1; lo < hi;) {
			mid = (lo + hi) / 2;
			if (cum[mid] > u)
				hi = mid;
			else
				lo = mid + 1;
		}
		m[i].sender = (size_t)lo;
		s[lo].messages++;
		life = lifetimes[s[lo].kind];
		span = MINIMUM(p->outage, life);
		u = uniform(&state);
		if (life < p->outage && uniform(&state) < p->near_share)
			m[i].left = MAXIMUM(u * p->near_window, 1.0);
		else
			m[i].left = life - u * span;
		m[i].age = life - m[i].left;
	}
	free(cum);
	*senders_r = s;
	*msgs_r = m;
}
