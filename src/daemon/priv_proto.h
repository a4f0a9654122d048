/*
 * priv_proto.h - what ebbd's unprivileged child may ask its root parent
 *
 * The child (control socket, later milter and HTTP) and the parent (queue
 * scan, postsuper, the ledger) talk over a SOCK_SEQPACKET socketpair, one
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
 * Answers (parent to child), one per request, in order: PRIV_OK with a
 * JSON object as text, or PRIV_ERR with an error message as text; text
 * holds no NUL and is at most PRIV_TEXT_MAX bytes.
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

#include "ebb/control.h"

#define PRIV_HDR_LEN	8
#define PRIV_TEXT_MAX	(CONTROL_REPLY_MAX - 1)
#define PRIV_MSG_MAX	(PRIV_HDR_LEN + PRIV_TEXT_MAX)

enum priv_type {
	PRIV_STATUS = 1,
	PRIV_PAUSE,
	PRIV_RESUME,
	PRIV_RATE,
	PRIV_RELEASE,
	PRIV_HOLD,
	PRIV_FAILSAFE,
	PRIV_OK = 100,
	PRIV_ERR
};

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

#endif
