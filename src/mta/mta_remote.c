/*
 * mta_remote.c - the backend's reading ops, asked of ebbd's scanner
 *
 * See mta_remote.h for why and for the wire. Both halves are here, the
 * proxy the root parent calls (remote_*) and the scanner's loop that
 * answers it (serve_*), so that the two cannot drift apart.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ebb/index.h"
#include "ebb/log.h"
#include "ebb/mta.h"
#include "ebb/mta_remote.h"
#include "ebb/proof.h"
#include "ebb/util.h"

enum remote_op {
	OP_SCAN = 1,
	OP_REFRESH,
	OP_PROOF,
	OP_REASON,
	OP_LOCATE
};

enum remote_kind {
	R_MSGS = 1,		/* records to the end of the frame */
	R_GONE,			/* the refreshed id is in no queue */
	R_END			/* the result: always the last frame */
};

/* --------------------------------------------------------------------- */
/* encoding */

static void
wire_grow(struct wire_buf *b, size_t n)
{
	size_t	 cap;

	if (b->cap - b->len >= n)
		return;
	cap = b->cap == 0 ? 4096 : b->cap;
	while (cap - b->len < n)
		cap *= 2;
	b->p = xreallocarray(b->p, cap, 1);
	b->cap = cap;
}

static void
wire_put(struct wire_buf *b, const void *p, size_t n)
{
	wire_grow(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void
wire_buf_free(struct wire_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void
wire_put_u8(struct wire_buf *b, uint8_t v)
{
	wire_put(b, &v, sizeof(v));
}

void
wire_put_u32(struct wire_buf *b, uint32_t v)
{
	wire_put(b, &v, sizeof(v));
}

void
wire_put_u64(struct wire_buf *b, uint64_t v)
{
	wire_put(b, &v, sizeof(v));
}

void
wire_put_str(struct wire_buf *b, const char *s)
{
	size_t	 n = strlen(s);

	wire_put_u32(b, (uint32_t)n);
	wire_put(b, s, n + 1);
}

static const void *
wire_get(struct wire_rd *r, size_t n)
{
	const void	*p;

	if (r->bad || r->len - r->off < n) {
		r->bad = 1;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

uint8_t
wire_get_u8(struct wire_rd *r)
{
	const void	*p = wire_get(r, 1);

	return p != NULL ? *(const uint8_t *)p : 0;
}

uint32_t
wire_get_u32(struct wire_rd *r)
{
	const void	*p = wire_get(r, 4);
	uint32_t	 v = 0;

	if (p != NULL)
		memcpy(&v, p, sizeof(v));
	return v;
}

uint64_t
wire_get_u64(struct wire_rd *r)
{
	const void	*p = wire_get(r, 8);
	uint64_t	 v = 0;

	if (p != NULL)
		memcpy(&v, p, sizeof(v));
	return v;
}

void
wire_put_bytes(struct wire_buf *b, const void *p, size_t n)
{
	wire_put_u32(b, (uint32_t)n);
	wire_put(b, p, n);
}

const void *
wire_get_bytes(struct wire_rd *r, size_t *len_r)
{
	uint32_t	 n = wire_get_u32(r);
	const void	*p;

	*len_r = 0;
	if (r->bad || n > r->len - r->off) {
		r->bad = 1;
		return NULL;
	}
	p = wire_get(r, n);
	*len_r = n;
	return p;
}

const char *
wire_get_str(struct wire_rd *r)
{
	uint32_t	 n = wire_get_u32(r);
	const char	*s;

	if (r->bad || n >= r->len - r->off) {
		r->bad = 1;
		return NULL;
	}
	s = wire_get(r, (size_t)n + 1);
	if (s[n] != '\0' || memchr(s, '\0', n) != NULL) {
		r->bad = 1;
		return NULL;
	}
	return s;
}

void
wire_put_msg(struct wire_buf *b, const struct msg *m,
    const struct index_stamp *st)
{
	uint32_t	 i;

	wire_put_str(b, m->queue_id);
	wire_put_u8(b, m->queue);
	wire_put_u32(b, m->flags);
	wire_put_u32(b, m->arrival_usec);
	wire_put_u64(b, (uint64_t)m->arrival_time);
	wire_put_u64(b, (uint64_t)m->create_time);
	wire_put_u64(b, (uint64_t)m->deadline);
	wire_put_u64(b, (uint64_t)m->next_retry);
	wire_put_u64(b, m->size);
	wire_put_u8(b, st != NULL);
	if (st != NULL) {
		wire_put_u64(b, st->ino);
		wire_put_u64(b, st->size);
		wire_put_u64(b, (uint64_t)st->mtime);
		wire_put_u32(b, st->mtime_nsec);
	}
	wire_put_str(b, m->sender != NULL ? m->sender : "");
	wire_put_u8(b, m->reason != NULL);
	if (m->reason != NULL)
		wire_put_str(b, m->reason);
	wire_put_u32(b, m->nrcpt);
	for (i = 0; i < m->nrcpt; i++)
		wire_put_str(b, m->rcpt[i]);
}

int
wire_get_msg(struct wire_rd *r, struct msg *m, const char ***rcpt_r,
    struct index_stamp *st, int *stamped_r)
{
	const char	*id, **rcpt;
	uint32_t	 flags, n, i;

	memset(m, 0, sizeof(*m));
	memset(st, 0, sizeof(*st));
	*rcpt_r = NULL;
	*stamped_r = 0;
	if ((id = wire_get_str(r)) == NULL || !ebb_queue_id_valid(id))
		return -1;
	ebb_strlcpy(m->queue_id, id, sizeof(m->queue_id));
	m->queue = wire_get_u8(r);
	flags = wire_get_u32(r);
	m->arrival_usec = wire_get_u32(r);
	m->arrival_time = (time_t)wire_get_u64(r);
	m->create_time = (time_t)wire_get_u64(r);
	m->deadline = (time_t)wire_get_u64(r);
	m->next_retry = (time_t)wire_get_u64(r);
	m->size = wire_get_u64(r);
	if (m->queue >= MSG_QUEUE_MAX || flags > UINT16_MAX)
		return -1;
	m->flags = (uint16_t)flags;
	if ((*stamped_r = wire_get_u8(r)) > 1)
		return -1;
	if (*stamped_r) {
		st->ino = wire_get_u64(r);
		st->size = wire_get_u64(r);
		st->mtime = (int64_t)wire_get_u64(r);
		st->mtime_nsec = wire_get_u32(r);
	}
	m->sender = wire_get_str(r);
	switch (wire_get_u8(r)) {
	case 0:
		break;
	case 1:
		m->reason = wire_get_str(r);
		break;
	default:
		return -1;
	}
	n = wire_get_u32(r);
	/* each recipient takes at least 5 bytes: a bound before the array */
	if (r->bad || m->sender == NULL || n > (r->len - r->off) / 5)
		return -1;
	rcpt = xreallocarray(NULL, n > 0 ? n : 1, sizeof(*rcpt));
	for (i = 0; i < n; i++)
		if ((rcpt[i] = wire_get_str(r)) == NULL) {
			free(rcpt);
			return -1;
		}
	m->nrcpt = n;
	m->rcpt = rcpt;
	*rcpt_r = rcpt;
	return r->bad ? -1 : 0;
}

void
mta_remote_apply(struct index *ix, const struct msg *m,
    const struct index_stamp *st, int stamped)
{
	if (stamped && index_scan_unchanged(ix, m->queue_id, st, m->queue,
	    m->next_retry))
		return;
	if (!stamped && (m->flags & MSG_F_UNREADABLE))
		index_keep_unreadable(ix, m->queue_id, m->queue);
	else
		index_put(ix, m, stamped ? st : NULL);
}

/* --------------------------------------------------------------------- */
/* frames */

/* frame_begin - make room for the length, written when it is sent */
static void
frame_begin(struct wire_buf *b)
{
	b->len = 0;
	wire_put_u32(b, 0);
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	ssize_t		 n;

	while (len > 0) {
		/* no SIGPIPE if the other end is gone: ebbctl has no handler */
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
frame_send(int fd, struct wire_buf *b)
{
	uint32_t	 n = (uint32_t)(b->len - 4);

	memcpy(b->p, &n, sizeof(n));
	return write_all(fd, b->p, b->len);
}

/*
 * read_all - len bytes; -1 and errno (0: the other end closed, ETIMEDOUT:
 * nothing for timeout seconds, when timeout > 0)
 */
static int
read_all(int fd, void *buf, size_t len, int timeout)
{
	struct pollfd	 pfd;
	unsigned char	*p = buf;
	ssize_t		 n;
	int		 rc;

	while (len > 0) {
		if (timeout > 0) {
			pfd.fd = fd;
			pfd.events = POLLIN;
			if ((rc = poll(&pfd, 1, timeout * 1000)) == -1) {
				if (errno == EINTR)
					continue;
				return -1;
			}
			if (rc == 0) {
				errno = ETIMEDOUT;
				return -1;
			}
		}
		if ((n = read(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = 0;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* frame_recv - the next frame into b; -1 and errno (EMSGSIZE: too big) */
static int
frame_recv(int fd, struct wire_buf *b, int timeout)
{
	uint32_t	 n;

	if (read_all(fd, &n, sizeof(n), timeout) == -1)
		return -1;
	if (n == 0 || n > MTA_REMOTE_FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	b->len = 0;
	wire_grow(b, n);
	if (read_all(fd, b->p, n, timeout) == -1)
		return -1;
	b->len = n;
	return 0;
}

/* --------------------------------------------------------------------- */
/* the proxy, in ebbd's parent */

struct remote {
	struct mta_ops	 ops;		/* inner's, the reading ones swapped */
	struct mta	*inner;
	int		 fd;
	pid_t		 pid;		/* the scanner, or 0 */
	struct proof_key key;		/* checks what the scanner found */
	int		 have_key;
	int		 broken;	/* the scanner failed: ask no more */
	struct wire_buf	 req, in;
};


static struct remote *
remote_of(struct mta *m)
{
	return m->priv;
}

static void
put_stats(struct wire_buf *b, const struct scan_stats *st)
{
	int	 q;

	wire_put_u64(b, st->files);
	wire_put_u64(b, st->parsed);
	wire_put_u64(b, st->unchanged);
	wire_put_u64(b, st->incomplete);
	wire_put_u64(b, st->vanished);
	wire_put_u64(b, st->corrupt);
	wire_put_u64(b, st->removed);
	wire_put_u64(b, st->unreadable);
	for (q = 0; q < MSG_QUEUE_MAX; q++)
		wire_put_u64(b, st->queue[q]);
	wire_put_u8(b, st->via_lister != 0);
}

static void
get_stats(struct wire_rd *r, struct scan_stats *st)
{
	int	 q;

	st->files = wire_get_u64(r);
	st->parsed = wire_get_u64(r);
	st->unchanged = wire_get_u64(r);
	st->incomplete = wire_get_u64(r);
	st->vanished = wire_get_u64(r);
	st->corrupt = wire_get_u64(r);
	st->removed = wire_get_u64(r);
	st->unreadable = wire_get_u64(r);
	for (q = 0; q < MSG_QUEUE_MAX; q++)
		st->queue[q] = wire_get_u64(r);
	st->via_lister = wire_get_u8(r);
}

int
mta_remote_frame(struct index *ix, const char *id, const unsigned char *buf,
    size_t len, struct mta *local, size_t *removed_r,
    struct mta_remote_end *end, const char **why_r)
{
	struct wire_rd	 rd;
	struct index_stamp st;
	struct msg	 m;
	const char	**rcpt, *s;
	const void	*p;
	size_t		 i, n;
	int		 stamped;

	memset(&rd, 0, sizeof(rd));
	rd.p = buf;
	rd.len = len;
	switch (wire_get_u8(&rd)) {
	case R_MSGS:
		while (rd.off < rd.len) {
			if (wire_get_msg(&rd, &m, &rcpt, &st, &stamped) == -1) {
				free(rcpt);
				*why_r = "a malformed message record";
				return -1;
			}
			if (ix == NULL || (id != NULL &&
			    strcmp(m.queue_id, id) != 0)) {
				free(rcpt);
				*why_r = "a message not asked for";
				return -1;
			}
			if (local != NULL && local->ops->settle != NULL)
				local->ops->settle(local, &m);
			mta_remote_apply(ix, &m, &st, stamped);
			free(rcpt);
		}
		return 0;
	case R_GONE:
		s = wire_get_str(&rd);
		if (rd.bad || rd.off != rd.len || id == NULL || ix == NULL ||
		    strcmp(s, id) != 0) {
			*why_r = "a malformed \"gone\"";
			return -1;
		}
		if (index_remove(ix, id) == 0 && removed_r != NULL)
			(*removed_r)++;
		return 0;
	case R_END:
		memset(end, 0, sizeof(*end));
		end->rc = (int)(int32_t)wire_get_u32(&rd);
		get_stats(&rd, &end->st);
		end->arrival = (int64_t)wire_get_u64(&rd);
		s = wire_get_str(&rd);
		end->err = s != NULL && *s != '\0' ? xstrdup(s) : NULL;
		if ((s = wire_get_str(&rd)) != NULL)
			ebb_strlcpy(end->text, s, sizeof(end->text));
		end->ncand = wire_get_u32(&rd);
		if (end->ncand > PROOF_CANDIDATES)
			rd.bad = 1;
		for (i = 0; !rd.bad && i < end->ncand; i++) {
			p = wire_get_bytes(&rd, &n);
			if (p == NULL || n > sizeof(end->cand[i].v)) {
				rd.bad = 1;
				break;
			}
			memcpy(end->cand[i].v, p, n);
			end->cand[i].len = n;
		}
		if (rd.bad || rd.off != rd.len) {
			free(end->err);
			end->err = NULL;
			*why_r = "a malformed result";
			return -1;
		}
		return 1;
	default:
		*why_r = "an unknown frame";
		return -1;
	}
}

/* remote_break - a scanner that lies or hangs is not kept: ebbd sees it die */
static void
remote_break(struct remote *r)
{
	r->broken = 1;
	close(r->fd);
	r->fd = -1;
	if (r->pid > 0)
		kill(r->pid, SIGKILL);
}

/*
 * remote_answer - read the frames of one answer and apply them
 * (mta_remote_frame): 0 with *end filled, or -1 and *err_r when the
 * scanner answers wrong or not at all: the proxy is then broken
 */
static int
remote_answer(struct remote *r, struct index *ix, const char *id,
    size_t *removed_r, struct mta_remote_end *end, char **err_r)
{
	const char	*why = NULL;
	int		 rc;

	memset(end, 0, sizeof(*end));
	do {
		if (frame_recv(r->fd, &r->in, MTA_REMOTE_TIMEOUT) == -1) {
			*err_r = xasprintf("the scanner: %s", errno == 0 ?
			    "gone" : strerror(errno));
			goto broken;
		}
		rc = mta_remote_frame(ix, id, r->in.p, r->in.len, r->inner,
		    removed_r, end, &why);
	} while (rc == 0);
	if (rc == 1)
		return 0;
	*err_r = xasprintf("the scanner sent %s", why);
	log_err("%s: not asking it again", *err_r);
broken:
	remote_break(r);
	return -1;
}

/*
 * remote_call - send the request in r->req; apply the frames of the
 * answer (remote_answer). 0 with *end filled, or -1 and *err_r when the
 * scanner cannot be asked or answers wrong: the proxy is then broken for
 * good, closes the socket and kills the scanner, and ebbd, seeing it
 * gone, stops.
 */
static int
remote_call(struct remote *r, struct index *ix, const char *id,
    size_t *removed_r, struct mta_remote_end *end, char **err_r)
{
	memset(end, 0, sizeof(*end));
	if (r->broken) {
		*err_r = xstrdup("the scanner process is gone");
		return -1;
	}
	if (frame_send(r->fd, &r->req) == -1) {
		*err_r = xasprintf("the scanner: %s", strerror(errno));
		remote_break(r);
		return -1;
	}
	return remote_answer(r, ix, id, removed_r, end, err_r);
}

static int
remote_scan(struct mta *m, struct index *ix, struct scan_stats *st,
    char **err_r)
{
	struct remote	*r = remote_of(m);
	struct mta	*in = r->inner;
	struct mta_remote_end end;
	int		 q;

	if (in->ops->scanned != NULL)
		in->ops->scanned(in, ix, 0);
	frame_begin(&r->req);
	wire_put_u8(&r->req, OP_SCAN);
	index_scan_begin(ix);
	if (remote_call(r, ix, NULL, NULL, &end, err_r) == -1)
		return -1;	/* no sweep after a partial scan */
	if (end.rc != 0) {
		*err_r = end.err != NULL ? end.err :
		    xstrdup("the scanner's scan failed");
		return -1;
	}
	free(end.err);
	*st = end.st;
	st->removed = index_scan_end(ix);
	if (in->ops->scanned != NULL)
		in->ops->scanned(in, ix, 1);
	for (q = 0; q < MSG_QUEUE_MAX; q++)
		st->queue[q] = index_count_queue(ix, q);
	return 0;
}

/* put_refresh - one refresh request, appended to b as a whole frame */
static void
put_refresh(struct wire_buf *b, const char *id, const char *dir)
{
	size_t		 at = b->len;
	uint32_t	 n;

	wire_put_u32(b, 0);
	wire_put_u8(b, OP_REFRESH);
	wire_put_str(b, id);
	wire_put_u8(b, dir != NULL);
	wire_put_str(b, dir != NULL ? dir : "");
	n = (uint32_t)(b->len - at - 4);
	memcpy(b->p + at, &n, sizeof(n));
}

/*
 * remote_refresh_many - the refreshes of a batch of ids, asked at once and
 * answered in order: one round trip per MTA_REMOTE_PIPELINE ids, not one
 * per id. A batch's requests are few bytes, so that writing them never
 * waits for the scanner, which may be waiting for its answers to be read.
 * A refresh that fails fails the call, once the rest of its batch is read.
 */
static int
remote_refresh_many(struct mta *m, struct index *ix, const char *const *ids,
    const char *const *dirs, size_t n, struct scan_stats *st, char **err_r)
{
	struct remote	*r = remote_of(m);
	struct mta_remote_end end;
	char		*fail = NULL;
	size_t		 i, j, k, removed;

	if (r->broken) {
		*err_r = xstrdup("the scanner process is gone");
		return -1;
	}
	for (i = 0; i < n && fail == NULL; i += k) {
		r->req.len = 0;
		for (k = 0; i + k < n && k < MTA_REMOTE_PIPELINE &&
		    r->req.len < MTA_REMOTE_PIPELINE_BYTES; k++)
			put_refresh(&r->req, ids[i + k], dirs[i + k]);
		if (write_all(r->fd, r->req.p, r->req.len) == -1) {
			*err_r = xasprintf("the scanner: %s", strerror(errno));
			remote_break(r);
			return -1;
		}
		for (j = 0; j < k; j++) {
			removed = 0;
			if (remote_answer(r, ix, ids[i + j], &removed, &end,
			    err_r) == -1) {
				free(fail);
				return -1;
			}
			if (end.rc != 0) {
				if (fail == NULL)
					fail = end.err != NULL ? end.err :
					    xstrdup("the scanner's refresh "
					    "failed");
				else
					free(end.err);
				continue;
			}
			free(end.err);
			st->files += end.st.files;
			st->parsed += end.st.parsed;
			st->unchanged += end.st.unchanged;
			st->incomplete += end.st.incomplete;
			st->vanished += end.st.vanished;
			st->corrupt += end.st.corrupt;
			st->unreadable += end.st.unreadable;
			st->removed += removed;
		}
	}
	if (fail != NULL) {
		*err_r = fail;
		return -1;
	}
	return 0;
}

static int
remote_refresh(struct mta *m, struct index *ix, const char *id,
    const char *dir, struct scan_stats *st, char **err_r)
{
	return remote_refresh_many(m, ix, &id, &dir, 1, st, err_r);
}

static int
remote_proof(struct mta *m, const char *id, struct proof_search *ps,
    char **err_r)
{
	struct remote	*r = remote_of(m);
	struct mta_remote_end end;
	size_t		 i;

	frame_begin(&r->req);
	wire_put_u8(&r->req, OP_PROOF);
	wire_put_str(&r->req, id);
	if (remote_call(r, NULL, NULL, NULL, &end, err_r) == -1)
		return PROOF_ERROR;
	/* the caller asks the search for the arrival time the file gave */
	proof_search_begin(ps, id, (time_t)end.arrival);
	if (end.rc != PROOF_NONE) {
		/* a keyless search finds nothing itself: only errors */
		*err_r = end.err != NULL ? end.err :
		    xstrdup("the scanner could not tell");
		return PROOF_ERROR;
	}
	free(end.err);
	/* the scanner holds no key: only what checks here proves a hold */
	for (i = 0; r->have_key && i < end.ncand; i++)
		if (proof_check_value(&r->key, id, (time_t)end.arrival,
		    end.cand[i].v, end.cand[i].len))
			return PROOF_OK;
	return PROOF_NONE;
}

static int
remote_reason(struct mta *m, const struct msg *msg, char *buf, size_t len)
{
	struct remote	*r = remote_of(m);
	struct mta_remote_end end;
	char		*err = NULL;

	frame_begin(&r->req);
	wire_put_u8(&r->req, OP_REASON);
	wire_put_str(&r->req, msg->queue_id);
	wire_put_u8(&r->req, msg->queue);
	if (remote_call(r, NULL, NULL, NULL, &end, &err) == -1) {
		free(err);
		return -1;
	}
	free(end.err);
	if (end.rc != 0)
		return -1;
	ebb_strlcpy(buf, end.text, len);
	return 0;
}

/* the rest is inner's, called with inner */

static int
remote_park(struct mta *m, const char *const *ids, size_t n, char **err_r)
{
	struct mta	*in = remote_of(m)->inner;

	return in->ops->park(in, ids, n, err_r);
}

static int
remote_release(struct mta *m, const char *const *ids, size_t n,
    char **err_r)
{
	struct mta	*in = remote_of(m)->inner;

	return in->ops->release(in, ids, n, err_r);
}

static int
remote_kick(struct mta *m, const char *const *ids, size_t n, char **err_r)
{
	struct mta	*in = remote_of(m)->inner;

	return in->ops->kick(in, ids, n, err_r);
}

/*
 * remote_locate - a backend whose locate reads files (find) asks the
 * scanner to find the id, then puts its own state to the answer (found)
 */
static int
remote_locate(struct mta *m, const char *id, int *due_r)
{
	struct remote	*r = remote_of(m);
	struct mta	*in = r->inner;
	struct mta_remote_end end;
	char		*err = NULL;
	int64_t		 attempt;
	int		 q;

	if (in->ops->find == NULL)
		return in->ops->locate(in, id, due_r);
	if (r->broken)
		goto fallback;	/* said once, when it broke */
	frame_begin(&r->req);
	wire_put_u8(&r->req, OP_LOCATE);
	wire_put_str(&r->req, id);
	if (remote_call(r, NULL, NULL, NULL, &end, &err) == -1) {
		log_err("%s: cannot locate through the scanner: %s", id, err);
		free(err);
		goto fallback;
	}
	free(end.err);
	if (end.rc < -1 || end.rc >= in->ops->nqueues) {
		log_err("the scanner sent a queue that is none: %d; not "
		    "asking it again", end.rc);
		remote_break(r);
		goto fallback;
	}
	return in->ops->found(in, id, end.rc, end.arrival, due_r);
fallback:
	/* where the file is, by stat: a held one stays held */
	q = in->ops->find(in, id, 0, &attempt);
	return in->ops->found(in, id, q, 0, due_r);
}

/* remote_refresh_begin - the backend's state alone says what is dirty */
static void
remote_refresh_begin(struct mta *m, struct index *ix,
    void (*dirty)(void *, const char *), void *arg)
{
	struct mta	*in = remote_of(m)->inner;

	in->ops->refresh_begin(in, ix, dirty, arg);
}

static const char *
remote_queue_directory(struct mta *m)
{
	struct mta	*in = remote_of(m)->inner;

	return in->ops->queue_directory(in);
}

static long
remote_depth(struct mta *m)
{
	struct mta	*in = remote_of(m)->inner;

	return in->ops->depth(in);
}

static int
remote_watch(struct mta *m, void (*fn)(void *, const char *, int),
    void *arg, char **err_r)
{
	struct mta	*in = remote_of(m)->inner;

	return in->ops->watch(in, fn, arg, err_r);
}

static int
remote_watch_id(struct mta *m, const char *name,
    char id_r[MSG_QUEUE_ID_MAX])
{
	struct mta	*in = remote_of(m)->inner;

	return in->ops->watch_id(in, name, id_r);
}

static int
remote_cache_key(struct mta *m, char *buf, size_t len)
{
	struct mta	*in = remote_of(m)->inner;

	return in->ops->cache_key(in, buf, len);
}

static void
remote_close(struct mta *m)
{
	struct remote	*r = remote_of(m);

	mta_close(&r->inner);
	if (r->fd != -1)
		close(r->fd);
	wire_buf_free(&r->req);
	wire_buf_free(&r->in);
	OPENSSL_cleanse(&r->key, sizeof(r->key));
	free(r);
	m->priv = NULL;
}

struct mta *
mta_remote_new(struct mta *inner, int fd, pid_t pid,
    const struct proof_key *key)
{
	struct remote	*r = xcalloc(1, sizeof(*r));
	struct mta	*m = xcalloc(1, sizeof(*m));
	const struct mta_ops *io = inner->ops;

	r->inner = inner;
	r->fd = fd;
	r->pid = pid;
	if (key != NULL) {
		r->key = *key;
		r->have_key = 1;
	}
	r->ops = *io;
	r->ops.scan = remote_scan;
	r->ops.park = remote_park;
	r->ops.release = remote_release;
	r->ops.kick = remote_kick;
	r->ops.locate = remote_locate;
	r->ops.proof = io->proof != NULL ? remote_proof : NULL;
	r->ops.queue_directory = remote_queue_directory;
	r->ops.depth = remote_depth;
	r->ops.close = remote_close;
	r->ops.reason = io->reason != NULL ? remote_reason : NULL;
	r->ops.watch = io->watch != NULL ? remote_watch : NULL;
	r->ops.watch_id = io->watch_id != NULL ? remote_watch_id : NULL;
	r->ops.refresh = io->refresh != NULL ? remote_refresh : NULL;
	r->ops.refresh_many = io->refresh != NULL ? remote_refresh_many :
	    NULL;
	r->ops.refresh_begin = io->refresh_begin != NULL ?
	    remote_refresh_begin : NULL;
	r->ops.cache_key = io->cache_key != NULL ? remote_cache_key : NULL;
	m->ops = &r->ops;
	m->priv = r;
	return m;
}

/* --------------------------------------------------------------------- */
/* the scanner's side */

struct serve {
	struct mta	*mta;
	int		 fd;
	struct index	*mirror;	/* what the last scans found */
	struct proof_search *ps;
	struct wire_buf	 out;
	int		 failed;	/* a write failed */
};

static void
serve_flush(struct serve *s)
{
	if (s->out.len > 5 && !s->failed && frame_send(s->fd, &s->out) == -1)
		s->failed = 1;
	frame_begin(&s->out);
	wire_put_u8(&s->out, R_MSGS);
}

static void
serve_msg(struct serve *s, const struct msg *m)
{
	struct index_stamp st;

	wire_put_msg(&s->out, m, index_stamp_of(m, &st) ? &st : NULL);
	if (s->out.len >= MTA_REMOTE_BATCH)
		serve_flush(s);
}

static int
serve_one(struct msg *m, void *arg)
{
	struct serve	*s = arg;

	serve_msg(s, m);
	return s->failed;
}

/* serve_end - send what is pending, then the result */
static int
serve_end(struct serve *s, int rc, const struct scan_stats *st,
    time_t arrival, const char *err, const char *text,
    const struct proof_search *ps)
{
	struct scan_stats none;
	const char	*v;
	size_t		 i, n, len;

	serve_flush(s);
	if (st == NULL) {
		memset(&none, 0, sizeof(none));
		st = &none;
	}
	frame_begin(&s->out);
	wire_put_u8(&s->out, R_END);
	wire_put_u32(&s->out, (uint32_t)(int32_t)rc);
	put_stats(&s->out, st);
	wire_put_u64(&s->out, (uint64_t)arrival);
	wire_put_str(&s->out, err != NULL ? err : "");
	wire_put_str(&s->out, text != NULL ? text : "");
	for (n = 0; ps != NULL && proof_search_candidate(ps, n, &v,
	    &len) == 0; n++)
		;
	wire_put_u32(&s->out, (uint32_t)n);
	for (i = 0; i < n; i++) {
		(void)proof_search_candidate(ps, i, &v, &len);
		wire_put_bytes(&s->out, v, len);
	}
	if (!s->failed && frame_send(s->fd, &s->out) == -1)
		s->failed = 1;
	frame_begin(&s->out);
	wire_put_u8(&s->out, R_MSGS);
	return s->failed ? -1 : 0;
}

static int
serve_scan(struct serve *s)
{
	struct scan_stats st;
	char		*err = NULL;
	int		 rc;

	if ((rc = mta_scan(s->mta, s->mirror, &st, &err)) == 0)
		index_foreach(s->mirror, serve_one, s);
	rc = serve_end(s, rc, &st, 0, err, NULL, NULL);
	free(err);
	return rc;
}

static int
serve_refresh(struct serve *s, struct wire_rd *rd)
{
	struct scan_stats st;
	const char	*id, *dir;
	struct msg	*m;
	char		*err = NULL;
	int		 hasdir, rc;

	id = wire_get_str(rd);
	hasdir = wire_get_u8(rd);
	dir = wire_get_str(rd);
	if (rd->bad || rd->off != rd->len || !ebb_queue_id_valid(id) ||
	    s->mta->ops->refresh == NULL)
		return -1;
	memset(&st, 0, sizeof(st));
	rc = s->mta->ops->refresh(s->mta, s->mirror, id, hasdir ? dir : NULL,
	    &st, &err);
	if (rc == 0) {
		if ((m = index_lookup(s->mirror, id)) != NULL)
			serve_msg(s, m);
		else {
			serve_flush(s);
			frame_begin(&s->out);
			wire_put_u8(&s->out, R_GONE);
			wire_put_str(&s->out, id);
			if (!s->failed && frame_send(s->fd, &s->out) == -1)
				s->failed = 1;
			frame_begin(&s->out);
			wire_put_u8(&s->out, R_MSGS);
		}
	}
	rc = serve_end(s, rc, &st, 0, err, NULL, NULL);
	free(err);
	return rc;
}

static int
serve_proof(struct serve *s, struct wire_rd *rd)
{
	const char	*id;
	char		*err = NULL;
	int		 rc;

	id = wire_get_str(rd);
	if (rd->bad || rd->off != rd->len || !ebb_queue_id_valid(id))
		return -1;
	/* keyless: the candidates go to the parent, which holds the key */
	proof_search_begin(s->ps, id, 0);
	rc = mta_proof(s->mta, id, s->ps, &err);
	rc = serve_end(s, rc, NULL, proof_search_arrival(s->ps), err, NULL,
	    rc == PROOF_ERROR ? NULL : s->ps);
	free(err);
	return rc;
}

/* serve_locate - locate's reading half: the queue, the last attempt */
static int
serve_locate(struct serve *s, struct wire_rd *rd)
{
	const char	*id;
	int64_t		 attempt = 0;
	int		 q;

	id = wire_get_str(rd);
	if (rd->bad || rd->off != rd->len || !ebb_queue_id_valid(id) ||
	    s->mta->ops->find == NULL)
		return -1;
	q = s->mta->ops->find(s->mta, id, 1, &attempt);
	return serve_end(s, q, NULL, (time_t)attempt, NULL, NULL, NULL);
}

static int
serve_reason(struct serve *s, struct wire_rd *rd)
{
	struct msg	 m;
	const char	*id;
	char		 text[MTA_REMOTE_REASON_MAX];
	int		 rc = -1;

	memset(&m, 0, sizeof(m));
	id = wire_get_str(rd);
	m.queue = wire_get_u8(rd);
	if (rd->bad || rd->off != rd->len || !ebb_queue_id_valid(id) ||
	    m.queue >= MSG_QUEUE_MAX)
		return -1;
	ebb_strlcpy(m.queue_id, id, sizeof(m.queue_id));
	text[0] = '\0';
	if (s->mta->ops->reason != NULL)
		rc = s->mta->ops->reason(s->mta, &m, text, sizeof(text));
	return serve_end(s, rc, NULL, 0, NULL, rc == 0 ? text : NULL, NULL);
}

int
mta_remote_serve(struct mta *mta, int fd)
{
	struct serve	 s;
	struct wire_buf	 req = { NULL, 0, 0 };
	struct wire_rd	 rd;
	int		 rc = 0;

	memset(&s, 0, sizeof(s));
	s.mta = mta;
	s.fd = fd;
	s.mirror = index_new();
	s.ps = proof_search_new(NULL);
	frame_begin(&s.out);
	wire_put_u8(&s.out, R_MSGS);
	for (;;) {
		if (frame_recv(fd, &req, 0) == -1) {
			if (errno != 0) {
				log_err("scanner: %s", strerror(errno));
				rc = -1;
			}
			break;
		}
		memset(&rd, 0, sizeof(rd));
		rd.p = req.p;
		rd.len = req.len;
		switch (wire_get_u8(&rd)) {
		case OP_SCAN:
			rc = rd.off == rd.len ? serve_scan(&s) : -1;
			break;
		case OP_REFRESH:
			rc = serve_refresh(&s, &rd);
			break;
		case OP_PROOF:
			rc = serve_proof(&s, &rd);
			break;
		case OP_REASON:
			rc = serve_reason(&s, &rd);
			break;
		case OP_LOCATE:
			rc = serve_locate(&s, &rd);
			break;
		default:
			rc = -1;
			break;
		}
		if (rc == -1) {
			log_err("scanner: %s", s.failed ? "cannot answer" :
			    "a malformed request");
			break;
		}
	}
	wire_buf_free(&req);
	wire_buf_free(&s.out);
	proof_search_free(&s.ps);
	index_free(&s.mirror);
	return rc;
}
