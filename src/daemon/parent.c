/*
 * parent.c - ebbd's privileged process: the continuous drain
 *
 * One libevent loop, as root:
 *
 *	every PARENT_STEP seconds  pet the watchdog; when a sample is due
 *	                           (every [sensors] interval) sample the
 *	                           sensors, tick the governor, store a
 *	                           history sample, send the milter its
 *	                           budget, and every PARENT_REFRESH seconds
 *	                           bring the index up to date, park what is
 *	                           waiting since and reorder (drain_refresh);
 *	                           then
 *	                           release a batch within the budget, unless
 *	                           paused
 *	the socketpair             the child's requests (priv_proto.h),
 *	                           checked, answered in order
 *	the inotify descriptor     what changed in the queue's directories,
 *	                           noted for the next refresh (qwatch.h):
 *	                           the index is kept live by re-reading what
 *	                           changed, not by rescanning the queue
 *	the HTTP socketpair        status and history only, for ebbd's
 *	                           HTTP endpoint ([http] listen)
 *	SIGHUP                     reload the config (a bad one is kept out)
 *	SIGTERM, SIGINT            stop: mail ebb parked stays parked and in
 *	                           the ledger, for the next start or failsafe
 *
 * The pacing (when to sample, the governor, pause and rate cap, the
 * release step) is pace.c's, the same loop as "ebbctl drain" runs, on the
 * monotonic clock. A reload retunes it and keeps what the governor has
 * learnt: its rate, its smoothed pressure and a stop.
 *
 * The ledger is written before and after every MTA command (ledger.h), so
 * a kill -9 at any moment is settled by the reconcile of the next start.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "ebb/config.h"
#include "ebb/control.h"
#include "ebb/drain.h"
#include "ebb/ledger.h"
#include "ebb/log.h"
#include "ebb/mta.h"
#include "ebb/mta_remote.h"
#include "ebb/pace.h"
#include "ebb/qwatch.h"
#include "ebb/sensor.h"
#include "ebb/util.h"
#include "ebbd.h"
#include "parent.h"
#include "parent_milter.h"
#include "priv_proto.h"

#define PARENT_STEP	0.25		/* seconds between batches */
#define PARENT_REFRESH	5		/* seconds between rescans */
#define HISTORY_KEEP	(7 * 86400)	/* history samples kept */
#define SETTLED_KEEP	(30 * 86400)	/* settled ledger rows kept */
#define PRUNE_EVERY	3600
#define PARENT_KEPT_MAX	200		/* held ones a failsafe answer names */

/* notify - tell systemd (Type=notify), when it is there */
static void
notify(const char *state)
{
#ifdef HAVE_SYSTEMD
	sd_notify(0, state);
#else
	(void)state;
#endif
}

/* on_qwatch - note what changed; the next refresh reads it */
static void
on_qwatch(evutil_socket_t fd, short ev, void *arg)
{
	struct parent	*p = arg;

	(void)fd;
	(void)ev;
	qwatch_read(p->qwatch);
}

/*
 * qwatch_poll - poll the watcher's descriptor, which changes when the
 * watches are set up again (a queue directory replaced)
 */
static void
qwatch_poll(struct parent *p)
{
	int	 fd = qwatch_fd(p->qwatch);

	if (fd == p->qwatch_fd && (p->ev_qwatch != NULL || fd < 0))
		return;
	if (p->ev_qwatch != NULL)
		event_free(p->ev_qwatch);
	p->ev_qwatch = NULL;
	p->qwatch_fd = fd;
	if (fd < 0)
		return;
	p->ev_qwatch = event_new(p->base, fd, EV_READ | EV_PERSIST,
	    on_qwatch, p);
	event_add(p->ev_qwatch, NULL);
}

/* live_scan - the drain's scanner: the live index's update */
static int
live_scan(void *arg, struct index *ix, struct scan_stats *st, char **err_r)
{
	struct parent	*p = arg;
	int		 rc;

	rc = qwatch_update(p->qwatch, ix, ebb_now_mono(), st, err_r);
	qwatch_poll(p);
	return rc;
}

/* refresh - rescan, park what is new, reorder; an error waits a period */
static void
refresh(struct parent *p)
{
	char	*err = NULL;
	time_t	 now = time(NULL);
	double	 started;

	drain_expire_recent(p->drain, now);
	started = ebb_now_mono();
	if (drain_refresh(p->drain, now, &err) == -1) {
		log_warn("drain: %s (trying again in %ds)", err,
		    PARENT_REFRESH);
		free(err);
	}
	p->refreshed = ebb_now_mono();
	p->scan_duration = p->refreshed - started;
	/*
	 * the period counts from the end: a rescan of a huge queue that
	 * takes longer than the period must not follow itself back to
	 * back, or the loop answers nothing (list, status) in between
	 */
	p->next_refresh = p->refreshed + PARENT_REFRESH;
}

void
parent_refresh(struct parent *p)
{
	refresh(p);
}

/* history - one sample for the ledger's history; prune now and then */
static void
history(struct parent *p)
{
	struct ledger_sample s;
	struct drain_status st;
	size_t		 r[MSG_ROLE_COUNT];
	struct budget	 b;
	char		*err = NULL;
	time_t		 now = time(NULL);

	drain_status(p->drain, &st);
	drain_role_counts(p->drain, r);
	pace_budget(p->pace, &b);
	memset(&s, 0, sizeof(s));
	s.time = now;
	s.pressure = p->sample.npresent > 0 ? p->sample.pressure : NAN;
	s.rate = b.rate;
	s.leaving = (long)r[MSG_ROLE_LEAVING];
	s.waiting = (long)r[MSG_ROLE_WAITING];
	s.held = (long)r[MSG_ROLE_HELD];
	s.admin = (long)r[MSG_ROLE_ADMIN];
	s.parked = (long)st.parked;
	parent_milter_incoming(&s.admitted, &s.deferred);
	parent_timeline_tick(p, now);
	if (ledger_history_add(p->ledger, &s, &err) == -1)
		goto fail;
	if (now - p->last_prune >= PRUNE_EVERY) {
		p->last_prune = now;
		if (ledger_history_prune(p->ledger, now - HISTORY_KEEP,
		    &err) == -1 ||
		    ledger_prune_settled(p->ledger, now - SETTLED_KEEP,
		    &err) == -1)
			goto fail;
	}
	return;
fail:
	log_warn("ledger: %s", err);
	free(err);
}

/* tick - sample, govern, record at mono; the heartbeat of ebbd */
static void
tick(struct parent *p, double mono)
{
	struct mta	*mta = p->mta;

	sensor_sample_read(p->cfg, mta_queue_directory(mta), mta_depth(mta),
	    p->have_sample ? &p->prev : NULL, mono, &p->sample);
	p->prev = p->sample;
	p->have_sample = 1;
	pace_sample(p->pace, &p->sample, mono);
	if (ebb_now_mono() >= p->next_refresh)
		refresh(p);
	history(p);
	parent_milter_tick(p);
}

/* on_step - sample when due, then release what the budget allows now */
static void
on_step(evutil_socket_t fd, short ev, void *arg)
{
	struct parent	*p = arg;
	char		*err = NULL;
	double		 mono = ebb_now_mono();

	(void)fd;
	(void)ev;
	/*
	 * the watchdog hears from the loop itself, every second whatever
	 * [sensors] interval is, so a stuck loop is what it catches
	 */
	if (mono - p->petted >= 1) {
		notify("WATCHDOG=1");
		p->petted = mono;
	}
	if (pace_due(p->pace, mono))
		tick(p, mono);
	if (pace_step(p->pace, p->drain, ebb_now_mono(), time(NULL),
	    &err) == -1) {
		/* the batch stays parked; the next refresh settles it */
		log_warn("drain: %s", err);
		free(err);
		p->next_refresh = 0;
	}
}

/*
 * parent_failsafe - release everything ebb parked, at once; then stop.
 * The answer says what stays in hold and why, the first PARENT_KEPT_MAX
 * of them (an answer is at most CONTROL_REPLY_MAX bytes).
 */
char *
parent_failsafe(struct parent *p, int *ok_r)
{
	struct drain_opts opts = { 0 };
	struct drain_status st;
	struct drain	*d;
	json_t		*o;
	char		*err = NULL, *text;

	opts.failsafe = 1;
	opts.proof_key = p->a->key;
	d = drain_new(p->cfg, p->mta, p->ledger, &opts);
	if (drain_start(d, time(NULL), &err) == -1)
		goto fail;
	if (drain_release_all(d, time(NULL), &err) == -1)
		goto fail;
	drain_status(d, &st);
	log_info("failsafe: released %zu messages ebb had parked (%zu past "
	    "their deadline, %zu of them adopted by their proof); %zu held "
	    "by the administrator stay held; stopping", st.released,
	    st.expired, st.adopted, st.admin_held);
	if (st.stuck > 0)
		log_warn("failsafe: %zu messages stay parked: the MTA did not "
		    "release them", st.stuck);
	o = drain_failsafe_json(d, PARENT_KEPT_MAX);
	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "stopping", json_true());
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	drain_free(&d);
	if (text == NULL)
		log_fatal("failsafe: out of memory");
	p->rc = 0;
	event_base_loopexit(p->base, NULL);
	*ok_r = 1;
	return text;
fail:
	log_err("failsafe: %s", err);
	text = err;
	drain_free(&d);
	*ok_r = 0;
	return text;
}

/* send_reply - one answer to the child; the socketpair does not drop it */
static void
send_reply(int fd, int ok, const char *text)
{
	static unsigned char buf[PRIV_MSG_MAX];
	size_t		 n;

	n = priv_encode_reply(ok, text, buf, sizeof(buf));
	if (send(fd, buf, n, MSG_NOSIGNAL) == -1)
		log_warn("control: answer lost: %s", strerror(errno));
}

/* on_priv - the child's requests, refused unless they check out */
static void
on_priv(evutil_socket_t fd, short ev, void *arg)
{
	static unsigned char buf[PRIV_MSG_MAX];
	struct parent	*p = arg;
	struct control_request req;
	struct msghdr	 mh;
	struct iovec	 iov;
	ssize_t		 n;
	char		*err = NULL, *text;
	int		 ok;

	(void)ev;
	for (;;) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		if ((n = recvmsg(fd, &mh, MSG_DONTWAIT)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			log_warn("control: %s", strerror(errno));
			n = 0;
		}
		if (n == 0) {
			log_err("the unprivileged process is gone: stopping");
			p->rc = 1;
			event_del(p->ev_priv);
			event_base_loopexit(p->base, NULL);
			return;
		}
		if (mh.msg_flags & MSG_TRUNC) {
			log_warn("control: refused a request: too long");
			send_reply(fd, 0, "refused: request too long");
			continue;
		}
		if (parent_milter_notice(p, buf, (size_t)n))
			continue;		/* a notice: no answer */
		if (priv_decode_request(buf, (size_t)n, &req, &err) == -1) {
			log_warn("control: refused a request: %s", err);
			text = xasprintf("refused: %s", err);
			send_reply(fd, 0, text);
			free(text);
			free(err);
			continue;
		}
		text = parent_handle(p, &req, &ok);
		send_reply(fd, ok, text);
		free(text);
	}
}

/*
 * on_http - the HTTP side's channel: read-only, so nothing but the status
 * and the history is answered on it, whatever the child sends
 */
static void
on_http(evutil_socket_t fd, short ev, void *arg)
{
	static unsigned char buf[PRIV_MSG_MAX];
	struct parent	*p = arg;
	struct control_request req;
	ssize_t		 n;
	int64_t		 span;
	char		*err = NULL, *text;
	int		 ok;

	(void)ev;
	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			/* the child is going; on_priv or SIGCHLD stop us */
			event_del(p->ev_http);
			return;
		}
		if ((size_t)n > sizeof(buf)) {
			send_reply(fd, 0, "refused: request too long");
			continue;
		}
		if (priv_packet_type(buf, (size_t)n) == PRIV_HISTORY) {
			if (priv_decode_history(buf, (size_t)n, &span,
			    &err) == -1)
				goto refuse;
			text = parent_history(p, (time_t)span, &ok);
		} else {
			if (priv_decode_request(buf, (size_t)n, &req,
			    &err) == -1)
				goto refuse;
			if (req.command != CONTROL_STATUS) {
				err = xstrdup("not on the HTTP channel");
				goto refuse;
			}
			text = parent_status(p);
			ok = 1;
		}
		send_reply(fd, ok, text);
		free(text);
		continue;
refuse:
		log_warn("http: refused a request: %s", err);
		text = xasprintf("refused: %s", err);
		send_reply(fd, 0, text);
		free(text);
		free(err);
		err = NULL;
	}
}

/* reload - SIGHUP: a new config, or the old one and a log line why not */
static void
reload(struct parent *p)
{
	struct pace_params pp;
	struct config	*ncfg, *ocfg = p->cfg;
	char		*err = NULL;

	notify("RELOADING=1");
	if (config_load(p->a->config_path, &ncfg, &err) == -1) {
		log_warn("reload: %s: keeping the configuration in use", err);
		free(err);
		notify("READY=1");
		return;
	}
	if (ncfg->drain_mode != CONFIG_DRAIN_HOLD) {
		log_warn("reload: [drain] mode = nudge is not implemented yet: "
		    "keeping the configuration in use");
		config_free(&ncfg);
		notify("READY=1");
		return;
	}
	/* the child forked with its own copy: [milter] and [http] stay */
	if (ncfg->milter_enable || ocfg->milter_enable)
		log_warn("reload: the milter keeps its [milter] settings "
		    "until ebbd restarts");
	if (strcmp(ncfg->http_listen, ocfg->http_listen) != 0 ||
	    strcmp(ncfg->http_certificate, ocfg->http_certificate) != 0 ||
	    strcmp(ncfg->http_key, ocfg->http_key) != 0 ||
	    strcmp(ncfg->http_allow, ocfg->http_allow) != 0)
		log_warn("reload: [http] changes take effect when ebbd "
		    "restarts");
	if (strcmp(ncfg->user, ocfg->user) != 0 ||
	    strcmp(ncfg->state_directory, ocfg->state_directory) != 0 ||
	    ncfg->mta != ocfg->mta ||
	    strcmp(ncfg->postfix_config_directory,
	    ocfg->postfix_config_directory) != 0 ||
	    strcmp(ncfg->control_socket, ocfg->control_socket) != 0 ||
	    strcmp(ncfg->control_group, ocfg->control_group) != 0)
		log_warn("reload: [general], [postfix] and [control] changes "
		    "take effect when ebbd restarts");
	drain_set_config(p->drain, ncfg);
	qwatch_set_interval(p->qwatch, (double)ncfg->rescan_interval);
	/* the governor keeps its rate, pressure and stop: no burst, no reset */
	pace_params_from_config(ncfg, &pp);
	pace_set_params(p->pace, &pp);
	p->cfg = ncfg;
	config_free(&ocfg);
	log_info("reloaded the configuration %s",
	    p->cfg->path != NULL ? p->cfg->path : "(defaults)");
	notify("READY=1");
}

static void
on_signal(evutil_socket_t sig, short ev, void *arg)
{
	struct parent	*p = arg;
	int		 status;

	(void)ev;
	switch (sig) {
	case SIGHUP:
		reload(p);
		break;
	case SIGCHLD:
		if (waitpid(p->a->child, &status, WNOHANG) == p->a->child) {
			log_err("the unprivileged process died (status %d): "
			    "stopping", status);
			p->a->child = -1;
			p->rc = 1;
			event_base_loopexit(p->base, NULL);
		}
		if (p->a->scanner > 0 && waitpid(p->a->scanner, &status,
		    WNOHANG) == p->a->scanner) {
			log_err("the scanner process died (status %d): "
			    "stopping", status);
			p->a->scanner = -1;
			p->rc = 1;
			event_base_loopexit(p->base, NULL);
		}
		break;
	default:
		log_info("stopping on signal %d: parked mail stays parked "
		    "for the next start (or \"ebbctl failsafe\")", (int)sig);
		p->rc = 0;
		event_base_loopexit(p->base, NULL);
		break;
	}
}

/* reap - wait up to secs for pid to exit, then kill it; none when <= 0 */
static void
reap(pid_t pid, double secs)
{
	double	 until = ebb_now_mono() + secs;
	int	 status;

	if (pid <= 0)
		return;
	while (ebb_now_mono() < until) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		usleep(20000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

/* stop_child - close the socketpair (the child drains and exits), reap it */
static void
stop_child(struct parent *p)
{
	close(p->a->privfd);
	p->a->privfd = -1;
	reap(p->a->child, 7);		/* the milter: 1 s */
}

int
parent_main(struct parent_args *a)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	struct pace_params pp;
	struct drain_opts opts = { 0 };
	struct parent	 p;
	struct event	*evsig[nitems(sigs)];
	struct timeval	 tv;
	char		*err = NULL;
	size_t		 i;

	memset(&p, 0, sizeof(p));
	p.a = a;
	p.cfg = a->cfg;
	p.rc = 1;
	p.started = time(NULL);
	if ((p.base = event_base_new()) == NULL)
		log_fatal("event_base_new failed");
	for (i = 0; i < nitems(sigs); i++) {
		evsig[i] = evsignal_new(p.base, sigs[i], on_signal, &p);
		evsignal_add(evsig[i], NULL);
	}
	if (mta_open(p.cfg, &p.mta, &err) == -1 ||
	    ledger_open(p.cfg->state_directory, &p.ledger, &err) == -1) {
		log_err("%s", err);
		free(err);
		goto out;
	}
	/* the files are read by the scanner (scanner.c), not as root */
	if (a->scanfd != -1) {
		p.mta = mta_remote_new(p.mta, a->scanfd, a->scanner, a->key);
		a->scanfd = -1;
	}
	pace_params_from_config(p.cfg, &pp);
	p.pace = pace_new(&pp);
	opts.proof_key = a->key;
	/* a ledger made anew: what in hold is ebb's, all of it, now */
	opts.proof_all = ledger_created(p.ledger);
	p.drain = drain_new(p.cfg, p.mta, p.ledger, &opts);
	p.qwatch = qwatch_new(p.mta, NULL, (double)p.cfg->rescan_interval);
	p.qwatch_fd = -1;
	drain_set_scanner(p.drain, live_scan, &p);
	/* reconcile with the queue, park the backlog, order it */
	p.scan_duration = ebb_now_mono();
	if (drain_start(p.drain, time(NULL), &err) == -1) {
		log_warn("drain: %s (trying again in %ds)", err,
		    PARENT_REFRESH);
		free(err);
	}
	drain_ledger_warn(p.drain);
	parent_timeline_restore(&p);
	p.scan_duration = ebb_now_mono() - p.scan_duration;
	p.refreshed = ebb_now_mono();
	p.next_refresh = ebb_now_mono() + PARENT_REFRESH;
	p.last_prune = 0;

	p.ev_step = event_new(p.base, -1, EV_PERSIST, on_step, &p);
	tv.tv_sec = 0;
	tv.tv_usec = (suseconds_t)(PARENT_STEP * 1e6);
	event_add(p.ev_step, &tv);
	fcntl(a->privfd, F_SETFL, fcntl(a->privfd, F_GETFL) | O_NONBLOCK);
	p.ev_priv = event_new(p.base, a->privfd, EV_READ | EV_PERSIST,
	    on_priv, &p);
	event_add(p.ev_priv, NULL);
	if (a->httpfd != -1) {
		fcntl(a->httpfd, F_SETFL, fcntl(a->httpfd, F_GETFL) |
		    O_NONBLOCK);
		p.ev_http = event_new(p.base, a->httpfd, EV_READ | EV_PERSIST,
		    on_http, &p);
		event_add(p.ev_http, NULL);
	}
	tick(&p, ebb_now_mono());	/* a budget before the first step */

	log_info("started: user=%s control=%s interval=%lds", p.cfg->user,
	    a->socket_path, p.cfg->interval);
	notify("READY=1");
	event_base_dispatch(p.base);
	notify("STOPPING=1");
out:
	if (p.ev_step != NULL)
		event_free(p.ev_step);
	if (p.ev_priv != NULL)
		event_free(p.ev_priv);
	if (p.ev_http != NULL)
		event_free(p.ev_http);
	if (p.ev_qwatch != NULL)
		event_free(p.ev_qwatch);
	qwatch_free(&p.qwatch);
	if (a->httpfd != -1)
		close(a->httpfd);
	stop_child(&p);
	if (a->socket_path != NULL)
		unlink(a->socket_path);
	for (i = 0; i < nitems(sigs); i++)
		event_free(evsig[i]);
	event_base_free(p.base);
	drain_free(&p.drain);
	pace_free(&p.pace);
	ledger_close(&p.ledger);
	mta_close(&p.mta);		/* the scanner sees its socket close */
	if (a->scanfd != -1)
		close(a->scanfd);	/* not handed over: mta_open failed */
	reap(a->scanner, 5);		/* it exits at the socket's end */
	ledger_unlock(&a->lockfd);
	config_free(&p.cfg);
	log_info("stopped");
	return p.rc;
}
