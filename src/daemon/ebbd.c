/*
 * ebbd.c - the ebb daemon: sensors and governor, drain, milter
 *
 * ebbd [-c FILE] [-f] [-n] [-v]...
 *   -c FILE  configuration file (default /etc/ebb/ebb.conf)
 *   -f       stay in the foreground and log to stderr
 *   -n       check the configuration and exit: 0 when valid, 1 when not
 *   -v       more logging; repeat for more
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>
#include <unistd.h>

#include "ebb/config.h"
#include "ebb/log.h"

static void
usage(void)
{
	fprintf(stderr, "usage: ebbd [-c file] [-f] [-n] [-v]...\n");
	exit(EX_USAGE);
}

int
main(int argc, char **argv)
{
	struct config	*cfg;
	const char	*path = NULL;
	char		*err;
	int		 ch, foreground = 0, check = 0, verbose = 0;

	while ((ch = getopt(argc, argv, "c:fnv")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	log_init("ebbd", foreground || check, verbose);
	if (config_load(path, &cfg, &err) == -1) {
		log_err("%s", err);
		free(err);
		return 1;
	}
	if (check) {
		printf("%s: configuration is valid\n",
		    cfg->path != NULL ? cfg->path : "(defaults)");
		config_free(&cfg);
		return 0;
	}
	log_fatal("the daemon is not built yet: use \"ebbctl drain\" "
	    "(ebbd -n checks a configuration)");
}
