/*
 * parent_milter.c - the parent feeds the child's milter and hears back
 *
 * Each tick the parent sends the child the budget (PRIV_BUDGET); the
 * child answers with the milter's counters (PRIV_MILTER_STATS), kept here
 * for the status, and tells of each message the milter put in hold
 * (PRIV_MILTER_HOLD), which the drain adopts into the ledger as ebb's
 * once the held queue file shows ebb's proof of the hold (drain_adopt:
 * a notice alone proves nothing, anyone can reach the milter socket).
 * Both notices are checked like every request (priv_proto.h) and never
 * answered. A held message is adopted only once it is in the hold queue
 * (the MTA puts it there just after the milter's answer): until then it
 * waits in a bounded list, tried again each tick, for at most
 * PENDING_WAIT seconds, so no rescan can find a ledger row whose
 * message is not yet in hold and close it. With the milter off the child
 * sends none, a notice is refused, and the status has "milter": null.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ebb/admit.h"
#include "ebb/config.h"
#include "ebb/drain.h"
#include "ebb/governor.h"
#include "ebb/log.h"
#include "ebb/milter.h"
#include "ebb/msg.h"
#include "ebb/pace.h"
#include "ebb/util.h"
#include "ebbd.h"
#include "parent.h"
#include "parent_milter.h"
#include "priv_proto.h"

#define PENDING_MAX	10000	/* holds not yet in the hold queue */
#define PENDING_WAIT	120	/* seconds before one is given up */

struct pending {
	char	 id[MSG_QUEUE_ID_MAX];
	time_t	 deadline;
	time_t	 since;
};

static struct milter_counters stats;
static int	 have_stats;
static struct pending *pending;
static size_t	 npending;

/*
 * adopt - record a held message on its proof; 1: not in hold yet, try
 * later; 2: refused, no proof (drain_adopt logged it)
 */
static int
adopt(struct parent *p, const char *id, time_t deadline)
{
	char	*err = NULL;
	int	 rc;

	if ((rc = drain_adopt(p->drain, id, deadline, time(NULL),
	    &err)) == -1) {
		log_msg(LOG_WARNING, id, "milter: hold not recorded: %s",
		    err);
		free(err);
	}
	return rc;
}

/* retry_pending - adopt what reached hold; give up on the old ones */
static void
retry_pending(struct parent *p)
{
	time_t	 now = time(NULL);
	size_t	 i, kept = 0;

	for (i = 0; i < npending; i++) {
		if (adopt(p, pending[i].id, pending[i].deadline) != 1)
			continue;
		if (now - pending[i].since > PENDING_WAIT) {
			log_msg(LOG_WARNING, pending[i].id, "milter: held, "
			    "but not in the hold queue after %ds: not "
			    "recorded", PENDING_WAIT);
			continue;
		}
		pending[kept++] = pending[i];
	}
	npending = kept;
}

void
parent_milter_tick(struct parent *p)
{
	unsigned char	 buf[PRIV_HDR_LEN + 64];
	struct budget	 b;
	size_t		 n;

	struct drain_status st;

	retry_pending(p);
	pace_budget(p->pace, &b);
	/* mail held and not yet released goes before new mail (admit.h) */
	drain_status(p->drain, &st);
	b.parked = (long)MINIMUM(st.parked + npending, (size_t)LONG_MAX);
	if ((n = priv_budget_encode(&b, buf, sizeof(buf))) == 0)
		return;
	/* a full socket (a stuck child) loses a budget, not the parent */
	if (send(p->a->privfd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT) == -1 &&
	    errno != EAGAIN && errno != EPIPE)
		log_debug("milter: budget not sent: %s", strerror(errno));
}

/* straight_in - messages the milter accepted into the queue, not hold */
static long
straight_in(const struct milter_counters *c)
{
	if (c->accepted < c->held)
		return 0;
	return (long)MINIMUM(c->accepted - c->held,
	    (unsigned long long)LONG_MAX);
}

int
parent_milter_notice(struct parent *p, const unsigned char *buf, size_t len)
{
	struct milter_counters got;
	char	 id[MSG_QUEUE_ID_MAX];
	char	*err = NULL;
	time_t	 deadline;

	switch (priv_packet_type(buf, len)) {
	case PRIV_MILTER_HOLD:
		if (priv_hold_decode(buf, len, id, &deadline, &err) == -1) {
			log_warn("milter: a bad hold notice: %s", err);
			free(err);
		} else if (!p->cfg->milter_enable) {
			log_msg(LOG_WARNING, id, "milter: a hold notice with "
			    "the milter off: refused");
		} else if (adopt(p, id, deadline) == 1) {
			if (npending == PENDING_MAX) {
				log_msg(LOG_WARNING, id, "milter: too many "
				    "holds waiting: not recorded");
				return 1;
			}
			if (pending == NULL)
				pending = xreallocarray(NULL, PENDING_MAX,
				    sizeof(*pending));
			ebb_strlcpy(pending[npending].id, id,
			    sizeof(pending[npending].id));
			pending[npending].deadline = deadline;
			pending[npending].since = time(NULL);
			npending++;
		}
		return 1;
	case PRIV_MILTER_STATS:
		if (priv_stats_decode(buf, len, &got, &err) == -1) {
			log_warn("milter: bad counters from the child: %s",
			    err);
			free(err);
			return 1;
		}
		/* what went straight in is given to the host like a release */
		if (have_stats)
			pace_admitted(p->pace, straight_in(&got) -
			    straight_in(&stats));
		stats = got;
		have_stats = 1;
		return 1;
	case PRIV_BUDGET:
		log_warn("milter: the child sent a budget: ignored");
		return 1;
	default:
		return 0;
	}
}

/* counts - an object of name: count for n counters named by name() */
static json_t *
counts(const unsigned long long *c, int n, const char *(*name)(int))
{
	json_t	*o = json_object();
	int	 i;

	for (i = 0; i < n; i++)
		json_object_set_new(o, name(i), json_integer((json_int_t)c[i]));
	return o;
}

static const char *
reason_name(int i)
{
	return admit_reason_name((enum admit_reason)i);
}

static const char *
spf_name(int i)
{
	return admit_spf_name((enum admit_spf)i);
}

int
parent_milter_incoming(long *admitted_r, long *deferred_r)
{
	*admitted_r = *deferred_r = -1;
	if (!have_stats || stats.held > stats.accepted)
		return 0;
	*admitted_r = (long)(stats.accepted - stats.held);
	*deferred_r = (long)(stats.held + stats.tempfailed);
	return 1;
}

json_t *
parent_milter_json(void)
{
	static const long bounds[] = MILTER_LATENCY_BOUNDS;
	json_t	*o, *lat;
	char	 key[32];
	size_t	 i;

	if (!have_stats)
		return json_null();
	o = json_pack("{sIsIsIsIsIsIsIsI}",
	    "connections", (json_int_t)stats.connections,
	    "messages", (json_int_t)stats.messages,
	    "accepted", (json_int_t)stats.accepted,
	    "held", (json_int_t)stats.held,
	    "tempfailed", (json_int_t)stats.tempfailed,
	    "rejected", (json_int_t)stats.rejected,
	    "rate_limited", (json_int_t)stats.rate_limited,
	    "errors", (json_int_t)stats.errors);
	json_object_set_new(o, "reasons", counts(stats.reason, ADMIT_R_COUNT,
	    reason_name));
	json_object_set_new(o, "spf", counts(stats.spf, ADMIT_SPF_COUNT,
	    spf_name));
	/* decision latency: count per upper bound in µs, then "more" */
	lat = json_object();
	for (i = 0; i < MILTER_LATENCY_BUCKETS; i++) {
		if (i < sizeof(bounds) / sizeof(bounds[0]))
			snprintf(key, sizeof(key), "le_%ld", bounds[i]);
		else
			snprintf(key, sizeof(key), "more");
		json_object_set_new(lat, key,
		    json_integer((json_int_t)stats.latency[i]));
	}
	json_object_set_new(o, "latency_us", lat);
	json_object_set_new(o, "latency_sum_us",
	    json_integer((json_int_t)stats.latency_sum_us));
	return o;
}
