/*
 * cmd_failsafe.c - ebbctl failsafe: give back everything ebb parked
 *
 * For when ebb is not coming back (ebbd gone, a drain abandoned): after
 * reconciling the ledger with the queue, release every message the ledger
 * says ebb parked, earliest deadline first, in batches and without pacing.
 * Released mail returns to the deferred queue with its own retry time and
 * the MTA delivers it on its own schedule; nothing is kicked. An
 * administrator's own holds are never touched. Takes the drain lock, so it
 * does not race a drain: when ebbd holds the lock, ebbd is asked over the
 * control socket to release everything and stop; while a one-shot drain
 * holds it, failsafe exits 75.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ebb/config.h"
#include "ebb/drain.h"
#include "ebb/governor.h"
#include "ebb/ledger.h"
#include "ebb/log.h"
#include "ebb/mta.h"
#include "ebb/util.h"
#include "cmd.h"
#include "control_client.h"

static int	 cmd_failsafe_exec(struct ebbctl *, int, char **);

const struct ebbctl_cmd cmd_failsafe_entry = {
	"failsafe", "",
	"release everything ebb parked, at once (when ebb is gone)",
	"",
	cmd_failsafe_exec
};

static int
cmd_failsafe_exec(struct ebbctl *ctl, int argc, char **argv)
{
	struct drain_opts opts = { 0 };
	struct drain_status st;
	struct mta	*mta = NULL;
	struct ledger	*ledger = NULL;
	struct drain	*d = NULL;
	char		*err = NULL;
	int		 lockfd = -1, rc = 1;

	if (getopt(argc, argv, "") != -1 || optind != argc)
		return cmd_usage_error(&cmd_failsafe_entry,
		    "takes no arguments");
	if (mta_open(ctl->cfg, &mta, &err) == -1)
		goto fail;
	switch (ledger_lock(ctl->cfg->state_directory, "drain", &lockfd,
	    &err)) {
	case 0:
		break;
	case 1:
		/* ebbd or a drain holds the lock: ebbd can give it all back */
		mta_close(&mta);
		if ((rc = control_failsafe(ctl->cfg)) != CONTROL_NOT_RUNNING)
			return rc;
		log_warn("a drain is running (lock %s/drain.lock): stop it "
		    "first", ctl->cfg->state_directory);
		return EX_TEMPFAIL;
	default:
		goto fail;
	}
	if (ledger_open(ctl->cfg->state_directory, &ledger, &err) == -1)
		goto fail;

	opts.failsafe = 1;
	d = drain_new(ctl->cfg, mta, ledger, &opts);
	if (drain_start(d, time(NULL), &err) == -1)
		goto fail;
	if (drain_release_all(d, time(NULL), &err) == -1)
		goto fail;
	drain_status(d, &st);
	log_info("failsafe: released %zu messages ebb had parked "
	    "(%zu past their deadline); %zu held by the administrator stay "
	    "held", st.released, st.expired, st.admin_held);
	rc = 0;
	if (st.stuck > 0) {
		log_warn("failsafe: %zu messages stay parked: the MTA did not "
		    "release them (named above); run failsafe again once "
		    "their queue files are repaired", st.stuck);
		rc = EX_TEMPFAIL;
	}
	goto out;
fail:
	log_err("failsafe: %s", err);
	free(err);
out:
	drain_free(&d);
	ledger_close(&ledger);
	ledger_unlock(&lockfd);
	mta_close(&mta);
	return rc;
}
