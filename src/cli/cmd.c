/*
 * cmd.c - the table of ebbctl commands
 *
 * One line per command; the commands themselves live in cmd_NAME.c.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "cmd.h"

/* one extern per command, in the order "ebbctl -h" lists them */
extern const struct ebbctl_cmd cmd_sensors_entry;
extern const struct ebbctl_cmd cmd_config_entry;
extern const struct ebbctl_cmd cmd_list_entry;
extern const struct ebbctl_cmd cmd_backlog_entry;
extern const struct ebbctl_cmd cmd_drain_entry;
extern const struct ebbctl_cmd cmd_failsafe_entry;
extern const struct ebbctl_cmd cmd_status_entry;
extern const struct ebbctl_cmd cmd_pause_entry;
extern const struct ebbctl_cmd cmd_resume_entry;
extern const struct ebbctl_cmd cmd_rate_entry;
extern const struct ebbctl_cmd cmd_release_entry;
extern const struct ebbctl_cmd cmd_hold_entry;

const struct ebbctl_cmd *const ebbctl_cmds[] = {
	&cmd_sensors_entry,
	&cmd_config_entry,
	&cmd_list_entry,
	&cmd_backlog_entry,
	&cmd_drain_entry,
	&cmd_failsafe_entry,
	&cmd_status_entry,
	&cmd_pause_entry,
	&cmd_resume_entry,
	&cmd_rate_entry,
	&cmd_release_entry,
	&cmd_hold_entry,
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
