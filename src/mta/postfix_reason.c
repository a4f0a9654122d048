/*
 * postfix_reason.c - why Postfix last deferred a message
 *
 * When Postfix defers a recipient it appends a record to the message's
 * defer log, $queue_directory/defer/[hash/]ID, one "name=value" line each
 * (recipient=, status=, action=delayed, reason=...) and a blank line
 * after a record; "postqueue -p" shows the last reason as delay_reason.
 * The defer directory is hashed like the deferred queue. The log is read
 * up to a bound, without following links; a message that was never
 * deferred has none.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ebb/msg.h"
#include "ebb/mta.h"
#include "ebb/util.h"
#include "postfix.h"

#define REASON_READ_MAX	(64 * 1024)	/* of the log: the first records */

/* reason_open - the defer log of id: flat, hash by first char, any subdir */
static int
reason_open(int qfd, const char *id)
{
	struct dirent	*de;
	DIR		*dir;
	char		 path[MSG_QUEUE_ID_MAX + 300];
	int		 fd, dfd, flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC;

	snprintf(path, sizeof(path), "defer/%c/%s", id[0], id);
	if ((fd = openat(qfd, path, flags)) >= 0)
		return fd;
	snprintf(path, sizeof(path), "defer/%s", id);
	if ((fd = openat(qfd, path, flags)) >= 0)
		return fd;
	if ((dfd = openat(qfd, "defer", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0)
		return -1;
	if ((dir = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	while (fd < 0 && (de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.' || strlen(de->d_name) > 255)
			continue;
		snprintf(path, sizeof(path), "%s/%s", de->d_name, id);
		fd = openat(dirfd(dir), path, flags);
	}
	closedir(dir);
	return fd;
}

int
postfix_reason(struct mta *m, const struct msg *msg, char *buf, size_t len)
{
	const struct postfix *pf = m->priv;
	struct stat	 sb;
	char		*text;
	const char	*p, *last = NULL, *end;
	ssize_t		 got;
	size_t		 n = 0;
	int		 qfd, fd;

	if ((qfd = open(pf->queue_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0)
		return -1;
	fd = reason_open(qfd, msg->queue_id);
	close(qfd);
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -1;
	}
	text = xmalloc(REASON_READ_MAX + 1);
	while (n < REASON_READ_MAX &&
	    (got = read(fd, text + n, REASON_READ_MAX - n)) > 0)
		n += (size_t)got;
	close(fd);
	text[n] = '\0';
	/* the last complete "reason=" line: the latest deferral */
	for (p = text; (p = strstr(p, "reason=")) != NULL; p++)
		if ((p == text || p[-1] == '\n') &&
		    strchr(p, '\n') != NULL)
			last = p + 7;
	if (last != NULL) {
		end = strchr(last, '\n');
		n = MINIMUM((size_t)(end - last), len - 1);
		memcpy(buf, last, n);
		buf[n] = '\0';
	}
	free(text);
	return last != NULL ? 0 : -1;
}
