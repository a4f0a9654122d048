/*
 * ebbd.c - the ebb daemon: the continuous drain and its control socket
 *
 * ebbd [-c FILE] [-f] [-n] [-v]... | -h | -V
 *   -c FILE  configuration file (default EBB_CONFIG_FILE, config.h)
 *   -f       stay in the foreground and log to stderr
 *   -n       check the configuration and exit: 0 when valid, 1 when not
 *   -v       more logging; repeat for more
 *   -h       the options, on standard output; -V the version
 *
 * Starts as root, runs every check -n runs (ebbd_check.c), and splits in
 * two (ebbd.h): after taking the drain lock (so no "ebbctl drain" runs
 * beside it) and making the control socket (mode 0660, root and [control]
 * group; 0600 without one), it forks a child that drops to
 * [general] user and serves the socket, while the parent keeps root for
 * the queue scans and the MTA's commands. With [http] listen, the HTTP socket is
 * bound and its TLS key read here too, as root (http.h), and served by
 * the child over a second, read-only channel. No core dumps in either:
 * they could hold mail addresses.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ebb/client_limit.h"
#include "ebb/config.h"
#include "ebb/config_table.h"
#include "ebb/ledger.h"
#include "ebb/log.h"
#include "ebb/proof.h"
#include "ebb/util.h"
#include "child_milter.h"
#include "ebbd.h"
#include "http.h"
#include "sandbox.h"
#include "scanner.h"

/* usage - the synopsis on fp; with help, each option too */
static void
usage(FILE *fp, int help)
{
	fprintf(fp, "usage: ebbd [-c file] [-f] [-n] [-v]...\n");
	if (help)
		fprintf(fp, "ebb's daemon: the continuous drain, the control "
		    "socket, the milter and\nthe status page; see ebbd(8)\n"
		    "  -c, --config FILE  the configuration (default %s)\n"
		    "  -f, --foreground   stay in the foreground, log to "
		    "standard error\n"
		    "  -n, --check        check the configuration and this "
		    "host as a start\n"
		    "                     would, then exit: 0 valid, 1 not\n"
		    "  -v, --verbose      more logging; again for more\n"
		    "  -h, --help         this help\n"
		    "  -V, --version      the version\n", EBB_CONFIG_FILE);
}

/* no_core - neither process may leave a core (or be ptraced by others) */
static void
no_core(void)
{
	struct rlimit	 rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		log_fatal("setrlimit(RLIMIT_CORE): %s", strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_fatal("prctl(PR_SET_DUMPABLE): %s", strerror(errno));
}

/* mkparent - create the directory of path (one level, 0755) if missing */
static void
mkparent(const char *path)
{
	char	*dir, *slash;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST)
			log_fatal("control: cannot create %s: %s", dir,
			    strerror(errno));
	}
	free(dir);
}

/*
 * own_dir - make directory dir (mode) if missing and give it to pw, for
 * the child; refuse a symbolic link or anything but a directory
 */
static void
own_dir(const char *dir, mode_t mode, const struct passwd *pw)
{
	int	 fd;

	if (mkdir(dir, mode) == -1 && errno != EEXIST)
		log_fatal("milter: cannot create %s: %s", dir,
		    strerror(errno));
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		log_fatal("milter: %s: %s", dir, strerror(errno));
	if (fchown(fd, pw->pw_uid, pw->pw_gid) == -1)
		log_fatal("milter: chown %s: %s", dir, strerror(errno));
	close(fd);
}

/*
 * socket_dir - the directory of a unix: milter socket, made if missing:
 * pw's, in the MTA's group gid, mode 2750. The set-group-ID bit gives a
 * socket bound in it that group at bind, which the child (not in the
 * group) could not give it after; with the child's umask the socket is
 * 0660 from its first moment (milter_start), so only ebb and the MTA
 * reach it, and nobody else can even look into the directory. A
 * directory ebbd made before (pw's own) is brought to the same; one of
 * someone else is left as it is, and the child says what that means.
 */
static void
socket_dir(const char *dir, const struct passwd *pw, gid_t gid)
{
	struct stat	 sb;
	int		 fd, made;

	if (!(made = mkdir(dir, 0700) == 0) && errno != EEXIST)
		log_fatal("milter: cannot create %s: %s", dir,
		    strerror(errno));
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fstat(fd, &sb) == -1)
		log_fatal("milter: %s: %s", dir, strerror(errno));
	if ((made || sb.st_uid == pw->pw_uid) && (fchown(fd, pw->pw_uid,
	    gid) == -1 || fchmod(fd, 02750) == -1))
		log_fatal("milter: %s: %s", dir, strerror(errno));
	close(fd);
}

/*
 * milter_dirs - what the child needs to write for the milter, made by
 * root before the fork: STATE/milter for the per-client state (the state
 * directory itself, with the ledger, stays root's), and the directory of
 * a unix: socket (socket_dir)
 */
static void
milter_dirs(const struct config *cfg, const struct passwd *pw)
{
	struct group	*gr;
	const char	*path;
	char		*dir, *slash;

	if (!cfg->milter_enable)
		return;
	dir = xasprintf("%s/%s", cfg->state_directory, CLIENT_LIMIT_DIR);
	own_dir(dir, 0700, pw);
	free(dir);
	if ((path = config_milter_socket_path(cfg->milter_socket)) == NULL)
		return;
	if ((gr = getgrnam(config_milter_group(cfg))) == NULL)
		log_fatal("[milter] socket_group \"%s\" does not exist",
		    config_milter_group(cfg));
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		socket_dir(dir, pw, gr->gr_gid);
	}
	free(dir);
}

/*
 * child_landlock - confine the child's files (sandbox_landlock_child):
 * it writes only the milter's client state and its unix socket. 1 in
 * place, 0 without Landlock; fatal on failure.
 */
static int
child_landlock(const struct config *cfg)
{
	const char	*path = NULL;
	char		*state = NULL, *sock = NULL, *slash, *err = NULL;
	int		 rc;

	if (cfg->milter_enable) {
		state = xasprintf("%s/%s", cfg->state_directory,
		    CLIENT_LIMIT_DIR);
		path = config_milter_socket_path(cfg->milter_socket);
	}
	if (path != NULL) {
		sock = xstrdup(path);
		if ((slash = strrchr(sock, '/')) == NULL) {
			free(sock);	/* relative: below "/", the child's cwd */
			sock = xstrdup("/");
		} else
			slash[slash == sock ? 1 : 0] = '\0';
	}
	if ((rc = sandbox_landlock_child(state, sock, &err)) == -1)
		log_fatal("sandbox: %s", err);
	free(state);
	free(sock);
	return rc;
}

/*
 * control_listen - the control socket, made with its owner and mode in
 * place: mode 0660, root and gid when has_group, else 0600 (root only).
 *
 * A socket's mode and owner cannot be set on its descriptor (on Linux
 * fchmod and fchown of a socket change the socket, not the file bind
 * made), and a chown or chmod by path after bind races with anyone who
 * can write to the socket's directory. So the socket is bound, with umask
 * 0177 (never more open than 0600, even for a moment), inside a
 * directory of its own that mkdtemp makes next to the path (0700, root's:
 * no one else can reach into it), given its group and mode there, made
 * to listen, and only then renamed to its path, which also replaces a
 * stale socket in one step (we hold the drain lock, so a socket already
 * there is a stale one). It is bound by a relative name, from inside the
 * private directory, so the longer temporary path never has to fit in
 * sun_path.
 */
static int
control_listen(const char *path, int has_group, gid_t gid)
{
	struct sockaddr_un sun;
	char		*dir, *tmp, *slash;
	mode_t		 mask;
	int		 fd, dfd, cwd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))	/* ebbd_check said */
		log_fatal("control: socket path too long: %s", path);
	ebb_strlcpy(sun.sun_path, "s", sizeof(sun.sun_path));
	mkparent(path);
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	slash[slash == dir ? 1 : 0] = '\0';
	tmp = xasprintf("%s%s.ebbd-socket.XXXXXX", dir,
	    slash == dir ? "" : "/");
	if (mkdtemp(tmp) == NULL)
		log_fatal("control: cannot make a directory in %s: %s", dir,
		    strerror(errno));
	if ((dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || (cwd = open(".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		log_fatal("control: %s: %s", tmp, strerror(errno));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		log_fatal("control: socket: %s", strerror(errno));
	if (fchdir(dfd) == -1)
		log_fatal("control: %s: %s", tmp, strerror(errno));
	mask = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		log_fatal("control: bind in %s: %s", tmp, strerror(errno));
	umask(mask);
	if (fchdir(cwd) == -1)
		log_fatal("control: back to the working directory: %s",
		    strerror(errno));
	close(cwd);
	if (fchownat(dfd, "s", 0, has_group ? gid : 0,
	    AT_SYMLINK_NOFOLLOW) == -1 ||
	    fchmodat(dfd, "s", has_group ? 0660 : 0600, 0) == -1)
		log_fatal("control: %s/s: %s", tmp, strerror(errno));
	if (listen(fd, 16) == -1)
		log_fatal("control: listen %s: %s", path, strerror(errno));
	if (renameat(dfd, "s", AT_FDCWD, path) == -1)
		log_fatal("control: cannot put the socket at %s: %s", path,
		    strerror(errno));
	close(dfd);
	if (rmdir(tmp) == -1)
		log_warn("control: rmdir %s: %s", tmp, strerror(errno));
	free(tmp);
	free(dir);
	return fd;
}

/* drop_privileges - become pw for good: groups, gid, uid; checked */
static void
drop_privileges(const struct passwd *pw)
{
	char	*err = NULL;

	if (sandbox_drop(pw->pw_uid, pw->pw_gid, &err) == -1)
		log_fatal("%s (user %s)", err, pw->pw_name);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "foreground",	no_argument,		NULL, 'f' },
		{ "check",	no_argument,		NULL, 'n' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct parent_args a;
	struct config	*cfg;
	struct passwd	*pw;
	struct group	*gr;
	const char	*path = NULL;
	char		*err;
	gid_t		 gid = 0;
	pid_t		 pid, scanner;
	int		 scanfd, landlock;
	int		 ch, foreground = 0, check = 0, verbose = 0, rc;
	int		 sp[2], hp[2] = { -1, -1 }, listenfd, lockfd = -1;
	struct http	*http;
	struct child_limits lim;
	struct proof_key key;

	while ((ch = getopt_long(argc, argv, "c:fnvhV", longopts,
	    NULL)) != -1) {
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
		case 'h':
			usage(stdout, 1);
			return 0;
		case 'V':
			printf("ebbd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr, 0);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ebbd: unexpected argument \"%s\"\n",
		    argv[optind]);
		usage(stderr, 0);
		return EX_USAGE;
	}

	log_init("ebbd", foreground || check, verbose);
	if (config_load(path, &cfg, &err) == -1) {
		log_err("%s", err);
		free(err);
		return 1;
	}
	if (!check && geteuid() != 0)
		log_fatal("ebbd must be started as root (it runs postsuper "
		    "and drops to [general] user for the rest)");
	/* -n and the start refuse the same things, with the same words */
	if (ebbd_check(cfg) > 0) {
		config_free(&cfg);
		return 1;
	}
	if (check) {
		printf("%s: configuration is valid\n",
		    cfg->path != NULL ? cfg->path : "(defaults)");
		config_free(&cfg);
		return 0;
	}

	/* ebbd_check found both; gone since, they are still refused */
	if ((pw = getpwnam(cfg->user)) == NULL || pw->pw_uid == 0)
		log_fatal("[general] user \"%s\": gone, or root", cfg->user);
	if (cfg->control_group[0] != '\0') {
		if ((gr = getgrnam(cfg->control_group)) == NULL)
			log_fatal("[control] group \"%s\" does not exist",
			    cfg->control_group);
		gid = gr->gr_gid;
	}
	no_core();
	if (!foreground && daemon(0, 0) == -1)
		log_fatal("daemon: %s", strerror(errno));

	switch (ledger_lock(cfg->state_directory, "drain", &lockfd, &err)) {
	case 0:
		break;
	case 1:
		log_fatal("another ebbd or \"ebbctl drain\" is running "
		    "(lock %s/drain.lock)", cfg->state_directory);
	default:
		log_fatal("%s", err);
	}
	/* made by ledger_lock if missing: checked again, now it is there */
	if (ebbd_check_state_directory(cfg) > 0)
		exit(1);
	/* first: it inherits none of the child's descriptors, nor the key */
	scanner = scanner_start(cfg, &lockfd, &scanfd);
	/* the proof of a hold: made once, root's; the child gets a copy */
	if (proof_key_make(cfg->state_directory, &key, &err) == -1)
		log_fatal("proof key: %s", err);
	listenfd = control_listen(cfg->control_socket,
	    cfg->control_group[0] != '\0', gid);
	milter_dirs(cfg, pw);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1)
		log_fatal("socketpair: %s", strerror(errno));
	/* as root: bind a low port, read a key only root may read */
	if ((http = http_new(cfg)) != NULL &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, hp) == -1)
		log_fatal("socketpair: %s", strerror(errno));

	switch ((pid = fork())) {
	case -1:
		log_fatal("fork: %s", strerror(errno));
	case 0:
		close(sp[0]);
		if (hp[0] != -1)
			close(hp[0]);
		if (scanfd != -1)
			close(scanfd);
		/* the lock is the parent's: it dies with the parent */
		ledger_unlock(&lockfd);
		drop_privileges(pw);
		/* before the milter's and libevent's threads exist */
		landlock = child_landlock(cfg);
		if ((rc = sandbox_child(&err)) == -1)
			log_fatal("sandbox: %s", err);
		log_debug("sandbox: no_new_privs%s%s", rc == 1 ?
		    ", seccomp filter" : " (built without libseccomp)",
		    landlock ? ", Landlock" : "");
		child_limits(cfg, &lim);
		child_milter_init(cfg, &key);	/* keeps them when enabled */
		OPENSSL_cleanse(&key, sizeof(key));
		return child_main(listenfd, sp[1], http, hp[1], &lim);
	default:
		break;
	}
	close(sp[1]);
	if (hp[1] != -1)
		close(hp[1]);
	http_free(&http);
	close(listenfd);
	signal(SIGPIPE, SIG_IGN);
	memset(&a, 0, sizeof(a));
	a.cfg = cfg;
	a.config_path = path;
	a.privfd = sp[0];
	a.httpfd = hp[0];
	a.child = pid;
	a.scanner = scanner;
	a.scanfd = scanfd;
	a.lockfd = lockfd;
	a.socket_path = xstrdup(cfg->control_socket);
	a.key = &key;
	rc = parent_main(&a);
	free(a.socket_path);
	return rc;
}
