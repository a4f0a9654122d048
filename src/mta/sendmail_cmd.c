/*
 * sendmail_cmd.c - the Sendmail backend's use of sendmail itself
 *
 * Park runs "sendmail -C CF -Q'ebb: parked' -qIID -qIID ...", release
 * "sendmail -C CF -qQ -Q -qIID ...": one command quarantines or releases
 * many messages, and returns when it is done. SM_BATCH ids go in one
 * command, SM_PARALLEL commands at once: measured on a private Sendmail
 * 8.17 (SuperSafe, ext4), one command takes about 0.1 s for one id, 1.2 s
 * for 100 and 3-9 s for 1,000; each file is rewritten and synced, so
 * commands side by side go faster than one long one. -qI picks every id
 * that contains the text given, so an id that another queue id contains
 * is never passed (sm_unambiguous).
 *
 * Delivery now is "sendmail -C CF -qf -qIID ...": a queue run in the
 * foreground (a plain -qI forks and returns before it delivers, so its end
 * would say nothing), as a child of ebb that ebb does not wait for. At
 * most max_kids run at once, each with up to SM_KICK_BATCH ids; more wait
 * in a list. A child that runs past SM_KICK_TIMEOUT is stopped; Sendmail
 * keeps the message queued and retries it on its own.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ebb/exec.h"
#include "ebb/index.h"
#include "ebb/log.h"
#include "ebb/util.h"
#include "sendmail.h"

#define SM_BATCH	100	/* ids per quarantine or release command */
#define SM_PARALLEL	4	/* such commands at once */
#define SM_TIMEOUT	300	/* seconds one such command may take */
#define SM_KICK_BATCH	10	/* ids per delivery child */
#define SM_KICK_TIMEOUT	3600	/* seconds a delivery child may run */

/* what sm_unambiguous looks for */
struct sm_amb {
	struct index	*want;		/* the ids to pass */
	struct index	*hit;		/* of those, the ones others contain */
	size_t		 minlen;
	uint32_t	 lens;		/* bit L: an id of length L is wanted */
};

/* sm_amb_name - is a wanted id a proper substring of this queue id? */
static void
sm_amb_name(void *arg, const char *name)
{
	struct sm_amb	*a = arg;
	struct msg	 m;
	char		 sub[MSG_QUEUE_ID_MAX];
	size_t		 len = strlen(name), l, o;

	if (len <= a->minlen)
		return;
	for (l = a->minlen; l < len; l++) {
		if (!(a->lens & (1U << l)))
			continue;
		for (o = 0; o + l <= len; o++) {
			memcpy(sub, name + o, l);
			sub[l] = '\0';
			if (index_lookup(a->want, sub) == NULL)
				continue;
			memset(&m, 0, sizeof(m));
			ebb_strlcpy(m.queue_id, sub, sizeof(m.queue_id));
			index_put(a->hit, &m, NULL);
			log_msg(LOG_WARNING, sub, "not passed to sendmail -qI: "
			    "it would also match %s", name);
		}
	}
}

/*
 * sm_unambiguous - the ids of ids[0..n) that no other queue id contains.
 * sendmail -qI matches any queue id that contains the text given (as
 * tested on 8.17; case counts), and ids grow a digit once process ids
 * pass 999,999: -qI6B64ABCD123456 would also pick 6B64ABCD1234567, a
 * message ebb must not park or, worse, release. Such an id is left out
 * (logged); the ledger settles it, and it is still parked, or still
 * waiting, for the operator. Ids all of one length need no look.
 * Returns an allocated array (the strings are ids'), *n_r its length.
 */
static const char **
sm_unambiguous(struct sendmail *sm, const char *const *ids, size_t n,
    size_t *n_r)
{
	struct sm_amb	 a;
	struct msg	 m;
	const char	**out;
	size_t		 i, k = 0, l;

	out = xreallocarray(NULL, n + 1, sizeof(*out));
	memset(&a, 0, sizeof(a));
	a.minlen = MSG_QUEUE_ID_MAX;
	for (i = 0; i < n; i++) {
		l = strlen(ids[i]);
		a.minlen = MINIMUM(a.minlen, l);
		if (l < 32)
			a.lens |= 1U << l;
	}
	a.want = index_new();
	a.hit = index_new();
	memset(&m, 0, sizeof(m));
	for (i = 0; i < n; i++) {
		ebb_strlcpy(m.queue_id, ids[i], sizeof(m.queue_id));
		index_put(a.want, &m, NULL);
	}
	sendmail_foreach_id(sm, sm_amb_name, &a);
	for (i = 0; i < n; i++)
		if (index_lookup(a.hit, ids[i]) == NULL)
			out[k++] = ids[i];
	index_free(&a.want);
	index_free(&a.hit);
	*n_r = k;
	return out;
}

/* sm_argv - sendmail -C CF FLAGS... -qIID... for ids[0..n), allocated */
static const char **
sm_argv(struct sendmail *sm, const char *const *flags, size_t nflags,
    const char *const *ids, size_t n, char ***qi_r)
{
	const char	**argv;
	char		**qi;
	size_t		 j, k = 0;

	argv = xreallocarray(NULL, 3 + nflags + n + 1, sizeof(*argv));
	qi = xreallocarray(NULL, n + 1, sizeof(*qi));
	argv[k++] = sm->sendmail;
	argv[k++] = "-C";
	argv[k++] = sm->cf_path;
	for (j = 0; j < nflags; j++)
		argv[k++] = flags[j];
	for (j = 0; j < n; j++) {
		qi[j] = xasprintf("-qI%s", ids[j]);
		argv[k++] = qi[j];
	}
	argv[k] = NULL;
	qi[n] = NULL;
	*qi_r = qi;
	return argv;
}

static void
sm_argv_free(const char **argv, char **qi)
{
	size_t		 j;

	for (j = 0; qi[j] != NULL; j++)
		free(qi[j]);
	free(qi);
	free(argv);
}

/* sm_run_one - one command, waited for, its error text kept */
static int
sm_run_one(struct sendmail *sm, const char *what, const char *const *flags,
    size_t nflags, const char *const *ids, size_t n, char **err_r)
{
	struct exec_result res;
	const char	**argv;
	char		**qi, *first;
	int		 rc = 0;

	argv = sm_argv(sm, flags, nflags, ids, n, &qi);
	if (exec_run(argv, NULL, 0, 0, SM_TIMEOUT, &res, err_r) < 0)
		rc = -1;
	else if (res.status != 0) {
		first = exec_first_line(res.err);
		*err_r = xasprintf("%s %s: exit %d: %s", sm->sendmail, what,
		    res.status, first);
		free(first);
		rc = -1;
	}
	exec_result_free(&res);
	sm_argv_free(argv, qi);
	return rc;
}

/*
 * sm_run - sendmail -C CF FLAGS... -qIID... over ids: SM_BATCH ids per
 * command, up to SM_PARALLEL commands at once (Sendmail rewrites and
 * syncs each file: measured, 1,000 ids took 3-9 s in one command and
 * 0.8-0.9 s as 10 commands at once). A batch whose command fails, or
 * does not end within SM_TIMEOUT, runs again alone, so that its error
 * is reported (and a passing hiccup is not an error).
 */
static int
sm_run(struct sendmail *sm, const char *what, const char *const *flags,
    size_t nflags, const char *const *ids, size_t n, char **err_r)
{
	struct {
		pid_t		 pid;
		size_t		 at, n;
		const char	**argv;
		char		**qi;
	} run[SM_PARALLEL];
	size_t		 i = 0, k, nrun, failed_at = 0, failed_n = 0;
	time_t		 start;
	int		 status, failed = 0;
	char		*err = NULL;
	pid_t		 r;

	while (i < n && !failed) {
		for (nrun = 0; nrun < SM_PARALLEL && i < n; nrun++) {
			run[nrun].at = i;
			run[nrun].n = MINIMUM(n - i, (size_t)SM_BATCH);
			run[nrun].argv = sm_argv(sm, flags, nflags, ids + i,
			    run[nrun].n, &run[nrun].qi);
			run[nrun].pid = exec_spawn(run[nrun].argv, &err);
			if (run[nrun].pid < 0) {
				free(err);
				err = NULL;
			}
			i += run[nrun].n;
		}
		start = time(NULL);
		for (k = 0; k < nrun; k++) {
			status = -1;
			while (run[k].pid > 0) {
				r = waitpid(run[k].pid, &status, WNOHANG);
				if (r == run[k].pid ||
				    (r < 0 && errno != EINTR))
					break;
				if (time(NULL) - start > SM_TIMEOUT) {
					kill(run[k].pid, SIGKILL);
					waitpid(run[k].pid, &status, 0);
					status = -1;
					break;
				}
				usleep(2000);
			}
			if ((run[k].pid < 0 || !WIFEXITED(status) ||
			    WEXITSTATUS(status) != 0) && !failed) {
				failed = 1;
				failed_at = run[k].at;
				failed_n = run[k].n;
			}
			sm_argv_free(run[k].argv, run[k].qi);
		}
	}
	if (!failed)
		return 0;
	/* again, alone and waited for: its own error, or success */
	if (sm_run_one(sm, what, flags, nflags, ids + failed_at, failed_n,
	    err_r) < 0)
		return -1;
	i = failed_at + failed_n;
	return i < n ? sm_run(sm, what, flags, nflags, ids + i, n - i,
	    err_r) : 0;
}

int
sendmail_park_ids(struct sendmail *sm, const char *const *ids, size_t n,
    char **err_r)
{
	const char	*flags[] = { "-Q" SM_REASON };
	const char	**ok;
	size_t		 nok;
	int		 rc;

	ok = sm_unambiguous(sm, ids, n, &nok);
	rc = sm_run(sm, "-Q", flags, nitems(flags), ok, nok, err_r);
	free(ok);
	return rc;
}

int
sendmail_release_ids(struct sendmail *sm, const char *const *ids, size_t n,
    char **err_r)
{
	const char	*flags[] = { "-qQ", "-Q" };
	const char	**ok;
	size_t		 nok;
	int		 rc;

	ok = sm_unambiguous(sm, ids, n, &nok);
	rc = sm_run(sm, "-qQ -Q", flags, nitems(flags), ok, nok, err_r);
	free(ok);
	return rc;
}

/* kid_free - forget one child's ids */
static void
kid_free(struct sendmail *sm, struct sm_kid *k)
{
	size_t		 i;

	for (i = 0; i < k->nids; i++) {
		index_remove(sm->running, k->ids[i]);
		free(k->ids[i]);
	}
	free(k->ids);
}

/* kid_start - one child for the first SM_KICK_BATCH pending ids */
static int
kid_start(struct sendmail *sm, time_t now)
{
	const char	*argv[5 + SM_KICK_BATCH + 1];
	char		*qi[SM_KICK_BATCH];
	struct sm_kid	*k;
	struct msg	 m;
	size_t		 i, n = MINIMUM(sm->npending, (size_t)SM_KICK_BATCH);
	char		*err = NULL;
	pid_t		 pid;

	argv[0] = sm->sendmail;
	argv[1] = "-C";
	argv[2] = sm->cf_path;
	argv[3] = "-qf";
	for (i = 0; i < n; i++) {
		qi[i] = xasprintf("-qI%s", sm->pending[i]);
		argv[4 + i] = qi[i];
	}
	argv[4 + n] = NULL;
	pid = exec_spawn(argv, &err);
	for (i = 0; i < n; i++)
		free(qi[i]);
	if (pid < 0) {
		log_warn("%s", err);
		free(err);
		return -1;
	}
	sm->kids = xreallocarray(sm->kids, sm->nkids + 1, sizeof(*sm->kids));
	k = &sm->kids[sm->nkids++];
	k->pid = pid;
	k->started = now;
	k->nids = n;
	k->ids = xreallocarray(NULL, n, sizeof(*k->ids));
	memset(&m, 0, sizeof(m));
	m.arrival_time = now;
	for (i = 0; i < n; i++) {
		k->ids[i] = sm->pending[i];
		ebb_strlcpy(m.queue_id, k->ids[i], sizeof(m.queue_id));
		index_put(sm->running, &m, NULL);
		index_put(sm->kicked, &m, NULL);
	}
	sm->npending -= n;
	memmove(sm->pending, sm->pending + n, sm->npending *
	    sizeof(*sm->pending));
	return 0;
}

void
sendmail_reap(struct sendmail *sm)
{
	time_t		 now = time(NULL);
	size_t		 i = 0;
	int		 status;
	pid_t		 r;

	while (i < sm->nkids) {
		r = waitpid(sm->kids[i].pid, &status, WNOHANG);
		if (r == 0 && now - sm->kids[i].started > SM_KICK_TIMEOUT) {
			log_msg(LOG_WARNING, sm->kids[i].ids[0], "delivery "
			    "run pid=%ld over %ds: stopped",
			    (long)sm->kids[i].pid, SM_KICK_TIMEOUT);
			kill(sm->kids[i].pid, SIGTERM);
			r = waitpid(sm->kids[i].pid, &status, 0);
		}
		if (r == 0 || (r < 0 && errno == EINTR)) {
			i++;
			continue;
		}
		/* exited, or reaped by someone else (ECHILD): done */
		kid_free(sm, &sm->kids[i]);
		sm->kids[i] = sm->kids[--sm->nkids];
	}
	while ((int)sm->nkids < sm->max_kids && sm->npending > 0)
		if (kid_start(sm, now) < 0)
			break;
}

void
sendmail_kick_ids(struct sendmail *sm, const char *const *ids, size_t n)
{
	size_t		 i, j;

	for (i = 0; i < n; i++) {
		if (index_lookup(sm->running, ids[i]) != NULL)
			continue;
		for (j = 0; j < sm->npending; j++)
			if (strcmp(sm->pending[j], ids[i]) == 0)
				break;
		if (j < sm->npending)
			continue;
		if (sm->npending == sm->pending_cap) {
			sm->pending_cap = sm->pending_cap ?
			    sm->pending_cap * 2 : 64;
			sm->pending = xreallocarray(sm->pending,
			    sm->pending_cap, sizeof(*sm->pending));
		}
		sm->pending[sm->npending++] = xstrdup(ids[i]);
	}
	sendmail_reap(sm);
}

int
sendmail_kick_busy(struct sendmail *sm, const char *id)
{
	size_t		 j;

	if (index_lookup(sm->running, id) != NULL)
		return 1;
	for (j = 0; j < sm->npending; j++)
		if (strcmp(sm->pending[j], id) == 0)
			return 1;
	return 0;
}

/*
 * sendmail_kicks_close - the process ends (a cron drain is done): the
 * deliveries still waiting for a child are handed to Sendmail now, up to
 * SM_BATCH ids per run, rather than left to its next queue run; the
 * children run on without ebb
 */
void
sendmail_kicks_close(struct sendmail *sm)
{
	const char	*argv[4 + SM_BATCH + 1];
	char		*qi[SM_BATCH], *err = NULL;
	size_t		 i, j, n;

	for (i = 0; i < sm->npending; i += n) {
		n = MINIMUM(sm->npending - i, (size_t)SM_BATCH);
		argv[0] = sm->sendmail;
		argv[1] = "-C";
		argv[2] = sm->cf_path;
		argv[3] = "-qf";
		for (j = 0; j < n; j++) {
			qi[j] = xasprintf("-qI%s", sm->pending[i + j]);
			argv[4 + j] = qi[j];
		}
		argv[4 + n] = NULL;
		if (exec_spawn(argv, &err) < 0) {
			log_warn("%s", err);
			free(err);
			err = NULL;
		}
		for (j = 0; j < n; j++)
			free(qi[j]);
	}
	for (i = 0; i < sm->nkids; i++)
		kid_free(sm, &sm->kids[i]);
	free(sm->kids);
	for (i = 0; i < sm->npending; i++)
		free(sm->pending[i]);
	free(sm->pending);
	index_free(&sm->running);
	index_free(&sm->kicked);
	sm->kids = NULL;
	sm->pending = NULL;
	sm->nkids = sm->npending = sm->pending_cap = 0;
}
