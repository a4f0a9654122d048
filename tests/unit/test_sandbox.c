/*
 * test_sandbox.c - the seccomp allow-lists of ebbd's child and of its
 * scanner, each applied in a forked process: what is on it works, what is
 * not gets EPERM (not the error the call would have had), and a call only
 * an attacker makes kills the process with SIGSYS; /proc/self/status
 * shows the filter. The scanner may open a file for reading, a directory
 * and a local datagram socket, and nothing that writes, creates,
 * truncates, renames, removes or touches a file, nor a stream socket, nor
 * a UDP one, nor signal another process. Its Landlock ruleset lets it
 * read below the directories it names and nowhere else; the child's lets
 * it read the system's files and write its client state only.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ebb/util.h"
#include "sandbox.h"

/* a call tried inside the sandbox, and the errno it must end with */
struct try {
	const char	*name;
	long		(*call)(void);
	int		 want;		/* 0: it succeeds (>= 0) */
};

static long
try_getpid(void)
{
	return syscall(SYS_getpid);
}

static long
try_pipe(void)
{
	int	 p[2];
	long	 rc;

	if ((rc = pipe(p)) == 0 && (rc = write(p[1], "x", 1)) == 1) {
		close(p[0]);
		close(p[1]);
		return 0;
	}
	return -1;
}

/* ENOENT without the filter: refused before the path is looked at */
static long
try_truncate(void)
{
	return syscall(SYS_truncate, "/nonexistent/ebb-sandbox", 0L);
}

static long
try_link(void)
{
	return syscall(SYS_linkat, AT_FDCWD, "/nonexistent/a", AT_FDCWD,
	    "/nonexistent/b", 0);
}

static long
try_socketpair(void)
{
	int	 sv[2];

	return syscall(SYS_socketpair, -1, 0, 0, sv);	/* EAFNOSUPPORT */
}

static const struct try tries[] = {
	{ "getpid", try_getpid, 0 },
	{ "pipe and write", try_pipe, 0 },
	{ "truncate", try_truncate, EPERM },
	{ "linkat", try_link, EPERM },
	{ "socketpair", try_socketpair, EPERM },
};

/* the scanner's: a file of the test's, made before the fork */
static char	 file[64];

static long
try_open_read(void)
{
	long	 fd;

	fd = syscall(SYS_openat, AT_FDCWD, file, O_RDONLY | O_CLOEXEC);

	if (fd >= 0)
		close((int)fd);
	return fd;
}

static long
try_open_dir(void)
{
	DIR	*d = opendir("/");
	long	 n = 0;

	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n > 0 ? 0 : -1;
}

static long
try_open_flags(int flags)
{
	return syscall(SYS_openat, AT_FDCWD, file, flags, 0600);
}

static long
try_open_write(void)
{
	return try_open_flags(O_WRONLY);
}

static long
try_open_rdwr(void)
{
	return try_open_flags(O_RDWR);
}

static long
try_open_trunc(void)
{
	return try_open_flags(O_RDONLY | O_TRUNC);
}

static long
try_open_append(void)
{
	return try_open_flags(O_WRONLY | O_APPEND);
}

static long
try_open_creat(void)
{
	return syscall(SYS_openat, AT_FDCWD, "/nonexistent/ebb-sandbox",
	    O_RDONLY | O_CREAT, 0600);
}

static long
try_unlink(void)
{
	return syscall(SYS_unlinkat, AT_FDCWD, file, 0);
}

static long
try_rename(void)
{
	return syscall(SYS_renameat, AT_FDCWD, file, AT_FDCWD,
	    "/nonexistent/ebb-sandbox");
}

static long
try_utime(void)
{
	return syscall(SYS_utimensat, AT_FDCWD, file, NULL, 0);
}

static long
try_chmod(void)
{
	return syscall(SYS_fchmodat, AT_FDCWD, file, 0777);
}

static long
try_stream(void)
{
	return syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
}

static long
try_dgram(void)
{
	long	 fd;

	fd = syscall(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd >= 0)
		close((int)fd);
	return fd;
}

static long
try_udp(void)
{
	return syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
}

static long
try_dup(void)
{
	long	 fd = syscall(SYS_dup, 2);

	if (fd >= 0)
		close((int)fd);
	return fd;
}

/* signal 0: the permission check alone */
static long
try_signal_self(void)
{
	return syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 0);
}

static long
try_signal_parent(void)
{
	return syscall(SYS_tgkill, getppid(), getppid(), 0);
}

static const struct try scanner_tries[] = {
	{ "getpid", try_getpid, 0 },
	{ "open for reading", try_open_read, 0 },
	{ "a directory, read", try_open_dir, 0 },
	{ "a datagram socket", try_dgram, 0 },
	{ "dup", try_dup, 0 },
	{ "a signal to itself", try_signal_self, 0 },
	{ "a signal to another process", try_signal_parent, EPERM },
	{ "a UDP socket", try_udp, EPERM },
	{ "open for writing", try_open_write, EPERM },
	{ "open for reading and writing", try_open_rdwr, EPERM },
	{ "open to truncate", try_open_trunc, EPERM },
	{ "open to append", try_open_append, EPERM },
	{ "open to create", try_open_creat, EPERM },
	{ "unlinkat", try_unlink, EPERM },
	{ "renameat", try_rename, EPERM },
	{ "utimensat", try_utime, EPERM },
	{ "fchmodat", try_chmod, EPERM },
	{ "a stream socket", try_stream, EPERM },
	{ "truncate", try_truncate, EPERM },
	{ "linkat", try_link, EPERM },
	{ "pipe and write", try_pipe, EPERM },
};

/* seccomp_mode - the Seccomp: line of /proc/self/status, -1 if none */
static int
seccomp_mode(void)
{
	FILE	*f;
	char	 line[256];
	int	 mode = -1;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	fclose(f);
	return mode;
}

/* in_sandbox - fork, sandbox with sb, run fn; the child's wait status */
static int
in_sandbox(int (*sb)(char **), int (*fn)(void))
{
	char	*err = NULL;
	pid_t	 pid;
	int	 status = 0, rc;

	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		if ((rc = sb(&err)) != 1) {
			fprintf(stderr, "sandbox: %d %s\n", rc,
			    err != NULL ? err : "");
			_exit(99);
		}
		_exit(fn());
	}
	if (waitpid(pid, &status, 0) != pid)
		fail_msg("waitpid: %s", strerror(errno));
	return status;
}

/* a table, and the filter's mode: exit 100 + the first bad case */
static int
run_table(const struct try *t, size_t n)
{
	size_t	 i;
	long	 rc;

	if (seccomp_mode() != 2)
		return 100 + (int)n;
	for (i = 0; i < n; i++) {
		errno = 0;
		rc = t[i].call();
		if (t[i].want == 0 ? rc < 0 : rc != -1 ||
		    errno != t[i].want) {
			fprintf(stderr, "%s: %ld, %s\n", t[i].name, rc,
			    strerror(errno));
			return 100 + (int)i;
		}
	}
	return 0;
}

static int
run_tries(void)
{
	return run_table(tries, nitems(tries));
}

static int
run_scanner_tries(void)
{
	return run_table(scanner_tries, nitems(scanner_tries));
}

static int
run_vm_read(void)
{
	char		 a[8], b[8];
	struct iovec	 l = { a, sizeof(a) }, r = { b, sizeof(b) };

	syscall(SYS_process_vm_readv, getppid(), &l, 1UL, &r, 1UL, 0UL);
	return 0;		/* not reached: killed */
}

static void
test_allow_list(void **state)
{
	int	 status;

	(void)state;
#ifndef HAVE_SECCOMP
	skip();
#endif
	status = in_sandbox(sandbox_child, run_tries);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) >= 100 &&
	    (size_t)WEXITSTATUS(status) < 100 + nitems(tries))
		fail_msg("case %s", tries[WEXITSTATUS(status) - 100].name);
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_fatal(void **state)
{
	int	 status;

	(void)state;
#ifndef HAVE_SECCOMP
	skip();
#endif
	status = in_sandbox(sandbox_child, run_vm_read);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
	status = in_sandbox(sandbox_scanner, run_vm_read);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void
test_scanner(void **state)
{
	struct stat	 sb;
	int		 status, fd;

	(void)state;
#ifndef HAVE_SECCOMP
	skip();
#endif
	snprintf(file, sizeof(file), "%s/ebb-sandbox.XXXXXX",
	    getenv("TMPDIR") != NULL && strlen(getenv("TMPDIR")) < 40 ?
	    getenv("TMPDIR") : "/tmp");
	if ((fd = mkstemp(file)) == -1)
		fail_msg("mkstemp: %s", strerror(errno));
	assert_int_equal(write(fd, "queue file", 10), 10);
	close(fd);
	status = in_sandbox(sandbox_scanner, run_scanner_tries);
	/* the file is whole: nothing in the table reached it */
	assert_int_equal(stat(file, &sb), 0);
	assert_int_equal(sb.st_size, 10);
	assert_int_equal(sb.st_mode & 07777, 0600);
	unlink(file);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) >= 100 &&
	    (size_t)WEXITSTATUS(status) < 100 + nitems(scanner_tries))
		fail_msg("case %s",
		    scanner_tries[WEXITSTATUS(status) - 100].name);
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* the Landlock test's directories: one the scanner may read, one not */
static char	 ok_dir[64], no_dir[64];

static int
path_open(const char *dir, const char *name, int flags)
{
	char	 path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return open(path, flags | O_CLOEXEC, 0600);
}

static int
rename_in(const char *dir, const char *from, const char *to)
{
	char	 a[128], b[128];

	snprintf(a, sizeof(a), "%s/%s", dir, from);
	snprintf(b, sizeof(b), "%s/%s", dir, to);
	return rename(a, b);
}

/* run_landlock - exit 0, or 100 + the number of the case that failed */
static int
run_landlock(void)
{
	const char	*dirs[] = { ok_dir };
	struct stat	 sb;
	char		 path[128], *err = NULL;
	int		 fd;

	if (sandbox_landlock(dirs, 1, NULL, 0, &err) != 1) {
		fprintf(stderr, "landlock: %s\n", err != NULL ? err : "none");
		return 99;
	}
	if ((fd = path_open(ok_dir, "f", O_RDONLY)) == -1)
		return 100;		/* a file below it: read */
	close(fd);
	if ((fd = open(ok_dir, O_RDONLY | O_DIRECTORY)) == -1)
		return 101;		/* the directory itself: listed */
	close(fd);
	if (path_open(no_dir, "f", O_RDONLY) != -1 || errno != EACCES)
		return 102;		/* a file elsewhere */
	if (open(no_dir, O_RDONLY | O_DIRECTORY) != -1 || errno != EACCES)
		return 103;		/* a directory elsewhere */
	if (path_open(ok_dir, "f", O_WRONLY) != -1 || errno != EACCES)
		return 104;		/* written: not even below it */
	if (path_open(ok_dir, "g", O_WRONLY | O_CREAT) != -1 ||
	    errno != EACCES)
		return 105;		/* created */
	if (open("/etc/passwd", O_RDONLY) != -1 || errno != EACCES)
		return 106;		/* the rest of the system */
	snprintf(path, sizeof(path), "%s/f", no_dir);
	if (stat(path, &sb) == -1)
		return 107;		/* stat is not read: as documented */
	return 0;
}

/*
 * landlock_case - ok_dir and no_dir, each with a file f; fn run in a
 * forked process, its exit status checked; the directories removed
 */
static void
landlock_case(int (*fn)(void))
{
	char	 path[128];
	pid_t	 pid;
	int	 status = 0, fd, i;
	const char *tmp = getenv("TMPDIR") != NULL &&
	    strlen(getenv("TMPDIR")) < 40 ? getenv("TMPDIR") : "/tmp";

	if (syscall(SYS_landlock_create_ruleset, NULL, 0, 1U) < 1)
		skip();		/* the kernel has none: nothing to test */
	for (i = 0; i < 2; i++) {
		snprintf(i ? no_dir : ok_dir, sizeof(ok_dir),
		    "%s/ebb-landlock.XXXXXX", tmp);
		if (mkdtemp(i ? no_dir : ok_dir) == NULL)
			fail_msg("mkdtemp: %s", strerror(errno));
		snprintf(path, sizeof(path), "%s/f", i ? no_dir : ok_dir);
		if ((fd = open(path, O_WRONLY | O_CREAT, 0600)) == -1)
			fail_msg("%s: %s", path, strerror(errno));
		close(fd);
	}
	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(fn());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/f", i ? no_dir : ok_dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/g", i ? no_dir : ok_dir);
		unlink(path);
		rmdir(i ? no_dir : ok_dir);
	}
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != 0)
		fail_msg("case %d", WEXITSTATUS(status) - 100);
}

static void
test_landlock(void **state)
{
	(void)state;
	landlock_case(run_landlock);
}

/* run_landlock_child - the child's rules: exit 0, or 100 + the case */
static int
run_landlock_child(void)
{
	char	*err = NULL;
	int	 fd;

	/* ok_dir: its client state's directory; no_dir: anywhere else */
	if (sandbox_landlock_child(ok_dir, NULL, &err) != 1) {
		fprintf(stderr, "landlock: %s\n", err != NULL ? err : "none");
		return 99;
	}
	if ((fd = open("/etc/hostname", O_RDONLY)) == -1 && errno != ENOENT)
		return 100;		/* what the libraries read */
	if (fd != -1)
		close(fd);
	if ((fd = path_open(ok_dir, "g", O_WRONLY | O_CREAT | O_TRUNC)) ==
	    -1)
		return 101;		/* its state, written anew */
	close(fd);
	if (rename_in(ok_dir, "g", "f") == -1)
		return 102;		/* and renamed into place */
	if (path_open(no_dir, "f", O_RDONLY) != -1 || errno != EACCES)
		return 103;		/* a file elsewhere, read */
	if (path_open(no_dir, "g", O_WRONLY | O_CREAT) != -1 ||
	    errno != EACCES)
		return 104;		/* or made */
	if ((fd = open("/dev/null", O_WRONLY)) == -1)
		return 105;
	close(fd);
	return 0;
}

static void
test_landlock_child(void **state)
{
	(void)state;
	landlock_case(run_landlock_child);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allow_list),
		cmocka_unit_test(test_fatal),
		cmocka_unit_test(test_scanner),
		cmocka_unit_test(test_landlock),
		cmocka_unit_test(test_landlock_child),
	};

	return cmocka_run_group_tests_name("sandbox", tests, NULL, NULL);
}
