/*
 * mta.c - choose the MTA backend and call through its ops table
 *
 * The only place that maps [general] mta to a backend. A backend that is
 * not written yet is a clear error at open, not a crash later.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ebb/config.h"
#include "ebb/index.h"
#include "ebb/index_cache.h"
#include "ebb/log.h"
#include "ebb/mta.h"
#include "ebb/proof.h"
#include "ebb/util.h"

static const struct {
	int			 mta;		/* enum config_mta */
	const char		*name;
	const struct mta_ops	*ops;		/* NULL: not written yet */
} mta_backends[] = {
	{ CONFIG_MTA_POSTFIX,	"postfix",	&postfix_mta_ops },
	{ CONFIG_MTA_SENDMAIL,	"sendmail",	&sendmail_mta_ops },
};

/* ops_queue_lookup - the queue of ops named name, -1 if none */
static int
ops_queue_lookup(const struct mta_ops *ops, const char *name)
{
	int	 q;

	for (q = 0; q < ops->nqueues; q++)
		if (strcmp(ops->queues[q].name, name) == 0)
			return q;
	return -1;
}

int
mta_queue_lookup_cfg(const struct config *cfg, const char *name)
{
	size_t		 i;

	for (i = 0; i < nitems(mta_backends); i++)
		if (mta_backends[i].mta == cfg->mta &&
		    mta_backends[i].ops != NULL)
			return ops_queue_lookup(mta_backends[i].ops, name);
	return -1;
}

int
mta_open(const struct config *cfg, struct mta **mta_r, char **err_r)
{
	struct mta	*m;
	size_t		 i;

	for (i = 0; i < nitems(mta_backends); i++)
		if (mta_backends[i].mta == cfg->mta)
			break;
	if (i == nitems(mta_backends)) {
		*err_r = xasprintf("mta: unknown MTA %d", cfg->mta);
		return -1;
	}
	if (mta_backends[i].ops == NULL) {
		*err_r = xasprintf("mta = %s: not supported yet",
		    mta_backends[i].name);
		return -1;
	}
	m = xcalloc(1, sizeof(*m));
	m->ops = mta_backends[i].ops;
	if (m->ops->open(m, cfg, err_r) < 0) {
		free(m);
		return -1;
	}
	*mta_r = m;
	return 0;
}

void
mta_close(struct mta **mp)
{
	struct mta	*m = *mp;

	if (m == NULL)
		return;
	m->ops->close(m);
	free(m);
	*mp = NULL;
}

const char *
mta_name(struct mta *m)
{
	return m->ops->name;
}

int
mta_scan_threads(const struct config *cfg)
{
	long	 n = cfg->scan_threads;

	if (n <= 0 && (n = sysconf(_SC_NPROCESSORS_ONLN)) < 1)
		n = 1;
	return (int)MINIMUM(n, CONFIG_SCAN_THREADS_MAX);
}

int
mta_scan(struct mta *m, struct index *ix, struct scan_stats *st,
    char **err_r)
{
	memset(st, 0, sizeof(*st));
	return m->ops->scan(m, ix, st, err_r);
}

/*
 * mta_cache_ident - what a cache must have been made for: this ebb, this
 * MTA, this queue directory (by name, device and inode: the inode numbers
 * of a queue made anew mean nothing) and the backend's settings
 */
static char *
mta_cache_ident(struct mta *m)
{
	struct stat	 sb;
	char		 key[1024];
	const char	*dir = mta_queue_directory(m);

	if (m->ops->cache_key == NULL || m->ops->cache_key(m, key,
	    sizeof(key)) < 0 || stat(dir, &sb) < 0)
		return NULL;
	return xasprintf("ebb %s\n%s\n%s %ju:%ju\n%s\n", PACKAGE_VERSION,
	    m->ops->name, dir, (uintmax_t)sb.st_dev, (uintmax_t)sb.st_ino,
	    key);
}

/*
 * mta_cache_dir_ok - the state directory can hold the cache: it is there,
 * ours (another user's, root's for an admin who is not, is not our place
 * to write), and no other user can replace what is in it
 */
static int
mta_cache_dir_ok(const char *dir)
{
	struct stat	 sb;

	if (stat(dir, &sb) < 0 || sb.st_uid != geteuid())
		return 0;
	if (!S_ISDIR(sb.st_mode) || (sb.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		log_warn("%s: not a directory writable by its owner alone: "
		    "no scan cache", dir);
		return 0;
	}
	return 1;
}

int
mta_scan_cached(struct mta *m, const struct config *cfg, struct index *ix,
    struct scan_stats *st, char **err_r)
{
	char		*ident, *path, *why = NULL;
	const char	*how = "none";
	int		 loaded, rc;

	if (index_count(ix) != 0 || (ident = mta_cache_ident(m)) == NULL ||
	    !mta_cache_dir_ok(cfg->state_directory)) {
		rc = mta_scan(m, ix, st, err_r);
		goto stats;
	}
	path = xasprintf("%s/%s", cfg->state_directory, MTA_SCAN_CACHE);
	if ((loaded = index_cache_load(path, ident, ix, &why)) < 0) {
		log_warn("%s ignored: %s", path, why);
		free(why);
		why = NULL;
		how = "ignored";
	} else if (loaded > 0)
		how = "loaded";
	rc = mta_scan(m, ix, st, err_r);
	if (rc == 0 && !st->via_lister && (loaded <= 0 || st->parsed > 0 ||
	    st->removed > 0) && index_cache_save(path, ident, ix, &why) < 0) {
		log_warn("%s not written: %s", path, why);
		free(why);
	}
	free(path);
	free(ident);
stats:
	if (rc == 0 && getenv("EBB_SCAN_STATS") != NULL)
		fprintf(stderr, "scan: files %zu parsed %zu cached %zu "
		    "removed %zu cache %s\n", st->files, st->parsed,
		    st->unchanged, st->removed, how);
	return rc;
}

/* mta_ids_valid - refuse the whole call when one id is not a queue id */
static int
mta_ids_valid(const char *const *ids, size_t n, char **err_r)
{
	size_t		 i;

	for (i = 0; i < n; i++)
		if (ids[i] == NULL || !ebb_queue_id_valid(ids[i])) {
			*err_r = xasprintf("invalid queue id \"%.40s\"",
			    ids[i] != NULL ? ids[i] : "(null)");
			return 0;
		}
	return 1;
}

int
mta_park(struct mta *m, const char *const *ids, size_t n, char **err_r)
{
	if (!mta_ids_valid(ids, n, err_r))
		return -1;
	return n == 0 ? 0 : m->ops->park(m, ids, n, err_r);
}

int
mta_release(struct mta *m, const char *const *ids, size_t n, char **err_r)
{
	if (!mta_ids_valid(ids, n, err_r))
		return -1;
	return n == 0 ? 0 : m->ops->release(m, ids, n, err_r);
}

int
mta_kick(struct mta *m, const char *const *ids, size_t n, char **err_r)
{
	if (!mta_ids_valid(ids, n, err_r))
		return -1;
	return n == 0 ? 0 : m->ops->kick(m, ids, n, err_r);
}

int
mta_locate(struct mta *m, const char *id, int *due_r)
{
	int	 q;

	*due_r = 0;
	if (id == NULL || !ebb_queue_id_valid(id))
		return -1;
	q = m->ops->locate(m, id, due_r);
	if (q < 0 || q >= m->ops->nqueues) {
		*due_r = 0;
		return -1;
	}
	return q;
}

int
mta_proof(struct mta *m, const char *id, struct proof_search *ps,
    char **err_r)
{
	if (id == NULL || !ebb_queue_id_valid(id)) {
		*err_r = xstrdup("not a queue id");
		return PROOF_ERROR;
	}
	if (m->ops->proof == NULL) {
		*err_r = xasprintf("the %s backend cannot look for a proof",
		    m->ops->name);
		return PROOF_ERROR;
	}
	return m->ops->proof(m, id, ps, err_r);
}

int
mta_locate_role(struct mta *m, const char *id, int *due_r)
{
	int	 q = mta_locate(m, id, due_r);

	return q < 0 ? -1 : mta_queue_role(m, q);
}

int
mta_reason(struct mta *m, const struct msg *msg, char *buf, size_t len)
{
	size_t	 i;

	if (len == 0 || m->ops->reason == NULL ||
	    !ebb_queue_id_valid(msg->queue_id) ||
	    m->ops->reason(m, msg, buf, len) == -1)
		return -1;
	buf[len - 1] = '\0';
	for (i = 0; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	return buf[0] != '\0' ? 0 : -1;
}

int
mta_nqueues(const struct mta *m)
{
	return m->ops->nqueues;
}

const char *
mta_queue_name(const struct mta *m, int queue)
{
	if (queue < 0 || queue >= m->ops->nqueues)
		return "unknown";
	return m->ops->queues[queue].name;
}

int
mta_queue_lookup(const struct mta *m, const char *name)
{
	return ops_queue_lookup(m->ops, name);
}

int
mta_queue_role(const struct mta *m, int queue)
{
	if (queue < 0 || queue >= m->ops->nqueues)
		return -1;
	return m->ops->queues[queue].role;
}

int
mta_held_queue(const struct mta *m)
{
	int	 q;

	for (q = 0; q < m->ops->nqueues; q++)
		if (m->ops->queues[q].role == MSG_ROLE_HELD)
			return q;
	return -1;
}

const char *
mta_queue_directory(struct mta *m)
{
	return m->ops->queue_directory(m);
}

long
mta_depth(struct mta *m)
{
	return m->ops->depth(m);
}

int
mta_can_watch(const struct mta *m)
{
	return m->ops->watch != NULL && m->ops->watch_id != NULL &&
	    m->ops->refresh != NULL;
}

int
mta_watch(struct mta *m, void (*fn)(void *, const char *, int), void *arg,
    char **err_r)
{
	if (!mta_can_watch(m)) {
		*err_r = xasprintf("%s: no live index", m->ops->name);
		return -1;
	}
	return m->ops->watch(m, fn, arg, err_r);
}

int
mta_watch_id(struct mta *m, const char *name, char id_r[MSG_QUEUE_ID_MAX])
{
	return m->ops->watch_id(m, name, id_r);
}

int
mta_refresh(struct mta *m, struct index *ix, const char *id, const char *dir,
    struct scan_stats *st, char **err_r)
{
	if (!ebb_queue_id_valid(id) || strlen(id) >= MSG_QUEUE_ID_MAX)
		return 0;
	return m->ops->refresh(m, ix, id, dir, st, err_r);
}

int
mta_refresh_many(struct mta *m, struct index *ix, const char *const *ids,
    const char *const *dirs, size_t n, struct scan_stats *st, char **err_r)
{
	const char	**vi, **vd;
	size_t		 i, k = 0;
	int		 rc = 0;

	/* as mta_refresh: an id that is none is no one's, and skipped */
	vi = xreallocarray(NULL, MAXIMUM(n, 1), sizeof(*vi));
	vd = xreallocarray(NULL, MAXIMUM(n, 1), sizeof(*vd));
	for (i = 0; i < n; i++)
		if (ebb_queue_id_valid(ids[i]) &&
		    strlen(ids[i]) < MSG_QUEUE_ID_MAX) {
			vi[k] = ids[i];
			vd[k++] = dirs[i];
		}
	if (m->ops->refresh_many != NULL)
		rc = m->ops->refresh_many(m, ix, vi, vd, k, st, err_r);
	else
		for (i = 0; i < k && rc == 0; i++)
			rc = m->ops->refresh(m, ix, vi[i], vd[i], st, err_r);
	free(vi);
	free(vd);
	return rc;
}

void
mta_refresh_begin(struct mta *m, struct index *ix,
    void (*dirty)(void *, const char *), void *arg)
{
	if (m->ops->refresh_begin != NULL)
		m->ops->refresh_begin(m, ix, dirty, arg);
}
