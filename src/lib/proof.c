/*
 * proof.c - make and find ebb's proof that it put a message in hold
 *
 * See proof.h for the header and why it is made as it is. The search
 * keeps a window of the stream: bytes are copied in, and a start of the
 * header is looked at only once the PROOF_LINE_MAX bytes after it are in
 * the window (or the stream has ended), so a header cut by a chunk edge
 * is seen whole. The window's last PROOF_LINE_MAX - 1 bytes move to its
 * front when it is full. Each byte is copied once; the HMAC runs only
 * for a candidate that has the header's name and shape. A search made
 * without the key (ebbd's scanner) runs no HMAC: it keeps the last
 * PROOF_CANDIDATES candidates of that shape for the key's holder.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ebb/msg.h"
#include "ebb/proof.h"
#include "ebb/util.h"

#define PROOF_NAME	PROOF_HEADER ":"
#define PROOF_TAG	PROOF_VERSION " t="
#define PROOF_HEX	64			/* SHA-256, in hex */
#define PROOF_T_MAX	18			/* digits of t: no overflow */
#define PROOF_WINDOW	(16384 + PROOF_LINE_MAX)

/* a value of the header's shape, kept by a search without the key */
struct proof_cand {
	size_t		 len;
	char		 v[PROOF_LINE_MAX];
};

struct proof_search {
	struct proof_key key;
	int		 keyless;		/* collect, never find */
	char		 id[MSG_QUEUE_ID_MAX];
	time_t		 arrival;
	int		 found;
	size_t		 n;			/* bytes in win */
	size_t		 ncand;			/* candidates seen */
	struct proof_cand cand[PROOF_CANDIDATES]; /* the last, a ring */
	unsigned char	 win[PROOF_WINDOW];
};

/* proof_mac - h for id and t, as 64 lowercase hex digits and a NUL */
static int
proof_mac(const struct proof_key *key, const char *id, long long t,
    char hex[PROOF_HEX + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		 data[64 + MSG_QUEUE_ID_MAX];
	int		 len;
	size_t		 i;

	len = snprintf(data, sizeof(data), "ebb-parked %s\n%s\n%lld\n",
	    PROOF_VERSION, id, t);
	if (len < 0 || (size_t)len >= sizeof(data))
		return -1;
	if (HMAC(EVP_sha256(), key->k, PROOF_KEY_LEN, (unsigned char *)data,
	    (size_t)len, md, &mdlen) == NULL || mdlen * 2 != PROOF_HEX)
		return -1;
	for (i = 0; i < mdlen; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0x0f];
	}
	hex[PROOF_HEX] = '\0';
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

/* id_ok - a queue id the MAC may cover */
static int
id_ok(const char *id)
{
	return id != NULL && strlen(id) < MSG_QUEUE_ID_MAX &&
	    ebb_queue_id_valid(id);
}

int
proof_value(const struct proof_key *key, const char *id, time_t t,
    char *buf, size_t size)
{
	char	 hex[PROOF_HEX + 1];
	int	 len;

	if (!id_ok(id) || t < 0 || proof_mac(key, id, (long long)t,
	    hex) == -1)
		return -1;
	len = snprintf(buf, size, "%s%lld h=%s", PROOF_TAG, (long long)t,
	    hex);
	return len < 0 || (size_t)len >= size ? -1 : 0;
}

/*
 * shape - does value (len bytes) have the proof's shape for arrival: the
 * tag, t as proof_value writes it and within the window around arrival,
 * " h=" and PROOF_HEX bytes? Then *t_r and *h_r (the hex digits).
 */
static int
shape(time_t arrival, const char *value, size_t len, long long *t_r,
    const char **h_r)
{
	const char	*p = value, *end = value + len;
	long long	 t = 0;
	size_t		 digits = 0;

	if (arrival <= 0)
		return 0;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if ((size_t)(end - p) < sizeof(PROOF_TAG) - 1 ||
	    memcmp(p, PROOF_TAG, sizeof(PROOF_TAG) - 1) != 0)
		return 0;
	p += sizeof(PROOF_TAG) - 1;
	if (p < end && *p == '0')	/* t as proof_value writes it */
		return 0;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (++digits > PROOF_T_MAX)
			return 0;
		t = t * 10 + (*p - '0');
	}
	if (digits == 0 || (size_t)(end - p) < 3 + PROOF_HEX ||
	    memcmp(p, " h=", 3) != 0)
		return 0;
	/* a copy of an earlier message's header proves nothing here */
	if (t < (long long)arrival - PROOF_EARLY ||
	    t > (long long)arrival + PROOF_LATE)
		return 0;
	*t_r = t;
	*h_r = p + 3;
	return 1;
}

int
proof_check_value(const struct proof_key *key, const char *id,
    time_t arrival, const char *value, size_t len)
{
	char		 want[PROOF_HEX + 1];
	const char	*h;
	long long	 t;

	if (!id_ok(id) || !shape(arrival, value, len, &t, &h))
		return 0;
	if (proof_mac(key, id, t, want) == -1)
		return 0;
	return CRYPTO_memcmp(want, h, PROOF_HEX) == 0;
}

struct proof_search *
proof_search_new(const struct proof_key *key)
{
	struct proof_search *ps;

	ps = xcalloc(1, sizeof(*ps));
	if (key != NULL)
		ps->key = *key;
	else
		ps->keyless = 1;
	return ps;
}

void
proof_search_free(struct proof_search **psp)
{
	if (*psp == NULL)
		return;
	OPENSSL_cleanse(*psp, sizeof(**psp));
	free(*psp);
	*psp = NULL;
}

void
proof_search_begin(struct proof_search *ps, const char *id, time_t arrival)
{
	if (!id_ok(id))
		id = "";		/* proof_check_value refuses it */
	ebb_strlcpy(ps->id, id, sizeof(ps->id));
	ps->arrival = arrival;
	ps->found = 0;
	ps->n = 0;
	ps->ncand = 0;
}

/* keep - a candidate of the header's shape, over the oldest kept */
static void
keep(struct proof_search *ps, const char *value, size_t len)
{
	struct proof_cand *c = &ps->cand[ps->ncand % PROOF_CANDIDATES];

	c->len = MINIMUM(len, sizeof(c->v));
	memcpy(c->v, value, c->len);
	ps->ncand++;
}

/*
 * look - check every start of the header's name in win[0..limit), each
 * with the bytes after it up to PROOF_LINE_MAX (fewer only at the end of
 * the stream), then keep the bytes from limit on for the next round
 */
static void
look(struct proof_search *ps, size_t limit)
{
	const size_t	 nlen = sizeof(PROOF_NAME) - 1;
	unsigned char	*hit;
	const char	*h;
	long long	 t;
	size_t		 off = 0, s, span, avail;

	span = MINIMUM(ps->n, limit + nlen - 1);
	while (!ps->found && off < span && (hit = memmem(ps->win + off,
	    span - off, PROOF_NAME, nlen)) != NULL) {
		s = (size_t)(hit - ps->win);
		avail = MINIMUM(ps->n - s, PROOF_LINE_MAX);
		if (!ps->keyless)
			ps->found = proof_check_value(&ps->key, ps->id,
			    ps->arrival, (const char *)hit + nlen,
			    avail - nlen);
		else if (shape(ps->arrival, (const char *)hit + nlen,
		    avail - nlen, &t, &h))
			keep(ps, (const char *)hit + nlen, avail - nlen);
		off = s + 1;
	}
	memmove(ps->win, ps->win + limit, ps->n - limit);
	ps->n -= limit;
}

int
proof_search_feed(struct proof_search *ps, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t		 c;

	while (len > 0 && !ps->found) {
		c = MINIMUM(len, sizeof(ps->win) - ps->n);
		memcpy(ps->win + ps->n, p, c);
		ps->n += c;
		p += c;
		len -= c;
		if (ps->n == sizeof(ps->win))
			look(ps, ps->n - (PROOF_LINE_MAX - 1));
	}
	return ps->found;
}

int
proof_search_end(struct proof_search *ps)
{
	if (!ps->found)
		look(ps, ps->n);
	ps->n = 0;
	return ps->found;
}

time_t
proof_search_arrival(const struct proof_search *ps)
{
	return ps->arrival;
}

int
proof_search_candidate(const struct proof_search *ps, size_t i,
    const char **value_r, size_t *len_r)
{
	size_t	 n = MINIMUM(ps->ncand, PROOF_CANDIDATES);
	const struct proof_cand *c;

	if (i >= n)
		return -1;
	/* oldest first: the ring's next slot, when it has wrapped */
	c = &ps->cand[(ps->ncand - n + i) % PROOF_CANDIDATES];
	*value_r = c->v;
	*len_r = c->len;
	return 0;
}
