/*
 * dir_check.h - is a directory safe for what root keeps in it?
 *
 * ebbd, as root, keeps its ledger and lock in [general] state_directory
 * and its control socket in the socket's directory. Whoever can write to
 * such a directory, or to one above it, can replace what is in it: take
 * the drain lock so that failsafe never runs, swap the ledger, put a
 * socket of their own where ebbctl will talk to it as root. So each
 * directory on the way must be root's and written by root alone; one
 * above may also be writable by all with the sticky bit (/tmp), which
 * keeps others from renaming or removing root's entries.
 *
 * dir_check_mode is the rule, pure; dir_check_path applies it to each
 * directory of a real path.
 */
#ifndef EBB_DIR_CHECK_H
#define EBB_DIR_CHECK_H

#include <sys/types.h>

/*
 * dir_check_mode - 0 when a directory owned by owner with st_mode mode is
 * safe, else -1 and *why_r (allocated): "is not a directory", "is owned
 * by uid N, not root", "is writable by its group", "is writable by
 * others". leaf: the directory itself (no sticky exception), else one
 * above it.
 */
int	dir_check_mode(uid_t owner, mode_t mode, int leaf, char **why_r);

/*
 * dir_check_path - dir_check_mode on dir (the leaf; sticky allowed when
 * leaf_sticky_ok) and each directory above it up to /, after resolving
 * symbolic links. A dir that does not exist yet is fine when its parent
 * is (ebbd makes it, one level); *missing_r says so. 0, or -1 and
 * *why_r (allocated) naming the directory at fault.
 */
int	dir_check_path(const char *dir, int leaf_sticky_ok, int *missing_r,
	    char **why_r);

#endif
