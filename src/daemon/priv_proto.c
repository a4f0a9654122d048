/*
 * priv_proto.c - encode and check the packets between ebbd's two processes
 *
 * See priv_proto.h for the layout. Every length read from a packet is
 * bounded by the packet before it is used; nothing here does I/O.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ebb/control.h"
#include "ebb/util.h"
#include "priv_proto.h"

static void
put_hdr(unsigned char *buf, uint32_t type, uint32_t len)
{
	memcpy(buf, &type, sizeof(type));
	memcpy(buf + 4, &len, sizeof(len));
}

static int
fail(char **err_r, const char *why)
{
	*err_r = xstrdup(why);
	return -1;
}

size_t
priv_encode_request(const struct control_request *r, unsigned char *buf,
    size_t size)
{
	char	*err = NULL;
	size_t	 len = 0, i, n;

	if (control_request_check(r, &err) == -1) {
		free(err);
		return 0;
	}
	if (size < PRIV_HDR_LEN + sizeof(double))
		return 0;
	switch (r->command) {
	case CONTROL_RATE:
		memcpy(buf + PRIV_HDR_LEN, &r->rate, sizeof(r->rate));
		len = sizeof(r->rate);
		break;
	case CONTROL_RELEASE:
	case CONTROL_HOLD:
		for (i = 0; i < r->nids; i++) {
			n = strlen(r->ids[i]) + 1;
			if (PRIV_HDR_LEN + len + n > size)
				return 0;
			memcpy(buf + PRIV_HDR_LEN + len, r->ids[i], n);
			len += n;
		}
		break;
	default:
		break;
	}
	/* the request types follow enum control_command, one up */
	put_hdr(buf, (uint32_t)r->command + PRIV_STATUS, (uint32_t)len);
	return PRIV_HDR_LEN + len;
}

int
priv_decode_request(const unsigned char *buf, size_t len,
    struct control_request *r, char **err_r)
{
	uint32_t	 type, plen;
	const char	*p, *end, *nul;
	size_t		 n;

	memset(r, 0, sizeof(*r));
	if (len < PRIV_HDR_LEN || len > PRIV_MSG_MAX)
		return fail(err_r, "packet of a bad size");
	memcpy(&type, buf, sizeof(type));
	memcpy(&plen, buf + 4, sizeof(plen));
	if (plen != len - PRIV_HDR_LEN)
		return fail(err_r, "length disagrees with the packet");
	if (type < PRIV_STATUS || type > PRIV_FAILSAFE)
		return fail(err_r, "unknown request type");
	r->command = (int)(type - PRIV_STATUS);
	p = (const char *)buf + PRIV_HDR_LEN;
	end = p + plen;
	switch (r->command) {
	case CONTROL_RATE:
		if (plen != sizeof(double))
			return fail(err_r, "rate: payload of a bad size");
		memcpy(&r->rate, p, sizeof(r->rate));
		break;
	case CONTROL_RELEASE:
	case CONTROL_HOLD:
		if (plen == 0 || end[-1] != '\0')
			return fail(err_r, "ids: not NUL-terminated");
		while (p < end) {
			nul = memchr(p, '\0', (size_t)(end - p));
			n = (size_t)(nul - p);
			if (r->nids == CONTROL_IDS_MAX)
				return fail(err_r, "ids: too many");
			if (n == 0 || n >= MSG_QUEUE_ID_MAX)
				return fail(err_r, "ids: bad length");
			memcpy(r->ids[r->nids], p, n);
			r->ids[r->nids][n] = '\0';
			if (!ebb_queue_id_valid(r->ids[r->nids]))
				return fail(err_r, "ids: invalid queue id");
			r->nids++;
			p = nul + 1;
		}
		break;
	default:
		if (plen != 0)
			return fail(err_r, "unexpected payload");
		break;
	}
	return control_request_check(r, err_r);
}

size_t
priv_encode_reply(int ok, const char *text, unsigned char *buf, size_t size)
{
	size_t	 n = strnlen(text, PRIV_TEXT_MAX);

	if (size < PRIV_HDR_LEN)
		return 0;
	n = MINIMUM(n, size - PRIV_HDR_LEN);
	put_hdr(buf, ok ? PRIV_OK : PRIV_ERR, (uint32_t)n);
	memcpy(buf + PRIV_HDR_LEN, text, n);
	return PRIV_HDR_LEN + n;
}

int
priv_decode_reply(const unsigned char *buf, size_t len, int *ok_r,
    char **text_r, char **err_r)
{
	uint32_t	 type, plen;

	if (len < PRIV_HDR_LEN || len > PRIV_MSG_MAX)
		return fail(err_r, "packet of a bad size");
	memcpy(&type, buf, sizeof(type));
	memcpy(&plen, buf + 4, sizeof(plen));
	if (plen != len - PRIV_HDR_LEN)
		return fail(err_r, "length disagrees with the packet");
	if (type != PRIV_OK && type != PRIV_ERR)
		return fail(err_r, "unknown answer type");
	if (memchr(buf + PRIV_HDR_LEN, '\0', plen) != NULL)
		return fail(err_r, "answer holds a NUL byte");
	*ok_r = type == PRIV_OK;
	*text_r = xstrndup((const char *)buf + PRIV_HDR_LEN, plen);
	return 0;
}
