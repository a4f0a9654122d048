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

/* queues as the MTAs name them */
enum msg_queue {
	MSG_QUEUE_INCOMING,		/* Postfix */
	MSG_QUEUE_ACTIVE,
	MSG_QUEUE_DEFERRED,
	MSG_QUEUE_HOLD,
	MSG_QUEUE_MAILDROP,
	MSG_QUEUE_SENDMAIL,		/* Sendmail "queue" (qf) */
	MSG_QUEUE_QUARANTINE,		/* Sendmail hf */
	MSG_QUEUE_COUNT
};

struct msg {
	char		 queue_id[MSG_QUEUE_ID_MAX];
	uint8_t		 queue;		/* enum msg_queue */
	uint8_t		 parked_by_ebb;	/* in ebb's ledger, not released */
	uint16_t	 flags;		/* backend-private */
	uint32_t	 nrcpt;		/* pending recipients */
	time_t		 arrival_time;	/* T record */
	time_t		 create_time;	/* create_time=, else T */
	time_t		 deadline;	/* when the MTA bounces it */
	time_t		 next_retry;	/* deferred file mtime; 0 = unknown */
	uint64_t	 size;		/* message size in bytes */
	const char	*sender;	/* interned; "" is the null sender */
	const char	**rcpt;		/* nrcpt interned strings */
};

/* msg_queue_name - "deferred", "hold", ...; msg_queue_lookup: -1 if unknown */
const char	*msg_queue_name(int);
int		 msg_queue_lookup(const char *);

#endif
