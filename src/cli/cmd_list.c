/*
 * cmd_list.c - ebbctl list: the queued messages, one per row
 *
 * ebbctl [--json] list [--queue Q] [--sort deadline|age|size] [--limit N]
 *     [--scan]
 *
 * Asks ebbd, which holds an index of the queue, for the messages (the
 * control command "list", control.h; ebbd applies the filter, the order
 * and the limit); when ebbd is not running, does not answer in time, or
 * cannot fit the answer in one reply, scans the MTA's queue itself and
 * says so on stderr. --scan scans without asking. Either way the messages
 * are chosen by listing_select and printed from the same struct msg, so
 * the output is the same.
 *
 * It prints each message: queue id and its mark, queue, age, time left
 * until the MTA bounces it
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
#include "ebb/control.h"
#include "ebb/drain.h"
#include "ebb/duration.h"
#include "ebb/index.h"
#include "ebb/ledger.h"
#include "ebb/listing.h"
#include "ebb/log.h"
#include "ebb/msg.h"
#include "ebb/mta.h"
#include "ebb/util.h"
#include "cmd.h"
#include "control_client.h"
#include "fmt.h"

static int	cmd_list_exec(struct ebbctl *, int, char **);

const struct ebbctl_cmd cmd_list_entry = {
	"list", "[--queue Q] [--sort deadline|age|size] [--limit N] [--scan]",
	"the queued messages, earliest deadline first",
	"  --queue Q    one queue as the MTA names it, or all (the default)\n"
	"  --sort deadline|age|size\n"
	"               earliest deadline first (the default), oldest first,\n"
	"               or largest first\n"
	"  --limit N    the first N messages only; the total counts all\n"
	"  --scan       scan the queue, without asking ebbd\n"
	"  --json       one JSON object per message, like postqueue -j\n"
	"marks after the queue id: * on its way out (active),\n"
	"~ parked by ebb, ! held by the administrator\n",
	cmd_list_exec
};

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
 * list_print_table - the header, v[0..n), then the total line over all
 * the messages the filter kept (sum)
 */
static void
list_print_table(struct mta *mta, struct msg **v, size_t n,
    const struct listing_summary *sum, int queue, time_t now)
{
	char		 size[FMT_BUFSZ];
	const char	*sep;

	fmt_msg_table(mta, (const struct msg *const *)v, n, now);
	if (sum->count == 0) {
		if (queue < 0)
			printf("-- queue is empty\n");
		else
			printf("-- the %s queue is empty\n",
			    mta_queue_name(mta, queue));
		return;
	}
	fmt_size(sum->bytes, size, sizeof(size));
	printf("-- ");
	if (n < sum->count)
		printf("%zu of ", n);
	printf("%zu message%s, %s%s", sum->count, sum->count == 1 ? "" : "s",
	    size, sum->bytes < 10000 ? " bytes" : "");
	sep = "; ";
	if (sum->active > 0) {
		printf("%s* %zu active", sep, sum->active);
		sep = ", ";
	}
	if (sum->parked > 0) {
		printf("%s~ %zu parked by ebb", sep, sum->parked);
		sep = ", ";
	}
	if (sum->admin > 0)
		printf("%s! %zu held by the admin", sep, sum->admin);
	printf("\n");
}

/* list_size - a count member of ebbd's answer, or -1 */
static long long
list_size(json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) >= 0 ?
	    (long long)json_integer_value(v) : -1;
}

/*
 * list_from_ebbd - ebbd's messages into ix and its summary into *sum.
 * Returns 0, or -1 and *why_r (allocated) when ebbd did not answer all
 * that was asked or answered something malformed.
 */
static int
list_from_ebbd(struct ebbctl *ctl, struct mta *mta, const char *queue,
    int sort, size_t limit, struct index *ix, struct listing_summary *sum,
    char **why_r)
{
	struct control_request r;
	struct msg	 m;
	json_t		*o, *a, *v;
	long long	 c[5];
	size_t		 i;
	int		 rc = -1;

	memset(&r, 0, sizeof(r));
	r.command = CONTROL_LIST;
	ebb_strlcpy(r.queue, queue, sizeof(r.queue));
	r.order = sort;
	r.count = (long)MINIMUM(limit, CONTROL_LIMIT_MAX);
	if (control_query(ctl->cfg, &r, &o, why_r) == -1)
		return -1;
	a = json_object_get(o, "messages");
	c[0] = list_size(o, "total");
	c[1] = list_size(o, "bytes");
	c[2] = list_size(o, "active");
	c[3] = list_size(o, "parked");
	c[4] = list_size(o, "admin");
	if (!json_is_array(a) || c[0] < 0 || c[1] < 0 || c[2] < 0 ||
	    c[3] < 0 || c[4] < 0) {
		*why_r = xstrdup("ebbd's answer is malformed");
		goto out;
	}
	if (json_is_true(json_object_get(o, "truncated"))) {
		*why_r = xasprintf("ebbd's answer holds %zu of the %lld "
		    "messages (at most %d fit in one)", json_array_size(a),
		    limit > 0 && (long long)limit < c[0] ? (long long)limit :
		    c[0], CONTROL_LIST_MAX);
		goto out;
	}
	json_array_foreach(a, i, v) {
		if (listing_msg_parse(mta, v, &m, why_r) == -1)
			goto out;
		index_put(ix, &m, NULL);
		listing_msg_clear(&m);
	}
	sum->count = (size_t)c[0];
	sum->bytes = (uint64_t)c[1];
	sum->active = (size_t)c[2];
	sum->parked = (size_t)c[3];
	sum->admin = (size_t)c[4];
	rc = 0;
out:
	json_decref(o);
	return rc;
}

static int
cmd_list_exec(struct ebbctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "queue",	required_argument,	NULL, 'q' },
		{ "sort",	required_argument,	NULL, 's' },
		{ "limit",	required_argument,	NULL, 'l' },
		{ "scan",	no_argument,		NULL, 'S' },
		{ "json",	no_argument,		NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct listing_summary sum, ignored;
	struct scan_stats st;
	struct index	*ix = NULL;
	struct mta	*mta = NULL;
	struct msg	**v = NULL;
	const char	*qname = "";
	size_t		 n = 0, i, limit = 0;
	char		*err = NULL, *why = NULL, *end;
	long		 l;
	int		 ch, queue = -1, sort = LISTING_SORT_DEADLINE;
	int		 json = ctl->json, scan = 0, rc = 1;

	while ((ch = getopt_long(argc, argv, "+q:s:l:j", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'q':
			if (strcmp(optarg, "all") == 0) {
				queue = -1;
				qname = "";
			} else if ((queue = mta_queue_lookup_cfg(ctl->cfg,
			    optarg)) < 0)
				return cmd_usage_error(&cmd_list_entry,
				    "unknown queue \"%s\"", optarg);
			else
				qname = optarg;
			break;
		case 's':
			if ((sort = listing_sort_lookup(optarg)) < 0)
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
		case 'S':
			scan = 1;
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
	if (!scan) {
		if (list_from_ebbd(ctl, mta, qname, sort, limit, ix, &sum,
		    &why) == 0) {
			/* ebbd chose them: put them in its order again */
			v = listing_select(ix, mta, queue, sort, 0, &n,
			    &ignored);
			goto print;
		}
		cmd_scan_note(&cmd_list_entry, why);
		free(why);
		index_free(&ix);
		ix = index_new();
	}
	if (mta_scan_cached(mta, ctl->cfg, ix, &st, &err) < 0)
		goto fail;
	if (st.corrupt > 0)
		log_warn("%zu queue file%s skipped (corrupt or truncated)",
		    st.corrupt, st.corrupt == 1 ? "" : "s");
	if (list_mark_parked(ctl->cfg, mta, ix, &err) < 0)
		goto fail;
	v = listing_select(ix, mta, queue, sort, limit, &n, &sum);
print:
	if (json) {
		for (i = 0; i < n; i++) {
			json_t	*o = fmt_msg_json(mta, v[i]);

			json_dumpf(o, stdout, JSON_COMPACT);
			putchar('\n');
			json_decref(o);
		}
	} else
		list_print_table(mta, v, n, &sum, queue, time(NULL));
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
