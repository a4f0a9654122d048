/*
 * cmd.h - ebbctl's command table
 *
 * Each command lives in src/cli/cmd_NAME.c and exports one struct ebbctl_cmd
 * named cmd_NAME_entry; cmd.c lists them. A command parses its own options
 * from argv (argv[0] is the command name) and returns the exit status.
 * ebbctl.c takes --json (anywhere before "--") and -h or --help after the
 * command out of argv first: a command sees neither, and reads ctl->json.
 */
#ifndef EBB_CLI_CMD_H
#define EBB_CLI_CMD_H

#include <sys/types.h>

#include <stdio.h>
#include <sysexits.h>

struct config;
struct drain_opts;
struct mta;
struct proof_key;

struct ebbctl {
	const char	*config_path;	/* -c FILE, NULL for the default */
	struct config	*cfg;		/* loaded before the command runs */
	int		 json;		/* --json */
};

struct ebbctl_cmd {
	const char	*name;
	const char	*usage;		/* options after the name */
	const char	*help;		/* one line */
	const char	*options;	/* "ebbctl CMD -h": one option a line,
					   "  --opt ARG   what it does\n" */
	int		(*exec)(struct ebbctl *, int, char **);
};

extern const struct ebbctl_cmd *const ebbctl_cmds[];

/* cmd_help - the command's usage, its line of help and its options, on fp */
void	cmd_help(const struct ebbctl_cmd *, FILE *);

/* cmd_usage_error - print "ebbctl NAME: msg" and the usage; returns EX_USAGE */
int	cmd_usage_error(const struct ebbctl_cmd *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * cmd_scan_note - "ebbctl NAME: WHY; scanned the queue directly" on
 * stderr, for a command that asked ebbd first and did without it
 */
void	cmd_scan_note(const struct ebbctl_cmd *, const char *why);

/*
 * cmd_scanner - as root, have the queue files read by a scanner process,
 * as ebbd does (scanner.h), checking its proofs with key (NULL: none; the
 * scanner never holds it): *mta, opened, becomes the proxy that asks it.
 * Returns its pid, or 0 when not root or the backend has none (the files
 * are then read here). The scanner closes its copy of lockfd (-1: none).
 * cmd_scanner_end waits for it once *mta is closed.
 */
pid_t	cmd_scanner(const struct config *cfg, const struct proof_key *key,
	    int lockfd, struct mta **mta);
void	cmd_scanner_end(pid_t pid);

/*
 * cmd_proof_key - read the key of ebb's proof of a hold (proof.h) from
 * the state directory into *key_r and point opts->proof_key at it.
 * Returns 0; 1 when there is none (no ebbd made one: said at debug
 * level only); -1 when it is refused (logged). opts->proof_key then
 * stays NULL and nothing can be proven.
 */
int	cmd_proof_key(const struct config *cfg, struct proof_key *key_r,
	    struct drain_opts *opts);

#endif
