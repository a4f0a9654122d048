/*
 * sendmail_cmd.c - the Sendmail backend's use of sendmail itself
 *
 * Park runs "sendmail -C CF -Q'ebb: parked' -qIID -qIID ...", release
 * "sendmail -C CF -qQ -Q -qIID ...": one command quarantines or releases
 * many messages, and returns when it is done. SM_BATCH ids go in one
 * command: measured on a private Sendmail 8.17 (SuperSafe, ext4), one
 * command takes about 0.1 s for one id, 1.2 s for 100 and 3-9 s for 1,000,
 * so beyond ~100 a bigger batch saves little and a long command keeps the
 * engine waiting. -qI matches a substring of the id, so an id is passed
 * whole and only ids that the scan saw are passed (mta.c checks them).
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
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "ebb/exec.h"
#include "ebb/index.h"
#include "ebb/log.h"
#include "ebb/util.h"
#include "sendmail.h"

#define SM_BATCH	100	/* ids per quarantine or release command */
#define SM_TIMEOUT	300	/* seconds one such command may take */
#define SM_KICK_BATCH	10	/* ids per delivery child */
#define SM_KICK_TIMEOUT	3600	/* seconds a delivery child may run */

/* sm_run - sendmail -C CF FLAGS... -qIID... over ids, in batches */
static int
sm_run(struct sendmail *sm, const char *what, const char *const *flags,
    size_t nflags, const char *const *ids, size_t n, char **err_r)
{
	const char	**argv;
	char		**qi;
	struct exec_result res;
	size_t		 i, j, k, m;
	char		*first;
	int		 rc = 0;

	argv = xreallocarray(NULL, 3 + nflags + SM_BATCH + 1, sizeof(*argv));
	qi = xreallocarray(NULL, SM_BATCH, sizeof(*qi));
	for (i = 0; i < n && rc == 0; i += SM_BATCH) {
		k = 0;
		argv[k++] = sm->sendmail;
		argv[k++] = "-C";
		argv[k++] = sm->cf_path;
		for (j = 0; j < nflags; j++)
			argv[k++] = flags[j];
		for (m = 0, j = i; j < n && j < i + SM_BATCH; j++, m++) {
			qi[m] = xasprintf("-qI%s", ids[j]);
			argv[k++] = qi[m];
		}
		argv[k] = NULL;
		if (exec_run(argv, NULL, 0, 0, SM_TIMEOUT, &res, err_r) < 0)
			rc = -1;
		else if (res.status != 0) {
			first = exec_first_line(res.err);
			*err_r = xasprintf("%s %s: exit %d: %s", sm->sendmail,
			    what, res.status, first);
			free(first);
			rc = -1;
		}
		exec_result_free(&res);
		for (j = 0; j < m; j++)
			free(qi[j]);
	}
	free(qi);
	free(argv);
	return rc;
}

int
sendmail_park_ids(struct sendmail *sm, const char *const *ids, size_t n,
    char **err_r)
{
	const char	*flags[] = { "-Q" SM_REASON };

	return sm_run(sm, "-Q", flags, nitems(flags), ids, n, err_r);
}

int
sendmail_release_ids(struct sendmail *sm, const char *const *ids, size_t n,
    char **err_r)
{
	const char	*flags[] = { "-qQ", "-Q" };

	return sm_run(sm, "-qQ -Q", flags, nitems(flags), ids, n, err_r);
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
			    "run pid=%ld over %ds: stopped", (long)sm->kids[i].pid,
			    SM_KICK_TIMEOUT);
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
