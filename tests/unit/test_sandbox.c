/*
 * test_sandbox.c - the child's seccomp allow-list, applied in a forked
 * process: what is on it works, what is not gets EPERM (not the error the
 * call would have had), and a call only an attacker makes kills the
 * process with SIGSYS; /proc/self/status shows the filter
 */
#include "config.h"

#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>

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

/* in_sandbox - fork, sandbox, run fn; the child's wait status */
static int
in_sandbox(int (*fn)(void))
{
	char	*err = NULL;
	pid_t	 pid;
	int	 status = 0, rc;

	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		if ((rc = sandbox_child(&err)) != 1) {
			fprintf(stderr, "sandbox_child: %d %s\n", rc,
			    err != NULL ? err : "");
			_exit(99);
		}
		_exit(fn());
	}
	if (waitpid(pid, &status, 0) != pid)
		fail_msg("waitpid: %s", strerror(errno));
	return status;
}

/* the table, and the filter's mode: exit 100 + the first bad case */
static int
run_tries(void)
{
	size_t	 i;
	long	 rc;

	if (seccomp_mode() != 2)
		return 100 + (int)nitems(tries);
	for (i = 0; i < nitems(tries); i++) {
		errno = 0;
		rc = tries[i].call();
		if (tries[i].want == 0 ? rc < 0 : rc != -1 ||
		    errno != tries[i].want) {
			fprintf(stderr, "%s: %ld, %s\n", tries[i].name, rc,
			    strerror(errno));
			return 100 + (int)i;
		}
	}
	return 0;
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
	status = in_sandbox(run_tries);
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
	status = in_sandbox(run_vm_read);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allow_list),
		cmocka_unit_test(test_fatal),
	};

	return cmocka_run_group_tests_name("sandbox", tests, NULL, NULL);
}
