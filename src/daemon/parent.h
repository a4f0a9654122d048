/*
 * parent.h - the state of ebbd's privileged process, for its two files
 *
 * parent.c runs the loop; parent_handle.c answers the child's requests
 * and builds the status. Nothing outside src/daemon/parent*.c sees it.
 */
#ifndef EBB_PARENT_H
#define EBB_PARENT_H

#include <time.h>

#include "ebb/sensor.h"
#include "ebb/timeline.h"

struct control_request;
struct drain;
struct event;
struct event_base;
struct ledger;
struct mta;
struct pace;
struct parent_args;
struct qwatch;

#define PARENT_HISTORY_POINTS	360
#define PARENT_TIMELINE_SHOWN	50	/* entries the page and feed show */

struct parent {
	struct parent_args *a;
	struct config	*cfg;
	struct mta	*mta;
	struct ledger	*ledger;
	struct drain	*drain;
	struct pace	*pace;		/* governor, budget, pause, rate cap */
	struct qwatch	*qwatch;	/* the live index (qwatch.h) */
	struct event	*ev_qwatch;	/* its descriptor's events */
	int		 qwatch_fd;	/* the descriptor ev_qwatch polls */
	struct sensor_sample sample, prev;
	int		 have_sample;
	struct event_base *base;
	struct event	*ev_step, *ev_priv, *ev_http;
	double		 scan_duration;	/* seconds, the last refresh */
	double		 refreshed;	/* monotonic seconds: the index was
					   last brought up to date */
	double		 next_refresh;	/* monotonic seconds */
	double		 petted;	/* the watchdog, monotonic seconds */
	time_t		 last_prune;
	time_t		 started;
	int		 rc;		/* exit status */
	struct timeline	 timeline;	/* parent_timeline.c */
	struct timeline_obs seen;	/* its last observation */
};

/*
 * parent_handle - carry out one request that priv_decode_request passed;
 * returns the answer (allocated): JSON when *ok_r is 1, an error message
 * when it is 0
 */
char	*parent_handle(struct parent *, const struct control_request *,
	    int *ok_r);

/* parent_status - the status object as JSON text (allocated) */
char	*parent_status(struct parent *);

/*
 * parent_history - the history of the last span seconds as JSON text
 * (allocated): at most PARENT_HISTORY_POINTS points step seconds apart,
 * then the newest sample: {"ok": true, "now", "step", "points": [[time,
 * pressure|null, backlog, parked, rate]...]}, oldest first
 */
char	*parent_history(struct parent *, time_t span, int *ok_r);

/*
 * parent_timeline.c: the incident timeline. parent_timeline_restore
 * picks it up from the ledger at start; parent_timeline_tick observes
 * once per sample and writes what changed; parent_timeline_json is the
 * newest max entries, newest first, for the page and its feed;
 * parent_incident_json the incident now (null: none), for the status;
 * parent_note adds the administrator's entry (an answer as
 * parent_handle's).
 */
void	 parent_timeline_restore(struct parent *);
void	 parent_timeline_tick(struct parent *, time_t now);
struct json_t *parent_timeline_json(struct parent *, size_t max);
struct json_t *parent_incident_json(struct parent *);
char	*parent_note(struct parent *, const char *text, int *ok_r);

/* parent_failsafe - release all ebb parked and stop; answer as above */
char	*parent_failsafe(struct parent *, int *ok_r);

/*
 * parent_refresh - rescan the queue now (what the loop does every
 * PARENT_REFRESH seconds), and put the next periodic one off
 */
void	 parent_refresh(struct parent *);

/*
 * parent_backlog, parent_list - the answers to "backlog" and "list" from
 * the drain's index (parent_query.c), within CONTROL_REPLY_MAX; as above
 */
char	*parent_backlog(struct parent *, const struct control_request *,
	    int *ok_r);
char	*parent_list(struct parent *, const struct control_request *,
	    int *ok_r);

#endif
