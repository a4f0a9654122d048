/*
 * msg.h - one queued message as ebb sees it (plain data)
 *
 * The index (src/lib/index.c) holds one struct msg per queued message; the
 * MTA backends fill it in, the drain, backlog and list read it. Strings are
 * interned by the index and shared between messages (many messages have the
 * same sender), so a struct msg does not own them. Keep this small: the
 * budget is 300 bytes per message besides the strings.
 */
#ifndef EBB_MSG_H
#define EBB_MSG_H

#include <stdint.h>
#include <time.h>

#define MSG_QUEUE_ID_MAX	32	/* Postfix long ids are ~17 chars */

/*
 * A message's queue is a number the backend gives it, below MSG_QUEUE_MAX:
 * an index into the backend's own table of queue names (mta.h), which is
 * what operators see ("deferred", "hold" for Postfix). What the queue
 * means to ebb is its role, and the engine, the ledger, the status and the
 * history speak only in roles, never in an MTA's queue names.
 */
#define MSG_QUEUE_MAX		8

enum msg_role {
	MSG_ROLE_LEAVING,	/* the MTA is delivering it, or about to */
	MSG_ROLE_WAITING,	/* waits for the MTA's next retry */
	MSG_ROLE_HELD,		/* in the place ebb parks mail: ebb's when
				   the ledger says so, else the admin's */
	MSG_ROLE_ADMIN,		/* held in a way ebb never parks: always
				   the administrator's, never touched */
	MSG_ROLE_COUNT
};

/* struct msg flags */
#define MSG_F_UNREADABLE	0x0001	/* the file is there, its contents
					   could not be read: only the id and
					   the queue are known */
#define MSG_F_REASON_TEXT	0x0002	/* reason is already the text to show
					   (mta_reason's, from ebbd's answer
					   to "list"), not the backend's own */

struct msg {
	char		 queue_id[MSG_QUEUE_ID_MAX];
	uint8_t		 queue;		/* the backend's queue number */
	uint8_t		 parked_by_ebb;	/* in ebb's ledger, not released */
	uint16_t	 flags;		/* MSG_F_* */
	uint32_t	 nrcpt;		/* pending recipients */
	uint32_t	 arrival_usec;	/* its microseconds, 0 unknown */
	time_t		 arrival_time;	/* T record */
	time_t		 create_time;	/* create_time=, else T */
	time_t		 deadline;	/* when the MTA bounces it */
	time_t		 next_retry;	/* when the MTA retries it; 0 unknown */
	uint64_t	 size;		/* message size in bytes */
	const char	*sender;	/* interned; "" is the null sender */
	const char	**rcpt;		/* nrcpt interned strings */
	const char	*reason;	/* interned: why the MTA deferred it
					   last (Sendmail's M line); NULL
					   when the backend does not know */
};

/*
 * msg_role_name - "leaving", "waiting", "held", "admin"; "unknown" out of
 * range. msg_role_lookup: the role of a name, -1 if none.
 */
const char	*msg_role_name(int);
int		 msg_role_lookup(const char *);

#define MSG_FP_LEN		32	/* hex digits of a fingerprint */

/*
 * msg_fingerprint - who m is, whatever its queue id: MSG_FP_LEN lowercase
 * hex digits and a NUL in fp, from what its queue file keeps (arrival
 * time to the microsecond, create time, size, sender, the pending
 * recipients). A copy or a restore of the file, which gives it a new
 * queue id, keeps it. -1 when m could not be read (MSG_F_UNREADABLE) or
 * has no arrival time: nothing to tell it by.
 * msg_fingerprint_valid - fp is one (for values read back).
 */
int		 msg_fingerprint(const struct msg *m,
		    char fp[MSG_FP_LEN + 1]);
int		 msg_fingerprint_valid(const char *fp);

#endif
