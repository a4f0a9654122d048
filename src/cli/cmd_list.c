/*
 * cmd_list.c - ebbctl list: the queued messages, one per row
 *
 * ebbctl [--json] list [--queue Q] [--sort deadline|age|size] [--limit N]
 *
 * Scans the MTA's queue (no daemon needed) and prints each message: queue
 * id, queue, age, time left until the MTA bounces it ("expired" when the
 * deadline has passed), size, sender ("<>" for the null sender) and the
 * first recipient with the count of the others. --sort deadline (the
 * default) is ebb's release order: earliest deadline first, ties to the
 * older message; age is oldest first; size is largest first. --queue takes
 * a queue as the MTA names it (incoming, active, deferred, hold) or all.
 * With --json, one object per line, like "postqueue -j", with the fields
 * DESIGN.md fixes, and "reason" when the backend knows why the MTA
 * deferred the message (Sendmail's M line). An empty queue prints nothing
 * and exits 0.
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

static int	cmd_list_exec(struct ebbctl *, int, char **);

const struct ebbctl_cmd cmd_list_entry = {
	"list", "[--queue Q] [--sort deadline|age|size] [--limit N]",
	"the queued messages, earliest deadline first",
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

/* list_span - a duration in at most two units: "3d4h", "4h12m", "45s" */
static void
list_span(long secs, char *buf, size_t len)
{
	static const struct {
		long	 secs;
		char	 unit;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	size_t		 i;
	long		 hi, lo;

	if (secs < 0)
		secs = 0;
	for (i = 0; i + 1 < nitems(units) && secs < units[i].secs; i++)
		;
	hi = secs / units[i].secs;
	if (i + 1 < nitems(units) &&
	    (lo = secs % units[i].secs / units[i + 1].secs) > 0)
		snprintf(buf, len, "%ld%c%ld%c", hi, units[i].unit, lo,
		    units[i + 1].unit);
	else
		snprintf(buf, len, "%ld%c", hi, units[i].unit);
}

/* list_size - bytes as 812, 12K, 3.4M */
static void
list_size(uint64_t size, char *buf, size_t len)
{
	if (size < 10000)
		snprintf(buf, len, "%llu", (unsigned long long)size);
	else if (size < 10000000)
		snprintf(buf, len, "%lluK", (unsigned long long)size / 1024);
	else
		snprintf(buf, len, "%.1fM", size / 1048576.0);
}

/*
 * list_json_str - a JSON string for s; bytes that are not valid UTF-8
 * become "?" (postqueue prints non-printable bytes the same way)
 */
static json_t *
list_json_str(const char *s)
{
	json_t		*j;
	char		*copy;
	size_t		 i;

	if ((j = json_string(s)) != NULL)
		return j;
	copy = xstrdup(s);
	for (i = 0; copy[i] != '\0'; i++)
		if ((unsigned char)copy[i] >= 0x80)
			copy[i] = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static void
list_print_json(const struct mta *mta, const struct msg *m)
{
	json_t		*o, *rcpt;
	char		*s;
	uint32_t	 i;

	o = json_object();
	json_object_set_new(o, "queue_id", json_string(m->queue_id));
	json_object_set_new(o, "queue", json_string(mta_queue_name(mta, m->queue)));
	json_object_set_new(o, "arrival_time", json_integer(m->arrival_time));
	json_object_set_new(o, "create_time", json_integer(m->create_time));
	json_object_set_new(o, "deadline", json_integer(m->deadline));
	json_object_set_new(o, "next_retry", json_integer(m->next_retry));
	json_object_set_new(o, "size", json_integer((json_int_t)m->size));
	json_object_set_new(o, "sender", list_json_str(m->sender));
	rcpt = json_array();
	for (i = 0; i < m->nrcpt; i++)
		json_array_append_new(rcpt, list_json_str(m->rcpt[i]));
	json_object_set_new(o, "recipients", rcpt);
	json_object_set_new(o, "parked_by_ebb",
	    json_boolean(m->parked_by_ebb));
	if (m->reason != NULL)
		json_object_set_new(o, "reason", list_json_str(m->reason));
	if ((s = json_dumps(o, JSON_COMPACT)) != NULL) {
		puts(s);
		free(s);
	}
	json_decref(o);
}

static void
list_print_table(const struct mta *mta, struct msg **v, size_t n, time_t now)
{
	char		 age[32], left[32], size[32], more[32];
	size_t		 i, wid = 8, wsender = 6;
	const struct msg *m;

	for (i = 0; i < n; i++) {
		wid = MAXIMUM(wid, strlen(v[i]->queue_id));
		wsender = MAXIMUM(wsender, MINIMUM(strlen(v[i]->sender),
		    (size_t)40));
	}
	printf("%-*s %-8s %6s %8s %6s %-*s %s\n", (int)wid, "QUEUE_ID",
	    "QUEUE", "AGE", "DEADLINE", "SIZE", (int)wsender, "SENDER",
	    "RECIPIENT");
	for (i = 0; i < n; i++) {
		m = v[i];
		list_span((long)(now - m->arrival_time), age, sizeof(age));
		if (m->deadline <= now)
			ebb_strlcpy(left, "expired", sizeof(left));
		else
			list_span((long)(m->deadline - now), left,
			    sizeof(left));
		list_size(m->size, size, sizeof(size));
		more[0] = '\0';
		if (m->nrcpt > 1)
			snprintf(more, sizeof(more), " +%u", m->nrcpt - 1);
		printf("%-*s %-8s %6s %8s %6s %-*s %s%s\n", (int)wid,
		    m->queue_id, mta_queue_name(mta, m->queue), age, left, size,
		    (int)wsender, m->sender[0] != '\0' ? m->sender : "<>",
		    m->nrcpt > 0 ? m->rcpt[0] : "-", more);
	}
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
	size_t		 n = 0, i, k, limit = 0;
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
	if (mta_scan(mta, ix, &st, &err) < 0)
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
	n = k;
	qsort(v, n, sizeof(*v), cmp);
	if (limit > 0 && n > limit)
		n = limit;
	if (json) {
		for (i = 0; i < n; i++)
			list_print_json(mta, v[i]);
	} else if (n > 0)
		list_print_table(mta, v, n, time(NULL));
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
