/*
 * mta_remote.h - a backend's reading done in another process
 *
 * ebbd's root parent runs postsuper; it must not also parse queue files,
 * whose addresses come from the internet (issue 9, as OpenSMTPD keeps
 * its queue parsing out of its privileged process). So the backend is
 * opened twice: in the parent, which keeps what changes the queue (park,
 * release, kick) and what only stats or lists it (locate, depth, watch),
 * and in ebbd's scanner, a process running as the queue's owner under a
 * seccomp filter that lets it open files for reading only. The parent's
 * struct mta is a proxy: its scan, refresh, proof and reason ops (and
 * locate, for a backend whose locate reads files) are requests to the
 * scanner over a stream socket, answered by
 * mta_remote_serve there.
 *
 * A backend with state of its own across calls in the parent (Sendmail:
 * the delivery runs it starts) reads no file there either: the scanner's
 * backend, without that state, reads; the parent's puts its state to the
 * answers (the settle, scanned, find and found ops, mta.h), and its
 * locate asks the scanner where the message is.
 *
 * The scanner keeps an index of its own, so that its scans re-read only
 * what changed. Each scan answers with every message's fields and stamp;
 * the parent applies them to its index as the backend itself would
 * (index_scan_unchanged, else index_put; then the sweep), so a message's
 * place in the parent's index does not depend on the two indexes having
 * stayed alike. Everything the scanner sends is checked as hostile: ids
 * must be queue ids, every length is bounded by its frame, and a frame
 * by MTA_REMOTE_FRAME_MAX.
 *
 * The wire, in host byte order (both ends are one ebbd): frames of a
 * uint32 length and that many bytes. A request is one frame, an op byte
 * and its arguments; the answer is zero or more frames of messages (or
 * one "gone") and a last frame with the result, the scan's counts and an
 * error text. The scanner answers requests in the order they came, so
 * the live index's refreshes go in batches (refresh_many, mta.h): up to
 * MTA_REMOTE_PIPELINE requests written at once, then their answers read,
 * one round trip per batch instead of one per id.
 */
#ifndef EBB_MTA_REMOTE_H
#define EBB_MTA_REMOTE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "ebb/index.h"
#include "ebb/msg.h"
#include "ebb/mta.h"
#include "ebb/proof.h"

struct mta;

#define MTA_REMOTE_FRAME_MAX	(64U * 1024 * 1024)	/* bytes */
#define MTA_REMOTE_BATCH	(256U * 1024)	/* message bytes a frame
							   holds, then is sent */
#define MTA_REMOTE_TIMEOUT	600	/* seconds of silence allowed */
#define MTA_REMOTE_REASON_MAX	1024	/* bytes of a reason answered */
#define MTA_REMOTE_PIPELINE	64	/* refreshes asked before reading */
#define MTA_REMOTE_PIPELINE_BYTES (8U * 1024)	/* nor more bytes of them */

/* a growing buffer that records are encoded into */
struct wire_buf {
	unsigned char	*p;
	size_t		 len, cap;
};

/* a frame being decoded: a failed read sets bad and yields zeroes */
struct wire_rd {
	const unsigned char *p;
	size_t		 len, off;
	int		 bad;
};

void	 wire_buf_free(struct wire_buf *);
void	 wire_put_u8(struct wire_buf *, uint8_t);
void	 wire_put_u32(struct wire_buf *, uint32_t);
void	 wire_put_u64(struct wire_buf *, uint64_t);
void	 wire_put_str(struct wire_buf *, const char *);
void	 wire_put_bytes(struct wire_buf *, const void *, size_t);

uint8_t	 wire_get_u8(struct wire_rd *);
uint32_t wire_get_u32(struct wire_rd *);
uint64_t wire_get_u64(struct wire_rd *);
/* a string as put: NUL-terminated in the frame, no NUL inside; NULL if bad */
const char *wire_get_str(struct wire_rd *);
/* bytes as put: *len_r of them, in the frame; NULL if bad */
const void *wire_get_bytes(struct wire_rd *, size_t *len_r);

/*
 * wire_put_msg - one message and its stamp (NULL: none) as a record
 * wire_get_msg - decode one into *m, its strings pointing into the frame
 * and its recipients into *rcpt_r (allocated, freed by the caller);
 * *stamped_r says whether *st was filled. 0, or -1 when the record is
 * malformed or its id is not a queue id.
 */
void	 wire_put_msg(struct wire_buf *, const struct msg *,
	    const struct index_stamp *);
int	 wire_get_msg(struct wire_rd *, struct msg *m, const char ***rcpt_r,
	    struct index_stamp *st, int *stamped_r);

/*
 * mta_remote_apply - apply a decoded message to ix as a scan would: the
 * stamp unchanged keeps the entry, an unreadable one is kept as such,
 * anything else is put
 */
void	 mta_remote_apply(struct index *ix, const struct msg *m,
	    const struct index_stamp *st, int stamped);

/* what an answer ended with */
struct mta_remote_end {
	int		 rc;
	struct scan_stats st;
	int64_t		 arrival;	/* the proof's file's arrival time */
	char		*err;		/* allocated, or NULL */
	char		 text[MTA_REMOTE_REASON_MAX];
	size_t		 ncand;		/* a proof's candidates */
	struct {
		size_t	 len;
		char	 v[PROOF_LINE_MAX];
	}		 cand[PROOF_CANDIDATES];
};

/*
 * mta_remote_frame - one frame of an answer, buf[0..len), applied to ix
 * as the proxy applies it: only id's messages when id is not NULL, each
 * settled first by local's settle op (mta.h) when local (may be NULL)
 * has one, and "gone" removes id (counted into *removed_r, which may be
 * NULL). ix NULL takes no message. Returns 0 when more frames follow, 1
 * for the last (the result into *end), -1 and *why_r when the frame is
 * malformed.
 */
int	 mta_remote_frame(struct index *ix, const char *id,
	    const unsigned char *buf, size_t len, struct mta *local,
	    size_t *removed_r, struct mta_remote_end *end,
	    const char **why_r);

/*
 * mta_remote_new - the proxy: a struct mta whose reading ops ask the
 * scanner on fd (a connected stream socket, taken over) and whose other
 * ops are inner's (taken over; closed with the proxy). A scanner that
 * answers wrong or not for MTA_REMOTE_TIMEOUT seconds is not asked again,
 * and process pid (0: none) is killed. key (copied; NULL: nothing is
 * proven) checks the proofs of a hold: the scanner holds no key, and
 * sends the values of the header's shape it found (proof_search_new).
 */
struct mta *mta_remote_new(struct mta *inner, int fd, pid_t pid,
	    const struct proof_key *key);

/*
 * mta_remote_serve - the scanner's loop: answer requests on fd with mta
 * (the backend, opened in this process), until the parent closes it (0)
 * or a write fails or a request is malformed (-1, logged). It holds no
 * proof key: a proof request is answered with the candidates.
 */
int	 mta_remote_serve(struct mta *mta, int fd);

#endif
