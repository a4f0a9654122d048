/*
 * labhost.h - ebb-labhost, the outage lab's modelled host behind SMTP
 *
 * Shared by labhost.c (options, the host model on a libevent timer, the
 * event log) and labhost_smtp.c (the SMTP sessions). One process, one
 * libevent loop, no threads. The SMTP side hands each complete message to
 * labhost_offer and answers it when labhost.c calls smtp_delivered; a
 * reboot makes labhost.c call smtp_drop_all.
 */
#ifndef EBB_LAB_LABHOST_H
#define EBB_LAB_LABHOST_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lab/host.h"

#define LABHOST_ID_MAX	200	/* bytes kept of a Message-ID, X-Lab-Id */

struct conn;
struct event;
struct event_base;
struct evconnlistener;

/* a message the host is processing; its reply is owed to conn */
struct inflight {
	TAILQ_ENTRY(inflight)	 entry;
	uint64_t		 id;		/* the host's msgid */
	struct conn		*conn;		/* NULL: the client left */
	char			*lab_id;	/* X-Lab-Id, or NULL */
	char			*message_id;	/* or NULL */
};

TAILQ_HEAD(conn_list, conn);
TAILQ_HEAD(inflight_list, inflight);

struct labhost {
	struct event_base	*base;
	struct lab_host		*host;
	struct lab_host_params	 params;
	const char		*root;		/* the fake /proc and /sys */
	FILE			*log;		/* the event log, or NULL */
	double			 t0_mono;	/* the host's time 0 */
	double			 t0_wall;	/* the wall clock then */
	double			 last;		/* the last host time used */
	uint64_t		 next_id;
	int			 proc_dirty;	/* rewrite them after advance */
	int			 proc_failing;	/* warned about /proc already */

	struct event		*ev_host;	/* the host's next event */
	struct event		*ev_tick;	/* each second: /proc, sample */
	struct event		*ev_reap;	/* frees closed connections */
	struct evconnlistener	*listener;

	struct conn_list	 conns;
	struct conn_list	 dead;		/* closed, freed by ev_reap */
	long			 nconns;
	long			 conns_max;	/* more are turned away, 421 */
	size_t			 size_max;	/* message bytes at most */
	struct inflight_list	 inflight;
};

/* what labhost_offer did with a message */
enum offer_result {
	OFFER_TAKEN,		/* processing; smtp_delivered answers it */
	OFFER_BUSY,		/* conn_max in progress: answer 451 */
	OFFER_DOWN		/* the host is down: answer 421, close */
};

/*
 * labhost_offer - hand the message conn just sent to the host model, with
 * its X-Lab-Id and Message-ID (either NULL), and log it. On OFFER_TAKEN
 * the host keeps a copy of the ids and calls smtp_delivered(conn) later.
 * Bringing the host to now may reboot it, which closes every connection,
 * conn included (smtp_drop_all): then conn must not be answered.
 */
enum offer_result labhost_offer(struct labhost *lab, struct conn *conn,
	    const char *lab_id, const char *message_id);

/*
 * labhost_host_up - whether the host is up now (advances it to now, so a
 * reboot due by now has happened)
 */
int	 labhost_host_up(struct labhost *lab);

/* labhost_log_refused - log a connection turned away, with why */
void	 labhost_log_refused(struct labhost *lab, const char *reason);

/* labhost_conn_gone - conn is closing: its in-flight message is orphaned */
void	 labhost_conn_gone(struct labhost *lab, struct conn *conn);

/*
 * smtp_listen - listen on addr (a numeric "host:port") on lab's base;
 * -1 and *err_r (allocated) when it cannot
 */
int	 smtp_listen(struct labhost *lab, const char *addr, char **err_r);

/* smtp_delivered - answer conn's message 250 and read on */
void	 smtp_delivered(struct labhost *lab, struct conn *conn,
	    const char *lab_id);

/* smtp_drop_all - close every connection at once, without a reply */
void	 smtp_drop_all(struct labhost *lab);

/* smtp_reap - free the connections closed since the last call */
void	 smtp_reap(struct labhost *lab);

/* smtp_shutdown - close the listener and every connection */
void	 smtp_shutdown(struct labhost *lab);

#endif
