/*
 * http_allow.c - parse and match [http] allow, a list of CIDR networks
 *
 * Pure: a string in, a table out; a socket address in, yes or no out.
 * Every entry is bounded before it is copied, and inet_pton does the
 * address syntax, so nothing here parses an address by hand.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include "ebb/http_allow.h"
#include "ebb/util.h"

#define ENTRY_MAX	(INET6_ADDRSTRLEN + 4)	/* address, '/', prefix */
#define NOT_ADDR	"is not an address or network"

static int
fail(char **err_r, const char *why, const char *entry, size_t len)
{
	*err_r = xasprintf("allow: \"%.*s\" %s", (int)MINIMUM(len, 64),
	    entry, why);
	return -1;
}

/* host_bits_clear - 1 when addr has no bit set below prefix */
static int
host_bits_clear(const unsigned char *addr, size_t len, unsigned int prefix)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		unsigned int	 bit = (unsigned int)i * 8;
		unsigned char	 mask;

		if (bit + 8 <= prefix)
			continue;
		mask = bit >= prefix ? 0xff :
		    (unsigned char)(0xff >> (prefix - bit));
		if (addr[i] & mask)
			return 0;
	}
	return 1;
}

/* parse_entry - one "addr[/prefix]" of len bytes into *n */
static int
parse_entry(const char *s, size_t len, struct http_net *n, char **err_r)
{
	char		 buf[ENTRY_MAX + 1], *slash, *end;
	unsigned long	 prefix;
	unsigned int	 max;
	size_t		 alen;

	if (len > ENTRY_MAX)
		return fail(err_r, "is too long", s, len);
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(n, 0, sizeof(*n));
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, n->addr) == 1) {
		n->family = AF_INET;
		max = 32;
		alen = 4;
	} else if (inet_pton(AF_INET6, buf, n->addr) == 1) {
		n->family = AF_INET6;
		max = 128;
		alen = 16;
	} else
		return fail(err_r, NOT_ADDR, s, len);
	n->prefix = max;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9')
			return fail(err_r, NOT_ADDR, s, len);
		prefix = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || end - (slash + 1) > 3 || prefix > max)
			return fail(err_r, NOT_ADDR, s, len);
		n->prefix = (unsigned int)prefix;
	}
	if (!host_bits_clear(n->addr, alen, n->prefix))
		return fail(err_r, "has host bits set below its prefix", s,
		    len);
	return 0;
}

int
http_allow_parse(const char *list, struct http_allow *a, char **err_r)
{
	const char	*p = list;
	size_t		 len;

	memset(a, 0, sizeof(*a));
	for (;;) {
		p += strspn(p, ", \t");
		if (*p == '\0')
			return 0;
		len = strcspn(p, ", \t");
		if (a->n == HTTP_ALLOW_MAX) {
			*err_r = xasprintf("allow: more than %d entries",
			    HTTP_ALLOW_MAX);
			return -1;
		}
		if (parse_entry(p, len, &a->net[a->n], err_r) == -1)
			return -1;
		a->n++;
		p += len;
	}
}

/* prefix_match - the first prefix bits of x and y agree */
static int
prefix_match(const unsigned char *x, const unsigned char *y,
    unsigned int prefix)
{
	unsigned int	 full = prefix / 8, rest = prefix % 8;
	unsigned char	 mask;

	if (memcmp(x, y, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (x[full] & mask) == (y[full] & mask);
}

int
http_allow_match(const struct http_allow *a, const struct sockaddr *sa)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	unsigned char	 addr[16];
	int		 family;
	size_t		 i;

	if (sa->sa_family == AF_INET) {
		family = AF_INET;
		memcpy(addr, &((const struct sockaddr_in *)(const void *)sa)->
		    sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(addr, &((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr, 16);
		family = AF_INET6;
		if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
			family = AF_INET;
			memmove(addr, addr + 12, 4);
		}
	} else
		return 0;
	for (i = 0; i < a->n; i++)
		if (a->net[i].family == family &&
		    prefix_match(a->net[i].addr, addr, a->net[i].prefix))
			return 1;
	return 0;
}
