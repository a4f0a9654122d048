/*
 * ebbd.h - the parts of ebbd, as ebbd.c wires them together
 *
 * ebbd.c starts as root, takes the drain lock, binds the control socket,
 * forks, and hands each process its half:
 *
 *	parent_main   root: sensors, governor, the drain (queue scans,
 *	              the MTA's commands), the ledger; answers the child's requests
 *	child_main    the [general] user: the control socket, the HTTP
 *	              endpoint (later the milter); asks the parent for
 *	              everything
 */
#ifndef EBB_EBBD_H
#define EBB_EBBD_H

#include <sys/types.h>

struct config;
struct http;
struct proof_key;

/*
 * ebbd_check - every check a start makes before it changes anything,
 * for "ebbd -n" and the start alike: the drain mode, [general] user
 * (there, not root), [control] group, the state directory and the control
 * socket's directory (root's, written by root alone, as are the ones
 * above them), socket paths and addresses, [http] (http_check), the MTA
 * instance (postconf). Logs each error, "FILE:LINE: key: why"; returns
 * their number.
 */
int	ebbd_check(const struct config *cfg);

/*
 * ebbd_check_state_directory - the state directory's part of ebbd_check,
 * again once ebbd has made it (so no one slipped one in before)
 */
int	ebbd_check_state_directory(const struct config *cfg);

/* what ebbd.c hands the parent */
struct parent_args {
	struct config	*cfg;		/* owned; replaced on HUP */
	const char	*config_path;	/* -c, NULL for the default */
	int		 privfd;	/* the socketpair, parent end */
	int		 httpfd;	/* the HTTP one, or -1 */
	pid_t		 child;
	pid_t		 scanner;	/* scanner.h, or 0: none */
	int		 scanfd;	/* the socket to it, or -1 */
	int		 lockfd;	/* STATE/drain.lock, held */
	char		*socket_path;	/* to unlink at exit; owned */
	const struct proof_key *key;	/* of ebb's proof of a hold */
};

/*
 * parent_main - run the privileged loop until SIGTERM/SIGINT, a failsafe
 * request or the death of the child or the scanner; returns the exit
 * status. Frees a->cfg.
 */
int	parent_main(struct parent_args *a);

/* the child's connection caps and timeouts, fitted to its descriptors */
struct child_limits {
	size_t		 control_max;	/* [control] max_connections */
	long		 control_idle;	/* [control] idle_timeout, seconds */
	size_t		 http_max;	/* [http] max_connections */
};

/*
 * child_limits - the caps of cfg, lowered when they do not fit in half of
 * the process's file descriptors (RLIMIT_NOFILE; the other half is kept
 * for the milter and the rest), with one warning saying so
 */
void	child_limits(const struct config *cfg, struct child_limits *lim_r);

/*
 * child_main - run the control socket on listenfd (bound and listening),
 * forwarding requests over privfd, and the HTTP endpoint http (NULL: off)
 * asking over httpfd, within lim; returns the exit status when the parent
 * goes away. Privileges are already dropped. Frees http.
 */
int	child_main(int listenfd, int privfd, struct http *http, int httpfd,
	    const struct child_limits *lim);

#endif
