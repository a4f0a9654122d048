/*
 * listing.h - what "ebbctl list" shows, chosen from an index
 *
 * The same choice is made wherever the index lives: in ebbctl after its
 * own scan, or in ebbd, whose drain holds a live index and answers the
 * control command "list" (control.h). Both pick the messages the same way
 * (readable ones, of one queue or all, in one of three orders, the first
 * limit of them) and count the same summary over every message the
 * filter kept, so "ebbctl list" prints the same whichever answered.
 *
 * Orders. deadline: ebb's release order, earliest deadline first, ties to
 * the older message, then the queue id; age: oldest first, then the id;
 * size: largest first, then the id. Each is total (ids are unique), so a
 * limit picks the same messages as a full sort would.
 *
 * Over the control socket a message travels as the JSON object of
 * listing_msg_json; ebbctl reads it back into a struct msg with
 * listing_msg_parse and formats that, as it formats its own scan's.
 */
#ifndef EBB_LISTING_H
#define EBB_LISTING_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct index;
struct msg;
struct mta;

enum listing_sort {
	LISTING_SORT_DEADLINE,
	LISTING_SORT_AGE,
	LISTING_SORT_SIZE,
	LISTING_SORT_COUNT
};

/* what the total line of "ebbctl list" counts */
struct listing_summary {
	size_t		 count;		/* messages the filter kept */
	uint64_t	 bytes;		/* their sizes */
	size_t		 active;	/* marked '*' */
	size_t		 parked;	/* marked '~' */
	size_t		 admin;		/* marked '!' */
};

/* listing_sort_name - "deadline", "age", "size"; lookup: -1 unknown */
const char	*listing_sort_name(int sort);
int		 listing_sort_lookup(const char *name);

/*
 * listing_mark - the mark of m after its queue id: '*' on its way out
 * (the leaving role), '~' parked by ebb, '!' held by the administrator,
 * ' ' waiting for the MTA's retry
 */
char		 listing_mark(const struct mta *mta, const struct msg *m);

/*
 * listing_select - the readable messages of ix in queue (-1: all), in
 * the order sort, the first limit of them (0: all): an allocated array
 * of *n_r pointers into ix (the caller frees the array). *sum counts
 * every message the filter kept, also those past the limit. A limit
 * costs O(n log limit), not a sort of all.
 */
struct msg	**listing_select(struct index *ix, const struct mta *mta,
		    int queue, int sort, size_t limit, size_t *n_r,
		    struct listing_summary *sum);

/*
 * listing_msg_json - m as it travels over the control socket: {"id",
 * "queue" (the MTA's name), "arrival", "create", "deadline",
 * "next_retry", "size", "sender", "rcpt": [...], "parked", "reason"
 * (mta_reason's text, or null)}. A string that is not valid UTF-8
 * travels as {"hex": "..."}, so every byte arrives as it was. The reason
 * is read where the queue is readable (ebbd), and the message read back
 * carries it with MSG_F_REASON_TEXT, so a [control] group member who
 * cannot read the queue's defer logs sees the same reasons as root.
 */
json_t		*listing_msg_json(struct mta *mta, const struct msg *m);

/*
 * listing_msg_parse - one object of listing_msg_json into *m, for
 * index_put. The strings m points to are allocated: listing_msg_clear
 * frees them. Returns 0, or -1 and *err_r (allocated) for anything
 * malformed (a queue mta does not know included); *m is then clear.
 */
int		 listing_msg_parse(const struct mta *mta, json_t *o,
		    struct msg *m, char **err_r);
void		 listing_msg_clear(struct msg *m);

#endif
