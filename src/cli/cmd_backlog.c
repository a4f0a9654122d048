/*
 * cmd_backlog.c - ebbctl backlog: the queue as a qshape-like table
 *
 * ebbctl [--json] backlog [--queue Q] [--by rcpt-domain|sender-domain]
 *     [--top N]
 *
 * Scans the MTA's queue (no daemon needed) and prints one row per domain
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

#include "ebb/backlog.h"
#include "ebb/index.h"
#include "ebb/log.h"
#include "ebb/msg.h"
#include "ebb/mta.h"
#include "ebb/util.h"
#include "cmd.h"

static int	cmd_backlog_exec(struct ebbctl *, int, char **);

const struct ebbctl_cmd cmd_backlog_entry = {
	"backlog", "[--queue Q] [--by rcpt-domain|sender-domain] [--top N]",
	"the backlog by domain, age and time to deadline (like qshape)",
	"  --queue Q    one queue as the MTA names it, or all (the default)\n"
	"  --by rcpt-domain|sender-domain\n"
	"               rows by recipient domain (the default) or sender's\n"
	"  --top N      the N largest domains only; TOTAL counts all\n"
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

static int
cmd_backlog_exec(struct ebbctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "queue",	required_argument,	NULL, 'q' },
		{ "by",		required_argument,	NULL, 'b' },
		{ "top",	required_argument,	NULL, 't' },
		{ "json",	no_argument,		NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct backlog_filter f = { NULL, -1 };
	struct scan_stats st;
	struct index	*ix = NULL;
	struct mta	*mta = NULL;
	size_t		 top = 0;
	char		*err = NULL, *end, *s;
	long		 l;
	int		 ch, by = BACKLOG_BY_RCPT_DOMAIN, json = ctl->json;
	int		 rc = 1;

	while ((ch = getopt_long(argc, argv, "+q:b:t:j", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'q':
			if (strcmp(optarg, "all") == 0)
				f.queue = -1;
			else if ((f.queue = mta_queue_lookup_cfg(ctl->cfg,
			    optarg)) < 0)
				return cmd_usage_error(&cmd_backlog_entry,
				    "unknown queue \"%s\"", optarg);
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

	if (mta_open(ctl->cfg, &mta, &err) < 0)
		goto fail;
	ix = index_new();
	memset(&st, 0, sizeof(st));
	if (mta_scan_cached(mta, ctl->cfg, ix, &st, &err) < 0)
		goto fail;
	if (st.corrupt > 0)
		log_warn("%zu queue file%s skipped (corrupt or truncated)",
		    st.corrupt, st.corrupt == 1 ? "" : "s");
	f.b = backlog_new(by, time(NULL));
	index_foreach(ix, backlog_one, &f);
	if (json) {
		s = backlog_json(f.b, top);
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
	backlog_free(&f.b);
	index_free(&ix);
	mta_close(&mta);
	return rc;
}
