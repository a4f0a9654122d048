/*
 * sendmail.c - the Sendmail backend: settings and the queue scanner
 *
 * At open, sendmail.cf gives the queue directory, the queue groups'
 * directories, Timeout.queuereturn for each timeout class and the
 * precedence names; [sendmail] queue_directory and queue_lifetime in
 * ebb.conf override the .cf's. Sendmail needs no other helper: park,
 * release and deliver are all "sendmail -C CF ..." (sendmail_cmd.c).
 *
 * The scanner reads the control files directly, as "mailq" does: in each
 * queue directory (a final "*" names several, as in QueueDirectory=
 * /var/spool/mqueue/q*), or in its qf/ subdirectory when there is one,
 * every qf (queued) and hf (quarantined) file; tf (being written), df, xf
 * and Qf (lost) files are not messages to drain. A qf is queued, or
 * "running" while an ebb delivery child has it; an hf is ebb's when its
 * reason starts with "ebb:" (park's, or the milter's hold) and the
 * admin's otherwise: ebb never releases those. The deadline is T plus
 * Timeout.queuereturn of the message's class (sm_qf_class); the size is
 * the df file's, as mailq shows it. A file whose (inode, size, mtime) did
 * not change is not read again; one that is cut short or corrupt is
 * skipped, counted and logged once per version, and kept by id when it
 * is quarantined, so a parked message is never lost from the ledger.
 * A directory is listed first; the files that changed are then read and
 * parsed by [general] scan_threads threads (sm_read_all).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ebb/config.h"
#include "ebb/deadline.h"
#include "ebb/index.h"
#include "ebb/log.h"
#include "ebb/mta.h"
#include "ebb/proof.h"
#include "ebb/util.h"
#include "sendmail.h"

#define SM_DEFAULT_QUEUE	"/var/spool/mqueue"
#define SM_DEFAULT_LIFETIME	(5L * 86400)	/* Sendmail's own default */
#define SM_GLOB_MAX		1000	/* directories one "*" may name */
#define SM_LOCATE_READ		4096	/* bytes read to find K or q */
#define SM_KICK_MEMORY		3600	/* seconds a delivery request counts */
#define SM_CHUNK		64	/* files a scan thread takes at a time */

static const struct mta_queue sendmail_queues[SM_QUEUE_COUNT] = {
	[SM_QUEUE_RUNNING] = { "running", MSG_ROLE_LEAVING },
	[SM_QUEUE_QUEUE] = { "queue", MSG_ROLE_WAITING },
	[SM_QUEUE_QUARANTINE] = { "quarantine", MSG_ROLE_HELD },
	[SM_QUEUE_ADMIN] = { "quarantine-admin", MSG_ROLE_ADMIN },
};

_Static_assert(SM_QUEUE_COUNT <= MSG_QUEUE_MAX, "too many queues");

/* what one thread reads and parses control files with */
struct sm_reader {
	char		*buf;
	size_t		 cap;
	struct sm_qf_parser *parser;
};

/*
 * the state of one scan. With threads (sm_read_all), lock guards the
 * index, the counts, the log and the list of bad files: each thread
 * reads and parses on its own, and takes the lock to put what it found.
 */
struct sm_scan {
	struct sendmail	*sm;
	struct index	*ix;
	struct scan_stats *st;
	pthread_mutex_t	*lock;		/* NULL: one thread */
	struct sm_reader rd;		/* the calling thread's */
};

/* a control file of a directory, to look at (sm_scan_files) */
struct sm_todo {
	char		 name[MSG_QUEUE_ID_MAX + 2];	/* "qfID", "hfID" */
	int		 quarantined;
};

/* sm_scan_init - a scan of ix, reading with sm's own buffer and parser */
static void
sm_scan_init(struct sm_scan *sc, struct sendmail *sm, struct index *ix,
    struct scan_stats *st)
{
	memset(sc, 0, sizeof(*sc));
	sc->sm = sm;
	sc->ix = ix;
	sc->st = st;
	sc->rd.buf = sm->buf;
	sc->rd.cap = sm->bufcap;
	sc->rd.parser = sm->parser;
}

/* sm_scan_done - sm keeps the buffer, grown as it may have been */
static void
sm_scan_done(struct sm_scan *sc)
{
	sc->sm->buf = sc->rd.buf;
	sc->sm->bufcap = sc->rd.cap;
}

static void
sm_lock(struct sm_scan *sc)
{
	if (sc->lock != NULL)
		pthread_mutex_lock(sc->lock);
}

static void
sm_unlock(struct sm_scan *sc)
{
	if (sc->lock != NULL)
		pthread_mutex_unlock(sc->lock);
}

static struct sendmail *
sm_of(struct mta *m)
{
	return m->priv;
}

/* sm_is_ebbs - a quarantine reason that marks the message as ebb's */
static int
sm_is_ebbs(const char *reason)
{
	return reason != NULL &&
	    strncmp(reason, SM_PREFIX, sizeof(SM_PREFIX) - 1) == 0;
}

/*
 * sm_read_buf - read all of a regular file, up to max bytes (more: the
 * caller sees a length over max), into *buf (of *cap bytes, grown).
 * expect, the size a stat gave (0: unknown), sizes the buffer so that one
 * read() gets the whole file: a read shorter than asked is the end of a
 * regular file.
 */
static ssize_t
sm_read_buf(char **buf, size_t *cap, int fd, size_t max, size_t expect)
{
	size_t		 got = 0, want;
	ssize_t		 n;

	if (expect > 0 && expect < max && expect + 2 > *cap) {
		while (expect + 2 > *cap)
			*cap = *cap ? *cap * 2 : 8192;
		*buf = xreallocarray(*buf, *cap, 1);
	}
	for (;;) {
		if (got + 1 >= *cap) {
			if (*cap > max)
				return (ssize_t)got;	/* caller: too big */
			*cap = *cap ? *cap * 2 : 8192;
			*buf = xreallocarray(*buf, *cap, 1);
		}
		want = *cap - 1 - got;
		n = read(fd, *buf + got, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
		if ((size_t)n < want || got > max)
			return (ssize_t)got;
	}
}

/* sm_read - sm_read_buf into sm->buf */
static ssize_t
sm_read(struct sendmail *sm, int fd, size_t max, size_t expect)
{
	return sm_read_buf(&sm->buf, &sm->bufcap, fd, max, expect);
}

/* sm_read_cf - read and parse the .cf */
static int
sm_read_cf(struct sendmail *sm, char **err_r)
{
	char		*why = NULL;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(sm->cf_path, O_RDONLY | O_CLOEXEC)) < 0) {
		*err_r = xasprintf("%s: %s", sm->cf_path, strerror(errno));
		return -1;
	}
	n = sm_read(sm, fd, SM_CF_MAX, 0);
	close(fd);
	if (n < 0) {
		*err_r = xasprintf("%s: %s", sm->cf_path, strerror(errno));
		return -1;
	}
	if (sm_cf_parse(sm->buf, (size_t)n, &sm->cf, &why) < 0) {
		*err_r = xasprintf("%s: %s", sm->cf_path, why);
		free(why);
		return -1;
	}
	return 0;
}

/* sm_add_dir - one more queue directory (spec), once */
static void
sm_add_dir(struct sendmail *sm, const char *dir)
{
	size_t		 i;

	for (i = 0; i < sm->ndirs; i++)
		if (strcmp(sm->dirs[i], dir) == 0)
			return;
	sm->dirs = xreallocarray(sm->dirs, sm->ndirs + 1, sizeof(*sm->dirs));
	sm->dirs[sm->ndirs++] = xstrdup(dir);
}

static void sendmail_close(struct mta *);

static int
sendmail_open(struct mta *m, const struct config *cfg, char **err_r)
{
	struct sendmail	*sm;
	const char	*qdir;
	size_t		 i;
	int		 c, need_cf;

	sm = xcalloc(1, sizeof(*sm));
	m->priv = sm;
	sm->cf_path = xstrdup(cfg->sendmail_config_file);
	sm->sendmail = xstrdup(cfg->sendmail_path);
	sm->max_kids = (int)cfg->sendmail_deliveries;
	sm->scan_threads = mta_scan_threads(cfg);
	/* the .cf is needed unless both keys that override it are set */
	need_cf = cfg->sendmail_queue_directory[0] == '\0' ||
	    cfg->sendmail_queue_lifetime == 0;
	if (sm_read_cf(sm, err_r) < 0) {
		if (need_cf)
			goto fail;
		free(*err_r);
		*err_r = NULL;
		memset(&sm->cf, 0, sizeof(sm->cf));
	}
	if (access(sm->sendmail, X_OK) < 0) {
		*err_r = xasprintf("sendmail_path = %s: %s: is Sendmail "
		    "installed?", sm->sendmail, strerror(errno));
		goto fail;
	}
	qdir = cfg->sendmail_queue_directory[0] != '\0' ?
	    cfg->sendmail_queue_directory : sm->cf.queue_dir != NULL ?
	    sm->cf.queue_dir : SM_DEFAULT_QUEUE;
	sm_add_dir(sm, qdir);
	for (i = 0; i < sm->cf.ngroup_dirs; i++)
		sm_add_dir(sm, sm->cf.group_dirs[i]);
	for (c = 0; c < SM_QF_CLASS_COUNT; c++) {
		if (cfg->sendmail_queue_lifetime > 0)
			sm->lifetime[c] = cfg->sendmail_queue_lifetime;
		else if (sm->cf.lifetime[c] > 0)
			sm->lifetime[c] = sm->cf.lifetime[c];
		else
			sm->lifetime[c] = SM_DEFAULT_LIFETIME;
	}
	sm->parser = sm_qf_parser_new();
	sm->bad = index_new();
	sm->running = index_new();
	sm->kicked = index_new();
	return 0;
fail:
	sendmail_close(m);
	return -1;
}

static void
sendmail_close(struct mta *m)
{
	struct sendmail	*sm = sm_of(m);
	size_t		 i;

	if (sm == NULL)
		return;
	sendmail_kicks_close(sm);
	free(sm->cf_path);
	free(sm->sendmail);
	for (i = 0; i < sm->ndirs; i++)
		free(sm->dirs[i]);
	free(sm->dirs);
	sm_cf_free(&sm->cf);
	sm_qf_parser_free(&sm->parser);
	index_free(&sm->bad);
	free(sm->buf);
	free(sm);
	m->priv = NULL;
}

static const char *
sendmail_queue_directory(struct mta *m)
{
	return sm_of(m)->dirs[0];
}

/* sm_id - the queue id of a control file name ("qfID", "hfID"), or NULL */
static const char *
sm_id(const char *name, int *quarantined_r)
{
	if ((name[0] != 'q' && name[0] != 'h') || name[1] != 'f' ||
	    strlen(name + 2) >= MSG_QUEUE_ID_MAX ||
	    !ebb_queue_id_valid(name + 2))
		return NULL;
	*quarantined_r = name[0] == 'h';
	return name + 2;
}

/*
 * sm_bad - count a control file that cannot be read; log it once. An
 * hf stays in the index, flagged unreadable, in the quarantine queue: if
 * ebb parked it, the ledger still knows it and can release it by id.
 */
static void
sm_bad(struct sm_scan *sc, const char *id, int quarantined,
    const struct index_stamp *stamp, const char *what, const char *why,
    size_t line)
{
	struct msg	 m;

	sc->st->corrupt++;
	if (quarantined) {
		sc->st->unreadable++;
		index_keep_unreadable(sc->ix, id, SM_QUEUE_QUARANTINE);
	}
	if (index_scan_unchanged(sc->sm->bad, id, stamp, 0, 0))
		return;
	log_msg(LOG_WARNING, id, "%s file=%cf%s error=%s reason=\"%s\" "
	    "line=%zu", quarantined ? "unreadable, kept" : "skipped",
	    quarantined ? 'h' : 'q', id, what, why, line);
	memset(&m, 0, sizeof(m));
	ebb_strlcpy(m.queue_id, id, sizeof(m.queue_id));
	index_put(sc->sm->bad, &m, stamp);
}

/* sm_df_size - the size of the message's df file, 0 if not found */
static uint64_t
sm_df_size(int dfd, int parent, const char *id)
{
	struct stat	 sb;
	char		 name[MSG_QUEUE_ID_MAX + 8];

	snprintf(name, sizeof(name), "df%s", id);
	if (fstatat(dfd, name, &sb, 0) == 0)
		return (uint64_t)sb.st_size;
	snprintf(name, sizeof(name), "df/df%s", id);
	if (parent >= 0 && fstatat(parent, name, &sb, 0) == 0)
		return (uint64_t)sb.st_size;
	return 0;
}

/*
 * sm_qf_queue - the queue of a qf (not quarantined): "running" while one
 * of ebb's delivery children has it, which only this process knows
 */
static int
sm_qf_queue(struct sendmail *sm, const char *id)
{
	return index_lookup(sm->running, id) != NULL ? SM_QUEUE_RUNNING :
	    SM_QUEUE_QUEUE;
}

/* sm_queue_of - the queue of a parsed control file */
static int
sm_queue_of(struct sendmail *sm, const char *id, const struct sm_qf *qf)
{
	if (qf->quarantined)
		return sm_is_ebbs(qf->quarantine) ? SM_QUEUE_QUARANTINE :
		    SM_QUEUE_ADMIN;
	return sm_qf_queue(sm, id);
}

/*
 * sm_read_file - parse one changed control file into the index, with rd
 * (the calling thread's reader); the index and the counts under the lock
 */
static void
sm_read_file(struct sm_scan *sc, struct sm_reader *rd, int dfd, int parent,
    const char *name, const char *id, int quarantined,
    const struct index_stamp *stamp)
{
	struct sendmail	*sm = sc->sm;
	struct sm_qf	 qf;
	struct msg	 m;
	enum sm_qf_error e;
	const char	*why;
	ssize_t		 n;
	int		 fd, err;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		err = errno;
		sm_lock(sc);
		if (err == ENOENT)
			sc->st->vanished++;
		else
			sm_bad(sc, id, quarantined, stamp, "unreadable",
			    strerror(err), 0);
		sm_unlock(sc);
		return;
	}
	n = sm_read_buf(&rd->buf, &rd->cap, fd, SM_QF_FILE_MAX,
	    (size_t)stamp->size);
	err = errno;
	close(fd);
	if (n < 0) {
		sm_lock(sc);
		sm_bad(sc, id, quarantined, stamp, "unreadable",
		    strerror(err), 0);
		sm_unlock(sc);
		return;
	}
	e = sm_qf_parse(rd->parser, rd->buf, (size_t)n, &qf, &why);
	if (e != SM_QF_OK) {
		sm_lock(sc);
		sm_bad(sc, id, quarantined, stamp, sm_qf_error_name(e), why,
		    qf.error_line);
		sm_unlock(sc);
		return;
	}
	memset(&m, 0, sizeof(m));
	ebb_strlcpy(m.queue_id, id, sizeof(m.queue_id));
	m.arrival_time = (time_t)qf.ctime;
	m.create_time = (time_t)qf.ctime;
	m.deadline = deadline_sendmail(m.create_time,
	    sm->lifetime[sm_qf_class(&qf, sm_cf_precedence, &sm->cf)]);
	m.next_retry = 0;		/* Sendmail does not store it */
	m.size = sm_df_size(dfd, parent, id);
	m.sender = qf.sender;
	m.reason = qf.status;
	m.rcpt = qf.rcpt;
	m.nrcpt = (uint32_t)MINIMUM(qf.nrcpt, (size_t)UINT32_MAX);
	sm_lock(sc);
	sc->st->parsed++;
	m.queue = (uint8_t)sm_queue_of(sm, id, &qf);
	index_put(sc->ix, &m, stamp);
	sm_unlock(sc);
}

/*
 * sm_scan_files - control files v[0..n) of a directory (n <= SM_CHUNK):
 * each stat'ed, and read again unless its (inode, size, mtime) and its
 * queue are as the index has them. The lock is taken once for the
 * chunk's checks, then once per file read. listed: the names came from
 * listing the directory, so a file not there vanished meanwhile (else it
 * was only looked for). Returns how many are regular files.
 */
static size_t
sm_scan_files(struct sm_scan *sc, struct sm_reader *rd, int dfd, int parent,
    const struct sm_todo *v, size_t n, int listed)
{
	struct index_stamp stamp[SM_CHUNK];
	struct stat	 sb;
	struct msg	*old;
	const char	*id;
	/* 0 none, 1 a file, 2 a file to read, 3 listed but gone */
	unsigned char	 what[SM_CHUNK];
	size_t		 i, found = 0;
	int		 q;

	for (i = 0; i < n; i++) {
		what[i] = 0;
		if (fstatat(dfd, v[i].name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			what[i] = listed && errno == ENOENT ? 3 : 0;
		else if (S_ISREG(sb.st_mode)) {
			what[i] = 1;
			index_stamp_stat(&stamp[i], &sb);
		}
	}
	sm_lock(sc);
	for (i = 0; i < n; i++) {
		if (what[i] == 3)
			sc->st->vanished++;
		if (what[i] != 1)
			continue;
		found++;
		sc->st->files++;
		id = v[i].name + 2;
		/*
		 * the queue of an unchanged file: a qf's depends on ebb's
		 * children only; an hf's on its reason, read before
		 */
		old = index_lookup(sc->ix, id);
		if (!v[i].quarantined)
			q = sm_qf_queue(sc->sm, id);
		else if (old != NULL && !(old->flags & MSG_F_UNREADABLE) &&
		    (old->queue == SM_QUEUE_QUARANTINE ||
		    old->queue == SM_QUEUE_ADMIN))
			q = old->queue;
		else
			q = -1;
		if (q >= 0 && index_scan_unchanged(sc->ix, id, &stamp[i], q,
		    0))
			sc->st->unchanged++;
		else
			what[i] = 2;
	}
	sm_unlock(sc);
	for (i = 0; i < n; i++)
		if (what[i] == 2)
			sm_read_file(sc, rd, dfd, parent, v[i].name,
			    v[i].name + 2, v[i].quarantined, &stamp[i]);
	return found;
}

/* what each thread of sm_read_all takes */
struct sm_work {
	struct sm_scan	*sc;
	struct sm_reader *rd;
	int		 dfd, parent;
	const struct sm_todo *v;
	size_t		 n;
	size_t		*next;		/* the first not yet taken */
};

/* sm_work - read the files of the list, SM_CHUNK at a time, till none */
static void *
sm_work(void *arg)
{
	struct sm_work	*w = arg;
	size_t		 i;

	for (;;) {
		pthread_mutex_lock(w->sc->lock);
		i = *w->next;
		*w->next = MINIMUM(i + SM_CHUNK, w->n);
		pthread_mutex_unlock(w->sc->lock);
		if (i >= w->n)
			return NULL;
		(void)sm_scan_files(w->sc, w->rd, w->dfd, w->parent, w->v + i,
		    MINIMUM(SM_CHUNK, w->n - i), 1);
	}
}

/*
 * sm_read_all - the control files v[0..n) of one directory (sm_scan_files)
 * with sm->scan_threads threads, the caller's among them: the stat, the
 * reading and the parsing are what cost; the listing is cheap. Fewer
 * threads if one cannot start; the caller's alone for a short list.
 */
static void
sm_read_all(struct sm_scan *sc, int dfd, int parent, const struct sm_todo *v,
    size_t n)
{
	pthread_mutex_t	 lock;
	pthread_t	 tid[CONFIG_SCAN_THREADS_MAX];
	struct sm_reader rd[CONFIG_SCAN_THREADS_MAX];
	struct sm_work	 w[CONFIG_SCAN_THREADS_MAX];
	sigset_t	 all, old;
	size_t		 next = 0, i, nt, started = 0;

	nt = MINIMUM((size_t)sc->sm->scan_threads, nitems(tid));
	if (nt < 2 || n < 2 * SM_CHUNK) {
		for (i = 0; i < n; i += SM_CHUNK)
			(void)sm_scan_files(sc, &sc->rd, dfd, parent, v + i,
			    MINIMUM(SM_CHUNK, n - i), 1);
		return;
	}
	pthread_mutex_init(&lock, NULL);
	sc->lock = &lock;
	memset(rd, 0, sizeof(rd));
	rd[0] = sc->rd;
	/* the workers take no signals: the caller's handlers expect one */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < nt; i++) {
		w[i] = (struct sm_work){ sc, &rd[i], dfd, parent, v, n,
		    &next };
		if (i == 0)
			continue;
		rd[i].parser = sm_qf_parser_new();
		if (pthread_create(&tid[i], NULL, sm_work, &w[i]) != 0) {
			sm_qf_parser_free(&rd[i].parser);
			break;		/* fewer threads will do */
		}
		started = i;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	sm_work(&w[0]);
	for (i = 1; i <= started; i++) {
		pthread_join(tid[i], NULL);
		sm_qf_parser_free(&rd[i].parser);
		free(rd[i].buf);
	}
	sc->rd = rd[0];
	sc->lock = NULL;
	pthread_mutex_destroy(&lock);
}

/*
 * sm_scan_dir - the control files of one directory (parent: the queue
 * directory when dfd is its qf/ subdirectory, else -1); -1 when it
 * cannot be listed
 */
static int
sm_scan_dir(struct sm_scan *sc, int dfd, int parent)
{
	struct sm_todo	*todo = NULL, *t;
	struct dirent	*de;
	size_t		 ntodo = 0, cap = 0;
	DIR		*dir;
	int		 fd, quarantined;

	if ((fd = dup(dfd)) < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		if (sm_id(de->d_name, &quarantined) == NULL)
			continue;
		if (ntodo == cap) {
			cap = cap ? cap * 2 : 256;
			todo = xreallocarray(todo, cap, sizeof(*todo));
		}
		t = &todo[ntodo++];
		ebb_strlcpy(t->name, de->d_name, sizeof(t->name));
		t->quarantined = quarantined;
	}
	closedir(dir);
	sm_read_all(sc, dfd, parent, todo, ntodo);
	free(todo);
	return 0;
}

/* sm_scan_queue - one queue directory, or its qf/ subdirectory */
static int
sm_scan_queue(struct sm_scan *sc, const char *path, char **err_r)
{
	int		 dfd, qfd, rc;

	if ((dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		*err_r = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	if ((qfd = openat(dfd, "qf", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) >= 0) {
		rc = sm_scan_dir(sc, qfd, dfd);
		close(qfd);
	} else
		rc = sm_scan_dir(sc, dfd, -1);
	if (rc == -1)	/* no sweep after a partial scan */
		*err_r = xasprintf("%s: cannot list: %s", path,
		    strerror(errno));
	close(dfd);
	return rc;
}

/*
 * sm_foreach_dir - call fn for each queue directory: each spec, or, for
 * one ending in "*", each directory in its parent matching the prefix
 */
static int
sm_foreach_dir(struct sendmail *sm, int (*fn)(void *, const char *,
    char **), void *arg, char **err_r)
{
	struct dirent	*de;
	struct stat	 sb;
	DIR		*dir;
	char		*parent, *prefix, path[4096];
	size_t		 i, plen, n;
	int		 rc = 0;

	for (i = 0; i < sm->ndirs && rc == 0; i++) {
		if (strchr(sm->dirs[i], '*') == NULL) {
			rc = fn(arg, sm->dirs[i], err_r);
			continue;
		}
		parent = xstrdup(sm->dirs[i]);
		prefix = strrchr(parent, '/');
		*prefix++ = '\0';
		prefix[strlen(prefix) - 1] = '\0';	/* the "*" */
		plen = strlen(prefix);
		if ((dir = opendir(parent[0] != '\0' ? parent : "/")) == NULL) {
			*err_r = xasprintf("%s: %s", sm->dirs[i],
			    strerror(errno));
			free(parent);
			return -1;
		}
		for (n = 0; rc == 0 && n < SM_GLOB_MAX &&
		    (de = readdir(dir)) != NULL;) {
			if (de->d_name[0] == '.' ||
			    strncmp(de->d_name, prefix, plen) != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", parent,
			    de->d_name);
			if (stat(path, &sb) < 0 || !S_ISDIR(sb.st_mode))
				continue;
			n++;
			rc = fn(arg, path, err_r);
		}
		closedir(dir);
		free(parent);
	}
	return rc;
}

static int
sm_scan_one(void *arg, const char *path, char **err_r)
{
	return sm_scan_queue(arg, path, err_r);
}

/* what sendmail_foreach_id passes down */
struct sm_names {
	void		(*fn)(void *, const char *);
	void		*arg;
};

/* sm_names_in - each control file's id in one queue directory */
static int
sm_names_in(void *arg, const char *path, char **err_r)
{
	struct sm_names	*nm = arg;
	struct dirent	*de;
	char		 sub[4096];
	const char	*id;
	DIR		*dir;
	int		 q, pass;

	(void)err_r;
	for (pass = 0; pass < 2; pass++) {
		snprintf(sub, sizeof(sub), "%s%s", path, pass ? "/qf" : "");
		if ((dir = opendir(sub)) == NULL)
			continue;
		while ((de = readdir(dir)) != NULL)
			if ((id = sm_id(de->d_name, &q)) != NULL)
				nm->fn(nm->arg, id);
		closedir(dir);
	}
	return 0;
}

void
sendmail_foreach_id(struct sendmail *sm, void (*fn)(void *, const char *),
    void *arg)
{
	struct sm_names	 nm = { fn, arg };
	char		*err = NULL;

	if (sm_foreach_dir(sm, sm_names_in, &nm, &err) < 0)
		free(err);
}

/* what sm_kicked_old collects */
struct sm_sweep {
	struct sendmail	*sm;
	struct index	*ix;
	time_t		 now;
	char		**ids;
	size_t		 n;
	size_t		 cap;
};

/* sm_kicked_old - a delivery request that no longer says anything */
static int
sm_kicked_old(struct msg *k, void *arg)
{
	struct sm_sweep	*sw = arg;

	if (sendmail_kick_busy(sw->sm, k->queue_id) ||
	    (index_lookup(sw->ix, k->queue_id) != NULL &&
	    sw->now - k->arrival_time < SM_KICK_MEMORY))
		return 0;
	if (sw->n == sw->cap) {
		sw->cap = sw->cap ? sw->cap * 2 : 64;
		sw->ids = xreallocarray(sw->ids, sw->cap, sizeof(*sw->ids));
	}
	sw->ids[sw->n++] = xstrdup(k->queue_id);
	return 0;
}

/*
 * sm_sweep_kicked - forget the delivery requests of messages that left
 * the queue, or that Sendmail tried long ago: locate only asks about
 * messages in flight, so without this a long-running ebbd would keep one
 * entry for every message deferred again after its release
 */
static void
sm_sweep_kicked(struct sendmail *sm, struct index *ix)
{
	struct sm_sweep	 sw = { sm, ix, time(NULL), NULL, 0, 0 };
	size_t		 i;

	index_foreach(sm->kicked, sm_kicked_old, &sw);
	for (i = 0; i < sw.n; i++) {
		index_remove(sm->kicked, sw.ids[i]);
		free(sw.ids[i]);
	}
	free(sw.ids);
}

/* sendmail_scanned - the scanned op: what a scan does besides reading */
static void
sendmail_scanned(struct mta *m, struct index *ix, int done)
{
	if (!done)
		sendmail_reap(sm_of(m));
	else
		sm_sweep_kicked(sm_of(m), ix);
}

static int
sendmail_scan(struct mta *m, struct index *ix, struct scan_stats *st,
    char **err_r)
{
	struct sendmail	*sm = sm_of(m);
	struct sm_scan	 sc;
	int		 q, rc;

	sendmail_scanned(m, ix, 0);
	index_scan_begin(ix);
	index_scan_begin(sm->bad);
	sm_scan_init(&sc, sm, ix, st);
	rc = sm_foreach_dir(sm, sm_scan_one, &sc, err_r);
	sm_scan_done(&sc);
	if (rc < 0)
		return -1;	/* no sweep after a partial scan */
	st->removed = index_scan_end(ix);
	index_scan_end(sm->bad);
	sendmail_scanned(m, ix, 1);
	for (q = 0; q < SM_QUEUE_COUNT; q++)
		st->queue[q] = index_count_queue(ix, q);
	return 0;
}

/* what sm_find looks for, and what it found */
struct sm_find {
	struct sendmail	*sm;
	const char	*id;
	int		 read;		/* 0: stat only */
	int		 found;		/* 0, 'q' or 'h' */
	int		 queue;
	int64_t		 attempt;	/* a qf's K line */
};

/*
 * sm_find_in - is the id's qf or hf in this queue directory? For a qf,
 * the time of the last delivery attempt (its K line); for an hf, whose
 * it is, by its reason. Without reading: whether it is there, and an hf
 * is taken for ebb's, which the ledger then decides.
 */
static int
sm_find_in(void *arg, const char *path, char **err_r)
{
	struct sm_find	*f = arg;
	struct sendmail	*sm = f->sm;
	struct sm_qf	 qf;
	struct stat	 sb;
	const char	*why, *kline;
	char		 name[4096];
	int		 fd = -1, i;
	ssize_t		 n;

	(void)err_r;
	for (i = 0; i < 4 && fd < 0 && f->found == 0; i++) {
		snprintf(name, sizeof(name), "%s/%s%cf%s", path,
		    i >= 2 ? "qf/" : "", i % 2 ? 'h' : 'q', f->id);
		if (!f->read) {
			if (lstat(name, &sb) == 0 && S_ISREG(sb.st_mode))
				f->found = i % 2 ? 'h' : 'q';
			continue;
		}
		fd = open(name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			f->found = i % 2 ? 'h' : 'q';
	}
	if (f->found == 0)
		return 0;
	if (!f->read)
		f->queue = f->found == 'q' ? SM_QUEUE_QUEUE :
		    SM_QUEUE_QUARANTINE;
	else if (f->found == 'q') {
		f->queue = SM_QUEUE_QUEUE;
		if ((n = pread(fd, name, SM_LOCATE_READ < sizeof(name) ?
		    SM_LOCATE_READ : sizeof(name) - 1, 0)) > 0) {
			name[n] = '\0';
			if ((kline = strstr(name, "\nK")) != NULL)
				f->attempt = strtoll(kline + 2, NULL, 10);
		}
	} else {
		n = sm_read(sm, fd, SM_QF_FILE_MAX, 0);
		if (n >= 0 && sm_qf_parse(sm->parser, sm->buf, (size_t)n, &qf,
		    &why) == SM_QF_OK && !sm_is_ebbs(qf.quarantine))
			f->queue = SM_QUEUE_ADMIN;
		else	/* ebb's, or unreadable: the ledger decides */
			f->queue = SM_QUEUE_QUARANTINE;
	}
	if (fd >= 0)
		close(fd);
	return 1;		/* found: stop */
}

/* sendmail_find - the find op: locate's reading half (mta.h) */
static int
sendmail_find(struct mta *m, const char *id, int read, int64_t *attempt_r)
{
	struct sm_find	 f = { sm_of(m), id, read, 0, -1, 0 };
	char		*err = NULL;
	int		 pass;

	/* twice: a file renamed (qf to hf) between two looks */
	for (pass = 0; pass < 2 && f.found == 0; pass++)
		if (sm_foreach_dir(f.sm, sm_find_in, &f, &err) < 0) {
			free(err);
			err = NULL;
		}
	*attempt_r = f.attempt;
	return f.found != 0 ? f.queue : -1;
}

/*
 * sendmail_found - the found op: a qf is "running" while one of ebb's
 * children delivers it, and "due" when a delivery was asked for and
 * Sendmail has not attempted it since (its K is older than the request),
 * so the engine waits for it and asks again if the request was lost.
 */
static int
sendmail_found(struct mta *m, const char *id, int queue, int64_t attempt,
    int *due_r)
{
	struct sendmail	*sm = sm_of(m);
	struct msg	*k;

	*due_r = 0;
	if (queue < 0) {
		index_remove(sm->kicked, id);
		return -1;
	}
	if (queue != SM_QUEUE_QUEUE && queue != SM_QUEUE_RUNNING)
		return queue;
	if (sendmail_kick_busy(sm, id))
		*due_r = 1;
	else if ((k = index_lookup(sm->kicked, id)) != NULL)
		*due_r = attempt < (int64_t)k->arrival_time;
	return sm_qf_queue(sm, id);
}

static int
sendmail_locate(struct mta *m, const char *id, int *due_r)
{
	int64_t		 attempt;
	int		 q;

	sendmail_reap(sm_of(m));
	q = sendmail_find(m, id, 1, &attempt);
	return sendmail_found(m, id, q, attempt, due_r);
}

/* sendmail_settle - the settle op: "running" is the parent's to say */
static void
sendmail_settle(struct mta *m, struct msg *msg)
{
	if (msg->queue == SM_QUEUE_QUEUE || msg->queue == SM_QUEUE_RUNNING)
		msg->queue = (uint8_t)sm_qf_queue(sm_of(m), msg->queue_id);
}

static int
sendmail_park(struct mta *m, const char *const *ids, size_t n, char **err_r)
{
	sendmail_reap(sm_of(m));
	return sendmail_park_ids(sm_of(m), ids, n, err_r);
}

static int
sendmail_release(struct mta *m, const char *const *ids, size_t n,
    char **err_r)
{
	sendmail_reap(sm_of(m));
	return sendmail_release_ids(sm_of(m), ids, n, err_r);
}

static int
sendmail_kick(struct mta *m, const char *const *ids, size_t n, char **err_r)
{
	(void)err_r;
	sendmail_kick_ids(sm_of(m), ids, n);
	return 0;
}

/* sendmail_depth - messages ebb's delivery children have now */
static long
sendmail_depth(struct mta *m)
{
	struct sendmail	*sm = sm_of(m);

	sendmail_reap(sm);
	return (long)index_count(sm->running);
}

/* what sm_proof_in looks for, and what it found */
struct sm_proof {
	struct sendmail	*sm;
	const char	*id;
	struct proof_search *ps;
	int		 rc;		/* PROOF_*; PROOF_ERROR until found */
	char		*err;
};

/*
 * sm_proof_in - is the id's hf (a quarantined control file) in this queue
 * directory? Then look for ebb's proof in it: the milter's header is one
 * of its H lines, the arrival time its T line.
 */
static int
sm_proof_in(void *arg, const char *path, char **err_r)
{
	struct sm_proof	*f = arg;
	struct sm_qf	 qf;
	const char	*why;
	char		 name[4096];
	int		 fd = -1, i;
	ssize_t		 n;

	(void)err_r;
	for (i = 0; i < 2 && fd < 0; i++) {
		snprintf(name, sizeof(name), "%s/%shf%s", path,
		    i ? "qf/" : "", f->id);
		fd = open(name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return 0;
	n = sm_read(f->sm, fd, SM_QF_FILE_MAX, 0);
	close(fd);
	if (n < 0 || (size_t)n > SM_QF_FILE_MAX) {
		f->err = xasprintf("%s: %s", name, n < 0 ? strerror(errno) :
		    "too big");
		return 1;
	}
	if (sm_qf_parse(f->sm->parser, f->sm->buf, (size_t)n, &qf,
	    &why) != SM_QF_OK) {
		f->err = xasprintf("%s: %s", name, why);
		return 1;
	}
	proof_search_begin(f->ps, f->id, (time_t)qf.ctime);
	proof_search_feed(f->ps, f->sm->buf, (size_t)n);
	f->rc = proof_search_end(f->ps) ? PROOF_OK : PROOF_NONE;
	return 1;		/* found: stop */
}

/* sendmail_proof - the proof op (mta.h) over the id's hf file */
static int
sendmail_proof(struct mta *m, const char *id, struct proof_search *ps,
    char **err_r)
{
	struct sm_proof	 f = { sm_of(m), id, ps, PROOF_ERROR, NULL };
	char		*err = NULL;

	if (sm_foreach_dir(f.sm, sm_proof_in, &f, &err) < 0) {
		free(f.err);
		*err_r = err;
		return PROOF_ERROR;
	}
	if (f.rc == PROOF_ERROR)
		*err_r = f.err != NULL ? f.err : xstrdup("not quarantined");
	else
		free(f.err);
	return f.rc;
}

/* sendmail_reason - the qf's M line, as the scan kept it */
static int
sendmail_reason(struct mta *m, const struct msg *msg, char *buf, size_t len)
{
	(void)m;
	if (msg->reason == NULL || msg->reason[0] == '\0')
		return -1;
	ebb_strlcpy(buf, msg->reason, len);
	return 0;
}

/*
 * The live index (mta.h, qwatch.h): each queue directory is watched with
 * its qf/ and df/ subdirectories; an event on qfID, hfID or dfID names
 * the message ID, whose control file is then found and read alone, as
 * sm_scan_dir reads it. A directory a "*" names that appears later is
 * not watched: the cross-check scan finds its mail.
 */

/* what sendmail_watch passes down */
struct sm_watch {
	void		(*fn)(void *, const char *, int);
	void		*arg;
};

static int
sm_watch_one(void *arg, const char *path, char **err_r)
{
	struct sm_watch	*w = arg;

	(void)err_r;
	w->fn(w->arg, path, 1);
	return 0;
}

/* sendmail_watch - the watch op: each queue directory, one level deep */
static int
sendmail_watch(struct mta *m, void (*fn)(void *, const char *, int),
    void *arg, char **err_r)
{
	struct sm_watch	 w = { fn, arg };

	return sm_foreach_dir(sm_of(m), sm_watch_one, &w, err_r);
}

/* sendmail_watch_id - the id of a qf, hf or df file */
static int
sendmail_watch_id(struct mta *m, const char *name,
    char id_r[MSG_QUEUE_ID_MAX])
{
	int		 quarantined;
	const char	*id;

	(void)m;
	if (name[0] == 'd' && name[1] == 'f')	/* its size is the df's */
		id = strlen(name + 2) < MSG_QUEUE_ID_MAX &&
		    ebb_queue_id_valid(name + 2) ? name + 2 : NULL;
	else
		id = sm_id(name, &quarantined);
	if (id == NULL)
		return -1;
	ebb_strlcpy(id_r, id, MSG_QUEUE_ID_MAX);
	return 0;
}

/* what sm_refresh_in looks for */
struct sm_refresh {
	struct sm_scan	 sc;
	const char	*id;
	int		 found;
};

/*
 * sm_refresh_in - the id's qf or hf in the queue directory path (or its
 * qf/ subdirectory): read it as sm_scan_dir does, unless unchanged
 */
static int
sm_refresh_in(void *arg, const char *path, char **err_r)
{
	struct sm_refresh *r = arg;
	struct sm_todo	 t;
	int		 qdir, dfd, parent = -1, i;

	(void)err_r;
	if ((qdir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return 0;
	dfd = qdir;
	if ((i = openat(qdir, "qf", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) >= 0) {
		dfd = i;
		parent = qdir;
	}
	for (i = 0; i < 2 && !r->found; i++) {
		snprintf(t.name, sizeof(t.name), "%cf%s", i ? 'h' : 'q',
		    r->id);
		t.quarantined = i;
		r->found = sm_scan_files(&r->sc, &r->sc.rd, dfd, parent, &t, 1,
		    0) == 1;
	}
	if (parent >= 0)
		close(dfd);
	close(qdir);
	return r->found;		/* found: stop */
}

/*
 * sendmail_refresh - the refresh op: in the event's queue directory
 * first, then in each, twice (a qf renamed to hf between two looks)
 */
static int
sendmail_refresh(struct mta *m, struct index *ix, const char *id,
    const char *dir, struct scan_stats *st, char **err_r)
{
	struct sendmail	*sm = sm_of(m);
	struct sm_refresh r;
	char		 qdir[4096], *slash;
	int		 pass, rc = 0;

	sm_scan_init(&r.sc, sm, ix, st);
	r.id = id;
	r.found = 0;
	if (dir != NULL) {
		ebb_strlcpy(qdir, dir, sizeof(qdir));
		/* an event in qf/ or df/: the queue directory above it */
		if ((slash = strrchr(qdir, '/')) != NULL &&
		    (strcmp(slash, "/qf") == 0 || strcmp(slash, "/df") == 0))
			*slash = '\0';
		sm_refresh_in(&r, qdir, err_r);
	}
	for (pass = 0; pass < 2 && !r.found && rc == 0; pass++)
		rc = sm_foreach_dir(sm, sm_refresh_in, &r, err_r);
	sm_scan_done(&r.sc);
	if (rc < 0)
		return -1;
	if (!r.found) {
		if (index_remove(ix, id) == 0)
			st->removed++;
		index_remove(sm->bad, id);
	}
	return 0;
}

/* what sm_running_gone collects: entries running by the index only */
struct sm_gone {
	struct sendmail	*sm;
	void		(*dirty)(void *, const char *);
	void		*arg;
};

static int
sm_running_gone(struct msg *msg, void *arg)
{
	struct sm_gone	*g = arg;

	if (msg->queue == SM_QUEUE_RUNNING &&
	    index_lookup(g->sm->running, msg->queue_id) == NULL)
		g->dirty(g->arg, msg->queue_id);
	return 0;
}

/* what sm_running_new counts */
struct sm_new {
	struct index	*ix;
	void		(*dirty)(void *, const char *);
	void		*arg;
	size_t		 running;	/* running in both */
};

static int
sm_running_new(struct msg *k, void *arg)
{
	struct sm_new	*n = arg;
	struct msg	*msg;

	if ((msg = index_lookup(n->ix, k->queue_id)) == NULL)
		return 0;
	if (msg->queue == SM_QUEUE_RUNNING)
		n->running++;
	else if (msg->queue == SM_QUEUE_QUEUE)
		n->dirty(n->arg, k->queue_id);
	return 0;
}

/*
 * sendmail_refresh_begin - a qf's queue is "running" while one of ebb's
 * delivery children has it, which no file event tells: the ids whose
 * child started or ended since are dirty. The index is walked only when
 * a child ended (fewer running there than here).
 */
static void
sendmail_refresh_begin(struct mta *m, struct index *ix,
    void (*dirty)(void *, const char *), void *arg)
{
	struct sendmail	*sm = sm_of(m);
	struct sm_new	 n = { ix, dirty, arg, 0 };
	struct sm_gone	 g = { sm, dirty, arg };

	sendmail_reap(sm);
	index_foreach(sm->running, sm_running_new, &n);
	if (index_count_queue(ix, SM_QUEUE_RUNNING) > n.running)
		index_foreach(ix, sm_running_gone, &g);
	sm_sweep_kicked(sm, ix);
}

const struct mta_ops sendmail_mta_ops = {
	.name = "sendmail",
	.queues = sendmail_queues,
	.nqueues = SM_QUEUE_COUNT,
	.open = sendmail_open,
	.scan = sendmail_scan,
	.park = sendmail_park,
	.release = sendmail_release,
	.kick = sendmail_kick,
	.locate = sendmail_locate,
	.queue_directory = sendmail_queue_directory,
	.depth = sendmail_depth,
	.close = sendmail_close,
	.reason = sendmail_reason,
	.proof = sendmail_proof,
	.watch = sendmail_watch,
	.watch_id = sendmail_watch_id,
	.refresh = sendmail_refresh,
	.refresh_begin = sendmail_refresh_begin,
	.settle = sendmail_settle,
	.scanned = sendmail_scanned,
	.find = sendmail_find,
	.found = sendmail_found,
};
