/*
 * proof_key.c - the secret behind ebb's proof of a hold (proof.h)
 *
 * One file, STATE/proof.key, made once by ebbd's root parent and never
 * changed: a new key would disown every message held under the old one.
 * Anyone who can read it can forge a proof, so a file that is not
 * root's alone is refused, never used or replaced: the administrator
 * decides what happened to it.
 */
#include "config.h"

#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ebb/proof.h"
#include "ebb/util.h"

/* read_all - exactly len bytes from fd, or -1 */
static int
read_all(int fd, unsigned char *buf, size_t len)
{
	size_t	 got = 0;
	ssize_t	 n;

	while (got < len) {
		if ((n = read(fd, buf + got, len - got)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

int
proof_key_load(const char *dir, struct proof_key *key_r, char **err_r)
{
	struct stat	 sb;
	char		*path;
	int		 fd, rc = -1;

	path = xasprintf("%s/%s", dir, PROOF_KEY_FILE);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) == -1) {
		if (errno == ENOENT)
			rc = 1;
		else
			*err_r = xasprintf("%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) == -1)
		*err_r = xasprintf("%s: %s", path, strerror(errno));
	else if (!S_ISREG(sb.st_mode))
		*err_r = xasprintf("%s: not a regular file", path);
	else if (sb.st_uid != geteuid())
		*err_r = xasprintf("%s: owned by uid %lu, not %lu: anyone "
		    "who reads it can forge ebb's proof of a hold", path,
		    (unsigned long)sb.st_uid, (unsigned long)geteuid());
	else if ((sb.st_mode & 077) != 0)
		*err_r = xasprintf("%s: mode %03o: must be 0600 or stricter "
		    "(anyone who reads it can forge ebb's proof of a hold)",
		    path, (unsigned)(sb.st_mode & 0777));
	else if (sb.st_size != PROOF_KEY_LEN)
		*err_r = xasprintf("%s: %lld bytes, not %d: damaged", path,
		    (long long)sb.st_size, PROOF_KEY_LEN);
	else if (read_all(fd, key_r->k, sizeof(key_r->k)) == -1)
		*err_r = xasprintf("%s: cannot read it", path);
	else
		rc = 0;
	close(fd);
out:
	free(path);
	return rc;
}

/* key_write - PROOF_KEY_LEN random bytes into a new file path, synced */
static int
key_write(const char *tmp, struct proof_key *key_r, char **err_r)
{
	size_t	 got = 0;
	ssize_t	 n;
	int	 fd;

	while (got < sizeof(key_r->k)) {
		if ((n = getrandom(key_r->k + got, sizeof(key_r->k) - got,
		    0)) == -1) {
			if (errno == EINTR)
				continue;
			*err_r = xasprintf("getrandom: %s", strerror(errno));
			return -1;
		}
		got += (size_t)n;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		*err_r = xasprintf("%s: %s", tmp, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0600) == -1 ||
	    write(fd, key_r->k, sizeof(key_r->k)) !=
	    (ssize_t)sizeof(key_r->k) || fsync(fd) == -1) {
		*err_r = xasprintf("%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	return 0;
}

int
proof_key_make(const char *dir, struct proof_key *key_r, char **err_r)
{
	char	*path, *tmp;
	int	 rc, dfd;

	if ((rc = proof_key_load(dir, key_r, err_r)) != 1)
		return rc;
	path = xasprintf("%s/%s", dir, PROOF_KEY_FILE);
	tmp = xasprintf("%s/.%s.%ld", dir, PROOF_KEY_FILE, (long)getpid());
	unlink(tmp);		/* a crash's leftover: ours, under the lock */
	rc = -1;
	if (key_write(tmp, key_r, err_r) == -1)
		goto out;
	if (rename(tmp, path) == -1) {
		*err_r = xasprintf("rename %s to %s: %s", tmp, path,
		    strerror(errno));
		unlink(tmp);
		goto out;
	}
	/* the rename itself must survive a crash */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	rc = 0;
out:
	if (rc == -1)
		OPENSSL_cleanse(key_r, sizeof(*key_r));
	free(tmp);
	free(path);
	return rc;
}
