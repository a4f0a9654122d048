/*
 * scanner.c - ebbd's third process: the one that reads the queue files
 *
 * Queue files hold addresses and headers from the internet. ebbd's root
 * parent runs postsuper and so must not parse them (issue 9): it asks
 * this process instead (mta_remote.h), which
 *
 *	opens the backend as root (Postfix's settings come from postconf),
 *	becomes the owner of the queue's directories, Postfix's mail_owner,
 *	  the one user that may read the files besides root; when that is
 *	  root (Sendmail's queue, 0700 root's), it stays uid 0 but gives up
 *	  every capability for good (sandbox_drop), so that it can read
 *	  root's files as their owner and do nothing else as root,
 *	sets no_new_privs and a seccomp filter under which a file can be
 *	  opened for reading only (sandbox_scanner), and
 *	answers the parent's scans, refreshes, proofs and reasons until the
 *	  parent closes the socket.
 *
 * It starts before the child, so that no descriptor of the child's is
 * open in it, and before the proof key is read: it never holds the key.
 * For a proof of a hold it sends the values of the header's shape it
 * finds, and the parent checks them (mta_remote.h); a scanner that lies
 * cannot vouch for a message. Every descriptor it inherits (the drain
 * lock's, the ledger's in ebbctl) is closed at once.
 * ebbctl's drain, failsafe and adopt start one too when run as root.
 *
 * Postfix's direct scan and Sendmail have one. Sendmail's backend keeps
 * state of its own in the parent (the delivery runs it starts, and when
 * it asked for each); its scanner's backend has none, and the parent puts
 * it back (the settle, scanned, find and found ops, mta.h). With
 * [postfix] scan = postqueue the parent reads postqueue's output, not the
 * files: that stays in the parent.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ebb/config.h"
#include "ebb/log.h"
#include "ebb/mta.h"
#include "ebb/mta_remote.h"
#include "ebb/util.h"
#include "sandbox.h"
#include "scanner.h"

int
scanner_wanted(const struct config *cfg)
{
	return cfg->mta == CONFIG_MTA_SENDMAIL ||
	    (cfg->mta == CONFIG_MTA_POSTFIX &&
	    cfg->postfix_scan == CONFIG_SCAN_DIRECT);
}

/*
 * dir_of - dir, allocated; for Sendmail's "/var/spool/mqueue/q*", the
 * directory the "*" is in
 */
static char *
dir_of(const char *dir)
{
	char	*s, *star;

	s = xstrdup(dir);
	if ((star = strchr(s, '*')) != NULL) {
		*star = '\0';
		if ((star = strrchr(s, '/')) != NULL)
			star[star == s ? 1 : 0] = '\0';
	}
	return s;
}

/*
 * queue_owner - who owns the directories of mta's queues: the first one
 * there of its queues (Postfix: incoming), else the queue directory
 * itself (Sendmail's queues are files in it, not directories)
 */
static int
queue_owner(struct mta *mta, uid_t *uid_r, gid_t *gid_r, char **err_r)
{
	const char	*dir = mta_queue_directory(mta);
	struct stat	 sb;
	char		 path[4096], *top;
	int		 q, rc;

	for (q = 0; q < mta->ops->nqueues; q++) {
		snprintf(path, sizeof(path), "%s/%s", dir,
		    mta->ops->queues[q].name);
		if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
			break;
	}
	if (q == mta->ops->nqueues) {
		top = dir_of(dir);
		rc = stat(top, &sb) == 0 && S_ISDIR(sb.st_mode) ? 0 : -1;
		free(top);
		if (rc == -1) {
			*err_r = xasprintf("%s: no queue directory to read",
			    dir);
			return -1;
		}
	}
	*uid_r = sb.st_uid;
	*gid_r = sb.st_gid;
	return 0;
}

/* the directories the scanner may read below */
struct dirs {
	char		**v;
	size_t		 n;
};

static void
add_dir(void *arg, const char *dir, int depth)
{
	struct dirs	*d = arg;

	(void)depth;
	d->v = xreallocarray(d->v, d->n + 1, sizeof(*d->v));
	d->v[d->n++] = dir_of(dir);
}

/*
 * confine_reads - Landlock: the queue directory and every directory the
 * backend watches (Sendmail's queue groups), read only, nothing else.
 * 1 in place, 0 without Landlock; fatal on failure.
 */
static int
confine_reads(struct mta *mta)
{
	struct dirs	 d = { NULL, 0 };
	char		*err = NULL;
	size_t		 i;
	int		 rc;

	add_dir(&d, mta_queue_directory(mta), 0);
	if (mta->ops->watch != NULL && mta->ops->watch(mta, add_dir, &d,
	    &err) == -1) {
		free(err);	/* the scan will say what is wrong */
		err = NULL;
	}
	rc = sandbox_landlock((const char *const *)d.v, d.n, NULL, 0,
	    &err);
	if (rc == -1)
		log_fatal("scanner: %s", err);
	for (i = 0; i < d.n; i++)
		free(d.v[i]);
	free(d.v);
	return rc;
}

/*
 * close_others - close every descriptor but stdin, stdout, stderr, keep
 * and syslog's (a datagram socket): a descriptor of root's that the
 * scanner inherited (the ledger's, say) must not outlive the drop
 */
static void
close_others(int keep)
{
	struct rlimit	 rl;
	socklen_t	 len;
	int		 fd, max, type;

	max = 65536;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536)
		max = (int)rl.rlim_cur;
	for (fd = 3; fd < max; fd++) {
		if (fd == keep || fcntl(fd, F_GETFD) == -1)
			continue;
		len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
		    type == SOCK_DGRAM)
			continue;
		close(fd);
	}
}

pid_t
scanner_start(const struct config *cfg, int *lockfd, int *fd_r)
{
	struct mta	*mta;
	char		*err = NULL;
	uid_t		 uid;
	gid_t		 gid;
	pid_t		 pid;
	int		 sp[2], rc, landlock;

	*fd_r = -1;
	if (!scanner_wanted(cfg))
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		log_fatal("scanner: socketpair: %s", strerror(errno));
	switch ((pid = fork())) {
	case -1:
		log_fatal("scanner: fork: %s", strerror(errno));
	case 0:
		break;
	default:
		close(sp[1]);
		*fd_r = sp[0];
		return pid;
	}
	close(sp[0]);
	*lockfd = -1;			/* the parent's: it dies with it */
	close_others(sp[1]);
	/* a ^C or a stop is the parent's to act on: the scanner ends with
	 * its socket, once the parent has stopped asking */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (mta_open(cfg, &mta, &err) == -1 ||
	    queue_owner(mta, &uid, &gid, &err) == -1)
		log_fatal("scanner: %s", err);
	if (sandbox_drop(uid, gid, &err) == -1)
		log_fatal("scanner: %s", err);
	landlock = confine_reads(mta);
	if (landlock == 0 && uid == 0)
		log_warn("scanner: the kernel has no Landlock: the scanner "
		    "of a queue only root may read could read any of root's "
		    "files (the proof key among them) if taken over");
	if ((rc = sandbox_scanner(&err)) == -1)
		log_fatal("scanner: sandbox: %s", err);
	log_debug("scanner: uid %ld%s, no_new_privs%s%s", (long)uid,
	    uid == 0 ? " without capabilities" : "", rc == 1 ?
	    ", seccomp filter" : " (built without libseccomp)",
	    landlock ? ", reads confined to the queue" : "");
	rc = mta_remote_serve(mta, sp[1]);
	mta_close(&mta);
	_exit(rc == 0 ? 0 : 1);
}
