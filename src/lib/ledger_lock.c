/*
 * ledger_lock.c - one process at a time: STATE/NAME.lock
 *
 * "ebbctl drain" and "ebbctl failsafe" take STATE/drain.lock so that a
 * second run exits at once (75, EX_TEMPFAIL) instead of racing the first
 * over the same queue and ledger. flock(2) on a file that stays: the lock
 * goes with the process that holds it, so a crash or kill -9 leaves no
 * stale lock to clean up, and the file is never removed (removing it would
 * let two processes lock two different files).
 */
#include "config.h"

#include <sys/file.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ebb/ledger.h"
#include "ebb/log.h"
#include "ebb/util.h"
#include "ledger_db.h"

#define LOCK_NAME_MAX	32

/* lock_name_ok - [a-z0-9_-]{1,32} */
static int
lock_name_ok(const char *name)
{
	size_t	 i;

	for (i = 0; name[i] != '\0'; i++) {
		if (i >= LOCK_NAME_MAX)
			return 0;
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '_' || name[i] == '-'))
			return 0;
	}
	return i > 0;
}

int
ledger_lock(const char *state_dir, const char *name, int *fd_r,
    char **err_r)
{
	char	*path, pid[32];
	int	 fd, rc;

	*fd_r = -1;
	if (name == NULL || !lock_name_ok(name)) {
		*err_r = xasprintf("invalid lock name \"%.32s\"",
		    name != NULL ? name : "");
		return -1;
	}
	if (ledger_state_dir(state_dir, 1, err_r) == -1)
		return -1;
	path = xasprintf("%s/%s.lock", state_dir, name);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0640)) == -1) {
		*err_r = xasprintf("%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	while ((rc = flock(fd, LOCK_EX | LOCK_NB)) == -1 && errno == EINTR)
		;
	if (rc == -1) {
		rc = errno == EWOULDBLOCK ? 1 : -1;
		if (rc == -1)
			*err_r = xasprintf("%s: lock: %s", path,
			    strerror(errno));
		close(fd);
		free(path);
		return rc;
	}
	/* the holder's pid, for the administrator; best effort */
	rc = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)rc, 0) != rc)
		log_debug("%s: cannot write the pid", path);
	free(path);
	*fd_r = fd;
	return 0;
}

void
ledger_unlock(int *fdp)
{
	if (*fdp < 0)
		return;
	close(*fdp);
	*fdp = -1;
}
