/*
 * test_http_allow.c - [http] allow: the CIDR list parser and matcher
 *
 * A table of lists, each either parsed (with its entry count) or refused
 * with a word in the error; and a table of client addresses matched
 * against one list, IPv4, IPv6 and IPv4-mapped IPv6.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ebb/http_allow.h"
#include "ebb/util.h"

static const struct {
	const char	*list;
	int		 n;		/* -1: refused */
	const char	*word;		/* in the error */
} parse_rows[] = {
	{ "127.0.0.0/8", 1, NULL },
	{ "", 0, NULL },
	{ " , ,\t", 0, NULL },
	{ "127.0.0.0/8, ::1", 2, NULL },
	{ "10.0.0.0/8 192.168.0.0/16,2001:db8::/32", 3, NULL },
	{ "0.0.0.0/0 ::/0", 2, NULL },
	{ "192.0.2.7", 1, NULL },
	{ "192.0.2.7/32", 1, NULL },
	{ "::ffff:192.0.2.0/120", 1, NULL },
	{ "fe80::/10", 1, NULL },
	{ "localhost", -1, "not an address" },
	{ "127.0.0.0/", -1, "not an address" },
	{ "127.0.0.0/33", -1, "not an address" },
	{ "127.0.0.0/-1", -1, "not an address" },
	{ "127.0.0.0/+8", -1, "not an address" },
	{ "127.0.0.0/8x", -1, "not an address" },
	{ "127.0.0.0/0008", -1, "not an address" },
	{ "127.0.0.0/8/8", -1, "not an address" },
	{ "::/129", -1, "not an address" },
	{ "127.0.0.1/8", -1, "host bits" },
	{ "10.1.0.0/15", -1, "host bits" },
	{ "2001:db8::1/64", -1, "host bits" },
	{ "256.0.0.0/8", -1, "not an address" },
	{ "1.2.3/24", -1, "not an address" },
	{ "127.0.0.1;rm", -1, "not an address" },
	{ "[::1]", -1, "not an address" },
	{ "::1%lo", -1, "not an address" },
	{ "/8", -1, "not an address" },
	{ "127.0.0.0/8, bogus", -1, "bogus" },
	{ "1234567890123456789012345678901234567890123456789012", -1,
	  "too long" },
};

static void
test_parse(void **state)
{
	struct http_allow a;
	size_t		 i;
	char		*err;

	(void)state;
	for (i = 0; i < nitems(parse_rows); i++) {
		err = NULL;
		if (parse_rows[i].n >= 0) {
			if (http_allow_parse(parse_rows[i].list, &a, &err) != 0)
				fail_msg("\"%s\" refused: %s",
				    parse_rows[i].list, err);
			assert_int_equal(a.n, parse_rows[i].n);
		} else {
			if (http_allow_parse(parse_rows[i].list, &a, &err) !=
			    -1)
				fail_msg("\"%s\" accepted", parse_rows[i].list);
			if (strstr(err, parse_rows[i].word) == NULL)
				fail_msg("\"%s\": \"%s\" lacks \"%s\"",
				    parse_rows[i].list, err,
				    parse_rows[i].word);
			free(err);
		}
	}
}

static void
test_too_many(void **state)
{
	struct http_allow a;
	char		 list[HTTP_ALLOW_MAX * 16 + 32], *err = NULL;
	size_t		 n = 0;
	int		 i;

	(void)state;
	for (i = 0; i <= HTTP_ALLOW_MAX; i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n,
		    "10.0.%d.0/24 ", i);
	assert_int_equal(http_allow_parse(list, &a, &err), -1);
	assert_non_null(strstr(err, "more than"));
	free(err);
}

/* addr - a sockaddr of text (IPv4 or IPv6) */
static const struct sockaddr *
addr(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	else
		fail_msg("bad test address %s", text);
	return (const struct sockaddr *)ss;
}

static const struct {
	const char	*addr;
	int		 match;
} match_rows[] = {
	{ "127.0.0.1", 1 },
	{ "127.255.255.254", 1 },
	{ "128.0.0.1", 0 },
	{ "::1", 1 },
	{ "::2", 0 },
	{ "::ffff:127.0.0.1", 1 },
	{ "::ffff:192.0.2.9", 0 },
	{ "192.0.2.9", 0 },
	{ "198.51.100.7", 1 },
	{ "198.51.100.8", 0 },
	{ "203.0.113.129", 1 },
	{ "203.0.113.127", 0 },
	{ "2001:db8:1:2::3", 1 },
	{ "2001:db9::1", 0 },
	{ "0.0.0.0", 0 },
};

static void
test_match(void **state)
{
	struct http_allow a;
	struct sockaddr_storage ss;
	char		*err = NULL;
	size_t		 i;

	(void)state;
	assert_int_equal(http_allow_parse("127.0.0.0/8, ::1 198.51.100.7 "
	    "203.0.113.128/25 2001:db8::/32", &a, &err), 0);
	for (i = 0; i < nitems(match_rows); i++)
		if (http_allow_match(&a, addr(match_rows[i].addr, &ss)) !=
		    match_rows[i].match)
			fail_msg("%s: want %d", match_rows[i].addr,
			    match_rows[i].match);
	/* nobody, and everybody */
	assert_int_equal(http_allow_parse("", &a, &err), 0);
	assert_int_equal(http_allow_match(&a, addr("127.0.0.1", &ss)), 0);
	assert_int_equal(http_allow_parse("0.0.0.0/0 ::/0", &a, &err), 0);
	assert_int_equal(http_allow_match(&a, addr("192.0.2.1", &ss)), 1);
	assert_int_equal(http_allow_match(&a, addr("2001:db8::1", &ss)), 1);
	/* not an IP socket */
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	assert_int_equal(http_allow_match(&a, (struct sockaddr *)&ss), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
