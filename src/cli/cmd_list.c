/*
 * cmd_list.c - ebbctl list: the queued messages, one per row
 *
 * ebbctl [--json] list [--queue Q] [--sort deadline|age|size] [--limit N]
 *
 * Scans the MTA's queue (no daemon needed) and prints each message: queue
 * id and its mark, queue, age, time left until the MTA bounces it
 * ("expired" when the deadline has passed), size, sender ("<>" for the null
 * sender) and the first recipient with the count of the others. The marks
 * are postqueue's where ebb has one: "*" on its way out (the leaving role:
 * Postfix's incoming and active), "!" held by the administrator, and "~"
 * parked by ebb, which releases it itself. --sort deadline (the default) is
 * ebb's release order: earliest deadline first, ties to the older message;
 * age is oldest first; size is largest first. --queue takes a queue as the
 * MTA names it (incoming, active, deferred, hold) or all. The table ends
 * with a total line, "-- N messages, SIZE; * N active, ~ N parked by ebb,
 * ! N held by the admin" counting every message the filter kept, also
 * those --limit leaves out; an empty queue is the header
 * and "-- queue is empty". With --json, one object per line, like
 * "postqueue -j", with the fields DESIGN.md fixes, and no total.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ebb/config.h"
#include "ebb/drain.h"
#include "ebb/duration.h"
#include "ebb/index.h"
#include "ebb/ledger.h"
#include "ebb/log.h"
#include "ebb/msg.h"
#include "ebb/mta.h"
#include "ebb/util.h"
#include "cmd.h"
#include "fmt.h"

static int	cmd_list_exec(struct ebbctl *, int, char **);

const struct ebbctl_cmd cmd_list_entry = {
	"list", "[--queue Q] [--sort deadline|age|size] [--limit N]",
	"the queued messages, earliest deadline first",
	"  --queue Q    one queue as the MTA names it, or all (the default)\n"
	"  --sort deadline|age|size\n"
	"               earliest deadline first (the default), oldest first,\n"
	"               or largest first\n"
	"  --limit N    the first N messages only; the total counts all\n"
	"  --json       one JSON object per message, like postqueue -j\n"
	"marks after the queue id: * on its way out (active),\n"
	"~ parked by ebb, ! held by the administrator\n",
	cmd_list_exec
};

enum list_sort { LIST_SORT_DEADLINE, LIST_SORT_AGE, LIST_SORT_SIZE };

/* list_by_deadline - EDF; ties go to the older message, then the id */
static int
list_by_deadline(const void *a, const void *b)
{
	const struct msg *x = *(const struct msg *const *)a;
	const struct msg *y = *(const struct msg *const *)b;

	if (x->deadline != y->deadline)
		return x->deadline < y->deadline ? -1 : 1;
	if (x->arrival_time != y->arrival_time)
		return x->arrival_time < y->arrival_time ? -1 : 1;
	return strcmp(x->queue_id, y->queue_id);
}

/* list_by_age - oldest first */
static int
list_by_age(const void *a, const void *b)
{
	const struct msg *x = *(const struct msg *const *)a;
	const struct msg *y = *(const struct msg *const *)b;

	if (x->arrival_time != y->arrival_time)
		return x->arrival_time < y->arrival_time ? -1 : 1;
	return strcmp(x->queue_id, y->queue_id);
}

/* list_by_size - largest first */
static int
list_by_size(const void *a, const void *b)
{
	const struct msg *x = *(const struct msg *const *)a;
	const struct msg *y = *(const struct msg *const *)b;

	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strcmp(x->queue_id, y->queue_id);
}

/*
 * list_mark_parked - set parked_by_ebb from ebb's ledger in [general]
 * state_directory; no ledger there means ebb has parked nothing. The ledger
 * is only read, never created.
 */
static int
list_mark_parked(const struct config *cfg, struct mta *mta, struct index *ix,
    char **err_r)
{
	struct ledger	*ledger = NULL;
	int		 rc;

	if (ledger_open_existing(cfg->state_directory, &ledger, err_r) == -1)
		return -1;
	rc = drain_mark_parked(ledger, mta, ix, err_r);
	ledger_close(&ledger);
	return rc;
}

/*
 * list_print_table - the header, the first n of v, then the total line
 * over all nall messages of v
 */
static void
list_print_table(struct mta *mta, struct msg **v, size_t n, size_t nall,
    int queue, time_t now)
{
	char		 size[FMT_BUFSZ];
	size_t		 i, count[3] = { 0, 0, 0 };
	const char	*sep;
	uint64_t	 bytes = 0;

	fmt_msg_table(mta, (const struct msg *const *)v, n, now);
	if (nall == 0) {
		if (queue < 0)
			printf("-- queue is empty\n");
		else
			printf("-- the %s queue is empty\n",
			    mta_queue_name(mta, queue));
		return;
	}
	for (i = 0; i < nall; i++) {
		bytes += v[i]->size;
		switch (fmt_mark(mta, v[i])) {
		case '*':
			count[0]++;
			break;
		case '~':
			count[1]++;
			break;
		case '!':
			count[2]++;
			break;
		}
	}
	fmt_size(bytes, size, sizeof(size));
	printf("-- ");
	if (n < nall)
		printf("%zu of ", n);
	printf("%zu message%s, %s%s", nall, nall == 1 ? "" : "s", size,
	    bytes < 10000 ? " bytes" : "");
	sep = "; ";
	if (count[0] > 0) {
		printf("%s* %zu active", sep, count[0]);
		sep = ", ";
	}
	if (count[1] > 0) {
		printf("%s~ %zu parked by ebb", sep, count[1]);
		sep = ", ";
	}
	if (count[2] > 0)
		printf("%s! %zu held by the admin", sep, count[2]);
	printf("\n");
}

static int
cmd_list_exec(struct ebbctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "queue",	required_argument,	NULL, 'q' },
		{ "sort",	required_argument,	NULL, 's' },
		{ "limit",	required_argument,	NULL, 'l' },
		{ "json",	no_argument,		NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	int		(*cmp)(const void *, const void *) = list_by_deadline;
	struct scan_stats st;
	struct index	*ix = NULL;
	struct mta	*mta = NULL;
	struct msg	**v = NULL;
	size_t		 n = 0, nall, i, k, limit = 0;
	char		*err = NULL, *end;
	long		 l;
	int		 ch, queue = -1, json = ctl->json, rc = 1;

	while ((ch = getopt_long(argc, argv, "+q:s:l:j", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'q':
			if (strcmp(optarg, "all") == 0)
				queue = -1;
			else if ((queue = mta_queue_lookup_cfg(ctl->cfg,
			    optarg)) < 0)
				return cmd_usage_error(&cmd_list_entry,
				    "unknown queue \"%s\"", optarg);
			break;
		case 's':
			if (strcmp(optarg, "deadline") == 0)
				cmp = list_by_deadline;
			else if (strcmp(optarg, "age") == 0)
				cmp = list_by_age;
			else if (strcmp(optarg, "size") == 0)
				cmp = list_by_size;
			else
				return cmd_usage_error(&cmd_list_entry,
				    "--sort takes deadline, age or size, "
				    "not \"%s\"", optarg);
			break;
		case 'l':
			l = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || l < 1)
				return cmd_usage_error(&cmd_list_entry,
				    "--limit takes a positive number, not "
				    "\"%s\"", optarg);
			limit = (size_t)l;
			break;
		case 'j':
			json = 1;
			break;
		default:
			return cmd_usage_error(&cmd_list_entry,
			    "unknown option \"%s\"", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cmd_usage_error(&cmd_list_entry,
		    "unexpected argument \"%s\"", argv[optind]);

	if (mta_open(ctl->cfg, &mta, &err) < 0)
		goto fail;
	ix = index_new();
	if (mta_scan_cached(mta, ctl->cfg, ix, &st, &err) < 0)
		goto fail;
	if (st.corrupt > 0)
		log_warn("%zu queue file%s skipped (corrupt or truncated)",
		    st.corrupt, st.corrupt == 1 ? "" : "s");
	if (list_mark_parked(ctl->cfg, mta, ix, &err) < 0)
		goto fail;
	v = index_collect(ix, &n);
	for (i = k = 0; i < n; i++)
		if ((v[i]->flags & MSG_F_UNREADABLE) == 0 &&
		    (queue < 0 || v[i]->queue == queue))
			v[k++] = v[i];
	nall = n = k;
	qsort(v, n, sizeof(*v), cmp);
	if (limit > 0 && n > limit)
		n = limit;
	if (json) {
		for (i = 0; i < n; i++) {
			json_t	*o = fmt_msg_json(mta, v[i]);

			json_dumpf(o, stdout, JSON_COMPACT);
			putchar('\n');
			json_decref(o);
		}
	} else
		list_print_table(mta, v, n, nall, queue, time(NULL));
	if (fflush(stdout) != 0) {
		err = xstrdup("write error on standard output");
		goto fail;
	}
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "ebbctl list: %s\n", err);
out:
	free(err);
	free(v);
	index_free(&ix);
	mta_close(&mta);
	return rc;
}
