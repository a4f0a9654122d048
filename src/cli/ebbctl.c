/*
 * ebbctl.c - the operator's command line for ebb
 *
 * ebbctl [-c FILE] [--json] COMMAND [ARGS]: loads the configuration, finds
 * the command in the table (cmd.c) and hands it the remaining arguments.
 * Commands that need no daemon (backlog, list, drain, sensors, config) work
 * directly on the MTA and the host.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ebb/config.h"
#include "ebb/log.h"
#include "cmd.h"

static void
usage(FILE *fp)
{
	size_t	 i;

	fprintf(fp, "usage: ebbctl [-c file] [--json] command [args]\n"
	    "commands:\n");
	for (i = 0; ebbctl_cmds[i] != NULL; i++)
		fprintf(fp, "  %s%s%s\n      %s\n", ebbctl_cmds[i]->name,
		    ebbctl_cmds[i]->usage[0] != '\0' ? " " : "",
		    ebbctl_cmds[i]->usage, ebbctl_cmds[i]->help);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ebbctl	 ctl = { 0 };
	const struct ebbctl_cmd *cmd = NULL;
	char		*err;
	int		 ch, i, rc;

	log_init("ebbctl", 1, 0);
	while ((ch = getopt_long(argc, argv, "+c:jh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			ctl.config_path = optarg;
			break;
		case 'j':
			ctl.json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return EX_USAGE;
	}
	for (i = 0; ebbctl_cmds[i] != NULL; i++)
		if (strcmp(ebbctl_cmds[i]->name, argv[0]) == 0)
			cmd = ebbctl_cmds[i];
	if (cmd == NULL) {
		fprintf(stderr, "ebbctl: unknown command \"%s\"\n", argv[0]);
		usage(stderr);
		return EX_USAGE;
	}
	if (config_load(ctl.config_path, &ctl.cfg, &err) == -1) {
		fprintf(stderr, "ebbctl: %s\n", err);
		free(err);
		return 1;
	}
	optind = 0;		/* each command runs getopt again */
	rc = cmd->exec(&ctl, argc, argv);
	config_free(&ctl.cfg);
	return rc;
}
