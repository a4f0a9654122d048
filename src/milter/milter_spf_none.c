/*
 * milter_spf_none.c - the milter's SPF, for a build without libspf2
 *
 * [milter] spf other than off then stops the milter from starting, with a
 * message that says why.
 */
#include "config.h"

#include "ebb/admit.h"
#include "ebb/util.h"
#include "milter_spf.h"

struct SPF_server_struct *
milter_spf_open(char **err_r)
{
	*err_r = xstrdup("milter: [milter] spf needs libspf2, and ebb was "
	    "built without it");
	return NULL;
}

void
milter_spf_close(struct SPF_server_struct *server)
{
	(void)server;
}

enum admit_spf
milter_spf_check(struct SPF_server_struct *server, const char *ip,
    const char *sender, const char *helo)
{
	(void)server;
	(void)ip;
	(void)sender;
	(void)helo;
	return ADMIT_SPF_UNCHECKED;
}
