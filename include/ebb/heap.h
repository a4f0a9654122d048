/*
 * heap.h - a binary min-heap with removal of any element: the EDF order
 *
 * The drain keeps what it has parked in a heap ordered earliest deadline
 * first and must also drop a message that vanished from the queue or update
 * one whose deadline changed. So push() hands back an id, stable for as long
 * as the element stays in the heap, and heap_remove() and heap_update() find
 * the element through it in O(1) and restore the order in O(log n). The
 * element needs no room for the heap's bookkeeping: a side table maps ids to
 * positions.
 *
 * Ids carry a generation, so an id kept after its element left the heap is
 * recognised as stale (heap_get and heap_remove return NULL) even when its
 * slot has been reused. 0 is never an id.
 *
 * The heap stores pointers and owns none of the elements. It is not
 * thread-safe; one heap belongs to one thread.
 */
#ifndef EBB_HEAP_H
#define EBB_HEAP_H

#include <stddef.h>
#include <stdint.h>

struct heap;
typedef uint64_t heap_id;

/*
 * heap_cmp_fn - order of two elements (the stored pointers themselves, not
 * pointers to them as qsort passes): < 0 when a comes out first, 0 when
 * either may, > 0 when b does. It must be a strict weak order and must not
 * change while the elements are in the heap unless heap_update() is called.
 */
typedef int	(*heap_cmp_fn)(const void *a, const void *b);

/*
 * heap_msg_cmp - the drain's order for struct msg * elements: earliest
 * deadline first, then the older arrival_time, then queue_id (so the order
 * is total and a run is reproducible).
 */
int	heap_msg_cmp(const void *a, const void *b);

/* heap_new - an empty heap ordered by cmp; never NULL */
struct heap	*heap_new(heap_cmp_fn cmp);

/* heap_free - free *hp (not the elements) and set it to NULL; NULL is fine */
void	heap_free(struct heap **hp);

/* heap_size - the number of elements */
size_t	heap_size(const struct heap *);

/* heap_push - add elem (not NULL); returns its id. O(log n) */
heap_id	heap_push(struct heap *, void *elem);

/*
 * heap_peek - the first element without removing it, NULL when empty; when
 * id_r is not NULL, *id_r is its id (0 when empty).
 */
void	*heap_peek(const struct heap *, heap_id *id_r);

/* heap_pop - remove and return the first element, NULL when empty */
void	*heap_pop(struct heap *);

/* heap_get - the element with this id, NULL when the id is stale or 0 */
void	*heap_get(const struct heap *, heap_id);

/*
 * heap_remove - take the element with this id out of the heap and return it;
 * NULL when the id is stale. O(log n)
 */
void	*heap_remove(struct heap *, heap_id);

/*
 * heap_update - restore the order after the element with this id changed
 * its key (a new deadline). Returns 0, or -1 when the id is stale. O(log n)
 */
int	heap_update(struct heap *, heap_id);

/*
 * heap_at - the element in position i (0 <= i < heap_size), in heap order,
 * which is not sorted: for walking every element, e.g. to count them. NULL
 * when i is out of range.
 */
void	*heap_at(const struct heap *, size_t i);

#endif
