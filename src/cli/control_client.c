/*
 * control_client.c - ebbctl's side of ebbd's control socket
 *
 * Bounded: the request is at most CONTROL_LINE_MAX bytes (control.h), the
 * answer at most CONTROL_REPLY_MAX, and a silent ebbd times out.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ebb/config.h"
#include "ebb/control.h"
#include "ebb/util.h"
#include "control_client.h"

/*
 * connect_ebbd - a connected socket, or -1 with the exit status in *rc_r
 * and why in *why_r (allocated)
 */
static int
connect_ebbd(const char *path, int timeout, int *rc_r, char **why_r)
{
	struct sockaddr_un sun;
	struct timeval	 tv = { timeout, 0 };
	int		 fd;

	*rc_r = 1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (ebb_strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		*why_r = xasprintf("socket path too long: %s", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		*why_r = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	if (errno == ENOENT || errno == ECONNREFUSED) {
		*why_r = xasprintf("ebbd is not running (nothing listens on "
		    "%s)", path);
		*rc_r = CONTROL_NOT_RUNNING;
	} else if (errno == EACCES)
		*why_r = xasprintf("%s: permission denied: run as root or as "
		    "a member of [control] group", path);
	else
		*why_r = xasprintf("%s: %s", path, strerror(errno));
	close(fd);
	return -1;
}

/*
 * read_line - one answer line into an allocated string within timeout
 * seconds in all, or NULL and *why_r
 */
static char *
read_line(int fd, int timeout, char **why_r)
{
	double	 until = ebb_now_mono() + timeout;
	char	*buf;
	size_t	 len = 0;
	ssize_t	 n;

	buf = xmalloc(CONTROL_REPLY_MAX + 1);
	while (len < CONTROL_REPLY_MAX) {
		n = read(fd, buf + len, CONTROL_REPLY_MAX - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n > 0 && ebb_now_mono() > until) {
			n = -1;
			errno = EAGAIN;
		}
		if (n <= 0) {
			*why_r = xstrdup(n == 0 ?
			    "ebbd closed the connection without answering" :
			    errno == EAGAIN ? "ebbd did not answer in time" :
			    strerror(errno));
			free(buf);
			return NULL;
		}
		if (memchr(buf + len, '\n', (size_t)n) != NULL) {
			len += (size_t)n;
			buf[len] = '\0';
			*strchr(buf, '\n') = '\0';
			return buf;
		}
		len += (size_t)n;
	}
	*why_r = xstrdup("the answer is too long");
	free(buf);
	return NULL;
}

/*
 * exchange - one request, one answer: 0 and *reply_r for {"ok": true},
 * else CONTROL_NOT_RUNNING or 1 and *why_r (allocated)
 */
static int
exchange(const struct config *cfg, const struct control_request *r,
    int timeout, json_t **reply_r, char **why_r)
{
	json_error_t	 jerr;
	json_t		*o, *v;
	char		*req, *line;
	size_t		 len, off = 0;
	ssize_t		 n;
	int		 fd, rc;

	*reply_r = NULL;
	*why_r = NULL;
	if ((fd = connect_ebbd(cfg->control_socket, timeout, &rc,
	    why_r)) == -1)
		return rc;
	line = control_request_format(r);
	req = xasprintf("%s\n", line);
	free(line);
	len = strlen(req);
	while (off < len) {
		if ((n = write(fd, req + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			*why_r = xstrdup(strerror(errno));
			free(req);
			close(fd);
			return 1;
		}
		off += (size_t)n;
	}
	free(req);
	line = read_line(fd, timeout, why_r);
	close(fd);
	if (line == NULL)
		return 1;
	o = json_loads(line, 0, &jerr);
	free(line);
	if (!json_is_object(o)) {
		*why_r = xstrdup("ebbd answered something that is not a JSON "
		    "object");
		json_decref(o);
		return 1;
	}
	if (!json_is_true(json_object_get(o, "ok"))) {
		v = json_object_get(o, "error");
		*why_r = xstrdup(json_is_string(v) ? json_string_value(v) :
		    "ebbd refused");
		json_decref(o);
		return 1;
	}
	*reply_r = o;
	return 0;
}

int
control_call(const struct config *cfg, const struct control_request *r,
    json_t **reply_r)
{
	char	*why;
	int	 rc;

	if ((rc = exchange(cfg, r, CONTROL_CLIENT_TIMEOUT, reply_r,
	    &why)) != 0) {
		fprintf(stderr, "ebbctl %s: %s\n",
		    control_command_name(r->command), why);
		free(why);
	}
	return rc;
}

int
control_query(const struct config *cfg, const struct control_request *r,
    json_t **reply_r, char **why_r)
{
	char	*why;
	int	 rc;

	if ((rc = exchange(cfg, r, CONTROL_QUERY_TIMEOUT, reply_r,
	    &why)) == 0)
		return 0;
	if (rc == CONTROL_NOT_RUNNING) {
		*why_r = xstrdup("ebbd is not running");
		free(why);
	} else
		*why_r = why;
	return -1;
}

int
control_failsafe(const struct config *cfg, json_t **reply_r)
{
	struct control_request r;

	memset(&r, 0, sizeof(r));
	r.command = CONTROL_FAILSAFE;
	return control_call(cfg, &r, reply_r);
}
