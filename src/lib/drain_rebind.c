/*
 * drain_rebind.c - a parked message under a new queue id is still ebb's
 *
 * Restoring a spool from a backup, or copying a queue file over itself,
 * gives each file a new inode, and Postfix renames a file whose name does
 * not match its inode: what ebb parked comes back under new queue ids,
 * and the ledger's ids are gone (issue 9, finding 3). The ledger keeps
 * each parked message's fingerprint (msg_fingerprint); at reconcile, the
 * rows whose message is gone come here, and a held message without a row
 * that has the same fingerprint takes the row over.
 *
 * Only when it is sure: the messages of one fingerprint are matched to
 * the gone rows of that fingerprint only when there are no more of them
 * than rows. Alike messages are then interchangeable, all of them ebb's.
 * One more held message than rows may be an administrator's hold of a
 * message just like them; the drain cannot tell which, so none of them is
 * taken, and each is named in the log to be checked by hand.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "ebb/index.h"
#include "ebb/ledger.h"
#include "ebb/log.h"
#include "ebb/util.h"
#include "drain_int.h"

/* a held message without a row, by its fingerprint */
struct cand {
	char		 fp[MSG_FP_LEN + 1];
	const char	*id;
};

struct cands {
	struct drain	*d;
	struct cand	*c;
	size_t		 n;
	size_t		 cap;
};

static int
collect_cand(struct msg *m, void *arg)
{
	struct cands	*cs = arg;

	if (m->parked_by_ebb || drain_role(cs->d, m) != MSG_ROLE_HELD)
		return 0;
	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? cs->cap * 2 : 64;
		cs->c = xreallocarray(cs->c, cs->cap, sizeof(*cs->c));
	}
	if (msg_fingerprint(m, cs->c[cs->n].fp) == 0)
		cs->c[cs->n++].id = m->queue_id;
	return 0;
}

static int
cand_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cand *)a)->fp,
	    ((const struct cand *)b)->fp);
}

static int
gone_cmp(const void *a, const void *b)
{
	return strcmp((*(struct ledger_gone *const *)a)->fp,
	    (*(struct ledger_gone *const *)b)->fp);
}

int
drain_rebind(void *arg, struct ledger_gone *gone, size_t n)
{
	struct drain	 *d = arg;
	struct cands	  cs = { d, NULL, 0, 0 };
	struct ledger_gone **g;
	size_t		  i = 0, j = 0, gi, cj, k;
	int		  c;

	index_foreach(d->ix, collect_cand, &cs);
	if (cs.n == 0) {
		free(cs.c);
		return 0;
	}
	qsort(cs.c, cs.n, sizeof(*cs.c), cand_cmp);
	g = xreallocarray(NULL, n, sizeof(*g));
	for (k = 0; k < n; k++)
		g[k] = &gone[k];
	qsort(g, n, sizeof(*g), gone_cmp);
	/* one run of each fingerprint on both sides */
	while (i < n && j < cs.n) {
		if ((c = strcmp(g[i]->fp, cs.c[j].fp)) < 0) {
			i++;
			continue;
		}
		if (c > 0) {
			j++;
			continue;
		}
		for (gi = i; gi < n && strcmp(g[gi]->fp, g[i]->fp) == 0; gi++)
			;
		for (cj = j; cj < cs.n && strcmp(cs.c[cj].fp, cs.c[j].fp) ==
		    0; cj++)
			;
		if (cj - j <= gi - i) {
			for (k = 0; k < cj - j; k++) {
				ebb_strlcpy(g[i + k]->new_id, cs.c[j + k].id,
				    sizeof(g[i + k]->new_id));
				d->rebound++;
			}
		} else {
			for (k = j; k < cj; k++)
				log_msg(LOG_WARNING, cs.c[k].id, "held, alike "
				    "to %zu messages ebb parked and lost "
				    "track of (%s...), among %zu alike: not "
				    "told apart from an administrator's "
				    "hold, not released: check by hand",
				    gi - i, g[i]->id, cj - j);
		}
		i = gi;
		j = cj;
	}
	free(g);
	free(cs.c);
	return 0;
}

int
drain_fingerprint(void *arg, const char *id, char fp[MSG_FP_LEN + 1])
{
	struct drain	*d = arg;
	struct msg	*m;

	if ((m = index_lookup(d->ix, id)) == NULL ||
	    drain_role(d, m) != MSG_ROLE_HELD)
		return 1;
	return msg_fingerprint(m, fp) == 0 ? 0 : 1;
}
