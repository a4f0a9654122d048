/*
 * milter_spf_hdr.c - the SPF headers the milter adds (no libspf2 needed)
 *
 * See milter_spf.h. Pure: the milter adds them with smfi_insheader at the
 * end of the message.
 */
#include "config.h"

#include <stdio.h>

#include "ebb/admit.h"
#include "milter_spf.h"

#define SPF_NAME_MAX	255

/* clean - src as header text: printable ASCII, no quote or backslash */
static void
clean(char *dst, size_t size, const char *src)
{
	size_t	 i;

	if (src == NULL)
		src = "";
	for (i = 0; src[i] != '\0' && i + 1 < size; i++)
		dst[i] = src[i] < ' ' || src[i] > '~' || src[i] == '"' ||
		    src[i] == '\\' || src[i] == ';' ? '?' : src[i];
	dst[i] = '\0';
}

void
milter_spf_headers(enum admit_spf r, const char *authserv_id,
    const char *ip, const char *sender, const char *helo, char *received_r,
    char *auth_r)
{
	char	 id[128], a[64], s[SPF_NAME_MAX + 1], h[SPF_NAME_MAX + 1];
	const char *name = admit_spf_name(r);

	clean(id, sizeof(id), authserv_id != NULL && authserv_id[0] != '\0' ?
	    authserv_id : "ebb");
	clean(a, sizeof(a), ip);
	clean(s, sizeof(s), sender);
	clean(h, sizeof(h), helo);
	snprintf(received_r, MILTER_SPF_HDR_MAX, "%s (%s: ebb) "
	    "client-ip=%s; envelope-from=\"%s\"; helo=%s;", name, id, a,
	    s[0] != '\0' ? s : "", h[0] != '\0' ? h : "unknown");
	if (s[0] != '\0')
		snprintf(auth_r, MILTER_SPF_HDR_MAX, "%s; spf=%s "
		    "smtp.mailfrom=%s", id, name, s);
	else
		snprintf(auth_r, MILTER_SPF_HDR_MAX, "%s; spf=%s "
		    "smtp.helo=%s", id, name, h[0] != '\0' ? h : "unknown");
}
