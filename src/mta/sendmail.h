/*
 * sendmail.h - the Sendmail backend's parts, shared by its files only
 *
 * sendmail_cf.c reads what ebb needs from sendmail.cf; sendmail.c opens
 * the backend, scans the queue directories and holds the ops table;
 * sendmail_cmd.c runs sendmail itself: quarantine and release in batches,
 * and the deliveries (-qI) as children, a bounded number at a time.
 */
#ifndef EBB_MTA_SENDMAIL_H
#define EBB_MTA_SENDMAIL_H

#include <sys/types.h>

#include <stddef.h>
#include <time.h>

#include "ebb/sendmail_qf.h"

struct index;

#define SM_CF_MAX	(4UL * 1024 * 1024)	/* a larger .cf is refused */
#define SM_REASON	"ebb: parked"	/* park's quarantine reason */
#define SM_PREFIX	"ebb:"		/* reasons that mark ebb's mail */

/* the backend's queue numbers (struct msg's queue) */
enum sm_queue {
	SM_QUEUE_RUNNING,	/* a qf an ebb -qI child is delivering */
	SM_QUEUE_QUEUE,		/* a qf: waits for a queue run */
	SM_QUEUE_QUARANTINE,	/* an hf with a reason "ebb: ..." */
	SM_QUEUE_ADMIN,		/* an hf with any other reason */
	SM_QUEUE_COUNT
};

/* what sendmail.cf says, as far as ebb cares */
struct sm_cf {
	char		*queue_dir;	/* QueueDirectory; NULL: not set */
	long		 lifetime[SM_QF_CLASS_COUNT]; /* -1: not set */
	char		**group_dirs;	/* Path= of the Q lines */
	size_t		 ngroup_dirs;
	char		**prec_name;	/* P lines: name=value */
	int		*prec_value;
	size_t		 nprec;
};

/*
 * sm_cf_parse - read len bytes of a sendmail.cf into *cf (zeroed first):
 * QueueDirectory (long form, or the old one-letter OQ), the
 * Timeout.queuereturn options (the plain one sets every class, as
 * Sendmail does, and a class's own option, later, overrides it), the
 * Path= of each queue group (Q line) and the precedences (P lines).
 * Returns 0, or -1 and *err_r ("line N: why") for a value ebb cannot use.
 */
int	 sm_cf_parse(const char *text, size_t len, struct sm_cf *cf,
	    char **err_r);

/* sm_cf_free - free what sm_cf_parse allocated in *cf */
void	 sm_cf_free(struct sm_cf *cf);

/*
 * sm_cf_duration - a Sendmail time ("5d", "4h30m", a bare number in
 * default_unit, one of s m h d w); -1 when malformed or over ten years
 */
long	 sm_cf_duration(const char *s, int default_unit);

/* sm_cf_precedence - the value of a Precedence: name, 0 if unknown */
int	 sm_cf_precedence(void *cf, const char *name);

/* one delivery child: a "sendmail -qf -qI..." run */
struct sm_kid {
	pid_t		 pid;
	time_t		 started;
	char		**ids;
	size_t		 nids;
};

struct sendmail {
	char		*cf_path;	/* [sendmail] config_file */
	char		*sendmail;	/* [sendmail] sendmail_path */
	char		**dirs;		/* queue directories (may end in *) */
	size_t		 ndirs;
	long		 lifetime[SM_QF_CLASS_COUNT];
	struct sm_cf	 cf;
	struct sm_qf_parser *parser;
	int		 scan_threads;	/* mta_scan_threads */
	struct index	*bad;		/* corrupt files already logged */
	char		*buf;		/* a control file read */
	size_t		 bufcap;

	/* deliveries (sendmail_cmd.c) */
	int		 max_kids;	/* [sendmail] deliveries */
	struct sm_kid	*kids;
	size_t		 nkids;
	struct index	*running;	/* ids a child is delivering */
	struct index	*kicked;	/* id -> when its delivery began */
	char		**pending;	/* kicked, waiting for a child */
	size_t		 npending;
	size_t		 pending_cap;
};

/*
 * sendmail_foreach_id - call fn with the queue id of every control file
 * (qf, hf) in every queue directory, as they are now
 */
void	 sendmail_foreach_id(struct sendmail *,
	    void (*fn)(void *, const char *), void *arg);

int	 sendmail_park_ids(struct sendmail *, const char *const *, size_t,
	    char **err_r);
int	 sendmail_release_ids(struct sendmail *, const char *const *, size_t,
	    char **err_r);

/* sendmail_kick_ids - queue deliveries, start what the bound allows */
void	 sendmail_kick_ids(struct sendmail *, const char *const *, size_t);

/*
 * sendmail_reap - collect finished children, stop any over the time
 * bound, start pending deliveries; called from every op
 */
void	 sendmail_reap(struct sendmail *);

/* sendmail_kick_busy - 1: id waits for a delivery child or has one */
int	 sendmail_kick_busy(struct sendmail *, const char *id);

/* sendmail_kicks_close - hand pending deliveries to Sendmail; free */
void	 sendmail_kicks_close(struct sendmail *);

#endif
