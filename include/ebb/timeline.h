/*
 * timeline.h - the incident timeline ebbd writes for the status page
 *
 * During an outage the administrator used to post updates by hand: "mail
 * is flowing", "the server is under heavy load", "some mail may have
 * bounced". ebbd knows all of that; timeline_observe turns what it sees
 * at each tick into those entries, in plain words, and ebbd stores them
 * in the ledger (ledger_event_add) for the page, its Atom feed and the
 * next start (timeline_restore).
 *
 * The entries of an incident, in the order they can come:
 *
 *	found      TIMELINE_FOUND_MIN or more messages wait for delivery
 *	started    ebb released the first of them
 *	paused     the server's load held releases back for
 *	           TIMELINE_SETTLE seconds (and which limit)
 *	resumed    releases ran again for TIMELINE_SETTLE seconds
 *	half       half the most mail that waited has left
 *	expired    messages went past their deadline (again at most every
 *	           TIMELINE_QUIET seconds, with the new count)
 *	cleared    nothing waited for TIMELINE_SETTLE seconds
 *	note       the administrator's own words (ebbctl note)
 *
 * Debouncing: a pause or resume is written only once its state has held
 * for TIMELINE_SETTLE seconds, and a pause at most once per TIMELINE_QUIET
 * seconds, so a governor flapping every few seconds writes nothing at all
 * and one flapping every few minutes at most two entries per quiet
 * period; the ledger keeps the newest LEDGER_EVENTS_KEEP.
 *
 * Pure but for timeline_local_time (the host's time zone): time is passed
 * in, for the unit tests.
 */
#ifndef EBB_TIMELINE_H
#define EBB_TIMELINE_H

#include <stddef.h>
#include <time.h>

#define TIMELINE_FOUND_MIN	10	/* messages waiting: an incident */
#define TIMELINE_SETTLE		60	/* seconds a state holds to count */
#define TIMELINE_QUIET		600	/* seconds between pauses, expiries */
#define TIMELINE_EVENTS_MAX	4	/* one observation's entries, at most */
#define TIMELINE_TEXT_MAX	256

enum timeline_kind {
	TIMELINE_FOUND,
	TIMELINE_STARTED,
	TIMELINE_PAUSED,
	TIMELINE_RESUMED,
	TIMELINE_HALF,
	TIMELINE_EXPIRED,
	TIMELINE_CLEARED,
	TIMELINE_NOTE,
	TIMELINE_KIND_COUNT
};

/* what ebbd sees at one tick */
struct timeline_obs {
	time_t		 now;
	long		 waiting;	/* mail waiting: ebb's parked, and
					   waiting for the MTA's retry */
	long		 released;	/* released by ebb, all time */
	long		 expired_released; /* of those, past their deadline */
	long		 expired_parked; /* parked now, past their deadline */
	int		 blocked;	/* the load holds releases back */
	const char	*limit;		/* the sensor at its limit; NULL */
};

struct timeline_event {
	int		 kind;		/* enum timeline_kind */
	long		 count;		/* messages; 0: none */
	char		 text[TIMELINE_TEXT_MAX];
};

/* the state between observations; all zero is "no incident" */
struct timeline {
	int		 in_incident;
	time_t		 since;		/* the incident's "found" */
	long		 peak;		/* most mail waiting in it */
	int		 based;		/* the bases below are set */
	long		 released_base;
	long		 expired_base;
	int		 started, half;
	int		 paused;	/* a pause written, its resume not */
	time_t		 blocked_since;	/* 0: not blocked */
	time_t		 running_since;	/* 0: blocked */
	time_t		 empty_since;	/* 0: mail waits */
	time_t		 last_pause;
	long		 expired_written;
	time_t		 last_expired;
};

/* timeline_kind_name - "found" ...; NULL out of range */
const char	*timeline_kind_name(int kind);

/* timeline_kind_title - a short headline: "Delivery paused" ...; NULL */
const char	*timeline_kind_title(int kind);

/* timeline_kind_lookup - the kind of a name, or -1 */
int		 timeline_kind_lookup(const char *name);

/*
 * timeline_observe - what changed since the last observation, as up to
 * TIMELINE_EVENTS_MAX entries in ev[]; returns how many
 */
size_t		 timeline_observe(struct timeline *t,
		    const struct timeline_obs *o,
		    struct timeline_event ev[TIMELINE_EVENTS_MAX]);

/*
 * timeline_restore - replay one stored entry (oldest first) into t, so a
 * restart picks the incident up where it was
 */
void		 timeline_restore(struct timeline *t, int kind, time_t when,
		    long count);

/* timeline_expired - messages past their deadline in this incident */
long		 timeline_expired(const struct timeline *t,
		    const struct timeline_obs *o);

/*
 * timeline_local_time - when in the host's time zone: "2024-05-02 14:03
 * CEST" into human, RFC 3339 ("2024-05-02T14:03:00+02:00") into iso;
 * each buffer at least 40 bytes
 */
void		 timeline_local_time(time_t when, char *human, char *iso);

#endif
