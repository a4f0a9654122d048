/*
 * milter.c - the libmilter glue of ebb's admission at SMTP time
 *
 * Thin on purpose: the callbacks gather what admit_decide() (admit.c)
 * needs, from the MTA (client address, MAIL FROM and its SIZE=, the
 * Received: headers, the queue id macro "i"), from the host (the budget,
 * through struct milter_env) and from the per-client table
 * (client_limit.c), and apply its answer. Only the steps that are used are
 * negotiated: no RCPT, DATA, body or unknown commands, no reply per header.
 *
 * Everything from the MTA is bounded before use: the sender and HELO are
 * cut to fixed buffers, at most MILTER_RECEIVED_KEEP Received: headers are
 * kept and only the last MILTER_RECEIVED_TAIL bytes of each (the date is at
 * the end). A callback never exits: running out of memory or any other
 * internal error tempfails the message with one log line.
 *
 * SPF ([milter] spf, milter_spf.h): checked at MAIL FROM with the HELO
 * name and the client address, fed to admit_decide (enforce: fail is
 * rejected, temperror tempfailed); in header and enforce modes a message
 * that gets in carries Received-SPF and Authentication-Results, added at
 * the end of the message.
 *
 * A message put in hold carries ebb's proof of the hold, an X-Ebb-Parked
 * header (proof.h) under the key the host gives (env->key): the drain
 * believes the hold notice, or finds a hold whose notice was lost, only
 * by it. No proof can be made (no queue id, the MTA refuses the header):
 * the message is tempfailed, never held unproven.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netdb.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "ebb/admit.h"
#include "ebb/client_limit.h"
#include "ebb/config.h"
#include "ebb/config_table.h"
#include "ebb/deadline.h"
#include "ebb/governor.h"
#include "ebb/log.h"
#include "ebb/milter.h"
#include "ebb/proof.h"
#include "ebb/util.h"
#include "milter_spf.h"

#define MILTER_NAME		"ebb"
#define MILTER_RECEIVED_KEEP	REMOTE_RECEIVED_MAX
#define MILTER_RECEIVED_TAIL	1024	/* bytes kept per Received: */
#define MILTER_ADDR_MAX		256	/* sender address kept */
#define MILTER_CLIENT_SLOTS	65536
#define MILTER_SAVE_EVERY	60	/* seconds between state saves */
#define MILTER_SKEW		900	/* seconds a date may be ahead */
#define MILTER_QID_MAX		64
#define MILTER_HELO_MAX		256	/* HELO name kept */

/* one message, from MAIL FROM to its end */
struct msg {
	char		 sender[MILTER_ADDR_MAX];	/* without <> */
	const char	*domain;			/* in sender; "" */
	int		 null_sender;
	long long	 size;
	enum admit_spf	 spf;
	enum admit_bucket bucket;	/* as found at MAIL FROM */
	struct received_value received[MILTER_RECEIVED_KEEP];
	size_t		 nkept;
	size_t		 nreceived;	/* all seen, saturating */
	int		 hold;			/* quarantine at EOM */
	time_t		 deadline;
	int		 spf_headers;		/* add them at EOM */
};

/* one SMTP connection */
struct conn {
	struct client_addr addr;
	char		 ip[64];
	char		 helo[MILTER_HELO_MAX];
	int		 no_reply_hdr;	/* SMFIP_NR_HDR negotiated */
	int		 no_reply_conn;	/* SMFIP_NR_CONN and _HELO */
	struct msg	*msg;
};

static struct {
	const struct config	*cfg;
	struct milter_env	 env;
	struct lifetimes	*lifetimes;
	char			*state_path;
	pthread_t		 thread;
	int			 running;
	int			 stopping;	/* smfi_stop asked */
	struct SPF_server_struct *spf;	/* one per process; NULL: off */
	int			 spf_own;	/* ours to free */

	pthread_mutex_t		 lock;	/* clients, saved, gate */
	struct client_limit	*clients;
	struct bucket		 gate;	/* straight in: admit.h */
	time_t			 saved;

	pthread_mutex_t		 stats_lock;
	struct milter_counters	 stats;
} m = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.stats_lock = PTHREAD_MUTEX_INITIALIZER,
};

static const long latency_bounds[] = MILTER_LATENCY_BOUNDS;

/* now_us - a monotonic clock in microseconds, for the latency histogram */
static int64_t
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* count - add a decision to the counters */
static void
count(const struct admit_decision *d, int64_t started)
{
	int64_t	 us = now_us() - started;
	size_t	 i;

	pthread_mutex_lock(&m.stats_lock);
	m.stats.reason[d->reason]++;
	switch (d->verdict) {
	case ADMIT_HOLD:
		m.stats.held++;
		/* FALLTHROUGH */
	case ADMIT_ACCEPT:
		m.stats.accepted++;
		break;
	case ADMIT_TEMPFAIL:
		m.stats.tempfailed++;
		break;
	case ADMIT_REJECT:
		m.stats.rejected++;
		break;
	case ADMIT_CONTINUE:
		break;
	}
	if (d->reason == ADMIT_R_RATE_IP || d->reason == ADMIT_R_RATE_NET)
		m.stats.rate_limited++;
	for (i = 0; i < nitems(latency_bounds); i++)
		if (us <= latency_bounds[i])
			break;
	m.stats.latency[i]++;
	m.stats.latency_sum_us += (unsigned long long)us;
	pthread_mutex_unlock(&m.stats_lock);
}

/* stat_inc - one more of a plain counter */
static void
stat_inc(unsigned long long *c)
{
	pthread_mutex_lock(&m.stats_lock);
	(*c)++;
	pthread_mutex_unlock(&m.stats_lock);
}

/* queue_id - the MTA's queue id macro, or NULL (NOQUEUE) */
static const char *
queue_id(SMFICTX *ctx)
{
	const char *id = smfi_getsymval(ctx, "i");

	if (id == NULL || strlen(id) >= MILTER_QID_MAX ||
	    !ebb_queue_id_valid(id))
		return NULL;
	return id;
}

/* internal_error - one log line, a tempfail */
static sfsistat
internal_error(SMFICTX *ctx, const char *what)
{
	stat_inc(&m.stats.errors);
	log_msg(LOG_ERR, queue_id(ctx), "milter error=\"%s\" action=tempfail",
	    what);
	smfi_setreply(ctx, "451", "4.3.0", "temporary local problem, "
	    "please try again later");
	return SMFIS_TEMPFAIL;
}

/* msg_free - free a message's state */
static void
msg_free(struct msg **mp)
{
	size_t	 i;

	if (*mp == NULL)
		return;
	for (i = 0; i < (*mp)->nkept; i++)
		free((void *)(*mp)->received[i].value);
	free(*mp);
	*mp = NULL;
}

/* conn_get - the connection's state, made on first use; NULL: no memory */
static struct conn *
conn_get(SMFICTX *ctx)
{
	struct conn	*c = smfi_getpriv(ctx);

	if (c != NULL)
		return c;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	ebb_strlcpy(c->ip, "unknown", sizeof(c->ip));
	if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
		free(c);
		return NULL;
	}
	return c;
}

/*
 * input_base - the parts of an admit input every stage has; *rate_r (when
 * not NULL) is the governor's rate, for the gate
 */
static void
input_base(struct admit_input *in, enum admit_stage stage, double *rate_r)
{
	const struct config *cfg = m.cfg;
	struct budget	 b;

	memset(&b, 0, sizeof(b));
	m.env.budget(m.env.arg, &b);
	memset(in, 0, sizeof(*in));
	in->stage = stage;
	in->now = time(NULL);
	in->pressure = b.pressure;
	in->cutoff = b.cutoff;
	in->critical = b.critical;
	in->known = b.known;
	in->target_low = cfg->target_low;
	in->full = b.full;
	in->backlog = b.parked > 0;
	if (rate_r != NULL)
		*rate_r = b.admit_rate;
	in->hold = cfg->milter_action == CONFIG_MILTER_HOLD;
	in->spf_checked = cfg->spf != CONFIG_SPF_OFF;
	in->spf_enforce = cfg->spf == CONFIG_SPF_ENFORCE;
	in->urgent = cfg->urgent;
	in->trickle = cfg->trickle;
	in->size = -1;
}

/* refuse - hand a refusal to the MTA */
static sfsistat
refuse(SMFICTX *ctx, const struct admit_decision *d)
{
	if (smfi_setreply(ctx, (char *)d->rcode, (char *)d->xcode,
	    (char *)d->text) != MI_SUCCESS)
		log_warn("milter: smfi_setreply %s %s failed", d->rcode,
		    d->xcode);
	return d->verdict == ADMIT_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

static sfsistat
ebb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long	 want_steps;
	struct conn	*c;

	(void)f2;
	(void)f3;
	if ((c = conn_get(ctx)) == NULL)
		return SMFIS_TEMPFAIL;
	*pf0 = 0;
	if (m.cfg->milter_action == CONFIG_MILTER_HOLD)
		*pf0 |= SMFIF_QUARANTINE | SMFIF_ADDHDRS;	/* the proof */
	if (m.spf != NULL)
		*pf0 |= SMFIF_ADDHDRS;
	*pf0 &= f0;
	want_steps = SMFIP_NORCPT | SMFIP_NOBODY | SMFIP_NOUNKNOWN |
	    SMFIP_NODATA | SMFIP_NR_HDR | SMFIP_NR_CONN | SMFIP_NR_HELO;
	if (m.cfg->spf == CONFIG_SPF_OFF)
		want_steps |= SMFIP_NOHELO;
	*pf1 = want_steps & f1;
	c->no_reply_hdr = (*pf1 & SMFIP_NR_HDR) != 0;
	/* one round trip less per session; both or neither */
	if ((*pf1 & (SMFIP_NR_CONN | SMFIP_NR_HELO)) !=
	    (SMFIP_NR_CONN | SMFIP_NR_HELO))
		*pf1 &= ~(unsigned long)(SMFIP_NR_CONN | SMFIP_NR_HELO);
	c->no_reply_conn = (*pf1 & SMFIP_NR_CONN) != 0;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat
ebb_connect(SMFICTX *ctx, char *hostname, struct sockaddr *hostaddr)
{
	struct conn	*c;

	(void)hostname;
	if ((c = conn_get(ctx)) == NULL)
		return internal_error(ctx, "out of memory");
	stat_inc(&m.stats.connections);
	if (client_addr_from_sockaddr(hostaddr, &c->addr) == 0)
		inet_ntop(c->addr.family, c->addr.a, c->ip, sizeof(c->ip));
	else
		ebb_strlcpy(c->ip, "local", sizeof(c->ip));
	return c->no_reply_conn ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
ebb_helo(SMFICTX *ctx, char *helohost)
{
	struct conn	*c = smfi_getpriv(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	if (helohost != NULL)
		ebb_strlcpy(c->helo, helohost, sizeof(c->helo));
	return c->no_reply_conn ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* spf_close - free the SPF server if it is ours, and forget it */
static void
spf_close(void)
{
	if (m.spf_own)
		milter_spf_close(m.spf);
	m.spf = NULL;
	m.spf_own = 0;
}

/* spf_check - the message's SPF result, counted; unchecked when off */
static enum admit_spf
spf_check(struct conn *c, struct msg *g)
{
	enum admit_spf	 r;

	if (m.spf == NULL)
		return ADMIT_SPF_UNCHECKED;
	r = milter_spf_check(m.spf, c->ip, g->sender, c->helo);
	stat_inc(&m.stats.spf[r]);
	return r;
}

/* parse_sender - MAIL FROM's address without <>, bounded, and SIZE= */
static void
parse_sender(struct msg *g, char **argv)
{
	const char	*a = argv[0];
	size_t		 len = 0, i;
	char		*at, *end;
	long long	 size;

	if (a != NULL)
		len = strnlen(a, MILTER_ADDR_MAX * 4);
	else
		a = "";		/* after strnlen: gcc 12 warns on a "" source */

	if (len > 0 && a[0] == '<') {
		a++;
		len--;
	}
	if (len > 0 && a[len - 1] == '>')
		len--;
	if (len >= sizeof(g->sender))
		len = sizeof(g->sender) - 1;
	memcpy(g->sender, a, len);
	g->sender[len] = '\0';
	g->null_sender = g->sender[0] == '\0';
	at = strrchr(g->sender, '@');
	g->domain = at != NULL ? at + 1 : "";
	g->size = -1;
	for (i = 1; argv[0] != NULL && argv[i] != NULL && i < 32; i++) {
		if (strncasecmp(argv[i], "SIZE=", 5) != 0)
			continue;
		errno = 0;
		size = strtoll(argv[i] + 5, &end, 10);
		if (errno == 0 && *end == '\0' && size >= 0)
			g->size = size;
	}
}

static sfsistat
ebb_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn		*c = smfi_getpriv(ctx);
	struct admit_input	 in;
	struct admit_decision	 d;
	int64_t			 started;

	if (c == NULL)
		return internal_error(ctx, "no connection state");
	msg_free(&c->msg);
	if ((c->msg = calloc(1, sizeof(*c->msg))) == NULL)
		return internal_error(ctx, "out of memory");
	stat_inc(&m.stats.messages);
	parse_sender(c->msg, argv);

	input_base(&in, ADMIT_AT_MAIL, NULL);
	in.null_sender = c->msg->null_sender;
	in.size = c->msg->size;
	/*
	 * The client's buckets are looked at here and judged at the end of
	 * the headers, where mail close to its deadline gets in whatever
	 * they say. SPF costs DNS: not for mail a full host turns away, nor
	 * for a client over its limits (its mail waits unless urgent).
	 */
	pthread_mutex_lock(&m.lock);
	c->msg->bucket = client_limit_check(m.clients, &c->addr, in.now,
	    &in.client_since);
	pthread_mutex_unlock(&m.lock);
	c->msg->spf = in.full != ADMIT_FULL_NONE ||
	    c->msg->bucket != ADMIT_BUCKET_OK ? ADMIT_SPF_UNCHECKED :
	    spf_check(c, c->msg);
	in.spf = c->msg->spf;
	in.bucket = c->msg->bucket;
	started = now_us();
	admit_decide(&in, &d);
	count(&d, started);
	if (d.verdict == ADMIT_CONTINUE) {
		if (in.bucket == ADMIT_BUCKET_OK) {
			pthread_mutex_lock(&m.lock);
			client_limit_take(m.clients, &c->addr, in.now);
			pthread_mutex_unlock(&m.lock);
		}
		return SMFIS_CONTINUE;
	}
	log_msg(LOG_INFO, queue_id(ctx), "%s stage=mail reason=%s client=%s "
	    "from=<%s> p=%.2f", admit_verdict_name(d.verdict),
	    admit_reason_name(d.reason), c->ip, c->msg->sender, in.pressure);
	msg_free(&c->msg);
	return refuse(ctx, &d);
}

static sfsistat
ebb_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn	*c = smfi_getpriv(ctx);
	struct msg	*g;
	size_t		 len;
	char		*copy;

	if (c == NULL || (g = c->msg) == NULL)
		return internal_error(ctx, "no message state");
	if (name == NULL || value == NULL || strcasecmp(name, "Received") != 0)
		goto done;
	if (g->nreceived < SIZE_MAX)
		g->nreceived++;
	if (g->nkept == MILTER_RECEIVED_KEEP)
		goto done;
	len = strlen(value);
	if (len > MILTER_RECEIVED_TAIL) {
		value += len - MILTER_RECEIVED_TAIL;
		len = MILTER_RECEIVED_TAIL;
	}
	if ((copy = malloc(len + 1)) == NULL)
		return internal_error(ctx, "out of memory");
	memcpy(copy, value, len + 1);
	g->received[g->nkept].value = copy;
	g->received[g->nkept].len = len;
	g->nkept++;
done:
	return c->no_reply_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
ebb_eoh(SMFICTX *ctx)
{
	struct conn		*c = smfi_getpriv(ctx);
	struct msg		*g;
	struct admit_input	 in;
	struct admit_decision	 d;
	struct remote_estimate	 est;
	int64_t			 started = now_us();
	double			 rate, mono;
	int			 loglevel;

	if (c == NULL || (g = c->msg) == NULL)
		return internal_error(ctx, "no message state");
	input_base(&in, ADMIT_AT_EOH, &rate);
	in.lifetime = lifetimes_lookup(m.lifetimes, g->domain,
	    m.cfg->remote_lifetime);
	remote_deadline_estimate(g->received, g->nkept, in.now, MILTER_SKEW,
	    in.lifetime, in.lifetime, &est);
	in.received_known = est.known;
	in.first_queued = est.first_queued;
	in.null_sender = g->null_sender;
	in.size = g->size;
	in.spf = g->spf;
	in.bucket = g->bucket;
	mono = ebb_now_mono();
	pthread_mutex_lock(&m.lock);
	client_limit_check(m.clients, &c->addr, in.now, &in.client_since);
	admit_gate_set(&m.gate, rate, mono);
	in.surge = admit_gate_shut(&m.gate, mono);
	admit_decide(&in, &d);
	if (d.verdict == ADMIT_ACCEPT || d.verdict == ADMIT_HOLD)
		client_limit_accepted(m.clients, &c->addr, in.now);
	if (d.verdict == ADMIT_ACCEPT)
		admit_gate_take(&m.gate, mono);
	pthread_mutex_unlock(&m.lock);
	count(&d, started);

	loglevel = d.reason == ADMIT_R_CALM || d.reason == ADMIT_R_BLIND ?
	    LOG_DEBUG : LOG_INFO;
	if (loglevel == LOG_INFO || log_verbose())
		log_msg(loglevel, queue_id(ctx), "%s stage=eoh reason=%s "
		    "client=%s from=<%s> p=%.2f cutoff=%.2f urgency=%.2f "
		    "received=%zu dated=%s", admit_verdict_name(d.verdict),
		    admit_reason_name(d.reason), c->ip, g->sender,
		    in.pressure, in.cutoff, d.urgency, g->nreceived,
		    est.known ? "yes" : "no");
	switch (d.verdict) {
	case ADMIT_HOLD:
		g->hold = 1;
		g->deadline = d.deadline;
		return SMFIS_CONTINUE;		/* quarantine at EOM */
	case ADMIT_ACCEPT:
	case ADMIT_CONTINUE:
		if (g->spf != ADMIT_SPF_UNCHECKED) {
			g->spf_headers = 1;
			return SMFIS_CONTINUE;	/* the headers at EOM */
		}
		msg_free(&c->msg);
		return SMFIS_ACCEPT;
	case ADMIT_TEMPFAIL:
	case ADMIT_REJECT:
		break;
	}
	msg_free(&c->msg);
	return refuse(ctx, &d);
}

/* spf_headers - Received-SPF and Authentication-Results, on top */
static int
spf_headers(SMFICTX *ctx, const struct conn *c, const struct msg *g)
{
	char	 rcv[MILTER_SPF_HDR_MAX], ar[MILTER_SPF_HDR_MAX];

	milter_spf_headers(g->spf, smfi_getsymval(ctx, "j"), c->ip,
	    g->sender, c->helo, rcv, ar);
	if (smfi_insheader(ctx, 0, "Authentication-Results", ar) !=
	    MI_SUCCESS ||
	    smfi_insheader(ctx, 0, "Received-SPF", rcv) != MI_SUCCESS)
		return -1;
	return 0;
}

/*
 * hold_proof - add ebb's proof of the hold (proof.h) to the message about
 * to be held: 0, or -1 when it cannot be made or added (the caller then
 * tempfails: a hold without it would be taken for the administrator's).
 * No key (a test host): nothing added.
 */
static int
hold_proof(SMFICTX *ctx, const char *id)
{
	char	 value[PROOF_VALUE_MAX];

	if (m.env.key == NULL)
		return 0;
	if (id == NULL || proof_value(m.env.key, id, time(NULL), value,
	    sizeof(value)) == -1)
		return -1;
	return smfi_addheader(ctx, PROOF_HEADER, value) == MI_SUCCESS ? 0 : -1;
}

static sfsistat
ebb_eom(SMFICTX *ctx)
{
	struct conn	*c = smfi_getpriv(ctx);
	struct msg	*g;
	const char	*id = queue_id(ctx);

	if (c == NULL || (g = c->msg) == NULL)
		return SMFIS_ACCEPT;
	if (g->spf != ADMIT_SPF_UNCHECKED && spf_headers(ctx, c, g) == -1) {
		msg_free(&c->msg);
		return internal_error(ctx, "smfi_insheader failed");
	}
	if (g->hold && id == NULL) {
		/* held mail nobody can name would be stranded: let it in */
		log_msg(LOG_WARNING, NULL, "no queue id at the end of the "
		    "message: accepted, not held client=%s from=<%s>", c->ip,
		    g->sender);
		g->hold = 0;
	}
	if (g->hold) {
		if (hold_proof(ctx, id) == -1) {
			msg_free(&c->msg);
			return internal_error(ctx, "the proof of a hold "
			    "could not be added");
		}
		if (smfi_quarantine(ctx, "ebb: recovering from a backlog") !=
		    MI_SUCCESS) {
			msg_free(&c->msg);
			return internal_error(ctx, "smfi_quarantine failed");
		}
		log_msg(LOG_INFO, id, "held client=%s from=<%s> deadline=%lld",
		    c->ip, g->sender, (long long)g->deadline);
		if (m.env.hold != NULL)
			m.env.hold(m.env.arg, id, g->deadline);
	}
	msg_free(&c->msg);
	return SMFIS_ACCEPT;
}

static sfsistat
ebb_abort(SMFICTX *ctx)
{
	struct conn	*c = smfi_getpriv(ctx);

	if (c != NULL)
		msg_free(&c->msg);
	return SMFIS_CONTINUE;
}

static sfsistat
ebb_close(SMFICTX *ctx)
{
	struct conn	*c = smfi_getpriv(ctx);

	if (c != NULL) {
		msg_free(&c->msg);
		free(c);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

static struct smfiDesc ebb_desc = {
	.xxfi_name = MILTER_NAME,
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_NONE,
	.xxfi_connect = ebb_connect,
	.xxfi_helo = ebb_helo,
	.xxfi_envfrom = ebb_envfrom,
	.xxfi_header = ebb_header,
	.xxfi_eoh = ebb_eoh,
	.xxfi_eom = ebb_eom,
	.xxfi_abort = ebb_abort,
	.xxfi_close = ebb_close,
	.xxfi_negotiate = ebb_negotiate,
};

/* save - write the per-client state; call with m.lock held */
static void
save(time_t now)
{
	char	*err = NULL;

	m.saved = now;
	if (client_limit_save(m.clients, m.state_path, &err) == -1) {
		log_warn("milter: client state not saved: %s", err);
		free(err);
	}
}

void
milter_flush(void)
{
	time_t	 now = time(NULL);

	pthread_mutex_lock(&m.lock);
	if (m.clients != NULL && (now - m.saved >= MILTER_SAVE_EVERY ||
	    now < m.saved))
		save(now);
	pthread_mutex_unlock(&m.lock);
}

void
milter_counters(struct milter_counters *r)
{
	pthread_mutex_lock(&m.stats_lock);
	*r = m.stats;
	pthread_mutex_unlock(&m.stats_lock);
}

/* milter_thread - smfi_main, then tell the host */
static void *
milter_thread(void *arg)
{
	int	 rc;

	(void)arg;
	rc = smfi_main();
	if (rc != MI_SUCCESS)
		log_err("milter: smfi_main failed");
	if (m.env.stopped != NULL)
		m.env.stopped(m.env.arg);
	return NULL;
}

/* signals_blocked - HUP, TERM and INT are blocked in this thread */
static int
signals_blocked(void)
{
	sigset_t	 set;

	if (pthread_sigmask(SIG_BLOCK, NULL, &set) != 0)
		return 0;
	return sigismember(&set, SIGHUP) == 1 &&
	    sigismember(&set, SIGTERM) == 1 && sigismember(&set, SIGINT) == 1;
}

/*
 * bind_error - why libmilter could not listen on spec: it says so only
 * to syslog, so bind the same address here and name the errno (address
 * in use, no permission, no such address, no such directory...)
 */
static char *
bind_error(const char *spec)
{
	struct config_milter_socket ms;
	struct sockaddr_un sun;
	struct addrinfo	 hints, *res = NULL;
	struct stat	 sb;
	char		 port[8], *why = NULL;
	int		 fd, rc, on = 1, err = 0;

	if (config_milter_socket_parse(spec, &ms, &why) == -1)
		return why;
	if (ms.family == AF_UNIX) {
		if (lstat(ms.path, &sb) == 0 && !S_ISSOCK(sb.st_mode))
			return xasprintf("%s exists and is not a socket",
			    ms.path);
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		ebb_strlcpy(sun.sun_path, ms.path, sizeof(sun.sun_path));
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
		    -1)
			return xstrdup(strerror(errno));
		if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
			err = errno;
		else
			unlink(ms.path);
		close(fd);
	} else {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = ms.family;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
		snprintf(port, sizeof(port), "%u", ms.port);
		if ((rc = getaddrinfo(ms.host[0] != '\0' ? ms.host : NULL,
		    port, &hints, &res)) != 0)
			return xasprintf("%s: %s", ms.host, gai_strerror(rc));
		if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) == -1) {
			freeaddrinfo(res);
			return xstrdup(strerror(errno));
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (bind(fd, res->ai_addr, res->ai_addrlen) == -1)
			err = errno;
		close(fd);
		freeaddrinfo(res);
	}
	if (err != 0)
		return xstrdup(strerror(err));
	return xstrdup("libmilter refused it (see its lines in the mail log)");
}

/* clients_open - the per-client table, loaded from the state directory */
static void
clients_open(const struct config *cfg)
{
	struct client_limit_params p;
	char	*err = NULL, *dir;

	memset(&p, 0, sizeof(p));
	p.ip_rate = cfg->client_rate;
	p.ip_burst = (double)cfg->client_burst;
	p.net_rate = cfg->net_rate;
	p.net_burst = (double)cfg->net_burst;
	p.slots = MILTER_CLIENT_SLOTS;
	p.seed = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16);
	m.clients = client_limit_new(&p);
	/*
	 * a directory of its own, which ebbd makes for the unprivileged
	 * user: the state directory itself (the ledger) stays root's
	 */
	dir = xasprintf("%s/%s", cfg->state_directory, CLIENT_LIMIT_DIR);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		log_warn("milter: cannot create %s: %s", dir,
		    strerror(errno));
	m.state_path = xasprintf("%s/%s", dir, CLIENT_LIMIT_FILE);
	free(dir);
	if (client_limit_load(m.clients, m.state_path, time(NULL),
	    &err) == -1) {
		log_warn("milter: client state dropped, starting empty: %s",
		    err);
		free(err);
	}
	m.saved = time(NULL);
}

/*
 * socket_umask - the umask to bind a unix socket under, so that it has
 * its mode from the start rather than by a chmod by path after bind. The
 * MTA runs as another user. In a set-group-ID directory (ebbd makes the
 * socket's directory so, in the MTA's group: ebbd.c) the socket gets
 * that group at bind, and 0660 lets ebb and the MTA in and no one else.
 * Anywhere else the child, in no group of the MTA's, cannot give the
 * socket a group the MTA is in: it is made 0666, as an inet socket on
 * loopback is open to every local user, and the log says so.
 */
static mode_t
socket_umask(const struct config *cfg)
{
	struct stat	 sb;
	const char	*path;
	char		*dir, *slash;
	int		 setgid;

	if ((path = config_milter_socket_path(cfg->milter_socket)) == NULL)
		return 0177;		/* inet: no file */
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL)
		slash[slash == dir ? 1 : 0] = '\0';
	else {
		free(dir);
		dir = xstrdup(".");
	}
	setgid = stat(dir, &sb) == 0 && (sb.st_mode & S_ISGID);
	if (!setgid)
		log_warn("milter: %s is not set-group-ID (the MTA's group, "
		    "mode 2750, as ebbd makes it when it is missing): the "
		    "socket is made 0666, open to every local user", dir);
	free(dir);
	return setgid ? 0117 : 0111;
}

int
milter_start(const struct config *cfg, const struct milter_env *env,
    char **err_r)
{
	char	*why = NULL;
	mode_t	 mask;
	int	 rc;

	if (m.running) {
		*err_r = xstrdup("milter: already running");
		return -1;
	}
	if (env == NULL || env->budget == NULL) {
		*err_r = xstrdup("milter: no budget callback");
		return -1;
	}
	if (!signals_blocked()) {
		*err_r = xstrdup("milter: block SIGHUP, SIGTERM and SIGINT "
		    "before starting it");
		return -1;
	}
	if (lifetimes_parse(cfg->domain_lifetimes, &m.lifetimes, &why) ==
	    -1) {
		*err_r = xasprintf("milter: domain_lifetimes: %s", why);
		free(why);
		return -1;
	}
	m.cfg = cfg;
	m.env = *env;
	memset(&m.stats, 0, sizeof(m.stats));
	if (cfg->spf != CONFIG_SPF_OFF) {
		m.spf_own = env->spf == NULL;
		if ((m.spf = env->spf) == NULL &&
		    (m.spf = milter_spf_open(err_r)) == NULL)
			goto fail;
	}
	if (smfi_setconn(cfg->milter_socket) != MI_SUCCESS ||
	    smfi_register(ebb_desc) != MI_SUCCESS) {
		*err_r = xasprintf("milter: cannot use socket %s",
		    cfg->milter_socket);
		goto fail;
	}
	mask = umask(socket_umask(cfg));
	rc = smfi_opensocket(1);
	umask(mask);
	if (rc != MI_SUCCESS) {
		why = bind_error(cfg->milter_socket);
		*err_r = xasprintf("milter: cannot listen on %s: %s",
		    cfg->milter_socket, why);
		free(why);
		goto fail;
	}
	clients_open(cfg);
	if ((rc = pthread_create(&m.thread, NULL, milter_thread, NULL)) != 0) {
		*err_r = xasprintf("milter: pthread_create: %s",
		    strerror(rc));
		client_limit_free(&m.clients);
		free(m.state_path);
		m.state_path = NULL;
		goto fail;
	}
	m.running = 1;
	m.stopping = 0;
	log_info("milter: listening on %s", cfg->milter_socket);
	return 0;
fail:
	spf_close();
	lifetimes_free(&m.lifetimes);
	return -1;
}

/* stopper - smfi_stop on a thread of its own (see stop_async) */
static void *
stopper(void *arg)
{
	(void)arg;
	smfi_stop();
	return NULL;
}

/*
 * stop_async - ask libmilter to stop without blocking the caller:
 * smfi_stop waits for the listener's lock, which the listener holds
 * through its poll timeout (seconds). Once per start.
 */
static void
stop_async(void)
{
	pthread_attr_t	 attr;
	pthread_t	 t;

	if (m.stopping)
		return;
	m.stopping = 1;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, stopper, NULL) != 0)
		smfi_stop();		/* then wait for it here */
	pthread_attr_destroy(&attr);
}

void
milter_stop_begin(void)
{
	if (m.running)
		stop_async();
}

int
milter_stop(void)
{
	struct timespec	 until;

	if (!m.running)
		return 0;
	stop_async();
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += MILTER_STOP_WAIT;
	m.running = 0;
	if (pthread_timedjoin_np(m.thread, NULL, &until) != 0) {
		/* its workers may still run: keep what they use */
		pthread_mutex_lock(&m.lock);
		save(time(NULL));
		pthread_mutex_unlock(&m.lock);
		log_info("milter: state saved; libmilter still stopping, "
		    "not waited for");
		return 1;
	}
	pthread_mutex_lock(&m.lock);
	save(time(NULL));
	client_limit_free(&m.clients);
	pthread_mutex_unlock(&m.lock);
	free(m.state_path);
	m.state_path = NULL;
	lifetimes_free(&m.lifetimes);
	spf_close();
	return 0;
}
