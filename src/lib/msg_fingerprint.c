/*
 * msg_fingerprint.c - who a message is when its queue id changes
 *
 * A queue file copied or restored gets a new inode, and Postfix names a
 * file after its inode: the same message comes back under a new queue id
 * (issue 9, finding 3). The ledger keeps each parked message's fingerprint
 * beside its queue id, so that reconcile can find it again (ledger.h).
 *
 * The fingerprint covers what the queue file keeps and a copy does not
 * change: the arrival time to the microsecond, the create time, the
 * content size, the sender and the pending recipients. Each field is
 * written with its length, so no two field lists hash alike. SHA-256,
 * cut to 128 bits: a collision by chance is out of reach, and a sender
 * who wanted one would have to match a message already parked to the
 * microsecond of its arrival.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "ebb/msg.h"

/* field - one length-prefixed field into the digest */
static int
field(EVP_MD_CTX *ctx, const char *s)
{
	char	 len[24];
	size_t	 n = strlen(s);
	int	 k;

	k = snprintf(len, sizeof(len), "%zu:", n);
	return EVP_DigestUpdate(ctx, len, (size_t)k) == 1 &&
	    EVP_DigestUpdate(ctx, s, n) == 1 ? 0 : -1;
}

int
msg_fingerprint(const struct msg *m, char fp[MSG_FP_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	EVP_MD_CTX	*ctx;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		 head[128];
	uint32_t	 i;
	int		 ok;

	if ((m->flags & MSG_F_UNREADABLE) || m->arrival_time <= 0 ||
	    m->sender == NULL || (m->nrcpt > 0 && m->rcpt == NULL))
		return -1;
	(void)snprintf(head, sizeof(head), "ebb-fp 1 %lld.%06u %lld %llu %u",
	    (long long)m->arrival_time, (unsigned)m->arrival_usec,
	    (long long)m->create_time, (unsigned long long)m->size,
	    (unsigned)m->nrcpt);
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    field(ctx, head) == 0 && field(ctx, m->sender) == 0;
	for (i = 0; ok && i < m->nrcpt; i++)
		ok = m->rcpt[i] != NULL && field(ctx, m->rcpt[i]) == 0;
	ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 &&
	    mdlen * 2 >= MSG_FP_LEN;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	for (i = 0; i < MSG_FP_LEN / 2; i++) {
		fp[2 * i] = digits[md[i] >> 4];
		fp[2 * i + 1] = digits[md[i] & 0x0f];
	}
	fp[MSG_FP_LEN] = '\0';
	return 0;
}

int
msg_fingerprint_valid(const char *fp)
{
	size_t	 i;

	for (i = 0; i < MSG_FP_LEN; i++)
		if (!((fp[i] >= '0' && fp[i] <= '9') ||
		    (fp[i] >= 'a' && fp[i] <= 'f')))
			return 0;
	return fp[MSG_FP_LEN] == '\0';
}
