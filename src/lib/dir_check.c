/*
 * dir_check.c - is a directory safe for what root keeps in it?
 *
 * See dir_check.h. The walk resolves the path first (realpath), so a
 * symbolic link is judged by where it leads, then checks every directory
 * from the leaf up to /.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ebb/dir_check.h"
#include "ebb/util.h"

int
dir_check_mode(uid_t owner, mode_t mode, int leaf, char **why_r)
{
	if (!S_ISDIR(mode)) {
		*why_r = xstrdup("is not a directory");
		return -1;
	}
	if (owner != 0) {
		*why_r = xasprintf("is owned by uid %lu, not root",
		    (unsigned long)owner);
		return -1;
	}
	if (!leaf && (mode & S_ISVTX))
		return 0;		/* /tmp: others cannot touch ours */
	if (mode & S_IWGRP) {
		*why_r = xstrdup("is writable by its group");
		return -1;
	}
	if (mode & S_IWOTH) {
		*why_r = xstrdup("is writable by others");
		return -1;
	}
	return 0;
}

/* check_one - dir_check_mode on path, the message naming it */
static int
check_one(const char *path, int leaf, char **why_r)
{
	struct stat	 sb;
	char		*why;

	if (stat(path, &sb) == -1) {
		*why_r = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	if (dir_check_mode(sb.st_uid, sb.st_mode, leaf, &why) == -1) {
		*why_r = xasprintf("%s %s", path, why);
		free(why);
		return -1;
	}
	return 0;
}

int
dir_check_path(const char *dir, int leaf_sticky_ok, int *missing_r,
    char **why_r)
{
	char		 real[PATH_MAX], *copy, *slash;
	const char	*base;
	int		 rc = -1, leaf = !leaf_sticky_ok;

	*missing_r = 0;
	if (realpath(dir, real) == NULL) {
		if (errno != ENOENT) {
			*why_r = xasprintf("%s: %s", dir, strerror(errno));
			return -1;
		}
		/* made at start, one level: its parent must be there */
		copy = xstrdup(dir);
		if ((slash = strrchr(copy, '/')) == NULL) {
			*why_r = xasprintf("%s: not an absolute path", dir);
			free(copy);
			return -1;
		}
		base = slash == copy ? "/" : copy;
		*slash = '\0';
		if (realpath(base, real) == NULL) {
			*why_r = xasprintf("%s: %s", base, strerror(errno));
			free(copy);
			return -1;
		}
		free(copy);
		*missing_r = 1;
		leaf = 0;		/* the parent: ebbd makes the leaf */
	}
	for (;;) {
		if (check_one(real, leaf, why_r) == -1)
			goto out;
		leaf = 0;
		if (strcmp(real, "/") == 0)
			break;
		slash = strrchr(real, '/');
		if (slash == real)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	rc = 0;
out:
	return rc;
}
