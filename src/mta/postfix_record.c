/*
 * postfix_record.c - read the envelope of a Postfix queue file, bounded
 *
 * This follows how Postfix's own queue manager reads a queue file
 * (qmgr_message_read in src/qmgr/qmgr_message.c): records are read one by
 * one; "p" records move the read position (offset 0 is a placeholder);
 * whenever the position reaches the data offset of the C record, the
 * content is skipped by its size and the next record must be X; E ends the
 * file. The records allowed in a segment are the ones the queue manager
 * allows; anything else means the file is corrupt.
 *
 * Reads go through a window: the first read is PF_READ_FIRST bytes at
 * offset 0, which holds the whole envelope of nearly every file; a record
 * outside the window (the extracted segment of a large message, a milter's
 * recipient after E) refills it at that record. Every length and offset
 * read from the file is checked before use, and the bytes looked at are
 * bounded by the file size, which legitimate files never exceed because
 * each record is visited once: a pointer loop is an error, not a hang.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ebb/postfix_record.h"
#include "ebb/util.h"

/* types the queue manager accepts before and after the content */
#define PF_TYPES_ENVELOPE	"MCTcFILSDRO/WVA>K<ion" "EDRO/PreAFIL>Kon"

struct pf_parser {
	pf_read_fn	 read;
	void		*arg;
	uint64_t	 file_size;
	int		 io_error;

	unsigned char	*win;		/* bytes [win_off, win_off + win_len) */
	size_t		 win_cap;
	uint64_t	 win_off;
	size_t		 win_len;

	char		*sbuf;		/* NUL-terminated strings */
	size_t		 slen;
	size_t		 scap;
	size_t		*rcpt_off;	/* recipient offsets into sbuf */
	size_t		 rcpt_cap;
	const char	**rcpt;		/* resolved when the parse ends */
	size_t		 rcpt_ptr_cap;
	size_t		 nrcpt;
	size_t		 sender_off;
	int		 have_sender;

	uint64_t	 budget;	/* record bytes we may still look at */
};

struct pf_parser *
pf_parser_new(void)
{
	struct pf_parser *p;

	p = xcalloc(1, sizeof(*p));
	p->win_cap = PF_READ_FIRST;
	p->win = xmalloc(p->win_cap);
	p->scap = 512;
	p->sbuf = xmalloc(p->scap);
	return p;
}

void
pf_parser_free(struct pf_parser **pp)
{
	struct pf_parser *p = *pp;

	if (p == NULL)
		return;
	free(p->win);
	free(p->sbuf);
	free(p->rcpt_off);
	free(p->rcpt);
	free(p);
	*pp = NULL;
}

const char *
pf_error_name(enum pf_error e)
{
	switch (e) {
	case PF_OK:
		return "ok";
	case PF_ERR_TRUNCATED:
		return "truncated";
	case PF_ERR_CORRUPT:
		return "corrupt";
	case PF_ERR_IO:
		return "read error";
	}
	return "unknown error";
}

/*
 * pf_window - n bytes at off, reading them if the window lacks them; NULL
 * at end of file or on a read error (p->io_error). n <= PF_REC_MAX + 8.
 */
static const unsigned char *
pf_window(struct pf_parser *p, uint64_t off, size_t n)
{
	static const unsigned char empty[1];
	size_t		 want;
	ssize_t		 got;

	if (n == 0)
		return empty;
	if (off >= p->win_off && off - p->win_off <= p->win_len &&
	    n <= p->win_len - (off - p->win_off))
		return p->win + (off - p->win_off);
	if (off > p->file_size || n > p->file_size - off)
		return NULL;
	want = MAXIMUM(n, (size_t)PF_READ_FIRST);
	if (want > p->file_size - off)
		want = p->file_size - off;
	if (want > p->win_cap) {
		free(p->win);
		p->win = xmalloc(want);
		p->win_cap = want;
	}
	p->win_len = 0;
	p->win_off = off;
	if ((got = p->read(p->arg, p->win, want, off)) < 0) {
		p->io_error = 1;
		return NULL;
	}
	p->win_len = (size_t)got;
	if ((size_t)got < n)
		return NULL;
	return p->win;
}

/* pf_save - copy a record's data into the string buffer; its offset */
static size_t
pf_save(struct pf_parser *p, const unsigned char *data, size_t len)
{
	size_t		 off = p->slen;

	if (p->scap - p->slen < len + 1) {
		while (p->scap - p->slen < len + 1)
			p->scap *= 2;
		p->sbuf = xreallocarray(p->sbuf, p->scap, 1);
	}
	memcpy(p->sbuf + p->slen, data, len);
	p->sbuf[p->slen + len] = '\0';
	p->slen += len + 1;
	return off;
}

static void
pf_add_rcpt(struct pf_parser *p, const unsigned char *data, size_t len)
{
	if (p->nrcpt == p->rcpt_cap) {
		p->rcpt_cap = p->rcpt_cap ? p->rcpt_cap * 2 : 16;
		p->rcpt_off = xreallocarray(p->rcpt_off, p->rcpt_cap,
		    sizeof(*p->rcpt_off));
	}
	p->rcpt_off[p->nrcpt++] = pf_save(p, data, len);
}

/*
 * pf_number - parse leading blanks and decimal digits of data; -1 if there
 * are no digits or the number overflows. *used_r: bytes consumed.
 */
static int64_t
pf_number(const unsigned char *data, size_t len, size_t *used_r)
{
	size_t		 i = 0, start;
	int64_t		 v = 0;

	while (i < len && data[i] == ' ')
		i++;
	start = i;
	while (i < len && data[i] >= '0' && data[i] <= '9') {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (data[i] - '0');
		i++;
	}
	if (used_r != NULL)
		*used_r = i;
	return i > start ? v : -1;
}

/*
 * pf_time - the T record, "sec usec": the microseconds tell apart
 * messages alike in every other field (msg_fingerprint, msg.h)
 */
static void
pf_time(const unsigned char *data, size_t len, struct pf_envelope *env)
{
	size_t		 used = 0;
	int64_t		 usec;

	env->arrival_time = MAXIMUM(0, pf_number(data, len, &used));
	usec = pf_number(data + used, len - used, NULL);
	env->arrival_usec = usec >= 0 && usec < 1000000 ? usec : 0;
}

/*
 * pf_size_record - the C record: six fixed-width numbers of which Postfix
 * >= 1.0 writes at least three; the data offset and content size must be
 * positive and inside the file.
 */
static int
pf_size_record(struct pf_parser *p, const unsigned char *data, size_t len,
    struct pf_envelope *env, enum pf_error *err_r, const char **why_r)
{
	int64_t		 v[6] = { 0 };
	size_t		 used, pos = 0;
	int		 n;

	for (n = 0; n < 6 && pos < len; n++) {
		if ((v[n] = pf_number(data + pos, len - pos, &used)) < 0)
			break;
		pos += used;
	}
	if (n < 3 || v[0] <= 0 || v[1] <= 0) {
		*why_r = "malformed size record";
		*err_r = PF_ERR_CORRUPT;
		return -1;
	}
	if ((uint64_t)v[1] >= p->file_size ||
	    (uint64_t)v[0] > p->file_size - (uint64_t)v[1]) {
		*why_r = "content extends past the end of the file";
		*err_r = PF_ERR_TRUNCATED;
		return -1;
	}
	env->content_size = v[0];
	env->data_offset = v[1];
	env->rcpt_total = v[2];
	env->content_length = n >= 5 ? v[4] : 0;
	return 0;
}

/* pf_pointer - the target of a p record: 0 for a placeholder, -1 if bad */
static int64_t
pf_pointer(struct pf_parser *p, const unsigned char *data, size_t len)
{
	size_t		 used;
	int64_t		 off;

	if ((off = pf_number(data, len, &used)) < 0 || used != len)
		return -1;
	if (off != 0 && (uint64_t)off >= p->file_size)
		return -1;
	return off;
}

/* pf_attr - an A record "name=value": only create_time matters here */
static int
pf_attr(const unsigned char *data, size_t len, struct pf_envelope *env)
{
	static const char ct[] = "create_time=";
	const unsigned char *eq;
	int64_t		 t;

	if ((eq = memchr(data, '=', len)) == NULL || eq == data)
		return -1;
	if ((size_t)(eq - data) + 1 == sizeof(ct) - 1 &&
	    memcmp(data, ct, sizeof(ct) - 1) == 0 && env->create_time == 0) {
		t = pf_number(eq + 1, len - (eq + 1 - data), NULL);
		if (t > 0)
			env->create_time = t;
	}
	return 0;
}

/*
 * pf_record - read the record at *pos: its type, data and length; advances
 * *pos. The type must be X when expect_xtra is set, else one the envelope
 * and extracted segments allow; p is allowed anywhere. Returns 0, or -1
 * with *err_r and *why_r set.
 */
static int
pf_record(struct pf_parser *p, uint64_t *pos, int expect_xtra, int *type_r,
    const unsigned char **data_r, size_t *len_r, enum pf_error *err_r,
    const char **why_r)
{
	const unsigned char *b;
	uint64_t	 off = *pos, total;
	size_t		 len = 0;
	int		 i;

	if ((b = pf_window(p, off, 1)) == NULL)
		goto eof;
	*type_r = b[0];
	if (*type_r != PF_REC_PTR && (expect_xtra ? *type_r != PF_REC_XTRA :
	    (*type_r == 0 || strchr(PF_TYPES_ENVELOPE, *type_r) == NULL))) {
		*err_r = PF_ERR_CORRUPT;
		*why_r = "unexpected record type";
		return -1;
	}
	for (i = 0;; i++) {
		if (i == 4) {		/* Postfix: at most 28 length bits */
			*err_r = PF_ERR_CORRUPT;
			*why_r = "record length has too many bytes";
			return -1;
		}
		if ((b = pf_window(p, off + 1 + i, 1)) == NULL)
			goto eof;
		len |= (size_t)(b[0] & 0x7f) << (7 * i);
		if ((b[0] & 0x80) == 0)
			break;
	}
	if (len > PF_REC_MAX) {
		*err_r = PF_ERR_CORRUPT;
		*why_r = "record longer than 1 MiB";
		return -1;
	}
	total = 1 + (i + 1) + (uint64_t)len;
	if (total > p->budget) {
		*err_r = PF_ERR_CORRUPT;
		*why_r = "records loop (pointer records revisit the file)";
		return -1;
	}
	p->budget -= total;
	if ((*data_r = pf_window(p, off + 2 + i, len)) == NULL)
		goto eof;
	*len_r = len;
	*pos = off + total;
	return 0;
eof:
	*err_r = p->io_error ? PF_ERR_IO : PF_ERR_TRUNCATED;
	*why_r = p->io_error ? "read error" : "end of file before the E record";
	return -1;
}

/* pf_finish - resolve the string offsets into env's pointers */
static void
pf_finish(struct pf_parser *p, struct pf_envelope *env)
{
	size_t		 i;

	if (p->rcpt_ptr_cap < p->nrcpt) {
		p->rcpt_ptr_cap = p->nrcpt;
		free(p->rcpt);
		p->rcpt = xreallocarray(NULL, p->rcpt_ptr_cap,
		    sizeof(*p->rcpt));
	}
	for (i = 0; i < p->nrcpt; i++)
		p->rcpt[i] = p->sbuf + p->rcpt_off[i];
	env->rcpt = p->rcpt;
	env->nrcpt = p->nrcpt;
	env->sender = p->sbuf + p->sender_off;
}

enum pf_error
pf_parse(struct pf_parser *p, pf_read_fn read, void *arg, uint64_t file_size,
    struct pf_envelope *env, const char **why_r)
{
	const unsigned char *data;
	enum pf_error	 err = PF_OK;
	uint64_t	 pos = 0, rec_off = 0;
	size_t		 len;
	int64_t		 target;
	int		 type, expect_xtra;

	memset(env, 0, sizeof(*env));
	*why_r = "ok";
	p->read = read;
	p->arg = arg;
	p->file_size = file_size;
	p->io_error = 0;
	p->win_off = 0;
	p->win_len = 0;
	p->slen = 0;
	p->nrcpt = 0;
	p->have_sender = 0;
	p->sender_off = 0;
	p->budget = file_size;
	if (file_size > PF_FILE_MAX) {
		*why_r = "file too large";
		return PF_ERR_CORRUPT;
	}
	pf_save(p, (const unsigned char *)"", 0);	/* sender until S */

	for (;;) {
		expect_xtra = 0;
		if (env->data_offset > 0 && pos == (uint64_t)env->data_offset) {
			pos += (uint64_t)env->content_size;
			expect_xtra = 1;
		}
		rec_off = pos;
		if (pf_record(p, &pos, expect_xtra, &type, &data, &len, &err,
		    why_r) < 0)
			break;
		if (type == PF_REC_PTR) {
			if ((target = pf_pointer(p, data, len)) < 0) {
				err = PF_ERR_CORRUPT;
				*why_r = "bad pointer record";
				break;
			}
			if (target > 0) {
				pos = (uint64_t)target;
				env->npointers++;
			}
			continue;
		}
		if (type == PF_REC_END)
			break;
		switch (type) {
		case PF_REC_SIZE:
			if (env->data_offset == 0 && pf_size_record(p, data,
			    len, env, &err, why_r) < 0)
				goto out;
			break;
		case PF_REC_TIME:
			if (env->arrival_time == 0)
				pf_time(data, len, env);
			break;
		case PF_REC_CTIME:
			if (env->create_time == 0)
				env->create_time = MAXIMUM(0,
				    pf_number(data, len, NULL));
			break;
		case PF_REC_ATTR:
			if (pf_attr(data, len, env) < 0) {
				err = PF_ERR_CORRUPT;
				*why_r = "bad attribute record";
				goto out;
			}
			break;
		case PF_REC_FROM:
			if (!p->have_sender) {
				p->sender_off = pf_save(p, data, len);
				p->have_sender = 1;
			}
			break;
		case PF_REC_RCPT:
			pf_add_rcpt(p, data, len);
			break;
		case PF_REC_DONE:
		case PF_REC_DRCP:
			env->ndone++;
			break;
		default:		/* allowed, not needed */
			break;
		}
	}
out:
	if (err != PF_OK) {
		env->error_offset = rec_off;
		return err;
	}
	if (env->data_offset == 0) {
		*why_r = "no size record";
		err = PF_ERR_CORRUPT;
	} else if (env->arrival_time == 0) {
		*why_r = "no arrival time record";
		err = PF_ERR_CORRUPT;
	} else if (!p->have_sender) {
		*why_r = "no sender record";
		err = PF_ERR_CORRUPT;
	}
	if (err != PF_OK) {
		env->error_offset = rec_off;
		return err;
	}
	pf_finish(p, env);
	return PF_OK;
}

struct pf_membuf {
	const unsigned char *buf;
	size_t		 len;
};

/* pf_read_mem - the read callback of pf_parse_buffer */
static ssize_t
pf_read_mem(void *arg, void *buf, size_t len, uint64_t off)
{
	const struct pf_membuf *m = arg;

	if (off >= m->len)
		return 0;
	if (len > m->len - off)
		len = m->len - off;
	memcpy(buf, m->buf + off, len);
	return (ssize_t)len;
}

enum pf_error
pf_parse_buffer(struct pf_parser *p, const void *buf, size_t len,
    struct pf_envelope *env, const char **why_r)
{
	struct pf_membuf m = { buf, len };

	return pf_parse(p, pf_read_mem, &m, len, env, why_r);
}
