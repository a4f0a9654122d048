/*
 * cmd_backlog.c - ebbctl backlog: the queue as a qshape-like table
 *
 * ebbctl [--json] backlog [--queue Q] [--by rcpt-domain|sender-domain]
 *     [--top N] [--scan]
 *
 * Asks ebbd for the table, counted from the index it holds (the control
 * command "backlog", control.h); when ebbd is not running, does not
 * answer in time, or cannot fit the rows asked for in one answer, scans
 * the MTA's queue itself and says so on stderr; --scan scans without
 * asking. Either way it prints from a struct backlog, so the same table;
 * --json adds "source" ("ebbd" or "scan") and, from ebbd, "index_age".
 * It prints one row per domain
 * (recipient domain by default, sender domain with --by sender-domain)
 * after a TOTAL row: how many messages are how old, as qshape's age
 * buckets, and beside them how long until they bounce. --queue takes a
 * queue as the MTA names it (Postfix: incoming, active, deferred, hold) or all (the
 * default); --top N shows the N largest domains only (TOTAL still counts
 * all). The rules, and why ebb counts messages where qshape counts
 * recipients, are in include/ebb/backlog.h. With --json, one object.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ebb/backlog.h"
#include "ebb/control.h"
#include "ebb/index.h"
#include "ebb/log.h"
#include "ebb/msg.h"
#include "ebb/mta.h"
#include "ebb/util.h"
#include "cmd.h"
#include "control_client.h"

static int	cmd_backlog_exec(struct ebbctl *, int, char **);

const struct ebbctl_cmd cmd_backlog_entry = {
	"backlog", "[--queue Q] [--by rcpt-domain|sender-domain] [--top N] "
	"[--scan]",
	"the backlog by domain, age and time to deadline (like qshape)",
	"  --queue Q    one queue as the MTA names it, or all (the default)\n"
	"  --by rcpt-domain|sender-domain\n"
	"               rows by recipient domain (the default) or sender's\n"
	"  --top N      the N largest domains only; TOTAL counts all\n"
	"  --scan       scan the queue, without asking ebbd\n"
	"  --json       one JSON object\n",
	cmd_backlog_exec
};

#define BACKLOG_TOP_MAX	1000000

struct backlog_filter {
	struct backlog	*b;
	int		 queue;		/* -1: all */
};

static int
backlog_one(struct msg *m, void *arg)
{
	struct backlog_filter *f = arg;

	/* an unreadable file is only an id: counted as corrupt, not shown */
	if ((m->flags & MSG_F_UNREADABLE) == 0 &&
	    (f->queue < 0 || m->queue == f->queue))
		backlog_add(f->b, m);
	return 0;
}

/*
 * backlog_from_ebbd - ebbd's table, or NULL and *why_r (allocated); its
 * index_age in *age_r
 */
static struct backlog *
backlog_from_ebbd(struct ebbctl *ctl, const char *queue, int by, size_t top,
    json_t **age_r, char **why_r)
{
	struct control_request r;
	struct backlog	*b = NULL;
	json_t		*o, *v;

	memset(&r, 0, sizeof(r));
	r.command = CONTROL_BACKLOG;
	ebb_strlcpy(r.queue, queue, sizeof(r.queue));
	r.order = by;
	r.count = (long)top;
	if (control_query(ctl->cfg, &r, &o, why_r) == -1)
		return NULL;
	v = json_object_get(o, "domains");
	if (json_is_true(json_object_get(o, "truncated")))
		*why_r = xasprintf("ebbd's answer holds %zu of the %lld "
		    "domains asked for (use --top)", json_array_size(
		    json_object_get(o, "rows")) - 1, top > 0 &&
		    (json_int_t)top < json_integer_value(v) ? (long long)top :
		    (long long)json_integer_value(v));
	else if ((b = backlog_from_json(o, why_r)) != NULL) {
		v = json_object_get(o, "index_age");
		*age_r = v != NULL ? json_incref(v) : json_null();
	}
	json_decref(o);
	return b;
}

static int
cmd_backlog_exec(struct ebbctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "queue",	required_argument,	NULL, 'q' },
		{ "by",		required_argument,	NULL, 'b' },
		{ "top",	required_argument,	NULL, 't' },
		{ "scan",	no_argument,		NULL, 'S' },
		{ "json",	no_argument,		NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct backlog_filter f = { NULL, -1 };
	struct scan_stats st;
	struct index	*ix = NULL;
	struct mta	*mta = NULL;
	json_t		*o, *age = NULL;
	const char	*qname = "";
	size_t		 top = 0;
	char		*err = NULL, *why = NULL, *end, *s;
	long		 l;
	int		 ch, by = BACKLOG_BY_RCPT_DOMAIN, json = ctl->json;
	int		 scan = 0, rc = 1;

	while ((ch = getopt_long(argc, argv, "+q:b:t:j", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'q':
			if (strcmp(optarg, "all") == 0) {
				f.queue = -1;
				qname = "";
			} else if ((f.queue = mta_queue_lookup_cfg(ctl->cfg,
			    optarg)) < 0)
				return cmd_usage_error(&cmd_backlog_entry,
				    "unknown queue \"%s\"", optarg);
			else
				qname = optarg;
			break;
		case 'b':
			if ((by = backlog_by_lookup(optarg)) < 0)
				return cmd_usage_error(&cmd_backlog_entry,
				    "--by takes rcpt-domain or sender-domain, "
				    "not \"%s\"", optarg);
			break;
		case 't':
			errno = 0;
			l = strtol(optarg, &end, 10);
			if (errno != 0 || *optarg == '\0' || *end != '\0' ||
			    l < 1 || l > BACKLOG_TOP_MAX)
				return cmd_usage_error(&cmd_backlog_entry,
				    "--top takes a positive number, not "
				    "\"%s\"", optarg);
			top = (size_t)l;
			break;
		case 'S':
			scan = 1;
			break;
		case 'j':
			json = 1;
			break;
		default:
			return cmd_usage_error(&cmd_backlog_entry,
			    "unknown option \"%s\"", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cmd_usage_error(&cmd_backlog_entry,
		    "unexpected argument \"%s\"", argv[optind]);

	if (!scan) {
		if ((f.b = backlog_from_ebbd(ctl, qname, by, top, &age,
		    &why)) == NULL) {
			cmd_scan_note(&cmd_backlog_entry, why);
			free(why);
		}
	}
	if (f.b == NULL) {
		if (mta_open(ctl->cfg, &mta, &err) < 0)
			goto fail;
		ix = index_new();
		memset(&st, 0, sizeof(st));
		if (mta_scan_cached(mta, ctl->cfg, ix, &st, &err) < 0)
			goto fail;
		if (st.corrupt > 0)
			log_warn("%zu queue file%s skipped (corrupt or "
			    "truncated)", st.corrupt, st.corrupt == 1 ? "" :
			    "s");
		f.b = backlog_new(by, time(NULL));
		index_foreach(ix, backlog_one, &f);
	}
	if (json) {
		o = backlog_to_json(f.b, top);
		json_object_set_new(o, "source", json_string(age != NULL ?
		    "ebbd" : "scan"));
		if (age != NULL)
			json_object_set(o, "index_age", age);
		s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
		if (s == NULL)
			log_fatal("out of memory");
		puts(s);
		free(s);
	} else
		backlog_print(f.b, top, stdout);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		err = xstrdup("write error on standard output");
		goto fail;
	}
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "ebbctl backlog: %s\n", err);
out:
	free(err);
	json_decref(age);
	backlog_free(&f.b);
	index_free(&ix);
	mta_close(&mta);
	return rc;
}
