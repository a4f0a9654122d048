/*
 * qwatch.c - keep the index live: inotify on the queue's directories
 *
 * Between updates qwatch only notes: each event's file name becomes a
 * queue id (the backend's watch_id op) in a set of dirty ids, with the
 * directory the latest event named, where the file most likely is now.
 * qwatch_update re-reads each dirty id once (the refresh op), however
 * many events named it. The set is bounded: past QWATCH_DIRTY_MAX ids,
 * the next update scans in full instead.
 *
 * Three kinds of watched directory, one watch each (the kernel hands out
 * one descriptor per directory, so a directory that is two kinds, such as
 * Sendmail's queue directory holding a queue group's, is one entry):
 *	root	a directory the backend named: its files are queue files
 *	sub	a subdirectory of a root, as deep as the backend said
 *	parent	the directory holding a root: an event there on the root's
 *		name means the root was replaced, and every watch is set up
 *		again on what is there now
 */
#include "config.h"

#include <sys/inotify.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ebb/index.h"
#include "ebb/log.h"
#include "ebb/msg.h"
#include "ebb/mta.h"
#include "ebb/qwatch.h"
#include "ebb/util.h"

#define QWATCH_DIRTY_MAX	200000	/* ids noted before a full scan wins */
#define QWATCH_REFRESH_MIN	1000	/* ids always worth refreshing alone */
#define QWATCH_BUF		65536	/* bytes of events per read */
#define QWATCH_MASK	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
	IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | \
	IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)

/* the kinds of a watched directory, or'ed */
#define QDIR_ROOT	0x1
#define QDIR_SUB	0x2
#define QDIR_PARENT	0x4

struct qdir {
	int		 wd;
	int		 kinds;		/* QDIR_* */
	int		 depth;		/* subdirectory levels below it */
	int		 gone;		/* deleted: its wd is no more */
	char		*path;
};

/* a directory the backend named, and where the watch of its parent is */
struct qroot {
	char		*path;
	int		 depth;
	int		 parent_wd;
	const char	*base;		/* in path: its last component */
};

/* one message as the live index had it, for a cross-check */
struct qsnap {
	char		 id[MSG_QUEUE_ID_MAX];
	int64_t		 arrival_time;
	int64_t		 create_time;
	int64_t		 next_retry;
	uint64_t	 size;
	uint32_t	 nrcpt;
	uint16_t	 flags;
	uint8_t		 queue;
};

struct qwatch {
	struct mta	*mta;
	struct qwatch_sys sys;
	int		 fd;		/* -1: not watching */
	struct qdir	*dirs;
	size_t		 ndirs;
	struct qroot	*roots;
	size_t		 nroots;
	struct index	*dirty;		/* noted ids; arrival_time: the
					   dirs[] index + 1 of the latest
					   event, 0 none */
	int		 supported;	/* the backend has the ops */
	int		 need_full;	/* the next update scans in full */
	const char	*why_full;	/* logged when it does */
	int		 resync;	/* set the watches up again */
	int		 failed;	/* the watches could not be set up */
	double		 interval;	/* seconds between cross-checks */
	double		 next_check;	/* monotonic; also the next retry */
	size_t		 corrupt;	/* the last full scan's */
	struct qwatch_stats st;
};

/* the kernel's calls behind struct qwatch_sys */
static int
sys_init(void *arg)
{
	(void)arg;
	return inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
}

static int
sys_add(void *arg, int fd, const char *path, uint32_t mask)
{
	(void)arg;
	return inotify_add_watch(fd, path, mask);
}

static ssize_t
sys_read(void *arg, int fd, void *buf, size_t len)
{
	(void)arg;
	return read(fd, buf, len);
}

static void
sys_close(void *arg, int fd)
{
	(void)arg;
	close(fd);
}

static const struct qwatch_sys qwatch_kernel = {
	sys_init, sys_add, sys_read, sys_close, NULL
};

static int	qwatch_add_tree(struct qwatch *, const char *, int, int, int);

/* qwatch_full - the next update scans in full, and logs why */
static void
qwatch_full(struct qwatch *q, const char *why)
{
	if (!q->need_full)
		q->why_full = why;
	q->need_full = 1;
	index_free(&q->dirty);
	q->dirty = index_new();
}

/* qwatch_drop - stop watching: forget every watch and noted id */
static void
qwatch_drop(struct qwatch *q)
{
	size_t		 i;

	if (q->fd >= 0)
		q->sys.close(q->sys.arg, q->fd);
	q->fd = -1;
	for (i = 0; i < q->ndirs; i++)
		free(q->dirs[i].path);
	free(q->dirs);
	q->dirs = NULL;
	q->ndirs = 0;
	for (i = 0; i < q->nroots; i++)
		free(q->roots[i].path);
	free(q->roots);
	q->roots = NULL;
	q->nroots = 0;
	q->st.watches = 0;
	index_free(&q->dirty);
	q->dirty = index_new();
}

/* qwatch_dir - the entry of a watch descriptor, NULL for none */
static struct qdir *
qwatch_dir(struct qwatch *q, int wd)
{
	size_t		 i;

	for (i = 0; i < q->ndirs; i++)
		if (q->dirs[i].wd == wd && !q->dirs[i].gone)
			return &q->dirs[i];
	return NULL;
}

/*
 * qwatch_watch - watch path as kinds, depth levels deep; its entry's
 * index, or -1 (errno set)
 */
static int
qwatch_watch(struct qwatch *q, const char *path, int kinds, int depth)
{
	struct qdir	*d;
	int		 wd;

	if ((wd = q->sys.add(q->sys.arg, q->fd, path, QWATCH_MASK)) < 0)
		return -1;
	if ((d = qwatch_dir(q, wd)) == NULL) {
		q->dirs = xreallocarray(q->dirs, q->ndirs + 1,
		    sizeof(*q->dirs));
		d = &q->dirs[q->ndirs++];
		memset(d, 0, sizeof(*d));
		d->wd = wd;
		d->path = xstrdup(path);
		q->st.watches++;
	}
	d->kinds |= kinds;
	d->depth = MAXIMUM(d->depth, depth);
	return (int)(d - q->dirs);
}

/* qwatch_note - id changed; its file is likely in dirs[di] (-1: unknown) */
static void
qwatch_note(struct qwatch *q, const char *id, int di)
{
	struct msg	 m, *e;

	if (q->need_full)
		return;		/* the full scan reads it anyway */
	if ((e = index_lookup(q->dirty, id)) != NULL) {
		if (di >= 0)
			e->arrival_time = di + 1;
		return;
	}
	if (index_count(q->dirty) >= QWATCH_DIRTY_MAX) {
		qwatch_full(q, "more changes than are worth reading one by one");
		return;
	}
	memset(&m, 0, sizeof(m));
	ebb_strlcpy(m.queue_id, id, sizeof(m.queue_id));
	m.arrival_time = di + 1;
	index_put(q->dirty, &m, NULL);
}

/* qwatch_note_name - a file name in dirs[di]: its id, when it has one */
static void
qwatch_note_name(struct qwatch *q, const char *name, int di)
{
	char		 id[MSG_QUEUE_ID_MAX];

	if (mta_watch_id(q->mta, name, id) == 0)
		qwatch_note(q, id, di);
}

/* qwatch_dirty_cb - refresh_begin's callback */
static void
qwatch_dirty_cb(void *arg, const char *id)
{
	qwatch_note(arg, id, -1);
}

/*
 * qwatch_add_tree - watch path and its subdirectories, depth levels; with
 * note, the files already there are noted (a directory that appeared:
 * its files may predate the watch). 0, or -1 (errno set) when a watch
 * cannot be added; a subdirectory that went meanwhile is not an error.
 */
static int
qwatch_add_tree(struct qwatch *q, const char *path, int kinds, int depth,
    int note)
{
	struct dirent	*de;
	struct stat	 sb;
	char		 sub[4096];
	DIR		*dir;
	int		 di, isdir, rc = 0;

	if ((di = qwatch_watch(q, path, kinds, depth)) < 0)
		return kinds == QDIR_SUB && errno == ENOENT ? 0 : -1;
	if (depth <= 0 && !note)
		return 0;
	if ((dir = opendir(path)) == NULL)
		return 0;	/* gone: its parent's events say so */
	while (rc == 0 && (de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >=
		    (int)sizeof(sub))
			continue;
		isdir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN)
			isdir = lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode);
		if (isdir && depth > 0)
			rc = qwatch_add_tree(q, sub, QDIR_SUB, depth - 1, note);
		else if (!isdir && note)
			qwatch_note_name(q, de->d_name, di);
	}
	closedir(dir);
	return rc;
}

/* qwatch_add_root - the watch op's callback: remember one root */
static void
qwatch_add_root(void *arg, const char *path, int depth)
{
	struct qwatch	*q = arg;
	struct qroot	*r;
	char		*slash;

	q->roots = xreallocarray(q->roots, q->nroots + 1, sizeof(*q->roots));
	r = &q->roots[q->nroots++];
	r->path = xstrdup(path);
	r->depth = depth;
	r->parent_wd = -1;
	slash = strrchr(r->path, '/');
	r->base = slash != NULL ? slash + 1 : r->path;
}

/*
 * qwatch_setup - (re)open the descriptor and watch every root and the
 * directory holding it; then the next update scans in full. On failure
 * every update scans in full until a retry succeeds.
 */
static void
qwatch_setup(struct qwatch *q, double mono)
{
	char		*err = NULL, parent[4096];
	const char	*what = "inotify";
	size_t		 i;
	int		 di, was_failed = q->failed;

	qwatch_drop(q);
	q->resync = 0;
	q->next_check = mono + q->interval;
	qwatch_full(q, "the watches were set up");
	if ((q->fd = q->sys.init(q->sys.arg)) < 0)
		goto fail;
	if (mta_watch(q->mta, qwatch_add_root, q, &err) == -1) {
		log_info("index: not watching the queue: %s; a full scan "
		    "every refresh", err);
		free(err);
		qwatch_drop(q);
		q->supported = 0;
		return;
	}
	for (i = 0; i < q->nroots; i++) {
		struct qroot	*r = &q->roots[i];

		what = r->path;
		ebb_strlcpy(parent, r->path, sizeof(parent));
		if (r->base == r->path)
			ebb_strlcpy(parent, ".", sizeof(parent));
		else if (r->base - 1 == r->path)
			ebb_strlcpy(parent, "/", sizeof(parent));
		else
			parent[r->base - 1 - r->path] = '\0';
		/* the parent first: a root replaced from now on is seen */
		if ((di = qwatch_watch(q, parent, QDIR_PARENT, 0)) < 0)
			goto fail;
		r->parent_wd = q->dirs[di].wd;
		if (qwatch_add_tree(q, r->path, QDIR_ROOT, r->depth, 0) < 0)
			goto fail;
	}
	q->failed = 0;
	q->need_full = 1;
	if (was_failed)
		log_info("index: watching the queue again (%zu directories)",
		    q->st.watches);
	return;
fail:
	q->st.watch_failures++;
	if (!was_failed)
		log_warn("index: cannot watch %s: %s%s; the index is kept by "
		    "a full scan every refresh, watching is tried again "
		    "every %.0fs", what, strerror(errno), errno == ENOSPC ?
		    " (fs.inotify.max_user_watches)" : errno == EMFILE ?
		    " (fs.inotify.max_user_instances)" : "", q->interval);
	qwatch_drop(q);
	q->failed = 1;
}

struct qwatch *
qwatch_new(struct mta *mta, const struct qwatch_sys *sys,
    double check_interval)
{
	struct qwatch	*q;

	q = xcalloc(1, sizeof(*q));
	q->mta = mta;
	q->sys = sys != NULL ? *sys : qwatch_kernel;
	q->fd = -1;
	q->dirty = index_new();
	q->interval = check_interval > 0 ? check_interval : 300;
	q->supported = mta_can_watch(mta);
	q->resync = q->supported;
	q->need_full = 1;
	return q;
}

void
qwatch_free(struct qwatch **qp)
{
	struct qwatch	*q = *qp;

	if (q == NULL)
		return;
	qwatch_drop(q);
	index_free(&q->dirty);
	free(q);
	*qp = NULL;
}

void
qwatch_set_interval(struct qwatch *q, double check_interval)
{
	if (check_interval > 0) {
		q->next_check += check_interval - q->interval;
		q->interval = check_interval;
	}
}

int
qwatch_fd(const struct qwatch *q)
{
	return q->fd;
}

/* qwatch_is_root - name in the directory d is one of the roots */
static int
qwatch_is_root(const struct qwatch *q, const struct qdir *d,
    const char *name)
{
	size_t		 i;

	for (i = 0; i < q->nroots; i++)
		if (q->roots[i].parent_wd == d->wd &&
		    strcmp(q->roots[i].base, name) == 0)
			return 1;
	return 0;
}

/* qwatch_event - what one event means for the index and the watches */
static void
qwatch_event(struct qwatch *q, int wd, uint32_t mask, const char *name)
{
	struct qdir	*d;
	char		 path[4096];
	int		 di;

	q->st.events++;
	if (mask & IN_Q_OVERFLOW) {
		q->st.overflows++;
		qwatch_full(q, "the kernel's event queue overflowed");
		return;
	}
	if ((d = qwatch_dir(q, wd)) == NULL)
		return;			/* a watch gone before */
	di = (int)(d - q->dirs);
	if (mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED |
	    IN_UNMOUNT)) {
		if ((d->kinds & (QDIR_ROOT | QDIR_PARENT)) ||
		    (mask & IN_MOVE_SELF)) {
			if (!q->resync)
				log_info("index: %s was moved or deleted: "
				    "watching the queue afresh", d->path);
			q->resync = 1;
		} else if (mask & IN_IGNORED)
			d->gone = 1;	/* a subdirectory was deleted */
		return;
	}
	if (name == NULL || name[0] == '\0')
		return;
	if ((d->kinds & QDIR_PARENT) && (mask & IN_ISDIR) &&
	    qwatch_is_root(q, d, name)) {
		if (!q->resync)
			log_info("index: %s/%s was replaced: watching the "
			    "queue afresh", d->path, name);
		q->resync = 1;
		return;
	}
	if (!(d->kinds & (QDIR_ROOT | QDIR_SUB)))
		return;
	if (mask & IN_ISDIR) {
		if (snprintf(path, sizeof(path), "%s/%s", d->path, name) >=
		    (int)sizeof(path) || d->depth <= 0)
			return;
		if (mask & (IN_CREATE | IN_MOVED_TO)) {
			/* a new hash directory: watch it, read what it has */
			if (qwatch_add_tree(q, path, QDIR_SUB, d->depth - 1,
			    1) < 0) {
				log_warn("index: cannot watch %s: %s; "
				    "watching the queue afresh", path,
				    strerror(errno));
				q->resync = 1;
			}
		} else if (mask & IN_MOVED_FROM) {
			/* its files left, and its watch has a wrong path */
			q->resync = 1;
		}
		return;
	}
	qwatch_note_name(q, name, di);
}

/* qwatch_parse - the events in buf[0..n), bounded by n */
static void
qwatch_parse(struct qwatch *q, const char *buf, size_t n)
{
	struct inotify_event ev;
	size_t		 off = 0;
	char		 name[NAME_MAX + 1];

	while (n - off >= sizeof(ev)) {
		memcpy(&ev, buf + off, sizeof(ev));
		off += sizeof(ev);
		if (ev.len > n - off)
			break;		/* cannot happen: the kernel's */
		name[0] = '\0';
		if (ev.len > 0) {
			memcpy(name, buf + off, MINIMUM(ev.len, NAME_MAX));
			name[MINIMUM(ev.len, NAME_MAX)] = '\0';
		}
		off += ev.len;
		qwatch_event(q, ev.wd, ev.mask, name);
	}
}

void
qwatch_read(struct qwatch *q)
{
	/* aligned as struct inotify_event needs it */
	static union {
		struct inotify_event ev;
		char		 b[QWATCH_BUF];
	} u;
	ssize_t		 n;

	while (q->fd >= 0 && (n = q->sys.read(q->sys.arg, q->fd, u.b,
	    sizeof(u.b))) > 0)
		qwatch_parse(q, u.b, (size_t)n);
}

/* qwatch_counts - st's per-queue counts and corrupt from the index now */
static void
qwatch_counts(struct qwatch *q, struct index *ix, struct scan_stats *st)
{
	int		 i;

	for (i = 0; i < mta_nqueues(q->mta) && i < MSG_QUEUE_MAX; i++)
		st->queue[i] = index_count_queue(ix, i);
	st->corrupt = MAXIMUM(st->corrupt, q->corrupt);
}

/* qwatch_apply - refresh every noted id; -1 and *err_r, all still noted */
static int
qwatch_apply(struct qwatch *q, struct index *ix, struct scan_stats *st,
    char **err_r)
{
	struct msg	**v;
	const char	**ids, **dirs;
	size_t		 i, n;
	int		 rc;

	mta_refresh_begin(q->mta, ix, qwatch_dirty_cb, q);
	v = index_collect(q->dirty, &n);
	ids = xreallocarray(NULL, MAXIMUM(n, 1), sizeof(*ids));
	dirs = xreallocarray(NULL, MAXIMUM(n, 1), sizeof(*dirs));
	for (i = 0; i < n; i++) {
		ids[i] = v[i]->queue_id;
		dirs[i] = v[i]->arrival_time > 0 &&
		    (size_t)v[i]->arrival_time <= q->ndirs ?
		    q->dirs[v[i]->arrival_time - 1].path : NULL;
	}
	rc = mta_refresh_many(q->mta, ix, ids, dirs, n, st, err_r);
	free(ids);
	free(dirs);
	free(v);
	if (rc == 0) {
		q->st.refreshed += n;
		index_free(&q->dirty);
		q->dirty = index_new();
	}
	return rc;
}

/* what qwatch_snap_one collects */
struct qsnaps {
	struct qsnap	*v;
	size_t		 n;
};

static int
qwatch_snap_one(struct msg *m, void *arg)
{
	struct qsnaps	*s = arg;
	struct qsnap	*p = &s->v[s->n++];

	memset(p, 0, sizeof(*p));
	ebb_strlcpy(p->id, m->queue_id, sizeof(p->id));
	p->arrival_time = m->arrival_time;
	p->create_time = m->create_time;
	p->next_retry = m->next_retry;
	p->size = m->size;
	p->nrcpt = m->nrcpt;
	p->flags = m->flags & MSG_F_UNREADABLE;
	p->queue = m->queue;
	return 0;
}

static int
qsnap_cmp(const void *a, const void *b)
{
	return strcmp(((const struct qsnap *)a)->id,
	    ((const struct qsnap *)b)->id);
}

/* qwatch_snap - what ix holds, sorted by id */
static struct qsnaps
qwatch_snap(struct index *ix)
{
	struct qsnaps	 s;

	s.v = xreallocarray(NULL, index_count(ix) + 1, sizeof(*s.v));
	s.n = 0;
	index_foreach(ix, qwatch_snap_one, &s);
	qsort(s.v, s.n, sizeof(*s.v), qsnap_cmp);
	return s;
}

/*
 * qwatch_drift - compare the live index (before) with what the full scan
 * left (after); an id noted since (it changed during the scan) is not
 * drift. Logs and returns how many messages differ.
 */
static size_t
qwatch_drift(struct qwatch *q, const struct qsnaps *before,
    const struct qsnaps *after)
{
	const struct qsnap *a, *b;
	const char	*example = NULL;
	size_t		 i = 0, j = 0, wrong = 0, missing = 0, extra = 0;
	int		 c;

	while (i < before->n || j < after->n) {
		a = i < before->n ? &before->v[i] : NULL;
		b = j < after->n ? &after->v[j] : NULL;
		c = a == NULL ? 1 : b == NULL ? -1 : strcmp(a->id, b->id);
		if (c == 0) {
			i++, j++;
			if (a->queue == b->queue && a->size == b->size &&
			    a->nrcpt == b->nrcpt && a->flags == b->flags &&
			    a->arrival_time == b->arrival_time &&
			    a->create_time == b->create_time &&
			    a->next_retry == b->next_retry)
				continue;
		} else if (c < 0)
			i++;
		else
			j++;
		if (index_lookup(q->dirty, c <= 0 ? a->id : b->id) != NULL)
			continue;	/* changed during the scan */
		if (c == 0)
			wrong++;
		else if (c < 0)
			extra++;
		else
			missing++;
		if (example == NULL)
			example = c <= 0 ? a->id : b->id;
	}
	if (wrong + missing + extra > 0)
		log_warn("index: the cross-check scan found drift: %zu "
		    "messages the live index had wrong, %zu missing, %zu "
		    "extra (e.g. %s); corrected", wrong, missing, extra,
		    example);
	return wrong + missing + extra;
}

/*
 * qwatch_scan - a full scan; with check, of a live index, counting drift.
 * The events of the scan's own time are applied after it.
 */
static int
qwatch_scan(struct qwatch *q, struct index *ix, double mono, int check,
    struct scan_stats *st, char **err_r)
{
	struct qsnaps	 before = { NULL, 0 }, after;
	struct scan_stats ev;

	if (q->need_full && q->why_full != NULL &&
	    strcmp(q->why_full, "the watches were set up") != 0)
		log_info("index: a full scan: %s", q->why_full);
	if (check)
		before = qwatch_snap(ix);
	/* from here on, what changes is noted: the scan may miss it */
	q->need_full = 0;
	if (mta_scan(q->mta, ix, st, err_r) == -1) {
		free(before.v);
		qwatch_full(q, "the last scan failed");
		return -1;
	}
	q->st.full_scans++;
	q->corrupt = st->corrupt;
	q->why_full = NULL;
	q->next_check = mono + q->interval;
	qwatch_read(q);
	if (check) {
		q->st.checks++;
		after = qwatch_snap(ix);
		q->st.drift += qwatch_drift(q, &before, &after);
		free(after.v);
		free(before.v);
	}
	if (q->need_full)
		return 0;	/* overflowed during the scan: next time */
	memset(&ev, 0, sizeof(ev));
	if (qwatch_apply(q, ix, &ev, err_r) == -1) {
		qwatch_full(q, "a refresh failed");
		return -1;
	}
	qwatch_counts(q, ix, st);
	return 0;
}

int
qwatch_update(struct qwatch *q, struct index *ix, double mono,
    struct scan_stats *st, char **err_r)
{
	memset(st, 0, sizeof(*st));
	qwatch_read(q);
	if (q->supported && (q->resync || (q->failed &&
	    mono >= q->next_check)))
		qwatch_setup(q, mono);
	if (q->fd < 0) {
		/* not watching: the index is as good as the last scan */
		if (mta_scan(q->mta, ix, st, err_r) == -1)
			return -1;
		q->st.full_scans++;
		q->corrupt = st->corrupt;
		return 0;
	}
	if (q->need_full)
		return qwatch_scan(q, ix, mono, 0, st, err_r);
	if (mono >= q->next_check) {
		/* the live index as good as it gets, then checked */
		if (qwatch_apply(q, ix, st, err_r) == -1) {
			qwatch_full(q, "a refresh failed");
			return -1;
		}
		memset(st, 0, sizeof(*st));
		return qwatch_scan(q, ix, mono, 1, st, err_r);
	}
	if (index_count(q->dirty) > index_count(ix) / 4 + QWATCH_REFRESH_MIN) {
		qwatch_full(q, "more changes than are worth reading one by one");
		return qwatch_scan(q, ix, mono, 0, st, err_r);
	}
	if (qwatch_apply(q, ix, st, err_r) == -1) {
		qwatch_full(q, "a refresh failed");
		return -1;
	}
	q->st.live_updates++;
	qwatch_counts(q, ix, st);
	return 0;
}

void
qwatch_stats(const struct qwatch *q, struct qwatch_stats *r)
{
	*r = q->st;
	r->live = q->fd >= 0;
}
