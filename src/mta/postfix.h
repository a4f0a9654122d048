/*
 * postfix.h - the Postfix backend's parts, shared by its files only
 *
 * postfix.c opens the instance (postconf), scans its queue directly and
 * holds the ops table; postfix_cmd.c runs Postfix's own commands: postsuper
 * for park and release, postkick to wake the queue manager after a release,
 * and postqueue -j for the "scan = postqueue" mode.
 */
#ifndef EBB_MTA_POSTFIX_H
#define EBB_MTA_POSTFIX_H

#include <stddef.h>
#include <time.h>

struct index;
struct msg;
struct mta;
struct scan_stats;
struct pf_parser;

/* the backend's queue numbers (struct msg's queue), as postfix.c names them */
enum pf_queue {
	PF_QUEUE_INCOMING,
	PF_QUEUE_ACTIVE,
	PF_QUEUE_DEFERRED,
	PF_QUEUE_HOLD,
	PF_QUEUE_COUNT
};

/* pf_queue_lookup - the queue of a Postfix queue name, -1 if not one */
int	 pf_queue_lookup(const char *name);

struct postfix {
	char		*config_dir;	/* [postfix] config_directory */
	char		*queue_dir;	/* postconf queue_directory */
	char		*postconf;	/* absolute paths of the commands */
	char		*postsuper;
	char		*postqueue;
	char		*postkick;
	char		*empty_addr;	/* empty_address_recipient */
	long		 max_lifetime;	/* maximal_queue_lifetime, seconds */
	long		 bounce_lifetime; /* bounce_queue_lifetime, capped */
	int		 scan_mode;	/* enum config_scan */
	int		 fell_back;	/* direct scan impossible: postqueue */
	int		 hash_depth[PF_QUEUE_COUNT]; /* per queue: hash_queue_depth if
					   in hash_queue_names, else 0 */
	int		 scan_threads;	/* threads of a direct scan, >= 1 */
	struct pf_parser *parser;
	struct index	*bad;		/* corrupt files already logged */
};

/* postfix_reason - the mta_ops reason: the defer log's last reason= */
int	 postfix_reason(struct mta *, const struct msg *, char *buf,
	    size_t len);

/* postfix_deadline - when Postfix bounces a message created at ctime */
time_t	 postfix_deadline(const struct postfix *, time_t create_time,
	    int null_sender);

/* postfix_scan_postqueue - fill the index from "postqueue -j" */
int	 postfix_scan_postqueue(struct postfix *, struct index *,
	    struct scan_stats *, char **err_r);

int	 postfix_park_ids(struct postfix *, const char *const *, size_t,
	    char **err_r);
int	 postfix_release_ids(struct postfix *, const char *const *, size_t,
	    char **err_r);
/* postfix_wake_qmgr - "postkick public qmgr D": scan the deferred queue */
int	 postfix_wake_qmgr(struct postfix *, char **err_r);

#endif
