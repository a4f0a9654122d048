/*
 * cmd_failsafe.c - ebbctl failsafe: give back everything ebb parked
 *
 * For when ebb is not coming back (ebbd gone, a drain abandoned): after
 * reconciling the ledger with the queue, release every message the ledger
 * says ebb parked, earliest deadline first, in batches and without pacing.
 * A held message the ledger does not know is released too when it
 * carries ebb's proof of the hold (proof.h: a milter hold whose notice
 * was lost when ebbd stopped); it is recorded first. Released mail
 * returns to the deferred queue with its own retry time and the MTA
 * delivers it on its own schedule; nothing is kicked. An administrator's
 * own holds are never touched, and each message left in hold is listed
 * with the reason. Takes the drain lock, so it does not race a drain:
 * when ebbd holds the lock, ebbd is asked over the control socket to
 * release everything and stop; while a one-shot drain holds it, failsafe
 * exits 75.
 */
#include "config.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <jansson.h>

#include "ebb/config.h"
#include "ebb/drain.h"
#include "ebb/governor.h"
#include "ebb/ledger.h"
#include "ebb/log.h"
#include "ebb/mta.h"
#include "ebb/proof.h"
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

/* count - an integer member of o, 0 when missing */
static long long
count(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/*
 * report - print what the failsafe did (o: drain_failsafe_json's
 * members) as text or as the object itself; the exit status
 */
static int
report(const struct ebbctl *ctl, json_t *o, int by_ebbd)
{
	json_t		*k;
	size_t		 i;
	long long	 stuck = count(o, "stuck"), more;

	if (ctl->json) {
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		return stuck > 0 ? EX_TEMPFAIL : 0;
	}
	if (by_ebbd)
		printf("failsafe: ebbd released %lld messages ebb had parked "
		    "and is stopping\n", count(o, "released"));
	else
		printf("failsafe: released %lld messages ebb had parked (%lld "
		    "past their deadline)\n", count(o, "released"),
		    count(o, "expired"));
	if (count(o, "adopted") > 0)
		printf("failsafe: %lld of them held by ebb's milter, with its "
		    "proof and no ledger row\n", count(o, "adopted"));
	json_array_foreach(json_object_get(o, "kept"), i, k)
		printf("failsafe: %s stays in hold: %s\n",
		    json_string_value(json_object_get(k, "queue_id")),
		    json_string_value(json_object_get(k, "why")));
	more = count(o, "kept_total") -
	    (long long)json_array_size(json_object_get(o, "kept"));
	if (more > 0)
		printf("failsafe: and %lld more stay in hold (ebbctl list "
		    "--queue hold)\n", more);
	if (stuck > 0)
		printf("failsafe: %lld messages stay parked: the MTA did not "
		    "release them; run failsafe again once their queue files "
		    "are repaired\n", stuck);
	return stuck > 0 ? EX_TEMPFAIL : 0;
}

static int
cmd_failsafe_exec(struct ebbctl *ctl, int argc, char **argv)
{
	struct drain_opts opts = { 0 };
	struct drain_status st;
	struct proof_key key;
	struct mta	*mta = NULL;
	struct ledger	*ledger = NULL;
	struct drain	*d = NULL;
	json_t		*o;
	char		*err = NULL;
	pid_t		 scanner = 0;
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
		if ((rc = control_failsafe(ctl->cfg, &o)) == 0) {
			rc = report(ctl, o, 1);
			json_decref(o);
			return rc;
		}
		if (rc != CONTROL_NOT_RUNNING)
			return rc;
		log_warn("a drain is running (lock %s/drain.lock): stop it "
		    "first", ctl->cfg->state_directory);
		return EX_TEMPFAIL;
	default:
		goto fail;
	}
	/* without the key, what the ledger knows is still released */
	(void)cmd_proof_key(ctl->cfg, &key, &opts);
	if (ledger_open(ctl->cfg->state_directory, &ledger, &err) == -1)
		goto fail;
	/* as root, the queue files are read by a scanner, as in ebbd */
	scanner = cmd_scanner(ctl->cfg, opts.proof_key, lockfd, &mta);

	opts.failsafe = 1;
	d = drain_new(ctl->cfg, mta, ledger, &opts);
	if (drain_start(d, time(NULL), &err) == -1)
		goto fail;
	drain_ledger_warn(d);
	if (drain_release_all(d, time(NULL), &err) == -1)
		goto fail;
	drain_status(d, &st);
	log_info("failsafe: released %zu messages ebb had parked "
	    "(%zu past their deadline); %zu held by the administrator stay "
	    "held", st.released, st.expired, st.admin_held);
	o = drain_failsafe_json(d, SIZE_MAX);
	rc = report(ctl, o, 0);
	json_decref(o);
	goto out;
fail:
	log_err("failsafe: %s", err);
	free(err);
out:
	drain_free(&d);
	ledger_close(&ledger);
	ledger_unlock(&lockfd);
	mta_close(&mta);
	cmd_scanner_end(scanner);
	return rc;
}
