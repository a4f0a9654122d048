/*
 * control.h - ebbd's control protocol, as ebbctl and ebbd's child speak it
 *
 * ebbctl connects to the Unix socket [control] socket and writes one JSON
 * object per line; ebbd answers each with one JSON object per line:
 *
 *	{"command": "status"}
 *	{"command": "pause"}                  {"command": "resume"}
 *	{"command": "rate", "rate": 25.5}     (0: back to the configured rate)
 *	{"command": "release", "ids": ["3F1C2A7B", ...]}
 *	{"command": "hold", "ids": ["3F1C2A7B", ...]}
 *	{"command": "failsafe"}
 *	{"command": "note", "text": "Mail flows again"}
 *	{"command": "backlog", "queue": "deferred", "by": "rcpt-domain",
 *	 "top": 20}                           (every member but the command
 *	                                       optional: all, rcpt-domain, 0)
 *	{"command": "list", "queue": "deferred", "sort": "deadline",
 *	 "limit": 20}                         (all, deadline, 0: all)
 *
 *	{"ok": true, ...}                     what the command reports
 *	{"ok": false, "error": "why"}
 *
 * A request line is at most CONTROL_LINE_MAX bytes, the newline included;
 * a longer one is refused and the connection closed. Unknown commands,
 * unknown members, members of the wrong type, more than CONTROL_IDS_MAX
 * ids and ids that fail ebb_queue_id_valid are refused with an error and
 * change nothing. A note's text is one line of 1 to CONTROL_NOTE_MAX
 * bytes of UTF-8 without control characters (ebb_text_line_valid); the
 * page and the feed escape it. An answer is at most CONTROL_REPLY_MAX
 * bytes.
 *
 * backlog and list are answered from ebbd's index, as "ebbctl backlog"
 * and "ebbctl list" would print it (listing.h, backlog.h): "queue" is a
 * queue as the MTA names it (letters, digits, "-", "_"; at most
 * CONTROL_QUEUE_MAX - 1 bytes; ebbd refuses one its MTA does not have),
 * "top" 0..CONTROL_TOP_MAX and "limit" 0..CONTROL_LIMIT_MAX, 0 meaning
 * all. The answer stays within CONTROL_REPLY_MAX: ebbd sends at most
 * CONTROL_LIST_MAX messages, and as many messages or rows as fit, and
 * says "truncated" when that is fewer than asked for.
 *
 * The parser is pure (a buffer and its length in, a struct out) so that
 * it can be unit-tested and fuzzed; the same struct crosses from ebbd's
 * unprivileged child to its privileged parent (priv_proto.h), where it is
 * checked again by control_request_check.
 */
#ifndef EBB_CONTROL_H
#define EBB_CONTROL_H

#include <stddef.h>

#include "ebb/msg.h"

#define CONTROL_LINE_MAX	4096	/* one request, newline included */
#define CONTROL_REPLY_MAX	65536	/* one answer, newline included */
#define CONTROL_IDS_MAX		100	/* ids per release or hold */
#define CONTROL_RATE_MAX	1e6	/* messages/s */
#define CONTROL_NOTE_MAX	280	/* bytes of an administrator's note */
#define CONTROL_QUEUE_MAX	32	/* a queue name, its NUL included */
#define CONTROL_TOP_MAX		1000000	/* backlog rows asked for */
#define CONTROL_LIMIT_MAX	2000000000	/* list messages asked for */
#define CONTROL_LIST_MAX	1000	/* list messages in one answer */

enum control_command {
	CONTROL_STATUS,
	CONTROL_PAUSE,
	CONTROL_RESUME,
	CONTROL_RATE,
	CONTROL_RELEASE,
	CONTROL_HOLD,
	CONTROL_FAILSAFE,
	CONTROL_NOTE,
	CONTROL_BACKLOG,
	CONTROL_LIST,
	CONTROL_COMMAND_COUNT
};

/* one request; plain data */
struct control_request {
	int	 command;	/* enum control_command */
	double	 rate;		/* CONTROL_RATE: cap, messages/s */
	size_t	 nids;		/* release, hold: 1.. */
	char	 ids[CONTROL_IDS_MAX][MSG_QUEUE_ID_MAX];
	char	 note[CONTROL_NOTE_MAX + 1];	/* CONTROL_NOTE: the text */
	/* backlog and list */
	char	 queue[CONTROL_QUEUE_MAX];	/* "": all */
	int	 order;		/* list: enum listing_sort; backlog:
				   enum backlog_by */
	long	 count;		/* list: limit; backlog: top; 0 all */
};

/* control_command_name - "status" ...; NULL for an unknown command */
const char	*control_command_name(int command);

/* control_command_lookup - the enum control_command of name, or -1 */
int		 control_command_lookup(const char *name);

/*
 * control_request_parse - parse one request line (len bytes, the newline
 * not included, no NUL needed) into *r. Returns 0, or -1 and *err_r
 * (allocated) for anything the protocol does not allow.
 */
int		 control_request_parse(const char *buf, size_t len,
		    struct control_request *r, char **err_r);

/*
 * control_request_check - 0 when *r is a request the protocol allows
 * (known command, rate finite in 0..CONTROL_RATE_MAX, ids present exactly
 * for release and hold, each valid and NUL-terminated, a note's text
 * exactly for note, valid as above), else -1 and
 * for release and hold, each valid and NUL-terminated; queue, order and
 * count as above for backlog and list, zero for the others), else -1 and
 * *err_r (allocated)
 */
int		 control_request_check(const struct control_request *r,
		    char **err_r);

/*
 * control_request_format - r as one request line, without the newline
 * (allocated); r must pass control_request_check
 */
char		*control_request_format(const struct control_request *r);

/* control_error_reply - {"ok": false, "error": why}, allocated, no newline */
char		*control_error_reply(const char *why);

#endif
