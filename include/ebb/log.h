/*
 * log.h - ebb's log: syslog LOG_MAIL with LOG_PID, or stderr in foreground
 *
 * A line about a message starts with its queue id (or NOQUEUE) and goes on
 * with key=value pairs: log_msg(LOG_INFO, id, "released deadline=%s", ...).
 */
#ifndef EBB_LOG_H
#define EBB_LOG_H

#include <stdarg.h>
#include <syslog.h>

#include "ebb/util.h"

/*
 * log_init - start logging as ident; to stderr when foreground is set,
 * otherwise to syslog (LOG_MAIL, LOG_PID). verbose counts -v flags: 0 logs
 * info and up, 1 or more adds debug.
 */
void	log_init(const char *ident, int foreground, int verbose);
int	log_verbose(void);

void	log_debug(const char *, ...) EBB_PRINTF(1, 2);
void	log_info(const char *, ...) EBB_PRINTF(1, 2);
void	log_warn(const char *, ...) EBB_PRINTF(1, 2);
void	log_err(const char *, ...) EBB_PRINTF(1, 2);
/* log_fatal - an environment problem: log and exit(1) */
void	log_fatal(const char *, ...) EBB_PRINTF(1, 2) EBB_NORETURN;
/* log_panic - a bug: log and abort() */
void	log_panic(const char *, ...) EBB_PRINTF(1, 2) EBB_NORETURN;

/* log_msg - a line about one message: "ID: text", NOQUEUE when id is NULL */
void	log_msg(int priority, const char *queue_id, const char *, ...)
	    EBB_PRINTF(3, 4);
void	log_vlog(int priority, const char *, va_list) EBB_PRINTF(2, 0);

/*
 * log_status_line - say that a status line (a progress bar redrawn in
 * place, without its newline) is on stderr now, or not (0). While one is,
 * the next line logged to stderr first clears it, so that the line is not
 * glued to the bar; the bar's owner redraws it below. Returns whether one
 * was on stderr before the call.
 */
int	log_status_line(int drawn);

#endif
