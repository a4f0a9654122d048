/*
 * fuzz_remote.c - libFuzzer target for what ebbd's parent takes from its
 * scanner (mta_remote.h)
 *
 * The scanner is the process that parses the internet's queue files; the
 * parent must survive whatever it sends. The input's first byte chooses
 * the question (bit 0: a scan, with no id, or the refresh of 3F1C2A7B);
 * the rest is a sequence of frames, each a 2-byte length (little-endian)
 * and that many bytes, applied in turn until one is the last or is
 * refused. Afterwards every message in the index must have a queue id
 * and a queue in range, a refresh may have left no other id, and a
 * result's error text must be a string. The seed corpus (corpus/remote/)
 * holds a scan of three messages, a refresh and a "gone".
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ebb/index.h"
#include "ebb/msg.h"
#include "ebb/mta_remote.h"
#include "ebb/util.h"

#define ID	"3F1C2A7B"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct check {
	const char	*only;		/* the refreshed id, or NULL */
};

static int
check_one(struct msg *m, void *arg)
{
	struct check	*c = arg;

	if (!ebb_queue_id_valid(m->queue_id) || m->queue >= MSG_QUEUE_MAX ||
	    m->sender == NULL || (m->nrcpt > 0 && m->rcpt == NULL))
		abort();
	if (c->only != NULL && strcmp(m->queue_id, c->only) != 0 &&
	    strcmp(m->queue_id, "OLD1") != 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mta_remote_end end;
	struct check	 c;
	struct index	*ix;
	struct msg	 old;
	const char	*why = NULL, *id;
	size_t		 off, n, removed = 0;
	int		 rc = 0;

	if (size == 0)
		return 0;
	id = (data[0] & 1) ? ID : NULL;
	ix = index_new();
	/* one entry there before: a refresh may only touch its own id */
	memset(&old, 0, sizeof(old));
	ebb_strlcpy(old.queue_id, "OLD1", sizeof(old.queue_id));
	index_put(ix, &old, NULL);
	memset(&end, 0, sizeof(end));
	for (off = 1; off + 2 <= size && rc == 0; off += n) {
		n = (size_t)data[off] | (size_t)data[off + 1] << 8;
		off += 2;
		if (n == 0 || n > size - off)
			break;
		rc = mta_remote_frame(ix, id, data + off, n, NULL, &removed,
		    &end, &why);
	}
	if (rc == -1 && why == NULL)
		abort();
	if (rc == 1 && end.err != NULL && strlen(end.err) == 0)
		abort();
	if (rc == 1)
		free(end.err);
	c.only = id;
	index_foreach(ix, check_one, &c);
	if (removed > 1 || (id == NULL && removed != 0))
		abort();
	index_free(&ix);
	return 0;
}
