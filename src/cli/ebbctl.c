/*
 * ebbctl.c - the operator's command line for ebb
 *
 * ebbctl [-c FILE] [--json] COMMAND [ARGS]: loads the configuration, finds
 * the command in the table (cmd.c) and hands it the remaining arguments.
 * Commands that need no daemon (backlog, list, drain, sensors, config) work
 * directly on the MTA and the host. --json may come before or after the
 * command; "ebbctl COMMAND -h" prints that command's help, and neither it
 * nor --version needs a configuration that loads.
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
	    "       ebbctl command -h | -h | --version\n"
	    "commands:\n");
	for (i = 0; ebbctl_cmds[i] != NULL; i++)
		fprintf(fp, "  %s%s%s\n      %s\n", ebbctl_cmds[i]->name,
		    ebbctl_cmds[i]->usage[0] != '\0' ? " " : "",
		    ebbctl_cmds[i]->usage, ebbctl_cmds[i]->help);
}

/*
 * take_json - take every --json before "--" out of argv (so that it may
 * come before or after the command); returns the new argc
 */
static int
take_json(int argc, char **argv, int *json_r)
{
	int	 i, k;

	for (i = k = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[k++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--json") == 0)
			*json_r = 1;
		else
			argv[k++] = argv[i];
	}
	argv[k] = NULL;
	return k;
}

/* wants_help - -h or --help among a command's arguments, before "--" */
static int
wants_help(int argc, char **argv)
{
	int	 i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct ebbctl	 ctl = { 0 };
	const struct ebbctl_cmd *cmd = NULL;
	char		*err;
	int		 ch, i, rc;

	log_init("ebbctl", 1, 0);
	argc = take_json(argc, argv, &ctl.json);
	while ((ch = getopt_long(argc, argv, "+c:jhV", longopts,
	    NULL)) != -1) {
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
		case 'V':
			printf("ebbctl %s\n", PACKAGE_VERSION);
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
	if (wants_help(argc, argv)) {
		cmd_help(cmd, stdout);
		return 0;
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
