/*
 * parent_milter.h - the parent's side of the milter the child runs
 *
 * parent.c pushes the budget to the child each tick and passes the
 * child's milter notices here; parent_handle.c puts the counters the
 * child last sent in the status. See child_milter.c for the whole.
 */
#ifndef EBB_PARENT_MILTER_H
#define EBB_PARENT_MILTER_H

#include <stddef.h>
#include <jansson.h>

struct parent;

/* parent_milter_tick - send the budget (pace_budget) to the child */
void	 parent_milter_tick(struct parent *p);

/*
 * parent_milter_notice - a packet of len bytes from the child: when it is
 * a milter notice (never answered), carry it out (a malformed one is one
 * log line) and return 1; return 0 for anything else (a request)
 */
int	 parent_milter_notice(struct parent *p, const unsigned char *buf,
	    size_t len);

/*
 * parent_milter_incoming - the mail the milter let in (accepted, not
 * held) and kept out for now (held, or tempfailed) since ebbd started:
 * 1, or 0 and both -1 when no counters came yet
 */
int	 parent_milter_incoming(long *admitted_r, long *deferred_r);

/* parent_milter_json - the counters as a new JSON object, or null */
json_t	*parent_milter_json(void);

#endif
