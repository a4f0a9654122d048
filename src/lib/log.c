/*
 * log.c - syslog or stderr, one line per event
 *
 * ebbd logs to syslog with facility LOG_MAIL so its lines land beside the
 * MTA's; with -f, and for ebbctl, lines go to stderr prefixed by the program
 * name. Nothing here allocates, so it is safe to call when memory is short.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "ebb/log.h"

static const char *log_ident = "ebb";
static int	 log_foreground = 1;
static int	 log_level_verbose;
static int	 log_status_drawn;	/* a status line is on stderr */

void
log_init(const char *ident, int foreground, int verbose)
{
	log_ident = ident;
	log_foreground = foreground;
	log_level_verbose = verbose;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

int
log_verbose(void)
{
	return log_level_verbose;
}

int
log_status_line(int drawn)
{
	int	 was = log_status_drawn;

	log_status_drawn = drawn;
	return was;
}

/* clear_status - a foreground line takes the place of a status line */
static void
clear_status(void)
{
	if (log_status_drawn) {
		fputs("\r\033[K", stderr);
		log_status_drawn = 0;
	}
}

void
log_vlog(int priority, const char *fmt, va_list ap)
{
	char	 buf[2048];

	if (priority == LOG_DEBUG && log_level_verbose == 0)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (log_foreground) {
		clear_status();
		fprintf(stderr, "%s: %s%s\n", log_ident,
		    priority <= LOG_ERR ? "error: " :
		    priority == LOG_WARNING ? "warning: " : "", buf);
		fflush(stderr);
	} else
		syslog(priority, "%s", buf);
}

#define LOG_FN(name, prio)				\
void							\
name(const char *fmt, ...)				\
{							\
	va_list	 ap;					\
							\
	va_start(ap, fmt);				\
	log_vlog(prio, fmt, ap);			\
	va_end(ap);					\
}

LOG_FN(log_debug, LOG_DEBUG)
LOG_FN(log_info, LOG_INFO)
LOG_FN(log_warn, LOG_WARNING)
LOG_FN(log_err, LOG_ERR)

void
log_fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_panic(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	abort();
}

void
log_msg(int priority, const char *queue_id, const char *fmt, ...)
{
	char	 buf[2048];
	va_list	 ap;

	if (priority == LOG_DEBUG && log_level_verbose == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (log_foreground) {
		clear_status();
		fprintf(stderr, "%s: %s: %s\n", log_ident,
		    queue_id != NULL ? queue_id : "NOQUEUE", buf);
		fflush(stderr);
	} else
		syslog(priority, "%s: %s",
		    queue_id != NULL ? queue_id : "NOQUEUE", buf);
}
