/*
 * exec.c - run an MTA command without a shell, with input and a timeout
 *
 * fork + execve with a fixed environment; the child gets a socket as its
 * standard input (so writing to a child that exits early fails with EPIPE
 * through MSG_NOSIGNAL instead of killing ebb with SIGPIPE), pipes for its
 * standard output and error, the default signal dispositions and mask, and
 * no other descriptors. The parent feeds and drains all three with poll,
 * so a command that writes a lot before reading its input cannot deadlock.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ebb/exec.h"
#include "ebb/util.h"

static char *const exec_env[] = {
	"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	NULL
};

char *
exec_find(const char *name)
{
	static const char *const dirs[] = {
		"/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/bin", "/bin"
	};
	char		*path;
	size_t		 i;

	for (i = 0; i < nitems(dirs); i++) {
		path = xasprintf("%s/%s", dirs[i], name);
		if (access(path, X_OK) == 0)
			return path;
		free(path);
	}
	return NULL;
}

char *
exec_first_line(const char *text)
{
	size_t		 len;

	if (text == NULL)
		return xstrdup("");
	while (*text == '\n' || *text == '\r')
		text++;
	len = strcspn(text, "\r\n");
	return xstrndup(text, MINIMUM(len, (size_t)200));
}

void
exec_result_free(struct exec_result *res)
{
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
	res->out_len = 0;
}

/*
 * exec_child - in the child: wire up descriptors and execve; never returns.
 * ebbd has threads (libmilter's), so only async-signal-safe calls here.
 */
static void
exec_child(const char *const argv[], int in, int out, int err)
{
	sigset_t	 none;
	int		 fd, sig;

	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
#endif
		for (fd = 3; fd < 1024; fd++)
			(void)close(fd);
	for (sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL);
	/*
	 * Postfix's trigger clients (postkick) write to a socket the server
	 * may already have closed after reading the request: with SIGPIPE
	 * ignored they see EPIPE and finish instead of dying of the signal.
	 */
	(void)signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve(argv[0], (char *const *)(void *)argv, exec_env);
	/* only async-signal-safe calls after fork: no stdio */
	(void)!write(2, "cannot execute ", 15);
	(void)!write(2, argv[0], strlen(argv[0]));
	(void)!write(2, "\n", 1);
	_exit(127);
}

pid_t
exec_spawn(const char *const argv[], char **err_r)
{
	pid_t		 pid;
	int		 fd;

	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
		*err_r = xasprintf("/dev/null: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) < 0) {
		*err_r = xasprintf("%s: fork: %s", argv[0], strerror(errno));
		close(fd);
		return -1;
	}
	if (pid == 0)
		exec_child(argv, fd, fd, fd);
	close(fd);
	return pid;
}

/* exec_append - append what fd has to *buf; 0 at EOF, 1 more, -1 error */
static int
exec_append(int fd, char **buf, size_t *len, size_t *cap, size_t max,
    int keep_all)
{
	char		 tmp[65536];
	ssize_t		 n;
	size_t		 take;

	if ((n = read(fd, tmp, sizeof(tmp))) == 0)
		return 0;
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -1;
	take = (size_t)n;
	if (*len + take > max) {
		if (keep_all)
			return -2;
		take = max - *len;	/* stderr: keep the start */
	}
	if (*len + take + 1 > *cap) {
		while (*len + take + 1 > *cap)
			*cap = *cap ? *cap * 2 : 4096;
		*buf = xreallocarray(*buf, *cap, 1);
	}
	memcpy(*buf + *len, tmp, take);
	*len += take;
	(*buf)[*len] = '\0';
	return 1;
}

static double
exec_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
exec_run(const char *const argv[], const char *in, size_t in_len,
    int want_out, int timeout, struct exec_result *res, char **err_r)
{
	int		 sv[2] = { -1, -1 }, po[2] = { -1, -1 };
	int		 pe[2] = { -1, -1 };
	struct pollfd	 pfd[3];
	size_t		 in_off = 0, out_cap = 0, err_cap = 0, err_len = 0;
	double		 deadline = timeout > 0 ? exec_now() + timeout : 0;
	pid_t		 pid;
	int		 status, r, n, i, ms, fail = 0;
	char		*why = NULL;

	memset(res, 0, sizeof(*res));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		why = xasprintf("%s: pipe: %s", argv[0], strerror(errno));
		goto close_all;
	}
	if ((pid = fork()) < 0) {
		why = xasprintf("%s: fork: %s", argv[0], strerror(errno));
		goto close_all;
	}
	if (pid == 0)
		exec_child(argv, sv[1], po[1], pe[1]);
	close(sv[1]);
	close(po[1]);
	close(pe[1]);
	sv[1] = po[1] = pe[1] = -1;
	if (in_len == 0)
		shutdown(sv[0], SHUT_WR);
	for (i = 0; i < 2; i++)
		fcntl(i ? pe[0] : po[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);

	while (po[0] >= 0 || pe[0] >= 0) {
		n = 0;
		if (in_off < in_len) {
			pfd[n].fd = sv[0];
			pfd[n++].events = POLLOUT;
		}
		if (po[0] >= 0) {
			pfd[n].fd = po[0];
			pfd[n++].events = POLLIN;
		}
		if (pe[0] >= 0) {
			pfd[n].fd = pe[0];
			pfd[n++].events = POLLIN;
		}
		ms = -1;
		if (deadline > 0) {
			ms = (int)((deadline - exec_now()) * 1000);
			if (ms <= 0) {
				why = xasprintf("%s: timed out after %d s",
				    argv[0], timeout);
				fail = 1;
				break;
			}
		}
		if ((r = poll(pfd, n, ms)) < 0) {
			if (errno == EINTR)
				continue;
			why = xasprintf("%s: poll: %s", argv[0],
			    strerror(errno));
			fail = 1;
			break;
		}
		for (i = 0; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (pfd[i].fd == sv[0]) {
				ssize_t w = send(sv[0], in + in_off,
				    in_len - in_off, MSG_NOSIGNAL);

				if (w > 0)
					in_off += (size_t)w;
				else if (w < 0 && errno != EAGAIN &&
				    errno != EINTR)
					in_off = in_len;	/* it quit */
				if (in_off == in_len)
					shutdown(sv[0], SHUT_WR);
			} else if (pfd[i].fd == po[0]) {
				r = want_out ? exec_append(po[0], &res->out,
				    &res->out_len, &out_cap, EXEC_OUT_MAX, 1) :
				    exec_append(po[0], &res->err, &err_len,
				    &err_cap, EXEC_ERR_MAX, 0);
				if (r == -2) {
					why = xasprintf("%s: more than %lu "
					    "bytes of output", argv[0],
					    EXEC_OUT_MAX);
					fail = 1;
				}
				if (r <= 0) {
					close(po[0]);
					po[0] = -1;
				}
			} else {
				if (exec_append(pe[0], &res->err, &err_len,
				    &err_cap, EXEC_ERR_MAX, 0) <= 0) {
					close(pe[0]);
					pe[0] = -1;
				}
			}
		}
		if (fail)
			break;
	}
	if (fail)
		kill(pid, SIGKILL);	/* our own child, by its pid */
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			if (why == NULL)
				why = xasprintf("%s: waitpid: %s", argv[0],
				    strerror(errno));
			fail = 1;
			break;
		}
	if (!fail) {
		if (WIFEXITED(status))
			res->status = WEXITSTATUS(status);
		else {
			why = xasprintf("%s: killed by signal %d", argv[0],
			    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
			fail = 1;
		}
	}
	if (res->err == NULL)
		res->err = xstrdup("");
	if (want_out && res->out == NULL)
		res->out = xstrdup("");

close_all:
	for (i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	if (why != NULL) {
		*err_r = why;
		return -1;
	}
	return 0;
}
