/*
 * test_client_limit.c - per-client buckets, history, eviction, state file
 *
 * Buckets per address and per /24 or /64, the first-seen and last-accepted
 * times the trickle rule reads, a table that stays bounded under a flood
 * of addresses, and a state file that round-trips and is dropped whole
 * (table empty, an error naming the line) when anything in it is wrong.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ebb/client_limit.h"
#include "ebb/util.h"

#define NOW	1700000000L

static const struct client_limit_params params = {
	.ip_rate = 1, .ip_burst = 3, .net_rate = 10, .net_burst = 5,
	.slots = 1024, .seed = 42
};

static struct client_addr
addr(const char *s)
{
	struct client_addr a;

	assert_int_equal(client_addr_parse(s, &a), 0);
	return a;
}

/* attempt - check and, when the buckets allow, take; the check's answer */
static enum admit_bucket
attempt(struct client_limit *cl, const char *s, time_t now)
{
	struct client_addr a = addr(s);
	enum admit_bucket b;
	time_t	 since;

	b = client_limit_check(cl, &a, now, &since);
	if (b == ADMIT_BUCKET_OK)
		client_limit_take(cl, &a, now);
	return b;
}

static void
test_addr_parse(void **state)
{
	struct client_addr a;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	(void)state;
	assert_int_equal(client_addr_parse("192.0.2.7", &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(client_addr_parse("2001:db8::1", &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(client_addr_parse("192.0.2.256", &a), -1);
	assert_int_equal(a.family, 0);
	assert_int_equal(client_addr_parse("", &a), -1);
	assert_int_equal(client_addr_from_sockaddr(NULL, &a), -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0xc0000207);
	assert_int_equal(client_addr_from_sockaddr((void *)&sin, &a), 0);
	assert_memory_equal(a.a, addr("192.0.2.7").a, 16);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr.s6_addr[15] = 1;
	assert_int_equal(client_addr_from_sockaddr((void *)&sin6, &a), 0);
	assert_memory_equal(a.a, addr("::1").a, 16);
	sin6.sin6_family = AF_UNIX;
	assert_int_equal(client_addr_from_sockaddr((void *)&sin6, &a), -1);
}

/* burst 3 per address, then one a second */
static void
test_ip_bucket(void **state)
{
	struct client_limit *cl = client_limit_new(&params);

	(void)state;
	assert_int_equal(attempt(cl, "192.0.2.7", NOW), ADMIT_BUCKET_OK);
	assert_int_equal(attempt(cl, "192.0.2.7", NOW), ADMIT_BUCKET_OK);
	assert_int_equal(attempt(cl, "192.0.2.7", NOW), ADMIT_BUCKET_OK);
	assert_int_equal(attempt(cl, "192.0.2.7", NOW),
	    ADMIT_BUCKET_IP_EMPTY);
	assert_int_equal(attempt(cl, "192.0.2.7", NOW + 1), ADMIT_BUCKET_OK);
	assert_int_equal(attempt(cl, "192.0.2.7", NOW + 1),
	    ADMIT_BUCKET_IP_EMPTY);
	/* a refused attempt takes nothing: the other addresses are fine */
	assert_int_equal(attempt(cl, "192.0.2.8", NOW + 1), ADMIT_BUCKET_OK);
	client_limit_free(&cl);
	assert_null(cl);
	client_limit_free(&cl);
}

/* burst 5 per /24, shared by its addresses; another /24 is apart */
static void
test_net_bucket(void **state)
{
	struct client_limit *cl = client_limit_new(&params);
	char	 buf[32];
	int	 i;

	(void)state;
	for (i = 1; i <= 5; i++) {
		snprintf(buf, sizeof(buf), "198.51.100.%d", i);
		assert_int_equal(attempt(cl, buf, NOW), ADMIT_BUCKET_OK);
	}
	assert_int_equal(attempt(cl, "198.51.100.77", NOW),
	    ADMIT_BUCKET_NET_EMPTY);
	assert_int_equal(attempt(cl, "198.51.101.1", NOW), ADMIT_BUCKET_OK);
	/* IPv6: the /64 is shared, the next /64 is not */
	for (i = 1; i <= 5; i++) {
		snprintf(buf, sizeof(buf), "2001:db8:1:2::%d", i);
		assert_int_equal(attempt(cl, buf, NOW), ADMIT_BUCKET_OK);
	}
	assert_int_equal(attempt(cl, "2001:db8:1:2:ffff::1", NOW),
	    ADMIT_BUCKET_NET_EMPTY);
	assert_int_equal(attempt(cl, "2001:db8:1:3::1", NOW),
	    ADMIT_BUCKET_OK);
	client_limit_free(&cl);
}

/* a rate of 0 turns a bucket off */
static void
test_rate_off(void **state)
{
	struct client_limit_params p = params;
	struct client_limit *cl;
	int	 i;

	(void)state;
	p.ip_rate = 0;
	p.net_rate = 0;
	cl = client_limit_new(&p);
	for (i = 0; i < 100; i++)
		assert_int_equal(attempt(cl, "192.0.2.7", NOW),
		    ADMIT_BUCKET_OK);
	client_limit_free(&cl);
}

/* since: first seen until something is accepted, then that time */
static void
test_since(void **state)
{
	struct client_limit *cl = client_limit_new(&params);
	struct client_addr a = addr("192.0.2.7");
	time_t	 since;

	(void)state;
	client_limit_check(cl, &a, NOW, &since);
	assert_int_equal(since, NOW);
	client_limit_check(cl, &a, NOW + 100, &since);
	assert_int_equal(since, NOW);
	client_limit_accepted(cl, &a, NOW + 200);
	client_limit_check(cl, &a, NOW + 300, &since);
	assert_int_equal(since, NOW + 200);
	client_limit_free(&cl);
}

/* a flood of addresses never grows the table past its slots */
static void
test_bounded(void **state)
{
	struct client_limit_params p = params;
	struct client_limit *cl;
	struct client_addr a;
	time_t	 since;
	uint32_t i;

	(void)state;
	p.slots = 100;			/* rounded up to 128 */
	cl = client_limit_new(&p);
	memset(&a, 0, sizeof(a));
	a.family = AF_INET;
	for (i = 0; i < 100000; i++) {
		a.a[0] = 10;
		a.a[1] = (i >> 16) & 0xff;
		a.a[2] = (i >> 8) & 0xff;
		a.a[3] = i & 0xff;
		client_limit_check(cl, &a, NOW + i, &since);
		assert_true(since <= NOW + i);
		assert_true(client_limit_count(cl) <= 128);
	}
	assert_true(client_limit_count(cl) > 64);
	/* a busy client that keeps coming back survives the flood */
	client_limit_free(&cl);
}

/* temp_path - a fresh file name under TMPDIR */
static char *
temp_path(void)
{
	const char *dir = getenv("TMPDIR");
	char	*p;
	int	 fd;

	p = xasprintf("%s/ebb-clients.XXXXXX", dir != NULL ? dir : "/tmp");
	assert_true((fd = mkstemp(p)) != -1);
	close(fd);
	unlink(p);
	return p;
}

static void
write_file(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* save, load into a new table: same buckets, same history */
static void
test_round_trip(void **state)
{
	struct client_limit *cl = client_limit_new(&params), *cl2;
	struct client_addr a = addr("192.0.2.7"), b = addr("2001:db8::9");
	char	*path = temp_path(), *err = NULL;
	time_t	 since;

	(void)state;
	attempt(cl, "192.0.2.7", NOW);
	attempt(cl, "192.0.2.7", NOW);
	attempt(cl, "192.0.2.7", NOW);
	client_limit_accepted(cl, &a, NOW);
	attempt(cl, "2001:db8::9", NOW - 50);
	assert_int_equal(client_limit_save(cl, path, &err), 0);
	cl2 = client_limit_new(&params);
	assert_int_equal(client_limit_load(cl2, path, NOW, &err), 0);
	assert_int_equal(client_limit_count(cl2), client_limit_count(cl));
	assert_int_equal(attempt(cl2, "192.0.2.7", NOW),
	    ADMIT_BUCKET_IP_EMPTY);
	client_limit_check(cl2, &a, NOW, &since);
	assert_int_equal(since, NOW);
	client_limit_check(cl2, &b, NOW, &since);
	assert_int_equal(since, NOW - 50);
	/* a missing file is an empty table */
	unlink(path);
	assert_int_equal(client_limit_load(cl2, path, NOW, &err), 0);
	assert_int_equal(client_limit_count(cl2), 0);
	client_limit_free(&cl);
	client_limit_free(&cl2);
	free(path);
}

static const char *const corrupt[] = {
	"",
	"ebb-clients 2\n",
	"garbage\n",
	/* no newline at the end */
	"ebb-clients 1\na 192.0.2.7 32 1.0 1700000000.0 1 2 3",
	"ebb-clients 1\nx 192.0.2.7 32 1.0 1700000000.0 1 2 3\n",
	"ebb-clients 1\na 192.0.2.300 32 1.0 1700000000.0 1 2 3\n",
	"ebb-clients 1\na 192.0.2.7 24 1.0 1700000000.0 1 2 3\n",
	"ebb-clients 1\nn 2001:db8:: 24 1.0 1700000000.0 1 2 3\n",
	"ebb-clients 1\na 192.0.2.7 32 nan 1700000000.0 1 2 3\n",
	"ebb-clients 1\na 192.0.2.7 32 -1 1700000000.0 1 2 3\n",
	"ebb-clients 1\na 192.0.2.7 32 1.0 1700000000.0 1 2 -3\n",
	"ebb-clients 1\na 192.0.2.7 32 1.0 1900000000.0 1 2 3\n",
	"ebb-clients 1\na 192.0.2.7 32 1.0 1700000000.0 1 2 3 junk\n",
	"ebb-clients 1\na 192.0.2.7 32 1.0 1700000000.0 1 2 3\n"
	"a 192.0.2.7 32 1.0 1700000000.0 1 2 3\n",
	"ebb-clients 1\na 192.0.2.7 32 1.0 1700000000.0 1 2 3\nshort\n",
};

/* every corrupt file: -1, a message, an empty table */
static void
test_corrupt(void **state)
{
	struct client_limit *cl = client_limit_new(&params);
	char	*path = temp_path(), *err, *big;
	size_t	 i;

	(void)state;
	for (i = 0; i < nitems(corrupt); i++) {
		attempt(cl, "203.0.113.1", NOW);
		write_file(path, corrupt[i]);
		err = NULL;
		if (client_limit_load(cl, path, NOW, &err) != -1)
			fail_msg("case %zu loaded", i);
		assert_non_null(err);
		assert_non_null(strstr(err, path));
		assert_int_equal(client_limit_count(cl), 0);
		free(err);
	}
	/* a line longer than CLIENT_LIMIT_LINE_MAX */
	big = xmalloc(4096);
	memset(big, '1', 4095);
	big[4095] = '\0';
	memcpy(big, "ebb-clients 1\na ", 16);
	write_file(path, big);
	err = NULL;
	assert_int_equal(client_limit_load(cl, path, NOW, &err), -1);
	free(err);
	free(big);
	unlink(path);
	client_limit_free(&cl);
	free(path);
}

/* a save to a directory that is not there fails with a message */
static void
test_save_error(void **state)
{
	struct client_limit *cl = client_limit_new(&params);
	char	*err = NULL;

	(void)state;
	assert_int_equal(client_limit_save(cl, "/nonexistent/dir/clients",
	    &err), -1);
	assert_non_null(err);
	free(err);
	client_limit_free(&cl);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_ip_bucket),
		cmocka_unit_test(test_net_bucket),
		cmocka_unit_test(test_rate_off),
		cmocka_unit_test(test_since),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_save_error),
	};

	return cmocka_run_group_tests_name("client_limit", tests, NULL, NULL);
}
