/*
 * scanner.c - ebbd's third process: the one that reads the queue files
 *
 * Queue files hold addresses and headers from the internet. ebbd's root
 * parent runs postsuper and so must not parse them (issue 9): it asks
 * this process instead (mta_remote.h), which
 *
 *	opens the backend as root (Postfix's settings come from postconf),
 *	becomes the owner of the queue's directories, Postfix's mail_owner,
 *	  the one user that may read the files besides root,
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
 * Only Postfix's direct scan has one. Sendmail's backend keeps state of
 * its own across calls (the delivery runs it starts and their requests),
 * and with [postfix] scan = postqueue the parent reads postqueue's
 * output, not the files: both stay in the parent.
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
	return cfg->mta == CONFIG_MTA_POSTFIX &&
	    cfg->postfix_scan == CONFIG_SCAN_DIRECT;
}

/*
 * queue_owner - who owns the directories of mta's queues: the first one
 * there of its queues (Postfix: incoming), checked not to be root
 */
static int
queue_owner(struct mta *mta, uid_t *uid_r, gid_t *gid_r, char **err_r)
{
	const char	*dir = mta_queue_directory(mta);
	struct stat	 sb;
	char		 path[4096];
	int		 q;

	for (q = 0; q < mta->ops->nqueues; q++) {
		snprintf(path, sizeof(path), "%s/%s", dir,
		    mta->ops->queues[q].name);
		if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
			break;
	}
	if (q == mta->ops->nqueues) {
		*err_r = xasprintf("%s: no queue directory to read", dir);
		return -1;
	}
	if (sb.st_uid == 0) {
		*err_r = xasprintf("%s is root's: the scanner would run as "
		    "root", path);
		return -1;
	}
	*uid_r = sb.st_uid;
	*gid_r = sb.st_gid;
	return 0;
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
	int		 sp[2], rc;

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
	if ((rc = sandbox_scanner(&err)) == -1)
		log_fatal("scanner: sandbox: %s", err);
	log_debug("scanner: uid %ld, no_new_privs%s", (long)uid, rc == 1 ?
	    ", seccomp filter" : " (built without libseccomp)");
	rc = mta_remote_serve(mta, sp[1]);
	mta_close(&mta);
	_exit(rc == 0 ? 0 : 1);
}
