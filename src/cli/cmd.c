/*
 * cmd.c - the table of ebbctl commands
 *
 * One line per command; the commands themselves live in cmd_NAME.c. The
 * helpers more than one command uses follow the table.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ebb/config.h"
#include "ebb/drain.h"
#include "ebb/log.h"
#include "ebb/mta.h"
#include "ebb/mta_remote.h"
#include "ebb/proof.h"
#include "cmd.h"
#include "scanner.h"

/* one extern per command, in the order "ebbctl -h" lists them */
extern const struct ebbctl_cmd cmd_sensors_entry;
extern const struct ebbctl_cmd cmd_config_entry;
extern const struct ebbctl_cmd cmd_list_entry;
extern const struct ebbctl_cmd cmd_backlog_entry;
extern const struct ebbctl_cmd cmd_drain_entry;
extern const struct ebbctl_cmd cmd_failsafe_entry;
extern const struct ebbctl_cmd cmd_adopt_entry;
extern const struct ebbctl_cmd cmd_status_entry;
extern const struct ebbctl_cmd cmd_pause_entry;
extern const struct ebbctl_cmd cmd_resume_entry;
extern const struct ebbctl_cmd cmd_rate_entry;
extern const struct ebbctl_cmd cmd_release_entry;
extern const struct ebbctl_cmd cmd_hold_entry;
extern const struct ebbctl_cmd cmd_note_entry;

const struct ebbctl_cmd *const ebbctl_cmds[] = {
	&cmd_sensors_entry,
	&cmd_config_entry,
	&cmd_list_entry,
	&cmd_backlog_entry,
	&cmd_drain_entry,
	&cmd_failsafe_entry,
	&cmd_adopt_entry,
	&cmd_status_entry,
	&cmd_pause_entry,
	&cmd_resume_entry,
	&cmd_rate_entry,
	&cmd_release_entry,
	&cmd_hold_entry,
	&cmd_note_entry,
	NULL
};

void
cmd_help(const struct ebbctl_cmd *cmd, FILE *fp)
{
	fprintf(fp, "usage: ebbctl [-c file] [--json] %s%s%s\n%s\n",
	    cmd->name, cmd->usage[0] != '\0' ? " " : "", cmd->usage,
	    cmd->help);
	if (cmd->options[0] != '\0')
		fprintf(fp, "options:\n%s", cmd->options);
	fprintf(fp, "see ebbctl(8)\n");
}

int
cmd_usage_error(const struct ebbctl_cmd *cmd, const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "ebbctl %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: ebbctl [-c file] [--json] %s%s%s\n",
	    cmd->name, cmd->usage[0] != '\0' ? " " : "", cmd->usage);
	return EX_USAGE;
}

void
cmd_scan_note(const struct ebbctl_cmd *cmd, const char *why)
{
	fprintf(stderr, "ebbctl %s: %s; scanned the queue directly\n",
	    cmd->name, why);
}

int
cmd_proof_key(const struct config *cfg, struct proof_key *key_r,
    struct drain_opts *opts)
{
	char	*err = NULL;

	opts->proof_key = NULL;
	switch (proof_key_load(cfg->state_directory, key_r, &err)) {
	case 0:
		opts->proof_key = key_r;
		return 0;
	case 1:
		/* no ebbd ever ran here: no milter hold to prove */
		log_debug("no key in %s/%s: no held message can be shown to "
		    "be ebb's by its proof", cfg->state_directory,
		    PROOF_KEY_FILE);
		return 1;
	default:
		log_err("%s: no held message can be shown to be ebb's by its "
		    "proof; only the ledger's are", err);
		free(err);
		return -1;
	}
}

pid_t
cmd_scanner(const struct config *cfg, const struct proof_key *key,
    int lockfd, struct mta **mta)
{
	pid_t		 pid;
	int		 fd;

	if (geteuid() != 0 || !scanner_wanted(cfg))
		return 0;
	if ((pid = scanner_start(cfg, &lockfd, &fd)) > 0)
		*mta = mta_remote_new(*mta, fd, pid, key);
	return pid;
}

void
cmd_scanner_end(pid_t pid)
{
	int	 status;

	if (pid > 0 && waitpid(pid, &status, 0) == pid &&
	    (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		log_warn("the scanner process ended with status %d", status);
}
