/*
 * cmd_control.c - ebbctl pause, resume, rate, release, hold: steer ebbd
 *
 * ebbctl pause              no releases until resume (parking goes on)
 * ebbctl resume
 * ebbctl rate R|off         cap the release rate at R messages/s (the
 *                           governor may still go lower); off: no cap
 * ebbctl release ID...      release these messages ebb parked, now
 * ebbctl hold ID...         park these deferred messages, as ebb's
 *
 * Each is one request to ebbd's control socket (control.h); they take
 * effect within one release step. Queue ids are checked here first
 * (ebb_queue_id_valid) and again by ebbd. Exit 0; 64 on a usage error;
 * 69 (EX_UNAVAILABLE) when ebbd is not running; 1 when ebbd refused.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ebb/control.h"
#include "ebb/util.h"
#include "cmd.h"
#include "control_client.h"

static int	 cmd_control_exec(struct ebbctl *, int, char **);

const struct ebbctl_cmd cmd_pause_entry = {
	"pause", "", "stop releasing (ebbd keeps parking)", "",
	cmd_control_exec
};
const struct ebbctl_cmd cmd_resume_entry = {
	"resume", "", "release again after pause", "", cmd_control_exec
};
const struct ebbctl_cmd cmd_rate_entry = {
	"rate", "R|off", "cap ebbd's release rate at R messages/s",
	"  R            messages/s, a number above 0\n"
	"  off          no cap: the governor's rate\n",
	cmd_control_exec
};
const struct ebbctl_cmd cmd_release_entry = {
	"release", "ID...", "release messages ebb parked, now",
	"  ID...        queue ids, as ebbctl list shows them\n",
	cmd_control_exec
};
const struct ebbctl_cmd cmd_hold_entry = {
	"hold", "ID...", "park deferred messages (as ebb's)",
	"  ID...        queue ids, as ebbctl list shows them\n",
	cmd_control_exec
};

static const struct ebbctl_cmd *
entry_of(int command)
{
	switch (command) {
	case CONTROL_PAUSE:
		return &cmd_pause_entry;
	case CONTROL_RESUME:
		return &cmd_resume_entry;
	case CONTROL_RATE:
		return &cmd_rate_entry;
	case CONTROL_RELEASE:
		return &cmd_release_entry;
	default:
		return &cmd_hold_entry;
	}
}

/* call - one request; prints the answer (JSON or a line) */
static int
call(struct ebbctl *ctl, const struct control_request *r)
{
	json_t	*o;
	int	 rc;

	if ((rc = control_call(ctl->cfg, r, &o)) != 0)
		return rc;
	if (ctl->json) {
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
	} else if (r->command == CONTROL_PAUSE)
		printf("paused\n");
	else if (r->command == CONTROL_RESUME)
		printf("resumed\n");
	else if (r->command == CONTROL_RATE && r->rate > 0)
		printf("rate capped at %.1f messages/s\n", r->rate);
	else if (r->command == CONTROL_RATE)
		printf("rate cap removed\n");
	else
		printf("%s %zu\n", r->command == CONTROL_RELEASE ?
		    "released" : "parked", r->nids);
	json_decref(o);
	return 0;
}

static int
cmd_control_exec(struct ebbctl *ctl, int argc, char **argv)
{
	const struct ebbctl_cmd *cmd;
	struct control_request r;
	char		*end;
	int		 i, rc;

	memset(&r, 0, sizeof(r));
	if ((r.command = control_command_lookup(argv[0])) == -1)
		return 1;
	cmd = entry_of(r.command);
	argc--;
	argv++;
	switch (r.command) {
	case CONTROL_PAUSE:
	case CONTROL_RESUME:
		if (argc != 0)
			return cmd_usage_error(cmd, "takes no arguments");
		return call(ctl, &r);
	case CONTROL_RATE:
		if (argc != 1)
			return cmd_usage_error(cmd, "one rate, or \"off\"");
		if (strcmp(argv[0], "off") == 0)
			return call(ctl, &r);
		errno = 0;
		r.rate = strtod(argv[0], &end);
		if (errno != 0 || end == argv[0] || *end != '\0' ||
		    !isfinite(r.rate) || !(r.rate > 0) ||
		    r.rate > CONTROL_RATE_MAX)
			return cmd_usage_error(cmd, "\"%s\" is not a rate in "
			    "messages/s", argv[0]);
		return call(ctl, &r);
	default:
		break;
	}
	if (argc == 0)
		return cmd_usage_error(cmd, "no queue id");
	for (i = 0; i < argc; i++)
		if (strlen(argv[i]) >= MSG_QUEUE_ID_MAX ||
		    !ebb_queue_id_valid(argv[i]))
			return cmd_usage_error(cmd, "\"%s\" is not a queue id",
			    argv[i]);
	/* CONTROL_IDS_MAX per request */
	for (i = 0; i < argc; i++) {
		ebb_strlcpy(r.ids[r.nids], argv[i], sizeof(r.ids[r.nids]));
		if (++r.nids == CONTROL_IDS_MAX || i == argc - 1) {
			if ((rc = call(ctl, &r)) != 0)
				return rc;
			r.nids = 0;
		}
	}
	return 0;
}
