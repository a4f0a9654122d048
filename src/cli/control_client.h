/*
 * control_client.h - ebbctl's side of ebbd's control socket
 *
 * One request per connection: connect to [control] socket, write the
 * request line, read one answer line (at most CONTROL_REPLY_MAX bytes,
 * CONTROL_CLIENT_TIMEOUT seconds), close.
 */
#ifndef EBB_CLI_CONTROL_CLIENT_H
#define EBB_CLI_CONTROL_CLIENT_H

#include <jansson.h>

struct config;
struct control_request;

#define CONTROL_CLIENT_TIMEOUT	30	/* seconds for an answer */
#define CONTROL_NOT_RUNNING	69	/* EX_UNAVAILABLE: no ebbd */
#define CONTROL_QUERY_TIMEOUT	5	/* seconds, then ebbctl scans */

/*
 * control_call - ask ebbd. Returns 0 and the answer in *reply_r (the
 * caller json_decref()s it) when ebbd answered {"ok": true ...}; else
 * prints why on stderr, prefixed "ebbctl NAME: ", and returns
 * CONTROL_NOT_RUNNING when nothing listens on the socket, 1 for anything
 * else (ebbd's error answer included).
 */
int	control_call(const struct config *cfg,
	    const struct control_request *r, json_t **reply_r);

/*
 * control_query - ask ebbd what ebbctl could also find out by scanning
 * the queue itself (backlog, list): as control_call, within
 * CONTROL_QUERY_TIMEOUT seconds, and printing nothing. Returns 0 and
 * the answer in *reply_r, or -1 and why not in *why_r (allocated; "ebbd
 * is not running" when nothing listens), for the note that ebbctl
 * scanned the queue itself.
 */
int	control_query(const struct config *cfg,
	    const struct control_request *r, json_t **reply_r, char **why_r);

/*
 * control_failsafe - for "ebbctl failsafe" while ebbd holds the drain
 * lock: ask ebbd to release everything ebb parked and stop. Returns 0
 * and ebbd's answer in *reply_r (drain_failsafe_json's members, the first
 * of those kept in hold), else as control_call.
 */
int	control_failsafe(const struct config *cfg, json_t **reply_r);

#endif
