/*
 * postfix.c - the Postfix backend: instance settings and the queue scanner
 *
 * At open, one "postconf -c DIR -h" run gives the instance's
 * queue_directory, its two queue lifetimes (the deadlines: create_time +
 * maximal_queue_lifetime, bounce_queue_lifetime for the null sender), the
 * command_directory holding postsuper and postqueue, and the name
 * postqueue gives the null sender.
 *
 * The scanner reads the queue directly, as Postfix's showq does but without
 * its IPC: incoming, active, deferred and hold, every subdirectory of each
 * (hashed queues, and long queue ids whose hash is not the first
 * character). maildrop is not scanned: files there are postdrop's, not yet
 * queued messages with a queue id, a create_time or a deadline. Only files
 * with the owner-execute bit are complete. A file whose (inode, size,
 * mtime) did not change since the last scan is not read again; a file
 * that vanishes between readdir and open was delivered or moved, which is
 * normal. A truncated or corrupt file is skipped, counted and logged once
 * per version (kept in a second index of bad files). The deferred file's
 * mtime is its next retry time.
 *
 * With "[postfix] scan = postqueue", or when the queue directory cannot be
 * read (not root), the index is filled from "postqueue -j" instead
 * (postfix_cmd.c).
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
#include "ebb/duration.h"
#include "ebb/exec.h"
#include "ebb/index.h"
#include "ebb/log.h"
#include "ebb/mta.h"
#include "ebb/postfix_record.h"
#include "ebb/proof.h"
#include "ebb/util.h"
#include "postfix.h"

#define PF_WALK_DEPTH	4	/* subdirectory levels below a queue */
#define PF_PROOF_CHUNK	65536	/* bytes per read of a proof check */
#define PF_BATCH	256	/* queue files per batch of a scan thread */
#define PF_QUEUED	2	/* batches waiting, per thread */

/*
 * the queues ebb scans, in the order a message moves through them, by
 * enum pf_queue: each directory's name and its role. maildrop is not here:
 * its files are not queued messages yet.
 */
static const struct mta_queue postfix_queues[PF_QUEUE_COUNT] = {
	[PF_QUEUE_INCOMING] = { "incoming", MSG_ROLE_LEAVING },
	[PF_QUEUE_ACTIVE] = { "active", MSG_ROLE_LEAVING },
	[PF_QUEUE_DEFERRED] = { "deferred", MSG_ROLE_WAITING },
	[PF_QUEUE_HOLD] = { "hold", MSG_ROLE_HELD },
};

_Static_assert(PF_QUEUE_COUNT <= MSG_QUEUE_MAX, "too many queues");

#define PF_POSTCONF_VALUES	7	/* the settings postfix_postconf asks */
#define PF_HASH_DEPTH_MAX	16	/* as Postfix's own limit */

int
pf_queue_lookup(const char *name)
{
	int	 q;

	for (q = 0; q < PF_QUEUE_COUNT; q++)
		if (strcmp(postfix_queues[q].name, name) == 0)
			return q;
	return -1;
}

/*
 * The scan in threads. One thread walks the directories (readdir is cheap)
 * and cuts the names of the files into batches; the files are read and
 * parsed (what costs) by a pool of threads, the walker among them when the
 * queue of batches is full. The index is not thread-safe: every call into
 * it (and into the index of bad files, and the log) holds pool.lock, and
 * the costly open, read and parse do not. Memory is bounded by the batches:
 * PF_QUEUED per thread waiting, one in each thread's hands. With one thread
 * the walker reads every batch itself, as the scan always did.
 */
struct pf_batch {
	int		 dfd;		/* the directory, a dup: ours to close */
	int		 queue;
	size_t		 n;
	char		 name[PF_BATCH][MSG_QUEUE_ID_MAX];
	/* the reader's: what stat found, and whether to ask the index */
	struct index_stamp stamp[PF_BATCH];
	uint8_t		 complete[PF_BATCH];
};

struct pf_pool {
	pthread_mutex_t	 lock;		/* the indexes, the log, what follows */
	pthread_cond_t	 ready;		/* a batch waits, or done */
	struct pf_batch	**queued;	/* a ring of batches waiting */
	size_t		 nqueued, head, cap;
	int		 done;		/* the walk is over */
};

/* the state of one scan thread, passed down the directory walk */
struct pf_scan {
	struct postfix	*pf;
	struct index	*ix;
	struct scan_stats *st;
	struct pf_pool	*pool;
	struct pf_parser *parser;	/* each thread has its own */
	struct pf_batch	*batch;		/* the walker's: being filled */
	int		 sys_errno;	/* why a queue could not be opened */
};

static struct postfix *
pf_of(struct mta *m)
{
	return m->priv;
}

/* postfix_deadline - deadline_postfix with this instance's lifetimes */
time_t
postfix_deadline(const struct postfix *pf, time_t create_time,
    int null_sender)
{
	return deadline_postfix(create_time, null_sender, pf->max_lifetime,
	    pf->bounce_lifetime);
}

/*
 * postfix_time - a Postfix time value: digits and at most one unit
 * (s m h d w); a bare number is in days, the default unit of the queue
 * lifetimes. -1 when malformed.
 */
static long
postfix_time(const char *s)
{
	long		 v;
	size_t		 n = strspn(s, "0123456789");

	if (n == 0 || n > 9)
		return -1;
	if (s[n] == '\0')
		return strtol(s, NULL, 10) * 86400;
	if (s[n + 1] != '\0' || strchr("smhdw", s[n]) == NULL)
		return -1;
	if (duration_parse(s, &v) < 0)
		return -1;
	return v;
}

/*
 * postfix_hashing - which queues are hashed, how deep: hash_queue_names
 * (names separated by commas or blanks) and hash_queue_depth (1..16)
 */
static int
postfix_hashing(struct postfix *pf, const char *names, const char *depth)
{
	char	*copy, *tok, *save = NULL;
	long	 d;
	int	 q;

	if (strspn(depth, "0123456789") != strlen(depth) ||
	    strlen(depth) == 0 || strlen(depth) > 2 ||
	    (d = strtol(depth, NULL, 10)) < 1 || d > PF_HASH_DEPTH_MAX)
		return -1;
	memset(pf->hash_depth, 0, sizeof(pf->hash_depth));
	copy = xstrdup(names);
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save))
		if ((q = pf_queue_lookup(tok)) >= 0)
			pf->hash_depth[q] = (int)d;
	free(copy);
	return 0;
}

/* postfix_postconf - ask the instance for its settings */
static int
postfix_postconf(struct postfix *pf, char **err_r)
{
	const char	*argv[] = { pf->postconf, "-c", pf->config_dir, "-h",
	    "queue_directory", "maximal_queue_lifetime",
	    "bounce_queue_lifetime", "command_directory",
	    "empty_address_recipient", "hash_queue_names", "hash_queue_depth",
	    NULL };
	struct exec_result res;
	char		*line[PF_POSTCONF_VALUES], *p, *first, *cmd_dir;
	int		 i, rc = -1;

	if (exec_run(argv, NULL, 0, 1, 30, &res, err_r) < 0) {
		exec_result_free(&res);
		return -1;
	}
	if (res.status != 0) {
		first = exec_first_line(res.err);
		*err_r = xasprintf("postconf -c %s: exit %d: %s",
		    pf->config_dir, res.status, first);
		free(first);
		goto out;
	}
	for (i = 0, p = res.out; i < PF_POSTCONF_VALUES; i++) {
		line[i] = p;
		if (p == NULL || (p = strchr(p, '\n')) == NULL) {
			*err_r = xasprintf("postconf -c %s: expected %d values",
			    pf->config_dir, PF_POSTCONF_VALUES);
			goto out;
		}
		*p++ = '\0';
	}
	pf->max_lifetime = postfix_time(line[1]);
	pf->bounce_lifetime = postfix_time(line[2]);
	if (line[0][0] != '/' || pf->max_lifetime < 0 ||
	    pf->bounce_lifetime < 0 || line[3][0] != '/') {
		*err_r = xasprintf("postconf -c %s: cannot use queue_directory"
		    "=%s maximal_queue_lifetime=%s bounce_queue_lifetime=%s "
		    "command_directory=%s", pf->config_dir, line[0], line[1],
		    line[2], line[3]);
		goto out;
	}
	/* qmgr caps the bounce lifetime at the maximal one */
	if (pf->bounce_lifetime > pf->max_lifetime)
		pf->bounce_lifetime = pf->max_lifetime;
	if (postfix_hashing(pf, line[5], line[6]) < 0) {
		*err_r = xasprintf("postconf -c %s: cannot use "
		    "hash_queue_depth=%s", pf->config_dir, line[6]);
		goto out;
	}
	pf->queue_dir = xstrdup(line[0]);
	pf->empty_addr = xstrdup(line[4]);
	cmd_dir = line[3];
	pf->postsuper = xasprintf("%s/postsuper", cmd_dir);
	pf->postqueue = xasprintf("%s/postqueue", cmd_dir);
	pf->postkick = xasprintf("%s/postkick", cmd_dir);
	rc = 0;
out:
	exec_result_free(&res);
	return rc;
}

static void postfix_close(struct mta *);

static int
postfix_open(struct mta *m, const struct config *cfg, char **err_r)
{
	struct postfix	*pf;

	pf = xcalloc(1, sizeof(*pf));
	m->priv = pf;
	pf->config_dir = xstrdup(cfg->postfix_config_directory);
	pf->scan_mode = cfg->postfix_scan;
	pf->scan_threads = mta_scan_threads(cfg);
	if ((pf->postconf = exec_find("postconf")) == NULL) {
		*err_r = xstrdup("postconf not found: is Postfix installed?");
		goto fail;
	}
	if (postfix_postconf(pf, err_r) < 0)
		goto fail;
	pf->parser = pf_parser_new();
	pf->bad = index_new();
	return 0;
fail:
	postfix_close(m);
	return -1;
}

static void
postfix_close(struct mta *m)
{
	struct postfix	*pf = pf_of(m);

	if (pf == NULL)
		return;
	free(pf->config_dir);
	free(pf->queue_dir);
	free(pf->postconf);
	free(pf->postsuper);
	free(pf->postqueue);
	free(pf->postkick);
	free(pf->empty_addr);
	pf_parser_free(&pf->parser);
	index_free(&pf->bad);
	free(pf);
	m->priv = NULL;
}

static const char *
postfix_queue_directory(struct mta *m)
{
	return pf_of(m)->queue_dir;
}

/* postfix_pread - the parser's read callback over a file descriptor */
static ssize_t
postfix_pread(void *arg, void *buf, size_t len, uint64_t off)
{
	int		 fd = *(int *)arg;
	size_t		 got = 0;
	ssize_t		 n;

	while (got < len) {
		n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* postfix_id_ok - a directory entry that can be a queue file */
static int
postfix_id_ok(const char *name)
{
	return strlen(name) < MSG_QUEUE_ID_MAX && ebb_queue_id_valid(name);
}

/* pf_lock, pf_unlock - around every call into the indexes and the log */
static void
pf_lock(struct pf_scan *sc)
{
	pthread_mutex_lock(&sc->pool->lock);
}

static void
pf_unlock(struct pf_scan *sc)
{
	pthread_mutex_unlock(&sc->pool->lock);
}

/*
 * postfix_bad - count a file that cannot be read; log it once. One in
 * hold stays in the index, flagged unreadable, so that what ebb parked is
 * not taken for gone: the ledger keeps it, and postsuper can release it
 * without ebb reading it (mta.h).
 */
static void
postfix_bad(struct pf_scan *sc, const char *id, int queue,
    const struct index_stamp *stamp, const char *what, const char *why,
    unsigned long long offset)
{
	struct msg	 m;
	int		 kept = postfix_queues[queue].role == MSG_ROLE_HELD;

	sc->st->corrupt++;
	pf_lock(sc);
	if (kept) {
		sc->st->unreadable++;
		index_keep_unreadable(sc->ix, id, queue);
	}
	if (index_scan_unchanged(sc->pf->bad, id, stamp, queue, 0))
		goto out;
	log_msg(LOG_WARNING, id, "%s queue=%s error=%s reason=\"%s\" "
	    "offset=%llu", kept ? "unreadable, kept" : "skipped",
	    postfix_queues[queue].name, what, why, offset);
	memset(&m, 0, sizeof(m));
	ebb_strlcpy(m.queue_id, id, sizeof(m.queue_id));
	m.queue = (uint8_t)queue;
	index_put(sc->pf->bad, &m, stamp);
out:
	pf_unlock(sc);
}

/* postfix_read_file - parse one changed queue file into the index */
static void
postfix_read_file(struct pf_scan *sc, int dfd, const char *id, int queue,
    const struct index_stamp *stamp)
{
	struct pf_envelope env;
	struct msg	 m;
	enum pf_error	 e;
	const char	*why;
	int		 fd;

	if ((fd = openat(dfd, id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			sc->st->vanished++;
		else
			postfix_bad(sc, id, queue, stamp, "unreadable",
			    strerror(errno), 0);
		return;
	}
	e = pf_parse(sc->parser, postfix_pread, &fd, stamp->size, &env, &why);
	close(fd);
	if (e != PF_OK) {
		postfix_bad(sc, id, queue, stamp, pf_error_name(e), why,
		    (unsigned long long)env.error_offset);
		return;
	}
	sc->st->parsed++;
	memset(&m, 0, sizeof(m));
	ebb_strlcpy(m.queue_id, id, sizeof(m.queue_id));
	m.queue = (uint8_t)queue;
	m.arrival_time = (time_t)env.arrival_time;
	m.arrival_usec = (uint32_t)env.arrival_usec;
	m.create_time = (time_t)(env.create_time > 0 ? env.create_time :
	    env.arrival_time);
	m.deadline = postfix_deadline(sc->pf, m.create_time,
	    env.sender[0] == '\0');
	m.next_retry = queue == PF_QUEUE_DEFERRED ? (time_t)stamp->mtime : 0;
	m.size = (uint64_t)env.content_size;
	m.sender = env.sender;
	m.rcpt = env.rcpt;
	m.nrcpt = (uint32_t)MINIMUM(env.nrcpt, (size_t)UINT32_MAX);
	pf_lock(sc);
	index_put(sc->ix, &m, stamp);
	pf_unlock(sc);
}

/*
 * postfix_read_batch - stat the files of a batch, read the changed ones.
 * The index is asked about the whole batch under one lock: a rescan is
 * mostly stat and lookup, and a lock per file had the threads queue on it.
 */
static void
postfix_read_batch(struct pf_scan *sc, struct pf_batch *b)
{
	struct index_stamp *stamp;
	struct stat	 sb;
	const char	*id;
	size_t		 i;

	for (i = 0; i < b->n; i++) {
		id = b->name[i];
		stamp = &b->stamp[i];
		b->complete[i] = 0;
		if (fstatat(b->dfd, id, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				sc->st->vanished++;
			continue;
		}
		if (!S_ISREG(sb.st_mode))
			continue;
		index_stamp_stat(stamp, &sb);
		if ((sb.st_mode & S_IXUSR) == 0) {
			/*
			 * only a file being written lacks the bit, and none
			 * is written in hold: one there was damaged, and is
			 * still there (postsuper will not release it)
			 */
			if (postfix_queues[b->queue].role == MSG_ROLE_HELD)
				postfix_bad(sc, id, b->queue, stamp,
				    "incomplete", "no owner-execute bit", 0);
			else
				sc->st->incomplete++;
			continue;
		}
		sc->st->files++;
		b->complete[i] = 1;
	}
	pf_lock(sc);
	for (i = 0; i < b->n; i++) {
		if (b->complete[i] && index_scan_unchanged(sc->ix, b->name[i],
		    &b->stamp[i], b->queue, b->queue == PF_QUEUE_DEFERRED ?
		    (time_t)b->stamp[i].mtime : 0)) {
			sc->st->unchanged++;
			b->complete[i] = 0;	/* nothing left to do */
		}
	}
	pf_unlock(sc);
	for (i = 0; i < b->n; i++)
		if (b->complete[i])
			postfix_read_file(sc, b->dfd, b->name[i], b->queue,
			    &b->stamp[i]);
}

static void
pf_batch_free(struct pf_batch *b)
{
	close(b->dfd);
	free(b);
}

/*
 * pf_batch_push - hand a full batch to the pool; read it here when the
 * pool has no room (or no threads)
 */
static void
pf_batch_push(struct pf_scan *sc, struct pf_batch *b)
{
	struct pf_pool	*pool = sc->pool;

	pf_lock(sc);
	if (pool->nqueued < pool->cap) {
		pool->queued[(pool->head + pool->nqueued++) % pool->cap] = b;
		pthread_cond_signal(&pool->ready);
		pf_unlock(sc);
		return;
	}
	pf_unlock(sc);
	postfix_read_batch(sc, b);
	pf_batch_free(b);
}

/* pf_worker - read batches until the walk is over and none is left */
static void *
pf_worker(void *arg)
{
	struct pf_scan	*sc = arg;
	struct pf_pool	*pool = sc->pool;
	struct pf_batch	*b;

	for (;;) {
		pf_lock(sc);
		while (pool->nqueued == 0 && !pool->done)
			pthread_cond_wait(&pool->ready, &pool->lock);
		if (pool->nqueued == 0) {
			pf_unlock(sc);
			return NULL;
		}
		b = pool->queued[pool->head];
		pool->head = (pool->head + 1) % pool->cap;
		pool->nqueued--;
		pf_unlock(sc);
		postfix_read_batch(sc, b);
		pf_batch_free(b);
	}
}

/* postfix_walk - list one queue directory and its subdirectories */
static int
postfix_walk(struct pf_scan *sc, int parent, const char *name, int queue,
    int depth, char **err_r)
{
	struct pf_batch	*b = NULL;
	struct dirent	*de;
	struct stat	 sb;
	DIR		*dir;
	int		 dfd, isdir, rc = 0;

	dfd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (dfd < 0) {
		if (depth > 0 && errno == ENOENT)
			return 0;	/* a hash directory went away */
		sc->sys_errno = errno;
		*err_r = xasprintf("%s/%s: %s", sc->pf->queue_dir, name,
		    strerror(errno));
		return -1;
	}
	if ((dir = fdopendir(dfd)) == NULL) {
		sc->sys_errno = errno;
		*err_r = xasprintf("%s: %s", name, strerror(errno));
		close(dfd);
		return -1;
	}
	while (rc == 0 && (de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type == DT_UNKNOWN) {	/* some file systems */
			if (fstatat(dfd, de->d_name, &sb,
			    AT_SYMLINK_NOFOLLOW) < 0) {
				if (errno == ENOENT)
					sc->st->vanished++;
				continue;
			}
			isdir = S_ISDIR(sb.st_mode);
		} else if (de->d_type == DT_DIR)
			isdir = 1;
		else if (de->d_type == DT_REG)
			isdir = 0;
		else
			continue;
		if (isdir) {
			if (depth < PF_WALK_DEPTH)
				rc = postfix_walk(sc, dfd, de->d_name, queue,
				    depth + 1, err_r);
			continue;
		}
		if (!postfix_id_ok(de->d_name))
			continue;
		if (b == NULL) {
			b = xmalloc(sizeof(*b));
			b->queue = queue;
			b->n = 0;
			if ((b->dfd = fcntl(dfd, F_DUPFD_CLOEXEC, 0)) < 0) {
				sc->sys_errno = errno;
				*err_r = xasprintf("%s/%s: %s",
				    sc->pf->queue_dir, name, strerror(errno));
				free(b);
				b = NULL;
				rc = -1;
				break;
			}
		}
		ebb_strlcpy(b->name[b->n++], de->d_name, MSG_QUEUE_ID_MAX);
		if (b->n == PF_BATCH) {
			pf_batch_push(sc, b);
			b = NULL;
		}
	}
	if (b != NULL)
		pf_batch_push(sc, b);
	closedir(dir);
	return rc;
}

/* scan_stats_add - a thread's counts into the scan's */
static void
scan_stats_add(struct scan_stats *to, const struct scan_stats *from)
{
	to->files += from->files;
	to->parsed += from->parsed;
	to->unchanged += from->unchanged;
	to->incomplete += from->incomplete;
	to->vanished += from->vanished;
	to->corrupt += from->corrupt;
	to->unreadable += from->unreadable;
}

/*
 * postfix_scan_direct - read the queue files; -1 if a queue is unreadable,
 * with the errno of the failure in *errno_r
 */
static int
postfix_scan_direct(struct postfix *pf, struct index *ix,
    struct scan_stats *st, int *errno_r, char **err_r)
{
	struct pf_pool	 pool;
	struct pf_scan	 sc = { pf, ix, st, &pool, pf->parser, NULL, 0 };
	struct pf_scan	*wsc;
	struct scan_stats *wst;
	pthread_t	*tid;
	sigset_t	 all, old;
	size_t		 i, nthreads = (size_t)pf->scan_threads, nstarted = 0;
	int		 qfd, rc = 0;

	if ((qfd = open(pf->queue_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0) {
		*errno_r = errno;
		*err_r = xasprintf("%s: %s", pf->queue_dir, strerror(errno));
		return -1;
	}
	memset(&pool, 0, sizeof(pool));
	pthread_mutex_init(&pool.lock, NULL);
	pthread_cond_init(&pool.ready, NULL);
	pool.cap = nthreads > 1 ? PF_QUEUED * nthreads : 0;
	pool.queued = xcalloc(pool.cap + 1, sizeof(*pool.queued));
	tid = xcalloc(nthreads, sizeof(*tid));
	wsc = xcalloc(nthreads, sizeof(*wsc));
	wst = xcalloc(nthreads, sizeof(*wst));

	/* the workers take no signals: the caller's handlers expect one */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 1; i < nthreads; i++) {
		wsc[i] = sc;
		wsc[i].st = &wst[i];
		wsc[i].parser = pf_parser_new();
		if (pthread_create(&tid[i], NULL, pf_worker, &wsc[i]) != 0) {
			pf_parser_free(&wsc[i].parser);
			break;		/* fewer threads will do */
		}
		nstarted = i;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	index_scan_begin(ix);
	index_scan_begin(pf->bad);
	for (i = 0; rc == 0 && i < PF_QUEUE_COUNT; i++)
		rc = postfix_walk(&sc, qfd, postfix_queues[i].name, (int)i, 0,
		    err_r);
	close(qfd);

	/* the walk is over: help with what is left, then wait */
	pthread_mutex_lock(&pool.lock);
	pool.done = 1;
	pthread_cond_broadcast(&pool.ready);
	pthread_mutex_unlock(&pool.lock);
	if (pool.cap > 0)
		pf_worker(&sc);
	for (i = 1; i <= nstarted; i++) {
		pthread_join(tid[i], NULL);
		pf_parser_free(&wsc[i].parser);
		scan_stats_add(st, &wst[i]);
	}
	free(tid);
	free(wsc);
	free(wst);
	free(pool.queued);
	pthread_cond_destroy(&pool.ready);
	pthread_mutex_destroy(&pool.lock);
	if (rc < 0) {
		*errno_r = sc.sys_errno;
		return -1;	/* no sweep after a partial scan */
	}
	st->removed = index_scan_end(ix);
	index_scan_end(pf->bad);
	return 0;
}

static int
postfix_scan(struct mta *m, struct index *ix, struct scan_stats *st,
    char **err_r)
{
	struct postfix	*pf = pf_of(m);
	size_t		 q;
	int		 rc, sys_errno = 0;

	if (pf->scan_mode == CONFIG_SCAN_POSTQUEUE || pf->fell_back)
		rc = postfix_scan_postqueue(pf, ix, st, err_r);
	else if ((rc = postfix_scan_direct(pf, ix, st, &sys_errno,
	    err_r)) < 0 && (sys_errno == EACCES || sys_errno == EPERM)) {
		/* not root: Postfix's own lister still works */
		log_warn("%s; falling back to postqueue -j", *err_r);
		free(*err_r);
		*err_r = NULL;
		pf->fell_back = 1;
		memset(st, 0, sizeof(*st));
		rc = postfix_scan_postqueue(pf, ix, st, err_r);
	}
	for (q = 0; q < PF_QUEUE_COUNT; q++)
		st->queue[q] = index_count_queue(ix, (int)q);
	return rc;
}

/* postfix_count - files in a queue directory and its subdirectories */
static long
postfix_count(int parent, const char *name, int depth)
{
	struct dirent	*de;
	struct stat	 sb;
	DIR		*dir;
	long		 n = 0, k;
	int		 dfd, isdir;

	dfd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (dfd < 0)
		return depth > 0 && errno == ENOENT ? 0 : -1;
	if ((dir = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		isdir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN)
			isdir = fstatat(dfd, de->d_name, &sb,
			    AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode);
		if (isdir) {
			if (depth < PF_WALK_DEPTH &&
			    (k = postfix_count(dfd, de->d_name, depth + 1)) > 0)
				n += k;
		} else if (postfix_id_ok(de->d_name))
			n++;
	}
	closedir(dir);
	return n;
}

/* postfix_depth - active + incoming, as the sensors see the MTA's load */
static long
postfix_depth(struct mta *m)
{
	struct postfix	*pf = pf_of(m);
	long		 a, i;
	int		 qfd;

	if ((qfd = open(pf->queue_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0)
		return -1;
	a = postfix_count(qfd, "active", 0);
	i = postfix_count(qfd, "incoming", 0);
	close(qfd);
	return a < 0 || i < 0 ? -1 : a + i;
}

/*
 * postfix_find_below - is id in a subdirectory of dir (a path below qfd),
 * at most levels deep. Only a hashed queue has subdirectories, and those
 * hold 16 (or, with long ids, up to 62) entries each, so the search is
 * cheap; a flat queue's files are skipped by their type.
 */
static int
postfix_find_below(int qfd, const char *dir, const char *id, int levels,
    struct stat *sb, char *path, size_t pathlen)
{
	struct dirent	*de;
	DIR		*d;
	char		*sub;
	int		 dfd, found = 0;

	if (levels <= 0 || (dfd = openat(qfd, dir, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return 0;
	}
	while (!found && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || (de->d_type != DT_DIR &&
		    de->d_type != DT_UNKNOWN))
			continue;
		snprintf(path, pathlen, "%s/%s/%s", dir, de->d_name, id);
		found = fstatat(qfd, path, sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(sb->st_mode);
		if (!found && levels > 1) {
			sub = xasprintf("%s/%s", dir, de->d_name);
			found = postfix_find_below(qfd, sub, id, levels - 1,
			    sb, path, pathlen);
			free(sub);
		}
	}
	closedir(d);
	return found;
}

/*
 * postfix_find - is id in this queue directory: flat, in the subdirectory
 * named by its first character (short ids, hash_queue_depth 1), or, when
 * the queue is hashed (depth > 0), in any subdirectory down to depth
 * levels (long ids, other depths: hash_queue_names, hash_queue_depth)
 */
static int
postfix_find(int qfd, const char *queue, const char *id, int depth,
    struct stat *sb, char *path, size_t pathlen)
{
	snprintf(path, pathlen, "%s/%s", queue, id);
	if (fstatat(qfd, path, sb, AT_SYMLINK_NOFOLLOW) == 0)
		return S_ISREG(sb->st_mode);
	snprintf(path, pathlen, "%s/%c/%s", queue, id[0], id);
	if (fstatat(qfd, path, sb, AT_SYMLINK_NOFOLLOW) == 0)
		return S_ISREG(sb->st_mode);
	return postfix_find_below(qfd, queue, id, depth, sb, path, pathlen);
}

/*
 * postfix_hash_levels - how deep to look in queue q: its hash_queue_depth, and
 * one level for deferred whatever the settings say (its files may predate
 * a change)
 */
static int
postfix_hash_levels(const struct postfix *pf, int q)
{
	return q == PF_QUEUE_DEFERRED ? MAXIMUM(pf->hash_depth[q], 1) :
	    pf->hash_depth[q];
}

/*
 * postfix_locate - look for one message in each queue, in the order it
 * moves through them; twice, since a file renamed between two looks would
 * otherwise seem gone
 */
static int
postfix_locate(struct mta *m, const char *id, int *due_r)
{
	struct postfix	*pf = pf_of(m);
	struct stat	 sb;
	char		 path[512];
	size_t		 i;
	int		 qfd, pass, q = -1;

	*due_r = 0;
	if (strlen(id) >= MSG_QUEUE_ID_MAX || (qfd = open(pf->queue_dir,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	for (pass = 0; pass < 2 && q < 0; pass++) {
		for (i = 0; i < PF_QUEUE_COUNT && q < 0; i++) {
			if (postfix_find(qfd, postfix_queues[i].name, id,
			    postfix_hash_levels(pf, (int)i), &sb, path,
			    sizeof(path)))
				q = (int)i;
		}
	}
	close(qfd);
	/* a deferred file's mtime is its next retry time */
	if (q == PF_QUEUE_DEFERRED)
		*due_r = sb.st_mtime <= time(NULL);
	return q;
}

static int
postfix_park(struct mta *m, const char *const *ids, size_t n, char **err_r)
{
	return postfix_park_ids(pf_of(m), ids, n, err_r);
}

static int
postfix_release(struct mta *m, const char *const *ids, size_t n,
    char **err_r)
{
	return postfix_release_ids(pf_of(m), ids, n, err_r);
}

/*
 * postfix_kick - deliver released mail now. A deferred file's mtime is its
 * next retry time and qmgr skips files whose time is in the future; so,
 * as the flush service does for "postqueue -i", a released file whose
 * retry lies ahead gets the current time, and then one "postkick public
 * qmgr D" makes qmgr scan the deferred queue. One command per batch
 * instead of one postqueue -i process per message (measured: 500 messages
 * released and all attempted within 4 s).
 */
static int
postfix_kick(struct mta *m, const char *const *ids, size_t n, char **err_r)
{
	struct postfix	*pf = pf_of(m);
	struct timespec	 ts[2];
	struct stat	 sb;
	char		 path[512];
	time_t		 now = time(NULL);
	size_t		 i;
	int		 qfd;

	if ((qfd = open(pf->queue_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0) {
		*err_r = xasprintf("%s: %s", pf->queue_dir, strerror(errno));
		return -1;
	}
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = now;
	ts[1].tv_nsec = 0;
	for (i = 0; i < n; i++) {
		if (postfix_find(qfd, "deferred", ids[i], 1, &sb, path,
		    sizeof(path)) && sb.st_mtime > now &&
		    utimensat(qfd, path, ts, AT_SYMLINK_NOFOLLOW) == -1 &&
		    errno != ENOENT)
			log_msg(LOG_WARNING, ids[i], "cannot make it due now: "
			    "%s: %s", path, strerror(errno));
	}
	close(qfd);
	return postfix_wake_qmgr(pf, err_r);
}

/*
 * postfix_proof - read a hold file for ebb's proof (proof.h): its T
 * record's arrival time, then the file in PF_PROOF_CHUNK reads. Postfix's
 * cleanup appends a header a milter adds at the end of the queue file,
 * reached through pointer records, so the last chunk is read first: one
 * read for most of ebb's holds, however big the message. Without a proof
 * there, all of it is read (a file without the proof is read once: the
 * drain remembers it).
 */
static int
postfix_proof(struct mta *m, const char *id, struct proof_search *ps,
    char **err_r)
{
	struct postfix	*pf = pf_of(m);
	struct pf_envelope env;
	struct stat	 sb;
	enum pf_error	 e;
	const char	*why;
	char		 path[512];
	unsigned char	*buf = NULL;
	uint64_t	 off = 0;
	ssize_t		 n;
	int		 qfd, fd = -1, rc = PROOF_ERROR;

	if (strlen(id) >= MSG_QUEUE_ID_MAX || (qfd = open(pf->queue_dir,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		*err_r = xasprintf("%s: %s", pf->queue_dir, strerror(errno));
		return PROOF_ERROR;
	}
	if (!postfix_find(qfd, postfix_queues[PF_QUEUE_HOLD].name, id, 0,
	    &sb, path, sizeof(path))) {
		*err_r = xstrdup("not in hold");
		goto out;
	}
	if ((fd = openat(qfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fstat(fd, &sb) < 0) {
		*err_r = xasprintf("%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > PROOF_FILE_MAX) {
		*err_r = xasprintf("%s: not a file of at most %ld bytes", path,
		    PROOF_FILE_MAX);
		goto out;
	}
	if ((e = pf_parse(pf->parser, postfix_pread, &fd,
	    (uint64_t)sb.st_size, &env, &why)) != PF_OK) {
		*err_r = xasprintf("%s: %s: %s", path, pf_error_name(e), why);
		goto out;
	}
	buf = xmalloc(PF_PROOF_CHUNK);
	/* the last chunk first: where cleanup appends what a milter adds */
	if (sb.st_size > PF_PROOF_CHUNK) {
		off = (uint64_t)sb.st_size - PF_PROOF_CHUNK;
		if ((n = postfix_pread(&fd, buf, PF_PROOF_CHUNK, off)) < 0) {
			*err_r = xasprintf("%s: %s", path, strerror(errno));
			goto out;
		}
		proof_search_begin(ps, id, (time_t)env.arrival_time);
		proof_search_feed(ps, buf, (size_t)n);
		if (proof_search_end(ps)) {
			rc = PROOF_OK;
			goto out;
		}
	}
	proof_search_begin(ps, id, (time_t)env.arrival_time);
	for (off = 0; off < (uint64_t)sb.st_size; off += (uint64_t)n) {
		if ((n = postfix_pread(&fd, buf, PF_PROOF_CHUNK, off)) < 0) {
			*err_r = xasprintf("%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0 || proof_search_feed(ps, buf, (size_t)n))
			break;
	}
	rc = proof_search_end(ps) ? PROOF_OK : PROOF_NONE;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	close(qfd);
	return rc;
}

/*
 * The live index (mta.h, qwatch.h): the queue directories and their hash
 * subdirectories are watched; a file an event names is found and read
 * alone, as the walk reads it.
 */

/* postfix_watch - the watch op: each queue, PF_WALK_DEPTH levels deep */
static int
postfix_watch(struct mta *m, void (*fn)(void *, const char *, int),
    void *arg, char **err_r)
{
	struct postfix	*pf = pf_of(m);
	char		 dir[4096];
	size_t		 i;

	if (pf->scan_mode == CONFIG_SCAN_POSTQUEUE || pf->fell_back) {
		*err_r = xstrdup("the queue is listed by postqueue -j");
		return -1;
	}
	for (i = 0; i < PF_QUEUE_COUNT; i++) {
		snprintf(dir, sizeof(dir), "%s/%s", pf->queue_dir,
		    postfix_queues[i].name);
		fn(arg, dir, PF_WALK_DEPTH);
	}
	return 0;
}

/* postfix_watch_id - a queue file's name is its queue id */
static int
postfix_watch_id(struct mta *m, const char *name, char id_r[MSG_QUEUE_ID_MAX])
{
	(void)m;
	if (!postfix_id_ok(name))
		return -1;
	ebb_strlcpy(id_r, name, MSG_QUEUE_ID_MAX);
	return 0;
}

/*
 * postfix_where - find id: in dir first (an event's directory, absolute),
 * then in each queue; its path relative to the queue directory in path,
 * its queue returned, -1 when no queue holds it
 */
static int
postfix_where(struct postfix *pf, int qfd, const char *id, const char *dir,
    struct stat *sb, char *path, size_t pathlen)
{
	size_t		 n = strlen(pf->queue_dir), i;
	char		 queue[32];
	int		 q;

	if (dir != NULL && strncmp(dir, pf->queue_dir, n) == 0 &&
	    dir[n] == '/') {
		dir += n + 1;
		ebb_strlcpy(queue, dir, sizeof(queue));
		queue[strcspn(queue, "/")] = '\0';
		snprintf(path, pathlen, "%s/%s", dir, id);
		if ((q = pf_queue_lookup(queue)) >= 0 &&
		    fstatat(qfd, path, sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(sb->st_mode))
			return q;
	}
	for (i = 0; i < PF_QUEUE_COUNT; i++)
		if (postfix_find(qfd, postfix_queues[i].name, id,
		    postfix_hash_levels(pf, (int)i), sb, path, pathlen))
			return (int)i;
	return -1;
}

/*
 * postfix_refresh - the refresh op. A file that vanishes between the look
 * and the read was moved on: look again, a few times, before giving up on
 * it (the next event or scan finds it).
 */
static int
postfix_refresh(struct mta *m, struct index *ix, const char *id,
    const char *dir, struct scan_stats *st, char **err_r)
{
	struct postfix	*pf = pf_of(m);
	struct pf_pool	 pool;		/* none: only for its lock */
	struct pf_scan	 sc = { pf, ix, st, &pool, pf->parser, NULL, 0 };
	struct index_stamp stamp;
	struct stat	 sb;
	char		 path[512], *slash;
	size_t		 vanished;
	int		 qfd, dfd, q = -1, try;

	if ((qfd = open(pf->queue_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0) {
		*err_r = xasprintf("%s: %s", pf->queue_dir, strerror(errno));
		return -1;
	}
	memset(&pool, 0, sizeof(pool));
	pthread_mutex_init(&pool.lock, NULL);
	for (try = 0; try < 3; try++) {
		/* twice, as locate: a file renamed between two looks */
		if ((q = postfix_where(pf, qfd, id, dir, &sb, path,
		    sizeof(path))) < 0 && (q = postfix_where(pf, qfd, id,
		    NULL, &sb, path, sizeof(path))) < 0)
			break;
		index_stamp_stat(&stamp, &sb);
		if ((sb.st_mode & S_IXUSR) == 0) {
			/* as the walk: being written, or damaged in hold */
			if (postfix_queues[q].role == MSG_ROLE_HELD)
				postfix_bad(&sc, id, q, &stamp, "incomplete",
				    "no owner-execute bit", 0);
			else {
				st->incomplete++;
				if (index_remove(ix, id) == 0)
					st->removed++;
			}
			break;
		}
		st->files++;
		if (index_scan_unchanged(ix, id, &stamp, q,
		    q == PF_QUEUE_DEFERRED ? sb.st_mtime : 0)) {
			st->unchanged++;
			break;
		}
		slash = strrchr(path, '/');
		*slash = '\0';
		if ((dfd = openat(qfd, path, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) < 0)
			continue;	/* its hash directory went: look again */
		vanished = st->vanished;
		postfix_read_file(&sc, dfd, id, q, &stamp);
		close(dfd);
		if (st->vanished == vanished)
			break;
	}
	pthread_mutex_destroy(&pool.lock);
	close(qfd);
	if (q < 0) {
		if (index_remove(ix, id) == 0)
			st->removed++;
		index_remove(pf->bad, id);
	}
	return 0;
}

/* postfix_cache_key - a scan derives the deadlines from the lifetimes */
static int
postfix_cache_key(struct mta *m, char *buf, size_t len)
{
	struct postfix	*pf = pf_of(m);
	int		 n;

	n = snprintf(buf, len, "maximal_queue_lifetime=%ld "
	    "bounce_queue_lifetime=%ld", pf->max_lifetime, pf->bounce_lifetime);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

const struct mta_ops postfix_mta_ops = {
	.name = "postfix",
	.queues = postfix_queues,
	.nqueues = PF_QUEUE_COUNT,
	.open = postfix_open,
	.scan = postfix_scan,
	.park = postfix_park,
	.release = postfix_release,
	.kick = postfix_kick,
	.locate = postfix_locate,
	.proof = postfix_proof,
	.queue_directory = postfix_queue_directory,
	.depth = postfix_depth,
	.close = postfix_close,
	.reason = postfix_reason,	/* postfix_reason.c */
	.watch = postfix_watch,
	.watch_id = postfix_watch_id,
	.refresh = postfix_refresh,
	.cache_key = postfix_cache_key,
};
