/*
 * client_limit.c - per-client token buckets and history for the milter
 *
 * An open-addressed table of fixed size: a key (address or network)
 * hashes to a slot and lives in one of the CLIENT_LIMIT_PROBE slots from
 * there; a full window evicts its least recently touched entry. No
 * tombstones are needed because nothing is ever deleted, only replaced.
 * See client_limit.h for the contract and the file format.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ebb/bucket.h"
#include "ebb/client_limit.h"
#include "ebb/util.h"

#define FILE_MAGIC	"ebb-clients 1"
#define FUTURE_MAX	86400	/* saved times may be this far ahead */

struct key {
	unsigned char	 family;	/* AF_INET, AF_INET6 or 0 */
	unsigned char	 bits;		/* 32/128 address, 24/64 net */
	unsigned char	 a[16];
};

struct entry {
	struct key	 key;
	int		 used;
	struct bucket	 bucket;
	time_t		 first_seen;
	time_t		 last_accepted;	/* 0: never */
	time_t		 touched;
};

struct client_limit {
	struct client_limit_params p;
	struct entry	*slots;
	size_t		 mask;
	size_t		 count;
};

int
client_addr_from_sockaddr(const struct sockaddr *sa, struct client_addr *r)
{
	memset(r, 0, sizeof(*r));
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		r->family = AF_INET;
		memcpy(r->a, &sin->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		r->family = AF_INET6;
		memcpy(r->a, &sin6->sin6_addr, 16);
		return 0;
	}
	return -1;
}

int
client_addr_parse(const char *s, struct client_addr *r)
{
	memset(r, 0, sizeof(*r));
	if (inet_pton(AF_INET, s, r->a) == 1) {
		r->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, r->a) == 1) {
		r->family = AF_INET6;
		return 0;
	}
	memset(r, 0, sizeof(*r));
	return -1;
}

/* make_key - the key of addr cut to bits (0: the whole address) */
static void
make_key(const struct client_addr *addr, int net, struct key *k)
{
	size_t	 bytes;

	memset(k, 0, sizeof(*k));
	switch (addr->family) {
	case AF_INET:
		k->family = AF_INET;
		k->bits = net ? 24 : 32;
		break;
	case AF_INET6:
		k->family = AF_INET6;
		k->bits = net ? 64 : 128;
		break;
	default:
		return;			/* family 0: one shared key */
	}
	bytes = k->bits / 8;
	memcpy(k->a, addr->a, bytes);
}

/* hash - FNV-1a of the key, seeded */
static size_t
hash(const struct client_limit *cl, const struct key *k)
{
	const unsigned char *p = (const unsigned char *)k;
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)cl->p.seed;
	size_t	 i;

	for (i = 0; i < sizeof(*k); i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return (size_t)(h ^ (h >> 29));
}

/* bucket_params - rate and burst of a key's kind */
static void
bucket_params(const struct client_limit *cl, const struct key *k,
    double *rate_r, double *burst_r)
{
	int	 net = k->bits == 24 || k->bits == 64;

	*rate_r = net ? cl->p.net_rate : cl->p.ip_rate;
	*burst_r = net ? cl->p.net_burst : cl->p.ip_burst;
}

/* slot_for - the entry of k, created (maybe evicting) when create is set */
static struct entry *
slot_for(struct client_limit *cl, const struct key *k, time_t now,
    int create)
{
	struct entry	*e, *victim = NULL;
	size_t		 h = hash(cl, k), i;
	double		 rate, burst;

	for (i = 0; i < CLIENT_LIMIT_PROBE; i++) {
		e = &cl->slots[(h + i) & cl->mask];
		if (!e->used) {
			if (victim == NULL || victim->used)
				victim = e;
			break;
		}
		if (memcmp(&e->key, k, sizeof(*k)) == 0)
			return e;
		if (victim == NULL || (victim->used &&
		    e->touched < victim->touched))
			victim = e;
	}
	if (!create)
		return NULL;
	if (!victim->used)
		cl->count++;
	memset(victim, 0, sizeof(*victim));
	victim->key = *k;
	victim->used = 1;
	victim->first_seen = now;
	victim->touched = now;
	bucket_params(cl, k, &rate, &burst);
	bucket_init(&victim->bucket, rate, burst, (double)now);
	return victim;
}

struct client_limit *
client_limit_new(const struct client_limit_params *p)
{
	struct client_limit *cl = xcalloc(1, sizeof(*cl));
	size_t	 n = CLIENT_LIMIT_PROBE;

	cl->p = *p;
	while (n < p->slots && n < CLIENT_LIMIT_SLOTS_MAX)
		n <<= 1;
	cl->slots = xcalloc(n, sizeof(*cl->slots));
	cl->mask = n - 1;
	return cl;
}

void
client_limit_free(struct client_limit **clp)
{
	if (*clp == NULL)
		return;
	free((*clp)->slots);
	free(*clp);
	*clp = NULL;
}

/* bucket_ok - a token is there, or the bucket is off */
static int
bucket_ok(const struct entry *e, time_t now)
{
	return e->bucket.rate <= 0 || bucket_tokens(&e->bucket,
	    (double)now) >= 1;
}

enum admit_bucket
client_limit_check(struct client_limit *cl, const struct client_addr *addr,
    time_t now, time_t *since_r)
{
	struct entry	*ip, *net;
	struct key	 kip, knet;
	int		 ip_ok, net_ok;

	make_key(addr, 0, &kip);
	make_key(addr, 1, &knet);
	ip = slot_for(cl, &kip, now, 1);
	ip->touched = now;
	*since_r = ip->last_accepted > 0 ? ip->last_accepted :
	    ip->first_seen;
	ip_ok = bucket_ok(ip, now);
	if (addr->family == 0)		/* no network of its own */
		return ip_ok ? ADMIT_BUCKET_OK : ADMIT_BUCKET_IP_EMPTY;
	net = slot_for(cl, &knet, now, 1);
	net->touched = now;
	net_ok = bucket_ok(net, now);
	/* the network's entry may have evicted the address's */
	if (memcmp(&ip->key, &kip, sizeof(kip)) != 0)
		*since_r = now;
	if (!ip_ok)
		return ADMIT_BUCKET_IP_EMPTY;
	return net_ok ? ADMIT_BUCKET_OK : ADMIT_BUCKET_NET_EMPTY;
}

void
client_limit_take(struct client_limit *cl, const struct client_addr *addr,
    time_t now)
{
	struct entry	*e;
	struct key	 k;
	int		 net;

	for (net = 0; net <= 1; net++) {
		if (net && addr->family == 0)
			break;
		make_key(addr, net, &k);
		e = slot_for(cl, &k, now, 1);
		e->touched = now;
		if (e->bucket.rate > 0)
			bucket_take(&e->bucket, 1, (double)now);
	}
}

void
client_limit_accepted(struct client_limit *cl,
    const struct client_addr *addr, time_t now)
{
	struct entry	*e;
	struct key	 k;

	make_key(addr, 0, &k);
	e = slot_for(cl, &k, now, 1);
	e->touched = now;
	e->last_accepted = now;
}

size_t
client_limit_count(const struct client_limit *cl)
{
	return cl->count;
}

/* key_text - the address part of a key as text */
static void
key_text(const struct key *k, char *buf, size_t size)
{
	if (k->family == 0 ||
	    inet_ntop(k->family, k->a, buf, (socklen_t)size) == NULL)
		ebb_strlcpy(buf, "-", size);
}

int
client_limit_save(const struct client_limit *cl, const char *path,
    char **err_r)
{
	const struct entry *e;
	char	*tmp, addr[INET6_ADDRSTRLEN];
	FILE	*f;
	size_t	 i;
	int	 bad;

	tmp = xasprintf("%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL) {
		*err_r = xasprintf("%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	fprintf(f, "%s\n", FILE_MAGIC);
	for (i = 0; i <= cl->mask; i++) {
		e = &cl->slots[i];
		if (!e->used)
			continue;
		key_text(&e->key, addr, sizeof(addr));
		fprintf(f, "%c %s %u %.3f %.3f %lld %lld %lld\n",
		    e->key.bits == 24 || e->key.bits == 64 ? 'n' : 'a', addr,
		    (unsigned)e->key.bits, e->bucket.tokens, e->bucket.last,
		    (long long)e->first_seen, (long long)e->last_accepted,
		    (long long)e->touched);
	}
	bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) == -1;
	if (fclose(f) != 0)
		bad = 1;
	if (bad || rename(tmp, path) == -1) {
		*err_r = xasprintf("%s: %s", bad ? tmp : path,
		    strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* time_ok - a saved time: not negative, at most FUTURE_MAX ahead of now */
static int
time_ok(long long t, time_t now)
{
	return t >= 0 && t <= (long long)now + FUTURE_MAX;
}

/*
 * parse_line - one saved entry into the table; 0, or -1 with *why_r
 * (static)
 */
static int
parse_line(struct client_limit *cl, const char *line, time_t now,
    const char **why_r)
{
	char		 kind, addr[INET6_ADDRSTRLEN + 1];
	unsigned	 bits;
	double		 tokens, last, rate, burst;
	long long	 first, accepted, touched;
	struct client_addr ca;
	struct entry	*e;
	struct key	 k;
	int		 end = -1, net;

	if (sscanf(line, "%c %46s %u %lf %lf %lld %lld %lld%n", &kind, addr,
	    &bits, &tokens, &last, &first, &accepted, &touched, &end) != 8 ||
	    end < 0 || line[end] != '\n' || (kind != 'a' && kind != 'n')) {
		*why_r = "malformed entry";
		return -1;
	}
	net = kind == 'n';
	if (strcmp(addr, "-") == 0)
		memset(&ca, 0, sizeof(ca));
	else if (client_addr_parse(addr, &ca) == -1) {
		*why_r = "bad address";
		return -1;
	}
	make_key(&ca, net, &k);
	if (k.bits != bits || (ca.family == 0 && net)) {
		*why_r = "bad prefix length";
		return -1;
	}
	bucket_params(cl, &k, &rate, &burst);
	if (!isfinite(tokens) || tokens < 0 || !isfinite(last) ||
	    !time_ok((long long)last, now) || !time_ok(first, now) ||
	    !time_ok(accepted, now) || !time_ok(touched, now)) {
		*why_r = "value out of range";
		return -1;
	}
	if (slot_for(cl, &k, now, 0) != NULL) {
		*why_r = "entry listed twice";
		return -1;
	}
	e = slot_for(cl, &k, (time_t)touched, 1);
	e->first_seen = (time_t)first;
	e->last_accepted = (time_t)accepted;
	e->touched = (time_t)touched;
	bucket_init(&e->bucket, rate, burst, last);
	e->bucket.tokens = MINIMUM(tokens, e->bucket.burst);
	return 0;
}

/* clear - drop every entry */
static void
clear(struct client_limit *cl)
{
	memset(cl->slots, 0, (cl->mask + 1) * sizeof(*cl->slots));
	cl->count = 0;
}

int
client_limit_load(struct client_limit *cl, const char *path, time_t now,
    char **err_r)
{
	char		 line[CLIENT_LIMIT_LINE_MAX];
	const char	*why = NULL;
	size_t		 lineno = 0;
	FILE		*f;

	clear(cl);
	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return 0;
		*err_r = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	while (why == NULL && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL)
			why = "line too long or unterminated";
		else if (lineno == 1) {
			if (strcmp(line, FILE_MAGIC "\n") != 0)
				why = "not an ebb clients file";
		} else if (lineno - 1 > cl->mask + 1)
			why = "more entries than the table holds";
		else
			parse_line(cl, line, now, &why);
	}
	if (why == NULL && ferror(f))
		why = strerror(errno);
	if (why == NULL && lineno == 0)
		why = "empty file";
	fclose(f);
	if (why != NULL) {
		clear(cl);
		*err_r = xasprintf("%s:%zu: %s", path, lineno, why);
		return -1;
	}
	return 0;
}
