/*
 * index.h - the message index: every queued message ebb knows about
 *
 * A hash by queue id of struct msg (msg.h), filled in by an MTA backend's
 * scan and read by list, backlog and the drain. Senders and recipients are
 * interned: one shared, reference-counted copy per distinct string, and one
 * per distinct lower-cased domain, so a backlog of 100,000 messages from a
 * few senders costs a few strings. Beside each message the index keeps the
 * (inode, size, mtime) of the file it was read from, so a rescan re-reads
 * only the files that changed: a scan marks every message it sees, and
 * index_scan_end removes the ones it did not see (mark and sweep).
 *
 * Memory: about 140 bytes per message plus 16-32 bytes of hash table and,
 * for more than one recipient, the recipient pointer array; index_memory
 * reports it (the budget is 300 bytes per message besides the strings).
 * Not thread-safe; one index per process.
 */
#ifndef EBB_INDEX_H
#define EBB_INDEX_H

#include <sys/stat.h>

#include <stddef.h>
#include <stdint.h>

#include "ebb/msg.h"

struct index;

/* what identifies one version of a queue file */
struct index_stamp {
	uint64_t	 ino;
	uint64_t	 size;
	int64_t		 mtime;		/* seconds */
	uint32_t	 mtime_nsec;
};

/* index_new - an empty index; never NULL */
struct index	*index_new(void);

/* index_free - free *ixp, its messages and strings, set it NULL; NULL ok */
void		 index_free(struct index **ixp);

/*
 * index_put - add the message m->queue_id or replace what the index holds
 * for it. Every field of *m is copied; m->sender and m->rcpt[0..nrcpt) may
 * be temporary strings (they are interned). parked_by_ebb of an existing
 * entry is kept (the ledger owns it), a new entry takes m's. stamp may be
 * NULL (unknown: the next scan re-reads the file). The entry counts as seen
 * by the current scan. Returns the stored message, valid until it is
 * removed or replaced (a replaced message keeps its address), or NULL when
 * m->queue_id is empty.
 */
struct msg	*index_put(struct index *ix, const struct msg *m,
		    const struct index_stamp *stamp);

/*
 * index_reserve - make room for n messages in all, so that filling the
 * index with them does not grow its table step by step (loading a cache)
 */
void		 index_reserve(struct index *ix, size_t n);

/* index_lookup - the message with this queue id, or NULL */
struct msg	*index_lookup(struct index *ix, const char *queue_id);

/* index_remove - drop one message; 0 if removed, -1 if not present */
int		 index_remove(struct index *ix, const char *queue_id);

/*
 * Incremental scans. index_scan_begin starts a scan. For each file found,
 * index_scan_unchanged tells whether the index already holds it with the
 * same stamp: if so it marks it seen, updates its queue and next_retry (a
 * file moved between queues keeps its inode, size and mtime) and returns 1,
 * and the file need not be read; otherwise it returns 0 and the caller
 * reads the file and calls index_put. index_scan_end removes every message
 * not seen since index_scan_begin and returns how many it removed.
 */
void		 index_scan_begin(struct index *ix);
int		 index_scan_unchanged(struct index *ix, const char *queue_id,
		    const struct index_stamp *stamp, int queue,
		    time_t next_retry);
size_t		 index_scan_end(struct index *ix);

/* index_stamp_stat - the stamp of a queue file from its stat(2) */
void		 index_stamp_stat(struct index_stamp *st_r, const struct stat *sb);

/*
 * index_stamp_of - the stamp of m (a message of an index): 1 and *st_r,
 * or 0 when the index does not know it (the next scan reads the file)
 */
int		 index_stamp_of(const struct msg *m, struct index_stamp *st_r);

/*
 * index_keep_unreadable - during a scan, queue_id is in queue but its file
 * could not be read: keep what the index knew of it (or, if nothing, an
 * entry with only its id and queue), mark it seen, flag it
 * MSG_F_UNREADABLE and unstamp it, so that the next scan reads it again.
 * Returns the entry, or NULL for an id that does not fit.
 */
struct msg	*index_keep_unreadable(struct index *ix, const char *queue_id,
		    int queue);

/*
 * index_set_queue - move m (an entry of ix) to queue, keeping the counts
 * per queue right; an out-of-range queue is ignored
 */
void		 index_set_queue(struct index *ix, struct msg *m, int queue);

/* index_count - messages in the index; index_count_queue - in one queue */
size_t		 index_count(const struct index *ix);
size_t		 index_count_queue(const struct index *ix, int queue);

/*
 * index_foreach - call fn for every message, in no particular order; fn
 * must not add or remove messages. Stops early when fn returns non-zero,
 * and returns that value (0 when every message was visited).
 */
int		 index_foreach(struct index *ix,
		    int (*fn)(struct msg *, void *), void *arg);

/*
 * index_collect - an allocated array of pointers to every message (the
 * caller frees the array, not the messages), for sorting; *n_r: its length.
 */
struct msg	**index_collect(struct index *ix, size_t *n_r);

/*
 * index_domain - the lower-cased domain of a message's sender or recipient
 * (a string the index handed out), "" when it has no "@". Domains are
 * interned too: pointer-equal for equal domains, so a backlog can group by
 * them without strcmp. Valid as long as the message holding the address.
 */
const char	*index_domain(const char *interned);

/*
 * index_memory - bytes the index uses for its messages, bookkeeping, hash
 * table and recipient arrays, excluding strings; index_string_memory - the
 * interned strings and their table.
 */
size_t		 index_memory(const struct index *ix);
size_t		 index_string_memory(const struct index *ix);
size_t		 index_string_count(const struct index *ix);

#endif
