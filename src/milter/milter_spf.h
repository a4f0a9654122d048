/*
 * milter_spf.h - the milter's SPF check and its headers (libspf2)
 *
 * One SPF server per process, made by milter_spf_open() when the milter
 * starts (an SPF server per message is the expensive mistake); one request
 * per message in milter_spf_check(), which takes the server so the unit
 * test can run it on a DNS zone of its own. Built from milter_spf.c with
 * libspf2, from milter_spf_none.c without (open then fails).
 */
#ifndef EBB_MILTER_SPF_H
#define EBB_MILTER_SPF_H

#include <stddef.h>

#include "ebb/admit.h"

struct SPF_server_struct;

#define MILTER_SPF_HDR_MAX	1024	/* a header value we write */

/*
 * milter_spf_open - the process's SPF server, with DNS waits bounded to
 * about a second (RES_OPTIONS, set before any lookup: call it before the
 * milter's threads exist). Returns it, or NULL and *err_r.
 */
struct SPF_server_struct *milter_spf_open(char **err_r);

/* milter_spf_close - free the server; NULL is fine */
void	 milter_spf_close(struct SPF_server_struct *server);

/*
 * milter_spf_check - the SPF result of MAIL FROM sender (without <>, ""
 * for the null sender, which is checked as postmaster@helo) sent from ip
 * (text) after HELO helo. A DNS failure of the top-level lookup, which
 * libspf2 reports as an invalid result, is a temperror; an ip that is not
 * an address is unchecked. Thread-safe; blocks for DNS.
 */
enum admit_spf milter_spf_check(struct SPF_server_struct *server,
	    const char *ip, const char *sender, const char *helo);

/*
 * milter_spf_headers - the values of Received-SPF (RFC 7208) and of
 * Authentication-Results (RFC 8601, authserv_id first) for result r, into
 * received_r and auth_r (MILTER_SPF_HDR_MAX bytes each). Anything but
 * plain printable ASCII in the inputs is written as '?'. Pure.
 */
void	 milter_spf_headers(enum admit_spf r, const char *authserv_id,
	    const char *ip, const char *sender, const char *helo,
	    char *received_r, char *auth_r);

#endif
