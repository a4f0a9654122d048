/*
 * priv_proto.c - encode and check the packets between ebbd's two processes
 *
 * See priv_proto.h for the layout. Every length read from a packet is
 * bounded by the packet before it is used; nothing here does I/O.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ebb/control.h"
#include "ebb/governor.h"
#include "ebb/milter.h"
#include "ebb/msg.h"
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

/*
 * the packet type of each control command: the first ones follow enum
 * control_command, one up; those added later come after PRIV_HISTORY
 */
static const uint32_t priv_types[CONTROL_COMMAND_COUNT] = {
	[CONTROL_STATUS] = PRIV_STATUS,
	[CONTROL_PAUSE] = PRIV_PAUSE,
	[CONTROL_RESUME] = PRIV_RESUME,
	[CONTROL_RATE] = PRIV_RATE,
	[CONTROL_RELEASE] = PRIV_RELEASE,
	[CONTROL_HOLD] = PRIV_HOLD,
	[CONTROL_FAILSAFE] = PRIV_FAILSAFE,
	[CONTROL_BACKLOG] = PRIV_BACKLOG,
	[CONTROL_LIST] = PRIV_LIST,
	[CONTROL_NOTE] = PRIV_NOTE,
};

/* priv_command - the control command of a request type, or -1 */
static int
priv_command(uint32_t type)
{
	int	 i;

	for (i = 0; i < CONTROL_COMMAND_COUNT; i++)
		if (priv_types[i] == type)
			return i;
	return -1;
}

size_t
priv_encode_request(const struct control_request *r, unsigned char *buf,
    size_t size)
{
	char	*err = NULL;
	size_t	 len = 0, i, n;
	int32_t	 order;
	int64_t	 count;

	if (control_request_check(r, &err) == -1) {
		free(err);
		return 0;
	}
	if (size < PRIV_HDR_LEN)
		return 0;
	switch (r->command) {
	case CONTROL_RATE:
		if (size < PRIV_HDR_LEN + sizeof(r->rate))
			return 0;
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
	case CONTROL_NOTE:
		n = strlen(r->note) + 1;
		if (PRIV_HDR_LEN + n > size)
			return 0;
		memcpy(buf + PRIV_HDR_LEN, r->note, n);
		len = n;
		break;
	case CONTROL_BACKLOG:
	case CONTROL_LIST:
		if (size < PRIV_HDR_LEN + PRIV_QUERY_LEN)
			return 0;
		order = r->order;
		count = r->count;
		memcpy(buf + PRIV_HDR_LEN, &order, sizeof(order));
		memcpy(buf + PRIV_HDR_LEN + 4, &count, sizeof(count));
		memset(buf + PRIV_HDR_LEN + 12, 0, CONTROL_QUEUE_MAX);
		memcpy(buf + PRIV_HDR_LEN + 12, r->queue, strlen(r->queue));
		len = PRIV_QUERY_LEN;
		break;
	default:
		break;
	}
	put_hdr(buf, priv_types[r->command], (uint32_t)len);
	return PRIV_HDR_LEN + len;
}

int
priv_decode_request(const unsigned char *buf, size_t len,
    struct control_request *r, char **err_r)
{
	uint32_t	 type, plen;
	const char	*p, *end, *nul;
	size_t		 n, i;
	int32_t		 order;
	int64_t		 count;
	int		 cmd;

	memset(r, 0, sizeof(*r));
	if (len < PRIV_HDR_LEN || len > PRIV_MSG_MAX)
		return fail(err_r, "packet of a bad size");
	memcpy(&type, buf, sizeof(type));
	memcpy(&plen, buf + 4, sizeof(plen));
	if (plen != len - PRIV_HDR_LEN)
		return fail(err_r, "length disagrees with the packet");
	if ((cmd = priv_command(type)) == -1)
		return fail(err_r, "unknown request type");
	r->command = cmd;
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
	case CONTROL_NOTE:
		if (plen < 2 || plen > CONTROL_NOTE_MAX + 1 ||
		    end[-1] != '\0' || memchr(p, '\0', plen - 1) != NULL)
			return fail(err_r, "note: not one NUL-terminated text");
		memcpy(r->note, p, plen);
		break;
	case CONTROL_BACKLOG:
	case CONTROL_LIST:
		if (plen != PRIV_QUERY_LEN)
			return fail(err_r, "query: payload of a bad size");
		memcpy(&order, p, sizeof(order));
		memcpy(&count, p + 4, sizeof(count));
		if (p[12 + CONTROL_QUEUE_MAX - 1] != '\0')
			return fail(err_r, "query: queue not NUL-terminated");
		/* NUL-padded: nothing may follow the name's NUL */
		n = strlen(p + 12);
		for (i = n; i < CONTROL_QUEUE_MAX; i++)
			if (p[12 + i] != '\0')
				return fail(err_r, "query: bytes after the "
				    "queue name");
		if (count < 0 || count > LONG_MAX)
			return fail(err_r, "query: count out of range");
		r->order = order;
		r->count = (long)count;
		memcpy(r->queue, p + 12, n + 1);
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

uint32_t
priv_packet_type(const unsigned char *buf, size_t len)
{
	uint32_t	 type;

	if (len < PRIV_HDR_LEN)
		return 0;
	memcpy(&type, buf, sizeof(type));
	return type;
}

size_t
priv_encode_history(int64_t span, unsigned char *buf, size_t size)
{
	if (span < 1 || span > PRIV_HISTORY_SPAN_MAX ||
	    size < PRIV_HDR_LEN + sizeof(span))
		return 0;
	put_hdr(buf, PRIV_HISTORY, sizeof(span));
	memcpy(buf + PRIV_HDR_LEN, &span, sizeof(span));
	return PRIV_HDR_LEN + sizeof(span);
}

int
priv_decode_history(const unsigned char *buf, size_t len, int64_t *span_r,
    char **err_r)
{
	uint32_t	 type, plen;

	if (len != PRIV_HDR_LEN + sizeof(*span_r))
		return fail(err_r, "history: packet of a bad size");
	memcpy(&type, buf, sizeof(type));
	memcpy(&plen, buf + 4, sizeof(plen));
	if (type != PRIV_HISTORY)
		return fail(err_r, "history: not a history request");
	if (plen != sizeof(*span_r))
		return fail(err_r, "length disagrees with the packet");
	memcpy(span_r, buf + PRIV_HDR_LEN, sizeof(*span_r));
	if (*span_r < 1 || *span_r > PRIV_HISTORY_SPAN_MAX)
		return fail(err_r, "history: span out of range");
	return 0;
}

/* notice_payload - the payload of a notice of type, exactly want bytes */
static const unsigned char *
notice_payload(const unsigned char *buf, size_t len, uint32_t want_type,
    size_t want, char **err_r)
{
	uint32_t	 plen;

	if (len < PRIV_HDR_LEN || len > PRIV_MSG_MAX) {
		fail(err_r, "packet of a bad size");
		return NULL;
	}
	memcpy(&plen, buf + 4, sizeof(plen));
	if (plen != len - PRIV_HDR_LEN) {
		fail(err_r, "length disagrees with the packet");
		return NULL;
	}
	if (priv_packet_type(buf, len) != want_type) {
		fail(err_r, "not the notice expected");
		return NULL;
	}
	if (want != 0 && plen != want) {
		fail(err_r, "payload of a bad size");
		return NULL;
	}
	return buf + PRIV_HDR_LEN;
}

/*
 * the budget's payload: rate, cutoff, pressure, the window, flag bits
 * (the full kind in bits 3-4), then the admit rate and the parked count
 */
#define BUDGET_LEN	(3 * sizeof(double) + sizeof(int64_t) + \
	sizeof(uint32_t) + sizeof(double) + sizeof(int64_t))
#define BUDGET_CRITICAL	0x1
#define BUDGET_STOPPED	0x2
#define BUDGET_KNOWN	0x4
#define BUDGET_FULL_SHIFT 3
#define BUDGET_FULL_MASK (0x3u << BUDGET_FULL_SHIFT)

size_t
priv_budget_encode(const struct budget *b, unsigned char *buf, size_t size)
{
	unsigned char	*p = buf + PRIV_HDR_LEN;
	int64_t		 window = b->window, parked = b->parked;
	uint32_t	 flags = 0;

	if (size < PRIV_HDR_LEN + BUDGET_LEN || b->full < ADMIT_FULL_NONE ||
	    b->full > ADMIT_FULL_MEMORY)
		return 0;
	flags |= b->critical ? BUDGET_CRITICAL : 0;
	flags |= b->stopped ? BUDGET_STOPPED : 0;
	flags |= b->known ? BUDGET_KNOWN : 0;
	flags |= (uint32_t)b->full << BUDGET_FULL_SHIFT;
	memcpy(p, &b->rate, sizeof(double));
	memcpy(p + 8, &b->cutoff, sizeof(double));
	memcpy(p + 16, &b->pressure, sizeof(double));
	memcpy(p + 24, &window, sizeof(window));
	memcpy(p + 32, &flags, sizeof(flags));
	memcpy(p + 36, &b->admit_rate, sizeof(double));
	memcpy(p + 44, &parked, sizeof(parked));
	put_hdr(buf, PRIV_BUDGET, BUDGET_LEN);
	return PRIV_HDR_LEN + BUDGET_LEN;
}

int
priv_budget_decode(const unsigned char *buf, size_t len, struct budget *b_r,
    char **err_r)
{
	const unsigned char *p;
	int64_t		 window, parked;
	uint32_t	 flags, full;

	if ((p = notice_payload(buf, len, PRIV_BUDGET, BUDGET_LEN,
	    err_r)) == NULL)
		return -1;
	memset(b_r, 0, sizeof(*b_r));
	memcpy(&b_r->rate, p, sizeof(double));
	memcpy(&b_r->cutoff, p + 8, sizeof(double));
	memcpy(&b_r->pressure, p + 16, sizeof(double));
	memcpy(&window, p + 24, sizeof(window));
	memcpy(&flags, p + 32, sizeof(flags));
	memcpy(&b_r->admit_rate, p + 36, sizeof(double));
	memcpy(&parked, p + 44, sizeof(parked));
	full = (flags & BUDGET_FULL_MASK) >> BUDGET_FULL_SHIFT;
	if (!isfinite(b_r->rate) || b_r->rate < 0 ||
	    !isfinite(b_r->admit_rate) || b_r->admit_rate < 0 ||
	    parked < 0 || parked > LONG_MAX || full > ADMIT_FULL_MEMORY ||
	    !isfinite(b_r->cutoff) || b_r->cutoff < 0 || b_r->cutoff > 1 ||
	    isinf(b_r->pressure) || window < 0 || window > LONG_MAX ||
	    (flags & ~(uint32_t)(BUDGET_CRITICAL | BUDGET_STOPPED |
	    BUDGET_KNOWN | BUDGET_FULL_MASK)) != 0)
		return fail(err_r, "budget out of range");
	b_r->window = (long)window;
	b_r->critical = (flags & BUDGET_CRITICAL) != 0;
	b_r->stopped = (flags & BUDGET_STOPPED) != 0;
	b_r->known = (flags & BUDGET_KNOWN) != 0;
	b_r->full = (int)full;
	b_r->parked = (long)parked;
	return 0;
}

size_t
priv_hold_encode(const char *id, time_t deadline, unsigned char *buf,
    size_t size)
{
	int64_t	 d = deadline;
	size_t	 n = strnlen(id, MSG_QUEUE_ID_MAX);

	if (n == 0 || n >= MSG_QUEUE_ID_MAX || !ebb_queue_id_valid(id) ||
	    size < PRIV_HDR_LEN + sizeof(d) + n + 1)
		return 0;
	memcpy(buf + PRIV_HDR_LEN, &d, sizeof(d));
	memcpy(buf + PRIV_HDR_LEN + sizeof(d), id, n + 1);
	put_hdr(buf, PRIV_MILTER_HOLD, (uint32_t)(sizeof(d) + n + 1));
	return PRIV_HDR_LEN + sizeof(d) + n + 1;
}

int
priv_hold_decode(const unsigned char *buf, size_t len, char *id_r,
    time_t *deadline_r, char **err_r)
{
	const unsigned char *p;
	int64_t		 d;
	size_t		 n;

	if ((p = notice_payload(buf, len, PRIV_MILTER_HOLD, 0,
	    err_r)) == NULL)
		return -1;
	n = len - PRIV_HDR_LEN;
	if (n < sizeof(d) + 2 || n > sizeof(d) + MSG_QUEUE_ID_MAX)
		return fail(err_r, "hold: payload of a bad size");
	if (p[n - 1] != '\0' ||
	    memchr(p + sizeof(d), '\0', n - sizeof(d) - 1) != NULL)
		return fail(err_r, "hold: id not NUL-terminated");
	memcpy(&d, p, sizeof(d));
	memcpy(id_r, p + sizeof(d), n - sizeof(d));
	if (!ebb_queue_id_valid(id_r))
		return fail(err_r, "hold: invalid queue id");
	if (d <= 0)
		return fail(err_r, "hold: deadline out of range");
	*deadline_r = (time_t)d;
	return 0;
}

/* stats_words - the counters in the order PRIV_MILTER_STATS sends them */
static void
stats_words(struct milter_counters *c, unsigned long long *w[])
{
	size_t	 i, n = 0;

	w[n++] = &c->connections;
	w[n++] = &c->messages;
	w[n++] = &c->accepted;
	w[n++] = &c->held;
	w[n++] = &c->tempfailed;
	w[n++] = &c->rejected;
	w[n++] = &c->rate_limited;
	w[n++] = &c->errors;
	for (i = 0; i < ADMIT_R_COUNT; i++)
		w[n++] = &c->reason[i];
	for (i = 0; i < ADMIT_SPF_COUNT; i++)
		w[n++] = &c->spf[i];
	for (i = 0; i < MILTER_LATENCY_BUCKETS; i++)
		w[n++] = &c->latency[i];
	w[n++] = &c->latency_sum_us;
}

size_t
priv_stats_encode(const struct milter_counters *c, unsigned char *buf,
    size_t size)
{
	struct milter_counters copy = *c;
	unsigned long long *w[PRIV_STATS_WORDS];
	uint64_t	 v;
	size_t		 i;

	if (size < PRIV_HDR_LEN + PRIV_STATS_WORDS * sizeof(v))
		return 0;
	stats_words(&copy, w);
	for (i = 0; i < PRIV_STATS_WORDS; i++) {
		v = *w[i];
		memcpy(buf + PRIV_HDR_LEN + i * sizeof(v), &v, sizeof(v));
	}
	put_hdr(buf, PRIV_MILTER_STATS,
	    (uint32_t)(PRIV_STATS_WORDS * sizeof(v)));
	return PRIV_HDR_LEN + PRIV_STATS_WORDS * sizeof(v);
}

int
priv_stats_decode(const unsigned char *buf, size_t len,
    struct milter_counters *c_r, char **err_r)
{
	const unsigned char *p;
	unsigned long long *w[PRIV_STATS_WORDS];
	uint64_t	 v;
	size_t		 i;

	if ((p = notice_payload(buf, len, PRIV_MILTER_STATS,
	    PRIV_STATS_WORDS * sizeof(v), err_r)) == NULL)
		return -1;
	memset(c_r, 0, sizeof(*c_r));
	stats_words(c_r, w);
	for (i = 0; i < PRIV_STATS_WORDS; i++) {
		memcpy(&v, p + i * sizeof(v), sizeof(v));
		*w[i] = v;
	}
	return 0;
}
