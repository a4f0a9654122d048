/*
 * ebbd_check.c - everything ebbd checks before it starts
 *
 * "ebbd -n" and the start run these same checks, so that -n never calls
 * valid a configuration a start refuses (issue 9: -n passed a milter
 * socket libmilter cannot bind, a control socket path too long for
 * sun_path, and user = root). What the configuration parser cannot know
 * is checked here, against this host: the users and groups, the
 * directories and their owners, socket paths and addresses, the TLS
 * files, the MTA instance, the key of ebb's proof of a hold. Nothing is
 * created, bound or locked, so -n may run beside a running ebbd. Each
 * error is one line naming the key, "FILE:LINE: key: why"
 * (config_key_error), all of them, not the first.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ebb/config.h"
#include "ebb/config_table.h"
#include "ebb/dir_check.h"
#include "ebb/log.h"
#include "ebb/mta.h"
#include "ebb/proof.h"
#include "ebb/util.h"
#include "ebbd.h"
#include "http.h"

/* fail - log one error about key name of section; counts it */
static int
fail(const struct config *cfg, const char *section, const char *name,
    const char *why)
{
	char	*text = config_key_error(cfg, section, name, "%s", why);

	log_err("%s", text);
	free(text);
	return 1;
}

static int
check_drain(const struct config *cfg)
{
	if (cfg->drain_mode == CONFIG_DRAIN_HOLD)
		return 0;
	return fail(cfg, "drain", "mode", "mode = nudge is not implemented "
	    "yet; use mode = hold");
}

/* check_user - [general] user exists and is not root */
static int
check_user(const struct config *cfg)
{
	struct passwd	*pw;
	char		*why;
	int		 n = 0;

	errno = 0;
	if ((pw = getpwnam(cfg->user)) == NULL) {
		why = xasprintf("\"%s\" does not exist: create it (useradd "
		    "--system %s) or name another", cfg->user, cfg->user);
		n = fail(cfg, "general", "user", why);
		free(why);
	} else if (pw->pw_uid == 0) {
		why = xasprintf("\"%s\" is root (uid 0): name an unprivileged "
		    "user for ebbd's milter, control and HTTP process",
		    cfg->user);
		n = fail(cfg, "general", "user", why);
		free(why);
	}
	return n;
}

static int
check_group(const struct config *cfg)
{
	char	*why;
	int	 n;

	if (cfg->control_group[0] == '\0' ||
	    getgrnam(cfg->control_group) != NULL)
		return 0;
	why = xasprintf("\"%s\" does not exist", cfg->control_group);
	n = fail(cfg, "control", "group", why);
	free(why);
	return n;
}

/*
 * check_dir - dir_check_path on dir for key: whoever can write to it or
 * above it could replace what root keeps there
 */
static int
check_dir(const struct config *cfg, const char *section, const char *name,
    const char *dir, int sticky_ok)
{
	char	*why = NULL;
	int	 missing, n = 0;

	if (dir_check_path(dir, sticky_ok, &missing, &why) == -1) {
		n = fail(cfg, section, name, why);
		free(why);
	}
	return n;
}

/* parent_of - the directory of path, allocated */
static char *
parent_of(const char *path)
{
	char	*dir = xstrdup(path), *slash;

	if ((slash = strrchr(dir, '/')) == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	return dir;
}

/* not_a_socket - path exists and is something else than a socket */
static int
not_a_socket(const struct config *cfg, const char *section, const char *name,
    const char *path)
{
	struct stat	 sb;
	char		*why;
	int		 n;

	if (lstat(path, &sb) == -1 || S_ISSOCK(sb.st_mode))
		return 0;
	why = xasprintf("%s exists and is not a socket", path);
	n = fail(cfg, section, name, why);
	free(why);
	return n;
}

/* check_control - the socket's path fits sun_path, in a safe directory */
static int
check_control(const struct config *cfg)
{
	struct sockaddr_un sun;
	char		*why, *dir;
	size_t		 len = strlen(cfg->control_socket);
	int		 n = 0;

	if (len >= sizeof(sun.sun_path)) {
		why = xasprintf("%zu bytes, more than the %zu a unix socket "
		    "path may have", len, sizeof(sun.sun_path) - 1);
		n += fail(cfg, "control", "socket", why);
		free(why);
	}
	dir = parent_of(cfg->control_socket);
	n += check_dir(cfg, "control", "socket", dir, 1);
	free(dir);
	n += not_a_socket(cfg, "control", "socket", cfg->control_socket);
	return n;
}

/*
 * check_milter - a host name resolves; a unix socket's directory is
 * there, and its group (the MTA's) exists
 */
static int
check_milter(const struct config *cfg)
{
	struct config_milter_socket ms;
	struct addrinfo	 hints, *res;
	struct stat	 sb;
	char		*why = NULL, *dir, *up, *ctl;
	int		 rc, n = 0;

	if (!cfg->milter_enable)
		return 0;
	if (config_milter_socket_parse(cfg->milter_socket, &ms, &why) == -1) {
		n = fail(cfg, "milter", "socket", why);	/* not reached */
		free(why);
		return n;
	}
	if (ms.family == AF_UNIX) {
		/*
		 * ebbd makes the directory, one level, if it is missing,
		 * after the control socket's (so it may be in that one)
		 */
		dir = parent_of(ms.path);
		up = parent_of(dir);
		ctl = parent_of(cfg->control_socket);
		if (stat(dir, &sb) == -1 && stat(up, &sb) == -1 &&
		    strcmp(up, ctl) != 0) {
			why = xasprintf("neither %s nor %s exists", dir, up);
			n += fail(cfg, "milter", "socket", why);
			free(why);
		}
		free(ctl);
		free(up);
		free(dir);
		if (getgrnam(config_milter_group(cfg)) == NULL) {
			why = xasprintf("group \"%s\" does not exist: name "
			    "the group the MTA's smtpd runs with",
			    config_milter_group(cfg));
			n += fail(cfg, "milter", "socket_group", why);
			free(why);
		}
		return n + not_a_socket(cfg, "milter", "socket", ms.path);
	}
	if (ms.host[0] == '\0' || ms.numeric)
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = ms.family;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(ms.host, NULL, &hints, &res)) != 0) {
		why = xasprintf("%s: %s", ms.host, gai_strerror(rc));
		n = fail(cfg, "milter", "socket", why);
		free(why);
		return n;
	}
	freeaddrinfo(res);
	return 0;
}

/* check_mta - the backend opens: postconf answers, sendmail.cf reads */
static int
check_mta(const struct config *cfg)
{
	struct mta	*mta = NULL;
	char		*err = NULL;
	int		 n = 0;

	if (mta_open(cfg, &mta, &err) == -1) {
		if (cfg->mta == CONFIG_MTA_POSTFIX)
			n = fail(cfg, "postfix", "config_directory", err);
		else if (cfg->mta == CONFIG_MTA_SENDMAIL)
			n = fail(cfg, "sendmail", "config_file", err);
		else
			n = fail(cfg, "general", "mta", err);
		free(err);
	}
	mta_close(&mta);
	return n;
}

/*
 * check_proof_key - the key of ebb's proof of a hold, when it is there,
 * is root's alone and whole (a start makes it when missing; one that is
 * not is refused, never replaced). Only root can tell.
 */
static int
check_proof_key(const struct config *cfg)
{
	struct proof_key key;
	char	*why = NULL;
	int	 n = 0;

	if (geteuid() != 0)
		return 0;
	if (proof_key_load(cfg->state_directory, &key, &why) == -1) {
		n = fail(cfg, "general", "state_directory", why);
		free(why);
	}
	OPENSSL_cleanse(&key, sizeof(key));
	return n;
}

int
ebbd_check(const struct config *cfg)
{
	int	 n = 0;

	n += check_drain(cfg);
	n += check_user(cfg);
	n += check_dir(cfg, "general", "state_directory", cfg->state_directory,
	    0);
	n += check_proof_key(cfg);
	n += check_control(cfg);
	n += check_group(cfg);
	n += check_milter(cfg);
	n += http_check(cfg);
	n += check_mta(cfg);
	return n;
}

int
ebbd_check_state_directory(const struct config *cfg)
{
	return check_dir(cfg, "general", "state_directory",
	    cfg->state_directory, 0);
}
