/*
 * priv_proto.h - what ebbd's unprivileged child may ask its root parent
 *
 * The child (control socket, later milter and HTTP) and the parent (queue
 * scan, the MTA's commands, the ledger) talk over a SOCK_SEQPACKET socketpair, one
 * message per packet:
 *
 *	uint32_t type      PRIV_* below, host byte order
 *	uint32_t length    of the payload that follows; the packet is
 *	                   exactly 8 + length bytes
 *	payload
 *
 * Requests (child to parent) are the control commands (control.h):
 *
 *	PRIV_STATUS, PRIV_PAUSE, PRIV_RESUME, PRIV_FAILSAFE   no payload
 *	PRIV_RATE           8 bytes: a double, messages/s (0: no cap)
 *	PRIV_RELEASE, PRIV_HOLD
 *	                    1..CONTROL_IDS_MAX queue ids, each followed by
 *	                    a NUL; nothing after the last NUL
 *
 *	PRIV_NOTE           the note's text (1..CONTROL_NOTE_MAX bytes,
 *	                    control.h) followed by a NUL
 *	PRIV_BACKLOG, PRIV_LIST
 *	                    PRIV_QUERY_LEN bytes: an int32_t order (by or
 *	                    sort), an int64_t count (top or limit), and
 *	                    CONTROL_QUEUE_MAX bytes of queue name, NUL-padded
 *	                    ("": all); refused on the HTTP channel
 *
 *	PRIV_HISTORY        8 bytes: an int64_t, the span in seconds of
 *	                    history wanted, 1..PRIV_HISTORY_SPAN_MAX; asked
 *	                    only on the HTTP channel, whose parent end takes
 *	                    nothing but PRIV_STATUS and PRIV_HISTORY (the
 *	                    control channel refuses PRIV_HISTORY)
 *
 * Answers (parent to child), one per request, in order: PRIV_OK with a
 * JSON object as text, or PRIV_ERR with an error message as text; text
 * holds no NUL and is at most PRIV_TEXT_MAX bytes.
 *
 * Notices go one way and are never answered, so they do not disturb the
 * pairing of answers with requests:
 *
 *	PRIV_BUDGET         parent to child, every [sensors] interval: the
 *	                    budget the milter admits by (priv_budget_decode)
 *	PRIV_MILTER_HOLD    child to parent: the milter put a message in
 *	                    hold; int64 deadline, then its queue id and a NUL
 *	PRIV_MILTER_STATS   child to parent, after each PRIV_BUDGET: the
 *	                    milter's counters, PRIV_STATS_WORDS uint64
 *
 * The parent trusts nothing the child sends: priv_decode_request refuses
 * a short or long packet, a length that disagrees with the packet, an
 * unknown type, a payload of the wrong size and any id that fails
 * ebb_queue_id_valid, and then runs control_request_check. Everything
 * here is pure, for the unit tests.
 */
#ifndef EBB_PRIV_PROTO_H
#define EBB_PRIV_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ebb/control.h"
#include "ebb/milter.h"

#define PRIV_HDR_LEN	8
#define PRIV_TEXT_MAX	(CONTROL_REPLY_MAX - 1)
#define PRIV_MSG_MAX	(PRIV_HDR_LEN + PRIV_TEXT_MAX)
#define PRIV_HISTORY_SPAN_MAX	(7 * 86400)
#define PRIV_QUERY_LEN	(4 + 8 + CONTROL_QUEUE_MAX)

enum priv_type {
	PRIV_STATUS = 1,
	PRIV_PAUSE,
	PRIV_RESUME,
	PRIV_RATE,
	PRIV_RELEASE,
	PRIV_HOLD,
	PRIV_FAILSAFE,
	PRIV_HISTORY,		/* the HTTP channel only */
	PRIV_BACKLOG,
	PRIV_LIST,
	PRIV_NOTE,
	PRIV_OK = 100,
	PRIV_ERR,
	PRIV_BUDGET = 200,		/* notices: no answer */
	PRIV_MILTER_HOLD,
	PRIV_MILTER_STATS
};

struct budget;
struct milter_counters;

/*
 * priv_encode_request - r (which must pass control_request_check) as one
 * packet in buf[0..size); returns its length, or 0 when r is refused or
 * buf too small
 */
size_t	 priv_encode_request(const struct control_request *r,
	    unsigned char *buf, size_t size);

/*
 * priv_decode_request - one packet of len bytes into *r. Returns 0, or -1
 * and *err_r (allocated) when the packet is not a request the parent
 * accepts (see above).
 */
int	 priv_decode_request(const unsigned char *buf, size_t len,
	    struct control_request *r, char **err_r);

/*
 * priv_encode_reply - an answer: ok (PRIV_OK, text is JSON) or not
 * (PRIV_ERR, text is the reason), text cut at PRIV_TEXT_MAX bytes; returns
 * the packet length (buf must hold PRIV_MSG_MAX bytes)
 */
size_t	 priv_encode_reply(int ok, const char *text, unsigned char *buf,
	    size_t size);

/*
 * priv_decode_reply - an answer of len bytes: *ok_r and *text_r (allocated,
 * NUL-terminated). Returns 0, or -1 and *err_r for a malformed packet.
 */
int	 priv_decode_reply(const unsigned char *buf, size_t len, int *ok_r,
	    char **text_r, char **err_r);

/* priv_packet_type - the type of a packet of len bytes, or 0 when short */
uint32_t priv_packet_type(const unsigned char *buf, size_t len);

/* priv_encode_history - a PRIV_HISTORY request; 0 when span is refused */
size_t	 priv_encode_history(int64_t span, unsigned char *buf, size_t size);

/*
 * priv_decode_history - a PRIV_HISTORY packet: *span_r. Returns 0, or -1
 * and *err_r for a packet of another type or size or a span out of range.
 */
int	 priv_decode_history(const unsigned char *buf, size_t len,
	    int64_t *span_r, char **err_r);

/* priv_budget_encode - b as a PRIV_BUDGET packet; returns its length */
size_t	 priv_budget_encode(const struct budget *b, unsigned char *buf,
	    size_t size);

/*
 * priv_budget_decode - a PRIV_BUDGET packet into *b_r. Returns 0, or -1
 * and *err_r (allocated) when malformed or out of range.
 */
int	 priv_budget_decode(const unsigned char *buf, size_t len,
	    struct budget *b_r, char **err_r);

/*
 * priv_hold_encode - a PRIV_MILTER_HOLD packet; returns its length, or 0
 * when id is not a valid queue id or buf too small
 */
size_t	 priv_hold_encode(const char *id, time_t deadline,
	    unsigned char *buf, size_t size);

/*
 * priv_hold_decode - a PRIV_MILTER_HOLD packet: the id into id_r
 * (MSG_QUEUE_ID_MAX bytes, checked by ebb_queue_id_valid) and the
 * deadline. Returns 0, or -1 and *err_r.
 */
int	 priv_hold_decode(const unsigned char *buf, size_t len, char *id_r,
	    time_t *deadline_r, char **err_r);

/* the counters of struct milter_counters, as PRIV_MILTER_STATS sends them */
#define PRIV_STATS_WORDS	(9 + ADMIT_R_COUNT + ADMIT_SPF_COUNT + \
	MILTER_LATENCY_BUCKETS)

/* priv_stats_encode - c as a PRIV_MILTER_STATS packet; returns its length */
size_t	 priv_stats_encode(const struct milter_counters *c,
	    unsigned char *buf, size_t size);

/*
 * priv_stats_decode - a PRIV_MILTER_STATS packet into *c_r. Returns 0, or
 * -1 and *err_r when its size is not exactly that of the counters.
 */
int	 priv_stats_decode(const unsigned char *buf, size_t len,
	    struct milter_counters *c_r, char **err_r);

#endif
