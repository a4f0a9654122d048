/*
 * child_milter.h - the milter, hosted by ebbd's unprivileged child
 *
 * child.c calls these from its libevent loop; when [milter] enable is off
 * they do nothing. See child_milter.c for the plumbing with the parent.
 */
#ifndef EBB_CHILD_MILTER_H
#define EBB_CHILD_MILTER_H

#include <stddef.h>

struct config;
struct event_base;
struct proof_key;

/*
 * child_milter_init - take cfg (owned from now on; freed at once when the
 * milter is off) and copy key, the key of ebb's proof of a hold, which
 * the root parent read before the fork: the child cannot read its file.
 * Call in the child after dropping privileges, before any thread exists.
 */
void	child_milter_init(struct config *cfg, const struct proof_key *key);

/*
 * child_milter_start - when enabled: block SIGHUP, SIGTERM and SIGINT
 * (libmilter takes them), start the milter, and have base's loop end when
 * the milter stops. privfd is the socketpair to the parent. Fatal when the
 * milter cannot start.
 */
void	child_milter_start(struct event_base *base, int privfd);

/*
 * child_milter_notice - a PRIV_BUDGET packet from the parent (len bytes):
 * the milter admits by it from now on; then save the per-client state
 * when due and send the counters back. A malformed packet is one log line.
 */
void	child_milter_notice(const unsigned char *buf, size_t len);

/* child_milter_stopping - the parent is gone: ask the milter to stop */
void	child_milter_stopping(void);

/*
 * child_milter_stop - stop the milter (at most MILTER_STOP_WAIT seconds)
 * and free what it no longer uses; the process exits next
 */
void	child_milter_stop(void);

#endif
