/*
 * test_listen_guard.c - a guarded listener out of file descriptors
 *
 * A real listener on loopback, in a process whose descriptor limit is a
 * few dozen, and another process that connects a hundred times and
 * holds the connections: the listener takes what it can until accept(2)
 * fails with EMFILE. Unguarded, libevent would try again at once, for
 * ever (the child's 112% CPU and millions of log lines of the issue).
 * Guarded, the process must stay idle, log the failure once, and accept
 * again within a second of descriptors coming free. And at a cap the
 * listener stops taking connections, and takes them again below it.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "ebb/log.h"
#include "ebb/util.h"
#include "listen_guard.h"

#define HELD_MAX	256

struct state {
	struct event_base	*base;
	struct evconnlistener	*lev;
	struct listen_guard	*guard;
	struct sockaddr_in	 sin;
	int			 held[HELD_MAX];	/* accepted, kept */
	size_t			 nheld;
	size_t			 accepted;		/* in all */
	pid_t			 client;
};

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct state	*st = arg;

	(void)l;
	(void)sa;
	(void)salen;
	st->accepted++;
	if (st->nheld == HELD_MAX) {
		close(fd);
		return;
	}
	st->held[st->nheld++] = fd;
	listen_guard_opened(st->guard);
}

/* drop - close n of the connections held, oldest first */
static void
drop(struct state *st, size_t n)
{
	size_t	 i;

	for (i = 0; i < n && st->nheld > 0; i++) {
		close(st->held[0]);
		memmove(st->held, st->held + 1,
		    (st->nheld - 1) * sizeof(*st->held));
		st->nheld--;
		listen_guard_closed(st->guard);
	}
}

/* client - connect n times to sin, hold them for secs, exit */
static void
client(const struct sockaddr_in *sin, int n, int secs)
{
	struct rlimit	 rl;
	int		 i, fd;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (i = 0; i < n; i++) {
		if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) ==
		    -1)
			break;
		if (connect(fd, (const struct sockaddr *)sin,
		    sizeof(*sin)) == -1 && errno != EINPROGRESS)
			break;
	}
	sleep((unsigned)secs);
	_exit(0);
}

/* cpu - user + system seconds this process has used */
static double
cpu(void)
{
	struct rusage	 ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* run - the loop for secs seconds */
static void
run(struct state *st, double secs)
{
	struct timeval	 tv;

	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	event_base_loopexit(st->base, &tv);
	event_base_dispatch(st->base);
}

/* count_lines - lines of path holding text */
static int
count_lines(const char *path, const char *text)
{
	FILE	*fp;
	char	 line[1024];
	int	 n = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, text) != NULL)
			n++;
	fclose(fp);
	return n;
}

static int
setup(void **state)
{
	struct state	*st;
	socklen_t	 len;
	int		 fd, on = 1;

	st = xcalloc(1, sizeof(*st));
	assert_non_null(st->base = event_base_new());
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	st->sin.sin_family = AF_INET;
	st->sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&st->sin,
	    sizeof(st->sin)), 0);
	len = sizeof(st->sin);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&st->sin, &len),
	    0);
	assert_int_equal(listen(fd, 128), 0);
	st->lev = evconnlistener_new(st->base, on_accept, st,
	    LEV_OPT_CLOSE_ON_FREE, -1, fd);
	assert_non_null(st->lev);
	st->client = -1;
	*state = st;
	return 0;
}

static int
teardown(void **state)
{
	struct state	*st = *state;
	int		 status;

	drop(st, st->nheld);
	listen_guard_free(&st->guard);
	evconnlistener_free(st->lev);
	event_base_free(st->base);
	if (st->client > 0) {
		kill(st->client, SIGKILL);
		waitpid(st->client, &status, 0);
	}
	free(st);
	return 0;
}

/* out of descriptors: calm, one warning, accepting again when freed */
static void
test_emfile_rests(void **state)
{
	struct state	*st = *state;
	struct rlimit	 rl, saved;
	char		 logpath[] = "/tmp/test_listen_guard.XXXXXX";
	double		 c0, c1;
	size_t		 before;
	int		 logfd, errfd, lines;

	st->guard = listen_guard_new(st->base, st->lev, "test", 1000);
	assert_true((logfd = mkstemp(logpath)) >= 0);
	errfd = dup(2);
	dup2(logfd, 2);			/* log_warn writes to stderr */

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	rl = saved;
	rl.rlim_cur = 48;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	if ((st->client = fork()) == 0)
		client(&st->sin, 100, 30);
	assert_true(st->client > 0);

	run(st, 0.5);			/* fill the table */
	c0 = cpu();
	run(st, 2.0);
	c1 = cpu();
	before = st->accepted;
	drop(st, 10);			/* descriptors come free */
	run(st, 1.2);			/* the longest rest is 1 s */

	setrlimit(RLIMIT_NOFILE, &saved);
	dup2(errfd, 2);
	close(errfd);
	close(logfd);
	lines = count_lines(logpath, "accept:");
	unlink(logpath);

	if (st->nheld < 20)
		fail_msg("only %zu connections taken before EMFILE", st->nheld);
	if (c1 - c0 > 0.3)
		fail_msg("%.2f s of CPU in 2 s out of descriptors: spinning",
		    c1 - c0);
	if (lines != 1)
		fail_msg("%d warnings about accept, want 1", lines);
	if (st->accepted < before + 5)
		fail_msg("%zu accepted after 10 descriptors came free, want "
		    "at least 5", st->accepted - before);
}

/* at the cap the listener waits; below it, it takes the rest */
static void
test_cap(void **state)
{
	struct state	*st = *state;
	int		 errfd, nullfd;

	st->guard = listen_guard_new(st->base, st->lev, "test", 5);
	nullfd = open("/dev/null", O_WRONLY);
	errfd = dup(2);
	dup2(nullfd, 2);
	if ((st->client = fork()) == 0)
		client(&st->sin, 12, 30);
	assert_true(st->client > 0);
	run(st, 0.5);
	assert_int_equal(st->nheld, 5);
	assert_int_equal(listen_guard_count(st->guard), 5);
	assert_int_equal(st->accepted, 5);
	drop(st, 3);
	run(st, 0.3);
	assert_int_equal(st->nheld, 5);
	assert_int_equal(st->accepted, 8);
	drop(st, 5);
	run(st, 0.3);
	assert_int_equal(st->accepted, 12);
	assert_int_equal(st->nheld, 4);
	dup2(errfd, 2);
	close(errfd);
	close(nullfd);
}

/* a guard freed with connections open goes with the last of them */
static void
test_outlives_owner(void **state)
{
	struct state	*st = *state;
	struct listen_guard *g;

	g = listen_guard_new(st->base, st->lev, "test", 3);
	listen_guard_opened(g);
	listen_guard_opened(g);
	st->guard = g;
	listen_guard_free(&st->guard);
	assert_null(st->guard);
	listen_guard_closed(g);
	listen_guard_closed(g);		/* frees it: ASan would see a leak */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_emfile_rests, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outlives_owner, setup,
		    teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	log_init("test_listen_guard", 1, 0);
	return cmocka_run_group_tests_name("listen_guard", tests, NULL, NULL);
}
