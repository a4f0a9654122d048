/*
 * http_allow.h - [http] allow: which client addresses may ask what
 *
 * The list is addresses and networks in CIDR notation, separated by
 * commas and/or blanks: "127.0.0.0/8, ::1, 192.0.2.0/24 2001:db8::/32".
 * A bare address is a host (/32, /128). An IPv4-mapped IPv6 client
 * (::ffff:192.0.2.1) is matched as the IPv4 address it carries. The
 * parser is pure and bounded (at most HTTP_ALLOW_MAX entries, each at most
 * INET6_ADDRSTRLEN + 4 characters) so that it can be unit-tested on a
 * table of malformed lists.
 */
#ifndef EBB_HTTP_ALLOW_H
#define EBB_HTTP_ALLOW_H

#include <stddef.h>

struct sockaddr;

#define HTTP_ALLOW_MAX	64

struct http_net {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];	/* network byte order, masked */
	unsigned int	 prefix;	/* 0..32 or 0..128 */
};

/* plain data: the parsed list */
struct http_allow {
	size_t		 n;
	struct http_net	 net[HTTP_ALLOW_MAX];
};

/*
 * http_allow_parse - parse list into *a. An empty list allows nobody.
 * Returns 0, or -1 and *err_r (allocated) naming the bad entry: a
 * malformed address, a prefix out of range or with junk, host bits set
 * below the prefix, or more than HTTP_ALLOW_MAX entries.
 */
int	 http_allow_parse(const char *list, struct http_allow *a,
	    char **err_r);

/* http_allow_match - 1 when sa (AF_INET or AF_INET6) is in the list */
int	 http_allow_match(const struct http_allow *a,
	    const struct sockaddr *sa);

#endif
