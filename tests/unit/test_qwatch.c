/*
 * test_qwatch.c - the live index's event logic, without the kernel
 *
 * A fake inotify (struct qwatch_sys) hands out a watch descriptor per
 * path and the events a case writes into its buffer; a fake backend
 * keeps its queue in a table, counts full scans and records which ids
 * it was asked to refresh, and where. Directories are real (a temporary
 * tree): qwatch lists them to watch the subdirectories. Time is passed
 * in; nothing sleeps.
 */
#include "config.h"

#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ebb/index.h"
#include "ebb/log.h"
#include "ebb/msg.h"
#include "ebb/mta.h"
#include "ebb/qwatch.h"
#include "ebb/util.h"

#define MAXF	64

/* the fake kernel */
static struct {
	int	 inits, closes;
	char	 paths[64][256];	/* wd - 1 -> path */
	int	 npaths;
	int	 fail_add;		/* errno for every add, 0: none */
	char	 buf[65536];
	size_t	 len;
} k;

/* the fake backend's queue: id -> queue, size; and what it was asked */
static struct {
	char	 id[MAXF][MSG_QUEUE_ID_MAX];
	int	 queue[MAXF];
	uint64_t size[MAXF];
	int	 n;
	int	 scans;
	char	 refreshed[256][MSG_QUEUE_ID_MAX + 256];	/* "id dir" */
	int	 nrefreshed;
	void	(*during_scan)(void);
} f;

static char	 top[256];		/* the temporary tree */
static char	 root[300];		/* top/q: the one queue directory */

static int
fk_init(void *arg)
{
	(void)arg;
	k.inits++;
	return 100 + k.inits;
}

static int
fk_add(void *arg, int fd, const char *path, uint32_t mask)
{
	int	 i;

	(void)arg;
	(void)fd;
	(void)mask;
	if (k.fail_add) {
		errno = k.fail_add;
		return -1;
	}
	for (i = 0; i < k.npaths; i++)
		if (strcmp(k.paths[i], path) == 0)
			return i + 1;
	ebb_strlcpy(k.paths[k.npaths], path, sizeof(k.paths[0]));
	return ++k.npaths;
}

static ssize_t
fk_read(void *arg, int fd, void *buf, size_t len)
{
	size_t	 n = k.len;

	(void)arg;
	(void)fd;
	if (n == 0) {
		errno = EAGAIN;
		return -1;
	}
	assert_true(n <= len);
	memcpy(buf, k.buf, n);
	k.len = 0;
	return (ssize_t)n;
}

static void
fk_close(void *arg, int fd)
{
	(void)arg;
	(void)fd;
	k.closes++;
}

static const struct qwatch_sys fake_sys = {
	fk_init, fk_add, fk_read, fk_close, NULL
};

/* wd_of - the watch descriptor the fake gave path, -1 none */
static int
wd_of(const char *path)
{
	int	 i;

	for (i = 0; i < k.npaths; i++)
		if (strcmp(k.paths[i], path) == 0)
			return i + 1;
	return -1;
}

/* ev - queue one event, as the kernel lays it out (name padded) */
static void
ev(int wd, uint32_t mask, const char *name)
{
	struct inotify_event e;
	size_t	 nl = name != NULL ? strlen(name) + 1 : 0;
	size_t	 pad = (nl + 15) / 16 * 16;

	memset(&e, 0, sizeof(e));
	e.wd = wd;
	e.mask = mask;
	e.len = (uint32_t)pad;
	assert_true(k.len + sizeof(e) + pad <= sizeof(k.buf));
	memcpy(k.buf + k.len, &e, sizeof(e));
	k.len += sizeof(e);
	memset(k.buf + k.len, 0, pad);
	if (nl > 0)
		memcpy(k.buf + k.len, name, nl);
	k.len += pad;
}

/* the fake queue */
static int
fq_find(const char *id)
{
	int	 i;

	for (i = 0; i < f.n; i++)
		if (strcmp(f.id[i], id) == 0)
			return i;
	return -1;
}

static void
fq_set(const char *id, int queue, uint64_t size)
{
	int	 i = fq_find(id);

	if (i < 0) {
		i = f.n++;
		ebb_strlcpy(f.id[i], id, sizeof(f.id[i]));
	}
	f.queue[i] = queue;
	f.size[i] = size;
}

static void
fq_del(const char *id)
{
	int	 i = fq_find(id);

	if (i >= 0) {
		f.n--;
		memmove(&f.id[i], &f.id[i + 1], (size_t)(f.n - i) *
		    sizeof(f.id[0]));
		memmove(&f.queue[i], &f.queue[i + 1], (size_t)(f.n - i) *
		    sizeof(f.queue[0]));
		memmove(&f.size[i], &f.size[i + 1], (size_t)(f.n - i) *
		    sizeof(f.size[0]));
	}
}

static void
fq_put(struct index *ix, int i)
{
	struct msg	 m;

	memset(&m, 0, sizeof(m));
	ebb_strlcpy(m.queue_id, f.id[i], sizeof(m.queue_id));
	m.queue = (uint8_t)f.queue[i];
	m.size = f.size[i];
	m.sender = "s@example.org";
	index_put(ix, &m, NULL);
}

static int
fm_scan(struct mta *m, struct index *ix, struct scan_stats *st, char **err_r)
{
	int	 i;

	(void)m;
	(void)err_r;
	f.scans++;
	if (f.during_scan != NULL)
		f.during_scan();
	index_scan_begin(ix);
	for (i = 0; i < f.n; i++)
		fq_put(ix, i);
	st->removed = index_scan_end(ix);
	return 0;
}

static int
fm_watch(struct mta *m, void (*fn)(void *, const char *, int), void *arg,
    char **err_r)
{
	(void)m;
	(void)err_r;
	fn(arg, root, 1);
	return 0;
}

/* names starting "t" are being written: not queue files */
static int
fm_watch_id(struct mta *m, const char *name, char id_r[MSG_QUEUE_ID_MAX])
{
	(void)m;
	if (name[0] == 't' || !ebb_queue_id_valid(name))
		return -1;
	ebb_strlcpy(id_r, name, MSG_QUEUE_ID_MAX);
	return 0;
}

static int
fm_refresh(struct mta *m, struct index *ix, const char *id, const char *dir,
    struct scan_stats *st, char **err_r)
{
	int	 i;

	(void)m;
	(void)st;
	(void)err_r;
	assert_true(f.nrefreshed < 256);
	snprintf(f.refreshed[f.nrefreshed++], sizeof(f.refreshed[0]), "%s %s",
	    id, dir != NULL ? dir + strlen(top) : "-");
	if ((i = fq_find(id)) >= 0)
		fq_put(ix, i);
	else
		index_remove(ix, id);
	return 0;
}

static void
fm_close(struct mta *m)
{
	(void)m;
}

static const struct mta_queue fm_queues[] = {
	{ "deferred", MSG_ROLE_WAITING }, { "hold", MSG_ROLE_HELD },
};

static const struct mta_ops fm_ops = {
	.name = "fake",
	.queues = fm_queues,
	.nqueues = 2,
	.scan = fm_scan,
	.close = fm_close,
	.watch = fm_watch,
	.watch_id = fm_watch_id,
	.refresh = fm_refresh,
};

static struct mta fm = { &fm_ops, NULL };

/* setup - an empty fake kernel and queue, and the tree top/q/{0,1} */
static int
setup(void **state)
{
	(void)state;
	memset(&k, 0, sizeof(k));
	memset(&f, 0, sizeof(f));
	snprintf(top, sizeof(top), "%s/qwatch.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(top));
	snprintf(root, sizeof(root), "%s/q", top);
	assert_int_equal(mkdir(root, 0700), 0);
	return 0;
}

static int
teardown(void **state)
{
	char	 cmd[400];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* update - qwatch_update at mono, which must succeed */
static void
update(struct qwatch *q, struct index *ix, double mono)
{
	struct scan_stats st;
	char		*err = NULL;

	assert_int_equal(qwatch_update(q, ix, mono, &st, &err), 0);
	assert_null(err);
}

/* refreshed - the refresh calls, "id dir" each, space-joined */
static const char *
refreshed(void)
{
	static char	 s[4096];
	int		 i;

	s[0] = '\0';
	for (i = 0; i < f.nrefreshed; i++) {
		if (i > 0)
			strcat(s, ", ");
		strcat(s, f.refreshed[i]);
	}
	f.nrefreshed = 0;
	return s;
}

/* the first update scans in full; then events, and only they, are read */
static void
test_live_path(void **state)
{
	struct qwatch	*q = qwatch_new(&fm, &fake_sys, 60);
	struct index	*ix = index_new();
	struct qwatch_stats qs;
	int		 wd;

	(void)state;
	fq_set("A1", 0, 10);
	fq_set("B2", 0, 20);
	update(q, ix, 0);
	assert_int_equal(f.scans, 1);
	assert_int_equal(index_count(ix), 2);
	assert_string_equal(refreshed(), "");
	wd = wd_of(root);
	assert_true(wd > 0);
	/* the parent is watched too, for the root being replaced */
	assert_true(wd_of(top) > 0);

	/* a new file, written, made complete: one refresh, where it is */
	fq_set("C3", 1, 30);
	ev(wd, IN_CREATE, "C3");
	ev(wd, IN_CLOSE_WRITE, "C3");
	ev(wd, IN_ATTRIB, "C3");
	/* one deleted; a file being written is no queue file */
	fq_del("A1");
	ev(wd, IN_DELETE, "A1");
	ev(wd, IN_CREATE, "tfX9");
	qwatch_read(q);
	update(q, ix, 1);
	assert_int_equal(f.scans, 1);
	assert_string_equal(refreshed(), "C3 /q, A1 /q");
	assert_int_equal(index_count(ix), 2);
	assert_non_null(index_lookup(ix, "C3"));
	assert_null(index_lookup(ix, "A1"));

	/* nothing happened: nothing is read */
	update(q, ix, 2);
	assert_string_equal(refreshed(), "");
	qwatch_stats(q, &qs);
	assert_int_equal(qs.live, 1);
	assert_int_equal(qs.full_scans, 1);
	assert_int_equal(qs.live_updates, 2);
	assert_int_equal(qs.refreshed, 2);
	assert_int_equal(qs.events, 5);
	qwatch_free(&q);
	index_free(&ix);
}

/* a rename names the directory it ends in: the refresh looks there */
static void
test_rename(void **state)
{
	struct qwatch	*q = qwatch_new(&fm, &fake_sys, 60);
	struct index	*ix = index_new();
	char		 sub[400];

	(void)state;
	snprintf(sub, sizeof(sub), "%s/0", root);
	assert_int_equal(mkdir(sub, 0700), 0);
	fq_set("A1", 0, 10);
	update(q, ix, 0);
	assert_true(wd_of(sub) > 0);
	ev(wd_of(sub), IN_MOVED_FROM, "A1");
	ev(wd_of(root), IN_MOVED_TO, "A1");
	fq_set("A1", 1, 10);
	qwatch_read(q);
	update(q, ix, 1);
	assert_string_equal(refreshed(), "A1 /q");
	assert_int_equal(index_lookup(ix, "A1")->queue, 1);
	qwatch_free(&q);
	index_free(&ix);
}

/* a new hash directory is watched, and what it holds already is read */
static void
test_new_subdir(void **state)
{
	struct qwatch	*q = qwatch_new(&fm, &fake_sys, 60);
	struct index	*ix = index_new();
	struct qwatch_stats qs;
	char		 sub[400], file[500];
	FILE		*fp;

	(void)state;
	update(q, ix, 0);
	snprintf(sub, sizeof(sub), "%s/7", root);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(file, sizeof(file), "%s/D4", sub);
	assert_non_null(fp = fopen(file, "w"));
	fclose(fp);
	fq_set("D4", 0, 40);
	ev(wd_of(root), IN_CREATE | IN_ISDIR, "7");
	qwatch_read(q);
	assert_true(wd_of(sub) > 0);
	update(q, ix, 1);
	assert_string_equal(refreshed(), "D4 /q/7");
	assert_non_null(index_lookup(ix, "D4"));
	/* its events count now */
	fq_del("D4");
	ev(wd_of(sub), IN_DELETE, "D4");
	qwatch_read(q);
	update(q, ix, 2);
	assert_string_equal(refreshed(), "D4 /q/7");
	assert_int_equal(index_count(ix), 0);
	qwatch_stats(q, &qs);
	assert_int_equal(qs.full_scans, 1);
	/* a directory one level too deep is not watched */
	snprintf(file, sizeof(file), "%s/deeper", sub);
	assert_int_equal(mkdir(file, 0700), 0);
	ev(wd_of(sub), IN_CREATE | IN_ISDIR, "deeper");
	qwatch_read(q);
	assert_int_equal(wd_of(file), -1);
	qwatch_free(&q);
	index_free(&ix);
}

/* what makes the next update a full scan, and what does not */
static void
test_full_scans(void **state)
{
	static const struct {
		const char	*what;
		int		 wd;	/* 0 root, 1 its parent, -1 none */
		uint32_t	 mask;
		const char	*name;
		int		 resync;	/* the watches set up again */
	} cases[] = {
		{ "overflow", -1, IN_Q_OVERFLOW, NULL, 0 },
		{ "root deleted", 0, IN_DELETE_SELF, NULL, 1 },
		{ "root moved", 0, IN_MOVE_SELF, NULL, 1 },
		{ "root replaced", 1, IN_MOVED_TO | IN_ISDIR, "q", 1 },
		{ "root created", 1, IN_CREATE | IN_ISDIR, "q", 1 },
		{ "parent moved", 1, IN_MOVE_SELF, NULL, 1 },
		{ "subdir moved away", 0, IN_MOVED_FROM | IN_ISDIR, "3", 1 },
	};
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		struct qwatch	*q = qwatch_new(&fm, &fake_sys, 60);
		struct index	*ix = index_new();
		int		 inits, scans;

		f.scans = 0;
		fq_set("A1", 0, 10);
		update(q, ix, 0);
		inits = k.inits;
		scans = f.scans;
		ev(cases[i].wd < 0 ? -1 : wd_of(cases[i].wd == 0 ? root : top),
		    cases[i].mask, cases[i].name);
		/* an unrelated directory in the parent changes nothing */
		ev(wd_of(top), IN_CREATE | IN_ISDIR, "other");
		qwatch_read(q);
		update(q, ix, 1);
		if (f.scans != scans + 1 ||
		    k.inits != inits + cases[i].resync)
			fail_msg("%s: scans %d, inits %d", cases[i].what,
			    f.scans - scans, k.inits - inits);
		/* and then the live path again */
		update(q, ix, 2);
		assert_int_equal(f.scans, scans + 1);
		qwatch_free(&q);
		index_free(&ix);
		refreshed();
	}
}

/* watches that cannot be added: full scans, and a retry per interval */
static void
test_watch_fails(void **state)
{
	struct qwatch	*q = qwatch_new(&fm, &fake_sys, 60);
	struct index	*ix = index_new();
	struct qwatch_stats qs;

	(void)state;
	k.fail_add = ENOSPC;
	update(q, ix, 0);
	update(q, ix, 5);
	assert_int_equal(f.scans, 2);
	qwatch_stats(q, &qs);
	assert_int_equal(qs.live, 0);
	assert_int_equal(qs.watch_failures, 1);
	assert_int_equal(qwatch_fd(q), -1);
	/* not before the interval; then it works again */
	k.fail_add = 0;
	update(q, ix, 30);
	assert_int_equal(qwatch_fd(q), -1);
	update(q, ix, 61);
	assert_true(qwatch_fd(q) >= 0);
	assert_int_equal(f.scans, 4);
	update(q, ix, 62);
	assert_int_equal(f.scans, 4);
	qwatch_stats(q, &qs);
	assert_int_equal(qs.live, 1);
	qwatch_free(&q);
	index_free(&ix);
}

/* changed during the cross-check's scan: an event names it, not drift */
static void
during_scan(void)
{
	fq_set("C3", 0, 31);
	ev(wd_of(root), IN_CLOSE_WRITE, "C3");
	fq_set("E5", 1, 50);
	ev(wd_of(root), IN_MOVED_TO, "E5");
}

/* the cross-check counts what the live path had wrong, missing, extra */
static void
test_drift(void **state)
{
	struct qwatch	*q = qwatch_new(&fm, &fake_sys, 60);
	struct index	*ix = index_new();
	struct qwatch_stats qs;

	(void)state;
	fq_set("A1", 0, 10);
	fq_set("B2", 0, 20);
	fq_set("C3", 0, 30);
	update(q, ix, 0);
	/* three changes no event reported */
	fq_set("A1", 0, 11);		/* wrong */
	fq_del("B2");			/* extra */
	fq_set("D4", 0, 40);		/* missing */
	update(q, ix, 30);
	qwatch_stats(q, &qs);
	assert_int_equal(qs.drift, 0);
	assert_int_equal(qs.checks, 0);
	f.during_scan = during_scan;
	update(q, ix, 60);
	f.during_scan = NULL;
	qwatch_stats(q, &qs);
	assert_int_equal(qs.checks, 1);
	assert_int_equal(qs.drift, 3);
	/* corrected; C3 and E5, changed during the scan, read again */
	assert_string_equal(refreshed(), "C3 /q, E5 /q");
	assert_int_equal(index_lookup(ix, "C3")->size, 31);
	assert_int_equal(index_lookup(ix, "A1")->size, 11);
	assert_null(index_lookup(ix, "B2"));
	assert_non_null(index_lookup(ix, "D4"));
	assert_non_null(index_lookup(ix, "E5"));
	/* the next check finds nothing */
	update(q, ix, 125);
	qwatch_stats(q, &qs);
	assert_int_equal(qs.checks, 2);
	assert_int_equal(qs.drift, 3);
	qwatch_free(&q);
	index_free(&ix);
}

/* a torn or garbage buffer is bounded by its length */
static void
test_parse_bounds(void **state)
{
	struct qwatch	*q = qwatch_new(&fm, &fake_sys, 60);
	struct index	*ix = index_new();
	struct inotify_event e;

	(void)state;
	update(q, ix, 0);
	memset(&e, 0, sizeof(e));
	e.wd = wd_of(root);
	e.mask = IN_CREATE;
	e.len = 4000;			/* more than the buffer holds */
	memcpy(k.buf, &e, sizeof(e));
	memcpy(k.buf + sizeof(e), "Z9\0\0", 4);
	k.len = sizeof(e) + 4;
	qwatch_read(q);
	update(q, ix, 1);
	assert_string_equal(refreshed(), "");
	qwatch_free(&q);
	index_free(&ix);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_live_path, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_subdir, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_full_scans, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_watch_fails, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_drift, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_bounds, setup,
		    teardown),
	};

	log_init("test_qwatch", 1, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
