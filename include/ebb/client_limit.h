/*
 * client_limit.h - per-client token buckets and history for the milter
 *
 * Each SMTP client address has a token bucket, and so has its network
 * (the /24 of an IPv4 address, the /64 of an IPv6 one), so that one
 * address or one network cannot take the whole of a recovering host's
 * intake. Each address also remembers when it was first seen and when a
 * message from it was last accepted, for the trickle rule (admit.h).
 *
 * The table is bounded: a fixed number of slots, found by hashing into a
 * short probe window; when the window is full the entry touched least
 * recently in it is evicted. So memory is fixed and a lookup costs at most
 * CLIENT_LIMIT_PROBE slots, whatever the clients do. Time is passed in
 * (wall-clock seconds, so the state survives a restart); a rate of 0 turns
 * that bucket off. Not thread-safe: the caller locks.
 *
 * The state is saved as text in the state directory, one entry a line
 * ("a 192.0.2.7 32 TOKENS LAST FIRST_SEEN LAST_ACCEPTED"), and checked
 * line by line on load: a file that is corrupt in any way is dropped
 * whole and the table starts empty.
 */
#ifndef EBB_CLIENT_LIMIT_H
#define EBB_CLIENT_LIMIT_H

#include <stddef.h>
#include <time.h>

#include "ebb/admit.h"

struct sockaddr;
struct client_limit;

#define CLIENT_LIMIT_PROBE	16	/* slots looked at per key */
#define CLIENT_LIMIT_SLOTS_MAX	(1 << 22)
#define CLIENT_LIMIT_LINE_MAX	256	/* bytes of one saved line */
#define CLIENT_LIMIT_DIR	"milter"	/* in the state directory */
#define CLIENT_LIMIT_FILE	"clients"	/* in CLIENT_LIMIT_DIR */

/* an IPv4 or IPv6 address; plain data */
struct client_addr {
	int		 family;	/* AF_INET, AF_INET6; 0: unknown */
	unsigned char	 a[16];		/* network order; v4: a[0..4) */
};

struct client_limit_params {
	double	 ip_rate;	/* messages/s per address; 0: off */
	double	 ip_burst;
	double	 net_rate;	/* per /24 or /64 */
	double	 net_burst;
	size_t	 slots;		/* table size (a power of 2) */
	unsigned long seed;	/* hash seed (a random one in the milter) */
};

/*
 * client_addr_from_sockaddr - the address of a milter connect callback's
 * hostaddr; returns -1 (and family 0) for NULL or another family.
 * client_addr_parse - the same from text ("192.0.2.7", "2001:db8::1").
 */
int	 client_addr_from_sockaddr(const struct sockaddr *,
	    struct client_addr *addr_r);
int	 client_addr_parse(const char *, struct client_addr *addr_r);

/*
 * client_limit_new - an empty table; slots is clamped to
 * CLIENT_LIMIT_PROBE..CLIENT_LIMIT_SLOTS_MAX. Never NULL.
 */
struct client_limit *client_limit_new(const struct client_limit_params *);

/* client_limit_free - free *clp and set it to NULL; NULL is fine */
void	 client_limit_free(struct client_limit **clp);

/*
 * client_limit_check - the buckets of addr at now, taking nothing: the
 * address's and its network's entries are created when missing (first
 * seen now). Sets *since_r to the last time a message from addr was
 * accepted, or when addr was first seen if none ever was. An unknown
 * family is one shared client (family 0).
 */
enum admit_bucket client_limit_check(struct client_limit *,
	    const struct client_addr *addr, time_t now, time_t *since_r);

/* client_limit_take - take a token from addr's buckets (after a check) */
void	 client_limit_take(struct client_limit *,
	    const struct client_addr *addr, time_t now);

/* client_limit_accepted - a message from addr was accepted at now */
void	 client_limit_accepted(struct client_limit *,
	    const struct client_addr *addr, time_t now);

/* client_limit_count - entries in the table (addresses and networks) */
size_t	 client_limit_count(const struct client_limit *);

/*
 * client_limit_save - write the table to path (through path.tmp and a
 * rename, so a crash leaves the old file). Returns 0, or -1 and an
 * allocated message in *err_r.
 */
int	 client_limit_save(const struct client_limit *, const char *path,
	    char **err_r);

/*
 * client_limit_load - replace the table's entries with those saved in
 * path. A missing file is an empty table (returns 0). A corrupt one (bad
 * header, a line too long or malformed, a value out of range, times more
 * than a day ahead of now, more lines than slots) leaves the table empty
 * and returns -1 with an allocated message in *err_r naming the line.
 */
int	 client_limit_load(struct client_limit *, const char *path,
	    time_t now, char **err_r);

#endif
