/*
 * cmd_adopt.c - ebbctl adopt --proven: record what ebb held, by its proof
 *
 * The way back from a lost ledger (deleted, truncated, or moved aside
 * because it was damaged): every held message that carries ebb's proof
 * of the hold (proof.h) and has no open ledger row is recorded as ebb's,
 * parked, with the deadline its queue file gives, so that ebbd, "ebbctl
 * drain" or "ebbctl failsafe" releases it. Nothing is parked, released
 * or kicked; a second run finds nothing more to record. What carries no
 * proof (the administrator's holds, and what ebb's drain parked, which
 * no header can mark) stays held and unrecorded. Takes the drain lock:
 * while ebbd runs it does this itself at each rescan.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ebb/config.h"
#include "ebb/drain.h"
#include "ebb/ledger.h"
#include "ebb/log.h"
#include "ebb/mta.h"
#include "ebb/proof.h"
#include "cmd.h"

static int	 cmd_adopt_exec(struct ebbctl *, int, char **);

const struct ebbctl_cmd cmd_adopt_entry = {
	"adopt", "--proven",
	"record in the ledger every held message with ebb's proof",
	"  --proven     adopt only what carries ebb's proof of the hold (the\n"
	"               only way there is; it must be said)\n",
	cmd_adopt_exec
};

static int
cmd_adopt_exec(struct ebbctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "proven",	no_argument,	NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	struct drain_opts opts = { 0 };
	struct drain_status st;
	struct proof_key key;
	struct mta	*mta = NULL;
	struct ledger	*ledger = NULL;
	struct drain	*d = NULL;
	char		*err = NULL;
	pid_t		 scanner = 0;
	int		 ch, proven = 0, lockfd = -1, rc = 1;

	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		if (ch != 'p')
			return cmd_usage_error(&cmd_adopt_entry,
			    "unknown option");
		proven = 1;
	}
	if (optind != argc)
		return cmd_usage_error(&cmd_adopt_entry, "takes no arguments");
	if (!proven)
		return cmd_usage_error(&cmd_adopt_entry, "ebb adopts only "
		    "what carries its proof: say --proven");
	if (mta_open(ctl->cfg, &mta, &err) == -1)
		goto fail;
	switch (ledger_lock(ctl->cfg->state_directory, "drain", &lockfd,
	    &err)) {
	case 0:
		break;
	case 1:
		log_warn("ebbd or a drain is running (lock %s/drain.lock): "
		    "ebbd adopts what carries ebb's proof by itself; stop a "
		    "drain first", ctl->cfg->state_directory);
		mta_close(&mta);
		return EX_TEMPFAIL;
	default:
		goto fail;
	}
	switch (cmd_proof_key(ctl->cfg, &key, &opts)) {
	case 0:
		break;
	case 1:
		log_err("adopt: no key in %s/%s: nothing can be shown to be "
		    "ebb's (ebbd makes it at its first start)",
		    ctl->cfg->state_directory, PROOF_KEY_FILE);
		goto out;
	default:
		goto out;		/* said why */
	}
	if (ledger_open(ctl->cfg->state_directory, &ledger, &err) == -1)
		goto fail;
	/* as root, the queue files are read by a scanner, as in ebbd */
	scanner = cmd_scanner(ctl->cfg, opts.proof_key, lockfd, &mta);
	/* a failsafe drain's start parks nothing and reads every proof */
	opts.failsafe = 1;
	opts.proof_all = 1;
	d = drain_new(ctl->cfg, mta, ledger, &opts);
	if (drain_start(d, time(NULL), &err) == -1)
		goto fail;
	drain_ledger_warn(d);
	drain_status(d, &st);
	if (ctl->json)
		printf("{\"adopted\":%zu,\"parked\":%zu,\"unproven\":%zu}\n",
		    st.adopted, st.parked, st.unproven);
	else
		printf("adopt: %zu held messages recorded as ebb's by their "
		    "proof; %zu parked by ebb in all; %zu other held messages "
		    "are not shown to be ebb's and stay held\n", st.adopted,
		    st.parked, st.unproven);
	rc = 0;
	goto out;
fail:
	log_err("adopt: %s", err);
	free(err);
out:
	drain_free(&d);
	ledger_close(&ledger);
	ledger_unlock(&lockfd);
	mta_close(&mta);
	cmd_scanner_end(scanner);
	return rc;
}
