/*
 * test_spf.c - the milter's SPF check, offline, on a DNS zone of its own
 *
 * milter_spf_check runs on an SPF server built over a libspf2 zone
 * (SPF_dns_zone_new + SPF_dns_zone_add_str), so every result comes back
 * with no network: pass, fail, softfail, neutral, none, permerror, a
 * temperror from a TRY_AGAIN answer on the top-level lookup (which
 * libspf2 reports as invalid), the null sender checked as postmaster@HELO,
 * IPv6, and input it must not hand libspf2. Then the header values.
 */
#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <spf2/spf.h>
#include <spf2/spf_dns_zone.h>

#include "ebb/admit.h"
#include "milter_spf.h"

struct zone {
	SPF_dns_server_t *dns;
	SPF_server_t	*server;
};

static void
add(SPF_dns_server_t *dns, const char *name, ns_type type, int herrno,
    const char *data)
{
	assert_int_equal(SPF_dns_zone_add_str(dns, name, type, herrno, data),
	    SPF_E_SUCCESS);
}

static int
setup(void **state)
{
	struct zone	*z = calloc(1, sizeof(*z));

	assert_non_null(z);
	z->dns = SPF_dns_zone_new(NULL, "test", 0);
	assert_non_null(z->dns);
	add(z->dns, "pass.test", ns_t_txt, NETDB_SUCCESS,
	    "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all");
	add(z->dns, "fail.test", ns_t_txt, NETDB_SUCCESS,
	    "v=spf1 ip4:198.51.100.1 -all");
	add(z->dns, "soft.test", ns_t_txt, NETDB_SUCCESS,
	    "v=spf1 ip4:198.51.100.1 ~all");
	add(z->dns, "neutral.test", ns_t_txt, NETDB_SUCCESS, "v=spf1 ?all");
	add(z->dns, "bad.test", ns_t_txt, NETDB_SUCCESS,
	    "v=spf1 ip4:192.0.2.300 -all");
	add(z->dns, "none.test", ns_t_txt, NO_DATA, NULL);
	add(z->dns, "temp.test", ns_t_txt, TRY_AGAIN, NULL);
	add(z->dns, "helo.test", ns_t_txt, NETDB_SUCCESS,
	    "v=spf1 ip4:192.0.2.9 -all");
	z->server = SPF_server_new_dns(z->dns, 0);
	assert_non_null(z->server);
	*state = z;
	return 0;
}

static int
teardown(void **state)
{
	struct zone	*z = *state;

	SPF_server_free(z->server);
	SPF_dns_free(z->dns);
	free(z);
	return 0;
}

static void
test_results(void **state)
{
	static const struct {
		const char	*ip, *sender, *helo;
		enum admit_spf	 want;
	} cases[] = {
		{ "192.0.2.7", "u@pass.test", "mx.pass.test", ADMIT_SPF_PASS },
		{ "192.0.2.7", "u@fail.test", "mx.pass.test", ADMIT_SPF_FAIL },
		{ "192.0.2.7", "u@soft.test", "h", ADMIT_SPF_SOFTFAIL },
		{ "192.0.2.7", "u@neutral.test", "h", ADMIT_SPF_NEUTRAL },
		{ "192.0.2.7", "u@none.test", "h", ADMIT_SPF_NONE },
		{ "192.0.2.7", "u@bad.test", "h", ADMIT_SPF_PERMERROR },
		{ "192.0.2.7", "u@temp.test", "h", ADMIT_SPF_TEMPERROR },
		{ "2001:db8::5", "u@pass.test", "h", ADMIT_SPF_PASS },
		{ "2001:db9::5", "u@pass.test", "h", ADMIT_SPF_FAIL },
		/* the null sender: postmaster@HELO */
		{ "192.0.2.9", "", "helo.test", ADMIT_SPF_PASS },
		{ "192.0.2.8", "", "helo.test", ADMIT_SPF_FAIL },
		{ "192.0.2.8", "", "", ADMIT_SPF_NONE },
		/* nothing libspf2 should see */
		{ "local", "u@pass.test", "h", ADMIT_SPF_UNCHECKED },
		{ "192.0.2.7", "no-domain", "h", ADMIT_SPF_NONE },
		{ "192.0.2.7", "u@", "h", ADMIT_SPF_NONE },
		{ "192.0.2.7", "a b@pass.test", "h", ADMIT_SPF_NONE },
		{ "192.0.2.7", "u@pass.test", "bad\nhelo", ADMIT_SPF_PASS },
	};
	struct zone	*z = *state;
	enum admit_spf	 got;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = milter_spf_check(z->server, cases[i].ip,
		    cases[i].sender, cases[i].helo);
		if (got != cases[i].want)
			fail_msg("case %zu (%s, <%s>): %s, want %s", i,
			    cases[i].ip, cases[i].sender, admit_spf_name(got),
			    admit_spf_name(cases[i].want));
	}
	assert_int_equal(milter_spf_check(NULL, "192.0.2.7", "u@pass.test",
	    "h"), ADMIT_SPF_UNCHECKED);
}

static void
test_headers(void **state)
{
	char	 rcv[MILTER_SPF_HDR_MAX], ar[MILTER_SPF_HDR_MAX];

	(void)state;
	milter_spf_headers(ADMIT_SPF_PASS, "mx.example", "192.0.2.7",
	    "u@pass.test", "mx.pass.test", rcv, ar);
	assert_string_equal(rcv, "pass (mx.example: ebb) client-ip=192.0.2.7; "
	    "envelope-from=\"u@pass.test\"; helo=mx.pass.test;");
	assert_string_equal(ar, "mx.example; spf=pass "
	    "smtp.mailfrom=u@pass.test");
	milter_spf_headers(ADMIT_SPF_FAIL, NULL, "192.0.2.8", "",
	    "helo.test", rcv, ar);
	assert_string_equal(ar, "ebb; spf=fail smtp.helo=helo.test");
	/* no way to break out of the header or a quoted string */
	milter_spf_headers(ADMIT_SPF_NONE, "a\r\nX: y", "1.2.3.4",
	    "q\"u;\\x@t", "h", rcv, ar);
	assert_null(strchr(rcv, '\n'));
	assert_null(strchr(ar, '\r'));
	assert_non_null(strstr(rcv, "envelope-from=\"q?u??x@t\""));
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_results),
		cmocka_unit_test(test_headers),
	};

	return cmocka_run_group_tests_name("spf", tests, setup, teardown);
}
