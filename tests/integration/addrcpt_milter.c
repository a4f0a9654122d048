/*
 * addrcpt_milter.c - a test milter that adds a recipient at end-of-message
 *
 * addrcpt_milter -p inet:PORT@127.0.0.1 -a ADDED -t TRIGGER
 *
 * For a message with a recipient containing TRIGGER, calls smfi_addrcpt
 * (ADDED) at end-of-message, so Postfix's cleanup stores ADDED after the
 * queue file's E record, reached through p (pointer) records: the case a
 * queue scanner that stops at M or E gets wrong. Other messages pass
 * untouched. Used by tests/integration/scan.sh; not installed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

static const char *added;
static const char *trigger;

/* the per-message flag lives in the connection's private pointer */
static sfsistat
am_envfrom(SMFICTX *ctx, char **argv)
{
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static sfsistat
am_envrcpt(SMFICTX *ctx, char **argv)
{
	if (argv[0] != NULL && strstr(argv[0], trigger) != NULL)
		smfi_setpriv(ctx, (void *)1);
	return SMFIS_CONTINUE;
}

static sfsistat
am_eom(SMFICTX *ctx)
{
	if (smfi_getpriv(ctx) != NULL && smfi_addrcpt(ctx, (char *)added) !=
	    MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static sfsistat
am_close(SMFICTX *ctx)
{
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

int
main(int argc, char **argv)
{
	struct smfiDesc	 desc = {
		.xxfi_name = "addrcpt",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDRCPT,
		.xxfi_envfrom = am_envfrom,
		.xxfi_envrcpt = am_envrcpt,
		.xxfi_eom = am_eom,
		.xxfi_close = am_close,
	};
	const char	*conn = NULL;
	int		 ch;

	while ((ch = getopt(argc, argv, "p:a:t:")) != -1) {
		switch (ch) {
		case 'p':
			conn = optarg;
			break;
		case 'a':
			added = optarg;
			break;
		case 't':
			trigger = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (conn == NULL || added == NULL || trigger == NULL)
		goto usage;
	if (smfi_setconn((char *)conn) != MI_SUCCESS ||
	    smfi_register(desc) != MI_SUCCESS) {
		fprintf(stderr, "addrcpt_milter: cannot set up %s\n", conn);
		return 1;
	}
	if (smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "addrcpt_milter: cannot listen on %s\n", conn);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
usage:
	fprintf(stderr, "usage: addrcpt_milter -p CONN -a ADDED -t TRIGGER\n");
	return 64;
}
