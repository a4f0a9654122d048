/*
 * index_cache.c - the index kept on disk between runs of ebbctl
 *
 * A flat file rather than SQLite: it is only ever written whole and read
 * whole, never queried, and a million messages load in well under a
 * second as fixed records (measured in bench/scan.sh), where rows would
 * go through SQL one at a time. The layout, every section padded to 8
 * bytes:
 *
 *	header		struct ixc_header
 *	identity	ident_len bytes: the caller's identity string
 *	records		nrec struct ixc_rec
 *	pool		npool uint32: string numbers of recipient lists
 *	strings		nstrings of: uint32 length, the bytes, a NUL
 *
 * Senders and recipients are the index's interned strings, so each is
 * written once and referred to by number. The checksum covers everything
 * after the header, in 8-byte words.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ebb/index.h"
#include "ebb/index_cache.h"
#include "ebb/util.h"

#define IXC_MAGIC	"EBBIXC\r\n"	/* \r\n: a text mangling shows */
#define IXC_ORDER	0x01020304u
#define IXC_NONE	UINT32_MAX	/* no string (a NULL reason) */
#define IXC_BUF		(1024 * 1024)	/* bytes per write */

struct ixc_header {
	char		 magic[8];
	uint32_t	 version;
	uint32_t	 byte_order;
	uint32_t	 ident_len;
	uint32_t	 pad;
	uint64_t	 nrec;
	uint64_t	 npool;
	uint64_t	 nstrings;
	uint64_t	 file_size;	/* the whole file */
	uint64_t	 checksum;	/* of all after the header */
};

struct ixc_rec {
	uint64_t	 ino;		/* the stamp */
	uint64_t	 fsize;
	int64_t		 mtime;
	int64_t		 arrival_time;
	int64_t		 create_time;
	int64_t		 deadline;
	uint64_t	 size;
	uint32_t	 mtime_nsec;
	uint32_t	 nrcpt;
	uint32_t	 sender;	/* a string number */
	uint32_t	 reason;	/* a string number, IXC_NONE */
	uint32_t	 rcpt;		/* nrcpt 1: a string number; more:
					   the first of nrcpt in the pool */
	uint8_t		 queue;
	uint8_t		 pad[3];
	char		 queue_id[MSG_QUEUE_ID_MAX];
};

_Static_assert(sizeof(struct ixc_header) % 8 == 0, "header not aligned");
_Static_assert(sizeof(struct ixc_rec) % 8 == 0, "record not aligned");

static size_t
pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* ixc_sum - fold 8-byte words into the checksum */
static uint64_t
ixc_sum(uint64_t h, const unsigned char *p, size_t n)
{
	uint64_t	 w;
	size_t		 i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return h;
}

/* --------------------------------------------------------------------- */
/* loading */

/* ixc_fail - ignore the cache: empty the index, say why */
static int
ixc_fail(struct index *ix, char **why_r, const char *why)
{
	index_scan_begin(ix);		/* sweeps everything loaded */
	index_scan_end(ix);
	*why_r = xstrdup(why);
	return -1;
}

/* ixc_pread - len bytes at off into buf; -1 and errno (EIO: short) */
static int
ixc_pread(int fd, void *buf, size_t len, size_t off)
{
	size_t		 got = 0;
	ssize_t		 n;

	while (got < len) {
		if ((n = pread(fd, (char *)buf + got, len - got,
		    (off_t)(off + got))) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

/* ixc_read - len bytes at off into a new buffer; NULL and errno */
static unsigned char *
ixc_read(int fd, size_t len, size_t off)
{
	unsigned char	*buf = xmalloc(len > 0 ? len : 1);

	if (ixc_pread(fd, buf, len, off) < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ixc_strings - the string table: a pointer per number into buf */
static const char **
ixc_strings(const unsigned char *p, size_t len, uint64_t n)
{
	const char	**v;
	size_t		 off = 0;
	uint64_t	 i;
	uint32_t	 sl;

	if (n > len / 5)	/* each takes at least 5 bytes */
		return NULL;
	v = xreallocarray(NULL, (size_t)n + 1, sizeof(*v));
	for (i = 0; i < n; i++) {
		if (len - off < 4)
			goto bad;
		memcpy(&sl, p + off, 4);
		off += 4;
		if (sl >= len - off || p[off + sl] != '\0' ||
		    memchr(p + off, '\0', sl) != NULL)
			goto bad;
		v[i] = (const char *)p + off;
		off += (size_t)sl + 1;
	}
	if (pad8(off) != len)
		goto bad;
	return v;
bad:
	free(v);
	return NULL;
}

/*
 * The load reads the file once, in pieces, so that its peak memory is the
 * index and not the index and the file: the pool and the strings whole
 * (small: senders and recipients repeat), then the records IXC_RECS at a
 * time, each checked against the sizes and put in the index as it comes.
 * The checksum is summed on the way, section by section in the file's
 * order, and compared at the end; when it does not match, the index is
 * emptied again. A record put before that was bounded like any other, so
 * a damaged file costs time, never a wrong answer. (A first pass for the
 * checksum alone read the file twice.)
 */
#define IXC_RECS	4096

int
index_cache_load(const char *path, const char *ident, struct index *ix,
    char **why_r)
{
	struct ixc_header h;
	struct ixc_rec	*recs = NULL, *r;
	struct index_stamp stamp;
	struct msg	 m;
	struct stat	 sb;
	uint32_t	*pool = NULL;
	const char	**str = NULL, **rcpt = NULL;
	unsigned char	*buf = NULL, *strbuf = NULL;
	uint64_t	 sum = 0;
	size_t		 ilen = strlen(ident), size, off, want, i, j, k, nk;
	size_t		 rmax = 0, recoff, poolsize;
	int		 fd, rc = -1;
	const char	*why = NULL;

	*why_r = NULL;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) < 0) {
		if (errno == ENOENT)
			return 0;
		*why_r = xasprintf("%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) < 0)
		goto syserr;
	if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid() ||
	    (sb.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		why = "not a file of this user, writable by it alone";
		goto fail;
	}
	if (sb.st_size > INDEX_CACHE_MAX_BYTES) {
		why = "too big";
		goto fail;
	}
	size = (size_t)sb.st_size;
	if (size < sizeof(h)) {
		why = "truncated";
		goto fail;
	}
	if (ixc_pread(fd, &h, sizeof(h), 0) < 0)
		goto syserr;
	if (memcmp(h.magic, IXC_MAGIC, sizeof(h.magic)) != 0) {
		why = "not an ebb scan cache";
		goto fail;
	}
	if (h.version != INDEX_CACHE_VERSION || h.byte_order != IXC_ORDER) {
		why = "another version or byte order";
		goto fail;
	}
	if (h.file_size != (uint64_t)size) {
		why = h.file_size > (uint64_t)size ? "truncated" :
		    "damaged (size)";
		goto fail;
	}
	/* sizes within the file before anything is multiplied */
	if (h.ident_len > INDEX_CACHE_IDENT_MAX ||
	    h.nrec > size / sizeof(*r) || h.npool > size / 4 ||
	    (want = sizeof(h) + pad8(h.ident_len) + (size_t)h.nrec *
	    sizeof(*r) + pad8((size_t)h.npool * 4)) > size) {
		why = "damaged (sizes)";
		goto fail;
	}
	buf = xmalloc(pad8(h.ident_len) + 1);
	if (ixc_pread(fd, buf, pad8(h.ident_len), sizeof(h)) < 0)
		goto syserr;
	if (h.ident_len != ilen || memcmp(buf, ident, ilen) != 0) {
		why = "made for another MTA, queue directory or settings";
		goto fail;
	}
	sum = ixc_sum(0, buf, pad8(ilen));
	recoff = sizeof(h) + pad8(ilen);
	off = recoff + (size_t)h.nrec * sizeof(*r);
	poolsize = pad8((size_t)h.npool * 4);
	if ((pool = (uint32_t *)(void *)ixc_read(fd, poolsize, off)) ==
	    NULL || (strbuf = ixc_read(fd, size - want, want)) == NULL)
		goto syserr;
	if ((str = ixc_strings(strbuf, size - want, h.nstrings)) == NULL) {
		why = "damaged (strings)";
		goto fail;
	}
	index_reserve(ix, (size_t)h.nrec);
	recs = xreallocarray(NULL, IXC_RECS, sizeof(*recs));
	for (i = 0; i < h.nrec; i += nk) {
		nk = MINIMUM(IXC_RECS, (size_t)h.nrec - i);
		if (ixc_pread(fd, recs, nk * sizeof(*recs), recoff +
		    i * sizeof(*recs)) < 0)
			goto syserr;
		sum = ixc_sum(sum, (unsigned char *)recs, nk * sizeof(*recs));
		for (k = 0; k < nk; k++) {
			r = &recs[k];
			if (memchr(r->queue_id, '\0', sizeof(r->queue_id)) ==
			    NULL || !ebb_queue_id_valid(r->queue_id) ||
			    r->queue >= MSG_QUEUE_MAX ||
			    r->sender >= h.nstrings ||
			    (r->reason != IXC_NONE &&
			    r->reason >= h.nstrings) ||
			    (r->nrcpt == 1 && r->rcpt >= h.nstrings) ||
			    (r->nrcpt > 1 && (r->rcpt > h.npool ||
			    r->nrcpt > h.npool - r->rcpt))) {
				why = "damaged (records)";
				goto fail;
			}
			if (r->nrcpt > rmax) {
				rmax = r->nrcpt;
				rcpt = xreallocarray(rcpt, rmax,
				    sizeof(*rcpt));
			}
			if (r->nrcpt == 1)
				rcpt[0] = str[r->rcpt];
			for (j = 0; r->nrcpt > 1 && j < r->nrcpt; j++) {
				if (pool[r->rcpt + j] >= h.nstrings) {
					why = "damaged (recipients)";
					goto fail;
				}
				rcpt[j] = str[pool[r->rcpt + j]];
			}
			memset(&m, 0, sizeof(m));
			memcpy(m.queue_id, r->queue_id, sizeof(m.queue_id));
			m.queue = r->queue;
			m.nrcpt = r->nrcpt;
			m.arrival_time = (time_t)r->arrival_time;
			m.create_time = (time_t)r->create_time;
			m.deadline = (time_t)r->deadline;
			m.size = r->size;
			m.sender = str[r->sender];
			m.rcpt = rcpt;
			m.reason = r->reason != IXC_NONE ? str[r->reason] :
			    NULL;
			stamp.ino = r->ino;
			stamp.size = r->fsize;
			stamp.mtime = r->mtime;
			stamp.mtime_nsec = r->mtime_nsec;
			index_put(ix, &m, &stamp);
		}
	}
	sum = ixc_sum(sum, (unsigned char *)pool, poolsize);
	if (ixc_sum(sum, strbuf, size - want) != h.checksum) {
		why = "damaged (checksum)";
		goto fail;
	}
	rc = 1;
	goto out;
syserr:
	*why_r = xasprintf("%s", strerror(errno));
	index_scan_begin(ix);
	index_scan_end(ix);
	goto out;
fail:
	rc = ixc_fail(ix, why_r, why);
out:
	free(recs);
	free(rcpt);
	free(str);
	free(strbuf);
	free(pool);
	free(buf);
	close(fd);
	return rc;
}

/* --------------------------------------------------------------------- */
/* saving */

/* a buffered writer that keeps the checksum */
struct ixc_writer {
	int		 fd;
	int		 error;		/* errno of a failed write */
	uint64_t	 sum;
	uint64_t	 bytes;
	size_t		 len;
	unsigned char	*buf;
};

static void
ixc_flush(struct ixc_writer *w)
{
	size_t		 done = 0;
	ssize_t		 n;

	w->sum = ixc_sum(w->sum, w->buf, w->len);
	while (w->error == 0 && done < w->len) {
		if ((n = write(w->fd, w->buf + done, w->len - done)) < 0) {
			if (errno != EINTR)
				w->error = errno;
			continue;
		}
		done += (size_t)n;
	}
	w->len = 0;
}

static void
ixc_put(struct ixc_writer *w, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t		 k;

	w->bytes += n;
	while (n > 0) {
		k = MINIMUM(n, IXC_BUF - w->len);
		memcpy(w->buf + w->len, s, k);
		w->len += k;
		s += k;
		n -= k;
		if (w->len == IXC_BUF)
			ixc_flush(w);
	}
}

/* ixc_align - zeros up to the next multiple of 8 */
static void
ixc_align(struct ixc_writer *w)
{
	static const char zero[8];

	ixc_put(w, zero, pad8((size_t)w->bytes) - (size_t)w->bytes);
}

/* string numbers by the interned pointer: an open-addressing table */
struct ixc_strmap {
	const char	**key;
	uint32_t	*num;
	size_t		 mask;
	const char	**list;		/* by number */
	uint32_t	 n;
};

static uint32_t
ixc_strnum(struct ixc_strmap *sm, const char *s)
{
	size_t		 i = ((uintptr_t)s >> 3) * 0x9e3779b97f4a7c15ULL &
	    sm->mask;

	while (sm->key[i] != NULL) {
		if (sm->key[i] == s)
			return sm->num[i];
		i = (i + 1) & sm->mask;
	}
	sm->key[i] = s;
	sm->num[i] = sm->n;
	sm->list[sm->n] = s;
	return sm->n++;
}

/* what the walk over the index writes records with */
struct ixc_save {
	struct ixc_writer *w;
	struct ixc_strmap *sm;
	uint32_t	*pool;
	size_t		 npool, poolcap;
	uint64_t	 nrec;
	int		 toobig;
};

static int
ixc_save_one(struct msg *m, void *arg)
{
	struct ixc_save	*sv = arg;
	struct index_stamp st;
	struct ixc_rec	 r;
	uint32_t	 i;

	if (!index_stamp_of(m, &st) || (m->flags & MSG_F_UNREADABLE))
		return 0;	/* the next scan reads it anyway */
	if (sv->npool + m->nrcpt >= UINT32_MAX - 1) {
		sv->toobig = 1;
		return 1;
	}
	memset(&r, 0, sizeof(r));
	r.ino = st.ino;
	r.fsize = st.size;
	r.mtime = st.mtime;
	r.mtime_nsec = st.mtime_nsec;
	r.arrival_time = m->arrival_time;
	r.create_time = m->create_time;
	r.deadline = m->deadline;
	r.size = m->size;
	r.nrcpt = m->nrcpt;
	r.queue = m->queue;
	memcpy(r.queue_id, m->queue_id, sizeof(r.queue_id));
	r.sender = ixc_strnum(sv->sm, m->sender);
	r.reason = m->reason != NULL ? ixc_strnum(sv->sm, m->reason) :
	    IXC_NONE;
	if (m->nrcpt == 1)
		r.rcpt = ixc_strnum(sv->sm, m->rcpt[0]);
	else if (m->nrcpt > 1) {
		r.rcpt = (uint32_t)sv->npool;
		if (sv->npool + m->nrcpt > sv->poolcap) {
			sv->poolcap = (sv->npool + m->nrcpt) * 2;
			sv->pool = xreallocarray(sv->pool, sv->poolcap,
			    sizeof(*sv->pool));
		}
		for (i = 0; i < m->nrcpt; i++)
			sv->pool[sv->npool++] = ixc_strnum(sv->sm, m->rcpt[i]);
	}
	ixc_put(sv->w, &r, sizeof(r));
	sv->nrec++;
	if (sv->w->bytes > INDEX_CACHE_MAX_BYTES) {
		sv->toobig = 1;
		return 1;
	}
	return 0;
}

/*
 * ixc_open_new - path.new, locked: 1 with *fd_r, 0 when another process
 * holds it, -1 on error
 */
static int
ixc_open_new(const char *tmp, int *fd_r)
{
	struct stat	 a, b;
	int		 fd;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return errno == EWOULDBLOCK ? 0 : -1;
	}
	/* renamed away between our open and our lock: someone's cache now */
	if (fstat(fd, &a) < 0 || stat(tmp, &b) < 0 || a.st_ino != b.st_ino ||
	    a.st_dev != b.st_dev || !S_ISREG(a.st_mode)) {
		close(fd);
		return 0;
	}
	if (ftruncate(fd, 0) < 0 || fchmod(fd, 0600) < 0) {
		close(fd);
		return -1;
	}
	*fd_r = fd;
	return 1;
}

int
index_cache_save(const char *path, const char *ident, struct index *ix,
    char **err_r)
{
	struct ixc_header h;
	struct ixc_writer w;
	struct ixc_strmap sm;
	struct ixc_save	 sv;
	char		*tmp;
	size_t		 ilen = strlen(ident), nslots, i, len;
	uint32_t	 sl;
	int		 fd = -1, rc = -1, r;

	if (ilen > INDEX_CACHE_IDENT_MAX) {
		*err_r = xstrdup("identity too long");
		return -1;
	}
	tmp = xasprintf("%s.new", path);
	if ((r = ixc_open_new(tmp, &fd)) <= 0) {
		if (r == 0) {
			free(tmp);
			return 1;
		}
		*err_r = xasprintf("%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	memset(&w, 0, sizeof(w));
	w.fd = fd;
	w.buf = xmalloc(IXC_BUF);
	/* every string a message can refer to is interned in ix */
	for (nslots = 64; nslots < 2 * index_string_count(ix) + 2;)
		nslots *= 2;
	memset(&sm, 0, sizeof(sm));
	sm.key = xcalloc(nslots, sizeof(*sm.key));
	sm.num = xcalloc(nslots, sizeof(*sm.num));
	sm.list = xcalloc(nslots / 2, sizeof(*sm.list));
	sm.mask = nslots - 1;
	memset(&sv, 0, sizeof(sv));
	sv.w = &w;
	sv.sm = &sm;

	/* the header last, at offset 0, when its counts are known */
	memset(&h, 0, sizeof(h));
	if (write(fd, &h, sizeof(h)) != (ssize_t)sizeof(h)) {
		*err_r = xasprintf("%s: %s", tmp, strerror(errno));
		goto out;
	}
	ixc_put(&w, ident, ilen);
	ixc_align(&w);
	index_foreach(ix, ixc_save_one, &sv);
	if (sv.toobig) {
		*err_r = xasprintf("more than %ld bytes: not written",
		    INDEX_CACHE_MAX_BYTES);
		goto out;
	}
	ixc_put(&w, sv.pool, sv.npool * sizeof(*sv.pool));
	ixc_align(&w);
	for (i = 0; i < sm.n; i++) {
		len = strlen(sm.list[i]);
		sl = (uint32_t)len;
		ixc_put(&w, &sl, 4);
		ixc_put(&w, sm.list[i], len + 1);
	}
	ixc_align(&w);
	ixc_flush(&w);
	if (w.error != 0) {
		*err_r = xasprintf("%s: %s", tmp, strerror(w.error));
		goto out;
	}
	memcpy(h.magic, IXC_MAGIC, sizeof(h.magic));
	h.version = INDEX_CACHE_VERSION;
	h.byte_order = IXC_ORDER;
	h.ident_len = (uint32_t)ilen;
	h.nrec = sv.nrec;
	h.npool = sv.npool;
	h.nstrings = sm.n;
	h.file_size = sizeof(h) + w.bytes;
	h.checksum = w.sum;
	if (pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    fsync(fd) < 0) {
		*err_r = xasprintf("%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, path) < 0) {
		*err_r = xasprintf("rename %s: %s", tmp, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		unlink(tmp);
	close(fd);		/* after the rename: the lock held till here */
	free(w.buf);
	free(sm.key);
	free(sm.num);
	free(sm.list);
	free(sv.pool);
	free(tmp);
	return rc;
}
