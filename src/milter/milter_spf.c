/*
 * milter_spf.c - SPF for the milter, with libspf2
 *
 * See milter_spf.h. libspf2 has no timeout of its own: the resolver's is
 * bounded through RES_OPTIONS, which glibc reads once per thread, so it
 * is set before the first lookup. libspf2 aborts inside SPF_error() on
 * some bad input, so what reaches it is checked first: an address that
 * parses, a sender and HELO of plain characters.
 */
#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spf2/spf.h>

#include "ebb/admit.h"
#include "ebb/util.h"
#include "milter_spf.h"

#define SPF_NAME_MAX	255

struct SPF_server_struct *
milter_spf_open(char **err_r)
{
	SPF_server_t	*server;

	/* a dead nameserver costs 1 s per lookup, not 10 (REFERENCE.md) */
	if (setenv("RES_OPTIONS", "timeout:1 attempts:1", 1) == -1) {
		*err_r = xstrdup("milter: spf: cannot set RES_OPTIONS");
		return NULL;
	}
	if ((server = SPF_server_new(SPF_DNS_CACHE, 0)) == NULL) {
		*err_r = xstrdup("milter: spf: cannot make an SPF server");
		return NULL;
	}
	return server;
}

void
milter_spf_close(struct SPF_server_struct *server)
{
	if (server != NULL)
		SPF_server_free(server);
}

/* plain - s is non-empty, short, printable ASCII without space */
static int
plain(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= SPF_NAME_MAX || s[i] <= ' ' || s[i] > '~')
			return 0;
	return i > 0;
}

/* map - libspf2's result as admission's */
static enum admit_spf
map(SPF_result_t r, SPF_errcode_t e)
{
	switch (r) {
	case SPF_RESULT_NEUTRAL:
		return ADMIT_SPF_NEUTRAL;
	case SPF_RESULT_PASS:
		return ADMIT_SPF_PASS;
	case SPF_RESULT_FAIL:
		return ADMIT_SPF_FAIL;
	case SPF_RESULT_SOFTFAIL:
		return ADMIT_SPF_SOFTFAIL;
	case SPF_RESULT_NONE:
		return ADMIT_SPF_NONE;
	case SPF_RESULT_TEMPERROR:
		return ADMIT_SPF_TEMPERROR;
	case SPF_RESULT_PERMERROR:
		return ADMIT_SPF_PERMERROR;
	case SPF_RESULT_INVALID:
	default:
		/*
		 * the top-level lookup failed (query_mailfrom returned
		 * error 26): try again later; a record that does not
		 * parse comes back invalid too, with another error
		 */
		return e == SPF_E_DNS_ERROR ? ADMIT_SPF_TEMPERROR :
		    ADMIT_SPF_PERMERROR;
	}
}

enum admit_spf
milter_spf_check(struct SPF_server_struct *server, const char *ip,
    const char *sender, const char *helo)
{
	SPF_request_t	*req;
	SPF_response_t	*res = NULL;
	struct in_addr	 a4;
	struct in6_addr	 a6;
	enum admit_spf	 result;
	char		 from[SPF_NAME_MAX + 16];
	SPF_errcode_t	 e;

	if (server == NULL || ip == NULL)
		return ADMIT_SPF_UNCHECKED;
	if (helo == NULL || !plain(helo))
		helo = "";
	if (sender == NULL || sender[0] == '\0') {
		if (helo[0] == '\0')
			return ADMIT_SPF_NONE;	/* nothing to check */
		snprintf(from, sizeof(from), "postmaster@%s", helo);
	} else if (!plain(sender) || strchr(sender, '@') == NULL ||
	    strrchr(sender, '@')[1] == '\0')
		return ADMIT_SPF_NONE;		/* no domain to ask */
	else
		ebb_strlcpy(from, sender, sizeof(from));
	if ((req = SPF_request_new(server)) == NULL)
		return ADMIT_SPF_TEMPERROR;
	if (inet_pton(AF_INET, ip, &a4) == 1)
		e = SPF_request_set_ipv4(req, a4);
	else if (inet_pton(AF_INET6, ip, &a6) == 1)
		e = SPF_request_set_ipv6(req, a6);
	else {
		SPF_request_free(req);
		return ADMIT_SPF_UNCHECKED;
	}
	if (e == SPF_E_SUCCESS && helo[0] != '\0')
		e = SPF_request_set_helo_dom(req, helo);
	if (e == SPF_E_SUCCESS)
		e = SPF_request_set_env_from(req, from);
	if (e != SPF_E_SUCCESS) {
		SPF_request_free(req);
		return ADMIT_SPF_PERMERROR;
	}
	e = SPF_request_query_mailfrom(req, &res);
	result = res != NULL ? map(SPF_response_result(res), e) :
	    ADMIT_SPF_TEMPERROR;
	if (res != NULL)
		SPF_response_free(res);
	SPF_request_free(req);
	return result;
}
