/*
 * sandbox.c - no_new_privs and a seccomp allow-list for ebbd's child
 *
 * See sandbox.h. The filter is built with libseccomp (no hand-written
 * BPF). The list is what the child was seen to call, under strace -f, in
 * the integration tests of ebbd, its control socket, its limits, the
 * milter (Postfix and Sendmail, SPF, the proof of a hold) and the HTTP
 * page, with ASan and without, plus the calls the same code makes on
 * paths the tests do not take (a DNS query for SPF, a signal handler
 * returning, a thread that cannot start). A call that is not on it gets
 * EPERM, which the library that made it handles as a failure, and the
 * kernel logs it (SCMP_FLTATR_CTL_LOG: "audit: type=1326 ... syscall=N"
 * in the kernel log), so a call missing here shows up in the log rather
 * than as a mystery. A call that only an attacker makes (another
 * program, another process's memory) kills the child outright.
 *
 * clone and clone3 are allowed whole. clone3 passes its flags in memory,
 * where a filter cannot look; refusing it (glibc's pthread_create then
 * falls back to clone, whose flags can be checked) would put a line in
 * the kernel log for every milter connection, each a thread, and drown
 * the lines that matter. A process the child could fork still runs no
 * other program.
 *
 * Sanitizer builds need more: LeakSanitizer stops the threads at exit
 * with ptrace from a helper made by clone, and waits for it; ASan reads
 * /proc/self/maps and may run its symbolizer. Those are allowed in
 * sanitizer builds only (SANDBOX_ASAN); a release build kills on them.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/capability.h>
#ifdef HAVE_LINUX_LANDLOCK_H
#include <linux/landlock.h>
/* Linux 6.2's, not in 6.1's header: a truncate needs it once handled */
#define LANDLOCK_TRUNCATE	(1ULL << 14)
/* the rights a rule for a path that is not a directory may grant */
#define LANDLOCK_FILE_RIGHTS	(LANDLOCK_ACCESS_FS_EXECUTE | \
	LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
	LANDLOCK_TRUNCATE)
#endif
#include <linux/securebits.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_SECCOMP
#include <seccomp.h>
#endif

#include "ebb/util.h"
#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN	1
#endif
#endif

#ifdef HAVE_SECCOMP
/* what both confined processes call: memory, threads, time, signals */
static const char *const base[] = {
	/* memory, threads (libmilter's, the resolver's, the scan's), time */
	"brk", "mmap", "munmap", "mprotect", "mremap", "madvise",
	"futex", "clone", "clone3", "set_robust_list", "get_robust_list",
	"rseq", "set_tid_address", "gettid", "exit", "exit_group",
	"sched_yield", "sched_getaffinity", "membarrier",
	"clock_gettime", "clock_getres", "clock_nanosleep", "gettimeofday",
	"time", "nanosleep", "getrandom",
	/* signals: the libmilter signal thread's sigwait, abort */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait",
	"rt_sigpending", "sigaltstack", "getpid", "getppid",
	"restart_syscall",
	/* credentials, limits: read only */
	"getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid",
	"getresgid", "prlimit64", "getrlimit", "uname", "umask",
	/* no_new_privs is set already; prctl also names threads */
	"prctl",
#ifdef SANDBOX_ASAN
	/* LeakSanitizer's StopTheWorld and ASan's reports */
	"ptrace", "wait4", "waitid", "getdents", "getdents64", "mincore",
	"kill", "sched_getparam", "sched_getscheduler", "execve",
#endif
};

/* what the child calls besides, by what for */
static const char *const allowed[] = {
	/* signals to its own threads (the scanner's are narrower) */
	"tgkill", "tkill",
	/* descriptors and events: libevent, libmilter's poll loop */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "close",
	"lseek", "fcntl", "ioctl", "dup", "dup2", "dup3", "pipe", "pipe2",
	"poll", "ppoll", "select", "pselect6", "epoll_create",
	"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	"epoll_pwait2", "eventfd2", "timerfd_create", "timerfd_settime",
	"timerfd_gettime",
	/* sockets: milter, HTTP, control, syslog, DNS for SPF */
	"socket", "bind", "listen", "accept", "accept4", "connect",
	"shutdown", "setsockopt", "getsockopt", "getsockname", "getpeername",
	"sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg",
	/*
	 * files: the milter's client state (STATE/milter: written anew,
	 * renamed into place), its socket (replaced at start), and what the
	 * libraries read as they go: resolv.conf and host.conf (re-read when
	 * they change), localtime, openssl.cnf, /dev/urandom
	 */
	"open", "openat", "stat", "fstat", "lstat", "newfstatat", "statx",
	"access", "faccessat", "faccessat2", "readlink", "readlinkat",
	"mkdir", "mkdirat", "rename", "renameat", "renameat2", "unlink",
	"unlinkat", "fsync", "fdatasync", "ftruncate", "getcwd",
};

/*
 * what the scanner calls besides: its socket to the parent, syslog's
 * (opened before the filter), directories and files to read. open and
 * openat are allowed for reading only (scanner_open below), socket for
 * a datagram socket only (syslog reconnecting): no stream to Postfix's
 * services, which its user could otherwise reach.
 */
static const char *const scanner_allowed[] = {
	"read", "write", "readv", "writev", "pread64", "close", "lseek",
	"fcntl", "dup", "poll", "ppoll", "sendto", "sendmsg", "recvfrom",
	"recvmsg", "connect", "getsockopt", "setsockopt",
	"fstat", "stat", "lstat", "newfstatat", "statx", "getdents64",
	"getdents", "access", "faccessat", "faccessat2", "readlink",
	"readlinkat", "getcwd",
};

/* what only an attacker would call: kill the child */
static const char *const fatal[] = {
#ifndef SANDBOX_ASAN
	"execve", "ptrace",
#endif
	"execveat", "process_vm_readv", "process_vm_writev",
};

/* add - one rule per name; a call this architecture lacks needs none */
static int
add(scmp_filter_ctx ctx, uint32_t action, const char *const *names,
    size_t n, char **err_r)
{
	size_t	 i;
	int	 nr, rc;

	for (i = 0; i < n; i++) {
		if ((nr = seccomp_syscall_resolve_name(names[i])) ==
		    __NR_SCMP_ERROR)
			continue;
		if ((rc = seccomp_rule_add(ctx, action, nr, 0)) < 0) {
			*err_r = xasprintf("seccomp: %s: %s", names[i],
			    strerror(-rc));
			return -1;
		}
	}
	return 0;
}

/*
 * scanner_open - open and openat for reading only: no O_WRONLY, O_RDWR,
 * O_CREAT, O_TRUNC, O_APPEND or O_TMPFILE (whose flag holds O_DIRECTORY's
 * bit, left alone: a directory is opened to be read); socket for a local
 * datagram socket only (syslog's; no UDP out); tgkill to its own threads
 * only (abort, a thread's signal): a scanner that stayed uid 0 (without
 * capabilities) signals no other process of root's
 */
static int
scanner_open(scmp_filter_ctx ctx, char **err_r)
{
	const scmp_datum_t mask = O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND |
	    (O_TMPFILE & ~O_DIRECTORY);
	int	 rc;

	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, mask, O_RDONLY))) < 0 ||
	    (seccomp_syscall_resolve_name("open") != __NR_SCMP_ERROR &&
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1,
	    SCMP_A1(SCMP_CMP_MASKED_EQ, mask, O_RDONLY))) < 0) ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
	    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_DGRAM))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()))) < 0) {
		*err_r = xasprintf("seccomp: open: %s", strerror(-rc));
		return -1;
	}
	return 0;
}
#endif

/*
 * drop_capabilities - stay uid 0 with no capability, for good: out of the
 * bounding set, securebits locked so that uid 0 gains none back (not by
 * execve, not by a setuid), none ambient, none effective, permitted or
 * inheritable; checked
 */
static int
drop_capabilities(char **err_r)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3,
	    0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	const unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
	    SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
	    SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
	    SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
	size_t		 i;
	int		 cap;

	for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1)
			goto fail;
	if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) == -1 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		goto fail;
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) == -1 ||
	    syscall(SYS_capget, &hdr, data) == -1)
		goto fail;
	for (i = 0; i < nitems(data); i++)
		if (data[i].effective != 0 || data[i].permitted != 0 ||
		    data[i].inheritable != 0) {
			*err_r = xstrdup("capabilities not dropped");
			return -1;
		}
	return 0;
fail:
	*err_r = xasprintf("cannot drop capabilities: %s", strerror(errno));
	return -1;
}

int
sandbox_drop(uid_t uid, gid_t gid, char **err_r)
{
	struct rlimit	 rl = { 0, 0 };

	if (chdir("/") == -1) {
		*err_r = xasprintf("chdir /: %s", strerror(errno));
		return -1;
	}
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		*err_r = xasprintf("cannot drop privileges to uid %ld: %s",
		    (long)uid, strerror(errno));
		return -1;
	}
	if (uid == 0 && drop_capabilities(err_r) == -1)
		return -1;
	/* uid 0 without CAP_SETUID cannot become anyone else either */
	if (setuid(uid == 0 ? 65534 : 0) != -1 || geteuid() != uid) {
		*err_r = xstrdup("privileges not dropped: still root");
		return -1;
	}
	/* setuid makes a process dumpable again */
	if (setrlimit(RLIMIT_CORE, &rl) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
		*err_r = xasprintf("no core: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* confine - no_new_privs, then the filter of the child or the scanner */
static int
confine(int scanner, char **err_r)
{
#ifdef HAVE_SECCOMP
	scmp_filter_ctx	 ctx;
	int		 rc;
#endif

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		*err_r = xasprintf("prctl(PR_SET_NO_NEW_PRIVS): %s",
		    strerror(errno));
		return -1;
	}
#ifdef HAVE_SECCOMP
	if ((ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM))) == NULL) {
		*err_r = xstrdup("seccomp_init failed");
		return -1;
	}
	/* the kernel logs what is refused; an old kernel cannot, no matter */
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
	if (add(ctx, SCMP_ACT_ALLOW, base, nitems(base), err_r) == -1 ||
	    (scanner ? add(ctx, SCMP_ACT_ALLOW, scanner_allowed,
	    nitems(scanner_allowed), err_r) == -1 ||
	    scanner_open(ctx, err_r) == -1 :
	    add(ctx, SCMP_ACT_ALLOW, allowed, nitems(allowed), err_r) == -1) ||
	    add(ctx, SCMP_ACT_KILL_PROCESS, fatal, nitems(fatal),
	    err_r) == -1)
		goto fail;
	if ((rc = seccomp_load(ctx)) < 0) {
		*err_r = xasprintf("seccomp_load: %s", strerror(-rc));
		goto fail;
	}
	seccomp_release(ctx);
	return 1;
fail:
	seccomp_release(ctx);
	return -1;
#else
	(void)scanner;
	return 0;
#endif
}

int
sandbox_child(char **err_r)
{
	return confine(0, err_r);
}

int
sandbox_scanner(char **err_r)
{
	return confine(1, err_r);
}

#ifdef HAVE_LINUX_LANDLOCK_H
/* the file access rights of each Landlock ABI, as far as ebb knows */
static uint64_t
landlock_rights(int abi)
{
	uint64_t	 r;

	r = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
	    LANDLOCK_ACCESS_FS_MAKE_SYM;
	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= LANDLOCK_TRUNCATE;
	return r;
}

/*
 * landlock_add - a rule for path: access, cut to the rights a file can
 * have when it is not a directory (/dev/urandom), and to those the
 * ruleset handles; a path that does not exist, or that the process
 * cannot reach (a directory on the way it may not search), needs none
 */
static int
landlock_add(int rfd, const char *path, uint64_t access, uint64_t handled,
    char **err_r)
{
	struct landlock_path_beneath_attr pb;
	struct stat	 sb;
	int		 fd;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1) {
		if (errno == ENOENT || errno == EACCES)
			return 0;
		*err_r = xasprintf("landlock: %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		*err_r = xasprintf("landlock: %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = access & handled;
	if (!S_ISDIR(sb.st_mode))
		pb.allowed_access &= LANDLOCK_FILE_RIGHTS;
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH,
	    &pb, 0) == -1) {
		*err_r = xasprintf("landlock: %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}
#endif

int
sandbox_landlock(const char *const *rd, size_t nrd, const char *const *wr,
    size_t nwr, char **err_r)
{
#ifdef HAVE_LINUX_LANDLOCK_H
	struct landlock_ruleset_attr attr;
	const uint64_t	 read = LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR;
	const uint64_t	 write = read | LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_TRUNCATE;
	size_t		 i;
	long		 abi;
	int		 rfd, rc = 0;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1)
		return 0;	/* a kernel without it (ENOSYS, EOPNOTSUPP) */
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = landlock_rights((int)abi);
	if ((rfd = (int)syscall(SYS_landlock_create_ruleset, &attr,
	    sizeof(attr.handled_access_fs), 0)) == -1) {
		*err_r = xasprintf("landlock: %s", strerror(errno));
		return -1;
	}
	for (i = 0; rc == 0 && i < nrd; i++)
		rc = landlock_add(rfd, rd[i], read, attr.handled_access_fs,
		    err_r);
	for (i = 0; rc == 0 && i < nwr; i++)
		rc = landlock_add(rfd, wr[i], write, attr.handled_access_fs,
		    err_r);
	if (rc == 0 && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    syscall(SYS_landlock_restrict_self, rfd, 0) == -1)) {
		*err_r = xasprintf("landlock: %s", strerror(errno));
		rc = -1;
	}
	close(rfd);
	return rc == 0 ? 1 : -1;
#else
	(void)rd;
	(void)nrd;
	(void)wr;
	(void)nwr;
	(void)err_r;
	return 0;
#endif
}

int
sandbox_landlock_child(const char *state_dir, const char *socket_dir,
    char **err_r)
{
	/*
	 * what the libraries read as they go (resolv.conf, host.conf,
	 * localtime and the zone it links to, openssl.cnf, NSS modules);
	 * a sanitizer build also reads /proc/self/maps and runs its
	 * symbolizer
	 */
	static const char *const rd[] = {
		"/etc", "/usr", "/lib", "/lib64", "/dev/urandom",
#ifdef SANDBOX_ASAN
		"/proc",
#endif
	};
	const char	*wr[3];
	size_t		 n = 0;

	wr[n++] = "/dev/null";
	if (state_dir != NULL)
		wr[n++] = state_dir;
	if (socket_dir != NULL)
		wr[n++] = socket_dir;
	return sandbox_landlock(rd, nitems(rd), wr, n, err_r);
}
