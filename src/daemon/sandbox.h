/*
 * sandbox.h - confine ebbd's unprivileged processes further
 *
 * The child parses data from the internet (milter, HTTP, control
 * requests) and needs no new program, no debugger hooks and no new
 * privileges. After it has dropped to [general] user, sandbox_child()
 * sets no_new_privs and, when ebb is built with libseccomp, installs a
 * seccomp allow-list: the calls the child makes (sandbox.c says how they
 * were found) are allowed, any other gets EPERM and a line in the kernel
 * log, and execve, execveat, ptrace and process_vm_readv/writev kill it.
 *
 * No chroot and no empty mount namespace: after the sandbox is in place
 * the child still reads files the libraries open as they go (glibc's
 * resolver re-reads /etc/resolv.conf and /etc/host.conf when they change,
 * for libspf2's DNS; OpenSSL's openssl.cnf at first use; /etc/localtime;
 * /dev/urandom), writes its client state in STATE/milter and binds its
 * unix: milter socket wherever [milter] socket says; and once it is
 * unprivileged it could not chroot. The filesystem it sees is limited by
 * its user's permissions instead: the state directory and the ledger are
 * root's.
 */
#ifndef EBB_SANDBOX_H
#define EBB_SANDBOX_H

#include <sys/types.h>

/*
 * sandbox_drop - become uid and gid for good, as ebbd's child and scanner
 * do: "/" as the working directory, gid the only group, real, effective
 * and saved ids all set and checked (setuid(0) must fail), then no core
 * and not dumpable again. uid 0 (a scanner of a queue only root may
 * read) stays uid 0 without any capability: out of the bounding set,
 * with securebits locked so that none comes back, checked (a setuid to
 * another user must fail). 0, or -1 and *err_r (allocated).
 */
int	sandbox_drop(uid_t uid, gid_t gid, char **err_r);

/*
 * sandbox_child - confine the calling process for good. Returns 1 with the
 * seccomp filter in place, 0 with no_new_privs only (built without
 * libseccomp), -1 and *err_r (allocated) on failure.
 */
int	sandbox_child(char **err_r);

/*
 * sandbox_scanner - the same for ebbd's scanner (scanner.c), with a list
 * of its own: it reads directories and files and answers on a socket it
 * has. Files open for reading only, and the only socket it may make is a
 * datagram one (syslog's); nothing it may call writes, renames, removes
 * or changes the times or modes of a file.
 */
int	sandbox_scanner(char **err_r);

/*
 * sandbox_landlock - let the calling process read files and list
 * directories below rd[0..nrd) only, and also write, create, rename and
 * remove files and make sockets below wr[0..nwr), for good; nothing else
 * in the filesystem: no other read, no write, no execute (Landlock; stat
 * and what is open already are not affected). A path that does not
 * exist, or that the process cannot reach, is skipped; one that is not a
 * directory gets a file's rights only. Sets no_new_privs. 1 when in place, 0 when the kernel has no
 * Landlock, -1 and *err_r (allocated) on failure.
 *
 * The scanner reads below the queue's directories only: taken over, it
 * cannot read the proof key, even as a uid 0 without capabilities.
 */
int	sandbox_landlock(const char *const *rd, size_t nrd,
	    const char *const *wr, size_t nwr, char **err_r);

/*
 * sandbox_landlock_child - the child's: read /etc, /usr and the libraries
 * (what resolv.conf, localtime, openssl.cnf and NSS need), /dev/urandom;
 * write below state_dir (the milter's client state) and socket_dir (the
 * milter's unix socket), each NULL for none, and /dev/null. As
 * sandbox_landlock.
 */
int	sandbox_landlock_child(const char *state_dir, const char *socket_dir,
	    char **err_r);

#endif
