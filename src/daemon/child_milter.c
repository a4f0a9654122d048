/*
 * child_milter.c - ebbd's child runs the milter; the parent feeds it
 *
 * The milter (milter.h) runs on libmilter's threads in the unprivileged
 * child. What it needs from the privileged parent, and what it hands back,
 * goes over the same socketpair as the control requests, as notices that
 * are never answered (priv_proto.h):
 *
 *	parent -> child   PRIV_BUDGET every [sensors] interval: the budget
 *	                  the governor made; the budget callback copies the
 *	                  latest one under a mutex. One older than
 *	                  CHILD_BUDGET_STALE intervals counts as unknown
 *	                  (the milter then admits as if blind).
 *	child -> parent   PRIV_MILTER_HOLD from a worker thread for each
 *	                  message put in hold: the parent records it in the
 *	                  ledger as ebb's (drain_adopt) once its queue file
 *	                  shows ebb's proof of the hold, so the drain
 *	                  releases it in its EDF turn.
 *	child -> parent   PRIV_MILTER_STATS after each budget: the counters,
 *	                  which the parent puts in its status.
 *
 * The key of that proof (proof.h) is read by the root parent before the
 * fork and copied here; the child never opens its file.
 *
 * A send on a SOCK_SEQPACKET socket is one packet, whole, so the worker
 * threads and the loop may send at once without a lock.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "ebb/config.h"
#include "ebb/governor.h"
#include "ebb/log.h"
#include "ebb/milter.h"
#include "ebb/proof.h"
#include "ebb/util.h"
#include "child_milter.h"
#include "priv_proto.h"

#define CHILD_BUDGET_STALE	3	/* intervals */

static struct {
	struct config	*cfg;
	int		 running;
	int		 privfd;
	int		 wake[2];	/* the milter stopped: end loop */
	struct event_base *base;
	struct event	*ev_wake;

	struct proof_key key;		/* of ebb's proof of a hold */

	pthread_mutex_t	 lock;		/* budget, got */
	struct budget	 budget;
	time_t		 got;		/* monotonic; 0: none yet */
} cm = {
	.privfd = -1,
	.wake = { -1, -1 },
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

/* env_budget - the latest budget from the parent; unknown when stale */
static void
env_budget(void *arg, struct budget *b_r)
{
	time_t	 now = (time_t)ebb_now_mono();

	(void)arg;
	pthread_mutex_lock(&cm.lock);
	*b_r = cm.budget;
	if (cm.got == 0 || now - cm.got > CHILD_BUDGET_STALE *
	    (cm.cfg->interval > 0 ? cm.cfg->interval : 1))
		b_r->known = 0;
	pthread_mutex_unlock(&cm.lock);
}

/* env_hold - tell the parent; a lost notice leaves the message in hold */
static void
env_hold(void *arg, const char *queue_id, time_t deadline)
{
	unsigned char	 buf[PRIV_HDR_LEN + 8 + MSG_QUEUE_ID_MAX];
	size_t		 n;

	(void)arg;
	if ((n = priv_hold_encode(queue_id, deadline, buf,
	    sizeof(buf))) == 0) {
		log_msg(LOG_WARNING, NULL, "milter: held message with a bad "
		    "queue id: not in the ledger");
		return;
	}
	if (send(cm.privfd, buf, n, MSG_NOSIGNAL) == -1)
		log_msg(LOG_WARNING, queue_id, "milter: the parent was not "
		    "told of the hold (%s): it stays in hold, not in the "
		    "ledger", strerror(errno));
}

/* env_stopped - on the milter's thread: wake the loop, which ends */
static void
env_stopped(void *arg)
{
	ssize_t	 n;

	(void)arg;
	do
		n = write(cm.wake[1], "x", 1);
	while (n == -1 && errno == EINTR);
}

static void
on_wake(evutil_socket_t fd, short ev, void *arg)
{
	char	 c;

	(void)ev;
	(void)arg;
	while (read(fd, &c, 1) == -1 && errno == EINTR)
		;
	log_info("milter: stopped: the unprivileged process exits");
	event_base_loopexit(cm.base, NULL);
}

void
child_milter_init(struct config *cfg, const struct proof_key *key)
{
	char	 value[PROOF_VALUE_MAX];

	if (!cfg->milter_enable) {
		config_free(&cfg);
		return;
	}
	cm.cfg = cfg;
	cm.key = *key;
	/* libcrypto sets itself up now, before libmilter's threads */
	if (proof_value(&cm.key, "0", 0, value, sizeof(value)) == -1)
		log_fatal("milter: cannot make the proof of a hold (HMAC)");
}

void
child_milter_start(struct event_base *base, int privfd)
{
	static struct milter_env env = {
		.budget = env_budget,
		.hold = env_hold,
		.stopped = env_stopped,
	};
	sigset_t	 set;
	char		*err = NULL;

	if (cm.cfg == NULL)
		return;
	env.key = &cm.key;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		log_fatal("milter: cannot block signals");
	if (pipe2(cm.wake, O_CLOEXEC | O_NONBLOCK) == -1)
		log_fatal("milter: pipe: %s", strerror(errno));
	cm.base = base;
	cm.privfd = privfd;
	cm.ev_wake = event_new(base, cm.wake[0], EV_READ, on_wake, NULL);
	event_add(cm.ev_wake, NULL);
	if (milter_start(cm.cfg, &env, &err) == -1)
		log_fatal("%s", err);
	cm.running = 1;
}

void
child_milter_notice(const unsigned char *buf, size_t len)
{
	static unsigned char out[PRIV_HDR_LEN + PRIV_STATS_WORDS * 8];
	struct milter_counters c;
	struct budget	 b;
	char		*err = NULL;
	size_t		 n;

	if (priv_budget_decode(buf, len, &b, &err) == -1) {
		log_warn("milter: a bad budget from the parent: %s", err);
		free(err);
		return;
	}
	if (!cm.running)
		return;
	pthread_mutex_lock(&cm.lock);
	cm.budget = b;
	cm.got = (time_t)ebb_now_mono();
	pthread_mutex_unlock(&cm.lock);
	milter_flush();
	milter_counters(&c);
	n = priv_stats_encode(&c, out, sizeof(out));
	if (n > 0 && send(cm.privfd, out, n, MSG_NOSIGNAL | MSG_DONTWAIT) ==
	    -1 && errno != EAGAIN)
		log_debug("milter: counters not sent: %s", strerror(errno));
}

void
child_milter_stopping(void)
{
	if (cm.running)
		milter_stop_begin();
}

void
child_milter_stop(void)
{
	if (cm.running) {
		cm.running = 0;
		if (milter_stop() == 1)
			return;		/* its threads still use cfg */
	}
	if (cm.ev_wake != NULL)
		event_free(cm.ev_wake);
	cm.ev_wake = NULL;
	if (cm.wake[0] != -1) {
		close(cm.wake[0]);
		close(cm.wake[1]);
		cm.wake[0] = cm.wake[1] = -1;
	}
	config_free(&cm.cfg);
}
