/*
 * heap.c - a binary min-heap whose elements can be removed by id
 *
 * Two arrays: slots[] is the heap proper (element and handle index, in heap
 * order), handles[] maps a handle index to the element's position in
 * slots[]. Every move of a slot updates its handle, so a handle always knows
 * where its element is. Free handles form a list threaded through pos.
 *
 * An id is (generation << 32 | handle index). A handle's generation is odd
 * while it is in use and is bumped on every allocation and release, so a
 * stale id never matches a live handle, and no id is 0.
 */
#include "config.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ebb/heap.h"
#include "ebb/msg.h"
#include "ebb/util.h"

#define HEAP_NONE	UINT32_MAX	/* end of the free list */
#define HEAP_MAX	(UINT32_MAX - 1)

struct heap_slot {
	void		*elem;
	uint32_t	 handle;
};

struct heap_handle {
	uint32_t	 gen;		/* odd: in use */
	uint32_t	 pos;		/* in slots[], or the next free one */
};

struct heap {
	heap_cmp_fn	 cmp;
	struct heap_slot *slots;
	struct heap_handle *handles;
	size_t		 n;		/* elements */
	size_t		 cap;		/* of both arrays */
	uint32_t	 free;		/* first free handle, HEAP_NONE */
};

int
heap_msg_cmp(const void *a, const void *b)
{
	const struct msg *ma = a, *mb = b;

	if (ma->deadline != mb->deadline)
		return ma->deadline < mb->deadline ? -1 : 1;
	if (ma->arrival_time != mb->arrival_time)
		return ma->arrival_time < mb->arrival_time ? -1 : 1;
	return strncmp(ma->queue_id, mb->queue_id, sizeof(ma->queue_id));
}

struct heap *
heap_new(heap_cmp_fn cmp)
{
	struct heap	*h;

	assert(cmp != NULL);
	h = xcalloc(1, sizeof(*h));
	h->cmp = cmp;
	h->free = HEAP_NONE;
	return h;
}

void
heap_free(struct heap **hp)
{
	struct heap	*h = *hp;

	if (h == NULL)
		return;
	free(h->slots);
	free(h->handles);
	free(h);
	*hp = NULL;
}

size_t
heap_size(const struct heap *h)
{
	return h->n;
}

static heap_id
make_id(const struct heap *h, uint32_t handle)
{
	return (uint64_t)h->handles[handle].gen << 32 | handle;
}

/* find - the position of the element with this id, or -1 when stale */
static long long
find(const struct heap *h, heap_id id)
{
	uint64_t	 handle = id & UINT32_MAX;
	uint32_t	 gen = (uint32_t)(id >> 32);

	if (handle >= h->cap || h->handles[handle].gen != gen ||
	    (gen & 1) == 0)
		return -1;
	return h->handles[handle].pos;
}

/* place - put slot s at position i and tell its handle */
static void
place(struct heap *h, size_t i, struct heap_slot s)
{
	h->slots[i] = s;
	h->handles[s.handle].pos = (uint32_t)i;
}

static void
sift_up(struct heap *h, size_t i)
{
	struct heap_slot s = h->slots[i];
	size_t		 parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (h->cmp(s.elem, h->slots[parent].elem) >= 0)
			break;
		place(h, i, h->slots[parent]);
		i = parent;
	}
	place(h, i, s);
}

static void
sift_down(struct heap *h, size_t i)
{
	struct heap_slot s = h->slots[i];
	size_t		 child;

	while ((child = 2 * i + 1) < h->n) {
		if (child + 1 < h->n &&
		    h->cmp(h->slots[child + 1].elem, h->slots[child].elem) < 0)
			child++;
		if (h->cmp(h->slots[child].elem, s.elem) >= 0)
			break;
		place(h, i, h->slots[child]);
		i = child;
	}
	place(h, i, s);
}

/* restore - move the slot at i up or down to where it belongs */
static void
restore(struct heap *h, size_t i)
{
	if (i > 0 && h->cmp(h->slots[i].elem, h->slots[(i - 1) / 2].elem) < 0)
		sift_up(h, i);
	else
		sift_down(h, i);
}

/* grow - double both arrays, threading the new handles on the free list */
static void
grow(struct heap *h)
{
	size_t	 cap = h->cap == 0 ? 64 : h->cap * 2, i;

	if (cap > HEAP_MAX)
		cap = HEAP_MAX;
	assert(cap > h->cap);
	h->slots = xreallocarray(h->slots, cap, sizeof(*h->slots));
	h->handles = xreallocarray(h->handles, cap, sizeof(*h->handles));
	for (i = cap; i-- > h->cap;) {
		h->handles[i].gen = 0;
		h->handles[i].pos = h->free;
		h->free = (uint32_t)i;
	}
	h->cap = cap;
}

heap_id
heap_push(struct heap *h, void *elem)
{
	struct heap_slot s;
	uint32_t	 handle;

	assert(elem != NULL);
	if (h->free == HEAP_NONE)
		grow(h);
	handle = h->free;
	h->free = h->handles[handle].pos;
	h->handles[handle].gen++;		/* now odd */
	s.elem = elem;
	s.handle = handle;
	place(h, h->n++, s);
	sift_up(h, h->n - 1);
	return make_id(h, handle);
}

/* remove_at - take out the element at position i and free its handle */
static void *
remove_at(struct heap *h, size_t i)
{
	struct heap_slot s = h->slots[i];
	struct heap_handle *hd = &h->handles[s.handle];

	hd->gen++;				/* now even: stale */
	hd->pos = h->free;
	h->free = s.handle;
	if (i < --h->n) {
		place(h, i, h->slots[h->n]);
		restore(h, i);
	}
	return s.elem;
}

void *
heap_peek(const struct heap *h, heap_id *id_r)
{
	if (id_r != NULL)
		*id_r = h->n > 0 ? make_id(h, h->slots[0].handle) : 0;
	return h->n > 0 ? h->slots[0].elem : NULL;
}

void *
heap_pop(struct heap *h)
{
	return h->n > 0 ? remove_at(h, 0) : NULL;
}

void *
heap_get(const struct heap *h, heap_id id)
{
	long long	 i = find(h, id);

	return i < 0 ? NULL : h->slots[i].elem;
}

void *
heap_remove(struct heap *h, heap_id id)
{
	long long	 i = find(h, id);

	return i < 0 ? NULL : remove_at(h, (size_t)i);
}

int
heap_update(struct heap *h, heap_id id)
{
	long long	 i = find(h, id);

	if (i < 0)
		return -1;
	restore(h, (size_t)i);
	return 0;
}

void *
heap_at(const struct heap *h, size_t i)
{
	return i < h->n ? h->slots[i].elem : NULL;
}
